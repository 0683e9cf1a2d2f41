package plan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/zarrforge/zarrforge/source"
)

// gridSchema is a schema of one variable v(time, lat, lon) of int16 over
// inputs of the given lengths along time, stored in chunks of src (nil:
// contiguous), laid out in target chunks.
func gridSchema(t *testing.T, lens []int64, lat, lon int64, src, chunks []int64, typ source.Type) Schema {
	t.Helper()
	s := Schema{Concat: []Axis{{Name: "time"}}}
	var total int64
	for i, n := range lens {
		s.Inputs = append(s.Inputs, Extent{Input: Input{Index: Index{Concat: []int{i}}, Source: fmt.Sprintf("in%d.nc", i), URL: fmt.Sprintf("in%d.nc", i)}, Spans: []Span{{Offset: total, Len: n}}})
		total += n
	}
	s.Dims = []Dim{{Name: "time", Size: total}, {Name: "lat", Size: lat}, {Name: "lon", Size: lon}}
	s.Vars = []Variable{{Name: "v", Type: typ, Dims: []string{"time", "lat", "lon"}, Shape: []int64{total, lat, lon}, SourceChunks: src}}
	if err := s.Layout(map[string]int64{"time": chunks[0], "lat": chunks[1], "lon": chunks[2]}); err != nil {
		t.Fatal(err)
	}
	return s
}

func ones(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

func TestGroups(t *testing.T) {
	const MiB = 1 << 20
	for _, c := range []struct {
		name   string
		lens   []int64
		src    []int64
		chunks []int64
		typ    source.Type
		budget int64
		cores  int
		want   []string // the first groups
		n      int64    // how many groups
	}{
		{"daily global slices, 16 tiles: a time block each", ones(60), []int64{1, 72, 144}, []int64{60, 18, 36}, source.Short, 512 * MiB, 1,
			[]string{"v/0.0.0+1x4x4"}, 1},
		{"daily slices, 30-day chunks: one chunk a group", ones(60), []int64{1, 72, 144}, []int64{30, 72, 144}, source.Short, 512 * MiB, 1,
			[]string{"v/0.0.0+1x1x1", "v/1.0.0+1x1x1"}, 2},
		{"a block over the budget: halved anywhere (slices are whole-grid chunks)", ones(60), []int64{1, 72, 144}, []int64{60, 18, 36}, source.Short, 400_000, 1,
			[]string{"v/0.0.0+1x2x2", "v/0.0.2+1x2x2"}, 4},
		{"tiled sources: halved at tile boundaries", ones(8), []int64{1, 90, 120}, []int64{8, 45, 40}, source.Short, 8 * 180 * 360 * 2 / 3, 1,
			[]string{"v/0.0.0+1x4x3", "v/0.0.3+1x4x3", "v/0.0.6+1x4x3"}, 3},
		{"files of 10 steps in chunks of 5, target chunks of 2: groups of 5 chunks", []int64{10, 10}, []int64{5, 10, 10}, []int64{2, 10, 10}, source.Float, 512 * MiB, 1,
			[]string{"v/0.0.0+5x1x1", "v/5.0.0+5x1x1"}, 2},
		{"uneven files of 3 and 6 steps in chunks of 3, target chunks of 2", []int64{3, 6}, []int64{3, 10, 10}, []int64{2, 10, 10}, source.Float, 512 * MiB, 1,
			[]string{"v/0.0.0+3x1x1", "v/3.0.0+2x1x1"}, 2},
		{"daily slices, 30-day chunks, 2 cores: two chunks a group", ones(60), []int64{1, 72, 144}, []int64{30, 72, 144}, source.Short, 512 * MiB, 2,
			[]string{"v/0.0.0+2x1x1"}, 1},
		{"daily slices, 10-day chunks, 4 cores: four chunks a group, then two", ones(60), []int64{1, 72, 144}, []int64{10, 72, 144}, source.Short, 512 * MiB, 4,
			[]string{"v/0.0.0+4x1x1", "v/4.0.0+2x1x1"}, 2},
		{"daily slices, 20-day chunks, 2 cores: two, then the last alone", ones(60), []int64{1, 72, 144}, []int64{20, 72, 144}, source.Short, 512 * MiB, 2,
			[]string{"v/0.0.0+2x1x1", "v/2.0.0+1x1x1"}, 2},
		{"2 cores, a budget of one chunk: one chunk a group", ones(60), []int64{1, 72, 144}, []int64{30, 72, 144}, source.Short, 30 * 72 * 144 * 2, 2,
			[]string{"v/0.0.0+1x1x1", "v/1.0.0+1x1x1"}, 2},
		{"4 cores, 16 tiles a group already", ones(60), []int64{1, 72, 144}, []int64{30, 18, 36}, source.Short, 512 * MiB, 4,
			[]string{"v/0.0.0+1x4x4", "v/1.0.0+1x4x4"}, 2},
		{"contiguous: any cut", ones(4), nil, []int64{2, 5, 5}, source.Float, 512 * MiB, 1,
			[]string{"v/0.0.0+1x2x2", "v/1.0.0+1x2x2"}, 2},
		{"strings: a chunk at a time", ones(4), nil, []int64{2, 5, 5}, source.String, 512 * MiB, 1,
			[]string{"v/0.0.0+1x1x1", "v/0.0.1+1x1x1"}, 8},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := gridSchema(t, c.lens, max(c.chunks[1], 10), max(c.chunks[2], 10), c.src, c.chunks, c.typ)
			if c.src != nil && c.src[1] > 10 {
				s = gridSchema(t, c.lens, c.src[1], c.src[2], c.src, c.chunks, c.typ)
			}
			if c.name == "tiled sources: halved at tile boundaries" {
				s = gridSchema(t, c.lens, 180, 360, c.src, c.chunks, c.typ)
			}
			var got []string
			s.ReadGroups(c.budget, c.cores, func(g ReadGroup) { got = append(got, g.String()) })
			if int64(len(got)) != c.n || !slices.Equal(got[:min(len(got), len(c.want))], c.want) {
				t.Errorf("groups %v (%d), want %v... (%d)", got[:min(len(got), 6)], len(got), c.want, c.n)
			}
			checkCover(t, s, c.budget, c.cores)
		})
	}
}

// checkCover checks that the groups of s hold every chunk the chunk stage
// writes exactly once, and that each group's plan fills its region exactly
// once (inputs, or the store's steps) and lists its chunks.
func checkCover(t *testing.T, s Schema, budget int64, cores int) {
	t.Helper()
	want := map[string]int{}
	s.ChunkKeys(func(k ChunkKey) { want[k.String()]++ })
	got := map[string]int{}
	s.ReadGroups(budget, cores, func(g ReadGroup) {
		p, err := s.PlanReadGroup(g)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(p.Chunks)) != g.NumChunks() {
			t.Fatalf("group %s: plan of %d chunks", g, len(p.Chunks))
		}
		for _, c := range p.Chunks {
			got[ChunkKey{Var: g.Var, Index: c.Index}.String()]++
		}
		if s.Vars[0].Type == source.String {
			return
		}
		n := int64(1)
		for _, c := range p.Count {
			n *= c
		}
		hits := make([]int, n)
		st := make([]int64, len(p.Count)) // C-order strides of the region
		for i, n := len(st)-1, int64(1); i >= 0; i-- {
			st[i], n = n, n*p.Count[i]
		}
		axis := p.Var.ConcatAxis(s.AppendDim())
		for _, c := range p.Chunks { // stored steps
			if c.Held > 0 {
				cnt := slices.Clone(c.Count)
				cnt[axis] = c.Held
				mark(hits, st, c.At, cnt)
			}
		}
		for _, r := range p.Reads {
			mark(hits, st, r.At, r.Count)
		}
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("group %s: element %d of the region read %d times", g, i, h)
			}
		}
	})
	if len(got) != len(want) {
		t.Fatalf("groups hold %d chunks, want %d", len(got), len(want))
	}
	for k, n := range got {
		if n != 1 || want[k] != 1 {
			t.Fatalf("chunk %s in %d groups (wanted: %d)", k, n, want[k])
		}
	}
}

// mark counts the elements of the box at/count in hits (strides st).
func mark(hits []int, st, at, count []int64) {
	idx := make([]int64, len(at))
	for {
		off := int64(0)
		for i := range idx {
			off += (at[i] + idx[i]) * st[i]
		}
		hits[off]++
		k := len(idx) - 1
		for ; k >= 0; k-- {
			if idx[k]++; idx[k] < count[k] {
				break
			}
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// TestGroupsCoverEveryChunkOnce: for random layouts, stored chunkings,
// budgets and append bases, every chunk is in exactly one group and every
// group's reads fill its region once.
func TestGroupsCoverEveryChunkOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		var lens []int64
		for range 1 + r.IntN(5) {
			lens = append(lens, 1+r.Int64N(6))
		}
		lat, lon := 1+r.Int64N(12), 1+r.Int64N(12)
		var src []int64
		if r.IntN(4) > 0 {
			src = []int64{1 + r.Int64N(4), 1 + r.Int64N(lat), 1 + r.Int64N(lon)}
		}
		chunks := []int64{1 + r.Int64N(5), 1 + r.Int64N(lat), 1 + r.Int64N(lon)}
		s := gridSchema(t, lens, lat, lon, src, chunks, source.Short)
		if len(lens) > 1 && r.IntN(3) == 0 { // appending all but the first input
			s.Base = lens[0]
			s.Inputs = s.Inputs[1:]
		}
		budget, cores := int64(2+r.IntN(4000)), 1+r.IntN(6)
		t.Run(fmt.Sprint(trial), func(t *testing.T) { checkCover(t, s, max(budget, 2*chunks[0]*chunks[1]*chunks[2]), cores) })
	}
}

func TestSplitRead(t *testing.T) {
	v := &Variable{Name: "v", Type: source.Short, Dims: []string{"time", "y"}, Shape: []int64{100, 1000}, SourceChunks: []int64{3, 1000}}
	r := Slice{Start: []int64{4, 0}, Count: []int64{20, 1000}, At: []int64{7, 0}}
	got := splitRead(v, r, 12000) // 6 rows of 2000 bytes, a multiple of 3
	var rows []int64
	for _, p := range got {
		rows = append(rows, p.Start[0], p.Count[0], p.At[0])
	}
	want := []int64{4, 2, 7, 6, 6, 9, 12, 6, 15, 18, 6, 21}
	if !slices.Equal(rows, want) {
		t.Errorf("pieces (start, count, at) %v, want %v", rows, want)
	}
}

// FuzzGroups: for any small layout, stored chunking, budget, append base
// and number of cores, every chunk the stage writes is in exactly one read
// group and every group's reads fill its region once.
func FuzzGroups(f *testing.F) {
	f.Add(uint8(3), uint8(2), uint8(9), uint8(13), uint8(2), uint8(4), uint8(5), uint8(4), uint8(5), uint8(3), uint16(600), false, uint8(1))
	f.Add(uint8(1), uint8(4), uint8(7), uint8(7), uint8(1), uint8(7), uint8(7), uint8(2), uint8(3), uint8(3), uint16(2), true, uint8(1))
	f.Add(uint8(6), uint8(1), uint8(5), uint8(5), uint8(1), uint8(5), uint8(5), uint8(2), uint8(5), uint8(5), uint16(900), true, uint8(4))
	f.Fuzz(func(t *testing.T, n, lenEach, lat, lon, st, sy, sx, ct, cy, cx uint8, budget uint16, appending bool, cores uint8) {
		if n == 0 || n > 6 || lenEach == 0 || lenEach > 6 || lat == 0 || lat > 16 || lon == 0 || lon > 16 ||
			ct == 0 || cy == 0 || cx == 0 || ct > 8 || cy > lat || cx > lon {
			return
		}
		lens := make([]int64, n)
		for i := range lens {
			lens[i] = int64(lenEach) + int64(i%2)
		}
		var src []int64
		if st > 0 && sy > 0 && sx > 0 {
			src = []int64{int64(st), int64(sy), int64(sx)}
		}
		s := gridSchema(t, lens, int64(lat), int64(lon), src, []int64{int64(ct), int64(cy), int64(cx)}, source.Short)
		if appending && n > 1 {
			s.Base = lens[0]
			s.Inputs = s.Inputs[1:]
		}
		checkCover(t, s, max(int64(budget), 2*int64(ct)*int64(cy)*int64(cx)), int(cores%8)+1)
	})
}
