package recipes_test

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/recipes"
	"github.com/zarrforge/zarrforge/storage/storagetest"
)

// TestS3Recipe converts netCDF files that boto3 uploaded to a public
// bucket of an S3-compatible server (versitygw), read unsigned
// (pattern.s3.anonymous), into a store in another, private bucket written
// with the environment's keys, on both runners; boto3 downloads the store
// and xarray compares it with open_mfdataset of the files. Every request
// for the public bucket went unsigned, every one for the private bucket
// signed.
func TestS3Recipe(t *testing.T) {
	py := beamtest.RequirePython(t, "xarray", "boto3")
	var checking atomic.Bool
	var mu sync.Mutex
	var wrong []string
	bucket, srv := storagetest.S3Behind(t, "private", func(w http.ResponseWriter, r *http.Request) bool {
		signed := r.Header.Get("Authorization") != ""
		if checking.Load() && signed == strings.HasPrefix(r.URL.Path, "/public-data") {
			mu.Lock()
			wrong = append(wrong, r.Method+" "+r.URL.Path)
			mu.Unlock()
		}
		return false
	})
	srv.AddBucket(t, "public-data")
	src, manifestPath := collectionRecipe(t, "daily")
	files, err := filepath.Glob(filepath.Join(filepath.Dir(manifestPath), "*.nc"))
	if err != nil || len(files) == 0 {
		t.Fatalf("the daily fixtures: %v %v", files, err)
	}
	client := filepath.Join(beamtest.Root(), "testdata", "s3_client.py")
	for _, args := range [][]string{append([]string{"upload", "public-data", "daily"}, files...), {"public", "public-data"}} {
		if out, err := exec.Command(py, append([]string{client}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("boto3 %s: %v\n%s", args[0], err, out)
		}
	}
	beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
		r := src
		r.Pattern.Template = "s3://public-data/daily/" + filepath.Base(src.Pattern.Template)
		r.Pattern.S3 = &recipes.S3{Anonymous: true}
		r.Target.URL = bucket + "/" + runner + "/daily.zarr"
		r.Target.Chunks = map[string]int64{"time": 3}
		checking.Store(true)
		runRecipe(t, runner, r)
		checking.Store(false)
		local := filepath.Join(t.TempDir(), "daily.zarr")
		if out, err := exec.Command(py, client, "download", "private", runner+"/daily.zarr", local).CombinedOutput(); err != nil {
			t.Fatalf("boto3 download: %v\n%s", err, out)
		}
		beamtest.CompareWithXarray(t, local, manifestPath, nil, nil)
	})
	if len(wrong) > 0 {
		t.Errorf("requests signed for the public bucket or unsigned for the private one: %v", wrong)
	}
}
