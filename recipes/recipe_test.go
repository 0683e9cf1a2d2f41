package recipes_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/zarrforge/zarrforge"
	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/recipes"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/zarr"
)

func TestMain(m *testing.M) { ptest.Main(m) }

// manifest is the part of a fixture collection's collection.json a recipe
// needs.
type manifest struct {
	ConcatDim  string   `json:"concat_dim"`
	ConcatKeys []string `json:"concat_keys"`
	// ConcatDims, when given, are the concat dimensions (ConcatDim is then
	// the first).
	ConcatDims []struct {
		Name string   `json:"name"`
		Keys []string `json:"keys"`
	} `json:"concat_dims"`
	MergeDim      *string  `json:"merge_dim"`
	MergeKeys     []string `json:"merge_keys"`
	Template      string   `json:"template"`
	NItemsPerFile *int64   `json:"nitems_per_file"`
	OpenKwargs    struct {
		Group string `json:"group"` // the netCDF-4 group compared (pattern.group)
	} `json:"open_kwargs"`
}

// collectionRecipe returns a recipe for the named fixture collection, and
// the path of its manifest.
func collectionRecipe(t *testing.T, name string) (recipes.Recipe, string) {
	t.Helper()
	dir := beamtest.Testdata("collections", name)
	path := filepath.Join(dir, "collection.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	r := recipes.Recipe{
		Pattern: recipes.Pattern{
			Template:  filepath.Join(dir, m.Template),
			ConcatDim: recipes.ConcatDim{Name: m.ConcatDim, Keys: m.ConcatKeys},
			FileType:  "auto",
		},
		Target: recipes.Target{URL: filepath.Join(t.TempDir(), name+".zarr"), Compressor: "zstd", Mode: "create"},
	}
	if m.MergeDim != nil {
		r.Pattern.MergeDims = []recipes.MergeDim{{Name: *m.MergeDim, Keys: m.MergeKeys}}
	}
	r.Pattern.Group = m.OpenKwargs.Group
	if m.ConcatDims != nil {
		r.Pattern.ConcatDim = recipes.ConcatDim{}
		for _, d := range m.ConcatDims {
			r.Pattern.ConcatDims = append(r.Pattern.ConcatDims, recipes.ConcatDim{Name: d.Name, Keys: d.Keys})
		}
	}
	return r, path
}

// setNItems sets the first concat dimension's nitems_per_file of r, the
// recipe of the collection whose manifest is at path, from the manifest.
func setNItems(t *testing.T, r *recipes.Recipe, path string) {
	t.Helper()
	b, _ := os.ReadFile(path)
	var m manifest
	_ = json.Unmarshal(b, &m)
	if m.NItemsPerFile == nil {
		t.Fatalf("%s has no nitems_per_file", path)
	}
	if len(r.Pattern.ConcatDims) > 0 {
		r.Pattern.ConcatDims[0].NItemsPerFile = *m.NItemsPerFile
		return
	}
	r.Pattern.ConcatDim.NItemsPerFile = *m.NItemsPerFile
}

// TestCollections runs a recipe over each fixture collection on every
// runner and asks xarray whether the store equals open_mfdataset of the
// inputs.
// TestCollectionsV3 writes Zarr v3 stores, sharded and not, of the
// collections and checks each against open_mfdataset of its inputs as
// zarrita reads it (beamtest.CompareWithXarray). Collections with
// fixed-width bytes (netCDF chars) are left out: their v3 data type,
// null_terminated_bytes as zarr-python 3.1 writes it, is one zarrita
// 0.7.5 cannot read (zarr's own tests read it back).
func TestCollectionsV3(t *testing.T) {
	tests := []struct {
		collection     string
		chunks, shards map[string]int64
		compressor     string
		want           map[string][]int64 // inner chunk shapes to check
	}{
		{collection: "daily", chunks: map[string]int64{"time": 1, "lat": 4, "lon": 3}, shards: map[string]int64{"time": 3, "lat": 8, "lon": 6},
			want: map[string][]int64{"sst": {1, 4, 3}, "lat": {7}}},
		{collection: "daily", chunks: map[string]int64{"time": 3}},
		{collection: "daily_units", chunks: map[string]int64{"time": 2}, shards: map[string]int64{"time": 4}, compressor: "blosc"},
		{collection: "big4d", chunks: map[string]int64{"time": 2, "lat": 7, "lon": 11}, shards: map[string]int64{"time": 4}, compressor: "gzip"},
		{collection: "nc4_tiled", chunks: map[string]int64{"time": 2, "lat": 5, "lon": 3}, shards: map[string]int64{"time": 4, "lon": 9},
			want: map[string][]int64{"sst": {2, 5, 3}}},
		{collection: "merge", chunks: map[string]int64{"time": 1}, shards: map[string]int64{"time": 2}, compressor: "zlib"},
		{collection: "uneven", chunks: map[string]int64{"time": 4}, shards: map[string]int64{"time": 8}, compressor: "none"},
		{collection: "scalar_and_static", chunks: map[string]int64{"time": 2, "lat": 3}, shards: map[string]int64{"time": 4}},
		{collection: "noleap", chunks: map[string]int64{"time": 2}},
		{collection: "nc4_bounds", chunks: map[string]int64{"time": 5}, shards: map[string]int64{"time": 10}, compressor: "blosc"},
		{collection: "nc4_daily", chunks: map[string]int64{"time": 1, "lat": 5}, shards: map[string]int64{"time": 3, "lat": 10}},
		{collection: "rw_text", chunks: map[string]int64{"time": 4}},
		{collection: "ensemble", chunks: map[string]int64{"time": 2, "member": 1}, shards: map[string]int64{"time": 4, "member": 3},
			want: map[string][]int64{"sst": {1, 2, 4, 5}, "member": {3}}},
	}
	for i, tc := range tests {
		name := tc.collection
		if tc.shards != nil {
			name += "/sharded"
		}
		if tc.compressor != "" {
			name += "/" + tc.compressor
		}
		runner := beamtest.Runners()[i%len(beamtest.Runners())] // the format, not the runner, is under test
		t.Run(name+"/"+runner, func(t *testing.T) {
			r, manifestPath := collectionRecipe(t, tc.collection)
			r.Target.Chunks, r.Target.Shards, r.Target.ZarrFormat = tc.chunks, tc.shards, 3
			if tc.compressor != "" {
				r.Target.Compressor = tc.compressor
			}
			runRecipe(t, runner, r)
			beamtest.CompareWithXarray(t, r.Target.URL, manifestPath, nil, tc.want)
			sameAsZarrita(t, r.Target.URL)
		})
	}
}

// sameAsZarrita checks that our reader reads every numeric array of the
// store at path as zarrita does.
func sameAsZarrita(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	want, _ := beamtest.ReadWithZarrita(t, path)
	st, err := storage.NewStore(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range want.Arrays {
		meta, _, err := zarr.ReadArrayMeta(ctx, st, name)
		if err != nil {
			t.Fatal(err)
		}
		if meta.DType == zarr.Strings {
			continue
		}
		got, err := zarr.ReadArray(ctx, st, name, meta)
		if err != nil || !bytes.Equal(got, a.Base64) {
			t.Errorf("%s: our reader reads %d bytes, zarrita %d (equal: %v): %v", name, len(got), len(a.Base64), bytes.Equal(got, a.Base64), err)
		}
	}
}

func TestCollections(t *testing.T) {
	tests := []struct {
		collection string
		chunks     map[string]int64
		nitems     bool // set nitems_per_file from the manifest
		compressor string
		want       map[string][]int64 // chunk shapes to check
	}{
		{collection: "daily", chunks: map[string]int64{"time": 3}, want: map[string][]int64{"sst": {3, 7, 10}, "lat": {7}}},
		{collection: "daily", chunks: map[string]int64{"time": 3, "lat": 4, "lon": 3}, compressor: "zlib",
			want: map[string][]int64{"sst": {3, 4, 3}, "lon": {10}}},
		{collection: "daily_units", chunks: map[string]int64{"time": 5}, compressor: "gzip"},
		{collection: "daily_units", chunks: map[string]int64{"time": 3}, compressor: "blosc"},
		{collection: "multistep", chunks: map[string]int64{"time": 4}, nitems: true, compressor: "none"},
		{collection: "multistep", chunks: map[string]int64{"time": 7}},
		{collection: "uneven", chunks: map[string]int64{"time": 4}, want: map[string][]int64{"time": {11}}},
		{collection: "merge", chunks: map[string]int64{"time": 3}},
		{collection: "noleap", chunks: map[string]int64{"time": 2}},
		{collection: "cal360", chunks: map[string]int64{"time": 3}},
		{collection: "big4d", chunks: map[string]int64{"time": 4, "lat": 7, "lon": 11}},
		{collection: "scalar_and_static", chunks: map[string]int64{"time": 2, "lat": 3}},
		{collection: "chars", chunks: map[string]int64{"time": 2}, want: map[string][]int64{"station_name": {3, 5}}},
		// netCDF-4 (HDF5) inputs
		{collection: "nc4_daily", chunks: map[string]int64{"time": 3, "lat": 5}, want: map[string][]int64{"sst": {3, 5, 10}}},
		{collection: "nc4_bounds", chunks: map[string]int64{"time": 5}, nitems: true, compressor: "zlib",
			want: map[string][]int64{"time_bnds": {5, 2}, "mask": {6, 8}}},
		{collection: "nc4_classic", chunks: map[string]int64{"time": 4}},
		{collection: "nc4_checksummed", chunks: map[string]int64{"time": 3}, nitems: true},
		{collection: "nc4_enums", chunks: map[string]int64{"time": 2}},
		{collection: "grouped", chunks: map[string]int64{"time": 3}, want: map[string][]int64{"DBZH": {3, 5}}},
		{collection: "bounds_units", chunks: map[string]int64{"time": 3}, nitems: true, want: map[string][]int64{"time_bnds": {3, 2}}},
		// read groups: target chunks that cut the inputs' tiles on every axis
		{collection: "nc4_tiled", chunks: map[string]int64{"time": 4, "lat": 5, "lon": 3}, want: map[string][]int64{"sst": {4, 5, 3}, "ice": {4, 5, 3}}},
		// what real files hold that is hard to store
		{collection: "rw_text", chunks: map[string]int64{"time": 4}, want: map[string][]int64{"station_name": {4}, "remark": {4}}},
		{collection: "rw_fills", chunks: map[string]int64{"time": 2}, want: map[string][]int64{"code": {2}}},
		{collection: "rw_coords_only", chunks: map[string]int64{"time": 2}},
		// several concat dimensions: a new one (member) and one the inputs have (lon)
		{collection: "ensemble", chunks: map[string]int64{"time": 4}, nitems: true,
			want: map[string][]int64{"sst": {3, 4, 4, 5}, "mask": {3, 4, 5}, "time_bnds": {3, 4, 2}, "member": {3}}},
		{collection: "ensemble", chunks: map[string]int64{"time": 3, "member": 2, "lat": 3}, compressor: "blosc",
			want: map[string][]int64{"sst": {2, 3, 3, 5}, "crs": {2}}},
		{collection: "tiles", chunks: map[string]int64{"time": 3, "lon": 4}, want: map[string][]int64{"sst": {3, 5, 4}, "depth": {5, 4}}},
	}
	for _, tc := range tests {
		name := tc.collection
		if tc.compressor != "" {
			name += "/" + tc.compressor
		}
		if tc.nitems {
			name += "/nitems"
		}
		t.Run(name, func(t *testing.T) {
			beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
				r, manifestPath := collectionRecipe(t, tc.collection)
				r.Target.Chunks = tc.chunks
				if tc.compressor != "" {
					r.Target.Compressor = tc.compressor
				}
				if tc.nitems {
					setNItems(t, &r, manifestPath)
				}
				runRecipe(t, runner, r)
				beamtest.CompareWithXarray(t, r.Target.URL, manifestPath, nil, tc.want)
			})
		})
	}
}

// runRecipe runs recipe r on runner and checks it ends with one summary.
func runRecipe(t *testing.T, runner string, r recipes.Recipe) {
	t.Helper()
	err := beamtest.RunOn(t, runner, func(t *testing.T, s beam.Scope) {
		summary, err := recipes.Build(s, r)
		if err != nil {
			t.Fatal(err)
		}
		passert.Count(s, summary, "summary", 1)
	})
	if err != nil {
		t.Fatalf("pipeline failed: %v", err)
	}
}

// TestAppendCollections appends the last inputs of a collection to a store
// of its first ones — across a chunk that straddles the old end — and asks
// xarray whether the store equals open_mfdataset of them all: strings and
// fixed-width strings (rw_text, rw_fills) go through the append path too,
// time bounds in other units than the store's (bounds_units) are
// re-encoded into its units, and with several concat dimensions (ensemble,
// tiles) the append extends the first.
func TestAppendCollections(t *testing.T) {
	for _, name := range []string{"rw_text", "rw_fills", "bounds_units", "ensemble", "tiles"} {
		t.Run(name, func(t *testing.T) {
			r, manifestPath := collectionRecipe(t, name)
			r.Target.Chunks = map[string]int64{"time": 3}
			r.Target.Mode = "append"
			first := &r.Pattern.ConcatDim
			if len(r.Pattern.ConcatDims) > 0 {
				first = &r.Pattern.ConcatDims[0]
			}
			keys := first.Keys
			cut := min(2, len(keys)-1)
			for _, part := range [][]string{keys[:cut], keys[cut:]} {
				first.Keys = part
				err := beamtest.RunOn(t, "direct", func(t *testing.T, s beam.Scope) {
					if _, err := recipes.Build(s, r); err != nil {
						t.Fatal(err)
					}
				})
				if err != nil {
					t.Fatalf("appending %v: %v", part, err)
				}
			}
			beamtest.CompareWithXarray(t, r.Target.URL, manifestPath, nil, nil)
		})
	}
}

// TestAppendOtherConcatDims: an append adds steps along the first concat
// dimension only; inputs whose coordinate along another differs from the
// store's (the members in another order) are refused, and the store is left
// as it was.
func TestAppendOtherConcatDims(t *testing.T) {
	r, manifestPath := collectionRecipe(t, "ensemble")
	r.Target.Mode = "append"
	times := r.Pattern.ConcatDims[0].Keys
	r.Pattern.ConcatDims[0].Keys = times[:2]
	runRecipe(t, "direct", r)
	r.Pattern.ConcatDims[0].Keys = times[2:]
	members := r.Pattern.ConcatDims[1].Keys
	r.Pattern.ConcatDims[1].Keys = []string{members[2], members[1], members[0]}
	err := beamtest.RunOn(t, "direct", func(t *testing.T, s beam.Scope) {
		if _, err := recipes.Build(s, r); err != nil {
			t.Fatal(err)
		}
	})
	if err == nil || !strings.Contains(err.Error(), `coordinate "member": the inputs' values are not the store's`) {
		t.Fatalf("members reordered: %v", err)
	}
	var files [][]string
	b, _ := os.ReadFile(manifestPath)
	var m struct{ Files [][]string }
	_ = json.Unmarshal(b, &m)
	files = m.Files[:2]
	beamtest.CompareWithXarray(t, r.Target.URL, manifestPath, files, nil)
}

// TestAppendV3 appends to sharded Zarr v3 stores, in three runs, each
// ending within a shard that the next rewrites whole, and checks each
// store, as zarrita reads it, against open_mfdataset of all the inputs.
// Naming another format or other shards than the store has is refused.
func TestAppendV3(t *testing.T) {
	for _, tc := range []struct {
		collection     string
		chunks, shards map[string]int64
		compressor     string
	}{
		{"daily", map[string]int64{"time": 1, "lat": 4}, map[string]int64{"time": 4, "lat": 8}, ""},
		{"nc4_daily", map[string]int64{"time": 2}, map[string]int64{"time": 6}, "blosc"},
		{"rw_text", map[string]int64{"time": 3}, nil, ""},
	} {
		t.Run(tc.collection, func(t *testing.T) {
			r, manifestPath := collectionRecipe(t, tc.collection)
			r.Target.Chunks, r.Target.Shards, r.Target.ZarrFormat = tc.chunks, tc.shards, 3
			r.Target.Compressor = tc.compressor
			r.Target.Mode = "append"
			keys := r.Pattern.ConcatDim.Keys
			k1, k2 := max(1, len(keys)/3), max(2, 2*len(keys)/3)
			for _, part := range [][]string{keys[:k1], keys[k1:k2], keys[k2:]} {
				r.Pattern.ConcatDim.Keys = part
				runRecipe(t, "direct", r)
			}
			beamtest.CompareWithXarray(t, r.Target.URL, manifestPath, nil, nil)

			r.Pattern.ConcatDim.Keys = keys[:1]
			for what, edit := range map[string]func(*recipes.Recipe){
				"target.zarr_format: the store is Zarr v3, not v2": func(r *recipes.Recipe) { r.Target.ZarrFormat, r.Target.Shards = 2, nil },
				"target.shards.time": func(r *recipes.Recipe) { r.Target.Shards = map[string]int64{"time": 2} },
			} {
				if tc.shards == nil {
					continue
				}
				bad := r
				edit(&bad)
				err := beamtest.RunOn(t, "direct", func(t *testing.T, s beam.Scope) {
					if _, err := recipes.Build(s, bad); err != nil {
						t.Fatal(err)
					}
				})
				if err == nil || !strings.Contains(recipes.Explain(err.Error()), what) { // as the CLI shows it
					t.Errorf("appending with %q: %v", what, err)
				}
			}
		})
	}
}

// TestAppendToZarrPythonStore appends to a store zarr-python 2 wrote
// directly, as tools other than xarray do (pangeo-forge's raw writes): a
// compressor per array — numcodecs' LZ4, Blosc with zstd and bit shuffle,
// zlib, gzip, zstd, Blosc without shuffle — chunks along time of 2, and
// NaN fill values on floats without _FillValue. The store, as xarray opens
// it, must equal open_mfdataset of all the inputs.
func TestAppendToZarrPythonStore(t *testing.T) {
	py := beamtest.RequirePython(t, "xarray", "zarr", "numcodecs")
	r, manifestPath := collectionRecipe(t, "daily")
	keys := r.Pattern.ConcatDim.Keys
	script := `
import sys, numpy as np, xarray as xr, zarr, numcodecs
store, files = sys.argv[1], sys.argv[2:]
ds = xr.open_mfdataset(files, combine="nested", concat_dim="time", mask_and_scale=False, decode_times=False).load()
g = zarr.open_group(store, mode="w")
plain = lambda d: {k: v.tolist() if hasattr(v, "tolist") else v for k, v in d.items()}
g.attrs.update(plain(xr.open_dataset(files[0]).attrs))
B = numcodecs.Blosc
codecs = [numcodecs.LZ4(), B(cname="zstd", clevel=3, shuffle=B.BITSHUFFLE), numcodecs.Zlib(level=4),
          numcodecs.GZip(level=2), numcodecs.Zstd(level=5), B(cname="lz4", shuffle=B.NOSHUFFLE)]
for i, name in enumerate(sorted(ds.variables)):
    v = ds[name].variable
    attrs = plain(v.attrs)
    fill = attrs.pop("_FillValue", None)
    if fill is None and v.dtype.kind == "f":
        fill = np.nan
    chunks = v.shape if name in ds.dims else tuple(2 if d == "time" else n for d, n in zip(v.dims, v.shape))
    a = g.create(name, shape=v.shape, chunks=chunks, dtype=v.dtype, compressor=codecs[i % len(codecs)], fill_value=fill)
    a[...] = v.values
    attrs["_ARRAY_DIMENSIONS"] = list(v.dims)
    a.attrs.update(attrs)
zarr.consolidate_metadata(store)
`
	files := []string{}
	for _, k := range keys[:3] {
		files = append(files, beamtest.Testdata("collections", "daily", "daily_"+k+".nc"))
	}
	if out, err := exec.Command(py, append([]string{"-c", script, r.Target.URL}, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("zarr-python: %v\n%s", err, out)
	}
	r.Pattern.ConcatDim.Keys = keys[3:]
	r.Target.Mode = "append"
	runRecipe(t, "direct", r)
	beamtest.CompareWithXarray(t, r.Target.URL, manifestPath, nil, map[string][]int64{"sst": {2, 7, 10}})
}

// TestReferences writes kerchunk reference files of the collections and
// has xarray open each through fsspec's reference filesystem: it must equal
// open_mfdataset of the inputs (values, dtypes, attributes, decoded times).
func TestReferences(t *testing.T) {
	for i, c := range []struct {
		collection string
		nitems     bool
	}{
		{"daily", false},       // netCDF-3 classic, a record per file
		{"daily_units", false}, // time units differ per file: the coordinate is re-encoded, inlined
		{"multistep", true},    // several records per file
		{"merge", false},       // merge dims
		{"big4d", false},       // 64-bit offset, 4-D
		{"scalar_and_static", false},
		{"nc4_daily", false},      // zlib + shuffle, edge chunks
		{"nc4_bounds", true},      // contiguous and chunked, bounds
		{"nc4_classic", false},    // netCDF-4 classic model
		{"chars", false},          // char variables
		{"rw_text", false},        // netCDF-4 strings: inlined
		{"nc4_checksummed", true}, // big-endian, fletcher32, contiguous along time
		{"bounds_units", true},    // time_bnds re-encoded with time: inlined
		{"ensemble", false},       // a new concat dimension: one chunk per member
		{"tiles", false},          // tiles along a second concat dimension the inputs have (depth dropped: TestReferencesRefused)
	} {
		runner := beamtest.Runners()[i%len(beamtest.Runners())]
		t.Run(c.collection+"/"+runner, func(t *testing.T) {
			r, manifestPath := collectionRecipe(t, c.collection)
			r.Target.URL = filepath.Join(t.TempDir(), c.collection+".json")
			r.Target.Format = recipes.FormatReferences
			if c.nitems {
				setNItems(t, &r, manifestPath)
			}
			if c.collection == "tiles" {
				r.Preprocess = &recipes.Preprocess{DropVars: []string{"depth"}}
				runRecipe(t, runner, r)
				beamtest.CompareWithXarrayPreprocessed(t, r.Target.URL, manifestPath, nil, map[string]any{"drop_vars": []string{"depth"}})
				return
			}
			runRecipe(t, runner, r)
			beamtest.CompareWithXarray(t, r.Target.URL, manifestPath, nil, nil)
		})
	}
}

// TestReferencesRefused: what a reference set cannot say is refused,
// naming the variable and the inputs.
func TestReferencesRefused(t *testing.T) {
	for _, c := range []struct{ collection, variable, input string }{
		{"nc4_tiled", "sst", "nc4_tiled_sst_0"}, // tiles that differ between files, and uneven files
		{"tiles", "depth", "tiles_t0_e"},        // concatenated along lon, one chunk per file, of uneven widths
	} {
		r, _ := collectionRecipe(t, c.collection)
		r.Target.URL = filepath.Join(t.TempDir(), "refs.json")
		r.Target.Format = recipes.FormatReferences
		err := beamtest.RunOn(t, "direct", func(t *testing.T, s beam.Scope) {
			if _, err := recipes.Build(s, r); err != nil {
				t.Fatal(err)
			}
		})
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("variable %q", c.variable)) || !strings.Contains(err.Error(), c.input) {
			t.Errorf("%s: irregular chunks: %v", c.collection, err)
		}
		if _, err := os.Stat(r.Target.URL); !os.IsNotExist(err) {
			t.Errorf("%s: a refused reference file was written: %v", c.collection, err)
		}
	}
	r, _ := collectionRecipe(t, "nc4_tiled")
	r.Target.URL = filepath.Join(t.TempDir(), "tiled.json")
	r.Target.Format = recipes.FormatReferences
	for what, edit := range map[string]func(*recipes.Recipe){
		"target.mode":   func(r *recipes.Recipe) { r.Target.Mode = "append" },
		"target.format": func(r *recipes.Recipe) { r.Target.Chunks = map[string]int64{"time": 2} },
		"target.url":    func(r *recipes.Recipe) { r.Target.URL = "/tmp/refs.zarr" },
		"preprocess.isel": func(r *recipes.Recipe) {
			stop := int64(3)
			r.Preprocess = &recipes.Preprocess{Isel: map[string]recipes.Slice{"lat": {Stop: &stop}}}
		},
	} {
		bad := r
		edit(&bad)
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), what) {
			t.Errorf("%s: %v", what, err)
		}
	}
}

// TestReferencesHTTP makes references to inputs served over HTTP, read
// through the cache: the set names them by their URLs. Rewritten to name the same files on disk (the
// Python here has no HTTP client for fsspec), xarray reads it as
// open_mfdataset of the inputs.
func TestReferencesHTTP(t *testing.T) {
	r, manifestPath := collectionRecipe(t, "nc4_daily")
	dir := filepath.Dir(manifestPath)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	r.Pattern.Template = srv.URL + "/" + filepath.Base(r.Pattern.Template)
	r.Target.URL = filepath.Join(t.TempDir(), "http.json")
	r.Target.Format = recipes.FormatReferences
	r.Cache = &recipes.Cache{URL: t.TempDir()} // read through the cache: the set still names the URLs
	runRecipe(t, "direct", r)
	b, err := os.ReadFile(r.Target.URL)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `["`+srv.URL+"/nc4_daily_00.nc") {
		t.Fatalf("the references do not name the inputs' URLs: %.300s", b)
	}
	local := filepath.Join(t.TempDir(), "local.json")
	if err := os.WriteFile(local, []byte(strings.ReplaceAll(string(b), srv.URL, dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	beamtest.CompareWithXarray(t, local, manifestPath, nil, nil)
}

// TestBuildManyInputs builds the pipeline of a recipe of a million inputs:
// the inputs are expanded on the workers, a thousand concat positions per
// element, so building allocates a few hundred bytes per input, not the
// inputs themselves several times over (it took 1.8 GB, 530 MB of RSS).
func TestBuildManyInputs(t *testing.T) {
	r, err := recipes.Parse([]byte(`pattern:
  template: "gs://bucket/data/file_{time}.nc"
  concat_dim: {name: time, range: {start: 0, stop: 1000000, step: 1, format: "%07d"}}
target: {url: "gs://bucket/out.zarr"}
`), "many.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, s := beam.NewPipelineWithRoot()
	if _, err := recipes.Build(s, r); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 800<<20 {
		t.Errorf("building a pipeline of 1,000,000 inputs allocated %d MB", n>>20)
	}
}

// TestExpandShards checks that the pipeline's inputs are the pattern's, all
// of them, once, when the concat dimension spans several shards.
func TestExpandShards(t *testing.T) {
	r, err := recipes.Parse([]byte(`pattern:
  template: "/data/{time}/{var}.nc"
  concat_dim: {name: time, range: {start: 0, stop: 2500, step: 1}}
  merge_dims: [{name: var, keys: [a, b]}]
target: {url: "/out.zarr"}
`), "shards.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := r.Pattern.Inputs()
	if err != nil {
		t.Fatal(err)
	}
	beamtest.Run(t, func(t *testing.T, s beam.Scope) {
		got := recipes.ExpandInputs(s, r.Pattern)
		passert.Equals(s, beam.ParDo(s, inputURL, got), beam.ParDo(s, inputURL, beam.CreateList(s, want)))
	})
}

func inputURL(in plan.Input) string { return in.URL }

func init() { register.Function1x1(inputURL) }

// TestAppendToXarrayStore appends to a store xarray wrote with its
// defaults (Blosc lz4 with byte shuffle; NaN fill values on float
// coordinates) and compares it with the store xarray makes appending the
// same inputs itself (to_zarr(mode="a", append_dim="time")): the same
// variables, values (decoded and raw), attributes and encodings. Global
// attributes stay the first input's, as open_mfdataset of all the inputs
// has them (xarray's own append replaces them with the appended files').
func TestAppendToXarrayStore(t *testing.T) {
	py := beamtest.RequirePython(t, "xarray", "zarr", "numcodecs")
	dir := t.TempDir()
	day := func(i int) string { return beamtest.Testdata("collections", "daily", fmt.Sprintf("daily_%02d.nc", i)) }
	ours, theirs := filepath.Join(dir, "ours.zarr"), filepath.Join(dir, "theirs.zarr")
	script := `
import sys, xarray as xr
first, rest = sys.argv[3:6], sys.argv[6:9]
for store in sys.argv[1:3]:
    xr.open_mfdataset(first, combine="nested", concat_dim="time").to_zarr(store, consolidated=True)
xr.open_mfdataset(rest, combine="nested", concat_dim="time").to_zarr(sys.argv[2], mode="a", append_dim="time", consolidated=True)
`
	args := []string{"-c", script, ours, theirs}
	for i := range 6 {
		args = append(args, day(i))
	}
	if out, err := exec.Command(py, args...).CombinedOutput(); err != nil {
		t.Fatalf("xarray: %v\n%s", err, out)
	}
	r, _ := collectionRecipe(t, "daily")
	r.Pattern.ConcatDim.Keys = []string{"03", "04", "05"}
	r.Target.URL, r.Target.Mode = ours, "append"
	if err := beamtest.RunOn(t, "direct", func(t *testing.T, s beam.Scope) {
		if _, err := recipes.Build(s, r); err != nil {
			t.Fatal(err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	compare := `
import sys, xarray as xr
a, b = xr.open_zarr(sys.argv[1]).load(), xr.open_zarr(sys.argv[2]).load()
bad = [v for v in b.variables if v not in a.variables or not a[v].identical(b[v])]
if not xr.Dataset(attrs=a.attrs).identical(xr.Dataset(attrs=xr.open_dataset(sys.argv[3]).attrs)):
    bad.append("global attributes: %r" % a.attrs)
ra = xr.open_zarr(sys.argv[1], mask_and_scale=False, decode_times=False).load()
rb = xr.open_zarr(sys.argv[2], mask_and_scale=False, decode_times=False).load()
bad += [v for v in rb.variables if v not in ra.variables or not ra[v].equals(rb[v])]
for v in b.variables:
    for k in ("_FillValue", "dtype", "units", "calendar", "scale_factor", "add_offset"):
        if a[v].encoding.get(k) != b[v].encoding.get(k) and not (str(a[v].encoding.get(k)) == str(b[v].encoding.get(k))):
            bad.append("%s encoding %s: %r vs %r" % (v, k, a[v].encoding.get(k), b[v].encoding.get(k)))
print("; ".join(bad))
`
	out, err := exec.Command(py, "-c", compare, ours, theirs, day(0)).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("our append differs from xarray's: %v\n%s", err, out)
	}
}

// TestHTTPAuth reads inputs from a flaky server that demands Basic auth, a
// header and a query token, each from an environment variable: the store
// equals open_mfdataset of the inputs, and no secret is in any file or file
// name of the store or the cache, nor in the error of a run refused for a
// wrong password, which fails at once naming the URL.
func TestHTTPAuth(t *testing.T) {
	secrets := map[string]string{"ZF_USER": "alice-user", "ZF_PASS": "pass-s3cret", "ZF_KEY": "key-s3cret", "ZF_TOKEN": "token-s3cret"}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	r, manifestPath := collectionRecipe(t, "daily")
	dir := filepath.Dir(manifestPath)
	var mu sync.Mutex
	requests, denied := 0, 0
	files := http.FileServer(http.Dir(dir))
	handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		requests++
		n := requests
		mu.Unlock()
		user, pass, ok := req.BasicAuth()
		if !ok || user != secrets["ZF_USER"] || pass != secrets["ZF_PASS"] || req.Header.Get("X-Api-Key") != secrets["ZF_KEY"] ||
			req.URL.Query().Get("token") != secrets["ZF_TOKEN"] {
			mu.Lock()
			denied++
			mu.Unlock()
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		if n%4 == 0 { // flaky
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		files.ServeHTTP(w, req)
	})
	srv := httptest.NewServer(handler)
	defer srv.Close()
	r.Pattern.Template = srv.URL + "/" + filepath.Base(r.Pattern.Template)
	r.Pattern.HTTP = &recipes.HTTP{Attempts: 6, BasicAuth: &recipes.BasicAuth{UsernameEnv: "ZF_USER", PasswordEnv: "ZF_PASS"},
		HeadersEnv: map[string]string{"X-Api-Key": "ZF_KEY"}, QuerySecretsEnv: map[string]string{"token": "ZF_TOKEN"}}
	cache := t.TempDir()
	r.Cache = &recipes.Cache{URL: cache}
	runRecipe(t, "direct", r)
	beamtest.CompareWithXarray(t, r.Target.URL, manifestPath, nil, nil)
	if denied > 0 {
		t.Errorf("%d requests were denied", denied)
	}
	for _, root := range []string{r.Target.URL, cache} {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			b := []byte(p)
			if !d.IsDir() {
				b, _ = os.ReadFile(p)
				b = append(b, p...)
			}
			for k, v := range secrets {
				if k != "ZF_USER" && bytes.Contains(b, []byte(v)) {
					t.Errorf("%s holds the secret of %s", p, k)
				}
			}
			return nil
		})
	}

	t.Setenv("ZF_PASS", "wrong")
	denied = 0
	srv2 := httptest.NewServer(handler) // a server this process has read nothing from
	defer srv2.Close()
	r.Pattern.Template = srv2.URL + "/" + filepath.Base(r.Pattern.Template)
	r.Cache = nil
	r.Target.URL = filepath.Join(t.TempDir(), "denied.zarr")
	err := beamtest.RunOn(t, "direct", func(t *testing.T, s beam.Scope) {
		if _, err := recipes.Build(s, r); err != nil {
			t.Fatal(err)
		}
	})
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), srv2.URL+"/daily_") || denied > 8 {
		t.Fatalf("a wrong password: %v (%d requests denied: each input once, no retries)", err, denied)
	}
	for k, v := range secrets {
		if strings.Contains(err.Error(), v) {
			t.Errorf("the error holds the secret of %s: %v", k, err)
		}
	}
}

// TestProvenance: a store's root attributes name the zarrforge version and
// digests of the recipe and of the inputs; running the recipe again writes
// the same bytes.
func TestProvenance(t *testing.T) {
	r, _ := collectionRecipe(t, "daily")
	r.Target.Mode = "overwrite"
	var docs [2][]byte
	for i := range docs {
		runRecipe(t, "direct", r)
		var err error
		if docs[i], err = os.ReadFile(filepath.Join(r.Target.URL, ".zattrs")); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(docs[0], docs[1]) {
		t.Errorf("a re-run wrote other root attributes:\n%s\n%s", docs[0], docs[1])
	}
	var attrs map[string]any
	if err := json.Unmarshal(docs[0], &attrs); err != nil {
		t.Fatal(err)
	}
	in, _ := r.Pattern.Inputs()
	h := sha256.New()
	for _, x := range in {
		h.Write([]byte(x.Source + "\n"))
	}
	if attrs["zarrforge_version"] != zarrforge.Version || attrs["zarrforge_recipe_sha256"] != r.Hash() ||
		attrs["zarrforge_inputs_sha256"] != hex.EncodeToString(h.Sum(nil)) || attrs["title"] != "zarrforge fixture" {
		t.Errorf("root attributes %v", attrs)
	}
	other := r
	other.Target.Chunks = map[string]int64{"time": 2}
	if other.Hash() == r.Hash() {
		t.Error("two recipes hash the same")
	}
}

// TestChunkBytes: target.chunk_bytes picks the chunk size along the concat
// dimension so the largest chunk (ice and count in chunks of 4 x 10 along
// lat and lon: 160 bytes a step) comes nearest to it without going over:
// 6 steps in 1 KiB.
func TestChunkBytes(t *testing.T) {
	r, manifestPath := collectionRecipe(t, "daily")
	r.Target.ChunkBytes = "1KiB"
	r.Target.Chunks = map[string]int64{"lat": 4}
	runRecipe(t, "direct", r)
	beamtest.CompareWithXarray(t, r.Target.URL, manifestPath, nil, map[string][]int64{"sst": {6, 4, 10}, "ice": {6, 4, 10}})
	r.Target.Chunks = map[string]int64{"time": 2}
	if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "target.chunk_bytes") {
		t.Errorf("chunks along time and chunk_bytes: %v", err)
	}
}

// TestNewDimFromRange: a new concat dimension whose keys are a range has
// their numbers as its coordinate (as ds.expand_dims(member=[1]) would),
// and its files are named by them formatted.
func TestNewDimFromRange(t *testing.T) {
	r, manifestPath := collectionRecipe(t, "ensemble")
	dir := filepath.Dir(manifestPath)
	r.Pattern.Template = filepath.Join(dir, "ensemble_r{member}i1p1_{time}.nc")
	r.Pattern.ConcatDims[1] = recipes.ConcatDim{Name: "member", Range: &recipes.IntRange{Start: 1, Stop: ptrTo(int64(4))}}
	r.Target.Chunks = map[string]int64{"time": 2, "member": 1}
	runRecipe(t, "prism", r)

	// The oracle's manifest, with the members' coordinate as numbers.
	var m map[string]any
	b, _ := os.ReadFile(manifestPath)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["concat_dims"].([]any)[1].(map[string]any)["coord"] = []int{1, 2, 3}
	files := m["files"].([]any)
	for i, row := range files {
		for j, f := range row.([]any) {
			files[i].([]any)[j] = filepath.Join(dir, f.(string))
		}
	}
	numbered := filepath.Join(t.TempDir(), "collection.json")
	b, _ = json.Marshal(m)
	if err := os.WriteFile(numbered, b, 0o644); err != nil {
		t.Fatal(err)
	}
	beamtest.CompareWithXarray(t, r.Target.URL, numbered, files, map[string][]int64{"sst": {1, 2, 4, 5}})
}

func ptrTo[T any](v T) *T { return &v }

// TestGroups converts one netCDF-4 group of grouped files (pattern.group)
// as xarray.open_dataset(group=...) reads it, for groups at two depths,
// one of whose dimensions its ancestors define; the root, whose groups
// hold data, and a group that is not there are refused.
func TestGroups(t *testing.T) {
	for _, group := range []string{"sweep_1", "sweep_1/extra"} {
		t.Run(group, func(t *testing.T) {
			r, manifestPath := collectionRecipe(t, "grouped")
			r.Pattern.Group = group
			r.Target.Chunks = map[string]int64{"time": 4}
			runRecipe(t, "prism", r)
			var m map[string]any
			b, _ := os.ReadFile(manifestPath)
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			m["open_kwargs"] = map[string]any{"group": group}
			files := m["files"].([]any)
			for i, f := range files {
				files[i] = filepath.Join(filepath.Dir(manifestPath), f.(string))
			}
			other := filepath.Join(t.TempDir(), "collection.json")
			b, _ = json.Marshal(m)
			if err := os.WriteFile(other, b, 0o644); err != nil {
				t.Fatal(err)
			}
			beamtest.CompareWithXarray(t, r.Target.URL, other, files, nil)
		})
	}
	for group, want := range map[string]string{
		"":        `or every group as nested Zarr groups (pattern.groups: all)`,
		"sweep_9": `no group "sweep_9" (groups there: meta, sweep_0, sweep_1)`,
	} {
		r, _ := collectionRecipe(t, "grouped")
		r.Pattern.Group = group
		if err := r.Check(context.Background()); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("group %q: Check = %v, want %q", group, err, want)
		}
	}
}

// TestReferencesUnwritten (issue 29, items 2 and 12): a reference set of
// inputs with chunks never written (with and without a _FillValue, through
// zlib, shuffle and fletcher32) and a contiguous variable with no storage
// allocated reads, through fsspec and xarray, what xarray reads from the
// inputs through netCDF4-python: the fill there — not uninitialised
// memory, a KeyError or a crash. Each unwritten chunk is inlined as the
// fill encoded through the input's filters.
func TestReferencesUnwritten(t *testing.T) {
	r, manifestPath := collectionRecipe(t, "rw_unwritten")
	r.Target.URL = filepath.Join(t.TempDir(), "refs.json")
	r.Target.Format = recipes.FormatReferences
	runRecipe(t, "direct", r)
	beamtest.CompareWithXarray(t, r.Target.URL, manifestPath, nil, nil)
}

// TestAppendAfterOtherTools (issue 29, items 1 and 4), with xarray as the
// other tool. A zarrforge append that failed part-way (a damaged input),
// then xarray's own append of the same days, then a zarrforge append of as
// many new days: refused, naming both ranges as dates, and xarray's days
// are still there (lengths alone took it for a retry and rewrote them).
// And xarray's append that died between resizing the arrays and
// consolidating (to_zarr with consolidated=False leaves them so): refused,
// saying the arrays are ahead.
func TestAppendAfterOtherTools(t *testing.T) {
	py := beamtest.RequirePython(t, "xarray", "zarr", "netCDF4", "h5py")
	dir := t.TempDir()
	var days []string
	for i := range 7 {
		b, err := os.ReadFile(beamtest.Testdata("collections", "nc4_daily", fmt.Sprintf("nc4_daily_%02d.nc", i)))
		if err != nil {
			t.Fatal(err)
		}
		days = append(days, filepath.Join(dir, fmt.Sprintf("day_%d.nc", i)))
		if err := os.WriteFile(days[i], b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(store, mode string, inputs ...string) error {
		r, _ := collectionRecipe(t, "nc4_daily")
		r.Pattern.Template, r.Pattern.ConcatDim.Keys = "{time}", inputs
		r.Target.URL, r.Target.Mode = store, mode
		return beamtest.RunOn(t, "direct", func(t *testing.T, s beam.Scope) {
			if _, err := recipes.Build(s, r); err != nil {
				t.Fatal(err)
			}
		})
	}
	xarray := func(script string, args ...string) {
		t.Helper()
		if out, err := exec.Command(py, append([]string{"-c", script}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("xarray: %v\n%s", err, out)
		}
	}
	times := `
import sys, xarray as xr
print([str(t)[:10] for t in xr.open_zarr(sys.argv[1], consolidated=False).time.values])`

	// Day 4 with its sst chunks damaged: its header and coordinates read,
	// so the append fails in the chunk stage, after it took the store.
	damaged := filepath.Join(dir, "damaged_4.nc")
	xarray(`
import shutil, sys, h5py
shutil.copy(sys.argv[1], sys.argv[2])
with h5py.File(sys.argv[2], "r") as f:
    d = f["sst"].id
    spots = [d.get_chunk_info(i).byte_offset + 4 for i in range(d.get_num_chunks())]
with open(sys.argv[2], "r+b") as f:
    for at in spots:
        f.seek(at); b = f.read(1); f.seek(at); f.write(bytes([b[0] ^ 0x5a]))`, days[4], damaged)
	store := filepath.Join(dir, "a.zarr")
	if err := run(store, "create", days[0], days[1], days[2]); err != nil {
		t.Fatal(err)
	}
	if err := run(store, "append", days[3], damaged); err == nil {
		t.Fatal("an append of a damaged input succeeded")
	}
	// That run's process is this test's, which lives on: its marker is
	// made to say it was last heard from long ago, as a dead run's does.
	var m map[string]any
	b, _ := os.ReadFile(filepath.Join(store, ".zarrforge.json"))
	if err := json.Unmarshal(b, &m); err != nil || m["state"] != "appending" {
		t.Fatalf("the failed append's marker: %s (%v)", b, err)
	}
	m["beat"], m["pid"] = "2000-01-01T00:00:00Z", 0
	b, _ = json.Marshal(m)
	if err := os.WriteFile(filepath.Join(store, ".zarrforge.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	xarray(`
import sys, xarray as xr
xr.open_mfdataset(sys.argv[2:], combine="nested", concat_dim="time").to_zarr(sys.argv[1], mode="a", append_dim="time", consolidated=True)`,
		store, days[3], days[4])
	before, _ := exec.Command(py, "-c", times, store).CombinedOutput()
	err := run(store, "append", days[5], days[6])
	if err == nil || !strings.Contains(err.Error(), "beyond them the store now holds 2000-01-04 to 2000-01-05, 2 steps, but this run writes 2000-01-06 to 2000-01-07, 2 steps") {
		t.Errorf("an append after xarray's: %v", err)
	}
	if after, _ := exec.Command(py, "-c", times, store).CombinedOutput(); string(after) != string(before) {
		t.Errorf("the store's days changed: %s, then %s", before, after)
	}

	died := filepath.Join(dir, "b.zarr")
	xarray(`
import sys, xarray as xr
xr.open_mfdataset(sys.argv[2:5], combine="nested", concat_dim="time").to_zarr(sys.argv[1], consolidated=True)
xr.open_mfdataset(sys.argv[5:], combine="nested", concat_dim="time").to_zarr(sys.argv[1], mode="a", append_dim="time", consolidated=False)`,
		died, days[0], days[1], days[2], days[3], days[4])
	err = run(died, "append", days[5])
	if err == nil || !strings.Contains(err.Error(), "5 steps along time in its own metadata, 3 in the consolidated metadata (its own metadata is ahead)") {
		t.Errorf("an append after xarray's died before consolidating: %v", err)
	}
}
