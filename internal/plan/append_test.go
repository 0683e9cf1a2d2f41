package plan

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/source"
)

// stored describes a store of sst(time, lat=7, lon=4) with n days, time
// chunks of 2, zstd, and time in "days since 2000-01-01".
func stored(n int64) Held {
	times := make([]float64, n)
	for i := range times {
		times[i] = float64(i)
	}
	coord, _ := fromFloat64(source.Double, times)
	return Held{
		Len:   n,
		Coord: coord,
		Arrays: map[string]HeldArray{
			"time": {Shape: []int64{n}, Chunks: []int64{n}, DType: "<f8", Dims: []string{"time"},
				Attrs: map[string]any{"units": "days since 2000-01-01"}},
			"sst": {Shape: []int64{n, 7, 4}, Chunks: []int64{2, 7, 4}, DType: "<i2", FillValue: int64(-999),
				Dims: []string{"time", "lat", "lon"}, Attrs: map[string]any{}},
		},
	}
}

func TestAppendTo(t *testing.T) {
	days := func(units string, vals ...float64) Schema {
		s, err := merged(t, meta(0, nil, vals, units, 7))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Layout(map[string]int64{"time": 2}); err != nil {
			t.Fatal(err)
		}
		return s
	}
	const units = "days since 2000-01-01"

	// Three days after three: shapes grow, inputs move, the coordinate is
	// the store's followed by the inputs', re-encoded into its units.
	s := days("hours since 2000-01-02", 48, 72, 96)
	if err := s.AppendTo(stored(3), map[string]int64{"time": 2}, nil); err != nil {
		t.Fatal(err)
	}
	sst, _ := s.Var("sst")
	if s.Base != 3 || !slices.Equal(sst.Shape, []int64{6, 7, 4}) || s.Inputs[0].Spans[0].Offset != 3 {
		t.Errorf("base %d shape %v offset %d", s.Base, sst.Shape, s.Inputs[0].Spans[0].Offset)
	}
	if got := coordValues(t, s); !slices.Equal(got, []float64{0, 1, 2, 3, 4, 5}) {
		t.Errorf("coordinate %v", got)
	}
	// Chunk 1 (steps 2, 3) straddles the old end: step 2 is the store's.
	var keys []string
	s.ChunkKeys(func(k ChunkKey) { keys = append(keys, k.String()) })
	if !slices.Equal(keys, []string{"sst/1.0.0", "sst/2.0.0"}) || s.NumChunks() != 2 {
		t.Errorf("keys %v, NumChunks %d", keys, s.NumChunks())
	}
	start, count := sst.Region([]int64{1, 0, 0})
	parts, err := s.Sources(sst, start, count)
	if err != nil || len(parts) != 2 || !parts[0].Existing || parts[0].Count[0] != 1 || parts[1].Existing || parts[1].At[0] != 1 {
		t.Errorf("sources %+v %v", parts, err)
	}

	for _, c := range []struct {
		name   string
		schema Schema
		store  func(*Held)
		chunks map[string]int64
		want   string
		shards map[string]int64
	}{
		{"overlap", days(units, 2, 3), nil, nil, "value 2000-01-03 (2 days since 2000-01-01) repeats the store's last value, 2000-01-03 (2 days since 2000-01-01)", nil},
		{"going back", days(units, 5, 4), nil, nil, "value 2000-01-05 (4 days since 2000-01-01) does not come after the value before it, 2000-01-06 (5 days since 2000-01-01)", nil},
		{"a variable the store lacks", days(units, 3), func(st *Held) { delete(st.Arrays, "sst") }, nil, `variable "sst" is in the inputs but not in the store`, nil},
		{"a variable the inputs lack", days(units, 3), func(st *Held) { st.Arrays["ice"] = st.Arrays["sst"] }, nil, "the store has variables the inputs lack: ice", nil},
		{"another dtype", days(units, 3), func(st *Held) { a := st.Arrays["sst"]; a.DType = "<f4"; st.Arrays["sst"] = a }, nil, `variable "sst": dtype <i2 in the inputs, <f4 in the store`, nil},
		{"another grid", days(units, 3), func(st *Held) { a := st.Arrays["sst"]; a.Shape = []int64{3, 8, 4}; st.Arrays["sst"] = a }, nil, `variable "sst": dimension lat has 7 in the inputs, 8 in the store`, nil},
		{"other dimensions", days(units, 3), func(st *Held) {
			a := st.Arrays["sst"]
			a.Dims = []string{"time", "y", "x"}
			st.Arrays["sst"] = a
		}, nil, `variable "sst": dimensions (time, lat, lon) in the inputs, (time, y, x) in the store`, nil},
		{"another fill value", days(units, 3), func(st *Held) { a := st.Arrays["sst"]; a.FillValue = math.NaN(); st.Arrays["sst"] = a }, nil, `variable "sst": fill value -999 in the inputs, NaN in the store`, nil},
		{"other chunks", days(units, 3), nil, map[string]int64{"time": 5}, `TargetConfig.Chunks["time"]: the store's "sst" has chunks of 2 along time, not 5`, nil},
		{"shards on an unsharded store", days(units, 3), nil, nil, `TargetConfig.Shards["time"]: the store's "sst" is not sharded`, map[string]int64{"time": 4}},
		{"other shards", days(units, 3), func(st *Held) { a := st.Arrays["sst"]; a.Inner = []int64{1, 7, 4}; st.Arrays["sst"] = a }, nil,
			`TargetConfig.Shards["time"]: the store's "sst" has shards of 2 along time, not 4`, map[string]int64{"time": 4}},
		{"another calendar", days(units, 3), func(st *Held) { st.Arrays["time"].Attrs["calendar"] = "noleap" }, nil, `calendar "" in the inputs, "noleap" in the store`, nil},
		{"another scale factor", days(units, 3), func(st *Held) { st.Arrays["sst"].Attrs["scale_factor"] = 0.1 }, nil,
			`variable "sst": attribute scale_factor is absent in the inputs, 0.1 in the store`, nil},
	} {
		st := stored(3)
		if c.store != nil {
			c.store(&st)
		}
		err := c.schema.AppendTo(st, c.chunks, c.shards)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
