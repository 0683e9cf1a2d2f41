package grib_test

import (
	"fmt"
	"os"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/grib"
	"github.com/zarrforge/zarrforge/source"
)

// Open reads a GRIB2 file as cfgrib does: here 2 m temperature of four
// ensemble members at two steps (make_cubes.py wrote it with ecCodes).
func ExampleOpen() {
	f, err := os.Open(beamtest.Testdata("grib", "ensemble.grib2"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	st, _ := f.Stat()
	r, err := grib.Open(f, st.Size(), "ensemble.grib2", source.Options{Filter: map[string]string{"shortName": "2t"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range r.Dims() {
		fmt.Println(d.Name, d.Len)
	}
	for _, v := range r.Vars() {
		if units, ok := v.Attr("units"); ok {
			fmt.Println(v.Name, v.Dims, units.Value)
		}
	}
	// Output:
	// number 4
	// step 2
	// latitude 13
	// longitude 24
	// number [number] 1
	// time [] seconds since 1970-01-01T00:00:00
	// step [step] hours
	// heightAboveGround [] m
	// latitude [latitude] degrees_north
	// longitude [longitude] degrees_east
	// valid_time [step] seconds since 1970-01-01T00:00:00
	// t2m [number step latitude longitude] K
}

// Messages splits a file's bytes into fields; Values decodes one.
func ExampleMessages() {
	b, err := os.ReadFile(beamtest.Testdata("grib", "hand_sd2_missing2.grib2"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fields, err := grib.Messages(b)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := fields[0].Values()
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := fields[0].Param()
	fmt.Println(p.ShortName, fields[0].Grid.Ni, "x", fields[0].Grid.Nj, len(v), v[0], v[1])
	// Output: t 36 x 19 684 NaN 293.03
}
