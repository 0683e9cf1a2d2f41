package netcdf

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/hdf5"
	"github.com/zarrforge/zarrforge/source"
)

// TestCodecsOf: how a netCDF-4 variable's HDF5 filters read as numcodecs
// codecs, and a filter numcodecs has not refused.
func TestCodecsOf(t *testing.T) {
	codecs, err := codecsOf([]hdf5.Filter{{Name: "shuffle"}, {Name: "deflate", Values: []uint32{4}}, {Name: "fletcher32"}}, 2)
	want := []source.Codec{{ID: "shuffle", ElementSize: 2}, {ID: "zlib", Level: 4}, {ID: "fletcher32"}}
	if err != nil || !slices.Equal(codecs, want) {
		t.Fatalf("codecsOf = %+v, %v; want %+v", codecs, err, want)
	}
	_, err = codecsOf([]hdf5.Filter{{Name: "szip"}}, 4)
	if !errors.Is(err, ErrUnsupported) || !errors.Is(err, source.ErrUnsupported) || !strings.Contains(err.Error(), "szip has no numcodecs codec") {
		t.Fatalf("szip: %v, want ErrUnsupported naming the filter", err)
	}
}
