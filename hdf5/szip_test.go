package hdf5_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/hdf5"
)

// makeSzip writes, with h5py (Debian's HDF5 encodes szip through libaec),
// one dataset per case into argv[1], each in chunks with partial edges and
// scanlines that are not whole blocks, and each dataset's values as
// little-endian bytes into argv[2]/<name>.
const makeSzip = `
import sys, os, numpy as np, h5py
rng = np.random.default_rng(7)
cases = {
    "i2_nn16": (np.cumsum(rng.integers(-3, 4, (50, 37)), axis=1).astype("<i2"), ("nn", 16)),
    "u1_ec32": (rng.integers(0, 256, (64, 45)).astype("u1"), ("ec", 32)),
    "f4_nn8": (np.sin(np.arange(33 * 41) / 50.0).reshape(33, 41).astype("<f4"), ("nn", 8)),
    "f8_ec16": (rng.normal(size=(20, 30)), ("ec", 16)),
    "be_i4_nn32": (np.arange(25 * 19, dtype=">i4").reshape(25, 19) * 1000 - 7, ("nn", 32)),
    "u2_nn8": (np.full((40, 40), 7, dtype="<u2"), ("nn", 8)),
}
with h5py.File(sys.argv[1], "w") as f:
    for name, (data, opts) in cases.items():
        f.create_dataset(name, data=data, chunks=(min(16, data.shape[0]), min(23, data.shape[1])), compression="szip", compression_opts=opts)
        with open(os.path.join(sys.argv[2], name), "wb") as out:
            out.write(data.astype(data.dtype.newbyteorder("<")).tobytes())
`

// TestSzip reads datasets h5py compressed with szip — 8 to 64-bit
// integers and floats, both options (nearest neighbour, entropy coding),
// blocks of 8 to 32 pixels, a big-endian type — and wants h5py's values.
func TestSzip(t *testing.T) {
	py := beamtest.RequirePython(t, "h5py", "numpy")
	dir := t.TempDir()
	path := filepath.Join(dir, "szip.h5")
	if out, err := exec.Command(py, "-c", makeSzip, path, dir).CombinedOutput(); err != nil {
		t.Fatalf("h5py: %v\n%s", err, out)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	st, _ := fh.Stat()
	f, err := hdf5.Open(fh, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	root, err := f.Root()
	if err != nil {
		t.Fatal(err)
	}
	links, err := root.Links()
	if err != nil || len(links) != 6 {
		t.Fatalf("links %v, %v", links, err)
	}
	for _, l := range links {
		obj, err := f.Open(l.Name, l.Addr)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := obj.Dataset()
		if err != nil {
			t.Fatalf("%s: %v", l.Name, err)
		}
		got := make([]byte, ds.Dims[0]*ds.Dims[1]*uint64(ds.Type.Size))
		if err := ds.Read([]uint64{0, 0}, ds.Dims, got); err != nil {
			t.Errorf("%s (%s): %v", l.Name, ds.Storage(), err)
			continue
		}
		want, _ := os.ReadFile(filepath.Join(dir, l.Name))
		if !bytes.Equal(got, want) {
			t.Errorf("%s (%s): values differ from h5py's", l.Name, ds.Storage())
		}
	}
}
