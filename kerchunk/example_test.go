package kerchunk_test

import (
	"fmt"
	"os"

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
