package plan

import (
	"fmt"
	"slices"

	"github.com/zarrforge/zarrforge/source"
)

// References: a reference set (kerchunk) is a Zarr store whose chunks are
// byte ranges of the inputs. Each input's chunks of a variable become the
// set's chunks where the input sits along the concat dimension, so every
// input must store the variable in the same chunk shape, and each input
// must start on a chunk boundary.

// InputRefs is what one input gives a reference set: where the values of
// the variables it contributes lie in it.
type InputRefs struct {
	Input Input
	Vars  []VarRefs
}

// VarRefs is where one variable's values lie in one input, as chunks of
// the reference set. Every input must agree on BigEndian, Chunks and
// Codecs, which describe the stored chunks.
type VarRefs struct {
	Name      string
	BigEndian bool
	Chunks    []int64
	Codecs    []source.Codec
	Pieces    []RefPiece
	// Unwritten are the indexes, in the reference set's chunk grid, of
	// the chunks the input never wrote (see Unwritten); each reads as
	// FillChunk, one chunk of the fill value encoded as the input would
	// have stored it.
	Unwritten [][]int64
	FillChunk []byte
}

// RefPiece is one chunk of the reference set: Size bytes at Offset of the
// input or, when Data is not nil, those bytes themselves (inlined).
type RefPiece struct {
	Index        []int64 // in the reference set's chunk grid
	Offset, Size int64
	Data         []byte
}

// RefPieces turns the stored pieces of variable v in input e, whose chunks
// have the shape chunks (as the input stores them: a folded char
// dimension last), into chunks of the reference set: it checks that e
// starts on a chunk boundary along every concat dimension and holds whole
// chunks (but for the last input along it), and returns the chunk shape of
// the set and the pieces with their indexes in its grid. Along a new
// dimension (see Axis.New) every input is a chunk of one step.
func (s *Schema) RefPieces(v *Variable, e Extent, chunks []int64, pieces []source.Piece) ([]int64, []RefPiece, error) {
	if v.Sel != nil {
		return nil, nil, fmt.Errorf("variable %q: a preprocess isel selects values references cannot point at", v.Name)
	}
	rank := len(v.Shape) - v.Lead // in the input
	if v.Width > 0 {
		if len(chunks) != rank+1 || chunks[rank] != v.Width {
			return nil, nil, fmt.Errorf("variable %q: input %s stores its characters in chunks %v, not whole strings of %d",
				v.Name, e.Input.Source, chunks, v.Width)
		}
		chunks = chunks[:rank]
	}
	if len(chunks) != rank {
		return nil, nil, fmt.Errorf("variable %q: input %s stores chunks of rank %d for %d dimensions", v.Name, e.Input.Source, len(chunks), rank)
	}
	chunks = append(slices.Repeat([]int64{1}, v.Lead), chunks...)
	shift := make([]int64, len(v.Shape))
	for k, a := range s.Concat {
		axis := v.ConcatAxis(a.Name)
		if axis < 0 {
			continue
		}
		sp := e.Spans[k]
		c := chunks[axis]
		// The last input's chunks may overhang the dataset's end, as any
		// array's last chunk does.
		last := sp.Offset+sp.Len == v.Shape[axis]
		if c < 1 || sp.Offset%c != 0 || sp.Len%c != 0 && !last || c > sp.Len && !last {
			return nil, nil, fmt.Errorf("variable %q: input %s holds steps %d..%d along %s in chunks of %d, which do not fall on the "+
				"reference set's chunk boundaries (every input must hold whole chunks: kerchunk cannot describe irregular chunks)",
				v.Name, e.Input.Source, sp.Offset, sp.Offset+sp.Len, a.Name, c)
		}
		shift[axis] = sp.Offset / c
	}
	out := make([]RefPiece, 0, len(pieces))
	for _, p := range pieces {
		idx := append(make([]int64, v.Lead), p.Index[:rank]...)
		for d := range idx {
			idx[d] += shift[d]
		}
		out = append(out, RefPiece{Index: idx, Offset: p.Offset, Size: p.Size})
	}
	return chunks, out, nil
}

// maxUnwritten bounds how many chunks of one variable in one input a
// reference set may point at as never written.
const maxUnwritten = 1 << 20

// Unwritten returns the cells of the chunk grid (chunks, as the input
// stores v: see RefPieces) over input e's part of v that pieces leave out:
// chunks the input never wrote, which HDF5 reads as the fill value. A
// reference set must point at each (older fsspec fails on a missing key).
func (s *Schema) Unwritten(v *Variable, e Extent, chunks []int64, pieces []source.Piece) ([]source.Piece, error) {
	shape := WithWidth(v, s.PartShape(v, e)[v.Lead:])
	if len(chunks) != len(shape) {
		return nil, fmt.Errorf("variable %q: input %s stores chunks of rank %d for %d dimensions", v.Name, e.Input.Source, len(chunks), len(shape))
	}
	grid := make([]int64, len(shape))
	cells := int64(1)
	for i, n := range shape {
		if chunks[i] < 1 {
			return nil, fmt.Errorf("variable %q: input %s stores chunks %v", v.Name, e.Input.Source, chunks)
		}
		grid[i] = (n + chunks[i] - 1) / chunks[i]
		if cells *= grid[i]; cells == 0 {
			return nil, nil
		}
		if cells > maxUnwritten+int64(len(pieces)) {
			return nil, fmt.Errorf("variable %q: input %s has %d chunks or more, of which it wrote %d: too many for a reference set",
				v.Name, e.Input.Source, cells, len(pieces))
		}
	}
	written := make(map[string]bool, len(pieces))
	for _, p := range pieces {
		written[fmt.Sprint(p.Index)] = true
	}
	var out []source.Piece
	idx := make([]int64, len(grid))
	for range cells {
		if !written[fmt.Sprint(idx)] {
			out = append(out, source.Piece{Index: slices.Clone(idx)})
		}
		for k := len(idx) - 1; k >= 0; k-- {
			if idx[k]++; idx[k] < grid[k] {
				break
			}
			idx[k] = 0
		}
	}
	return out, nil
}

// WithWidth is shape with v's folded char dimension last, as the input
// stores v.
func WithWidth(v *Variable, shape []int64) []int64 {
	if v.Width > 0 {
		return append(slices.Clone(shape), v.Width)
	}
	return shape
}

// PartShape is v's shape in input e: its spans along the concat
// dimensions.
func (s *Schema) PartShape(v *Variable, e Extent) []int64 {
	shape := slices.Clone(v.Shape)
	for k, a := range s.Concat {
		if axis := v.ConcatAxis(a.Name); axis >= 0 {
			shape[axis] = e.Spans[k].Len
		}
	}
	return shape
}
