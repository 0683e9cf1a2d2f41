package hdf5

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

// maxChunkCount bounds the number of chunks of one dataset.
const maxChunkCount = 1 << 26

// index returns the dataset's stored chunks, read once from its chunk index.
func (d *Dataset) index() (map[uint64]chunkRef, error) {
	d.once.Do(func() {
		d.chunks, d.indexErr = d.readIndex()
		if d.indexErr != nil {
			d.indexErr = fmt.Errorf("%s chunk index: %w", indexNames[d.layout.index], d.indexErr)
		}
	})
	return d.chunks, d.indexErr
}

func (d *Dataset) readIndex() (map[uint64]chunkRef, error) {
	grid := d.grid()
	total, ok := numElements(grid)
	if !ok || total > maxChunkCount {
		return nil, fmt.Errorf("%v chunks", grid)
	}
	chunks := map[uint64]chunkRef{}
	if d.f.undefined(d.layout.addr) { // nothing written yet
		return chunks, nil
	}
	rank := len(d.Dims)
	// add records a chunk by its scaled (chunk grid) coordinates.
	add := func(scaled []uint64, ref chunkRef) {
		lin := uint64(0)
		for i := range rank {
			if scaled[i] >= grid[i] {
				return // beyond the current extent
			}
			lin = lin*grid[i] + scaled[i]
		}
		if len(chunks) < maxChunkCount {
			chunks[lin] = ref
		}
	}
	chunkBytes, _ := numElements(d.layout.chunk)
	chunkBytes *= uint64(d.Type.Size)
	f := d.f
	switch d.layout.index {
	case indexBtree1:
		keySize := 8 + 8*(rank+1)
		scaled := make([]uint64, rank)
		err := f.walkBtree1(d.layout.addr, 1, keySize, func(key []byte, child uint64) error {
			c := f.cursor(key)
			size := c.u32()
			mask := c.u32()
			for i := range scaled {
				off := c.u64()
				if off%d.layout.chunk[i] != 0 {
					return fmt.Errorf("chunk offset %d is not a multiple of the chunk size %d", off, d.layout.chunk[i])
				}
				scaled[i] = off / d.layout.chunk[i]
			}
			add(scaled, chunkRef{addr: child, size: uint64(size), mask: mask})
			return nil
		})
		return chunks, err
	case indexSingle:
		ref := chunkRef{addr: d.layout.addr, size: chunkBytes}
		if d.layout.singleSize != 0 {
			ref.size, ref.mask = d.layout.singleSize, d.layout.singleMask
		} else if len(d.filters) > 0 {
			return nil, errors.New("single filtered chunk without its size")
		}
		add(make([]uint64, rank), ref)
		return chunks, nil
	case indexImplicit:
		maxGrid := d.maxGrid()
		n, _ := numElements(maxGrid)
		for i := range n {
			add(unravel(i, maxGrid), chunkRef{addr: d.layout.addr + i*chunkBytes, size: chunkBytes})
		}
		return chunks, nil
	case indexFixedArray:
		maxGrid := d.maxGrid()
		err := d.fixedArray(func(i uint64, ref chunkRef) {
			add(unravel(i, maxGrid), ref)
		}, chunkBytes)
		return chunks, err
	case indexExtensible:
		err := d.extensibleArray(add, chunkBytes)
		return chunks, err
	case indexBtree2:
		tree, err := f.btree2(d.layout.addr)
		if err != nil {
			return nil, err
		}
		filtered := tree.typ == 11
		if tree.typ != 10 && tree.typ != 11 {
			return nil, fmt.Errorf("chunk B-tree of record type %d", tree.typ)
		}
		sizeLen := tree.recordSize - f.offsetSize - 8*rank
		if filtered {
			sizeLen -= 4
		}
		if sizeLen < 0 || sizeLen > 8 || (!filtered && sizeLen != 0) {
			return nil, fmt.Errorf("chunk B-tree records of %d bytes for rank %d", tree.recordSize, rank)
		}
		scaled := make([]uint64, rank)
		err = tree.walk(f, func(rec []byte) error {
			c := f.cursor(rec)
			ref := chunkRef{addr: c.addr(), size: chunkBytes}
			if filtered {
				ref.size = c.uvar(sizeLen)
				ref.mask = c.u32()
			}
			for i := range scaled {
				scaled[i] = c.u64()
			}
			if c.err != nil {
				return c.err
			}
			add(scaled, ref)
			return nil
		})
		return chunks, err
	}
	return nil, fmt.Errorf("chunk index type %d: %w", d.layout.index, ErrUnsupported)
}

// maxGrid is the chunk grid of MaxDims (Dims where MaxDims is nil), the
// grid over which fixed and implicit indexes number their chunks.
func (d *Dataset) maxGrid() []uint64 {
	g := make([]uint64, len(d.Dims))
	for i := range g {
		m := d.Dims[i]
		if d.MaxDims != nil && d.MaxDims[i] != Unlimited {
			m = max(m, d.MaxDims[i])
		}
		g[i] = (m + d.layout.chunk[i] - 1) / d.layout.chunk[i]
	}
	return g
}

// unravel turns a row-major linear index into coordinates over grid.
func unravel(i uint64, grid []uint64) []uint64 {
	out := make([]uint64, len(grid))
	for k := len(grid) - 1; k >= 0; k-- {
		if grid[k] == 0 {
			return out
		}
		out[k] = i % grid[k]
		i /= grid[k]
	}
	return out
}

// elements decodes n fixed or extensible array elements from c (an
// address, and for filtered chunks the stored size and filter mask) and
// visits those that have an address, numbered from first, below limit.
func (d *Dataset) elements(c *cursor, n, first, limit uint64, filtered bool, entrySize int, chunkBytes uint64, visit func(uint64, chunkRef)) error {
	for i := range n {
		ref := chunkRef{addr: c.addr(), size: chunkBytes}
		if filtered {
			ref.size = c.uvar(entrySize - c.offsetSize - 4)
			ref.mask = c.u32()
		}
		if c.err != nil {
			return c.err
		}
		if first+i < limit && !d.f.undefined(ref.addr) {
			visit(first+i, ref)
		}
	}
	return nil
}

// fixedArray calls visit with every allocated element of the dataset's
// fixed array index.
func (d *Dataset) fixedArray(visit func(i uint64, ref chunkRef), chunkBytes uint64) error {
	f := d.f
	hb, err := f.checked(d.layout.addr, 4+1+1+1+1+f.lengthSize+f.offsetSize+4, "FAHD")
	if err != nil {
		return err
	}
	c := f.cursor(hb)
	c.skip(5)
	client := c.u8()
	entrySize := int(c.u8())
	pageBits := int(c.u8())
	n := c.length()
	dblock := c.addr()
	if c.err != nil {
		return c.err
	}
	filtered := client == 1
	if client > 1 || pageBits > 32 || entrySize < f.offsetSize || (filtered && entrySize > f.offsetSize+4+8) || (filtered && entrySize < f.offsetSize+5) {
		return fmt.Errorf("fixed array header: client %d, entry size %d, page bits %d", client, entrySize, pageBits)
	}
	if n > maxChunkCount {
		return fmt.Errorf("fixed array of %d elements", n)
	}
	if f.undefined(dblock) {
		return nil
	}
	prefix := 4 + 1 + 1 + f.offsetSize
	pageSize := uint64(1) << uint(pageBits)
	if n <= pageSize { // not paged
		b, err := f.checked(dblock, prefix+int(n)*entrySize+4, "FADB")
		if err != nil {
			return err
		}
		return d.elements(f.cursor(b[prefix:]), n, 0, n, filtered, entrySize, chunkBytes, visit)
	}
	pages := (n + pageSize - 1) / pageSize
	bitmap := int((pages + 7) / 8)
	b, err := f.checked(dblock, prefix+bitmap+4, "FADB")
	if err != nil {
		return err
	}
	init := b[prefix : prefix+bitmap]
	addr := dblock + uint64(prefix+bitmap+4)
	for p := range pages {
		count := min(pageSize, n-p*pageSize)
		size := int(count)*entrySize + 4
		if init[p/8]&(0x80>>(p%8)) != 0 {
			pb, err := f.read(addr, size)
			if err != nil {
				return err
			}
			if err := verify(pb); err != nil {
				return fmt.Errorf("fixed array page %d: %w", p, err)
			}
			if err := d.elements(f.cursor(pb), count, p*pageSize, n, filtered, entrySize, chunkBytes, visit); err != nil {
				return err
			}
		}
		addr += uint64(pageSize)*uint64(entrySize) + 4
	}
	return nil
}

// extensibleArray calls add with every allocated chunk of the dataset's
// extensible array index, which numbers chunks over the chunk grid of
// MaxDims with the unlimited dimension moved to the front.
func (d *Dataset) extensibleArray(add func(scaled []uint64, ref chunkRef), chunkBytes uint64) error {
	unlim := -1
	for i := range d.Dims {
		if d.MaxDims != nil && d.MaxDims[i] == Unlimited {
			if unlim >= 0 {
				return errors.New("extensible array index for several unlimited dimensions")
			}
			unlim = i
		}
	}
	if unlim < 0 {
		return errors.New("extensible array index without an unlimited dimension")
	}
	grid := d.maxGrid()
	// swizzled grid: the unlimited dimension first, the others in order
	sw := append([]uint64{grid[unlim]}, append(slices.Clone(grid[:unlim]), grid[unlim+1:]...)...)
	visit := func(i uint64, ref chunkRef) {
		s := unravel(i, append([]uint64{^uint64(0)}, sw[1:]...))
		scaled := make([]uint64, len(s))
		copy(scaled[:unlim], s[1:unlim+1])
		scaled[unlim] = s[0]
		copy(scaled[unlim+1:], s[unlim+1:])
		add(scaled, ref)
	}
	total, _ := numElements(d.grid())
	// how many array elements can hold chunks of the current extent
	limit := total
	if rest, _ := numElements(sw[1:]); rest > 0 {
		limit = ((d.Dims[unlim] + d.layout.chunk[unlim] - 1) / d.layout.chunk[unlim]) * rest
	}
	return d.walkExtensible(visit, limit, chunkBytes)
}

// walkExtensible reads an extensible array: the header, its index block,
// the data blocks it points to directly and those behind super blocks.
func (d *Dataset) walkExtensible(visit func(i uint64, ref chunkRef), limit, chunkBytes uint64) error {
	f := d.f
	hb, err := f.checked(d.layout.addr, 4+1+1+6+6*f.lengthSize+f.offsetSize+4, "EAHD")
	if err != nil {
		return err
	}
	c := f.cursor(hb)
	c.skip(5)
	client := c.u8()
	entrySize := int(c.u8())
	maxBits := int(c.u8())
	idxElems := uint64(c.u8())
	minElems := uint64(c.u8())
	minPtrs := uint64(c.u8())
	pageBits := int(c.u8())
	for range 6 {
		c.length()
	}
	iblock := c.addr()
	if c.err != nil {
		return c.err
	}
	filtered := client == 1
	if client > 1 || entrySize < f.offsetSize || (filtered && entrySize < f.offsetSize+5) || (filtered && entrySize > f.offsetSize+12) ||
		maxBits == 0 || maxBits > 64 || !pow2(minElems) || !pow2(minPtrs) || pageBits > 32 {
		return fmt.Errorf("extensible array header: bad parameters")
	}
	if f.undefined(iblock) {
		return nil
	}
	log2 := func(x uint64) int { return bits.Len64(x) - 1 }
	nsblks := 1 + maxBits - log2(minElems)
	if nsblks < 1 {
		return fmt.Errorf("extensible array header: bad parameters")
	}
	ndblks := func(u int) uint64 { return 1 << uint(u/2) }
	dblkElems := func(u int) uint64 { return minElems << uint((u+1)/2) }
	iblockSblks := 2 * log2(minPtrs)
	ndblkAddrs := 2 * (minPtrs - 1)
	nsblkAddrs := max(0, nsblks-iblockSblks)
	pageElems := uint64(1) << uint(pageBits)
	offSize := (maxBits + 7) / 8

	ib, err := f.checked(iblock, 4+1+1+f.offsetSize+int(idxElems)*entrySize+int(ndblkAddrs+uint64(nsblkAddrs))*f.offsetSize+4, "EAIB")
	if err != nil {
		return err
	}
	c = f.cursor(ib)
	c.skip(6 + f.offsetSize)
	if err := d.elements(c, idxElems, 0, limit, filtered, entrySize, chunkBytes, visit); err != nil {
		return err
	}
	dblocks := make([]uint64, ndblkAddrs)
	for i := range dblocks {
		dblocks[i] = c.addr()
	}
	sblocks := make([]uint64, nsblkAddrs)
	for i := range sblocks {
		sblocks[i] = c.addr()
	}
	if c.err != nil {
		return c.err
	}
	// readBlock visits the elements of the data block at addr, which holds
	// n elements starting at array index first.
	readBlock := func(addr, first, n uint64) error {
		if f.undefined(addr) || first >= limit {
			return nil
		}
		prefix := 6 + f.offsetSize + offSize
		b, err := f.checked(addr, prefix+int(n)*entrySize+4, "EADB")
		if err != nil {
			return err
		}
		return d.elements(f.cursor(b[prefix:]), n, first, limit, filtered, entrySize, chunkBytes, visit)
	}
	next := idxElems // array index of the first element of the next data block
	k := 0           // data block number among those in the index block
	for u := 0; u < nsblks && next < limit; u++ {
		nd, ne := ndblks(u), dblkElems(u)
		if ne > pageElems {
			return fmt.Errorf("paged extensible array data blocks: %w", ErrUnsupported)
		}
		if u < iblockSblks {
			for range nd {
				if k >= len(dblocks) {
					return errors.New("extensible array: index block has too few data block addresses")
				}
				if err := readBlock(dblocks[k], next, ne); err != nil {
					return err
				}
				k++
				next += ne
			}
			continue
		}
		sb := sblocks[u-iblockSblks]
		if f.undefined(sb) {
			next += nd * ne
			continue
		}
		if nd > 1<<20 {
			return errors.New("extensible array: super block too large")
		}
		b, err := f.checked(sb, 6+f.offsetSize+offSize+int(nd)*f.offsetSize+4, "EASB")
		if err != nil {
			return err
		}
		sc := f.cursor(b)
		sc.skip(6 + f.offsetSize + offSize)
		for range nd {
			a := sc.addr()
			if sc.err != nil {
				return sc.err
			}
			if err := readBlock(a, next, ne); err != nil {
				return err
			}
			next += ne
		}
	}
	return nil
}
