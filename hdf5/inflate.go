package hdf5

import (
	"encoding/binary"
	"errors"
	"hash/adler32"
	"math/bits"
	"sync"
)

// A zlib/DEFLATE (RFC 1950/1951) decoder for HDF5's deflate filter. A
// chunk's decoded size is known before it is decoded, so the stream is
// decoded straight into one buffer of that size, which is also the window:
// no sliding dictionary, no copying out, and the bit buffer is refilled 8
// bytes at a time. This is what decoding netCDF-4 data spends most of its
// time on; it is about 1.4x faster than klauspost/compress's streaming
// inflater (go test ./hdf5 -run XXX -bench Inflate).

var errInflate = errors.New("corrupt deflate stream")

const (
	litBits  = 10 // index bits of the first-level literal/length table
	distBits = 8  // ... and of the distance table

	// table entry layout: bits 0-3 bits to consume; 4-7 kind; 8-15 extra
	// bits (or sub-table index bits); 16-31 value.
	kindInvalid = 0
	kindLiteral = 1 << 4
	kindLength  = 2 << 4 // also distances
	kindEnd     = 3 << 4
	kindSub     = 4 << 4
)

// Codes build tables for.
const (
	codeLit  = iota // literal/length: 0-255 literals, 256 end of block, 257-285 lengths
	codeDist        // distances 0-29
	codeLen         // code-length symbols 0-18, stored as literals
)

// inflater holds the decoding tables; they are rebuilt for every block.
type inflater struct {
	lit  [1<<litBits + 1<<15]uint32
	dist [1<<distBits + 1<<15]uint32
	lens [320]uint8
}

var inflaterPool = sync.Pool{New: func() any { return new(inflater) }}

var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	clOrder     = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// inflateZlib decodes the zlib stream src into dst and returns how many
// bytes it decoded; dst past them may have been written too. A stream that
// decodes to more than len(dst) bytes, is corrupt, or whose Adler-32
// checksum does not match is an error.
func inflateZlib(dst, src []byte) (int, error) {
	if len(src) < 6 {
		return 0, errInflate
	}
	cmf, flg := src[0], src[1]
	if cmf&0x0f != 8 || cmf>>4 > 7 || (uint16(cmf)<<8|uint16(flg))%31 != 0 {
		return 0, errors.New("not a zlib stream")
	}
	if flg&0x20 != 0 {
		return 0, errors.New("zlib stream with a preset dictionary")
	}
	f := inflaterPool.Get().(*inflater)
	defer inflaterPool.Put(f)
	n, used, err := f.inflate(dst, src[2:])
	if err != nil {
		return 0, err
	}
	trailer := src[2+used:]
	if len(trailer) < 4 {
		return 0, errors.New("zlib stream without its checksum")
	}
	if binary.BigEndian.Uint32(trailer) != adler32.Checksum(dst[:n]) {
		return 0, errors.New("zlib checksum mismatch")
	}
	return n, nil
}

// bitReader is a little-endian bit reader over src that may read up to 8 zero
// bytes past its end (a valid stream never consumes them).
type bitReader struct {
	src  []byte
	pos  int // next byte of src to load
	buf  uint64
	n    uint // valid bits in buf
	over int  // zero bytes loaded past the end
}

// refill tops buf up to at least 56 bits.
func (b *bitReader) refill() {
	if b.pos+8 <= len(b.src) {
		b.buf |= binary.LittleEndian.Uint64(b.src[b.pos:]) << b.n
		k := (63 - b.n) >> 3
		b.pos += int(k)
		b.n += k << 3
		return
	}
	for b.n <= 56 {
		if b.pos < len(b.src) {
			b.buf |= uint64(b.src[b.pos]) << b.n
			b.pos++
		} else {
			b.over++
		}
		b.n += 8
	}
}

func (b *bitReader) take(k uint) uint32 {
	v := uint32(b.buf & (1<<k - 1))
	b.buf >>= k
	b.n -= k
	return v
}

// used returns how many bytes of src the stream consumed, after aligning to
// a byte boundary.
func (b *bitReader) used() int { return b.pos + b.over - int(b.n>>3) }

func (f *inflater) inflate(dst, src []byte) (n, used int, err error) {
	b := bitReader{src: src}
	out := 0
	for {
		b.refill()
		if b.over > 8 {
			return 0, 0, errInflate
		}
		final := b.take(1)
		switch b.take(2) {
		case 0: // stored
			b.take(b.n & 7)
			p := b.used()
			b.buf, b.n = 0, 0
			if p+4 > len(src) {
				return 0, 0, errInflate
			}
			size := int(binary.LittleEndian.Uint16(src[p:]))
			if ^uint16(size) != binary.LittleEndian.Uint16(src[p+2:]) {
				return 0, 0, errInflate
			}
			p += 4
			if p+size > len(src) || out+size > len(dst) {
				return 0, 0, errInflate
			}
			out += copy(dst[out:], src[p:p+size])
			b.pos = p + size
		case 1: // fixed Huffman codes
			for i := range 288 {
				switch {
				case i < 144:
					f.lens[i] = 8
				case i < 256:
					f.lens[i] = 9
				case i < 280:
					f.lens[i] = 7
				default:
					f.lens[i] = 8
				}
			}
			for i := range 32 {
				f.lens[288+i] = 5
			}
			if !f.build(f.lit[:], litBits, f.lens[:288], codeLit) || !f.build(f.dist[:], distBits, f.lens[288:320], codeDist) {
				return 0, 0, errInflate
			}
			if out, err = f.codes(&b, dst, out); err != nil {
				return 0, 0, err
			}
		case 2: // dynamic Huffman codes
			if err := f.readTables(&b); err != nil {
				return 0, 0, err
			}
			if out, err = f.codes(&b, dst, out); err != nil {
				return 0, 0, err
			}
		default:
			return 0, 0, errInflate
		}
		if final == 1 {
			break
		}
	}
	b.take(b.n & 7)
	if b.used() > len(src) {
		return 0, 0, errInflate // consumed bits past the end
	}
	return out, b.used(), nil
}

// readTables reads a dynamic block's code lengths and builds its tables.
func (f *inflater) readTables(b *bitReader) error {
	b.refill()
	nlit := int(b.take(5)) + 257
	ndist := int(b.take(5)) + 1
	nclen := int(b.take(4)) + 4
	if nlit > 286 || ndist > 30 {
		return errInflate
	}
	var cl [19]uint8
	for i := range nclen {
		if b.n < 3 {
			b.refill()
		}
		cl[clOrder[i]] = uint8(b.take(3))
	}
	if !f.build(f.dist[:], 7, cl[:], codeLen) { // the code-length code, borrowing the distance table
		return errInflate
	}
	lens := f.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		b.refill()
		e := f.dist[b.buf&(1<<7-1)]
		if e&0xf0 != kindLiteral {
			return errInflate
		}
		b.take(uint(e & 15))
		sym := e >> 16
		switch {
		case sym < 16:
			lens[i] = uint8(sym)
			i++
			continue
		case sym == 16:
			if i == 0 {
				return errInflate
			}
			sym, e = uint32(lens[i-1]), 3+b.take(2)
		case sym == 17:
			sym, e = 0, 3+b.take(3)
		default:
			sym, e = 0, 11+b.take(7)
		}
		if i+int(e) > len(lens) {
			return errInflate
		}
		for range e {
			lens[i] = uint8(sym)
			i++
		}
	}
	if b.over > 8 || lens[256] == 0 {
		return errInflate
	}
	if !f.build(f.lit[:], litBits, lens[:nlit], codeLit) || !f.build(f.dist[:], distBits, lens[nlit:], codeDist) {
		return errInflate
	}
	return nil
}

// build fills table (a first level of root bits, then sub-tables) for the
// canonical Huffman code of the given code lengths. It refuses an
// over-subscribed code, and an incomplete one unless it is at most one
// one-bit code (which encoders write for blocks using one distance, or one
// code length); the missing codes decode as errors.
func (f *inflater) build(table []uint32, root uint, lens []uint8, code int) bool {
	var count [16]uint16
	longest := 0
	for _, l := range lens {
		count[l]++
		longest = max(longest, int(l))
	}
	count[0] = 0
	var next [16]uint32
	left := 1
	c := uint32(0)
	for l := 1; l < 16; l++ {
		left = left<<1 - int(count[l])
		if left < 0 {
			return false
		}
		c = (c + uint32(count[l-1])) << 1
		next[l] = c
	}
	if left > 0 && longest > 1 {
		return false
	}
	// Sub-table sizes: the longest code under each first-level prefix.
	var maxLen [1 << litBits]uint8
	var revs [320]uint32
	for sym, l := range lens {
		if l == 0 {
			continue
		}
		revs[sym] = reverse(next[l], uint(l))
		next[l]++
		if uint(l) > root {
			p := revs[sym] & (1<<root - 1)
			maxLen[p] = max(maxLen[p], l)
		}
	}
	size := 1 << root
	clear(table[:size])
	off := size
	for p := range size {
		if m := uint(maxLen[p]); m > 0 {
			sub := m - root
			table[p] = uint32(off)<<16 | uint32(sub)<<8 | kindSub | uint32(root)
			clear(table[off : off+1<<sub])
			off += 1 << sub
		}
	}
	for sym, l := range lens {
		if l == 0 {
			continue
		}
		e, r := entry(sym, code), revs[sym]
		if uint(l) <= root {
			e |= uint32(l)
			for i := r; i < 1<<root; i += 1 << l {
				table[i] = e
			}
			continue
		}
		s := table[r&(1<<root-1)]
		base, sub := int(s>>16), uint(s>>8&0xff)
		k := uint(l) - root
		e |= uint32(k)
		for i := r >> root; i < 1<<sub; i += 1 << k {
			table[base+int(i)] = e
		}
	}
	return true
}

// entry returns the table entry of sym, without its code length.
func entry(sym, code int) uint32 {
	switch {
	case code == codeLen:
		return uint32(sym)<<16 | kindLiteral
	case code == codeDist && sym < 30:
		return uint32(distBase[sym])<<16 | uint32(distExtra[sym])<<8 | kindLength
	case code == codeLit && sym < 256:
		return uint32(sym)<<16 | kindLiteral
	case code == codeLit && sym == 256:
		return kindEnd
	case code == codeLit && sym < 286:
		return uint32(lengthBase[sym-257])<<16 | uint32(lengthExtra[sym-257])<<8 | kindLength
	}
	return kindInvalid
}

// reverse returns the n-bit code c with its bits reversed: Huffman codes
// are packed from their most significant bit, and the bit reader takes the
// least significant first.
func reverse(c uint32, n uint) uint32 {
	return uint32(bits.Reverse16(uint16(c))) >> (16 - n)
}

// codes decodes one block's symbols into dst from out on, returning the new
// output position. The bit reader's state is kept in locals so that it stays
// in registers; it is the hottest loop of reading netCDF-4 data.
func (f *inflater) codes(b *bitReader, dst []byte, out int) (int, error) {
	lit, dist := &f.lit, &f.dist
	src := b.src
	buf, n, pos := b.buf, b.n, b.pos
	refill := func() bool {
		if pos+8 <= len(src) {
			buf |= binary.LittleEndian.Uint64(src[pos:]) << n
			k := (63 - n) >> 3
			pos += int(k)
			n += k << 3
			return true
		}
		b.buf, b.n, b.pos = buf, n, pos
		b.refill()
		buf, n, pos = b.buf, b.n, b.pos
		return b.over <= 8
	}
	for {
		if !refill() {
			return 0, errInflate
		}
		e := lit[buf&(1<<litBits-1)]
		// Literals, as long as the bits of another code are there (a
		// refill leaves at least 56).
		for e&0xf0 == kindLiteral {
			buf >>= e & 15
			n -= uint(e & 15)
			if out >= len(dst) {
				return 0, errInflate
			}
			dst[out] = byte(e >> 16)
			out++
			if n < 15 {
				break
			}
			e = lit[buf&(1<<litBits-1)]
		}
		if e&0xf0 == kindLiteral {
			continue
		}
		if e&0xf0 == kindSub {
			buf >>= litBits
			n -= litBits
			e = lit[(e>>16)+uint32(buf&(1<<(e>>8&0xff)-1))]
		}
		buf >>= e & 15
		n -= uint(e & 15)
		switch e & 0xf0 {
		case kindLiteral:
			if out >= len(dst) {
				return 0, errInflate
			}
			dst[out] = byte(e >> 16)
			out++
			continue
		case kindLength:
		case kindEnd:
			b.buf, b.n, b.pos = buf, n, pos
			return out, nil
		default:
			return 0, errInflate
		}
		// A length's extra bits, a distance code and its extra bits: at
		// most 33 bits.
		if n < 33 && !refill() {
			return 0, errInflate
		}
		k := e >> 8 & 0xff
		length := int(e>>16) + int(buf&(1<<k-1))
		buf >>= k
		n -= uint(k)
		d := dist[buf&(1<<distBits-1)]
		if d&0xf0 == kindSub {
			buf >>= distBits
			n -= distBits
			d = dist[(d>>16)+uint32(buf&(1<<(d>>8&0xff)-1))]
		}
		if d&0xf0 != kindLength {
			return 0, errInflate
		}
		buf >>= d & 15
		n -= uint(d & 15)
		k = d >> 8 & 0xff
		back := int(d>>16) + int(buf&(1<<k-1))
		buf >>= k
		n -= uint(k)
		if back > out || out+length > len(dst) {
			return 0, errInflate
		}
		from, end := out-back, out+length
		if back >= 8 && end+8 <= len(dst) {
			// Most matches are short: copy 8 bytes at a time, which may
			// write up to 7 bytes past the match, where the output has not
			// got to yet. Each word read is already written as back >= 8.
			for ; out < end; out, from = out+8, from+8 {
				binary.LittleEndian.PutUint64(dst[out:], binary.LittleEndian.Uint64(dst[from:]))
			}
			out = end
			continue
		}
		// An overlapping copy repeats the last back bytes: copy what is
		// there, doubling, until the match is written.
		for out < end {
			out += copy(dst[out:end], dst[from:out])
		}
	}
}
