package hdf5_test

import (
	"encoding/binary"
	"fmt"
	"log"
	"os"

	"github.com/zarrforge/zarrforge/hdf5"
)

// Open a file, list the root group and read a dataset.
func ExampleOpen() {
	fh, err := os.Open("../testdata/formats/nc4_h5py_userblock.nc")
	if err != nil {
		log.Fatal(err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		log.Fatal(err)
	}
	f, err := hdf5.Open(fh, st.Size())
	if err != nil {
		log.Fatal(err)
	}
	root, err := f.Root()
	if err != nil {
		log.Fatal(err)
	}
	links, err := root.Links()
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range links {
		obj, err := f.Open(l.Name, l.Addr)
		if err != nil {
			log.Fatal(err)
		}
		ds, err := obj.Dataset()
		if err != nil {
			log.Fatal(err)
		}
		buf := make([]byte, ds.Dims[0]*uint64(ds.Type.Size))
		if err := ds.Read([]uint64{0}, ds.Dims, buf); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %s %v, %s, last value bits %#x\n", l.Name, ds.Type, ds.Dims, ds.Storage(),
			binary.LittleEndian.Uint64(buf[len(buf)-8:]))
	}
	// Output:
	// v: little-endian signed 64-bit integer [4], contiguous, last value bits 0x3
	// x: little-endian 64-bit float [4], contiguous, last value bits 0x4008000000000000
}
