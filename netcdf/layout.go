package netcdf

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/zarrforge/zarrforge/hdf5"
	"github.com/zarrforge/zarrforge/source"
)

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
	codecs, err := codecsOf(ds.Filters(), v.Type.Size())
	if err != nil {
		return Layout{}, fmt.Errorf("netcdf: %s: variable %q: %w", f.name, name, err)
	}
	l := Layout{BigEndian: ds.Type.BigEndian && ds.Type.Size > 1, Chunks: slices.Clone(v.Shape), Codecs: codecs, Inline: ds.Compact(),
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
	if l.Fill != nil {
		l.FillChunk = func() ([]byte, error) { return fillChunk(l, ds.Filters()) }
	}
	return l, nil
}

// fillChunk returns one piece of the fill value (Fill, in the stored byte
// order) as the file would store it had it been written: through the
// layout's filters. It is what a chunk never written reads as, for
// references that must point at every chunk.
func fillChunk(l Layout, filters []hdf5.Filter) ([]byte, error) {
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
	return hdf5.EncodeChunk(filters, bytes.Repeat(fill, int(n)), len(fill))
}

// codecsOf returns an HDF5 filter pipeline, for values of itemSize bytes,
// as numcodecs codecs in the same order: deflate as zlib, shuffle, zstd and
// fletcher32 as themselves (numcodecs' fletcher32, from 0.12, is HDF5's).
func codecsOf(pipeline []hdf5.Filter, itemSize int) ([]source.Codec, error) {
	var out []source.Codec
	for _, f := range pipeline {
		level := 0
		if len(f.Values) > 0 {
			level = int(f.Values[0])
		}
		switch f.Name {
		case "deflate":
			out = append(out, source.Codec{ID: "zlib", Level: level})
		case "zstd":
			out = append(out, source.Codec{ID: "zstd", Level: level})
		case "shuffle":
			out = append(out, source.Codec{ID: "shuffle", ElementSize: itemSize})
		case "fletcher32":
			out = append(out, source.Codec{ID: "fletcher32"})
		default:
			return nil, fmt.Errorf("HDF5 filter %s has no numcodecs codec (%w)", f.Name, ErrUnsupported)
		}
	}
	return out, nil
}
