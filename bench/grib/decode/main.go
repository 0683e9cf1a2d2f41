// Command decode times zarrforge's GRIB2 decoding: every field of each
// file decoded n times on one goroutine, the best time of a field printed
// in seconds per file, one line each ("file seconds"). bench/grib/bench.py
// runs it beside ecCodes.
//
// usage: go run ./bench/grib/decode [-n 5] FILE...
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/zarrforge/zarrforge/grib"
)

func main() {
	n := flag.Int("n", 5, "decodes of each file; the best is printed")
	flag.Parse()
	for _, path := range flag.Args() {
		best, err := decode(path, *n)
		if err != nil {
			fmt.Fprintln(os.Stderr, "decode:", err)
			os.Exit(1)
		}
		fmt.Printf("%s %.6f\n", path, best.Seconds())
	}
}

// decode returns the best time of n decodes of every field of path (read
// into memory first).
func decode(path string, n int) (time.Duration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	best := time.Duration(1 << 62)
	for range n {
		start := time.Now()
		fields, err := grib.Messages(data)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		for i := range fields {
			if _, err := fields[i].Values(); err != nil {
				return 0, fmt.Errorf("%s: %w", path, err)
			}
		}
		best = min(best, time.Since(start))
	}
	return best, nil
}
