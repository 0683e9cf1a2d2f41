package plan

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/zarrforge/zarrforge/source"
)

// ChunkKey names one chunk of the target: a variable and the chunk's index
// along each of its dimensions (empty for a scalar).
type ChunkKey struct {
	Var   string
	Index []int64
}

// String renders the key as "sst/0.2.1", like the Zarr object it becomes.
func (k ChunkKey) String() string {
	if len(k.Index) == 0 {
		return k.Var + "/0"
	}
	parts := make([]string, len(k.Index))
	for i, x := range k.Index {
		parts[i] = fmt.Sprint(x)
	}
	return k.Var + "/" + strings.Join(parts, ".")
}

// Layout sets every variable's target chunk shape. chunks gives the chunk
// size per dimension, clamped to the dimension's size except along the
// dimension appends extend; dimensions not named are one chunk. Dimension
// coordinates are always one chunk, so that opening the store reads each in
// one request. Naming a dimension the dataset lacks, or a size below 1, is an
// error.
func (s *Schema) Layout(chunks map[string]int64) error {
	for _, name := range slices.Sorted(maps.Keys(chunks)) {
		if _, ok := s.Dim(name); !ok {
			dims := make([]string, len(s.Dims))
			for i, d := range s.Dims {
				dims[i] = d.Name
			}
			return fmt.Errorf("TargetConfig.Chunks[%q]: the dataset has no dimension %q (its dimensions: %s)",
				name, name, strings.Join(dims, ", "))
		}
		if chunks[name] < 1 {
			return fmt.Errorf("TargetConfig.Chunks[%q]: chunk size must be >= 1, got %d", name, chunks[name])
		}
	}
	for i := range s.Vars {
		v := &s.Vars[i]
		v.Chunks = make([]int64, len(v.Dims))
		for j, d := range v.Dims {
			c := v.Shape[j]
			if n, ok := chunks[d]; ok && !v.IsDimCoord() {
				c = min(n, v.Shape[j])
				if d == s.AppendDim() {
					// Not clamped: the store may grow by appends, and the
					// chunking it is created with is the one it keeps.
					c = n
				}
			}
			v.Chunks[j] = max(c, 1)
		}
	}
	return nil
}

// ConcatChunk returns the chunk size along the first concat dimension that
// makes the largest chunk of a variable along it, laid out as Layout has
// laid it out along the other dimensions, come nearest to target bytes
// without going over (at least 1), and never longer than the dimension (a
// larger target would only make each chunk's buffers larger).
func (s *Schema) ConcatChunk(target int64) int64 {
	var step int64 // the bytes of one step of the largest chunk
	for i := range s.Vars {
		v := &s.Vars[i]
		axis := v.ConcatAxis(s.AppendDim())
		if axis < 0 || v.IsDimCoord() {
			continue
		}
		shape := slices.Clone(v.Chunks)
		shape[axis] = 1
		if n, ok := chunkBytes(v, shape); ok {
			step = max(step, n)
		}
	}
	n, _ := s.Dim(s.AppendDim())
	if step == 0 {
		return 1
	}
	return max(1, min(target/step, n))
}

// Shard groups the chunks Layout set into shards (Zarr v3's
// sharding_indexed codec), shards giving the shard size per dimension: a
// multiple of the chunk size along it, unless a chunk covers the whole
// dimension; dimensions not named hold one chunk per shard. Every variable
// then has Chunks the shard shape, the unit the chunk stage writes, and
// Inner the chunk shape; but dimension coordinates and variables of
// strings, which stay one chunk per object, and scalars. With no shards it
// does nothing.
func (s *Schema) Shard(shards map[string]int64) error {
	if len(shards) == 0 {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(shards)) {
		if _, ok := s.Dim(name); !ok {
			return fmt.Errorf("TargetConfig.Shards[%q]: the dataset has no dimension %q", name, name)
		}
		if shards[name] < 1 {
			return fmt.Errorf("TargetConfig.Shards[%q]: shard size must be >= 1, got %d", name, shards[name])
		}
	}
	for i := range s.Vars {
		v := &s.Vars[i]
		if v.IsDimCoord() || v.Type == source.String || len(v.Dims) == 0 {
			continue
		}
		shard := slices.Clone(v.Chunks)
		for j, d := range v.Dims {
			n, ok := shards[d]
			if !ok || v.Chunks[j] >= v.Shape[j] && d != s.AppendDim() {
				continue // one chunk per shard along d
			}
			if n%v.Chunks[j] != 0 {
				return fmt.Errorf("TargetConfig.Shards[%q]: %d is not a multiple of the chunk size %d of variable %q along %s",
					d, n, v.Chunks[j], v.Name, d)
			}
			shard[j] = n
		}
		v.Inner, v.Chunks = v.Chunks, shard
	}
	return nil
}

// MaxChunks is the most chunks a store's arrays may have together: each
// is an object and an element between the stages, so a layout of more — a
// dimension an input declares huge and never fills, chunks far too fine —
// is refused before anything is written.
const MaxChunks = 100_000_000

// CheckChunkCount refuses a layout of more than MaxChunks chunks, naming
// the variable with the most.
func (s *Schema) CheckChunkCount() error {
	var total, most int64
	worst := -1
	for i := range s.Vars {
		n := int64(1)
		for _, g := range s.Vars[i].Grid() {
			if g > 0 && n > (MaxChunks+1)/g {
				n = MaxChunks + 1
				break
			}
			n *= g
		}
		total = min(total+n, MaxChunks+1)
		if n > most {
			worst, most = i, n
		}
	}
	if total <= MaxChunks {
		return nil
	}
	v := &s.Vars[worst]
	has := fmt.Sprintf("has %d", most)
	if most > MaxChunks {
		has = "alone has more"
	}
	return fmt.Errorf("the store would have more than %d chunks (variable %q: shape %v in chunks of %v %s): "+
		"choose larger chunks (TargetConfig.Chunks), or check the inputs' dimensions", MaxChunks, v.Name, v.Shape, v.Chunks, has)
}

// CheckMemory refuses a layout with a chunk larger than budget bytes (a
// string counts stringCost bytes), naming the variable, the
// chunk's size and chunk sizes that would fit.
func (s *Schema) CheckMemory(budget int64) error {
	for i := range s.Vars {
		v := &s.Vars[i]
		if n, ok := chunkBytes(v, v.Chunks); ok && n <= budget {
			continue
		}
		// What to suggest: halve the largest chunk size until a chunk fits.
		fit := slices.Clone(v.Chunks)
		for {
			if n, ok := chunkBytes(v, fit); ok && n <= budget {
				break
			}
			j := 0
			for k := range fit {
				if fit[k] > fit[j] {
					j = k
				}
			}
			if fit[j] == 1 {
				break
			}
			fit[j] = (fit[j] + 1) / 2
		}
		var sizes []string
		for k, d := range v.Dims {
			if fit[k] != v.Chunks[k] {
				sizes = append(sizes, fmt.Sprintf("%s: %d", d, fit[k]))
			}
		}
		n, _ := chunkBytes(v, v.Chunks)
		size := fmt.Sprintf("%d bytes", n)
		if n <= 0 {
			size = "more bytes than an int64 holds"
		}
		return fmt.Errorf("variable %q: a chunk of %v would take %s, more than the memory budget of %d bytes (TargetConfig.MaxMem); "+
			"set TargetConfig.Chunks (e.g. {%s}) or raise TargetConfig.MaxMem", v.Name, v.Chunks, size, budget, strings.Join(sizes, ", "))
	}
	return nil
}

// stringCost is what one string counts for in memory budgets (its header;
// the text is bounded where it is read).
const stringCost = 16

// memSize is what one value of v takes in memory budgets.
func memSize(t source.Type, itemSize int) int64 {
	if t == source.String {
		return stringCost
	}
	return int64(itemSize)
}

// chunkBytes returns the size of a chunk of v of the given shape, and
// false on overflow.
func chunkBytes(v *Variable, shape []int64) (int64, bool) {
	n := memSize(v.Type, v.ItemSize())
	for _, c := range shape {
		if c < 0 || c != 0 && n > math.MaxInt64/c {
			return 0, false
		}
		n *= c
	}
	return n, true
}

// Grid returns the number of chunks along each dimension of v.
func (v *Variable) Grid() []int64 {
	g := make([]int64, len(v.Shape))
	for i := range v.Shape {
		g[i] = (v.Shape[i] + v.Chunks[i] - 1) / v.Chunks[i]
	}
	return g
}

// NumChunks returns how many chunk objects v has (1 for a scalar; 0 when a
// dimension is empty).
func (v *Variable) NumChunks() int64 {
	n := int64(1)
	for _, g := range v.Grid() {
		n *= g
	}
	return n
}

// Region returns the part of v that chunk idx covers: its start and its
// count, which is smaller than the chunk shape at the array's far edges.
func (v *Variable) Region(idx []int64) (start, count []int64) {
	start = make([]int64, len(idx))
	count = make([]int64, len(idx))
	for i := range idx {
		start[i] = idx[i] * v.Chunks[i]
		count[i] = min(v.Chunks[i], v.Shape[i]-start[i])
	}
	return start, count
}

// WrittenByChunks reports whether the chunk stage writes v; the concat
// coordinates are written whole by the prepare stage from the schema.
func (s *Schema) WrittenByChunks(v *Variable) bool { return !s.IsConcatCoord(v) }

// firstChunk returns the index along the append axis (see AppendDim) of
// v's first chunk the chunk stage writes: 0, or when appending the chunk
// holding the first new step. It returns -1 when the stage writes none of
// v: the concat coordinates, which the prepare and finalize stages write
// whole, and, when appending, variables without the append dimension,
// which the store has.
func (s *Schema) firstChunk(v *Variable) int64 {
	if !s.WrittenByChunks(v) || v.NumChunks() == 0 {
		return -1
	}
	axis := v.ConcatAxis(s.AppendDim())
	switch {
	case s.Base == 0:
		return 0
	case axis < 0:
		return -1
	}
	return s.Base / v.Chunks[axis]
}

// ChunkKeys calls emit for every chunk the chunk stage writes.
func (s *Schema) ChunkKeys(emit func(ChunkKey)) {
	for i := range s.Vars {
		v := &s.Vars[i]
		first := s.firstChunk(v)
		if first < 0 {
			continue
		}
		grid := v.Grid()
		axis := v.ConcatAxis(s.AppendDim())
		idx := make([]int64, len(grid))
		if axis >= 0 {
			idx[axis] = first
		}
		for {
			emit(ChunkKey{Var: v.Name, Index: slices.Clone(idx)})
			k := len(idx) - 1
			for ; k >= 0; k-- {
				idx[k]++
				if idx[k] < grid[k] {
					break
				}
				idx[k] = 0
				if k == axis {
					idx[k] = first
				}
			}
			if k < 0 {
				break
			}
		}
	}
}

// NumChunks returns how many chunks the chunk stage writes.
func (s *Schema) NumChunks() int64 {
	var n int64
	for i := range s.Vars {
		v := &s.Vars[i]
		first := s.firstChunk(v)
		if first < 0 {
			continue
		}
		if axis := v.ConcatAxis(s.AppendDim()); axis >= 0 {
			grid := v.Grid()
			n += v.NumChunks() / grid[axis] * (grid[axis] - first)
			continue
		}
		n += v.NumChunks()
	}
	return n
}

// Slice is one read that fills part of a chunk: the hyperslab Start/Count of
// the variable in input URL, which lands at offset At inside the chunk's
// region. When appending, the part of the chunk the store already holds is
// a Slice with Existing set (and no Input): it is read from the chunk's
// stored object.
type Slice struct {
	Input    Input
	Existing bool
	Start    []int64
	Count    []int64
	At       []int64
}

// ReadsFrom reports whether v's values are read from input e: e holds v
// (its merge position) and is at position 0 along every concat dimension
// v lacks.
func (s *Schema) ReadsFrom(v *Variable, e Extent) bool {
	if !slices.Equal(e.Input.Index.Merge, v.Merge) {
		return false
	}
	for k, a := range s.Concat {
		if v.ConcatAxis(a.Name) < 0 && e.Input.Index.Concat[k] != 0 {
			return false
		}
	}
	return true
}

// Sources returns the reads that together fill the region start/count of
// v: one per input that overlaps it along every concat dimension v has,
// taking the inputs at position 0 along those it lacks (a variable without
// the dimension is read from the first input).
func (s *Schema) Sources(v *Variable, start, count []int64) ([]Slice, error) {
	axes := make([]int, len(s.Concat)) // v's axis of each concat dimension, or -1
	for k, a := range s.Concat {
		axes[k] = v.ConcatAxis(a.Name)
	}
	var out []Slice
	if axis := axes[0]; axis >= 0 && start[axis] < s.Base {
		sl := Slice{Existing: true, Start: slices.Clone(start), Count: slices.Clone(count), At: make([]int64, len(start))}
		sl.Count[axis] = min(count[axis], s.Base-start[axis])
		out = append(out, sl)
	}
inputs:
	for _, e := range s.Inputs {
		if !s.ReadsFrom(v, e) {
			continue
		}
		sl := Slice{Input: e.Input, Start: slices.Clone(start), Count: slices.Clone(count), At: make([]int64, len(start))}
		for k, axis := range axes {
			sp := e.Spans[k]
			if axis < 0 {
				continue
			}
			lo := max(start[axis], sp.Offset)
			hi := min(start[axis]+count[axis], sp.Offset+sp.Len)
			if lo >= hi {
				continue inputs
			}
			sl.Start[axis] = lo - sp.Offset
			sl.Count[axis] = hi - lo
			sl.At[axis] = lo - start[axis]
		}
		out = append(out, sl)
	}
	if len(out) == 0 || len(out) == 1 && out[0].Existing {
		return nil, fmt.Errorf("variable %q: no input covers region start=%v count=%v", v.Name, start, count)
	}
	return out, nil
}
