package hdf5

import (
	"fmt"
	"slices"
)

// Where a dataset's values lie in the file, as stored, for readers that
// fetch the bytes themselves (references to the file, as kerchunk makes).

// Piece is one stored piece of a dataset's values: a chunk, at Index in the
// dataset's chunk grid, or the whole of a contiguous dataset (Index all
// zeros). Its Size bytes at Addr are the values as stored: filtered, in
// the datatype's byte order.
type Piece struct {
	Index []uint64
	Addr  uint64
	Size  uint64
	// Skipped has bit i set when filter i of the pipeline was not applied
	// to this piece (HDF5's filter mask; an edge chunk of a dataset that
	// does not filter partial edge chunks has them all set).
	Skipped uint32
}

// Filter is one filter of a dataset's pipeline: its name ("deflate",
// "shuffle", "fletcher32", "zstd") and client values (deflate's and zstd's
// level, shuffle's element size).
type Filter struct {
	Name   string
	Values []uint32
}

// Filters returns the dataset's filter pipeline, in the order the filters
// were applied when the values were written.
func (d *Dataset) Filters() []Filter {
	out := make([]Filter, len(d.filters))
	for i, ft := range d.filters {
		out[i] = Filter{Name: ft.String(), Values: slices.Clone(ft.values)}
	}
	return out
}

// Compact returns the values of a dataset stored in its object header
// (compact layout), as stored; nil for other layouts.
func (d *Dataset) Compact() []byte {
	if d.layout.class != layoutCompact || d.Null {
		return nil
	}
	return slices.Clone(d.layout.compact)
}

// Pieces returns the stored pieces of a contiguous or chunked dataset:
// every chunk written (chunks never written hold the fill value), or the
// contiguous data (none when never written). A compact dataset has none:
// see Compact.
func (d *Dataset) Pieces() ([]Piece, error) {
	if d.Null {
		return nil, fmt.Errorf("%q: %w", d.Name, ErrNoValues)
	}
	rank := len(d.Dims)
	switch d.layout.class {
	case layoutCompact:
		return nil, nil
	case layoutContiguous:
		if d.f.undefined(d.layout.addr) {
			return nil, nil
		}
		total, ok := numElements(d.Dims)
		size := total * uint64(d.Type.Size)
		if !ok || d.layout.size != ^uint64(0) && d.layout.size < size {
			return nil, fmt.Errorf("%q: contiguous data of %d bytes for %v elements: %w", d.Name, d.layout.size, d.Dims, ErrFormat)
		}
		return []Piece{{Index: make([]uint64, rank), Addr: d.layout.addr, Size: size}}, nil
	}
	chunks, err := d.index()
	if err != nil {
		return nil, fmt.Errorf("%q: %w", d.Name, wrapFormat(err))
	}
	grid := d.grid()
	lins := make([]uint64, 0, len(chunks))
	for lin := range chunks {
		lins = append(lins, lin)
	}
	slices.Sort(lins)
	out := make([]Piece, 0, len(lins))
	for _, lin := range lins {
		ref := chunks[lin]
		coord := unravel(lin, grid)
		p := Piece{Index: coord, Addr: ref.addr, Size: ref.size, Skipped: ref.mask}
		if d.layout.noEdgeFilter && d.isEdge(coord) {
			p.Skipped = ^uint32(0)
		}
		out = append(out, p)
	}
	return out, nil
}
