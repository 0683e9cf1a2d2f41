package netcdf_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/internal/nd"
	"github.com/zarrforge/zarrforge/netcdf"
)

// TestLayout: the bytes a variable's layout points at are its values as
// stored (unfiltered variables here: the filtered ones are read through
// their references by xarray in the recipes tests), in the stored byte
// order; classic record variables lie one record a piece.
func TestLayout(t *testing.T) {
	for _, tc := range []struct {
		file, name string
		chunks     []int64
		pieces     int
		bigEndian  bool
	}{
		{filepath.Join("daily", "daily_00.nc"), "sst", []int64{1, 7, 10}, 1, true},                    // a record variable
		{filepath.Join("daily", "daily_00.nc"), "lat", []int64{7}, 1, true},                           // a fixed one
		{filepath.Join("multistep", "multistep_00.nc"), "sst", []int64{1, 7, 10}, 3, true},            // several records
		{filepath.Join("nc4_checksummed", "nc4_checksummed_00.nc"), "ice", []int64{2, 5, 6}, 1, true}, // HDF5 contiguous, big-endian
		{filepath.Join("nc4_bounds", "nc4_bounds_00.nc"), "lat", []int64{6}, 1, false},
	} {
		path := beamtest.Testdata("collections", tc.file)
		f := open(t, path)
		l, err := f.Layout(tc.name)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.file, tc.name, err)
		}
		if !slicesEqual(l.Chunks, tc.chunks) || len(l.Pieces) != tc.pieces || l.BigEndian != tc.bigEndian || len(l.Codecs) > 0 {
			t.Errorf("%s %s: layout %+v", tc.file, tc.name, l)
			continue
		}
		raw, _ := os.ReadFile(path)
		var v netcdf.Var
		for _, x := range f.Vars() {
			if x.Name == tc.name {
				v = x
			}
		}
		want := make([]byte, product(v.Shape)*int64(v.Type.Size()))
		if err := f.Read(tc.name, make([]int64, len(v.Shape)), v.Shape, want); err != nil {
			t.Fatal(err)
		}
		var got []byte
		for _, p := range l.Pieces {
			got = append(got, raw[p.Offset:p.Offset+p.Size]...)
		}
		if l.BigEndian {
			nd.SwapBytes(got, v.Type.Size())
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s %s: the pieces hold other values than Read returns", tc.file, tc.name)
		}
	}
	f := open(t, beamtest.Testdata("collections", "rw_text", "rw_text_0.nc"))
	if _, err := f.Layout("remark"); err == nil {
		t.Error("netCDF-4 strings have a layout")
	}
}

func slicesEqual(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func product(shape []int64) int64 {
	n := int64(1)
	for _, x := range shape {
		n *= x
	}
	return n
}
