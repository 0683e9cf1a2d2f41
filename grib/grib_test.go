package grib_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/grib"
)

// fixture is what ecCodes decodes of a fixture (testdata/grib/make_fixtures.py).
type fixture struct {
	Values []*float64     `json:"values"`
	Lats   []float64      `json:"lats"`
	Lons   []float64      `json:"lons"`
	Keys   map[string]any `json:"keys"`
}

// fixtures writes the GRIB2 fixtures with ecCodes, once per test, and
// returns their directory.
func fixtures(t *testing.T) string {
	t.Helper()
	py := beamtest.RequirePython(t, "eccodes", "numpy")
	dir := t.TempDir()
	if out, err := exec.Command(py, beamtest.Testdata("grib", "make_fixtures.py"), dir).CombinedOutput(); err != nil {
		t.Fatalf("make_fixtures.py: %v\n%s", err, out)
	}
	return dir
}

// TestAgainstEcCodes decodes a field of every packing ecCodes writes here
// (simple with 0, 12 and 16 bits, complex, CCSDS with 10 to 24 bits, PNG;
// bitmaps; a regular Gaussian grid) and four it decodes but cannot write
// (spatial differencing of order 1 and 2, missing value management)
// and wants ecCodes' values bit for bit as float32 (NaN where its bitmap
// has none), its latitudes and longitudes, and its keys.
func TestAgainstEcCodes(t *testing.T) {
	dir := fixtures(t)
	paths, _ := filepath.Glob(filepath.Join(dir, "*.grib2"))
	if len(paths) != 17 {
		t.Fatalf("fixtures %v", paths)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".grib2")
		t.Run(name, func(t *testing.T) {
			var want fixture
			b, _ := os.ReadFile(filepath.Join(dir, name+".json"))
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path)
			fields, err := grib.Messages(data)
			if err != nil || len(fields) != 1 {
				t.Fatalf("Messages: %d fields, %v", len(fields), err)
			}
			f := fields[0]
			got, err := f.Values()
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want.Values) {
				t.Fatalf("%d values, want %d", len(got), len(want.Values))
			}
			for i, w := range want.Values {
				switch {
				case w == nil && !math.IsNaN(float64(got[i])):
					t.Fatalf("value %d = %v, want missing", i, got[i])
				case w != nil && math.Float32bits(got[i]) != math.Float32bits(float32(*w)):
					t.Fatalf("value %d = %v, want %v", i, got[i], float32(*w))
				}
			}
			if lats, lons := f.Grid.Lats(), f.Grid.Lons(); !equal(lats, want.Lats) || !equal(lons, want.Lons) {
				t.Errorf("lats %v, lons %v; want %v, %v", lats, lons, want.Lats, want.Lons)
			}
			k := want.Keys
			p := f.Product
			if f.Discipline != int(k["discipline"].(float64)) || p.Category != int(k["parameterCategory"].(float64)) ||
				p.Number != int(k["parameterNumber"].(float64)) || p.ForecastTime != int64(k["forecastTime"].(float64)) ||
				f.Ident.Year*10000+f.Ident.Month*100+f.Ident.Day != int(k["dataDate"].(float64)) ||
				f.Ident.Hour*100+f.Ident.Minute != int(k["dataTime"].(float64)) || p.Level1Type != int(k["typeOfFirstFixedSurface"].(float64)) ||
				f.Grid.Ni != int(k["Ni"].(float64)) || f.Grid.Nj != int(k["Nj"].(float64)) {
				t.Errorf("keys %+v %+v, want %v", f.Ident, p, k)
			}
		})
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9 {
			return false
		}
	}
	return true
}

// TestRefused: what the package does not read is refused by name, and
// damage is an error, not a panic.
func TestRefused(t *testing.T) {
	good, err := os.ReadFile(beamtest.Testdata("grib", "simple.grib2")) // a fixture make_fixtures.py wrote
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func([]byte) []byte
		want error
		text string
	}{
		{"edition 1", func(b []byte) []byte { b[7] = 1; return b }, grib.ErrUnsupported, "GRIB edition 1"},
		{"no 7777", func(b []byte) []byte { return b[:len(b)-1] }, grib.ErrFormat, "declares"},
		{"grid template", func(b []byte) []byte { b[16+21+12] = 0; b[16+21+13] = 90; return b }, grib.ErrUnsupported, "template 3.90"},
		{"not GRIB", func([]byte) []byte { return []byte("netCDF") }, grib.ErrFormat, "no GRIB message"},
		{"JPEG 2000", func(b []byte) []byte { b[section(b, 5)+10] = 40; return b }, grib.ErrUnsupported, "template 5.40 (JPEG 2000)"},
		{"template 5.2 too short", func(b []byte) []byte { b[section(b, 5)+10] = 2; return b }, grib.ErrFormat, "template 5.2 in 21 bytes"},
		{"complex, more groups than values", func([]byte) []byte {
			b := complexMsg(t)
			b[section(b, 5)+31] = 0x7f // 2^31 groups
			return b
		}, grib.ErrFormat, "groups for 684 values"},
		{"complex, group lengths", func([]byte) []byte {
			b := complexMsg(t)
			b[section(b, 5)+41] = 200 // length increment
			return b
		}, grib.ErrFormat, "groups longer than the 684 values"},
		{"complex, order 3", func([]byte) []byte {
			b := complexMsg(t)
			b[section(b, 5)+47] = 3
			return b
		}, grib.ErrFormat, "spatial differencing of order 3"},
	} {
		b := tc.edit(append([]byte(nil), good...))
		fields, err := grib.Messages(b)
		if err == nil {
			_, err = fields[0].Values()
		}
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %v, want %v with %q", tc.name, err, tc.want, tc.text)
		}
	}
}

// complexMsg is a message packed with spatial differencing and missing
// values (kept in testdata/grib from make_fixtures.py).
func complexMsg(t *testing.T) []byte {
	b, err := os.ReadFile(beamtest.Testdata("grib", "hand_sd2_missing2.grib2"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// section returns the offset of the first section num of the message
// at the start of b.
func section(b []byte, num byte) int {
	for at := 16; at+5 <= len(b); {
		if b[at+4] == num {
			return at
		}
		at += int(b[at])<<24 | int(b[at+1])<<16 | int(b[at+2])<<8 | int(b[at+3])
	}
	panic("no section")
}

// FuzzMessages: any bytes give fields whose values decode, or errors
// (seeds: three fixtures make_fixtures.py wrote, kept in testdata/grib).
func FuzzMessages(f *testing.F) {
	for _, name := range []string{"simple", "ccsds_bitmap", "png", "hand_sd2_missing2"} {
		if b, err := os.ReadFile(beamtest.Testdata("grib", name+".grib2")); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("GRIB\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x187777"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fields, err := grib.Messages(b)
		if err != nil {
			return
		}
		for _, fl := range fields {
			if v, err := fl.Values(); err == nil && len(v) != fl.Grid.Points {
				t.Fatalf("%d values for %d points", len(v), fl.Grid.Points)
			}
		}
	})
}
