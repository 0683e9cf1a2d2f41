package recipes_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/recipes"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/storage/storagetest"
	"github.com/zarrforge/zarrforge/transforms"
)

// zarrInputs writes the Zarr input collections (testdata/make_zarr_inputs.py,
// with xarray) into a directory for the test and returns it.
func zarrInputs(t *testing.T) string {
	t.Helper()
	py := beamtest.RequirePython(t, "xarray", "zarr", "numcodecs", "netCDF4")
	dir := t.TempDir()
	if out, err := exec.Command(py, beamtest.Testdata("make_zarr_inputs.py"), dir).CombinedOutput(); err != nil {
		t.Fatalf("make_zarr_inputs.py: %v\n%s", err, out)
	}
	return dir
}

// zarrRecipe is the recipe of Zarr input collection name under dir, and the
// path of its manifest.
func zarrRecipe(t *testing.T, dir, name string) (recipes.Recipe, string) {
	t.Helper()
	path := filepath.Join(dir, name, "collection.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return recipes.Recipe{
		Pattern: recipes.Pattern{Template: filepath.Join(dir, name, m.Template),
			ConcatDim: recipes.ConcatDim{Name: m.ConcatDim, Keys: m.ConcatKeys}, FileType: "auto"},
		Target: recipes.Target{URL: filepath.Join(t.TempDir(), name+".zarr")},
	}, path
}

// TestZarrInputs converts Zarr stores that xarray wrote — its defaults
// (Blosc lz4, consolidated), zstd without consolidated metadata, strings,
// chunks never written, chunks that cut every axis — on every runner, into
// v2 and v3 stores, and asks xarray whether each equals
// open_mfdataset(stores, engine="zarr").
func TestZarrInputs(t *testing.T) {
	dir := zarrInputs(t)
	for _, tc := range []struct {
		name   string
		chunks map[string]int64
		format int
		want   map[string][]int64
	}{
		{name: "zarr_daily", chunks: map[string]int64{"time": 4}, want: map[string][]int64{"sst": {4, 7, 10}}},
		{name: "zarr_daily", chunks: map[string]int64{"time": 8, "lat": 3}, format: 3},
		{name: "zarr_zstd", chunks: map[string]int64{"time": 3}},
		{name: "zarr_missing", chunks: map[string]int64{"time": 3, "lon": 4}, want: map[string][]int64{"ice": {3, 7, 4}}},
		{name: "zarr_text", chunks: map[string]int64{"time": 4}},
		{name: "zarr_big4d", chunks: map[string]int64{"time": 4, "lat": 7, "lon": 11}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
				r, manifestPath := zarrRecipe(t, dir, tc.name)
				r.Target.Chunks, r.Target.ZarrFormat = tc.chunks, tc.format
				runRecipe(t, runner, r)
				beamtest.CompareWithXarray(t, r.Target.URL, manifestPath, nil, tc.want)
			})
		})
	}
}

// TestOneZarrInput rechunks one store (a template without placeholders and
// no concat_dim: rechunker's use) on every runner, into time series and
// into v3 shards; each must equal xarray's reading of the store.
func TestOneZarrInput(t *testing.T) {
	dir := zarrInputs(t)
	store := filepath.Join(dir, "zarr_missing", "part_00.zarr")
	for _, tc := range []struct {
		name   string
		target recipes.Target
		want   map[string][]int64
	}{
		{"time series", recipes.Target{Chunks: map[string]int64{"time": 4, "lat": 1, "lon": 1}}, map[string][]int64{"sst": {4, 1, 1}}},
		{"v3 shards", recipes.Target{Chunks: map[string]int64{"time": 1, "lat": 2}, Shards: map[string]int64{"time": 4, "lat": 4}, ZarrFormat: 3}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
				r := recipes.Recipe{Pattern: recipes.Pattern{Template: store}, Target: tc.target}
				r.Target.URL = filepath.Join(t.TempDir(), "one.zarr")
				if !r.Pattern.OneInput() {
					t.Fatal("a template without placeholders is not one input")
				}
				r, err := r.Resolve(context.Background())
				if err != nil || r.Pattern.ConcatDim.Name != "time" {
					t.Fatalf("Resolve: %v, %q", err, r.Pattern.ConcatDim.Name)
				}
				runRecipe(t, runner, r)
				beamtest.CompareWithXarray(t, r.Target.URL, filepath.Join(dir, "zarr_missing", "collection.json"), []string{store}, tc.want)
			})
		})
	}
}

// TestOneInputUnresolved: Build refuses one input whose dimension Resolve
// has not picked, saying what to do.
func TestOneInputUnresolved(t *testing.T) {
	r := recipes.Recipe{Pattern: recipes.Pattern{Template: "/data/era5.zarr"}, Target: recipes.Target{URL: filepath.Join(t.TempDir(), "o.zarr")}}
	if err := r.Validate(); err != nil {
		t.Fatalf("one input: %v", err)
	}
	_, s := beam.NewPipelineWithRoot()
	if _, err := recipes.Build(s, r); err == nil || !strings.Contains(err.Error(), "Recipe.Resolve") {
		t.Errorf("Build of an unresolved one-input recipe: %v", err)
	}
}

// TestReferenceInputs materialises kerchunk reference sets: a set of each
// netCDF-4 collection (big-endian values, fletcher32, shuffle and zlib
// filters, chunks that cut the target's) is written by the references
// target, then read as one input and converted on every runner; the store
// must equal open_mfdataset of the netCDF files.
func TestReferenceInputs(t *testing.T) {
	for _, tc := range []struct {
		collection string
		nitems     bool
		chunks     map[string]int64
	}{
		{"nc4_checksummed", true, map[string]int64{"time": 3}},
		{"nc4_daily", false, map[string]int64{"time": 5, "lat": 4}},
		{"nc4_classic", false, map[string]int64{"time": 2, "lat": 3}},
	} {
		t.Run(tc.collection, func(t *testing.T) {
			refs, manifestPath := collectionRecipe(t, tc.collection)
			if tc.nitems {
				setNItems(t, &refs, manifestPath)
			}
			refs.Target = recipes.Target{URL: filepath.Join(t.TempDir(), "refs.json"), Format: recipes.FormatReferences}
			runRecipe(t, "direct", refs)
			beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
				r := recipes.Recipe{Pattern: recipes.Pattern{Template: refs.Target.URL, FileType: "references"},
					Target: recipes.Target{URL: filepath.Join(t.TempDir(), "out.zarr"), Chunks: tc.chunks}}
				r, err := r.Resolve(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				runRecipe(t, runner, r)
				beamtest.CompareWithXarray(t, r.Target.URL, manifestPath, nil, nil)
			})
		})
	}
}

// TestZarrInputsRemote reads the stores xarray wrote from an HTTP server
// (a directory URL answers with a listing: a store is found below it; no
// listing of keys is needed, the consolidated metadata names them) and from
// Cloud Storage (a prefix, listed), on every runner: each store must equal
// open_mfdataset of the local stores.
func TestZarrInputsRemote(t *testing.T) {
	dir := zarrInputs(t)
	local := filepath.Join(dir, "zarr_daily")
	srv := httptest.NewServer(http.FileServer(http.Dir(local)))
	defer srv.Close()
	bucket := storagetest.FakeGCS(t, "stores")
	ctx := context.Background()
	st, err := storage.NewStore(ctx, bucket+"/zarr_daily")
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(local, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(local, p)
		if err == nil {
			err = st.Put(ctx, filepath.ToSlash(rel), b)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, base := range map[string]string{"http": srv.URL, "gcs": bucket + "/zarr_daily"} {
		t.Run(name, func(t *testing.T) {
			beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
				r, manifestPath := zarrRecipe(t, dir, "zarr_daily")
				r.Pattern.Template = base + "/part_{time}.zarr"
				r.Target.Chunks = map[string]int64{"time": 5}
				runRecipe(t, runner, r)
				beamtest.CompareWithXarray(t, r.Target.URL, manifestPath, nil, map[string][]int64{"sst": {5, 7, 10}})
			})
		})
	}
}

// TestZarrV3Inputs reads Zarr v3 stores as inputs — sharded and not, as
// this project writes them (zarrita reads them back in TestCollectionsV3;
// the zarr-python here writes no v3) — rechunking each on every runner;
// the store must equal open_mfdataset of the netCDF files they came from.
func TestZarrV3Inputs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		source recipes.Target
	}{
		{"v3", recipes.Target{ZarrFormat: 3, Chunks: map[string]int64{"time": 2}}},
		{"v3 shards", recipes.Target{ZarrFormat: 3, Chunks: map[string]int64{"time": 1, "lat": 4}, Shards: map[string]int64{"time": 4, "lat": 8}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, manifestPath := collectionRecipe(t, "daily")
			src.Target = tc.source
			src.Target.URL = filepath.Join(t.TempDir(), "v3.zarr")
			runRecipe(t, "direct", src)
			beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
				r := recipes.Recipe{Pattern: recipes.Pattern{Template: src.Target.URL, FileType: "zarr"},
					Target: recipes.Target{URL: filepath.Join(t.TempDir(), "out.zarr"), Chunks: map[string]int64{"time": 8, "lat": 2}}}
				r, err := r.Resolve(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				runRecipe(t, runner, r)
				beamtest.CompareWithXarray(t, r.Target.URL, manifestPath, nil, map[string][]int64{"sst": {8, 2, 10}})
			})
		})
	}
}

// TestCopyAsStored migrates Zarr v2 stores (variables in zstd level 5, a
// chunk a day) into one Zarr v3 store and into one v2 store with the same
// chunks and compressor, on every runner: every chunk of theirs is copied
// as stored, never decoded (the counters say so), byte for byte the
// source's, and the store equals open_mfdataset of the sources. A
// compressor of another level is a re-encode.
func TestCopyAsStored(t *testing.T) {
	dir := zarrInputs(t)
	for _, tc := range []struct {
		name       string
		format     int
		compressor string
		shards     map[string]int64
		copied     bool
	}{
		{"to v3", 3, "zstd:5", nil, true},
		{"to v2", 2, "zstd:5", nil, true},
		{"to v3 shards of 4 days", 3, "zstd:5", map[string]int64{"time": 4}, true},
		{"another level", 3, "zstd:3", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
				r, manifestPath := zarrRecipe(t, dir, "zarr_zstd")
				r.Target.ZarrFormat, r.Target.Compressor, r.Target.Chunks = tc.format, tc.compressor, map[string]int64{"time": 1}
				r.Target.Shards = tc.shards
				n, err := beamtest.RunWithMetrics(t, runner, transforms.CounterNamespace, func(t *testing.T, s beam.Scope) {
					if _, err := recipes.Build(s, r); err != nil {
						t.Fatal(err)
					}
				})
				if err != nil {
					t.Fatal(err)
				}
				// The 32 chunks of the four variables are zstd:5 (8 shards
				// of 4); lat and lon (xarray's default, Blosc) are
				// re-encoded: 108 bytes decoded.
				objects, vars := int64(34), int64(32)
				if tc.shards != nil {
					objects, vars = 10, 8
				}
				written, copied := n[transforms.CounterChunksWritten], n[transforms.CounterChunksCopied]
				if want := map[bool]int64{true: vars, false: 0}[tc.copied]; written != objects || copied != want {
					t.Errorf("%d objects written, %d copied as stored; want %d, %d", written, copied, objects, want)
				}
				if decoded := n[transforms.CounterSourceDecoded]; tc.copied && decoded != 108 {
					t.Errorf("%d bytes decoded, want lat's and lon's 108", decoded)
				}
				beamtest.CompareWithXarray(t, r.Target.URL, manifestPath, nil, map[string][]int64{"sst": {1, 7, 10}})
				src := filepath.Join(dir, "zarr_zstd", "part_03.zarr", "sst", "0.0.0")
				switch {
				case tc.copied && tc.shards != nil: // day 3 is the last inner chunk of the first shard
					within(t, src, filepath.Join(r.Target.URL, "sst", "c", "0", "0", "0"))
				case tc.copied:
					sameChunk(t, src, r.Target.URL, tc.format, "sst", "3.0.0")
				}
			})
		})
	}
}

// TestCopyAsStoredMissing: inputs that never wrote some chunks (xarray's
// Blosc, the target's too): the groups holding them are decoded — what
// was copied of them written again — and the rest copied; the store reads
// as open_mfdataset reads the inputs, the missing chunks as the fill.
func TestCopyAsStoredMissing(t *testing.T) {
	dir := zarrInputs(t)
	beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
		r, manifestPath := zarrRecipe(t, dir, "zarr_missing")
		r.Target.ZarrFormat, r.Target.Compressor = 3, "blosc:5"
		r.Target.Chunks = map[string]int64{"time": 2, "lat": 4}
		n, err := beamtest.RunWithMetrics(t, runner, transforms.CounterNamespace, func(t *testing.T, s beam.Scope) {
			if _, err := recipes.Build(s, r); err != nil {
				t.Fatal(err)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		written, copied := n[transforms.CounterChunksWritten], n[transforms.CounterChunksCopied]
		t.Logf("%d of %d chunks copied as stored", copied, written)
		if copied == 0 || copied > written-4 {
			t.Errorf("%d of %d chunks copied as stored; want some, and not the two never written nor lat's and lon's", copied, written)
		}
		beamtest.CompareWithXarray(t, r.Target.URL, manifestPath, nil, nil)
		sameChunk(t, filepath.Join(dir, "zarr_missing", "part_01.zarr", "sst", "1.1.0"), r.Target.URL, 3, "sst", "3.1.0")
	})
}

// sameChunk checks that chunk idx (v2 key form) of array name in the
// store at url holds the bytes of the file src.
func sameChunk(t *testing.T, src, url string, format int, name, idx string) {
	t.Helper()
	key := filepath.Join(url, name, idx)
	if format == 3 {
		key = filepath.Join(url, name, "c", strings.ReplaceAll(idx, ".", "/"))
	}
	a, errA := os.ReadFile(src)
	b, errB := os.ReadFile(key)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Errorf("%s is not the source's %s byte for byte (%v, %v)", key, src, errA, errB)
	}
}

// within checks that the shard object at path holds the bytes of the
// chunk file src.
func within(t *testing.T, src, path string) {
	t.Helper()
	a, errA := os.ReadFile(src)
	b, errB := os.ReadFile(path)
	if errA != nil || errB != nil || !bytes.Contains(b, a) {
		t.Errorf("shard %s does not hold the source's %s as stored (%v, %v)", path, src, errA, errB)
	}
}
