package hdf5

import (
	"errors"
	"fmt"
	"math/bits"
)

// maxNodes bounds the nodes visited in one B-tree walk.
const maxNodes = 1 << 22

// walkBtree1 calls visit for every leaf entry of the version-1 B-tree at
// addr, in key order: the key before the child and the child's address.
// keySize is the size of one key.
func (f *File) walkBtree1(addr uint64, wantType uint8, keySize int, visit func(key []byte, child uint64) error) error {
	seen := map[uint64]bool{}
	var walk func(addr uint64, level int) error
	walk = func(addr uint64, level int) error {
		if seen[addr] || len(seen) > maxNodes {
			return fmt.Errorf("B-tree node at address %d: cycle or too many nodes", addr)
		}
		seen[addr] = true
		head, err := f.read(addr, 8+2*f.offsetSize)
		if err != nil {
			return fmt.Errorf("B-tree node: %w", err)
		}
		c := f.cursor(head)
		c.signature("TREE")
		typ := c.u8()
		lvl := int(c.u8())
		n := int(c.u16())
		if c.err != nil {
			return fmt.Errorf("B-tree node at address %d: %w", addr, c.err)
		}
		if typ != wantType || (level >= 0 && lvl != level) || lvl > 64 {
			return fmt.Errorf("B-tree node at address %d: type %d level %d, want type %d", addr, typ, lvl, wantType)
		}
		body, err := f.read(addr+uint64(len(head)), n*(keySize+f.offsetSize)+keySize)
		if err != nil {
			return fmt.Errorf("B-tree node: %w", err)
		}
		c = f.cursor(body)
		for range n {
			key := c.bytes(keySize)
			child := c.addr()
			if c.err != nil {
				return c.err
			}
			if lvl == 0 {
				if err := visit(key, child); err != nil {
					return err
				}
			} else if err := walk(child, lvl-1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(addr, -1)
}

// btree2 is a version-2 B-tree header.
type btree2 struct {
	typ        uint8
	nodeSize   int
	recordSize int
	depth      int
	root       uint64
	rootCount  int
	// per depth: max records in a node and the sizes of the child pointer
	// fields of internal nodes
	maxRecs   []int
	countSize int   // bytes of "records in child" fields
	totalSize []int // bytes of "total records in subtree" fields, by child depth
}

func (f *File) btree2(addr uint64) (*btree2, error) {
	b, err := f.checked(addr, 4+1+1+4+2+2+1+1+f.offsetSize+2+f.lengthSize+4, "BTHD")
	if err != nil {
		return nil, fmt.Errorf("v2 B-tree: %w", err)
	}
	c := f.cursor(b)
	c.skip(4)
	if v := c.u8(); v != 0 {
		return nil, fmt.Errorf("v2 B-tree at address %d: version %d: %w", addr, v, ErrUnsupported)
	}
	t := &btree2{typ: c.u8()}
	t.nodeSize = int(c.u32())
	t.recordSize = int(c.u16())
	t.depth = int(c.u16())
	c.skip(2)
	t.root = c.addr()
	t.rootCount = int(c.u16())
	if c.err != nil {
		return nil, c.err
	}
	const prefix = 10 // signature, version, type and checksum
	if t.nodeSize < prefix+t.recordSize || t.nodeSize > maxMetadata || t.recordSize == 0 || t.depth > 32 {
		return nil, fmt.Errorf("v2 B-tree at address %d: bad node size %d, record size %d or depth %d", addr, t.nodeSize, t.recordSize, t.depth)
	}
	encSize := func(n uint64) int { return bits.Len64(n)/8 + 1 }
	leaf := (t.nodeSize - prefix) / t.recordSize
	t.maxRecs = []int{leaf}
	t.countSize = encSize(uint64(leaf))
	t.totalSize = []int{0}
	cum := []uint64{uint64(leaf)}
	for d := 1; d <= t.depth; d++ {
		ptr := f.offsetSize + t.countSize + t.totalSize[d-1]
		m := (t.nodeSize - (prefix + ptr)) / (t.recordSize + ptr)
		if m <= 0 {
			return nil, fmt.Errorf("v2 B-tree at address %d: nodes too small for depth %d", addr, t.depth)
		}
		t.maxRecs = append(t.maxRecs, m)
		hi, lo := bits.Mul64(uint64(m+1), cum[d-1])
		total := lo + uint64(m)
		if hi != 0 || total < lo {
			total = ^uint64(0)
		}
		cum = append(cum, total)
		t.totalSize = append(t.totalSize, encSize(total))
	}
	return t, nil
}

// walk calls visit with every record of the tree, in order.
func (t *btree2) walk(f *File, visit func(rec []byte) error) error {
	nodes := 0
	var walk func(addr uint64, n, depth int) error
	walk = func(addr uint64, n, depth int) error {
		if nodes++; nodes > maxNodes {
			return errors.New("v2 B-tree: too many nodes")
		}
		if n > t.maxRecs[depth] {
			return fmt.Errorf("v2 B-tree node at address %d: %d records, at most %d fit", addr, n, t.maxRecs[depth])
		}
		sig := "BTLF"
		size := 6 + n*t.recordSize
		if depth > 0 {
			sig = "BTIN"
			size += (n + 1) * (f.offsetSize + t.countSize + t.totalSize[depth-1])
		}
		b, err := f.checked(addr, size+4, sig)
		if err != nil {
			return fmt.Errorf("v2 B-tree: %w", err)
		}
		c := f.cursor(b)
		c.skip(6)
		recs := c.bytes(n * t.recordSize)
		if depth == 0 {
			for i := range n {
				if err := visit(recs[i*t.recordSize : (i+1)*t.recordSize]); err != nil {
					return err
				}
			}
			return nil
		}
		for i := 0; i <= n; i++ {
			child := c.addr()
			cn := int(c.uvar(t.countSize))
			c.uvar(t.totalSize[depth-1])
			if c.err != nil {
				return c.err
			}
			if err := walk(child, cn, depth-1); err != nil {
				return err
			}
			if i < n {
				if err := visit(recs[i*t.recordSize : (i+1)*t.recordSize]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if t.rootCount == 0 || f.undefined(t.root) {
		return nil
	}
	return walk(t.root, t.rootCount, t.depth)
}
