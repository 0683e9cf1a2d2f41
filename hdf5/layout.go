package hdf5

import (
	"errors"
	"fmt"
)

// Storage layouts.
const (
	layoutCompact    = 0
	layoutContiguous = 1
	layoutChunked    = 2
)

// Chunk index types of layout message version 4; indexBtree1 is the
// version-1 B-tree of earlier layout versions.
const (
	indexBtree1      = 0
	indexSingle      = 1
	indexImplicit    = 2
	indexFixedArray  = 3
	indexExtensible  = 4
	indexBtree2      = 5
	numIndexVersions = 6
)

var indexNames = [numIndexVersions]string{"version-1 B-tree", "single chunk", "implicit", "fixed array", "extensible array", "version-2 B-tree"}

type layout struct {
	class   int
	compact []byte // compact data
	addr    uint64 // contiguous data, or the chunk index
	size    uint64 // contiguous data size
	chunk   []uint64
	index   int
	// noEdgeFilter: partial edge chunks are stored without filters.
	noEdgeFilter bool
	// single chunk index of a filtered dataset
	singleSize uint64
	singleMask uint32
}

func (f *File) parseLayout(b []byte, rank int) (layout, error) {
	c := f.cursor(b)
	version := c.u8()
	var l layout
	switch version {
	case 1, 2:
		ndims := int(c.u8())
		l.class = int(c.u8())
		c.skip(5)
		if l.class != layoutCompact {
			l.addr = c.addr()
		}
		dims := make([]uint64, ndims)
		for i := range dims {
			dims[i] = uint64(c.u32())
		}
		switch l.class {
		case layoutCompact:
			n := int(c.u32())
			l.compact = c.bytes(n)
		case layoutContiguous:
			l.size = ^uint64(0) // the dataspace says
		case layoutChunked:
			if ndims != rank+1 {
				return l, fmt.Errorf("layout: %d chunk dimensions for rank %d", ndims, rank)
			}
			l.chunk = dims[:rank]
		}
	case 3, 4:
		l.class = int(c.u8())
		switch l.class {
		case layoutCompact:
			n := int(c.u16())
			l.compact = c.bytes(n)
		case layoutContiguous:
			l.addr = c.addr()
			l.size = c.length()
		case layoutChunked:
			if version == 3 {
				ndims := int(c.u8())
				l.addr = c.addr()
				if ndims != rank+1 {
					return l, fmt.Errorf("layout: %d chunk dimensions for rank %d", ndims, rank)
				}
				l.chunk = make([]uint64, rank)
				for i := range l.chunk {
					l.chunk[i] = uint64(c.u32())
				}
				c.u32() // element size
				break
			}
			flags := c.u8()
			ndims := int(c.u8())
			encLen := int(c.u8())
			if ndims != rank+1 || encLen < 1 || encLen > 8 {
				return l, fmt.Errorf("layout: %d chunk dimensions of %d bytes for rank %d", ndims, encLen, rank)
			}
			l.chunk = make([]uint64, rank)
			for i := range l.chunk {
				l.chunk[i] = c.uvar(encLen)
			}
			c.uvar(encLen) // element size
			l.noEdgeFilter = flags&1 != 0
			l.index = int(c.u8())
			switch l.index {
			case indexSingle:
				if flags&2 != 0 {
					l.singleSize = c.length()
					l.singleMask = c.u32()
				}
			case indexImplicit:
			case indexFixedArray:
				c.skip(1)
			case indexExtensible:
				c.skip(5)
			case indexBtree2:
				c.skip(6)
			default:
				return l, fmt.Errorf("layout: chunk index type %d: %w", l.index, ErrUnsupported)
			}
			l.addr = c.addr()
		case 3:
			return l, fmt.Errorf("virtual dataset layout: %w", ErrUnsupported)
		default:
			return l, fmt.Errorf("layout class %d", l.class)
		}
	default:
		return l, fmt.Errorf("layout message version %d: %w", version, ErrUnsupported)
	}
	if c.err != nil {
		return l, fmt.Errorf("layout: %w", c.err)
	}
	for _, d := range l.chunk {
		if d == 0 || d > 1<<32 {
			return l, fmt.Errorf("layout: chunk dimensions %v", l.chunk)
		}
	}
	if l.class == layoutChunked && rank == 0 {
		return l, errors.New("layout: chunked scalar")
	}
	return l, nil
}

// Filter identifiers.
const (
	filterDeflate    = 1
	filterShuffle    = 2
	filterFletcher32 = 3
	filterSzip       = 4
	filterZstd       = 32015
)

type filter struct {
	id     uint16
	name   string
	values []uint32
}

func (ft filter) String() string {
	switch ft.id {
	case filterDeflate:
		return "deflate"
	case filterShuffle:
		return "shuffle"
	case filterFletcher32:
		return "fletcher32"
	case filterSzip:
		return "szip"
	case filterZstd:
		return "zstd"
	}
	if ft.name != "" {
		return fmt.Sprintf("%s (filter %d)", ft.name, ft.id)
	}
	return fmt.Sprintf("filter %d", ft.id)
}

func (f *File) parseFilters(b []byte) ([]filter, error) {
	c := f.cursor(b)
	version := c.u8()
	n := int(c.u8())
	if version == 1 {
		c.skip(6)
	} else if version != 2 {
		return nil, fmt.Errorf("filter pipeline version %d: %w", version, ErrUnsupported)
	}
	if n > 32 {
		return nil, fmt.Errorf("filter pipeline of %d filters", n)
	}
	var out []filter
	for range n {
		var ft filter
		ft.id = c.u16()
		nameLen := 0
		if version == 1 || ft.id >= 256 {
			nameLen = int(c.u16())
		}
		c.u16() // flags
		nvals := int(c.u16())
		name := c.bytes(nameLen)
		if version == 1 {
			c.skip((8 - nameLen%8) % 8)
		}
		for i := 0; i < nvals && c.err == nil; i++ {
			ft.values = append(ft.values, c.u32())
		}
		if version == 1 && nvals%2 == 1 {
			c.skip(4)
		}
		if c.err != nil {
			return nil, fmt.Errorf("filter pipeline: %w", c.err)
		}
		for len(name) > 0 && name[len(name)-1] == 0 {
			name = name[:len(name)-1]
		}
		ft.name = string(name)
		out = append(out, ft)
	}
	return out, nil
}

// parseFill returns the fill value of a fill value message (new or old
// style), or nil when it is undefined (HDF5 then fills with zeros).
func (f *File) parseFill(b []byte, old bool) ([]byte, error) {
	c := f.cursor(b)
	if old {
		n := int(c.u32())
		v := c.bytes(n)
		return v, c.err
	}
	version := c.u8()
	switch version {
	case 1, 2:
		c.skip(2) // allocation and write times
		defined := c.u8()
		if version == 2 && defined == 0 {
			return nil, c.err
		}
		size := c.u32()
		if size == 0xffffffff {
			return nil, c.err // -1: undefined, as HDF5 1.6 writes it (PyTables files)
		}
		v := c.bytes(int(size))
		return v, c.err
	case 3:
		flags := c.u8()
		if flags&0x20 == 0 {
			return nil, c.err
		}
		n := int(c.u32())
		v := c.bytes(n)
		return v, c.err
	}
	return nil, fmt.Errorf("fill value message version %d: %w", version, ErrUnsupported)
}
