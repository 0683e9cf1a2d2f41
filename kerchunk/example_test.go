package kerchunk_test

import (
	"fmt"
	"os"

	"github.com/zarrforge/zarrforge/hdf5"
	"github.com/zarrforge/zarrforge/kerchunk"
)

// A reference set of one array of two chunks: one a byte range of a file,
// one inlined.
func ExampleWriter() {
	w := kerchunk.NewWriter(os.Stdout)
	w.Meta(".zgroup", []byte(`{"zarr_format":2}`))
	w.Ref("x/0", "https://host/a.nc", 4096, 800)
	w.Inline("x/1", []byte{1, 2, 3})
	if err := w.Close(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"version":1,"refs":{".zgroup":"{\"zarr_format\":2}","x/0":["https://host/a.nc",4096,800],"x/1":"base64:AQID"}}
}

// How a netCDF-4 variable's HDF5 filters read as numcodecs filters.
func ExampleFilters() {
	filters, err := kerchunk.Filters([]hdf5.Filter{{Name: "shuffle"}, {Name: "deflate", Values: []uint32{4}}, {Name: "fletcher32"}}, 2)
	fmt.Printf("%+v %v\n", filters, err)
	_, err = kerchunk.Filters([]hdf5.Filter{{Name: "szip"}}, 4)
	fmt.Println(err)
	// Output:
	// [{ID:shuffle Level:0 ElementSize:2} {ID:zlib Level:4 ElementSize:0} {ID:fletcher32 Level:0 ElementSize:0}] <nil>
	// kerchunk: HDF5 filter szip has no numcodecs codec
}
