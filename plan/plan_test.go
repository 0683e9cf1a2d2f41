package plan

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/netcdf"
)

// meta builds the InputMeta of a synthetic input holding sst(time, lat, lon)
// and a float64 time coordinate with the given values and units.
func meta(concat int, merge []int, times []float64, units string, nlat int64) InputMeta {
	coord := make([]byte, 8*len(times))
	for i, t := range times {
		binary.LittleEndian.PutUint64(coord[8*i:], math.Float64bits(t))
	}
	n := int64(len(times))
	src := "in" + string(rune('0'+concat)) + ".nc"
	return InputMeta{
		Input: Input{Index: Index{Concat: concat, Merge: merge}, Source: src, URL: src},
		Dims:  []netcdf.Dim{{Name: "time", Len: n, Unlimited: true}, {Name: "lat", Len: nlat}, {Name: "lon", Len: 4}},
		Vars: []netcdf.Var{
			{Name: "time", Type: netcdf.Double, Dims: []string{"time"}, Shape: []int64{n},
				Attrs: []netcdf.Attr{{Name: "units", Type: netcdf.Char, Value: units}}},
			{Name: "sst", Type: netcdf.Short, Dims: []string{"time", "lat", "lon"}, Shape: []int64{n, nlat, 4},
				Attrs: []netcdf.Attr{{Name: "_FillValue", Type: netcdf.Short, Value: []int16{-999}}}},
		},
		Attrs: []netcdf.Attr{{Name: "title", Type: netcdf.Char, Value: "input " + src}},
		Coord: coord,
	}
}

func merged(t *testing.T, metas ...InputMeta) (Schema, error) {
	t.Helper()
	var g Merger
	for _, m := range metas {
		if err := g.Add(m, "time"); err != nil {
			return Schema{}, err
		}
	}
	return g.Schema("time")
}

func coordValues(t *testing.T, s Schema) []float64 {
	t.Helper()
	cv, _ := s.CoordVar()
	v, err := toFloat64(cv.Type, s.Coord)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMergeOffsetsAndRecode(t *testing.T) {
	// Added out of order, with per-file units: the result is ordered and in
	// the first input's units.
	s, err := merged(t,
		meta(2, nil, []float64{0}, "days since 2000-01-06", 3),
		meta(0, nil, []float64{0, 1, 2}, "days since 2000-01-01", 3),
		meta(1, nil, []float64{0, 24}, "hours since 2000-01-04", 3),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := coordValues(t, s); !slices.Equal(got, []float64{0, 1, 2, 3, 4, 5}) {
		t.Errorf("time = %v", got)
	}
	if size, _ := s.Dim("time"); size != 6 {
		t.Errorf("time size %d", size)
	}
	var offs []int64
	for _, e := range s.Inputs {
		offs = append(offs, e.Offset)
	}
	if !slices.Equal(offs, []int64{0, 3, 5}) {
		t.Errorf("offsets %v", offs)
	}
	if got := s.Attrs[0].Value; got != "input in0.nc" {
		t.Errorf("global attrs from %v, want the first input", got)
	}
}

func TestMergeErrors(t *testing.T) {
	base := func(c int) InputMeta { return meta(c, nil, []float64{float64(c)}, "days since 2000-01-01", 3) }
	otherType := base(1)
	otherType.Vars[1].Type = netcdf.Float
	missingVar := base(1)
	missingVar.Vars = missingVar.Vars[:1]
	otherCal := base(1)
	otherCal.Vars[0].Attrs = append(otherCal.Vars[0].Attrs, netcdf.Attr{Name: "calendar", Type: netcdf.Char, Value: "noleap"})
	otherGrid := base(1)
	otherGrid.CoordSums = []CoordSum{{Name: "lat", Sum: "x"}}
	first := base(0)
	first.CoordSums = []CoordSum{{Name: "lat", Sum: "y"}}
	withAttr := func(c int, attrs ...netcdf.Attr) InputMeta {
		m := base(c)
		m.Vars[1].Attrs = append(m.Vars[1].Attrs, attrs...)
		return m
	}
	scale := func(f float32) netcdf.Attr {
		return netcdf.Attr{Name: "scale_factor", Type: netcdf.Float, Value: []float32{f}}
	}
	otherFill := base(1)
	otherFill.Vars[1].Attrs = []netcdf.Attr{{Name: "_FillValue", Type: netcdf.Short, Value: []int16{-32767}}}

	tests := []struct {
		name   string
		metas  []InputMeta
		errHas []string
	}{
		{"grid size", []InputMeta{base(0), meta(1, nil, []float64{1}, "days since 2000-01-01", 5)},
			[]string{"in0.nc", "in1.nc", `dimension "lat" has size 3 vs 5`}},
		{"dtype", []InputMeta{base(0), otherType}, []string{"in0.nc", "in1.nc", `variable "sst": type short vs float`}},
		{"missing variable", []InputMeta{base(0), missingVar}, []string{`variable "sst" is missing from the second`}},
		{"gap", []InputMeta{base(0), base(2)}, []string{"concat position 1", "in2.nc"}},
		{"duplicate", []InputMeta{base(0), base(0)}, []string{"same position"}},
		{"calendar", []InputMeta{base(0), otherCal}, []string{"calendar"}},
		{"coordinate values", []InputMeta{first, otherGrid}, []string{`coordinate "lat" has different values`}},
		{"packing", []InputMeta{withAttr(0, scale(0.01)), withAttr(1, scale(0.1))},
			[]string{"in0.nc", "in1.nc", `variable "sst": attribute scale_factor is [0.01] (float) vs [0.1] (float)`}},
		{"packing in one", []InputMeta{withAttr(0, scale(0.01)), base(1)}, []string{"attribute scale_factor is [0.01] (float) vs absent"}},
		{"fill", []InputMeta{base(0), otherFill}, []string{"attribute _FillValue is [-999] (short) vs [-32767] (short)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := merged(t, tc.metas...)
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tc.errHas {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestMergeDims(t *testing.T) {
	sst := func(c int) InputMeta { return meta(c, []int{0}, []float64{float64(c)}, "days since 2000-01-01", 3) }
	ice := func(c int) InputMeta {
		m := meta(c, []int{1}, []float64{float64(c)}, "days since 2000-01-01", 3)
		m.Vars[1].Name = "ice"
		return m
	}
	s, err := merged(t, ice(1), sst(1), sst(0), ice(0))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range s.Vars {
		names = append(names, v.Name)
	}
	if !slices.Equal(names, []string{"time", "sst", "ice"}) {
		t.Errorf("vars %v", names)
	}
	iv, _ := s.Var("ice")
	if !slices.Equal(iv.Merge, []int{1}) {
		t.Errorf("ice merge %v", iv.Merge)
	}
	if err := s.Layout(map[string]int64{"time": 1}); err != nil {
		t.Fatal(err)
	}
	src, err := s.Sources(iv, []int64{1, 0, 0}, []int64{1, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(src) != 1 || !slices.Equal(src[0].Input.Index.Merge, []int{1}) || src[0].Input.Index.Concat != 1 {
		t.Errorf("sources %+v", src)
	}
}

func TestLayoutAndSources(t *testing.T) {
	s, err := merged(t,
		meta(0, nil, []float64{0, 1}, "days since 2000-01-01", 7),
		meta(1, nil, []float64{2, 3, 4, 5, 6}, "days since 2000-01-01", 7),
		meta(2, nil, []float64{7}, "days since 2000-01-01", 7),
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Layout(map[string]int64{"time": 3, "lat": 4}); err != nil {
		t.Fatal(err)
	}
	sst, _ := s.Var("sst")
	if !slices.Equal(sst.Chunks, []int64{3, 4, 4}) || !slices.Equal(sst.Grid(), []int64{3, 2, 1}) {
		t.Errorf("chunks %v grid %v", sst.Chunks, sst.Grid())
	}
	tv, _ := s.Var("time")
	if !slices.Equal(tv.Chunks, []int64{8}) {
		t.Errorf("time chunks %v; dimension coordinates are one chunk", tv.Chunks)
	}
	var keys []string
	s.ChunkKeys(func(k ChunkKey) { keys = append(keys, k.String()) })
	want := []string{"sst/0.0.0", "sst/0.1.0", "sst/1.0.0", "sst/1.1.0", "sst/2.0.0", "sst/2.1.0"}
	if !slices.Equal(keys, want) || s.NumChunks() != 6 {
		t.Errorf("keys %v (NumChunks %d)", keys, s.NumChunks())
	}
	// Chunk 1 along time covers steps 3..5: all in input 1.
	start, count := sst.Region([]int64{1, 1, 0})
	if !slices.Equal(start, []int64{3, 4, 0}) || !slices.Equal(count, []int64{3, 3, 4}) {
		t.Errorf("region %v %v", start, count)
	}
	src, err := s.Sources(sst, start, count)
	if err != nil || len(src) != 1 || !slices.Equal(src[0].Start, []int64{1, 4, 0}) {
		t.Errorf("sources %+v %v", src, err)
	}
	// Chunk 2 covers steps 6..7: the end of input 1 and input 2.
	start, count = sst.Region([]int64{2, 0, 0})
	src, err = s.Sources(sst, start, count)
	if err != nil || len(src) != 2 {
		t.Fatalf("sources %+v %v", src, err)
	}
	if !slices.Equal(src[0].Start, []int64{4, 0, 0}) || !slices.Equal(src[0].Count, []int64{1, 4, 4}) ||
		!slices.Equal(src[1].Start, []int64{0, 0, 0}) || !slices.Equal(src[1].At, []int64{1, 0, 0}) {
		t.Errorf("sources %+v", src)
	}
}

func TestLayoutErrors(t *testing.T) {
	s, err := merged(t, meta(0, nil, []float64{0}, "days since 2000-01-01", 3))
	if err != nil {
		t.Fatal(err)
	}
	for chunks, want := range map[string]map[string]int64{
		"target.chunks.depth: the dataset has no dimension": {"depth": 2},
		"target.chunks.lat: chunk size must be >= 1":        {"lat": 0},
	} {
		if err := s.Layout(want); err == nil || !strings.Contains(err.Error(), chunks) {
			t.Errorf("Layout(%v) = %v, want %q", want, err, chunks)
		}
	}
}

// FuzzLayout lays out schemas of any shape with any chunk sizes: Layout
// and CheckMemory never panic, and a layout within the budget has a grid
// that covers every dimension with chunks of at most budget bytes.
func FuzzLayout(f *testing.F) {
	f.Add(int64(40000), int64(40000), int64(1), int64(0), int64(0))
	f.Add(int64(7), int64(10), int64(9223372036854775807), int64(3), int64(0))
	f.Add(int64(1<<40), int64(1<<40), int64(4611686018427387904), int64(-1), int64(5))
	f.Fuzz(func(t *testing.T, lat, lon, tc, latc, lonc int64) {
		if lat < 0 || lon < 0 {
			return
		}
		s := Schema{ConcatDim: "time", Dims: []Dim{{"time", 3}, {"lat", lat}, {"lon", lon}},
			Vars: []Variable{{Name: "v", Type: netcdf.Float, Dims: []string{"time", "lat", "lon"}, Shape: []int64{3, lat, lon}}}}
		chunks := map[string]int64{"time": tc}
		if latc != 0 {
			chunks["lat"] = latc
		}
		if lonc != 0 {
			chunks["lon"] = lonc
		}
		if err := s.Layout(chunks); err != nil {
			return
		}
		const budget = 1 << 30
		if err := s.CheckMemory(budget); err != nil {
			return
		}
		v := s.Vars[0]
		n := int64(4)
		for i, c := range v.Chunks {
			if c < 1 || v.Grid()[i] < 0 || v.Grid()[i]*c < v.Shape[i] {
				t.Fatalf("chunks %v grid %v for shape %v", v.Chunks, v.Grid(), v.Shape)
			}
			n *= c
		}
		if n > budget {
			t.Fatalf("chunks %v take %d bytes", v.Chunks, n)
		}
	})
}
