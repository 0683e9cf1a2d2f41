package hdf5

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/zarrforge/zarrforge/internal/nd"
)

// Attribute is an attribute of a group or dataset. Its value is decoded on
// demand by Numbers, Strings or References, whichever fits its Type.
type Attribute struct {
	Name string
	Type Datatype
	// Shape is the attribute's dataspace: nil for a scalar.
	Shape []uint64
	// Null is set for an attribute with an empty (H5S_NULL) dataspace.
	Null bool
	data []byte
	f    *File
}

// Len returns the number of elements in the attribute.
func (a *Attribute) Len() int {
	if a.Null {
		return 0
	}
	n, _ := numElements(a.Shape)
	return int(n)
}

// Numbers returns the values of an integer (or enumeration) or float
// attribute as little-endian bytes, Type.Size bytes per element.
func (a *Attribute) Numbers() ([]byte, error) {
	if !a.Type.Integer() && a.Type.Class != ClassFloat {
		return nil, fmt.Errorf("attribute %q: %s is not a number: %w", a.Name, a.Type, ErrUnsupported)
	}
	n := a.Len() * a.Type.Size
	if n > len(a.data) {
		return nil, fmt.Errorf("attribute %q: %d bytes of data for %d values: %w", a.Name, len(a.data), a.Len(), ErrFormat)
	}
	out := append([]byte(nil), a.data[:n]...)
	if a.Type.BigEndian {
		nd.SwapBytes(out, a.Type.Size)
	}
	return out, nil
}

// Strings returns the values of a fixed- or variable-length string
// attribute. Fixed-length strings lose their padding (NULs or spaces, as
// the type says).
func (a *Attribute) Strings() ([]string, error) {
	switch {
	case a.Type.Class == ClassString:
		n := a.Len()
		if n*a.Type.Size > len(a.data) {
			return nil, fmt.Errorf("attribute %q: %d bytes of data for %d strings: %w", a.Name, len(a.data), n, ErrFormat)
		}
		return a.Type.fixedStrings(a.data[:n*a.Type.Size]), nil
	case a.Type.Class == ClassVarLen && a.Type.VarString:
		vals, err := a.varLen(1)
		if err != nil {
			return nil, err
		}
		return texts(vals), nil
	}
	return nil, fmt.Errorf("attribute %q: %s is not a string: %w", a.Name, a.Type, ErrUnsupported)
}

// texts turns variable-length strings' bytes into strings.
func texts(vals [][]byte) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

// References returns the object addresses an attribute refers to: one list
// per element, of one address for an object reference attribute, or of the
// sequence's addresses for a variable-length sequence of references (as in
// the DIMENSION_LIST of a dimension-scaled dataset).
func (a *Attribute) References() ([][]uint64, error) {
	f := a.f
	switch {
	case a.Type.Class == ClassReference && a.Type.Size == f.offsetSize:
		c := f.cursor(a.data)
		out := make([][]uint64, a.Len())
		for i := range out {
			out[i] = []uint64{c.addr()}
		}
		if c.err != nil {
			return nil, fmt.Errorf("attribute %q: %w (%w)", a.Name, c.err, ErrFormat)
		}
		return out, nil
	case a.Type.Class == ClassVarLen && !a.Type.VarString && a.Type.Base != nil &&
		a.Type.Base.Class == ClassReference && a.Type.Base.Size == f.offsetSize:
		vals, err := a.varLen(f.offsetSize)
		if err != nil {
			return nil, err
		}
		out := make([][]uint64, len(vals))
		for i, v := range vals {
			c := f.cursor(v)
			for c.remaining() > 0 {
				out[i] = append(out[i], c.addr())
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("attribute %q: %s is not an object reference: %w", a.Name, a.Type, ErrUnsupported)
}

// varLen reads the variable-length elements of the attribute from the
// global heap; elemSize is the size of one base element.
func (a *Attribute) varLen(elemSize int) ([][]byte, error) {
	out, err := a.f.varLen(a.data, a.Len(), elemSize)
	if err != nil {
		return nil, fmt.Errorf("attribute %q: %w", a.Name, wrapFormat(err))
	}
	return out, nil
}

// maxVarLen caps the bytes of the variable-length elements one varLen call
// returns.
const maxVarLen = 256 << 20

// varLen resolves n variable-length element descriptors in raw (each a
// 4-byte element count, a global heap collection address and a 4-byte
// object index) to their bytes; elemSize is the size of one base element.
// A zero count is an empty element.
func (f *File) varLen(raw []byte, n, elemSize int) ([][]byte, error) {
	heap := f.globalHeap()
	c := f.cursor(raw)
	out := make([][]byte, n)
	total := uint64(0)
	for i := range out {
		count := c.u32()
		coll := c.addr()
		idx := c.u32()
		if c.err != nil {
			return nil, c.err
		}
		if count == 0 {
			continue
		}
		b, err := heap.object(coll, idx)
		if err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
		size := uint64(count) * uint64(elemSize)
		if size > uint64(len(b)) {
			return nil, fmt.Errorf("element %d has %d bytes, want %d", i, len(b), size)
		}
		if total += size; total > maxVarLen {
			return nil, fmt.Errorf("variable-length data of more than %d bytes in one read", maxVarLen)
		}
		out[i] = b[:size]
	}
	return out, nil
}

// parseAttribute decodes an attribute message.
func (f *File) parseAttribute(b []byte) (Attribute, error) {
	c := f.cursor(b)
	version := c.u8()
	flags := c.u8()
	nameSize := int(c.u16())
	typeSize := int(c.u16())
	spaceSize := int(c.u16())
	pad := func(n int) int { return n }
	switch version {
	case 1:
		pad = func(n int) int { return (n + 7) &^ 7 }
	case 2:
	case 3:
		c.skip(1) // name character set
	default:
		return Attribute{}, fmt.Errorf("attribute message version %d: %w", version, ErrUnsupported)
	}
	name := c.bytes(pad(nameSize))
	typ := c.bytes(pad(typeSize))
	space := c.bytes(pad(spaceSize))
	if c.err != nil {
		return Attribute{}, fmt.Errorf("attribute message: %w", c.err)
	}
	if nameSize > 0 {
		name = name[:nameSize]
	}
	a := Attribute{Name: string(bytes.TrimRight(name, "\x00")), f: f}
	if flags&3 != 0 {
		return a, fmt.Errorf("attribute %q: shared datatype or dataspace: %w", a.Name, ErrUnsupported)
	}
	var err error
	if a.Type, err = parseDatatype(typ[:typeSize], 0); err != nil {
		return a, fmt.Errorf("attribute %q: %w", a.Name, err)
	}
	ds, err := f.parseDataspace(space[:spaceSize])
	if err != nil {
		return a, fmt.Errorf("attribute %q: %w", a.Name, err)
	}
	a.Null = ds.null
	if len(ds.dims) > 0 {
		a.Shape = ds.dims
	}
	size := uint64(a.Type.Size)
	if a.Type.Class == ClassVarLen {
		size = uint64(4 + f.offsetSize + 4)
	}
	n, _ := numElements(ds.dims)
	if ds.null {
		n = 0
	}
	if n*size > uint64(c.remaining()) {
		return a, fmt.Errorf("attribute %q: %d values of %d bytes in %d bytes", a.Name, n, size, c.remaining())
	}
	a.data = c.bytes(int(n * size))
	return a, nil
}

// attributes returns the attributes of the object with header h, compact
// and dense, in creation order where the file tracks it.
func (f *File) attributes(h *objectHeader) ([]Attribute, error) {
	var out []Attribute
	for _, m := range h.msgs {
		if m.typ != msgAttribute {
			continue
		}
		a, err := f.parseAttribute(m.data)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	info, ok := h.find(msgAttrInfo)
	if !ok {
		return out, nil
	}
	c := f.cursor(info.data)
	c.u8() // version
	flags := c.u8()
	if flags&1 != 0 {
		c.u16() // maximum creation index
	}
	heapAddr := c.addr()
	nameIndex := c.addr()
	if c.err != nil {
		return nil, fmt.Errorf("attribute info message: %w", c.err)
	}
	if f.undefined(heapAddr) || f.undefined(nameIndex) {
		return out, nil
	}
	heap, err := f.fractalHeap(heapAddr)
	if err != nil {
		return nil, fmt.Errorf("dense attributes: %w", err)
	}
	tree, err := f.btree2(nameIndex)
	if err != nil {
		return nil, fmt.Errorf("dense attributes: %w", err)
	}
	if tree.typ != 8 || tree.recordSize < 17 {
		return nil, fmt.Errorf("dense attributes: name index is a type %d B-tree", tree.typ)
	}
	type ordered struct {
		order uint32
		attr  Attribute
	}
	var dense []ordered
	err = tree.walk(f, func(rec []byte) error {
		id := rec[:8]
		order := uint32(rec[9]) | uint32(rec[10])<<8 | uint32(rec[11])<<16 | uint32(rec[12])<<24
		msg, err := heap.get(id[:min(len(id), heap.idLen)])
		if err != nil {
			return err
		}
		a, err := f.parseAttribute(msg)
		if err != nil {
			return err
		}
		dense = append(dense, ordered{order, a})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dense attributes: %w", err)
	}
	if flags&1 != 0 { // creation order tracked
		slices.SortStableFunc(dense, func(a, b ordered) int { return cmp.Compare(a.order, b.order) })
	} else {
		slices.SortStableFunc(dense, func(a, b ordered) int { return cmp.Compare(a.attr.Name, b.attr.Name) })
	}
	for _, d := range dense {
		out = append(out, d.attr)
	}
	return out, nil
}
