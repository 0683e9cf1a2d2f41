package hdf5

import (
	"fmt"
	"slices"
	"sync"
)

// Dataset is an array stored in the file.
type Dataset struct {
	*Object
	Type Datatype
	// Dims is the current shape; nil for a scalar.
	Dims []uint64
	// MaxDims is the maximum shape (Unlimited for dimensions that can grow);
	// nil when it equals Dims.
	MaxDims []uint64
	// Fill is the fill value as stored (in Type's byte order), or nil when
	// it is undefined and unwritten elements read as zeros.
	Fill []byte
	// Null is set for a dataset with an empty (H5S_NULL) dataspace: Dims
	// is nil, as for a scalar, but it has no values (reads fail with
	// ErrNoValues); it may carry attributes.
	Null bool

	layout  layout
	filters []filter

	once     sync.Once
	chunks   map[uint64]chunkRef // by linear index over the chunk grid of Dims
	indexErr error
}

// buffers (*[]byte: stored chunks and inflate outputs) are reused across
// datasets and files, as inflaters are (inflaterPool): a worker reading one
// chunk from each of many files would otherwise allocate them afresh for
// every chunk. The pools hold no data between uses.
var buffers sync.Pool

// getBuffer returns a pooled buffer of n bytes; putBuffer returns it.
func getBuffer(n uint64) *[]byte {
	p, ok := buffers.Get().(*[]byte)
	if !ok {
		p = new([]byte)
	}
	if uint64(cap(*p)) < n {
		*p = make([]byte, n)
	}
	*p = (*p)[:n]
	return p
}

func putBuffer(p *[]byte) { buffers.Put(p) }

// chunkRef locates one stored chunk.
type chunkRef struct {
	addr uint64
	size uint64 // stored (filtered) size
	mask uint32 // bit i set: filter i was not applied
}

// Dataset returns the object as a dataset.
func (o *Object) Dataset() (*Dataset, error) {
	d, err := o.dataset()
	if err != nil {
		return nil, fmt.Errorf("%q: %w", o.Name, wrapFormat(err))
	}
	return d, nil
}

func (o *Object) dataset() (*Dataset, error) {
	f := o.f
	d := &Dataset{Object: o}
	m, ok := o.hdr.find(msgDatatype)
	if !ok {
		return nil, fmt.Errorf("dataset has no datatype message")
	}
	if m.flags&2 != 0 {
		return nil, fmt.Errorf("committed (shared) datatype: %w", ErrUnsupported)
	}
	var err error
	if d.Type, err = parseDatatype(m.data, 0); err != nil {
		return nil, err
	}
	m, ok = o.hdr.find(msgDataspace)
	if !ok {
		return nil, fmt.Errorf("dataset has no dataspace message")
	}
	space, err := f.parseDataspace(m.data)
	if err != nil {
		return nil, err
	}
	if space.null {
		d.Null = true // no values, so no fill, layout or filters to parse
		return d, nil
	}
	if len(space.dims) > 0 {
		d.Dims = space.dims
		d.MaxDims = space.maxDims
	}
	if m, ok := o.hdr.find(msgFill); ok {
		if d.Fill, err = f.parseFill(m.data, false); err != nil {
			return nil, err
		}
	} else if m, ok := o.hdr.find(msgFillOld); ok {
		if d.Fill, err = f.parseFill(m.data, true); err != nil {
			return nil, err
		}
	}
	if len(d.Fill) == 0 {
		d.Fill = nil // defined as "no value": zeros
	}
	if d.Fill != nil && len(d.Fill) != d.Type.Size {
		return nil, fmt.Errorf("fill value of %d bytes for %d-byte elements", len(d.Fill), d.Type.Size)
	}
	if _, ok := o.hdr.find(msgExternal); ok {
		// Reading them would let an input make us read any file on the
		// machine (and they cannot be reached beside a remote input).
		return nil, fmt.Errorf("data in external files (HDF5 External Data Files message), which are not read: %w", ErrUnsupported)
	}
	m, ok = o.hdr.find(msgLayout)
	if !ok {
		return nil, fmt.Errorf("dataset has no layout message")
	}
	if d.layout, err = f.parseLayout(m.data, len(d.Dims)); err != nil {
		return nil, err
	}
	if d.layout.class == layoutChunked {
		// HDF5 refuses to make a chunk larger than a fixed dimension: one
		// that is can only be damage, or a bomb (a small file declaring a
		// huge chunk).
		limits := d.Dims
		if d.MaxDims != nil {
			limits = d.MaxDims
		}
		for i, c := range d.layout.chunk {
			if limit := limits[i]; limit != Unlimited && limit > 0 && c > limit {
				return nil, fmt.Errorf("chunk shape %v is larger than the dataset's maximum shape %v", d.layout.chunk, limits)
			}
		}
	}
	if m, ok := o.hdr.find(msgFilters); ok {
		if d.filters, err = f.parseFilters(m.data); err != nil {
			return nil, err
		}
		for _, ft := range d.filters {
			switch ft.id {
			case filterDeflate, filterShuffle, filterFletcher32, filterZstd, filterSzip:
			default:
				return nil, fmt.Errorf("compression %s: %w", ft, ErrUnsupported)
			}
		}
	}
	return d, nil
}

// Chunks returns the chunk shape, or nil if the dataset is not chunked.
func (d *Dataset) Chunks() []uint64 {
	if d.layout.class != layoutChunked {
		return nil
	}
	return slices.Clone(d.layout.chunk)
}

// Storage describes how the data is stored ("contiguous", "chunked
// (fixed array index) with shuffle, deflate", ...).
func (d *Dataset) Storage() string {
	var s string
	switch d.layout.class {
	case layoutCompact:
		s = "compact"
	case layoutContiguous:
		s = "contiguous"
	default:
		s = fmt.Sprintf("chunked (%s index)", indexNames[d.layout.index])
	}
	for i, ft := range d.filters {
		if i == 0 {
			s += " with "
		} else {
			s += ", "
		}
		s += ft.String()
	}
	return s
}

// ChunkShape is the shape of the dataset's chunks, nil when it is not
// chunked (contiguous or compact: any part of it reads without decoding
// more).
func (d *Dataset) ChunkShape() []uint64 {
	if d.layout.class != layoutChunked {
		return nil
	}
	return slices.Clone(d.layout.chunk[:len(d.Dims)])
}
