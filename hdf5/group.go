package hdf5

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Object is a group or a dataset in the file.
type Object struct {
	f    *File
	Name string // the link name it was opened by ("/" for the root group)
	Addr uint64 // address of its object header, which identifies it
	hdr  *objectHeader
}

// Link is a named hard link from a group to an object.
type Link struct {
	Name string
	Addr uint64
}

// Root opens the root group.
func (f *File) Root() (*Object, error) { return f.Open("/", f.root) }

// Open reads the object header at addr; name is used in errors.
func (f *File) Open(name string, addr uint64) (*Object, error) {
	h, err := f.objectHeader(addr)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", name, wrapFormat(err))
	}
	return &Object{f: f, Name: name, Addr: addr, hdr: h}, nil
}

// IsDataset reports whether the object is a dataset (it has a layout).
func (o *Object) IsDataset() bool {
	_, ok := o.hdr.find(msgLayout)
	return ok
}

// IsGroup reports whether the object is a group.
func (o *Object) IsGroup() bool {
	for _, t := range []uint16{msgSymbolTable, msgLinkInfo, msgLink, msgGroupInfo} {
		if _, ok := o.hdr.find(t); ok {
			return true
		}
	}
	return false
}

// Attrs returns the object's attributes.
func (o *Object) Attrs() ([]Attribute, error) {
	a, err := o.f.attributes(o.hdr)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", o.Name, wrapFormat(err))
	}
	return a, nil
}

// Links returns a group's hard links, in creation order where the file
// tracks it and in name order otherwise (as HDF5 iterates them). Soft and
// external links are left out.
func (o *Object) Links() ([]Link, error) {
	links, err := o.links()
	if err != nil {
		return nil, fmt.Errorf("%q: %w", o.Name, wrapFormat(err))
	}
	return links, nil
}

type orderedLink struct {
	Link
	order   int64
	ordered bool
	hard    bool
}

func (o *Object) links() ([]Link, error) {
	f := o.f
	if m, ok := o.hdr.find(msgSymbolTable); ok {
		return f.symbolTable(m.data)
	}
	var all []orderedLink
	for _, m := range o.hdr.msgs {
		if m.typ != msgLink {
			continue
		}
		l, err := f.parseLink(m.data)
		if err != nil {
			return nil, err
		}
		all = append(all, l)
	}
	if m, ok := o.hdr.find(msgLinkInfo); ok {
		dense, err := f.denseLinks(m.data)
		if err != nil {
			return nil, err
		}
		all = append(all, dense...)
	}
	byOrder := len(all) > 0
	for _, l := range all {
		byOrder = byOrder && l.ordered
	}
	if byOrder {
		slices.SortStableFunc(all, func(a, b orderedLink) int { return cmp.Compare(a.order, b.order) })
	} else {
		slices.SortStableFunc(all, func(a, b orderedLink) int { return cmp.Compare(a.Name, b.Name) })
	}
	var out []Link
	for _, l := range all {
		if l.hard {
			out = append(out, l.Link)
		}
	}
	return out, nil
}

// parseLink decodes a link message.
func (f *File) parseLink(b []byte) (orderedLink, error) {
	c := f.cursor(b)
	if v := c.u8(); v != 1 {
		return orderedLink{}, fmt.Errorf("link message version %d", v)
	}
	flags := c.u8()
	typ := uint8(0)
	if flags&0x08 != 0 {
		typ = c.u8()
	}
	var l orderedLink
	if flags&0x04 != 0 {
		l.order = int64(c.u64())
		l.ordered = true
	}
	if flags&0x10 != 0 {
		c.u8() // character set
	}
	n := c.uvar(1 << (flags & 3))
	if n > uint64(c.remaining()) {
		return l, fmt.Errorf("link name of %d bytes: %w", n, errShort)
	}
	l.Name = string(c.bytes(int(n)))
	if typ == 0 {
		l.hard = true
		l.Addr = c.addr()
	}
	if c.err != nil {
		return l, fmt.Errorf("link %q: %w", l.Name, c.err)
	}
	return l, nil
}

// denseLinks returns the links kept in a fractal heap, if the link info
// message says there is one.
func (f *File) denseLinks(info []byte) ([]orderedLink, error) {
	c := f.cursor(info)
	c.u8() // version
	flags := c.u8()
	if flags&1 != 0 {
		c.u64() // maximum creation index
	}
	heapAddr := c.addr()
	nameIndex := c.addr()
	if c.err != nil {
		return nil, fmt.Errorf("link info message: %w", c.err)
	}
	if f.undefined(heapAddr) || f.undefined(nameIndex) {
		return nil, nil
	}
	heap, err := f.fractalHeap(heapAddr)
	if err != nil {
		return nil, fmt.Errorf("dense links: %w", err)
	}
	tree, err := f.btree2(nameIndex)
	if err != nil {
		return nil, fmt.Errorf("dense links: %w", err)
	}
	if tree.typ != 5 || tree.recordSize < 5 {
		return nil, fmt.Errorf("dense links: name index is a type %d B-tree", tree.typ)
	}
	var out []orderedLink
	err = tree.walk(f, func(rec []byte) error {
		msg, err := heap.get(rec[4:])
		if err != nil {
			return err
		}
		l, err := f.parseLink(msg)
		if err != nil {
			return err
		}
		out = append(out, l)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dense links: %w", err)
	}
	return out, nil
}

// symbolTable returns the links of an old-style group, in name order.
func (f *File) symbolTable(msg []byte) ([]Link, error) {
	c := f.cursor(msg)
	tree, heapAddr := c.addr(), c.addr()
	if c.err != nil {
		return nil, fmt.Errorf("symbol table message: %w", c.err)
	}
	heap, err := f.localHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	var out []Link
	entrySize := 2*f.offsetSize + 24
	err = f.walkBtree1(tree, 0, f.lengthSize, func(_ []byte, node uint64) error {
		head, err := f.read(node, 8)
		if err != nil {
			return fmt.Errorf("symbol table node: %w", err)
		}
		hc := f.cursor(head)
		hc.signature("SNOD")
		hc.skip(2)
		n := int(hc.u16())
		if hc.err != nil {
			return fmt.Errorf("symbol table node at address %d: %w", node, hc.err)
		}
		body, err := f.read(node+8, n*entrySize)
		if err != nil {
			return fmt.Errorf("symbol table node: %w", err)
		}
		bc := f.cursor(body)
		for range n {
			nameOff := bc.uvar(f.offsetSize)
			addr := bc.addr()
			bc.skip(24)
			if bc.err != nil {
				return bc.err
			}
			name, err := heap.name(nameOff)
			if err != nil {
				return err
			}
			out = append(out, Link{Name: name, Addr: addr})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) > 0 && !slices.IsSortedFunc(out, func(a, b Link) int { return cmp.Compare(a.Name, b.Name) }) {
		return nil, errors.New("symbol table is not in name order")
	}
	return out, nil
}
