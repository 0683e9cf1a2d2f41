package hdf5

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// errShort is returned when a structure ends before its fields do.
var errShort = errors.New("structure is truncated")

// cursor reads little-endian fields from an in-memory structure. Reads past
// the end set err and return zeros, so a parser can read a run of fields
// and check err once.
type cursor struct {
	b   []byte
	off int
	err error
	// sizes of file addresses and lengths, from the superblock
	offsetSize, lengthSize int
}

func (f *File) cursor(b []byte) *cursor {
	return &cursor{b: b, offsetSize: f.offsetSize, lengthSize: f.lengthSize}
}

func (c *cursor) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

func (c *cursor) remaining() int { return len(c.b) - c.off }

func (c *cursor) bytes(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > len(c.b)-c.off {
		c.fail(errShort)
		c.off = len(c.b)
		return nil
	}
	b := c.b[c.off : c.off+n]
	c.off += n
	return b
}

func (c *cursor) skip(n int) { c.bytes(n) }

func (c *cursor) u8() uint8 {
	b := c.bytes(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (c *cursor) u16() uint16 {
	b := c.bytes(2)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint16(b)
}

func (c *cursor) u32() uint32 {
	b := c.bytes(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (c *cursor) u64() uint64 {
	b := c.bytes(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// uvar reads an unsigned little-endian integer of n bytes (0 ≤ n ≤ 8).
func (c *cursor) uvar(n int) uint64 {
	if n > 8 {
		c.fail(fmt.Errorf("integer field of %d bytes", n))
		return 0
	}
	b := c.bytes(n)
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// addr reads a file address; the all-ones value means "undefined".
func (c *cursor) addr() uint64 { return c.uvar(c.offsetSize) }

// length reads a length field.
func (c *cursor) length() uint64 { return c.uvar(c.lengthSize) }

// signature checks a 4-byte signature.
func (c *cursor) signature(want string) {
	b := c.bytes(4)
	if c.err == nil && string(b) != want {
		c.fail(fmt.Errorf("bad signature %q, want %q", b, want))
	}
}

// undefined reports whether a is the undefined address for this file.
func (f *File) undefined(a uint64) bool {
	return a == uint64(1)<<(8*uint(f.offsetSize))-1 // wraps to all ones for 8-byte offsets
}
