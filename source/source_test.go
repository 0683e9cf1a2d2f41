package source_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/source"

	// The formats zarrforge reads.
	_ "github.com/zarrforge/zarrforge/internal/formats"
)

// Open sniffs an input and opens it with its format; the reader says what
// it holds in the terms of this package, whatever the format.
func ExampleOpen() {
	b, err := os.ReadFile(beamtest.Testdata("formats", "alltypes_netcdf3_classic.nc"))
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := source.Open(bytes.NewReader(b), int64(len(b)), "alltypes_netcdf3_classic.nc", source.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Format(), r.FileType(), len(r.Vars()) > 0)
	// Output: CDF-1 netcdf3 true
}

// TestOpenUnknown: an input no registered format matches is refused naming
// it, its first bytes and what was looked for; nothing of it beyond four
// bytes is quoted.
func TestOpenUnknown(t *testing.T) {
	data := []byte("date,sst,secret-token-xyz\n")
	for _, open := range []func() error{
		func() error {
			_, err := source.Open(bytes.NewReader(data), int64(len(data)), "sst.csv", source.Options{})
			return err
		},
		func() error { _, err := source.Groups(bytes.NewReader(data), int64(len(data)), "sst.csv"); return err },
	} {
		err := open()
		if !errors.Is(err, source.ErrFormat) {
			t.Fatalf("got %v, want ErrFormat", err)
		}
		for _, want := range []string{"sst.csv", "64 61 74 65", "netCDF-3 (CDF) or netCDF-4 (HDF5)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%v does not say %q", err, want)
			}
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("%v quotes the input", err)
		}
	}
}

// TestFileTypes: the registered formats' file types, files' then stores', as recipes name them.
func TestFileTypes(t *testing.T) {
	if got := source.FileTypes(); !slices.Equal(got, []string{"grib2", "netcdf3", "netcdf4", "references", "zarr"}) {
		t.Fatalf("FileTypes = %v", got)
	}
}

// TestCheckFilter: a filter names keys a registered format filters by.
func TestCheckFilter(t *testing.T) {
	for _, tc := range []struct {
		filter map[string]string
		want   string
	}{
		{nil, ""},
		{map[string]string{"typeOfLevel": "surface", "shortName": "2t"}, ""},
		{map[string]string{"typeOfLevle": "surface"}, `filter key "typeOfLevle": GRIB2 inputs are filtered by centre, cfVarName,`},
	} {
		err := source.CheckFilter(tc.filter)
		if (err == nil) != (tc.want == "") || err != nil && (!strings.Contains(err.Error(), tc.want) || !errors.Is(err, source.ErrUnsupported)) {
			t.Errorf("CheckFilter(%v) = %v, want %q", tc.filter, err, tc.want)
		}
	}
	// A format of one dataset refuses a filter.
	path := beamtest.Testdata("formats", "nc4_h5py_null.nc")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = source.Open(bytes.NewReader(b), int64(len(b)), path, source.Options{Filter: map[string]string{"shortName": "t"}})
	if !errors.Is(err, source.ErrUnsupported) || !strings.Contains(err.Error(), "netCDF inputs hold one dataset") {
		t.Errorf("a filter on a netCDF file: %v", err)
	}
}

// TestAttrRaw: numeric attributes go to little-endian bytes and back; text
// does not.
func TestAttrRaw(t *testing.T) {
	for _, a := range []source.Attr{
		{Name: "b", Type: source.Byte, Value: []int8{-1, 2}},
		{Name: "s", Type: source.Short, Value: []int16{-300}},
		{Name: "u", Type: source.UInt, Value: []uint32{7, 8}},
		{Name: "i", Type: source.Int64, Value: []int64{-1 << 40}},
		{Name: "f", Type: source.Float, Value: []float32{1.5}},
		{Name: "d", Type: source.Double, Value: []float64{-2.25, 1e300}},
	} {
		raw, err := a.Raw()
		if err != nil {
			t.Fatalf("%s: %v", a.Name, err)
		}
		back, err := source.AttrFromRaw(a.Name, a.Type, raw)
		if err != nil || fmt.Sprint(back) != fmt.Sprint(a) {
			t.Errorf("%s: %v round-trips to %v, %v", a.Name, a, back, err)
		}
	}
	if _, err := (source.Attr{Name: "t", Type: source.Char, Value: "x"}).Raw(); err == nil {
		t.Error("a text attribute gave raw bytes")
	}
	if _, err := source.AttrFromRaw("odd", source.Short, []byte{1, 2, 3}); err == nil || !strings.Contains(err.Error(), "odd") {
		t.Errorf("3 bytes of shorts: %v", err)
	}
}
