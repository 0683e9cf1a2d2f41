package plan_test

import (
	"fmt"

	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/source"
)

// A year of daily global files, each slice stored as one chunk, written in
// 64 tiles of 90 days: a read group is a 90-day block of all 64 tiles, so
// each daily slice is decoded once and cut 64 ways. Under a smaller budget
// the groups are halved across the grid (slices are then decoded twice).
func ExampleSchema_ReadGroups() {
	s := plan.Schema{Concat: []plan.Axis{{Name: "time"}}, Dims: []plan.Dim{{Name: "time", Size: 360}, {Name: "lat", Size: 720}, {Name: "lon", Size: 1440}}}
	for i := range 360 {
		s.Inputs = append(s.Inputs, plan.Extent{Input: plan.Input{Index: plan.Index{Concat: []int{i}}}, Spans: []plan.Span{{Offset: int64(i), Len: 1}}})
	}
	s.Vars = []plan.Variable{{Name: "sst", Type: source.Float, Dims: []string{"time", "lat", "lon"},
		Shape: []int64{360, 720, 1440}, SourceChunks: []int64{1, 720, 1440}}}
	if err := s.Layout(map[string]int64{"time": 90, "lat": 90, "lon": 180}); err != nil {
		fmt.Println(err)
		return
	}
	for _, budget := range []int64{512 << 20, 128 << 20} {
		var first plan.ReadGroup
		n := 0
		s.ReadGroups(budget, 4, func(g plan.ReadGroup) { // on 4 cores: each group has 4 chunks or more already
			if n == 0 {
				first = g
			}
			n++
		})
		fmt.Printf("budget %d MiB: %d groups of %d chunks, the first %s\n", budget>>20, n, first.NumChunks(), first)
	}
	// Output:
	// budget 512 MiB: 4 groups of 64 chunks, the first sst/0.0.0+1x8x8
	// budget 128 MiB: 16 groups of 16 chunks, the first sst/0.0.0+1x4x4
}
