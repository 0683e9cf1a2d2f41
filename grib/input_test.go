package grib_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/grib"
	"github.com/zarrforge/zarrforge/source"
)

// cfgribCase is what cfgrib opens of a file with a filter
// (testdata/grib/make_cubes.py).
type cfgribCase struct {
	File    string                    `json:"file"`
	Filter  map[string]any            `json:"filter"`
	Error   string                    `json:"error"`
	Skipped []string                  `json:"skipped"`
	Dims    map[string]int64          `json:"dims"`
	Attrs   map[string]any            `json:"attrs"`
	Vars    map[string]cfgribVariable `json:"vars"`
}

type cfgribVariable struct {
	Dims   []string       `json:"dims"`
	Dtype  string         `json:"dtype"`
	Attrs  map[string]any `json:"attrs"`
	Values any            `json:"values"`
}

// cubes writes the multi-message fixtures and what cfgrib opens of them.
func cubes(t *testing.T) (string, []cfgribCase) {
	t.Helper()
	py := beamtest.RequirePython(t, "eccodes", "cfgrib", "xarray")
	dir := t.TempDir()
	if out, err := exec.Command(py, beamtest.Testdata("grib", "make_cubes.py"), dir).CombinedOutput(); err != nil {
		t.Fatalf("make_cubes.py: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []cfgribCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	return dir, cases
}

// refusals are the cases cfgrib opens by dropping messages without an
// error, which Open refuses: what its error must say.
var refusals = map[string]string{
	"conflicting {}":            "cfgrib would leave",
	"conflicting {shortName:v}": "both hold v",
}

// TestAgainstCfgrib opens multi-message files (pressure levels and steps,
// three level types, an ensemble, accumulations with a bitmap over two
// days, a Gaussian grid; CCSDS, complex, simple packings) with filters,
// and wants cfgrib's dataset: its dimensions, variables, their dimensions,
// dtypes, attributes (all of cfgrib's but the history) and values (data
// bit for bit). Where cfgrib refuses, Open refuses naming the same
// filters; where cfgrib drops messages, Open refuses.
func TestAgainstCfgrib(t *testing.T) {
	dir, cases := cubes(t)
	if len(cases) != 14 {
		t.Fatalf("%d cases", len(cases))
	}
	for _, c := range cases {
		filter := map[string]string{}
		for k, v := range c.Filter {
			filter[k] = fmt.Sprint(v)
		}
		name := c.File + " " + strings.ReplaceAll(strings.ReplaceAll(fmt.Sprint(filter), "map[", "{"), "]", "}")
		t.Run(name, func(t *testing.T) {
			r, err := open(t, filepath.Join(dir, c.File+".grib2"), filter)
			switch {
			case c.Error != "":
				for _, line := range strings.Split(c.Error, "\n")[1:] { // cfgrib's filter_by_keys={'typeOfLevel': 'x'}
					_, kv, _ := strings.Cut(line, "{")
					kv = strings.NewReplacer("'", "", "}", "").Replace(kv)
					if err == nil || !strings.Contains(err.Error(), kv) {
						t.Errorf("error %v, want one naming %s (cfgrib: %s)", err, kv, c.Error)
					}
				}
				return
			case refusals[name] != "":
				if err == nil || !strings.Contains(err.Error(), refusals[name]) {
					t.Fatalf("error %v, want %q", err, refusals[name])
				}
				return
			case err != nil:
				t.Fatal(err)
			case len(c.Skipped) > 0:
				t.Fatalf("cfgrib skipped %v, and no refusal is expected", c.Skipped)
			}
			compare(t, r, c)
			if lv, ok := filter["level"]; ok { // a number as YAML may write it selects the same
				filter["level"] = lv + ".0"
				if r, err = open(t, filepath.Join(dir, c.File+".grib2"), filter); err != nil {
					t.Fatalf("level %s: %v", filter["level"], err)
				}
				compare(t, r, c)
			}
		})
	}
}

func open(t *testing.T, path string, filter map[string]string) (source.Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, _ := f.Stat()
	return grib.Open(f, st.Size(), path, source.Options{Filter: filter})
}

// compare checks r against cfgrib's dataset.
func compare(t *testing.T, r source.Reader, c cfgribCase) {
	t.Helper()
	dims := map[string]int64{}
	for _, d := range r.Dims() {
		dims[d.Name] = d.Len
	}
	if fmt.Sprint(dims) != fmt.Sprint(c.Dims) {
		t.Errorf("dims %v, want %v", dims, c.Dims)
	}
	attrsEqual(t, "global", r.Attrs(), c.Attrs, "history")
	var names []string
	for _, v := range r.Vars() {
		names = append(names, v.Name)
		want, ok := c.Vars[v.Name]
		if !ok {
			t.Errorf("variable %s: cfgrib has none", v.Name)
			continue
		}
		if !slices.Equal(v.Dims, want.Dims) && !(len(v.Dims) == 0 && len(want.Dims) == 0) {
			t.Errorf("%s: dims %v, want %v", v.Name, v.Dims, want.Dims)
		}
		if dtype := map[source.Type]string{source.Float: "float32", source.Double: "float64", source.Int64: "int64"}[v.Type]; dtype != want.Dtype {
			t.Errorf("%s: dtype %s, want %s", v.Name, dtype, want.Dtype)
		}
		attrsEqual(t, v.Name, v.Attrs, want.Attrs, "coordinates")
		valuesEqual(t, r, v, want.Values)
	}
	if len(names) != len(c.Vars) {
		t.Errorf("variables %v, cfgrib's %v", names, c.Vars)
	}
}

// attrsEqual wants attrs to be cfgrib's (want), but those named in skip.
func attrsEqual(t *testing.T, what string, attrs []source.Attr, want map[string]any, skip string) {
	t.Helper()
	got := map[string]any{}
	for _, a := range attrs {
		switch v := a.Value.(type) {
		case []int64:
			got[a.Name] = float64(v[0])
		case []float64:
			got[a.Name] = v[0]
		default:
			got[a.Name] = v
		}
	}
	for k, w := range want {
		if k == skip {
			continue
		}
		if g, ok := got[k]; !ok || fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("%s: attribute %s = %v, want %v", what, k, got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok && k != skip {
			t.Errorf("%s: attribute %s = %v, cfgrib has none", what, k, got[k])
		}
	}
}

// valuesEqual reads v whole and wants cfgrib's values: data bit for bit as
// float32, NaN where cfgrib has none.
func valuesEqual(t *testing.T, r source.Reader, v source.Var, want any) {
	t.Helper()
	n := int64(1)
	for _, s := range v.Shape {
		n *= s
	}
	buf := make([]byte, n*int64(v.Type.Size()))
	if err := r.Read(v.Name, make([]int64, len(v.Shape)), v.Shape, buf); err != nil {
		t.Fatalf("%s: %v", v.Name, err)
	}
	var flat []any
	var walk func(any)
	walk = func(x any) {
		if l, ok := x.([]any); ok {
			for _, e := range l {
				walk(e)
			}
			return
		}
		flat = append(flat, x)
	}
	walk(want)
	if int64(len(flat)) != n {
		t.Fatalf("%s: %d values, cfgrib %d", v.Name, n, len(flat))
	}
	for i, w := range flat {
		var got float64
		switch v.Type {
		case source.Float:
			got = float64(math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:])))
		case source.Double:
			got = math.Float64frombits(binary.LittleEndian.Uint64(buf[8*i:]))
		case source.Int64:
			got = float64(int64(binary.LittleEndian.Uint64(buf[8*i:])))
		}
		switch {
		case w == nil && !math.IsNaN(got):
			t.Fatalf("%s[%d] = %v, want NaN", v.Name, i, got)
		case w != nil && v.Type == source.Float && math.Float32bits(float32(got)) != math.Float32bits(float32(w.(float64))):
			t.Fatalf("%s[%d] = %v, want %v", v.Name, i, got, w)
		case w != nil && v.Name == "latitude" && math.Abs(got-w.(float64)) > 1e-12:
			// Gaussian latitudes are Legendre roots, found by Newton's
			// method here and by ecCodes in other steps: equal within 1e-12.
			t.Fatalf("%s[%d] = %v, want %v", v.Name, i, got, w)
		case w != nil && v.Type != source.Float && v.Name != "latitude" && got != w.(float64):
			t.Fatalf("%s[%d] = %v, want %v", v.Name, i, got, w)
		}
	}
}

// FuzzOpen: any bytes open as a cube whose every variable reads, or are
// refused; never a panic (seeds: the fixtures kept in testdata/grib).
func FuzzOpen(f *testing.F) {
	for _, name := range []string{"simple", "ccsds_bitmap", "png", "hand_sd2_missing2", "ensemble"} {
		if b, err := os.ReadFile(beamtest.Testdata("grib", name+".grib2")); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := grib.Open(bytes.NewReader(b), int64(len(b)), "fuzz.grib2", source.Options{MaxChunk: 64 << 20})
		if err != nil {
			return
		}
		for _, v := range r.Vars() {
			n := int64(v.Type.Size())
			for _, s := range v.Shape {
				n *= s
			}
			if n > 64<<20 {
				continue
			}
			_ = r.Read(v.Name, make([]int64, len(v.Shape)), v.Shape, make([]byte, n))
		}
	})
}

// TestOpenBounded: a field larger than the chunk budget is refused
// (source.ErrTooLarge), naming its message, before anything is decoded;
// one the filter leaves out is not read.
func TestOpenBounded(t *testing.T) {
	b, err := os.ReadFile(beamtest.Testdata("grib", "ensemble.grib2")) // 13 x 24 points a field
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		filter map[string]string
		want   string
	}{
		{nil, "message at byte 0: a field of 312 values, more than the 1000 bytes"},
		{map[string]string{"shortName": "msl"}, "none of its 8 messages matches"},
	} {
		_, err = grib.Open(bytes.NewReader(b), int64(len(b)), "ensemble.grib2", source.Options{MaxChunk: 1000, Filter: tc.filter})
		if err == nil || !strings.Contains(err.Error(), tc.want) || tc.filter == nil && !errors.Is(err, source.ErrTooLarge) {
			t.Errorf("filter %v: %v, want %q", tc.filter, err, tc.want)
		}
	}
}
