package netcdf

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/zarrforge/zarrforge/hdf5"
)

// Layout is where a variable's values lie in its file, as stored: what a
// reader that fetches the bytes itself needs (references to the file, as
// kerchunk makes them).
type Layout struct {
	// BigEndian is the stored byte order of values of more than one byte
	// (always big-endian in the classic formats).
	BigEndian bool
	// Chunks is the shape of the stored pieces: one piece per cell of this
	// grid over the variable's shape. For a contiguous variable it is the
	// shape; for a classic record variable one record.
	Chunks []int64
	// Filters is the pipeline every piece went through when written, in
	// that order (netCDF-4 only).
	Filters []hdf5.Filter
	// Pieces are the cells of the grid that have bytes in the file; the
	// others hold the fill value.
	Pieces []Piece
	// Inline holds the values of a variable stored in the file's metadata
	// (an HDF5 compact layout), as stored; nil otherwise.
	Inline []byte
	// Fill is one value, little-endian, that the cells of the grid
	// without a piece read as: the HDF5 fill property (zeros where it has
	// none), as HDF5 returns it for chunks never written; nil where every
	// cell has its piece (the classic formats).
	Fill []byte
}

// Piece is one stored piece of a variable's values: Size bytes at Offset,
// the cell Index of the layout's grid.
type Piece struct {
	Index        []int64
	Offset, Size int64
}

// Layout returns where variable name's values lie in the file. Variables
// of strings (netCDF-4's are in the HDF5 global heap) and pieces that
// skipped filters the others went through have no layout a reference can
// use: an error wrapping ErrUnsupported.
func (f *classic) Layout(name string) (Layout, error) {
	i := slices.IndexFunc(f.vars, func(v classicVar) bool { return v.Name == name })
	if i < 0 {
		return Layout{}, fmt.Errorf("netcdf: %s: no variable %q", f.name, name)
	}
	v := &f.vars[i]
	inner, ok := v.innerBytes()
	if !ok {
		return Layout{}, fmt.Errorf("netcdf: %s: variable %q: size overflows: %w", f.name, name, ErrFormat)
	}
	l := Layout{BigEndian: true, Chunks: slices.Clone(v.Shape)}
	if !v.record {
		if inner > 0 {
			l.Pieces = []Piece{{Index: make([]int64, len(v.Shape)), Offset: v.begin, Size: inner}}
		}
		return l, nil
	}
	l.Chunks[0] = 1
	if inner == 0 {
		return l, nil
	}
	for r := range f.numRecs {
		idx := make([]int64, len(v.Shape))
		idx[0] = r
		l.Pieces = append(l.Pieces, Piece{Index: idx, Offset: v.begin + r*f.recSize, Size: inner})
	}
	return l, nil
}

func (f *nc4) Layout(name string) (Layout, error) {
	i := slices.IndexFunc(f.vars, func(v Var) bool { return v.Name == name })
	if i < 0 {
		return Layout{}, fmt.Errorf("netcdf: %s: no variable %q", f.name, name)
	}
	v := f.vars[i]
	if v.Type == String {
		return Layout{}, fmt.Errorf("netcdf: %s: variable %q: strings lie in the HDF5 global heap, not in pieces a reference can point at: %w",
			f.name, name, ErrUnsupported)
	}
	ds := f.data[name].ds
	l := Layout{BigEndian: ds.Type.BigEndian && ds.Type.Size > 1, Chunks: slices.Clone(v.Shape), Filters: ds.Filters(), Inline: ds.Compact(),
		Fill: fillLE(ds, v)}
	if cs := ds.ChunkShape(); cs != nil {
		for j, c := range cs {
			l.Chunks[j] = int64(c)
		}
	}
	pieces, err := ds.Pieces()
	if err != nil {
		return Layout{}, fmt.Errorf("netcdf: %s: %w", f.name, err)
	}
	for _, p := range pieces {
		if p.Skipped != 0 {
			return Layout{}, fmt.Errorf("netcdf: %s: variable %q: chunk %v was stored without some of its filters (%s), which a reference cannot say: %w",
				f.name, name, p.Index, ds.Storage(), ErrUnsupported)
		}
		idx := make([]int64, len(p.Index))
		for j, x := range p.Index {
			idx[j] = int64(x)
		}
		l.Pieces = append(l.Pieces, Piece{Index: idx, Offset: int64(p.Addr), Size: int64(p.Size)})
	}
	return l, nil
}

// FillChunk returns one piece of the fill value (Fill, in the stored byte
// order) as the file would store it had it been written: through the
// layout's filters. It is what a chunk never written reads as, for
// references that must point at every chunk.
func (l Layout) FillChunk() ([]byte, error) {
	if len(l.Fill) == 0 {
		return nil, fmt.Errorf("netcdf: no fill value for chunks never written")
	}
	n := int64(1)
	for _, c := range l.Chunks {
		n *= c
	}
	fill := slices.Clone(l.Fill)
	if l.BigEndian {
		slices.Reverse(fill)
	}
	return hdf5.EncodeChunk(l.Filters, bytes.Repeat(fill, int(n)), len(fill))
}
