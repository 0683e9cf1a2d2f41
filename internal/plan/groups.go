package plan

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/zarrforge/zarrforge/source"
)

// ReadGroup is a box of target chunks of one variable that the chunk stage
// writes together, from one read of the inputs, so that each stored chunk
// of the inputs inside it is decoded (and fetched) once, however the target
// chunks cut it. Index is the chunk index of its first chunk along each
// dimension, Count how many chunks it spans.
type ReadGroup struct {
	Var   string
	Index []int64
	Count []int64
}

// String renders the group as "sst/0.0.0+1x4x4".
func (g ReadGroup) String() string {
	k := ChunkKey{Var: g.Var, Index: g.Index}.String()
	if len(g.Count) == 0 {
		return k
	}
	parts := make([]string, len(g.Count))
	for i, c := range g.Count {
		parts[i] = fmt.Sprint(c)
	}
	return k + "+" + strings.Join(parts, "x")
}

// NumChunks is how many chunks the group holds.
func (g ReadGroup) NumChunks() int64 {
	n := int64(1)
	for _, c := range g.Count {
		n *= c
	}
	return n
}

// ReadGroups calls emit for every read group of the chunk stage, which together
// hold every chunk the stage writes (ChunkKeys), each once. A group is the
// box of chunks between two cuts along each dimension that split no stored
// chunk of the inputs: along the concat dimension as few chunks as that
// allows, along the others all of them. While the largest group's region
// would take more than budget bytes, groups are halved: first along other
// dimensions at stored-chunk boundaries (no extra decoding), then along the
// concat dimension, and only then anywhere (stored chunks the cut splits
// are then decoded once for each side). While the largest group holds
// fewer chunks than cores, groups take in their neighbours along the
// concat dimension, as long as they fit budget, so that a group's chunks
// are encoded on that many cores at once (one chunk's encoding runs on one
// core). Strings are written a chunk at a time.
func (s *Schema) ReadGroups(budget int64, cores int, emit func(ReadGroup)) {
	for i := range s.Vars {
		v := &s.Vars[i]
		first := s.firstChunk(v)
		if first < 0 {
			continue
		}
		cuts := s.cuts(v, first, budget, int64(cores))
		if slices.ContainsFunc(cuts, func(c []int64) bool { return len(c) < 2 }) {
			continue // nothing of v to write
		}
		if len(cuts) == 0 {
			emit(ReadGroup{Var: v.Name})
			continue
		}
		at := make([]int, len(cuts)) // which range along each dimension
		for {
			g := ReadGroup{Var: v.Name, Index: make([]int64, len(cuts)), Count: make([]int64, len(cuts))}
			for d, c := range cuts {
				g.Index[d], g.Count[d] = c[at[d]], c[at[d]+1]-c[at[d]]
			}
			emit(g)
			k := len(at) - 1
			for ; k >= 0; k-- {
				if at[k]++; at[k] < len(cuts[k])-1 {
					break
				}
				at[k] = 0
			}
			if k < 0 {
				break
			}
		}
	}
}

// NumReadGroups is how many read groups ReadGroups emits.
func (s *Schema) NumReadGroups(budget int64, cores int) int64 {
	var n int64
	s.ReadGroups(budget, cores, func(ReadGroup) { n++ })
	return n
}

// cuts returns, for each dimension of v, the chunk indices where its read
// groups start, followed by the end of its grid.
func (s *Schema) cuts(v *Variable, first, budget, cores int64) [][]int64 {
	grid := v.Grid()
	axis := v.ConcatAxis(s.AppendDim())
	cuts := make([][]int64, len(grid))
	for d := range grid {
		lo := int64(0)
		if d == axis {
			lo = first
		}
		k := slices.IndexFunc(s.Concat, func(a Axis) bool { return a.Name == v.Dims[d] })
		switch {
		case v.Type == source.String:
			cuts[d] = every(lo, grid[d], 1)
		case k >= 0:
			cuts[d] = s.concatCuts(v, d, k, lo, grid[d])
		default:
			cuts[d] = []int64{0, grid[d]}
		}
	}
	if v.Type == source.String {
		return cuts
	}
	// align[d]: chunks in the least run that ends on a stored chunk boundary.
	align := make([]int64, len(grid))
	for d := range grid {
		align[d] = 1
		if d != axis && len(v.SourceChunks) == len(grid) && v.SourceChunks[d] > 1 {
			align[d] = lcm(v.Chunks[d], v.SourceChunks[d]) / v.Chunks[d]
		}
	}
	for regionBytes(v, cuts) > budget {
		if d, span := widest(cuts, axis, align); d >= 0 {
			cuts[d] = every(0, grid[d], span)
			continue
		}
		if axis >= 0 && longest(cuts[axis]) > 1 {
			cuts[axis] = halves(cuts[axis])
			continue
		}
		if d, span := widest(cuts, axis, nil); d >= 0 {
			cuts[d] = every(0, grid[d], span)
			continue
		}
		break // one chunk, which fits (CheckMemory)
	}
	if axis < 0 {
		return cuts
	}
	across := int64(1) // chunks of the largest group across the other dimensions
	for d, c := range cuts {
		if d != axis {
			across *= longest(c)
		}
	}
	for across*longest(cuts[axis]) < cores && len(cuts[axis]) > 2 {
		joined := slices.Clone(cuts)
		joined[axis] = pairs(cuts[axis])
		if regionBytes(v, joined) > budget {
			break
		}
		cuts = joined
	}
	return cuts
}

// widest picks the dimension other than axis whose groups span the most
// chunks and can be halved at a multiple of align (any, when align is nil),
// and returns it with the halved span; -1 when none can.
func widest(cuts [][]int64, axis int, align []int64) (int, int64) {
	best, bestSpan, bestHalf := -1, int64(0), int64(0)
	for d, c := range cuts {
		if d == axis {
			continue
		}
		span := c[1] - c[0]
		a := int64(1)
		if align != nil {
			a = align[d]
		}
		half := (span + 1) / 2
		half = (half + a - 1) / a * a
		if half < span && span > bestSpan {
			best, bestSpan, bestHalf = d, span, half
		}
	}
	return best, bestHalf
}

// concatCuts returns the chunk indices from lo to n where read groups along
// axis of v, concat dimension k, may start: every chunk boundary that lies
// on a stored chunk boundary of the input holding that step.
func (s *Schema) concatCuts(v *Variable, axis, k int, lo, n int64) []int64 {
	src := int64(1)
	if len(v.SourceChunks) == len(v.Dims) {
		src = max(v.SourceChunks[axis], 1)
	}
	if src == 1 {
		return every(lo, n, 1)
	}
	var line []Span // the spans along k of the inputs holding v, in order
	for _, e := range s.Inputs {
		if slices.Equal(e.Input.Index.Merge, v.Merge) && onLine(e.Input.Index.Concat, k) {
			line = append(line, e.Spans[k])
		}
	}
	cuts := []int64{lo}
	for c := lo + 1; c < n; c++ {
		p := c * v.Chunks[axis]
		i := sort.Search(len(line), func(i int) bool { return line[i].Offset+line[i].Len > p })
		if i < len(line) && line[i].Offset < p && (p-line[i].Offset)%src != 0 {
			continue // inside a stored chunk
		}
		cuts = append(cuts, c)
	}
	return append(cuts, n)
}

// onLine reports whether concat positions ix are 0 along every concat
// dimension but k.
func onLine(ix []int, k int) bool {
	for j, c := range ix {
		if j != k && c != 0 {
			return false
		}
	}
	return true
}

// every returns lo, lo+step, ... up to n, then n.
func every(lo, n, step int64) []int64 {
	var out []int64
	for k := lo; k < n; k += step {
		out = append(out, k)
	}
	return append(out, n)
}

// longest is the most chunks between two consecutive cuts.
func longest(cuts []int64) int64 {
	var m int64
	for i := 1; i < len(cuts); i++ {
		m = max(m, cuts[i]-cuts[i-1])
	}
	return m
}

// pairs joins consecutive ranges two by two (the last alone when odd).
func pairs(cuts []int64) []int64 {
	out := []int64{}
	for i := 0; i < len(cuts)-1; i += 2 {
		out = append(out, cuts[i])
	}
	return append(out, cuts[len(cuts)-1])
}

// halves cuts every range longer than one chunk in two.
func halves(cuts []int64) []int64 {
	out := []int64{cuts[0]}
	for i := 1; i < len(cuts); i++ {
		if n := cuts[i] - cuts[i-1]; n > 1 {
			out = append(out, cuts[i-1]+(n+1)/2)
		}
		out = append(out, cuts[i])
	}
	return out
}

// regionBytes bounds the bytes of the largest group's region.
func regionBytes(v *Variable, cuts [][]int64) int64 {
	shape := make([]int64, len(cuts))
	for d, c := range cuts {
		shape[d] = min(longest(c)*v.Chunks[d], v.Shape[d])
	}
	n, ok := chunkBytes(v, shape)
	if !ok {
		return 1<<63 - 1
	}
	return n
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int64) int64 { return a / gcd(a, b) * b }

// ReadGroupPlan is how the chunk stage writes one read group: the region of the
// variable the group covers is read into one buffer of the region's shape
// (C order) — from Reads, and for chunks holding steps the store already
// has, from their objects — then cut into Chunks, each encoded and written
// whole.
type ReadGroupPlan struct {
	Var          *Variable
	Start, Count []int64 // the region, in the variable's indices
	// Reads fill the region from the inputs (At is where each lands in the
	// region); they split no stored chunk, and no read is much larger than
	// ReadSize unless a stored chunk is.
	Reads  []Slice
	Chunks []GroupChunk
}

// GroupChunk is one chunk of a read group.
type GroupChunk struct {
	Index []int64 // the chunk's index
	At    []int64 // where its values start in the region
	Count []int64 // its extent within the array: less than the chunk shape at the far edges, which are fill
	// Held is how many of its steps along the concat dimension the store
	// holds already (when appending): they are read from its object.
	Held int64
}

// ReadSize is about the most bytes one read of a group plan decodes, so
// that a group's reads are many and run in parallel.
const ReadSize = 8 << 20

// PlanReadGroup works out how to write read group g.
func (s *Schema) PlanReadGroup(g ReadGroup) (ReadGroupPlan, error) {
	v, ok := s.Var(g.Var)
	if !ok {
		return ReadGroupPlan{}, fmt.Errorf("read group %s: no such variable in the schema", g)
	}
	if len(g.Index) != len(v.Dims) || len(g.Count) != len(v.Dims) {
		return ReadGroupPlan{}, fmt.Errorf("read group %s: not of rank %d", g, len(v.Dims))
	}
	p := ReadGroupPlan{Var: v, Start: make([]int64, len(g.Index)), Count: make([]int64, len(g.Index))}
	for d := range g.Index {
		p.Start[d] = g.Index[d] * v.Chunks[d]
		end := min((g.Index[d]+g.Count[d])*v.Chunks[d], v.Shape[d])
		if g.Index[d] < 0 || g.Count[d] < 1 || p.Start[d] >= end {
			return ReadGroupPlan{}, fmt.Errorf("read group %s: outside the variable's %v chunks of %v", g, v.Grid(), v.Chunks)
		}
		p.Count[d] = end - p.Start[d]
	}
	reads, err := s.Sources(v, p.Start, p.Count)
	if err != nil {
		return ReadGroupPlan{}, fmt.Errorf("read group %s: %w", g, err)
	}
	for _, r := range reads {
		if !r.Existing {
			p.Reads = append(p.Reads, splitRead(v, r, ReadSize)...)
		}
	}
	axis := v.ConcatAxis(s.AppendDim())
	idx := slices.Clone(g.Index)
	for {
		start, count := v.Region(idx)
		c := GroupChunk{Index: slices.Clone(idx), At: make([]int64, len(idx)), Count: count}
		for d := range idx {
			c.At[d] = start[d] - p.Start[d]
		}
		if axis >= 0 && start[axis] < s.Base {
			c.Held = min(count[axis], s.Base-start[axis])
		}
		p.Chunks = append(p.Chunks, c)
		k := len(idx) - 1
		for ; k >= 0; k-- {
			if idx[k]++; idx[k] < g.Index[k]+g.Count[k] {
				break
			}
			idx[k] = g.Index[k]
		}
		if k < 0 {
			break
		}
	}
	return p, nil
}

// splitRead cuts a read along its first dimension that the inputs have
// (after v.Lead) into reads of about size bytes or fewer, at stored chunk
// boundaries of the input.
func splitRead(v *Variable, r Slice, size int64) []Slice {
	d := v.Lead
	if len(r.Count) <= d || r.Count[d] <= 1 {
		return []Slice{r}
	}
	row := int64(v.ItemSize())
	for _, c := range r.Count[d+1:] {
		row *= c
	}
	src := int64(1)
	if len(v.SourceChunks) == len(v.Dims) {
		src = max(v.SourceChunks[d], 1)
	}
	step := max(size/max(row, 1)/src, 1) * src // rows per read, a multiple of src
	if step >= r.Count[d] {
		return []Slice{r}
	}
	var out []Slice
	end := r.Start[d] + r.Count[d]
	for a := r.Start[d]; a < end; {
		b := min((a/step+1)*step, end)
		piece := Slice{Input: r.Input, Start: slices.Clone(r.Start), Count: slices.Clone(r.Count), At: slices.Clone(r.At)}
		piece.Start[d], piece.Count[d], piece.At[d] = a, b-a, r.At[d]+a-r.Start[d]
		out = append(out, piece)
		a = b
	}
	return out
}
