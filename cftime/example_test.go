package cftime_test

import (
	"fmt"

	"github.com/zarrforge/zarrforge/cftime"
)

// Two files of a daily series encode time differently; re-express the
// second file's values in the first file's units.
func ExampleRecode() {
	first, err := cftime.ParseUnits("days since 1981-09-01")
	if err != nil {
		panic(err)
	}
	second, err := cftime.ParseUnits("hours since 1981-09-02 00:00:00")
	if err != nil {
		panic(err)
	}
	cal, err := cftime.ParseCalendar("gregorian")
	if err != nil {
		panic(err)
	}
	vals, err := cftime.Recode([]float64{0, 12, 24}, second, first, cal)
	if err != nil {
		panic(err)
	}
	fmt.Println(vals)
	// Output: [1 1.5 2]
}

func ExampleUnits_Date() {
	u, err := cftime.ParseUnits("days since 2000-01-01")
	if err != nil {
		panic(err)
	}
	for _, cal := range []cftime.Calendar{cftime.Standard, cftime.NoLeap, cftime.Day360} {
		d, err := u.Date(59.5, cal)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-8s %s\n", cal, d)
	}
	// Output:
	// standard 2000-02-29 12:00:00
	// noleap   2000-03-01 12:00:00
	// 360_day  2000-02-30 12:00:00
}
