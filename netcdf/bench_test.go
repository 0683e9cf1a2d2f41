package netcdf_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/netcdf"
)

// BenchmarkReadNetCDF4Zlib reads a 720×1440 int16 variable stored as one
// zlib (level 4) + shuffle chunk, as in NOAA OISST files. Compare with
// netCDF-C on the same file:
//
//	/usr/bin/python3 netcdf/testdata/bench/netcdf_c.py
//	go test ./netcdf -run XXX -bench ReadNetCDF4Zlib -cpu 1
func BenchmarkReadNetCDF4Zlib(b *testing.B) {
	py := beamtest.RequirePython(b, "netCDF4", "numpy")
	out, err := exec.Command(py, filepath.Join("testdata", "bench", "netcdf_c.py"), "--make-only").Output()
	if err != nil {
		b.Fatalf("making the benchmark file: %v", err)
	}
	path := strings.TrimSpace(string(out))
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	f, err := netcdf.Open(bytes.NewReader(data), int64(len(data)), path)
	if err != nil {
		b.Fatal(err)
	}
	start, count := []int64{0, 0, 0, 0}, []int64{1, 1, 720, 1440}
	dst := make([]byte, 720*1440*2)
	b.SetBytes(int64(len(dst)))
	b.ReportAllocs()
	for b.Loop() {
		if err := f.Read("sst", start, count, dst); err != nil {
			b.Fatal(err)
		}
	}
}
