package hdf5

import (
	"errors"
	"fmt"
)

// Header message types used by this package.
const (
	msgNil          = 0x00
	msgDataspace    = 0x01
	msgLinkInfo     = 0x02
	msgDatatype     = 0x03
	msgFillOld      = 0x04
	msgFill         = 0x05
	msgLink         = 0x06
	msgExternal     = 0x07
	msgLayout       = 0x08
	msgGroupInfo    = 0x0A
	msgFilters      = 0x0B
	msgAttribute    = 0x0C
	msgContinuation = 0x10
	msgSymbolTable  = 0x11
	msgAttrInfo     = 0x15
)

// maxChunks bounds the continuation chunks of one object header, so a
// corrupt file cannot make a reader loop.
const maxChunks = 4096

// message is one object header message.
type message struct {
	typ   uint16
	flags uint8
	data  []byte
}

// span is a continuation chunk still to be read.
type span struct{ addr, size uint64 }

// objectHeader is a parsed object header: its messages, continuation
// chunks followed.
type objectHeader struct {
	addr       uint64
	msgs       []message
	orderField bool // version-2 messages carry a 2-byte creation order
}

// find returns the first message of type typ.
func (h *objectHeader) find(typ uint16) (message, bool) {
	for _, m := range h.msgs {
		if m.typ == typ {
			return m, true
		}
	}
	return message{}, false
}

func (f *File) objectHeader(addr uint64) (*objectHeader, error) {
	h, err := f.readObjectHeader(addr)
	if err != nil {
		return nil, fmt.Errorf("object header at address %d: %w", addr, err)
	}
	return h, nil
}

func (f *File) readObjectHeader(addr uint64) (*objectHeader, error) {
	prefix, err := f.read(addr, min(16, int(max(0, f.size-int64(f.base+addr)))))
	if err != nil {
		return nil, err
	}
	h := &objectHeader{addr: addr}
	var pending []span
	v2 := len(prefix) >= 4 && string(prefix[:4]) == "OHDR"
	var nmsgs int
	if v2 {
		c := f.cursor(prefix)
		c.skip(4)
		if v := c.u8(); v != 2 {
			return nil, fmt.Errorf("version %d with OHDR signature", v)
		}
		flags := c.u8()
		n := 6
		if flags&0x20 != 0 {
			n += 16
		}
		if flags&0x10 != 0 {
			n += 4
		}
		sizeLen := 1 << (flags & 3)
		h.orderField = flags&0x04 != 0 // messages carry a creation order
		p, err := f.read(addr, n+sizeLen)
		if err != nil {
			return nil, err
		}
		c = f.cursor(p)
		c.skip(n)
		size := c.uvar(sizeLen)
		if c.err != nil {
			return nil, c.err
		}
		b, err := f.read(addr, n+sizeLen+int(min(size, maxMetadata))+4)
		if err != nil {
			return nil, err
		}
		if err := verify(b); err != nil {
			return nil, err
		}
		if err := f.parseV2Messages(h, b[n+sizeLen:len(b)-4], &pending); err != nil {
			return nil, err
		}
	} else {
		c := f.cursor(prefix)
		if v := c.u8(); v != 1 {
			return nil, fmt.Errorf("object header version %d", v)
		}
		c.skip(1)
		nmsgs = int(c.u16())
		c.skip(4)
		size := c.u32()
		if c.err != nil {
			return nil, c.err
		}
		b, err := f.read(addr+16, int(size))
		if err != nil {
			return nil, err
		}
		if err := f.parseV1Messages(h, b, &nmsgs, &pending); err != nil {
			return nil, err
		}
	}
	seen := map[uint64]bool{}
	for i := 0; len(pending) > 0; i++ {
		if i >= maxChunks {
			return nil, errors.New("too many continuation chunks")
		}
		ch := pending[0]
		pending = pending[1:]
		if seen[ch.addr] {
			return nil, fmt.Errorf("continuation chunk at address %d is visited twice", ch.addr)
		}
		seen[ch.addr] = true
		if ch.size > maxMetadata {
			return nil, fmt.Errorf("continuation chunk of %d bytes", ch.size)
		}
		if v2 {
			b, err := f.checked(ch.addr, int(ch.size), "OCHK")
			if err != nil {
				return nil, err
			}
			if err := f.parseV2Messages(h, b[4:len(b)-4], &pending); err != nil {
				return nil, err
			}
		} else {
			b, err := f.read(ch.addr, int(ch.size))
			if err != nil {
				return nil, err
			}
			if err := f.parseV1Messages(h, b, &nmsgs, &pending); err != nil {
				return nil, err
			}
		}
	}
	return h, nil
}

// parseV1Messages appends the messages of a version-1 header chunk.
func (f *File) parseV1Messages(h *objectHeader, b []byte, left *int, pending *[]span) error {
	c := f.cursor(b)
	for c.remaining() >= 8 && *left > 0 {
		typ := c.u16()
		size := int(c.u16())
		flags := c.u8()
		c.skip(3)
		data := c.bytes(size)
		if c.err != nil {
			return fmt.Errorf("message of type %#x: %w", typ, c.err)
		}
		*left--
		if err := f.addMessage(h, message{typ: typ, flags: flags, data: data}, pending); err != nil {
			return err
		}
	}
	return nil
}

// parseV2Messages appends the messages of a version-2 header chunk (the
// bytes between the prefix or signature and the checksum).
func (f *File) parseV2Messages(h *objectHeader, b []byte, pending *[]span) error {
	c := f.cursor(b)
	hdr := 4
	if h.orderField {
		hdr = 6
	}
	for c.remaining() >= hdr {
		typ := uint16(c.u8())
		size := int(c.u16())
		flags := c.u8()
		if h.orderField {
			c.skip(2)
		}
		data := c.bytes(size)
		if c.err != nil {
			return fmt.Errorf("message of type %#x: %w", typ, c.err)
		}
		if err := f.addMessage(h, message{typ: typ, flags: flags, data: data}, pending); err != nil {
			return err
		}
	}
	return nil
}

func (f *File) addMessage(h *objectHeader, m message, pending *[]span) error {
	switch m.typ {
	case msgNil:
		return nil
	case msgContinuation:
		c := f.cursor(m.data)
		a, n := c.addr(), c.length()
		if c.err != nil {
			return fmt.Errorf("continuation message: %w", c.err)
		}
		*pending = append(*pending, span{a, n})
		return nil
	}
	if len(h.msgs) >= 1<<16 {
		return errors.New("too many header messages")
	}
	h.msgs = append(h.msgs, m)
	return nil
}
