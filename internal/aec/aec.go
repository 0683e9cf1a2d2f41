// Package aec decodes Adaptive Entropy Coding (CCSDS 121.0-B, the Rice
// coding of libaec) streams: the data representation 5.42 of GRIB2 and,
// through the szip interface (Szip), HDF5's szip filter. It knows nothing
// of either format: callers give the stream's parameters.
//
// Decoding is bounded by what the caller asks for: the output is exactly
// the samples requested, every count a stream declares is checked against
// it before it is used, and a stream that ends early or says something
// impossible is an error, never a short or padded result.
package aec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// Flags are the options a stream was encoded with (libaec's AEC_DATA_*
// flags).
type Flags uint8

const (
	// Signed samples are two's complement.
	Signed Flags = 1 << iota
	// ThreeByte writes samples of 17 to 24 bits in three bytes, not four.
	ThreeByte
	// MSB writes samples most significant byte first (big-endian).
	MSB
	// Preprocess: each reference sample interval starts with a reference
	// sample and the rest are mapped differences from the previous sample
	// (the unit-delay predictor).
	Preprocess
	// Restricted uses the restricted set of code options for samples of 4
	// bits or fewer.
	Restricted
	// PadRSI: each reference sample interval starts on a byte boundary.
	PadRSI
)

// Params describe a stream.
type Params struct {
	BitsPerSample int // 1 to 32
	BlockSize     int // samples per block: even, 2 to 64 (CCSDS: 8, 16, 32, 64)
	RSI           int // blocks per reference sample interval: 1 to 4096
	Flags         Flags
}

// ErrStream is wrapped by the errors of streams that cannot be decoded
// with the parameters given: damaged, truncated, or another encoding.
var ErrStream = errors.New("aec: not a valid stream for these parameters")

// check reports parameters outside what the standard and libaec allow.
func (p Params) check() error {
	switch {
	case p.BitsPerSample < 1 || p.BitsPerSample > 32:
		return fmt.Errorf("aec: %d bits per sample (want 1 to 32)", p.BitsPerSample)
	case p.BlockSize < 2 || p.BlockSize > 64 || p.BlockSize%2 != 0:
		return fmt.Errorf("aec: block size %d (want an even number from 2 to 64)", p.BlockSize)
	case p.RSI < 1 || p.RSI > 4096:
		return fmt.Errorf("aec: reference sample interval of %d blocks (want 1 to 4096)", p.RSI)
	case p.Flags&Restricted != 0 && p.BitsPerSample > 4 && p.BitsPerSample <= 8:
		return fmt.Errorf("aec: the restricted code options are for samples of 4 bits or fewer, not %d", p.BitsPerSample)
	}
	return nil
}

// BytesPerSample is how many bytes a decoded sample takes.
func (p Params) BytesPerSample() int {
	switch {
	case p.BitsPerSample > 16 && p.BitsPerSample <= 24 && p.Flags&ThreeByte != 0:
		return 3
	case p.BitsPerSample > 16:
		return 4
	case p.BitsPerSample > 8:
		return 2
	}
	return 1
}

// idLen is the length of a block's code option identifier.
func (p Params) idLen() int {
	switch {
	case p.BitsPerSample > 16:
		return 5
	case p.BitsPerSample > 8:
		return 4
	case p.Flags&Restricted != 0 && p.BitsPerSample <= 2:
		return 1
	case p.Flags&Restricted != 0:
		return 2
	}
	return 3
}

// Decode decodes src into dst, which it fills exactly: len(dst) /
// BytesPerSample samples, each in BytesPerSample bytes in the byte order
// the flags say.
func Decode(dst, src []byte, p Params) error {
	if err := p.check(); err != nil {
		return err
	}
	size := p.BytesPerSample()
	if len(dst)%size != 0 {
		return fmt.Errorf("aec: %d bytes of output for samples of %d bytes", len(dst), size)
	}
	msb := p.Flags&MSB != 0
	return decode(src, len(dst)/size, p, func(samples []uint32) {
		for _, v := range samples {
			for j := range size {
				shift := 8 * j
				if msb {
					shift = 8 * (size - 1 - j)
				}
				dst[j] = byte(v >> shift)
			}
			dst = dst[size:]
		}
	})
}

// Samples decodes the first n samples of src as values (signed ones
// sign-extended to 32 bits, when the preprocessor made them), for callers
// that compute with them rather than store them: no byte order applies.
func Samples(src []byte, n int, p Params) ([]uint32, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	out := make([]uint32, 0, n)
	err := decode(src, n, p, func(samples []uint32) { out = append(out, samples...) })
	return out, err
}

// decode decodes n samples of src, giving them to emit an interval at a
// time.
func decode(src []byte, n int, p Params, emit func([]uint32)) error {
	d := decoder{p: p, r: bitReader{src: src}, buf: make([]uint32, p.RSI*p.BlockSize), idLen: p.idLen()}
	for n > 0 {
		k, err := d.interval(n)
		if err != nil {
			return err
		}
		d.unmap(k)
		emit(d.buf[:k])
		n -= k
		if p.Flags&PadRSI != 0 {
			d.r.align()
		}
	}
	return nil
}

// decoder holds one stream's state: its reader and the interval being
// decoded.
type decoder struct {
	p     Params
	r     bitReader
	buf   []uint32 // the samples of one reference sample interval, mapped
	idLen int
}

// interval decodes the blocks of one reference sample interval into buf,
// stopping once it holds want samples (the last interval of a stream may
// be short), and returns how many samples it decoded.
func (d *decoder) interval(want int) (int, error) {
	n := 0
	for n < len(d.buf) && n < want {
		ref := 0
		if n == 0 && d.p.Flags&Preprocess != 0 {
			ref = 1
		}
		got, err := d.block(n, ref)
		if err != nil {
			return 0, fmt.Errorf("%w: sample %d of an interval: %w", ErrStream, n, err)
		}
		n += got
	}
	return min(n, want), nil
}

// block decodes the block (or run of zero blocks) starting at sample n of
// the interval, whose first sample is a reference sample when ref is 1,
// and returns how many samples it gave.
func (d *decoder) block(n, ref int) (int, error) {
	bs, bps := d.p.BlockSize, d.p.BitsPerSample
	id, err := d.r.bits(d.idLen)
	if err != nil {
		return 0, err
	}
	switch {
	case id == 0: // low entropy: a run of zero blocks, or the second extension
		se, err := d.r.bits(1)
		if err != nil {
			return 0, err
		}
		if ref == 1 {
			if d.buf[n], err = d.r.bits(bps); err != nil {
				return 0, err
			}
		}
		if se == 1 {
			return bs, d.secondExtension(n, ref)
		}
		return d.zeroBlocks(n, ref)
	case id == 1<<d.idLen-1: // no compression: every sample as it is
		for i := range bs {
			if d.buf[n+i], err = d.r.bits(bps); err != nil {
				return 0, err
			}
		}
		return bs, nil
	}
	return bs, d.split(n, ref, int(id)-1)
}

// split decodes a block of the sample-splitting option with k low bits: a
// fundamental sequence of every sample's high part, then every low part.
func (d *decoder) split(n, ref, k int) error {
	bs, bps := d.p.BlockSize, d.p.BitsPerSample
	if ref == 1 {
		v, err := d.r.bits(bps)
		if err != nil {
			return err
		}
		d.buf[n] = v
	}
	limit := uint64(1)<<bps - 1
	for i := n + ref; i < n+bs; i++ {
		fs, err := d.r.fs()
		if err != nil {
			return err
		}
		v := uint64(fs) << k
		if v > limit {
			return fmt.Errorf("split sample %d exceeds %d bits", v, bps)
		}
		d.buf[i] = uint32(v)
	}
	if k == 0 {
		return nil
	}
	// The high parts were checked: a multiple of 2^k within bps bits
	// stays within them plus k low bits.
	for i := n + ref; i < n+bs; i++ {
		low, err := d.r.bits(k)
		if err != nil {
			return err
		}
		d.buf[i] |= low
	}
	return nil
}

// secondExtension decodes a block of the second extension option: each
// pair of samples (a, b) as one fundamental sequence of
// (a+b)(a+b+1)/2 + b; with a reference sample, the first code gives b
// alone.
func (d *decoder) secondExtension(n, ref int) error {
	for i := ref; i < d.p.BlockSize; {
		m, err := d.r.fs()
		if err != nil {
			return err
		}
		if m > maxSE {
			return fmt.Errorf("second extension code %d (at most %d)", m, maxSE)
		}
		sum, start := seSum(m)
		b := m - start
		if i%2 == 0 {
			d.buf[n+i] = sum - b
			i++
		}
		d.buf[n+i] = b
		i++
	}
	return nil
}

// maxSE is the largest second extension code: a pair summing to 12.
const maxSE = 90

// seSum returns the sum of the pair second extension code m stands for,
// and the first code of that sum.
func seSum(m uint32) (sum, start uint32) {
	for sum = 0; (sum+1)*(sum+2)/2 <= m; sum++ {
	}
	return sum, sum * (sum + 1) / 2
}

// zeroBlocks decodes a run of blocks of zeros (after the reference sample,
// when there is one) and returns how many samples it gave. The run's
// length is a fundamental sequence: 1 to 4 blocks, 5 for "to the end of
// the segment of 64 blocks or of the interval", more for one less.
func (d *decoder) zeroBlocks(n, ref int) (int, error) {
	bs := d.p.BlockSize
	fs, err := d.r.fs()
	if err != nil {
		return 0, err
	}
	blocks := int(min(fs, 1<<20)) + 1
	switch {
	case blocks == rosCode:
		b := n / bs
		blocks = min(d.p.RSI-b, 64-b%64)
	case blocks > rosCode:
		blocks--
	}
	samples := blocks*bs - ref
	if n+ref+samples > len(d.buf) {
		return 0, fmt.Errorf("a run of %d zero blocks passes the interval's %d", blocks, d.p.RSI)
	}
	clear(d.buf[n+ref : n+ref+samples])
	return blocks * bs, nil
}

// rosCode is the zero-block count that stands for "the rest of the
// segment".
const rosCode = 5

// unmap turns the first n samples of buf from what the preprocessor made
// of them back into samples: the first is the reference, each next the
// previous plus the difference its mapped value stands for.
func (d *decoder) unmap(n int) {
	if d.p.Flags&Preprocess == 0 || n == 0 {
		return
	}
	bps := d.p.BitsPerSample
	var xmin, xmax int64 = 0, 1<<bps - 1
	x := int64(d.buf[0])
	if d.p.Flags&Signed != 0 {
		xmax = 1<<(bps-1) - 1
		xmin = -xmax - 1
		x = signExtend(d.buf[0], bps)
	}
	for i := 1; i < n; i++ {
		delta := int64(d.buf[i])
		theta := min(x-xmin, xmax-x)
		switch {
		case delta <= 2*theta: // even: +delta/2; odd: -(delta+1)/2
			x += delta>>1 ^ -(delta & 1)
		case theta == x-xmin:
			x = min(xmin+delta, xmax) // a damaged difference stays a sample
		default:
			x = max(xmax-delta, xmin)
		}
		d.buf[i] = uint32(x)
	}
	if d.p.Flags&Signed != 0 {
		d.buf[0] = uint32(signExtend(d.buf[0], bps))
	}
}

// signExtend reads the low bps bits of s as two's complement.
func signExtend(s uint32, bps int) int64 {
	shift := 64 - bps
	return int64(uint64(s)<<shift) >> shift
}

// bitReader reads a stream most significant bit first.
type bitReader struct {
	src  []byte
	pos  int    // the next byte of src to load
	acc  uint64 // loaded bits, the next in its low nbit bits
	nbit int
}

var errShort = errors.New("the stream ends early")

// refill loads whole bytes while they fit: eight at a time where the
// stream has them.
func (r *bitReader) refill() {
	if n := (64 - r.nbit) / 8; r.pos+8 <= len(r.src) {
		v := binary.BigEndian.Uint64(r.src[r.pos:])
		r.acc = r.acc<<(8*n) | v>>(64-8*n) // n = 8: the shift of acc by 64 is 0
		r.pos += n
		r.nbit += 8 * n
		return
	}
	for r.nbit <= 56 && r.pos < len(r.src) {
		r.acc = r.acc<<8 | uint64(r.src[r.pos])
		r.pos++
		r.nbit += 8
	}
}

// bits reads n bits (n at most 32).
func (r *bitReader) bits(n int) (uint32, error) {
	if r.nbit < n {
		if r.refill(); r.nbit < n {
			return 0, errShort
		}
	}
	r.nbit -= n
	return uint32(r.acc>>r.nbit) & (1<<n - 1), nil
}

// fs reads a fundamental sequence: the number of zeros before a one.
func (r *bitReader) fs() (uint32, error) {
	var n uint32
	for {
		if v := r.acc & (1<<r.nbit - 1); v != 0 {
			top := bits.Len64(v) // the one is bit top-1
			n += uint32(r.nbit - top)
			r.nbit = top - 1
			return n, nil
		}
		n += uint32(r.nbit)
		r.nbit = 0
		if r.refill(); r.nbit == 0 {
			return 0, errShort
		}
	}
}

// align drops the bits left of the current byte.
func (r *bitReader) align() { r.nbit -= r.nbit % 8 }
