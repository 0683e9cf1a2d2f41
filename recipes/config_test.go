package recipes

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zarrforge/zarrforge/transforms"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		file string
		want Recipe
	}{
		{"oisst.yaml", Recipe{
			Pattern: Pattern{
				Template:  "file:///data/{variable}/oisst.{time}.nc",
				ConcatDim: ConcatDim{Name: "time", Keys: []string{"19810901", "19810902"}, NItemsPerFile: 1},
				MergeDims: []MergeDim{{Name: "variable", Keys: []string{"sst", "ice"}}},
				FileType:  "auto",
			},
			Target: Target{URL: "file:///out/oisst.zarr", Chunks: map[string]int64{"time": 30}, Compressor: "zstd", Mode: "create"},
			Cache:  &Cache{URL: "file:///cache"},
		}},
		{"dates.yaml", Recipe{
			Pattern: Pattern{
				Template: "/data/avhrr/oisst-avhrr-v02r01.{time}.nc",
				ConcatDim: ConcatDim{Name: "time",
					Dates: &DateRange{Start: "1981-09-01", End: "1981-09-30", Step: "1d", Layout: "20060102"}},
				FileType: "auto",
			},
			Target: Target{URL: "/out/oisst-sep.zarr", Chunks: map[string]int64{"time": 10, "lat": 360, "lon": 720},
				Compressor: "zstd", Mode: "create"},
		}},
		{"range.yaml", Recipe{
			Pattern: Pattern{
				Template:  "gs://bucket/ens/member{member}/{var}.nc",
				ConcatDim: ConcatDim{Name: "member", Range: &IntRange{Stop: ptr(int64(10)), Format: "%03d"}, NItemsPerFile: 1},
				MergeDims: []MergeDim{{Name: "var", Keys: []string{"tas", "pr"}}},
				FileType:  "netcdf4",
			},
			Target: Target{URL: "gs://bucket/out/ens.zarr", Compressor: "zlib:6", Mode: "overwrite"},
		}},
		{"ensemble.yaml", Recipe{
			Pattern: Pattern{
				Template: "gs://bucket/cmip/{member}/tas_{time:%Y%m}.nc",
				ConcatDims: []ConcatDim{
					{Name: "time", Dates: &DateRange{Start: "2000-01-01", End: "2000-12-01", Step: "1mo"}, NItemsPerFile: 1},
					{Name: "member", Keys: []string{"r1i1p1f1", "r2i1p1f1", "r3i1p1f1"}, New: true},
				},
				FileType: "auto",
			},
			Target: Target{URL: "gs://bucket/out/ens.zarr", Chunks: map[string]int64{"time": 12, "member": 1}, Compressor: "zstd", Mode: "create"},
		}},
	}
	for _, tt := range tests {
		path := filepath.Join("testdata", tt.file)
		got, err := Load(path)
		if err != nil {
			t.Errorf("Load(%s): %v", path, err)
			continue
		}
		tt.want.Source = path
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Load(%s) =\n%+v\nwant\n%+v", path, got, tt.want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct{ path, want string }{
		{"testdata/typo.yaml", `recipe testdata/typo.yaml: line 8: unknown key "chunk" in target (known: url, chunks, compressor, mode, max_mem, zarr_format, shards, chunk_bytes, format)`},
		{"testdata/missing.yaml", "recipe testdata/missing.yaml: open testdata/missing.yaml: no such file or directory"},
	}
	for _, tt := range tests {
		_, err := Load(tt.path)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Load(%s): got error\n%v\nwant\n%s", tt.path, err, tt.want)
		}
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, make([]byte, maxRecipeSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "not a recipe file") {
		t.Errorf("Load of an oversized file: got error %v", err)
	}
}

// good is a valid recipe that the error cases below break one field at a
// time.
const good = `
pattern:
  template: "file:///data/{variable}/oisst.{time}.nc"
  concat_dim:
    name: time
    keys: ["19810901", "19810902"]
  merge_dims:
    - name: variable
      keys: [sst, ice]
target:
  url: file:///out/oisst.zarr
  chunks: {time: 30}
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"empty", "", "recipe r.yaml: empty recipe"},
		{"comments only", "# nothing\n", "recipe r.yaml: empty recipe"},
		{"two documents", good + "---\n" + good, "recipe r.yaml: more than one YAML document; a recipe is one document"},
		{"syntax", "pattern: [\n", "recipe r.yaml: line 1: did not find expected node content"},
		{"not a mapping", "- a\n- b\n", "recipe r.yaml: line 1: cannot unmarshal !!seq into recipes.Recipe"},
		{"unknown top-level key", good + "targets: {}\n",
			`recipe r.yaml: line 13: unknown key "targets" in the recipe (known: pattern, target, cache, preprocess)`},
		{"unknown pattern key", strings.Replace(good, "  template:", "  tmplate:", 1),
			`recipe r.yaml: line 3: unknown key "tmplate" in pattern (known: template, concat_dim, concat_dims, merge_dims, file_type, grib, http, s3, group, groups)`},
		{"unknown concat_dim key", strings.Replace(good, "    name: time", "    name: time\n    nitems: 1", 1),
			`recipe r.yaml: line 6: unknown key "nitems" in pattern.concat_dim (known: name, keys, dates, range, nitems_per_file, new)`},
		{"nitems_per_file in a merge dim", strings.Replace(good, "      keys: [sst, ice]", "      keys: [sst, ice]\n      nitems_per_file: 1", 1),
			`recipe r.yaml: line 10: unknown key "nitems_per_file" in pattern.merge_dims (known: name, keys, dates, range)`},
		{"unknown dates key", strings.Replace(good, `keys: ["19810901", "19810902"]`, `dates: {start: "1981-09-01", stop: "1981-09-02"}`, 1),
			`recipe r.yaml: line 6: unknown key "stop" in dates (known: start, end, step, layout)`},
		{"unknown cache key", good + "cache: {path: /x}\n",
			`recipe r.yaml: line 13: unknown key "path" in cache (known: url)`},
		{"wrong type", strings.Replace(good, "{time: 30}", "{time: thirty}", 1),
			"recipe r.yaml: line 12: cannot unmarshal !!str `thirty` into int64"},
		{"repeated key", good + "target: {}\n", `recipe r.yaml: line 13: mapping key "target" already defined at line 10`},

		{"template missing", strings.Replace(good, `  template: "file:///data/{variable}/oisst.{time}.nc"`+"\n", "", 1),
			"recipe r.yaml: pattern.template: missing; give the input URL with a {placeholder} per dimension"},
		{"placeholder typo", strings.Replace(good, "{time}", "{tme}", 1),
			"recipe r.yaml: pattern.template: placeholder {tme} is not a declared dimension (declared: time, variable)"},
		{"dimension not in template", strings.Replace(good, "{variable}/", "", 1),
			`recipe r.yaml: pattern.template: dimension "variable" (pattern.merge_dims[0]) does not appear as {variable}`},
		{"unclosed brace", strings.Replace(good, "{time}", "{time", 1),
			`recipe r.yaml: pattern.template: "file:///data/{variable}/oisst.{time.nc": { without }`},
		{"nested brace", strings.Replace(good, "{time}", "{ti{me}", 1),
			`recipe r.yaml: pattern.template: "file:///data/{variable}/oisst.{ti{me}.nc": { without }`},
		{"stray closing brace", strings.Replace(good, "oisst.", "oisst}.", 1),
			`recipe r.yaml: pattern.template: "file:///data/{variable}/oisst}.{time}.nc": } without {`},
		{"concat_dim missing", strings.Replace(good, "  concat_dim:\n    name: time\n    keys: [\"19810901\", \"19810902\"]\n", "", 1),
			"recipe r.yaml: pattern.concat_dim.name: missing"},
		{"concat name missing", strings.Replace(good, "    name: time\n", "", 1),
			"recipe r.yaml: pattern.concat_dim.name: missing"},
		{"concat keys missing", strings.Replace(good, `    keys: ["19810901", "19810902"]`+"\n", "", 1),
			"recipe r.yaml: pattern.concat_dim.keys: missing; give keys, dates or range"},
		{"concat keys empty", strings.Replace(good, `["19810901", "19810902"]`, "[]", 1),
			"recipe r.yaml: pattern.concat_dim.keys: empty"},
		{"duplicate key", strings.Replace(good, `["19810901", "19810902"]`, `["19810901", "19810902", "19810901"]`, 1),
			`recipe r.yaml: pattern.concat_dim.keys[2]: duplicate key "19810901" (also keys[0])`},
		{"keys and dates", strings.Replace(good, "    name: time\n", "    name: time\n    range: {stop: 3}\n", 1),
			"recipe r.yaml: pattern.concat_dim: give only one of keys, dates and range"},
		{"nitems_per_file zero", strings.Replace(good, "    name: time\n", "    name: time\n    nitems_per_file: 0\n", 1),
			"recipe r.yaml: pattern.concat_dim.nitems_per_file: must be >= 1 when given, got 0"},
		{"nitems_per_file negative", strings.Replace(good, "    name: time\n", "    name: time\n    nitems_per_file: -2\n", 1),
			"recipe r.yaml: pattern.concat_dim.nitems_per_file: must be >= 1 when given, got -2"},
		{"merge name missing", strings.Replace(good, "    - name: variable\n      keys", "    - keys", 1),
			"recipe r.yaml: pattern.merge_dims[0].name: missing"},
		{"merge keys missing", strings.Replace(good, "      keys: [sst, ice]\n", "", 1),
			"recipe r.yaml: pattern.merge_dims[0].keys: missing; give keys, dates or range"},
		{"duplicate dimension", strings.Replace(good, "    - name: variable", "    - name: time", 1),
			`recipe r.yaml: pattern.merge_dims[0].name: dimension "time" is already declared by pattern.concat_dim`},
		{"duplicate merge dimension", strings.Replace(good, "      keys: [sst, ice]\n", "      keys: [sst, ice]\n    - name: variable\n      keys: [a]\n", 1),
			`recipe r.yaml: pattern.merge_dims[1].name: dimension "variable" is already declared by pattern.merge_dims[0]`},
		{"brace in name", strings.Replace(good, "    - name: variable", "    - name: \"var}\"", 1),
			`recipe r.yaml: pattern.merge_dims[0].name: "var}": a dimension name cannot contain { or }`},
		{"file_type", strings.Replace(good, "  merge_dims:", "  file_type: hdf5\n  merge_dims:", 1),
			`recipe r.yaml: pattern.file_type: unknown file type "hdf5" (want auto, grib2, netcdf3, netcdf4, references, zarr)`},
		{"filter key", strings.Replace(good, "  merge_dims:", "  grib: {filter_by_keys: {typeOfLevle: surface}}\n  merge_dims:", 1),
			`recipe r.yaml: pattern.grib.filter_by_keys: filter key "typeOfLevle": GRIB2 inputs are filtered by centre, cfVarName, dataType, discipline, edition, gridType, level, number, numberOfPoints, paramId, parameterCategory, parameterNumber, productDefinitionTemplateNumber, shortName, step, stepType, stepUnits, typeOfLevel: unsupported feature`},
		{"target url missing", strings.Replace(good, "  url: file:///out/oisst.zarr\n", "", 1),
			"recipe r.yaml: target.url: missing; say where the Zarr store goes"},
		{"chunk zero", strings.Replace(good, "{time: 30}", "{time: 0}", 1),
			"recipe r.yaml: target.chunks.time: chunk size must be >= 1, got 0"},
		{"chunk negative", strings.Replace(good, "{time: 30}", "{time: 30, lat: -5}", 1),
			"recipe r.yaml: target.chunks.lat: chunk size must be >= 1, got -5"},
		{"chunk empty name", strings.Replace(good, "{time: 30}", `{"": 30}`, 1),
			"recipe r.yaml: target.chunks: empty dimension name"},
		{"compressor", good + "  compressor: lz4\n",
			`recipe r.yaml: target.compressor: unknown compressor "lz4" (want zstd, zlib, gzip, blosc or none, optionally with a level as in zstd:5)`},
		{"compressor level", good + "  compressor: zstd:23\n",
			`recipe r.yaml: target.compressor: "zstd:23": zarr: zstd level 23 is not in 1..22`},
		{"compressor level text", good + "  compressor: gzip:high\n",
			`recipe r.yaml: target.compressor: "gzip:high": the level must be a whole number >= 1`},
		{"none with level", good + "  compressor: none:1\n",
			`recipe r.yaml: target.compressor: "none:1": none takes no level`},
		{"mode", good + "  mode: replace\n",
			`recipe r.yaml: target.mode: unknown mode "replace" (want create, overwrite, append)`},
		{"empty cache", good + "cache: {url: \"\"}\n",
			"recipe r.yaml: cache.url: missing; give a directory, or remove the cache section to read inputs where they are"},
	}
	for _, tt := range tests {
		r, err := Parse([]byte(tt.yaml), "r.yaml")
		if err == nil {
			t.Errorf("%s: got %+v, want error %q", tt.name, r, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("%s: got error\n%s\nwant\n%s", tt.name, err, tt.want)
		}
	}
}

func TestParseDefaultsAndForms(t *testing.T) {
	tests := []struct {
		name, yaml string
		check      func(Recipe) bool
	}{
		{"defaults", good, func(r Recipe) bool {
			return r.Pattern.FileType == "auto" && r.Target.Compressor == "zstd" && r.Target.Mode == "create" && r.Cache == nil
		}},
		{"null cache", good + "cache:\n", func(r Recipe) bool { return r.Cache == nil }},
		{"unquoted numeric keys stay text", strings.Replace(good, `["19810901", "19810902"]`, "[19810901, 019810902, 1.50]", 1),
			func(r Recipe) bool {
				return reflect.DeepEqual(r.Pattern.ConcatDim.Keys, []string{"19810901", "019810902", "1.50"})
			}},
		{"append mode", good + "  mode: append\n", func(r Recipe) bool { return r.Target.Mode == ModeAppend }},
		{"filter_by_keys numbers as written", strings.Replace(good, "  merge_dims:", "  grib: {filter_by_keys: {level: 500, typeOfLevel: isobaricInhPa, step: 1.50}}\n  merge_dims:", 1),
			func(r Recipe) bool {
				return reflect.DeepEqual(r.Pattern.Filter(), map[string]string{"level": "500", "typeOfLevel": "isobaricInhPa", "step": "1.50"})
			}},
		{"plain path template", strings.Replace(good, "file:///data", "/data", 1),
			func(r Recipe) bool { return r.Pattern.Template == "/data/{variable}/oisst.{time}.nc" }},
	}
	for _, tt := range tests {
		r, err := Parse([]byte(tt.yaml), "r.yaml")
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !tt.check(r) {
			t.Errorf("%s: unexpected %+v", tt.name, r)
		}
	}
}

func TestValidate(t *testing.T) {
	r := Recipe{
		Pattern: Pattern{Template: "/d/{t}.nc", ConcatDim: ConcatDim{Name: "t", Keys: []string{"a"}}},
		Target:  Target{URL: "/out.zarr"},
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("a recipe built in Go with empty defaults: %v", err)
	}
	r.Target.Chunks = map[string]int64{"t": 0}
	want := "recipe: target.chunks.t: chunk size must be >= 1, got 0"
	if err := r.Validate(); err == nil || err.Error() != want {
		t.Errorf("got error %v, want %s", err, want)
	}
	r.Target.Chunks = nil
	r.Pattern.ConcatDim.NItemsPerFile = -1
	want = "recipe: pattern.concat_dim.nitems_per_file: must be >= 1 when given, got -1"
	if err := r.Validate(); err == nil || err.Error() != want {
		t.Errorf("got error %v, want %s", err, want)
	}
	r.Pattern.ConcatDim.NItemsPerFile = 0
	r.Pattern.S3 = &S3{Anonymous: true} // for an s3:// template only
	if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "pattern.s3: the template") {
		t.Errorf("pattern.s3 with a local template: %v", err)
	}
	r.Pattern.Template = "s3://noaa-oisst/{t}.nc"
	if err := r.Validate(); err != nil || !slices.Equal(r.Pattern.Auth().S3Anonymous, []string{"noaa-oisst"}) {
		t.Errorf("pattern.s3 on s3://noaa-oisst: %v, anonymous buckets %v", err, r.Pattern.Auth().S3Anonymous)
	}
}

// TestValidateLocations refuses targets a run could not write, or that
// overwrite would empty, without losing anything: an input's directory, the
// working directory and those above it, a cache inside the target or the
// other way round — also when a symbolic link hides it.
func TestValidateLocations(t *testing.T) {
	work := t.TempDir()
	inputs := filepath.Join(work, "inputs")
	for _, d := range []string{inputs, filepath.Join(work, "run", "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(inputs, filepath.Join(work, "link")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(work, "run", "sub"))
	tests := []struct {
		target, cache, want string
	}{
		{filepath.Join(work, "out.zarr"), "", ""},
		{"out.zarr", filepath.Join(work, "cache"), ""},
		{"gs://bucket/out.zarr", "gs://bucket/cache", ""},
		{inputs, "", "holds the input"},
		{filepath.Join(work, "link"), "", "holds the input"},
		{"file://" + filepath.Join(work, "inputs/../link"), "", "holds the input"},
		{".", "", "is the working directory"},
		{"..", "", "is the working directory"},
		{"/", "", "is the working directory"},
		{"file:///", "", "is the working directory"},
		{filepath.Join(work, "out.zarr"), filepath.Join(work, "out.zarr", "cache"), "lie inside each other"},
		{filepath.Join(work, "c", "out.zarr"), filepath.Join(work, "c"), "lie inside each other"},
		{"gs://bucket/out.zarr", "gs://bucket/out.zarr", "lie inside each other"},
		{"https://host/out.zarr", "", "read-only"},
	}
	for _, tc := range tests {
		r := Recipe{
			Pattern: Pattern{Template: filepath.Join(inputs, "{t}.nc"), ConcatDim: ConcatDim{Name: "t", Keys: []string{"a", "b"}}},
			Target:  Target{URL: tc.target},
		}
		if tc.cache != "" {
			r.Cache = &Cache{URL: tc.cache}
		}
		err := r.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("target %s, cache %s: %v", tc.target, tc.cache, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("target %s, cache %s: got %v, want an error saying %q", tc.target, tc.cache, err, tc.want)
		}
	}
}

func TestCompressorAndLevel(t *testing.T) {
	tests := []struct {
		in        string
		id        string
		level     int
		validates bool
	}{
		{"", "zstd", 0, true},
		{"zstd", "zstd", 0, true},
		{"zstd:5", "zstd", 5, true},
		{"zstd:22", "zstd", 22, true},
		{"zlib", "zlib", 0, true},
		{"zlib:9", "zlib", 9, true},
		{"gzip:1", "gzip", 1, true},
		{"none", "none", 0, true},
		{"blosc", "blosc", 0, true},
		{"blosc:9", "blosc", 9, true},
		{"blosc:10", "", 0, false},
		{"zstd:0", "", 0, false},
		{"zlib:10", "", 0, false},
		{"ZSTD", "", 0, false},
	}
	for _, tt := range tests {
		tg := Target{URL: "/x", Compressor: tt.in}
		id, level := tg.CompressorAndLevel()
		if id != tt.id || level != tt.level {
			t.Errorf("CompressorAndLevel(%q) = %q, %d; want %q, %d", tt.in, id, level, tt.id, tt.level)
		}
		r := Recipe{Pattern: Pattern{Template: "{t}", ConcatDim: ConcatDim{Name: "t", Keys: []string{"a"}}}, Target: tg}
		if err := r.Validate(); (err == nil) != tt.validates {
			t.Errorf("compressor %q: Validate() = %v", tt.in, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestCheck(t *testing.T) {
	dir := filepath.Join("..", "testdata", "collections", "daily")
	good := fmt.Sprintf("pattern:\n  template: %s/daily_{time}.nc\n  concat_dim: {name: time, keys: [\"00\", \"01\"]}\ntarget:\n  url: /tmp/x.zarr\n", dir)
	for _, c := range []struct {
		name, yaml, want string
	}{
		{"good", good + "  chunks: {time: 2, lat: 4}\n", ""},
		{"a chunk size for a dimension the data lacks", good + "  chunks: {time: 2, depth: 4}\n",
			`recipe r.yaml: target.chunks.depth: the inputs have no dimension "depth" (dimensions of ` + dir + `/daily_00.nc: lat, lon, time)`},
		{"a concat dimension the data lacks, not said to be new", strings.NewReplacer("name: time", "name: times", "{time}", "{times}").Replace(good),
			`recipe r.yaml: pattern.concat_dim.name: the inputs have no dimension "times" (dimensions of ` + dir + `/daily_00.nc: lat, lon, time); ` +
				"to concatenate along a dimension the inputs lack, say new: true"},
		{"a concat dimension the data lacks: a new one", strings.NewReplacer("name: time", "name: step, new: true", "{time}", "{step}").Replace(good), ""},
		{"a new concat dimension the data has", strings.NewReplacer("name: time", "name: time, new: true").Replace(good),
			`recipe r.yaml: pattern.concat_dim.new: the inputs have the dimension "time" already`},
		{"a chunk size along a new concat dimension", strings.NewReplacer("name: time", "name: step, new: true", "{time}", "{step}").Replace(good) +
			"  chunks: {step: 1}\n", ""},
		{"a first input that is not there", strings.Replace(good, "daily_{time}", "nope_{time}", 1), "nope_00.nc"},
	} {
		r, err := Parse([]byte(c.yaml), "r.yaml")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		err = r.Check(context.Background())
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: Check = %v, want %q", c.name, err, c.want)
		}
	}
}

func TestMaxMem(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{"", transforms.DefaultMaxMem, ""},
		{"1048576", 1 << 20, ""},
		{"512MiB", 512 << 20, ""},
		{"2GB", 2e9, ""},
		{"2 gib", 2 << 30, ""},
		{"1.5GB", 0, "not a size"},
		{"-1GB", 0, "not a size"},
		{"lots", 0, "not a size"},
		{"10kB", 0, "less than 1 MiB"},
		{"9999999999TiB", 0, "too large"},
	}
	for _, tc := range tests {
		r := Recipe{
			Pattern: Pattern{Template: "/d/{t}.nc", ConcatDim: ConcatDim{Name: "t", Keys: []string{"a"}}},
			Target:  Target{URL: "/out.zarr", MaxMem: tc.in},
		}
		err := r.Validate()
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), "target.max_mem") || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: got %v, want an error saying %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || r.Target.MaxMemBytes() != tc.want):
			t.Errorf("%q: %d, %v; want %d", tc.in, r.Target.MaxMemBytes(), err, tc.want)
		}
	}
}

// FuzzParse parses any text as a recipe: never a panic, and a recipe that
// validates names a bounded number of inputs it can list.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"oisst.yaml", "dates.yaml", "range.yaml", "typo.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("pattern: {template: \"/d/{time}.nc\", concat_dim: {name: time, keys: [a]}}\ntarget: {url: /o.zarr, chunks: {time: 9223372036854775807}, max_mem: 99999999999999TiB}\n"))
	f.Add([]byte("pattern: {template: \"{time}\", concat_dim: {name: time, range: {start: 0, stop: 9223372036854775807, step: 1}}}\ntarget: {url: ../.., chunks: {time: 2.99}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(data, "fuzz.yaml")
		if err != nil || r.Pattern.NumInputs() > 1e5 {
			return
		}
		_ = r.Validate()
		_ = r.Target.MaxMemBytes()
	})
}

func TestHTTPSection(t *testing.T) {
	base := "pattern:\n  template: \"https://host/{time}.nc\"\n  concat_dim: {name: time, keys: [a]}\n  http: %s\ntarget: {url: /out.zarr}\n"
	r, err := Parse([]byte(fmt.Sprintf(base, "{timeout: 10s, attempts: 3, deadline: 2m}")), "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Pattern.Retry(); got.Timeout != 10*time.Second || got.Attempts != 3 || got.Deadline != 2*time.Minute {
		t.Errorf("Retry() = %+v", got)
	}
	for _, tc := range []struct{ http, want string }{
		{"{timeout: soon}", `pattern.http.timeout: "soon" is not a positive duration`},
		{"{deadline: -1m}", `pattern.http.deadline: "-1m" is not a positive duration`},
		{"{attempts: 1000}", "pattern.http.attempts: 1000 is not from 1 to 100"},
	} {
		if _, err := Parse([]byte(fmt.Sprintf(base, tc.http)), "r.yaml"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error saying %q", tc.http, err, tc.want)
		}
	}
}

// TestFractionalNumbers: a number with a fraction where a recipe holds an
// integer is refused, naming the key and line, not truncated.
func TestFractionalNumbers(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"pattern:\n  template: \"{time}\"\n  concat_dim: {name: time, keys: [a.nc, b.nc]}\ntarget: {url: out.zarr, chunks: {time: 2.99}}\n",
			"target.chunks.time: line 4: 2.99 is not a whole number"},
		{"pattern:\n  template: \"{time}\"\n  concat_dim: {name: time, keys: [a.nc, b.nc], nitems_per_file: 1.5}\ntarget: {url: out.zarr}\n",
			"pattern.concat_dim.nitems_per_file: line 3: 1.5 is not a whole number"},
		{"pattern:\n  template: \"{time}\"\n  concat_dim: {name: time, range: {start: 0, stop: 4, step: 1.9}}\ntarget: {url: out.zarr}\n",
			"pattern.concat_dim.range.step: line 3: 1.9 is not a whole number"},
	} {
		_, err := Parse([]byte(c.text), "r.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.text, err, c.want)
		}
	}
}

// TestParseGroups: pattern.groups is a list of group paths, or one string
// (all).
func TestParseGroups(t *testing.T) {
	for _, tc := range []struct {
		groups string
		want   []string
		err    string
	}{
		{"all", []string{"all"}, ""},
		{`["/", sweep_0, sweep_1/extra]`, []string{"/", "sweep_0", "sweep_1/extra"}, ""},
		{"{a: 1}", nil, "cannot unmarshal !!map into []string"},
	} {
		r, err := Parse([]byte(strings.Replace(good, "  merge_dims:", "  groups: "+tc.groups+"\n  merge_dims:", 1)), "r.yaml")
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("groups: %s: %v, want %q", tc.groups, err, tc.err)
		case tc.err == "" && err != nil:
			t.Errorf("groups: %s: %v", tc.groups, err)
		case tc.err == "" && !slices.Equal(r.Pattern.Groups, tc.want):
			t.Errorf("groups: %s: %q, want %q", tc.groups, r.Pattern.Groups, tc.want)
		}
	}
}
