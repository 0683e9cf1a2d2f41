package recipes_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/recipes"
	"github.com/zarrforge/zarrforge/source"
)

// compareGroupsScript compares, for each converted file, every group of
// the store with xarray.open_dataset(file, group=...) (xarray.identical,
// but for zarrforge's provenance attributes), and prints the groups that
// differ, by file.
const compareGroupsScript = `
import json, sys, xarray as xr
out = {}
for c in json.load(open(sys.argv[1])):
    bad = []
    for g in c["groups"]:
        try:
            want = xr.open_dataset(c["file"], group=g).load()
            got = xr.open_zarr(c["store"], group=None if g == "/" else g).load()
            got.attrs = {k: v for k, v in got.attrs.items() if not k.startswith("zarrforge_")}
            if not want.identical(got):
                bad.append("%s: differs:\n%s\nvs xarray:\n%s" % (g, got, want))
        except Exception as e:
            bad.append("%s: %s: %s" % (g, type(e).__name__, e))
    out[c["file"]] = bad
print(json.dumps(out))
`

// TestRealWorldGroups converts every file of the real-world conformance set
// (../shared/realworld) that has groups below the root, with groups: all,
// and compares each group of the store with xarray.open_dataset(file,
// group=...). A file whose groups cannot all be read is refused by Check,
// naming the file and what is unsupported.
func TestRealWorldGroups(t *testing.T) {
	dir, files := beamtest.RealWorld(t)
	beamtest.RequirePython(t, "xarray", "netCDF4", "zarr")
	var paths []string
	for _, fields := range files {
		if len(fields) < 7 || fields[5] != "HDF5" || fields[6] != "netCDF-4" {
			continue // netCDF-C cannot open it
		}
		path := filepath.Join(dir, "files", fields[0])
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if groups, err := source.Groups(bytes.NewReader(b), int64(len(b)), path); err == nil && len(groups) > 1 {
			paths = append(paths, path)
		}
	}
	converted, groups, refused := convertGroups(t, paths)
	if converted == 0 {
		t.Fatal("no real-world file with groups was converted")
	}
	t.Logf("%d real-world files with groups converted as nested Zarr groups (%d groups, each compared with xarray), %d refused",
		converted, groups, refused)
}

// convertGroups converts each file at paths alone (one input along a
// concat dimension its groups may lack) with groups: all, then compares
// every group of each store with xarray.open_dataset(file, group=...). A
// file whose groups cannot all be read must be refused by Check, as
// unsupported, naming it. It returns how many files were converted, their
// groups, and how many were refused.
func convertGroups(t *testing.T, paths []string) (converted, groups, refused int) {
	t.Helper()
	py := beamtest.RequirePython(t, "xarray", "netCDF4", "zarr")
	type store struct {
		File   string   `json:"file"`
		Store  string   `json:"store"`
		Groups []string `json:"groups"`
	}
	var done []store
	for _, path := range paths {
		in := t.TempDir()
		if err := os.Symlink(path, filepath.Join(in, "in_0.h5")); err != nil {
			t.Fatal(err)
		}
		r := recipes.Recipe{
			Pattern: recipes.Pattern{Template: filepath.Join(in, "in_{time}.h5"), ConcatDim: recipes.ConcatDim{Name: "time", Keys: []string{"0"}},
				Groups: recipes.StringList{recipes.AllGroups}},
			Target: recipes.Target{URL: filepath.Join(in, "out.zarr")},
		}
		ctx := context.Background()
		r, err := r.ResolveGroups(ctx)
		if err == nil {
			err = r.Check(ctx)
		}
		if err != nil {
			if !strings.Contains(err.Error(), "unsupported") || !strings.Contains(err.Error(), "in_0.h5") {
				t.Errorf("%s: refused, not as unsupported naming the input: %v", filepath.Base(path), err)
			}
			t.Logf("%s: refused: %v", filepath.Base(path), err)
			refused++
			continue
		}
		runRecipe(t, "direct", r)
		done = append(done, store{File: path, Store: r.Target.URL, Groups: r.Pattern.Groups})
		groups += len(r.Pattern.Groups)
	}
	if len(done) == 0 {
		return 0, 0, refused
	}
	list := filepath.Join(t.TempDir(), "converted.json")
	b, _ := json.Marshal(done)
	if err := os.WriteFile(list, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd := exec.Command(py, "-c", compareGroupsScript, list)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("comparing: %v\n%s", err, stderr.String())
	}
	var bad map[string][]string
	if err := json.Unmarshal(out, &bad); err != nil {
		t.Fatalf("the comparison printed %q: %v", out, err)
	}
	for _, c := range done {
		for _, p := range bad[c.File] {
			t.Errorf("%s: group %s", filepath.Base(c.File), p)
		}
	}
	return len(done), groups, refused
}
