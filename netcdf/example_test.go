package netcdf_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/netcdf"
)

func ExampleOpen() {
	path := beamtest.Testdata("collections", "daily", "daily_00.nc")
	f, err := os.Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	st, _ := f.Stat()
	nc, err := netcdf.Open(f, st.Size(), path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(nc.Format())
	for _, d := range nc.Dims() {
		fmt.Println(d.Name, d.Len, d.Unlimited)
	}
	// The first three latitudes: float32, little-endian after Read.
	buf := make([]byte, 3*4)
	if err := nc.Read("lat", []int64{0}, []int64{3}, buf); err != nil {
		fmt.Println(err)
		return
	}
	for i := 0; i < 3; i++ {
		fmt.Println(math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:])))
	}
	// Output:
	// CDF-1
	// lat 7 false
	// lon 10 false
	// time 1 true
	// -60
	// -40
	// -20
}

func ExampleFile_ReadStrings() {
	path := beamtest.Testdata("formats", "rw_strings.nc")
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	nc, err := netcdf.Open(bytes.NewReader(b), int64(len(b)), path)
	if err != nil {
		fmt.Println(err)
		return
	}
	names, err := nc.ReadStrings("station_name", []int64{0}, []int64{4})
	fmt.Printf("%q %v\n", names, err)
	// Output:
	// ["Zürich" "São Paulo" "" "Ushuaia"] <nil>
}

// Groups lists a netCDF-4 file's groups; Options.Group reads one of them
// as if it were the file ("/" the root alone).
func ExampleGroups() {
	path := beamtest.Testdata("collections", "grouped", "grouped_00.nc")
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	groups, err := netcdf.Groups(bytes.NewReader(b), int64(len(b)), path)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, g := range groups {
		nc, err := netcdf.OpenWith(bytes.NewReader(b), int64(len(b)), path, netcdf.Options{Group: g})
		if err != nil {
			fmt.Println(err)
			return
		}
		var vars []string
		for _, v := range nc.Vars() {
			vars = append(vars, fmt.Sprintf("%s%v", v.Name, v.Dims))
		}
		fmt.Println(g, vars)
	}
	// Output:
	// / [range[range]]
	// meta [site[]]
	// sweep_0 [time[time] DBZH[time range]]
	// sweep_1 [time[time] DBZH[time range]]
	// sweep_1/extra [ZDR[time range]]
}
