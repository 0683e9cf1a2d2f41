package hdf5

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Object is a group or a dataset in the file.
type Object struct {
	f    *File
	Name string // the link name it was opened by ("/" for the root group)
	Addr uint64 // address of its object header, which identifies it
	hdr  *objectHeader
}

// Link is a named link from a group to an object. Soft links are
// resolved: Addr is the object the path leads to.
type Link struct {
	Name string
	Addr uint64
}

// rawLink is a link as a group stores it: a hard link's address, a soft
// link's path or an external link's file and path.
type rawLink struct {
	Link
	soft     string // path of a soft link
	external string // "file:path" of an external link
	order    int64
	ordered  bool
}

// maxLinkHops bounds how many soft links one path may go through, so that
// links that lead to each other fail instead of looping.
const maxLinkHops = 16

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

// Links returns a group's links, in creation order where the file tracks
// it and in name order otherwise (as HDF5 iterates them). Soft links are
// followed within the file, as HDF5 follows them; a soft link to nothing
// and an external link (to another file) are errors.
func (o *Object) Links() ([]Link, error) {
	links, err := o.resolvedLinks()
	if err != nil {
		return nil, fmt.Errorf("%q: %w", o.Name, wrapFormat(err))
	}
	return links, nil
}

func (o *Object) resolvedLinks() ([]Link, error) {
	raw, err := o.links()
	if err != nil {
		return nil, err
	}
	out := make([]Link, 0, len(raw))
	for _, l := range raw {
		if l.external != "" {
			return nil, fmt.Errorf("link %q: an external link, to %q: %w", l.Name, l.external, ErrUnsupported)
		}
		if l.soft != "" {
			if l.Addr, err = o.follow(l.soft, 0); err != nil {
				return nil, fmt.Errorf("soft link %q to %q: %w", l.Name, l.soft, err)
			}
		}
		out = append(out, l.Link)
	}
	return out, nil
}

// errDangling is wrapped by errors for soft links that lead to no object
// (HDF5 itself reports them only when they are followed; netCDF-C refuses
// such files).
var errDangling = fmt.Errorf("no object at the end of the path: %w", ErrUnsupported)

// follow returns the address of the object path leads to from group o
// (from the root group if path is absolute); hops counts the soft links
// followed so far.
func (o *Object) follow(path string, hops int) (uint64, error) {
	if hops >= maxLinkHops {
		return 0, fmt.Errorf("more than %d soft links in a row (a loop?): %w", maxLinkHops, ErrUnsupported)
	}
	at := o
	if strings.HasPrefix(path, "/") {
		root, err := o.f.Root()
		if err != nil {
			return 0, err
		}
		at = root
	}
	addr := at.Addr
	for _, name := range strings.Split(path, "/") {
		if name == "" || name == "." {
			continue
		}
		if !at.IsGroup() {
			return 0, errDangling
		}
		raw, err := at.links()
		if err != nil {
			return 0, err
		}
		i := slices.IndexFunc(raw, func(l rawLink) bool { return l.Name == name })
		if i < 0 || raw[i].external != "" {
			return 0, errDangling
		}
		addr = raw[i].Addr
		if raw[i].soft != "" {
			if addr, err = at.follow(raw[i].soft, hops+1); err != nil {
				return 0, err
			}
		}
		if at, err = o.f.Open(name, addr); err != nil {
			return 0, err
		}
	}
	return addr, nil
}

// links returns the group's links as stored, in iteration order.
func (o *Object) links() ([]rawLink, error) {
	f := o.f
	if m, ok := o.hdr.find(msgSymbolTable); ok {
		return f.symbolTable(m.data)
	}
	var all []rawLink
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
		slices.SortStableFunc(all, func(a, b rawLink) int { return cmp.Compare(a.order, b.order) })
	} else {
		slices.SortStableFunc(all, func(a, b rawLink) int { return cmp.Compare(a.Name, b.Name) })
	}
	return all, nil
}

// parseLink decodes a link message.
func (f *File) parseLink(b []byte) (rawLink, error) {
	c := f.cursor(b)
	if v := c.u8(); v != 1 {
		return rawLink{}, fmt.Errorf("link message version %d", v)
	}
	flags := c.u8()
	typ := uint8(0)
	if flags&0x08 != 0 {
		typ = c.u8()
	}
	var l rawLink
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
	switch typ {
	case 0:
		l.Addr = c.addr()
	case 1, 64: // soft: a path; external: a file name and a path, NUL-terminated
		n := int(c.u16())
		if n > c.remaining() {
			return l, fmt.Errorf("link %q: value of %d bytes: %w", l.Name, n, errShort)
		}
		v := c.bytes(n)
		if typ == 1 {
			l.soft = string(v)
			if l.soft == "" {
				return l, fmt.Errorf("soft link %q with an empty path", l.Name)
			}
		} else {
			l.external = strings.ReplaceAll(strings.TrimRight(string(v[min(1, len(v)):]), "\x00"), "\x00", ":")
			if l.external == "" {
				l.external = "?"
			}
		}
	default:
		return l, fmt.Errorf("link %q of type %d: %w", l.Name, typ, ErrUnsupported)
	}
	if c.err != nil {
		return l, fmt.Errorf("link %q: %w", l.Name, c.err)
	}
	return l, nil
}

// denseLinks returns the links kept in a fractal heap, if the link info
// message says there is one.
func (f *File) denseLinks(info []byte) ([]rawLink, error) {
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
	var out []rawLink
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
func (f *File) symbolTable(msg []byte) ([]rawLink, error) {
	c := f.cursor(msg)
	tree, heapAddr := c.addr(), c.addr()
	if c.err != nil {
		return nil, fmt.Errorf("symbol table message: %w", c.err)
	}
	heap, err := f.localHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	var out []rawLink
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
			cache := bc.u32()
			bc.skip(4)
			linkOff := uint64(bc.u32()) // of the scratch pad: where a soft link's path is in the local heap
			bc.skip(12)
			if bc.err != nil {
				return bc.err
			}
			name, err := heap.name(nameOff)
			if err != nil {
				return err
			}
			l := rawLink{Link: Link{Name: name, Addr: addr}}
			if cache == 2 { // a soft link
				if l.soft, err = heap.name(linkOff); err != nil {
					return fmt.Errorf("soft link %q: %w", name, err)
				}
				if l.soft == "" {
					return fmt.Errorf("soft link %q with an empty path", name)
				}
			}
			out = append(out, l)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) > 0 && !slices.IsSortedFunc(out, func(a, b rawLink) int { return cmp.Compare(a.Name, b.Name) }) {
		return nil, errors.New("symbol table is not in name order")
	}
	return out, nil
}
