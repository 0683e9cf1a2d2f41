package hdf5

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

// Class is the class of an HDF5 datatype.
type Class int

// The datatype classes of the HDF5 format.
const (
	ClassFixed     Class = 0 // integers
	ClassFloat     Class = 1
	ClassTime      Class = 2
	ClassString    Class = 3 // fixed-length strings
	ClassBitfield  Class = 4
	ClassOpaque    Class = 5
	ClassCompound  Class = 6
	ClassReference Class = 7
	ClassEnum      Class = 8
	ClassVarLen    Class = 9 // variable-length sequences and strings
	ClassArray     Class = 10
)

var classNames = []string{"integer", "float", "time", "string", "bitfield", "opaque",
	"compound", "reference", "enum", "variable-length", "array"}

func (c Class) String() string {
	if c >= 0 && int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Datatype describes the type of a dataset's or attribute's elements.
type Datatype struct {
	Class     Class
	Size      int  // bytes per element as stored
	Signed    bool // for ClassFixed
	BigEndian bool // for ClassFixed and ClassFloat
	// VarString is set for variable-length strings (ClassVarLen).
	VarString bool
	// SpacePadded is set for fixed-length strings padded with spaces rather
	// than NULs.
	SpacePadded bool
	// Base is the element type of a variable-length sequence, or the
	// integer type of an enumeration (ClassEnum, whose Size, Signed and
	// BigEndian are then the base type's).
	Base *Datatype
	// Enum lists an enumeration's members, in the order the file gives
	// them.
	Enum []EnumMember
	// Members are a compound type's members.
	Members []Member
}

// Member is one member of a compound type: its name, where it starts in an
// element, and its type.
type Member struct {
	Name   string
	Offset int
	Type   Datatype
}

// EnumMember is one member of an enumeration: its name and its value,
// little-endian in the base type.
type EnumMember struct {
	Name  string
	Value []byte
}

// Integer reports whether values of t are integers as stored: of ClassFixed
// or an enumeration (of its integer base type).
func (t Datatype) Integer() bool {
	return t.Class == ClassFixed || t.Class == ClassEnum
}

// String describes t ("little-endian signed 16-bit integer", ...).
func (t Datatype) String() string {
	order := "little-endian"
	if t.BigEndian {
		order = "big-endian"
	}
	switch t.Class {
	case ClassFixed:
		sign := "unsigned"
		if t.Signed {
			sign = "signed"
		}
		return fmt.Sprintf("%s %s %d-bit integer", order, sign, 8*t.Size)
	case ClassFloat:
		return fmt.Sprintf("%s %d-bit float", order, 8*t.Size)
	case ClassString:
		return fmt.Sprintf("%d-byte string", t.Size)
	case ClassVarLen:
		if t.VarString {
			return "variable-length string"
		}
		if t.Base != nil {
			return "variable-length sequence of " + t.Base.String()
		}
	case ClassArray:
		if t.Base != nil {
			return "array of " + t.Base.String()
		}
	case ClassCompound:
		parts := make([]string, len(t.Members))
		for i, m := range t.Members {
			parts[i] = m.Name + ": " + m.Type.String()
		}
		return "compound {" + strings.Join(parts, ", ") + "}"
	}
	return t.Class.String()
}

// fixedStrings splits raw into the fixed-length strings of type t (of
// ClassString), without their padding: NULs (ending the string at the
// first) or spaces, as the type says.
func (t Datatype) fixedStrings(raw []byte) []string {
	out := make([]string, len(raw)/t.Size)
	for i := range out {
		s := string(raw[i*t.Size : (i+1)*t.Size])
		if t.SpacePadded {
			out[i] = strings.TrimRight(s, " ")
			continue
		}
		if j := strings.IndexByte(s, 0); j >= 0 {
			s = s[:j] // NUL-terminated or NUL-padded
		}
		out[i] = s
	}
	return out
}

// maxTypeDepth bounds nested datatypes (variable-length of variable-length ...).
const maxTypeDepth = 8

// maxMembers bounds the members of a compound type.
const maxMembers = 1 << 16

func parseDatatype(b []byte, depth int) (Datatype, error) {
	t, _, err := parseType(b, depth)
	return t, err
}

// parseType parses the datatype message at the start of b and returns it
// with its length: a compound's members and an enumeration's base type are
// datatype messages inside it.
func parseType(b []byte, depth int) (Datatype, int, error) {
	if depth > maxTypeDepth {
		return Datatype{}, 0, errors.New("datatype nested too deeply")
	}
	c := &cursor{b: b}
	head := c.u8()
	bf := uint32(c.u8()) | uint32(c.u8())<<8 | uint32(c.u8())<<16
	size := c.u32()
	if c.err != nil {
		return Datatype{}, 0, fmt.Errorf("datatype: %w", c.err)
	}
	t := Datatype{Class: Class(head & 0x0f), Size: int(size)}
	if size == 0 || size > 1<<20 {
		return Datatype{}, 0, fmt.Errorf("datatype: element size %d", size)
	}
	version := int(head >> 4)
	n := 8 // the length so far
	switch t.Class {
	case ClassFixed:
		t.BigEndian = bf&1 != 0
		t.Signed = bf&0x08 != 0
		n += 4
	case ClassBitfield:
		t.BigEndian = bf&1 != 0
		n += 4
	case ClassFloat:
		if bf&0x40 != 0 {
			return Datatype{}, 0, fmt.Errorf("datatype: VAX float byte order: %w", ErrUnsupported)
		}
		t.BigEndian = bf&1 != 0
		n += 12
	case ClassTime:
		n += 2
	case ClassString:
		t.SpacePadded = bf&0x0f == 2
	case ClassOpaque:
		n += int(bf & 0xff) // the tag, padded
	case ClassVarLen:
		t.VarString = bf&0x0f == 1
		base, m, err := parseType(b[8:], depth+1)
		if err != nil {
			return Datatype{}, 0, fmt.Errorf("variable-length base type: %w", err)
		}
		t.Base = &base
		n += m
	case ClassEnum:
		return parseEnum(t, b, version, int(bf&0xffff), depth)
	case ClassCompound:
		return parseCompound(t, b, version, int(bf&0xffff), depth)
	case ClassArray:
		c.off = 8
		rank := int(c.u8())
		if version < 3 {
			c.skip(3 + 4*rank) // reserved, then the permutation after the sizes
		}
		c.skip(4 * rank)
		if c.err != nil {
			return Datatype{}, 0, fmt.Errorf("datatype: array: %w", c.err)
		}
		base, m, err := parseType(b[c.off:], depth+1)
		if err != nil {
			return Datatype{}, 0, fmt.Errorf("array base type: %w", err)
		}
		t.Base = &base
		n = c.off + m
	}
	if n > len(b) {
		return Datatype{}, 0, fmt.Errorf("datatype: %s of %d bytes in a message of %d", t.Class, n, len(b))
	}
	return t, n, nil
}

// memberName reads a member name of a compound or enumeration: NUL
// terminated, padded to a multiple of 8 bytes before version 3.
func memberName(c *cursor, version int) string {
	rest := c.b[min(c.off, len(c.b)):]
	end := bytes.IndexByte(rest, 0)
	if end < 0 {
		c.fail(errors.New("unterminated member name"))
		return ""
	}
	used := end + 1
	if version < 3 {
		used = (used + 7) / 8 * 8
	}
	c.skip(used)
	return string(rest[:end])
}

// parseEnum parses the properties of an enumeration (b is its whole
// datatype message): its integer base type, then n names, then n values.
func parseEnum(t Datatype, b []byte, version, n, depth int) (Datatype, int, error) {
	base, m, err := parseType(b[8:], depth+1)
	if err != nil {
		return Datatype{}, 0, fmt.Errorf("enumeration base type: %w", err)
	}
	if base.Class != ClassFixed || base.Size != t.Size {
		return Datatype{}, 0, fmt.Errorf("datatype: enumeration of %s, not of an integer of %d bytes: %w", base, t.Size, ErrUnsupported)
	}
	t.Base, t.Signed, t.BigEndian = &base, base.Signed, base.BigEndian
	c := &cursor{b: b, off: 8 + m}
	if n > c.remaining() { // each member takes at least a byte
		return Datatype{}, 0, fmt.Errorf("datatype: enumeration of %d members in %d bytes", n, c.remaining())
	}
	t.Enum = make([]EnumMember, n)
	for i := range t.Enum {
		t.Enum[i].Name = memberName(c, version)
	}
	for i := range t.Enum {
		v := slices.Clone(c.bytes(t.Size))
		if base.BigEndian {
			slices.Reverse(v)
		}
		t.Enum[i].Value = v
	}
	if c.err != nil {
		return Datatype{}, 0, fmt.Errorf("datatype: enumeration: %w", c.err)
	}
	return t, c.off, nil
}

// parseCompound parses the n members of a compound type (b is its whole
// datatype message): each a name, a byte offset and a datatype.
func parseCompound(t Datatype, b []byte, version, n, depth int) (Datatype, int, error) {
	c := &cursor{b: b, off: 8}
	if n > min(c.remaining(), maxMembers) {
		return Datatype{}, 0, fmt.Errorf("datatype: compound of %d members in %d bytes", n, c.remaining())
	}
	offsetLen := 4
	if version >= 3 {
		offsetLen = (bits.Len32(uint32(t.Size)) + 7) / 8
	}
	t.Members = make([]Member, n)
	for i := range t.Members {
		m := &t.Members[i]
		m.Name = memberName(c, version)
		m.Offset = int(c.uvar(offsetLen))
		if version == 1 {
			c.skip(28) // dimensionality, reserved, permutation, reserved, sizes: old array members
		}
		if c.err != nil {
			return Datatype{}, 0, fmt.Errorf("datatype: compound member %d: %w", i, c.err)
		}
		typ, used, err := parseType(b[c.off:], depth+1)
		if err != nil {
			return Datatype{}, 0, fmt.Errorf("compound member %q: %w", m.Name, err)
		}
		m.Type = typ
		c.skip(used)
	}
	return t, c.off, nil
}

// Unlimited is the maximum size of a dimension that can grow without bound.
const Unlimited = ^uint64(0)

// dataspace is the shape of a dataset or attribute.
type dataspace struct {
	dims    []uint64
	maxDims []uint64 // nil when equal to dims
	null    bool     // no elements at all (H5S_NULL)
}

// maxRank is the largest rank HDF5 allows.
const maxRank = 32

func (f *File) parseDataspace(b []byte) (dataspace, error) {
	c := f.cursor(b)
	version := c.u8()
	rank := int(c.u8())
	flags := c.u8()
	var s dataspace
	switch version {
	case 1:
		c.skip(5)
	case 2:
		switch c.u8() {
		case 0: // scalar
		case 1: // simple
		case 2:
			s.null = true
		default:
			return s, errors.New("dataspace: unknown type")
		}
	default:
		return s, fmt.Errorf("dataspace version %d: %w", version, ErrUnsupported)
	}
	if rank > maxRank {
		return s, fmt.Errorf("dataspace: rank %d", rank)
	}
	all := uint64(1)<<(8*uint(f.lengthSize)) - 1
	s.dims = make([]uint64, rank)
	for i := range s.dims {
		s.dims[i] = c.length()
	}
	if flags&1 != 0 {
		s.maxDims = make([]uint64, rank)
		for i := range s.maxDims {
			if s.maxDims[i] = c.length(); s.maxDims[i] == all {
				s.maxDims[i] = Unlimited
			}
		}
	}
	if c.err != nil {
		return s, fmt.Errorf("dataspace: %w", c.err)
	}
	if _, ok := numElements(s.dims); !ok {
		return s, fmt.Errorf("dataspace: %v elements overflow", s.dims)
	}
	return s, nil
}

// numElements returns the product of dims and whether it fits in 62 bits.
func numElements(dims []uint64) (uint64, bool) {
	n := uint64(1)
	for _, d := range dims {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 || lo > 1<<62 {
			return 0, false
		}
		n = lo
	}
	return n, true
}
