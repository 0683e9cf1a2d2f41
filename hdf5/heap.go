package hdf5

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
)

// localHeap is the name heap of an old-style group.
type localHeap struct{ data []byte }

func (f *File) localHeap(addr uint64) (localHeap, error) {
	b, err := f.read(addr, 8+2*f.lengthSize+f.offsetSize)
	if err != nil {
		return localHeap{}, fmt.Errorf("local heap: %w", err)
	}
	c := f.cursor(b)
	c.signature("HEAP")
	c.skip(4)
	size := c.length()
	c.length() // free list
	data := c.addr()
	if c.err != nil {
		return localHeap{}, fmt.Errorf("local heap at address %d: %w", addr, c.err)
	}
	if size > maxMetadata {
		return localHeap{}, fmt.Errorf("local heap at address %d: %d bytes", addr, size)
	}
	seg, err := f.read(data, int(size))
	if err != nil {
		return localHeap{}, fmt.Errorf("local heap data: %w", err)
	}
	return localHeap{seg}, nil
}

// name returns the NUL-terminated string at off.
func (h localHeap) name(off uint64) (string, error) {
	if off >= uint64(len(h.data)) {
		return "", fmt.Errorf("name offset %d beyond local heap of %d bytes", off, len(h.data))
	}
	s := h.data[off:]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		return string(s[:i]), nil
	}
	return "", errors.New("name in local heap is not terminated")
}

// globalHeap reads objects from global heap collections, keeping the
// collections read so far (one decode of an attribute reads each once).
type globalHeap struct {
	f    *File
	coll map[uint64][]byte
}

func (f *File) globalHeap() *globalHeap { return &globalHeap{f: f, coll: map[uint64][]byte{}} }

// object returns object index of the collection at addr.
func (g *globalHeap) object(addr uint64, index uint32) ([]byte, error) {
	f := g.f
	b, ok := g.coll[addr]
	if !ok {
		head, err := f.read(addr, 8+f.lengthSize)
		if err != nil {
			return nil, fmt.Errorf("global heap: %w", err)
		}
		c := f.cursor(head)
		c.signature("GCOL")
		c.skip(4)
		size := c.length()
		if c.err != nil {
			return nil, fmt.Errorf("global heap at address %d: %w", addr, c.err)
		}
		if size > maxMetadata {
			return nil, fmt.Errorf("global heap at address %d: %d bytes", addr, size)
		}
		if b, err = f.read(addr, int(size)); err != nil {
			return nil, fmt.Errorf("global heap: %w", err)
		}
		g.coll[addr] = b
	}
	c := f.cursor(b)
	c.skip(8 + f.lengthSize)
	for c.remaining() >= 8+f.lengthSize {
		idx := c.u16()
		c.skip(6)
		size := c.length()
		if idx == 0 { // free space: the rest of the collection
			break
		}
		if size > uint64(c.remaining()) {
			break
		}
		data := c.bytes(int(size))
		if uint32(idx) == index {
			return data, nil
		}
		c.skip(int((8 - size%8) % 8))
	}
	return nil, fmt.Errorf("global heap at address %d has no object %d", addr, index)
}

// fractalHeap is a fractal heap header, as used for dense links and
// attributes.
type fractalHeap struct {
	f                  *File
	addr               uint64
	idLen              int
	maxManaged         uint64
	checksummedDirect  bool
	width              uint64
	startBlock         uint64
	maxDirect          uint64
	maxDirectRows      int
	offsetSize, lenLen int // sizes of the offset and length in managed heap IDs
	root               uint64
	rootRows           int
	filtered           bool
	hugeTree           uint64            // v2 B-tree of huge objects whose IDs hold no address
	blocks             map[uint64][]byte // direct blocks read (and verified) so far, by address
}

func (f *File) fractalHeap(addr uint64) (*fractalHeap, error) {
	h, err := f.readFractalHeap(addr)
	if err != nil {
		return nil, fmt.Errorf("fractal heap at address %d: %w", addr, err)
	}
	return h, nil
}

func (f *File) readFractalHeap(addr uint64) (*fractalHeap, error) {
	// The header up to its checksum when it has no I/O filters.
	b, err := f.read(addr, 26+12*f.lengthSize+3*f.offsetSize)
	if err != nil {
		return nil, err
	}
	c := f.cursor(b)
	c.signature("FRHP")
	if v := c.u8(); v != 0 && c.err == nil {
		return nil, fmt.Errorf("version %d: %w", v, ErrUnsupported)
	}
	h := &fractalHeap{f: f, addr: addr}
	h.idLen = int(c.u16())
	filterLen := c.u16()
	flags := c.u8()
	h.maxManaged = uint64(c.u32())
	c.length() // next huge object ID
	h.hugeTree = c.addr()
	c.length() // free space
	c.addr()   // free-space manager
	c.length() // managed space
	c.length() // allocated managed space
	c.length() // allocation iterator
	c.length() // managed objects
	c.length() // huge objects size
	c.length() // huge objects count
	c.length() // tiny objects size
	c.length() // tiny objects count
	h.width = uint64(c.u16())
	h.startBlock = c.length()
	h.maxDirect = c.length()
	maxBits := int(c.u16())
	c.u16() // starting rows in root indirect block
	h.root = c.addr()
	h.rootRows = int(c.u16())
	if c.err != nil {
		return nil, c.err
	}
	h.checksummedDirect = flags&2 != 0
	h.filtered = filterLen > 0
	if !pow2(h.startBlock) || !pow2(h.maxDirect) || h.maxDirect < h.startBlock || h.width == 0 || h.width > 1<<16 ||
		maxBits == 0 || maxBits > 64 || h.maxDirect > maxMetadata || h.rootRows > 64 {
		return nil, errors.New("bad doubling table parameters")
	}
	if !h.filtered {
		// Checksum follows the fields read so far.
		if err := verify(b[:c.off+4]); err != nil {
			return nil, err
		}
	}
	h.maxDirectRows = bits.Len64(h.maxDirect) - bits.Len64(h.startBlock) + 2
	h.offsetSize = (maxBits + 7) / 8
	h.lenLen = min((bits.Len64(h.maxDirect)-1+7)/8, bits.Len64(h.maxManaged)/8+1)
	return h, nil
}

func pow2(x uint64) bool { return x != 0 && x&(x-1) == 0 }

// get returns the object with heap ID id.
func (h *fractalHeap) get(id []byte) ([]byte, error) {
	if len(id) == 0 {
		return nil, errors.New("empty heap ID")
	}
	switch (id[0] >> 4) & 3 {
	case 0: // managed
		if h.filtered {
			return nil, fmt.Errorf("fractal heap with I/O filters: %w", ErrUnsupported)
		}
		c := &cursor{b: id[1:]}
		off := c.uvar(h.offsetSize)
		n := c.uvar(h.lenLen)
		if c.err != nil {
			return nil, fmt.Errorf("heap ID: %w", c.err)
		}
		return h.managed(off, n)
	case 1: // huge: stored on its own, found from its ID or through a B-tree
		if h.filtered {
			return nil, fmt.Errorf("huge object in a fractal heap with I/O filters: %w", ErrUnsupported)
		}
		f := h.f
		if h.idLen >= 1+f.offsetSize+f.lengthSize {
			c := f.cursor(id[1:])
			a, n := c.addr(), c.length()
			if c.err != nil || n > maxMetadata {
				return nil, fmt.Errorf("huge object ID: bad address or length")
			}
			return f.read(a, int(n))
		}
		return h.huge(id[1:min(len(id), 1+8)])
	case 2: // tiny
		if h.idLen <= 18 {
			n := int(id[0]&0x0f) + 1
			if 1+n > len(id) {
				return nil, errShort
			}
			return id[1 : 1+n], nil
		}
		if len(id) < 2 {
			return nil, errShort
		}
		n := (int(id[0]&0x0f)<<8 | int(id[1])) + 1
		if 2+n > len(id) {
			return nil, errShort
		}
		return id[2 : 2+n], nil
	}
	return nil, errors.New("heap ID of unknown type")
}

// huge returns the huge object whose ID (little-endian, as many bytes as
// the heap ID has room for, at most 8) is key, looking it up in the heap's
// B-tree of huge objects.
func (h *fractalHeap) huge(key []byte) ([]byte, error) {
	f := h.f
	want := f.cursor(key).uvar(len(key))
	if f.undefined(h.hugeTree) {
		return nil, fmt.Errorf("huge object %d: the heap has no B-tree of huge objects", want)
	}
	tree, err := f.btree2(h.hugeTree)
	if err != nil {
		return nil, fmt.Errorf("huge objects: %w", err)
	}
	if tree.typ != 1 || tree.recordSize < f.offsetSize+2*f.lengthSize {
		return nil, fmt.Errorf("huge objects: a type %d B-tree with %d-byte records", tree.typ, tree.recordSize)
	}
	found := errors.New("found")
	var addr, n uint64
	err = tree.walk(f, func(rec []byte) error {
		c := f.cursor(rec)
		a, size, id := c.addr(), c.length(), c.length()
		if c.err != nil {
			return c.err
		}
		if id != want {
			return nil
		}
		addr, n = a, size
		return found
	})
	switch {
	case err == nil:
		return nil, fmt.Errorf("huge object %d is not in the heap's B-tree", want)
	case err != found:
		return nil, fmt.Errorf("huge objects: %w", err)
	case n > maxMetadata:
		return nil, fmt.Errorf("huge object %d of %d bytes", want, n)
	}
	return f.read(addr, int(n))
}

// managed returns n bytes at heap offset off, finding the direct block that
// holds them through the doubling table.
func (h *fractalHeap) managed(off, n uint64) ([]byte, error) {
	addr, rows := h.root, h.rootRows
	blockOff := uint64(0) // heap offset where the current block starts
	for depth := 0; ; depth++ {
		if depth > 64 {
			return nil, errors.New("fractal heap too deep")
		}
		if rows == 0 { // a direct block of the starting size, or the row's size
			size := h.startBlock
			if depth > 0 {
				return nil, errors.New("indirect block with no rows")
			}
			return h.direct(addr, blockOff, size, off, n)
		}
		rel := off - blockOff
		row, col, rowBlock := h.locate(rel)
		if row >= rows {
			return nil, fmt.Errorf("heap offset %d beyond the heap", off)
		}
		entry := uint64(row)*h.width + col
		ib, err := h.indirect(addr, rows)
		if err != nil {
			return nil, err
		}
		child := ib[entry]
		if h.f.undefined(child) {
			return nil, fmt.Errorf("heap offset %d is in an unallocated block", off)
		}
		childOff := blockOff + h.rowStart(row) + col*rowBlock
		if row < h.maxDirectRows {
			return h.direct(child, childOff, rowBlock, off, n)
		}
		addr, blockOff = child, childOff
		rows = bits.Len64(rowBlock) - bits.Len64(h.startBlock*h.width) + 1
	}
}

// rowStart is the heap offset of row r relative to its indirect block.
func (h *fractalHeap) rowStart(r int) uint64 {
	if r == 0 {
		return 0
	}
	return h.width * h.startBlock << uint(r-1)
}

// locate finds the row, column and block size of the entry covering
// relative offset rel in an indirect block.
func (h *fractalHeap) locate(rel uint64) (row int, col, size uint64) {
	ws := h.width * h.startBlock
	if rel < ws {
		return 0, rel / h.startBlock, h.startBlock
	}
	row = bits.Len64(rel / ws) // rel/ws in [2^(row-1), 2^row)
	size = h.startBlock << uint(row-1)
	return row, (rel - h.rowStart(row)) / size, size
}

// indirect reads the child addresses of an indirect block with rows rows.
func (h *fractalHeap) indirect(addr uint64, rows int) ([]uint64, error) {
	f := h.f
	nchild := uint64(rows) * h.width
	if nchild > 1<<20 {
		return nil, errors.New("indirect block too large")
	}
	size := 4 + 1 + f.offsetSize + h.offsetSize + int(nchild)*f.offsetSize + 4
	b, err := f.checked(addr, size, "FHIB")
	if err != nil {
		return nil, err
	}
	c := f.cursor(b)
	c.skip(5 + f.offsetSize + h.offsetSize)
	out := make([]uint64, nchild)
	for i := range out {
		out[i] = c.addr()
	}
	return out, c.err
}

// direct returns n bytes at heap offset off from the direct block at addr,
// which starts at heap offset blockOff and is size bytes long.
// direct returns a copy of the n bytes at heap offset off, in the direct
// block at addr (of size bytes, starting at heap offset blockOff). Each
// block is read and verified once per heap: an object with thousands of
// attributes in one block reads it once, and keeps no block alive through
// the attributes it returns.
func (h *fractalHeap) direct(addr, blockOff, size, off, n uint64) ([]byte, error) {
	b, ok := h.blocks[addr]
	if !ok {
		var err error
		if b, err = h.readDirect(addr, size); err != nil {
			return nil, err
		}
		if h.blocks == nil {
			h.blocks = map[uint64][]byte{}
		}
		h.blocks[addr] = b
	}
	rel := off - blockOff
	if off < blockOff || rel > size || n > size-rel || uint64(len(b)) < size {
		return nil, fmt.Errorf("object at heap offset %d (%d bytes) outside its direct block", off, n)
	}
	return bytes.Clone(b[rel : rel+n]), nil
}

func (h *fractalHeap) readDirect(addr, size uint64) ([]byte, error) {
	f := h.f
	b, err := f.read(addr, int(size))
	if err != nil {
		return nil, err
	}
	if string(b[:min(4, len(b))]) != "FHDB" {
		return nil, fmt.Errorf("direct block at address %d: bad signature", addr)
	}
	if h.checksummedDirect {
		at := 5 + f.offsetSize + h.offsetSize
		if at+4 > len(b) {
			return nil, errShort
		}
		want := uint32(b[at]) | uint32(b[at+1])<<8 | uint32(b[at+2])<<16 | uint32(b[at+3])<<24
		copy(b[at:at+4], []byte{0, 0, 0, 0}) // the checksum is of the block with its field zeroed
		sum := lookup3(b)
		copy(b[at:at+4], []byte{byte(want), byte(want >> 8), byte(want >> 16), byte(want >> 24)})
		if sum != want {
			return nil, fmt.Errorf("direct block at address %d: checksum mismatch", addr)
		}
	}
	return b, nil
}
