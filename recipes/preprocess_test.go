package recipes_test

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"go.yaml.in/yaml/v3"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/recipes"
)

// TestPreprocess converts collections with a preprocess section, on both
// runners, and asks xarray whether each store equals
// open_mfdataset(inputs, preprocess=...) making the same calls: netCDF-3
// and netCDF-4 inputs, every op alone and together, strided selections of
// tiled inputs in a merge collection.
func TestPreprocess(t *testing.T) {
	for _, c := range []struct {
		name, collection string
		chunks           map[string]int64
		preprocess       string
	}{
		{"netCDF-3: drop, strided isel, attrs, global attrs", "daily", map[string]int64{"time": 3, "lat": 2},
			`{drop_vars: [flag], isel: {lat: {start: 1, stop: 6, step: 2}, lon: {start: 2}},
			  attrs: {sst: {long_name: "Sea surface temperature", comment: null}, count: {valid_max: 100, valid_range: [0.5, 99.5]}},
			  global_attrs: {title: "a subset", institution: null, answer: 42}}`},
		{"netCDF-4: keep and rename", "nc4_daily", map[string]int64{"time": 3, "longitude": 4},
			`{keep_vars: [sst], rename: {sst: analysed_sst, lon: longitude}, attrs: {analysed_sst: {units: "degC"}}}`},
		{"netCDF-4 tiles, merge: strided isel and rename", "nc4_tiled", map[string]int64{"time": 4, "lat": 2, "lon": 3},
			`{isel: {lat: {start: 1, stop: 8, step: 3}, lon: {step: 2}}, rename: {ice: sea_ice}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			var pre recipes.Preprocess
			if err := yaml.Unmarshal([]byte(c.preprocess), &pre); err != nil {
				t.Fatal(err)
			}
			var spec map[string]any // the same section, for the oracle
			if err := yaml.Unmarshal([]byte(c.preprocess), &spec); err != nil {
				t.Fatal(err)
			}
			beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
				r, manifestPath := collectionRecipe(t, c.collection)
				r.Target.Chunks = c.chunks
				r.Preprocess = &pre
				if err := r.Check(context.Background()); err != nil {
					t.Fatal(err)
				}
				runRecipe(t, runner, r)
				beamtest.CompareWithXarrayPreprocessed(t, r.Target.URL, manifestPath, nil, spec)
			})
		})
	}
}

// TestPreprocessRefused: mistakes in a preprocess section are refused
// before anything runs, naming the key.
func TestPreprocessRefused(t *testing.T) {
	for _, c := range []struct{ preprocess, want string }{
		{`{drop_vars: [flag], keep_vars: [sst]}`, "drop_vars and keep_vars together"},
		{`{isel: {time: {start: 1}}}`, "preprocess.isel.time: time is a dimension inputs are concatenated along"},
		{`{isel: {lat: {start: 3, stop: 2}}}`, "preprocess.isel.lat: stop 2 must be after start 3"},
		{`{isel: {lat: {step: 0}}}`, "preprocess.isel.lat: step must be >= 1"},
		{`{isel: {lat: {start: 0, stop: 8}}}`, `preprocess.isel.lat: the slice 0:8 is past the end of dimension "lat" (size 7)`},
		{`{isel: {depth: {start: 0}}}`, `preprocess.isel.depth: no input has a dimension "depth"`},
		{`{rename: {time: t}}`, "preprocess.rename.time: time is a dimension inputs are concatenated along"},
		{`{rename: {sst: a, ice: a}}`, "both renamed to a"},
		{`{rename: {salinity: s}}`, `preprocess.rename.salinity: no input has a variable or dimension "salinity"`},
		{`{drop_vars: [salinity]}`, `preprocess.drop_vars: no input has a variable "salinity"`},
		{`{attrs: {sst: {scale_factor: 2}}}`, "preprocess.attrs.sst.scale_factor: scale_factor says how the stored values decode"},
		{`{attrs: {sst: {flags: {a: 1}}}}`, "preprocess.attrs.sst.flags: "},
		// Relabelling times would shift the dates (issue 29, item 7).
		{`{attrs: {time: {units: "days since 1990-01-01"}}}`, `preprocess.attrs.time.units: "time" holds CF times (units "days since 2000-01-01")`},
		{`{attrs: {time: {calendar: noleap}}}`, `preprocess.attrs.time.calendar: "time" holds CF times`},
		{`{attrs: {time: {units: null}}}`, `preprocess.attrs.time.units: "time" holds CF times`},
		{`{attrs: {sst: {units: "hours since 2000-01-01"}}}`, `preprocess.attrs.sst.units: "hours since 2000-01-01" would make "sst"'s stored numbers CF times`},
		// A rename onto a name the inputs have (issue 29, item 17: it was
		// refused as "inputs disagree" about a dimension's size).
		{`{rename: {lon: lat}}`, `preprocess.rename.lon: the inputs already have a variable or dimension "lat"`},
		{`{rename: {sst: ice}}`, `preprocess.rename.sst: the inputs already have a variable or dimension "ice"`},
		{`{rename: {sst: zarr.json}}`, `variable "zarr.json" cannot be stored: zarr: name "zarr.json" is the key of the root group's Zarr v3 metadata`},
		{`{attrs: {nope: {units: K}}}`, `preprocess.attrs.nope: no variable "nope"`},
		{`{isel: {lat: {start: 1.5}}}`, "preprocess.isel.lat.start: line 5: 1.5 is not a whole number"},
		{`{selct: {}}`, `unknown key "selct" in preprocess`},
	} {
		r, _ := collectionRecipe(t, "daily")
		text := "pattern:\n  template: " + r.Pattern.Template + "\n  concat_dim: {name: time, keys: [\"00\", \"01\"]}\n" +
			"target: {url: " + r.Target.URL + "}\npreprocess: " + c.preprocess + "\n"
		parsed, err := recipes.Parse([]byte(text), "p.yaml")
		if err == nil {
			err = parsed.Check(context.Background())
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error saying %q", c.preprocess, err, c.want)
		}
	}
}

// TestUnstorableDropped: a collection whose variable the schema refuses
// (anom's scale_factor changes between files) converts once a preprocess
// drops it, and equals xarray making the same drop.
func TestUnstorableDropped(t *testing.T) {
	r, manifestPath := collectionRecipe(t, "nc4_unstorable")
	err := beamtest.RunOn(t, "direct", func(t *testing.T, s beam.Scope) {
		if _, err := recipes.Build(s, r); err != nil {
			t.Fatal(err)
		}
	})
	if err == nil || !strings.Contains(err.Error(), "scale_factor") {
		t.Fatalf("converting it as it is: %v, want a refusal naming scale_factor", err)
	}
	r, _ = collectionRecipe(t, "nc4_unstorable")
	r.Preprocess = &recipes.Preprocess{DropVars: []string{"anom"}}
	err = beamtest.RunOn(t, "direct", func(t *testing.T, s beam.Scope) {
		if _, err := recipes.Build(s, r); err != nil {
			t.Fatal(err)
		}
	})
	if err != nil {
		t.Fatalf("with anom dropped: %v", err)
	}
	beamtest.CompareWithXarrayPreprocessed(t, r.Target.URL, manifestPath, nil, map[string]any{"drop_vars": []string{"anom"}})
}
