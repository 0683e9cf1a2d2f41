package recipes_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/recipes"
)

// checkZarritaValues asks xarray whether the Zarr v2 store argv[1] holds,
// raw (no masking, scaling or time decoding), the values zarrita wrote
// (argv[2], JSON: NaN as null; a chunk of sst and one of ice, deleted
// after writing, read as their fills), with their dimensions and
// attributes, and whether xarray's decoding of it is what the attributes
// say.
const checkZarritaValues = `
import json, sys, numpy as np, xarray as xr
want = json.loads(sys.argv[2])
ds = xr.open_zarr(sys.argv[1], mask_and_scale=False, decode_times=False)
sst = np.array([np.nan if v is None else v for v in want["sst"]], dtype="f4").reshape(6, 4, 10)
sst[2:4, 0:2, 5:10] = np.nan  # the chunks deleted: read as the fill
want["sst"] = sst
ice = np.array(want["ice"], dtype="i2").reshape(6, 4, 10)
ice[4:6, 0:3, 4:8] = -32768
want["ice"] = ice
bad = []
for name, dims in [("time", ("time",)), ("lat", ("lat",)), ("lon", ("lon",)), ("sst", ("time", "lat", "lon")), ("ice", ("time", "lat", "lon"))]:
    got = ds[name]
    w = np.asarray(want[name], dtype=got.dtype).reshape(got.shape)
    if got.dims != dims or not np.array_equal(got.values, w, equal_nan=got.dtype.kind == "f"):
        bad.append(name)
# v3's fill_value is no _FillValue (xarray takes that from the attributes
# only, and zarrita wrote none): the fills stay values.
if ds.attrs.get("title") != "written by zarrita" or ds["ice"].attrs != {"scale_factor": 0.01, "units": "1"}:
    bad.append("attributes %r %r" % (ds.attrs, ds["ice"].attrs))
dec = xr.open_zarr(sys.argv[1])
if str(dec["time"].values[1])[:10] != "2000-01-03" or not np.isclose(float(dec["ice"][0, 0, 1]), -4.63):
    bad.append("decoded %s %s" % (dec["time"].values[:2], dec["ice"].values[0, 0, :2]))
print("differ: " + ", ".join(bad) if bad else "same")
sys.exit(1 if bad else 0)
`

// TestZarritaWrittenInput converts a Zarr v3 store that zarrita wrote
// (beamtest/zarrita/write.mjs: NaN and -32768 fills, big-endian values,
// int64 times with CF units, chunks cutting every axis, chunks deleted)
// into a v2 store on every runner and asks xarray whether it holds what
// zarrita wrote: the v3 reader checked against a writer nobody here wrote.
func TestZarritaWrittenInput(t *testing.T) {
	beamtest.RequireZarrita(t)
	py := beamtest.RequirePython(t, "xarray", "zarr")
	store := filepath.Join(t.TempDir(), "zarrita.zarr")
	cmd := exec.Command("node", filepath.Join(beamtest.Root(), "beamtest", "zarrita", "write.mjs"), store)
	cmd.Stderr = os.Stderr
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("zarrita cannot write the store: %v", err)
	}
	for _, chunk := range []string{"sst/c/1/0/1", "ice/c/1/0/1"} {
		if err := os.Remove(filepath.Join(store, filepath.FromSlash(chunk))); err != nil {
			t.Fatal(err)
		}
	}
	beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
		r := recipes.Recipe{Pattern: recipes.Pattern{Template: store, FileType: "auto"},
			Target: recipes.Target{URL: filepath.Join(t.TempDir(), "out.zarr"), Chunks: map[string]int64{"time": 3}}}
		r, err := r.Resolve(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		runRecipe(t, runner, r)
		out, err := exec.Command(py, "-c", checkZarritaValues, r.Target.URL, string(want)).CombinedOutput()
		if err != nil {
			t.Errorf("xarray on the store made of zarrita's: %v\n%s", err, out)
		}
	})
}
