package plan

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/source"
	// The netCDF reader, for the fixtures.
	_ "github.com/zarrforge/zarrforge/internal/formats"
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
		Input: Input{Index: Index{Concat: []int{concat}, Merge: merge}, Source: src, URL: src},
		Dims:  []source.Dim{{Name: "time", Len: n, Unlimited: true}, {Name: "lat", Len: nlat}, {Name: "lon", Len: 4}},
		Vars: []source.Var{
			{Name: "time", Type: source.Double, Dims: []string{"time"}, Shape: []int64{n},
				Attrs: []source.Attr{{Name: "units", Type: source.Char, Value: units}}},
			{Name: "sst", Type: source.Short, Dims: []string{"time", "lat", "lon"}, Shape: []int64{n, nlat, 4},
				Attrs: []source.Attr{{Name: "_FillValue", Type: source.Short, Value: []int16{-999}}}},
		},
		Attrs:  []source.Attr{{Name: "title", Type: source.Char, Value: "input " + src}},
		Coords: [][]byte{coord},
	}
}

func merged(t *testing.T, metas ...InputMeta) (Schema, error) {
	t.Helper()
	var g Merger
	for _, m := range metas {
		if err := g.Add(m, []string{"time"}); err != nil {
			return Schema{}, err
		}
	}
	return g.Schema([]ConcatDim{{Name: "time"}})
}

func coordValues(t *testing.T, s Schema) []float64 {
	t.Helper()
	cv, _ := s.CoordVar(0)
	v, err := toFloat64(cv.Type, s.Concat[0].Coord)
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
		offs = append(offs, e.Spans[0].Offset)
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
	otherType.Vars[1].Type = source.Float
	missingVar := base(1)
	missingVar.Vars = missingVar.Vars[:1]
	otherCal := base(1)
	otherCal.Vars[0].Attrs = append(otherCal.Vars[0].Attrs, source.Attr{Name: "calendar", Type: source.Char, Value: "noleap"})
	otherGrid := base(1)
	otherGrid.CoordSums = []CoordSum{{Name: "lat", Sum: "x"}}
	first := base(0)
	first.CoordSums = []CoordSum{{Name: "lat", Sum: "y"}}
	withAttr := func(c int, attrs ...source.Attr) InputMeta {
		m := base(c)
		m.Vars[1].Attrs = append(m.Vars[1].Attrs, attrs...)
		return m
	}
	scale := func(f float32) source.Attr {
		return source.Attr{Name: "scale_factor", Type: source.Float, Value: []float32{f}}
	}
	otherFill := base(1)
	otherFill.Vars[1].Attrs = []source.Attr{{Name: "_FillValue", Type: source.Short, Value: []int16{-32767}}}

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
	if len(src) != 1 || !slices.Equal(src[0].Input.Index.Merge, []int{1}) || !slices.Equal(src[0].Input.Index.Concat, []int{1}) {
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
		`TargetConfig.Chunks["depth"]: the dataset has no dimension`: {"depth": 2},
		`TargetConfig.Chunks["lat"]: chunk size must be >= 1`:        {"lat": 0},
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
		s := Schema{Concat: []Axis{{Name: "time"}}, Dims: []Dim{{"time", 3}, {"lat", lat}, {"lon", lon}},
			Vars: []Variable{{Name: "v", Type: source.Float, Dims: []string{"time", "lat", "lon"}, Shape: []int64{3, lat, lon}}}}
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

// member places m, an input of meta, at time position t and member
// position k of a pattern concatenated along time and a new dimension
// member, which m lacks.
func member(m InputMeta, t, k int) InputMeta {
	m.Input.Index.Concat = []int{t, k}
	m.Input.Source = fmt.Sprintf("in%d_m%d.nc", t, k)
	m.Input.URL = m.Input.Source
	m.Coords = append(m.Coords, nil)
	return m
}

func mergedAlong(concat []ConcatDim, metas ...InputMeta) (Schema, error) {
	var g Merger
	for _, m := range metas {
		if err := g.Add(m, ConcatNames(concat)); err != nil {
			return Schema{}, err
		}
	}
	return g.Schema(concat)
}

// TestMergeConcatDims: inputs concatenated along time and along member,
// a dimension they lack: data variables gain it in front, coordinates do
// not, its keys are its coordinate, and every input has its place along
// both.
func TestMergeConcatDims(t *testing.T) {
	const units = "days since 2000-01-01"
	concat := []ConcatDim{{Name: "time"}, {Name: "member", Keys: []string{"r1", "r2", "r3"}}}
	var metas []InputMeta
	for k := 2; k >= 0; k-- { // in any order
		metas = append(metas, member(meta(1, nil, []float64{2}, units, 3), 1, k), member(meta(0, nil, []float64{0, 1}, units, 3), 0, k))
	}
	s, err := mergedAlong(concat, metas...)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Concat[1].New || s.Concat[0].New || !slices.Equal(s.Concat[1].Labels, []string{"r1", "r2", "r3"}) {
		t.Errorf("axes %+v", s.Concat)
	}
	sst, _ := s.Var("sst")
	if !slices.Equal(sst.Dims, []string{"member", "time", "lat", "lon"}) || !slices.Equal(sst.Shape, []int64{3, 3, 3, 4}) || sst.Lead != 1 {
		t.Errorf("sst %v %v lead %d", sst.Dims, sst.Shape, sst.Lead)
	}
	if tv, _ := s.Var("time"); !slices.Equal(tv.Dims, []string{"time"}) {
		t.Errorf("the time coordinate gained a dimension: %v", tv.Dims)
	}
	if mv, ok := s.Var("member"); !ok || mv.Type != source.String || !s.IsConcatCoord(mv) || s.WrittenByChunks(mv) {
		t.Errorf("member coordinate %+v", mv)
	}
	if got := coordValues(t, s); !slices.Equal(got, []float64{0, 1, 2}) {
		t.Errorf("time = %v", got)
	}
	e := s.Inputs[len(s.Inputs)-1] // time position 1, member 2
	if e.Spans[0] != (Span{Offset: 2, Len: 1, Units: units}) || e.Spans[1] != (Span{Offset: 2, Len: 1}) {
		t.Errorf("spans of %s: %+v", e.Input.Source, e.Spans)
	}
	// A chunk of members 1..2 and steps 1..2 reads four inputs, each at
	// its place, without the member dimension.
	if err := s.Layout(map[string]int64{"time": 2, "member": 2}); err != nil {
		t.Fatal(err)
	}
	src, err := s.Sources(sst, []int64{1, 1, 0, 0}, []int64{2, 2, 3, 4})
	if err != nil || len(src) != 4 {
		t.Fatalf("sources %+v, %v", src, err)
	}
	for _, sl := range src {
		name, start, count, _ := sst.Read(sl.Start, sl.Count)
		if name != "sst" || len(start) != 3 || count[0] != 1 || sl.Count[0] != 1 || sl.At[0] != int64(sl.Input.Index.Concat[1]-1) {
			t.Errorf("read %+v: %s %v %v", sl, name, start, count)
		}
	}
}

// TestMergeOnceIfAbsent: inputs that lack a concat dimension declared
// OnceIfAbsent (a netCDF-4 group without time) are not concatenated: no
// variable gains the dimension, and each is read from position 0.
func TestMergeOnceIfAbsent(t *testing.T) {
	concat := []ConcatDim{{Name: "member", Keys: []string{"r1", "r2", "r3"}, OnceIfAbsent: true}}
	var metas []InputMeta
	for k := range 3 {
		metas = append(metas, member(meta(0, nil, []float64{0, 1}, "days since 2000-01-01", 3), 0, k))
	}
	for i := range metas {
		metas[i].Input.Index.Concat = metas[i].Input.Index.Concat[1:]
		metas[i].Coords = metas[i].Coords[1:]
	}
	s, err := mergedAlong(concat, metas...)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Dim("member"); ok || s.Concat[0].Labels != nil {
		t.Errorf("dims %+v, axes %+v: want no member dimension", s.Dims, s.Concat)
	}
	sst, _ := s.Var("sst")
	if !slices.Equal(sst.Dims, []string{"time", "lat", "lon"}) || sst.Lead != 0 {
		t.Errorf("sst %v lead %d", sst.Dims, sst.Lead)
	}
	if err := s.Layout(nil); err != nil {
		t.Fatal(err)
	}
	src, err := s.Sources(sst, []int64{0, 0, 0}, sst.Shape)
	if err != nil || len(src) != 1 || src[0].Input.Index.Concat[0] != 0 {
		t.Errorf("sources %+v, %v", src, err)
	}
}

func TestMergeConcatDimsErrors(t *testing.T) {
	const units = "days since 2000-01-01"
	concat := []ConcatDim{{Name: "time"}, {Name: "member"}}
	ok := func(tm, k int) InputMeta { return member(meta(tm, nil, []float64{float64(tm)}, units, 3), tm, k) }
	hasMember := ok(0, 1)
	hasMember.Dims = append(hasMember.Dims, source.Dim{Name: "member", Len: 1})
	// A variable over other dimensions (a scalar one is promoted: see
	// TestMergePromotesScalars).
	named := ok(0, 0)
	named.Vars = append(named.Vars, source.Var{Name: "member", Type: source.Int, Dims: []string{"lat"}, Shape: []int64{3}})
	named1 := ok(0, 1)
	named1.Vars = append(named1.Vars, source.Var{Name: "member", Type: source.Int, Dims: []string{"lat"}, Shape: []int64{3}})
	otherTime := member(meta(0, nil, []float64{5}, units, 3), 0, 1)
	longer := member(meta(1, nil, []float64{1, 1.5}, units, 3), 1, 1)
	for _, tt := range []struct {
		name  string
		metas []InputMeta
		want  string
	}{
		{"missing input", []InputMeta{ok(0, 0), ok(0, 1), ok(1, 0)}, "input at concat position 1, 1 (merge position []) is missing"},
		{"dimension in some inputs", []InputMeta{ok(0, 0), hasMember}, `dimension "member" is missing from the`},
		{"variable named as the new dimension", []InputMeta{named, named1}, `variable "member" has the name of a dimension to concatenate along`},
		{"time differs between members", []InputMeta{ok(0, 0), otherTime}, `coordinate "time" values differ`},
		{"irregular grid", []InputMeta{ok(0, 0), ok(0, 1), ok(1, 0), longer}, `1 vs 2 steps along "time"`},
	} {
		_, err := mergedAlong(concat, tt.metas...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestMergePromotesScalars: along a dimension the inputs lack, a scalar
// coordinate of its name becomes its coordinate (the inputs' values in
// order, not the keys), and scalar coordinates whose values differ gain
// it while equal ones stay scalars, as xarray.concat(coords="different")
// gives cfgrib's datasets of one reference time each.
func TestMergePromotesScalars(t *testing.T) {
	concat := []ConcatDim{{Name: "member", Keys: []string{"a", "b"}}}
	in := func(k int, member, valid, step int64) InputMeta {
		m := meta(0, nil, []float64{0}, "days since 2000-01-01", 3)
		m.Input.Index.Concat, m.Input.Source = []int{k}, fmt.Sprintf("in%d.grib2", k)
		m.Coords = [][]byte{nil}
		m.Vars = append(m.Vars, source.Var{Name: "member", Type: source.Int64}, source.Var{Name: "valid", Type: source.Int64},
			source.Var{Name: "step", Type: source.Int64})
		m.Vars[1].Attrs = append(m.Vars[1].Attrs, source.Attr{Name: "coordinates", Type: source.Char, Value: "member valid step"})
		for _, c := range []struct {
			name string
			v    int64
		}{{"member", member}, {"valid", valid}, {"step", step}} {
			m.AuxCoords = append(m.AuxCoords, CoordSum{Name: c.name, Sum: hex.EncodeToString(binary.LittleEndian.AppendUint64(nil, uint64(c.v)))})
		}
		return m
	}
	s, err := mergedAlong(concat, in(1, 7, 70, 6), in(0, 3, 30, 6))
	if err != nil {
		t.Fatal(err)
	}
	if mv, ok := s.Var("member"); !ok || !slices.Equal(mv.Dims, []string{"member"}) || mv.Type != source.Int64 || !s.IsConcatCoord(mv) ||
		!bytes.Equal(s.Concat[0].Coord, binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 3), 7)) {
		t.Errorf("member %+v, coordinate % x", mv, s.Concat[0].Coord)
	}
	if v, _ := s.Var("valid"); !slices.Equal(v.Dims, []string{"member"}) || v.Lead != 1 {
		t.Errorf("valid %+v: want it along member", v)
	}
	if v, _ := s.Var("step"); len(v.Dims) != 0 {
		t.Errorf("step %+v: want a scalar", v)
	}
}

// TestDescribeNoValues: a variable without values (a null HDF5 dataspace)
// is refused when the inputs are described, before anything is written,
// naming it and the way out; dropped, the input describes.
func TestDescribeNoValues(t *testing.T) {
	path := beamtest.Testdata("formats", "nc4_h5py_null.nc")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := source.Open(bytes.NewReader(b), int64(len(b)), path, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Index: Index{Concat: []int{0}}, Source: path, URL: path}
	_, err = Describe(in, f, []string{"x"}, 1<<20, Preprocess{})
	if err == nil || !strings.Contains(err.Error(), `variable "nothing" has no values`) || !strings.Contains(err.Error(), "Preprocess.DropVars") {
		t.Errorf("described with it: %v", err)
	}
	if _, err := Describe(in, f, []string{"x"}, 1<<20, Preprocess{DropVars: []string{"nothing"}}); err != nil {
		t.Errorf("with it dropped: %v", err)
	}
}

// TestRenameCollision: a rename onto a name an input has is refused in the
// pipeline's own header edit too, naming the rename.
func TestRenameCollision(t *testing.T) {
	m := InputMeta{Input: Input{Source: "in.nc"},
		Dims: []source.Dim{{Name: "lat", Len: 2}, {Name: "lon", Len: 3}},
		Vars: []source.Var{{Name: "sst", Dims: []string{"lat", "lon"}}, {Name: "ice", Dims: []string{"lat", "lon"}}}}
	for rename, want := range map[string]string{
		"lon": `Preprocess.Rename["lon"]: input in.nc already has a variable or dimension "lat"`,
		"sst": `Preprocess.Rename["sst"]: input in.nc already has a variable or dimension "ice"`,
	} {
		to := map[string]string{"lon": "lat", "sst": "ice"}[rename]
		mm := m
		mm.Dims, mm.Vars = slices.Clone(m.Dims), slices.Clone(m.Vars)
		err := Preprocess{Rename: []Rename{{From: rename, To: to}}}.Apply(&mm)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("rename %s: got %v, want %s", rename, err, want)
		}
	}
}

// TestCheckChunkCount: a layout of more than MaxChunks chunks — a
// dimension an input declares huge, chunks far too fine; products that
// would overflow — is refused naming the variable; others pass.
func TestCheckChunkCount(t *testing.T) {
	for _, tc := range []struct {
		name          string
		shape, chunks []int64
		want          string
	}{
		{"ERA5-like", []int64{750000, 721, 1440}, []int64{1, 721, 1440}, ""},
		{"a huge declared dimension", []int64{1e12}, []int64{1000}, `variable "v": shape [1000000000000] in chunks of [1000] alone has more`},
		{"an overflowing product", []int64{1 << 40, 1 << 40, 1 << 40}, []int64{1, 1, 1}, "more than 100000000 chunks"},
	} {
		s := Schema{Vars: []Variable{{Name: "v", Shape: tc.shape, Chunks: tc.chunks}}}
		err := s.CheckChunkCount()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
