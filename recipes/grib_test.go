package recipes_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/recipes"
)

// checkGribStore asks xarray whether the store argv[1] is what cfgrib
// opens of the GRIB files argv[3:] with filter_by_keys argv[2] (JSON),
// concatenated along time when there are several, and merged when
// several arguments each list the files of some variables: dimensions,
// coordinates, values (bit for bit), attributes (but cfgrib's history
// and zarrforge's provenance).
const checkGribStore = `
import json, sys, warnings
import numpy as np, xarray as xr
warnings.simplefilter("ignore")
fbk = json.loads(sys.argv[2])
def days(files):
    dss = [xr.open_dataset(f, engine="cfgrib", backend_kwargs={"filter_by_keys": fbk, "indexpath": ""}) for f in files]
    return dss[0] if len(dss) == 1 else xr.concat(dss, dim="time")
groups = [g.split(",") for g in sys.argv[3:]]  # one argument a merged variable: its files, comma separated
want = xr.merge([days(g) for g in groups], combine_attrs="override")
got = xr.open_zarr(sys.argv[1])
bad = []
if dict(got.dims) != dict(want.dims):
    bad.append("dims %s vs %s" % (dict(got.dims), dict(want.dims)))
if set(got.variables) != set(want.variables) or set(got.coords) != set(want.coords):
    bad.append("variables %s (coords %s) vs %s (coords %s)" % (sorted(got.variables), sorted(got.coords), sorted(want.variables), sorted(want.coords)))
for name in want.variables:
    if name not in got.variables:
        continue
    g, w = got[name], want[name]
    if g.dims != w.dims or g.dtype != w.dtype or not np.array_equal(g.values, w.values, equal_nan=g.dtype.kind == "f"):
        bad.append("%s: %s %s vs %s %s" % (name, g.dims, g.dtype, w.dims, w.dtype))
    if {k: v for k, v in g.attrs.items()} != w.attrs:
        bad.append("%s attrs %s vs %s" % (name, g.attrs, w.attrs))
wa = {k: v for k, v in want.attrs.items() if k != "history"}
ga = {k: v for k, v in got.attrs.items() if not k.startswith("zarrforge_")}
if ga != wa:
    bad.append("global attrs %s vs %s" % (ga, wa))
print("differ: " + "; ".join(bad) if bad else "same")
sys.exit(1 if bad else 0)
`

// TestGribRecipe converts GRIB2 files on every runner — three daily
// forecast files concatenated along time with a filter that leaves 2 m
// temperature out, one file alone, whole, and files of pressure levels and
// of the surface merged — and asks xarray whether each store is what
// cfgrib opens of the files (xarray.concat along time of one dataset a
// file, xarray.merge of the kinds).
func TestGribRecipe(t *testing.T) {
	py := beamtest.RequirePython(t, "eccodes", "cfgrib", "xarray", "zarr")
	dir := t.TempDir()
	if out, err := exec.Command(py, beamtest.Testdata("grib", "make_cubes.py"), "--series", dir).CombinedOutput(); err != nil {
		t.Fatalf("make_cubes.py: %v\n%s", err, out)
	}
	days := []string{"20240101", "20240102", "20240103"}
	var files, pl, sfc []string
	for _, d := range days {
		files = append(files, filepath.Join(dir, "fc_"+d+".grib2"))
		pl = append(pl, filepath.Join(dir, "pl_"+d+".grib2"))
		sfc = append(sfc, filepath.Join(dir, "sfc_"+d+".grib2"))
	}
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.FileServer(http.Dir(dir)).ServeHTTP(w, r)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name    string
		pattern recipes.Pattern
		filter  string
		files   []string // what cfgrib opens: one entry a merged kind, its files comma separated
	}{
		{"three days, pressure levels", recipes.Pattern{Template: filepath.Join(dir, "fc_{time}.grib2"), FileType: "grib2",
			ConcatDim: recipes.ConcatDim{Name: "time", Keys: days},
			Grib:      &recipes.Grib{FilterByKeys: map[string]string{"typeOfLevel": "isobaricInhPa"}}}, `{"typeOfLevel": "isobaricInhPa"}`, []string{strings.Join(files, ",")}},
		{"one file", recipes.Pattern{Template: files[1]}, `{}`, []string{files[1]}},
		{"three days over HTTP", recipes.Pattern{Template: srv.URL + "/fc_{time}.grib2",
			ConcatDim: recipes.ConcatDim{Name: "time", Keys: days},
			Grib:      &recipes.Grib{FilterByKeys: map[string]string{"typeOfLevel": "isobaricInhPa"}}}, `{"typeOfLevel": "isobaricInhPa"}`, []string{strings.Join(files, ",")}},
		{"pressure levels and surface merged", recipes.Pattern{Template: filepath.Join(dir, "{kind}_{time}.grib2"),
			ConcatDim: recipes.ConcatDim{Name: "time", Keys: days},
			MergeDims: []recipes.MergeDim{{Name: "kind", Keys: []string{"pl", "sfc"}}}}, `{}`,
			[]string{strings.Join(pl, ","), strings.Join(sfc, ",")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
				r := recipes.Recipe{Pattern: tc.pattern, Target: recipes.Target{URL: filepath.Join(t.TempDir(), "out.zarr")}}
				if err := r.Validate(); err != nil {
					t.Fatal(err)
				}
				r, err := r.Resolve(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if err := r.Check(context.Background()); err != nil { // time, a scalar in each file, needs no new: true
					t.Fatal(err)
				}
				runRecipe(t, runner, r)
				if strings.HasPrefix(tc.pattern.Template, "http") {
					t.Logf("%d HTTP requests for 3 files of 10 messages", requests.Swap(0))
				}
				args := append([]string{"-c", checkGribStore, r.Target.URL, tc.filter}, tc.files...)
				if out, err := exec.Command(py, args...).CombinedOutput(); err != nil {
					t.Errorf("xarray: %v\n%s", err, out)
				}
			})
		})
	}
}
