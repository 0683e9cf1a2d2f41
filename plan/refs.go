package plan

import (
	"fmt"
	"slices"

	"github.com/zarrforge/zarrforge/netcdf"
	"github.com/zarrforge/zarrforge/zarr"
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
// Filters, which describe the stored chunks.
type VarRefs struct {
	Name      string
	BigEndian bool
	Chunks    []int64
	Filters   []zarr.Filter
	Pieces    []RefPiece
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
// starts on a chunk boundary along the concat dimension and holds whole
// chunks (but for the last input), and returns the chunk shape of the set
// and the pieces with their indexes in its grid.
func (s *Schema) RefPieces(v *Variable, e Extent, chunks []int64, pieces []netcdf.Piece) ([]int64, []RefPiece, error) {
	if v.Sel != nil {
		return nil, nil, fmt.Errorf("variable %q: a preprocess isel selects values references cannot point at", v.Name)
	}
	rank := len(v.Shape)
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
	chunks = slices.Clone(chunks)
	var shift int64
	if axis := v.ConcatAxis(s.ConcatDim); axis >= 0 {
		c := chunks[axis]
		last := e.Offset+e.Len == v.Shape[axis]
		if c < 1 || e.Offset%c != 0 || e.Len%c != 0 && !last || c > e.Len && !last {
			return nil, nil, fmt.Errorf("variable %q: input %s holds steps %d..%d along %s in chunks of %d, which do not fall on the "+
				"reference set's chunk boundaries (every input must hold whole chunks: kerchunk cannot describe irregular chunks)",
				v.Name, e.Input.Source, e.Offset, e.Offset+e.Len, s.ConcatDim, c)
		}
		shift = e.Offset / c
		if last {
			// The last input's chunks may overhang the dataset's end, as
			// any array's last chunk does.
			chunks[axis] = c
		}
	}
	out := make([]RefPiece, 0, len(pieces))
	for _, p := range pieces {
		idx := slices.Clone(p.Index[:rank])
		if axis := v.ConcatAxis(s.ConcatDim); axis >= 0 {
			idx[axis] += shift
		}
		out = append(out, RefPiece{Index: idx, Offset: p.Offset, Size: p.Size})
	}
	return chunks, out, nil
}
