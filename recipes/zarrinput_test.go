package recipes_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/recipes"
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
