package zarr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"

	"github.com/zarrforge/zarrforge/internal/nd"
)

// Blosc frames (the format of c-blosc 1.x, numcodecs' "blosc" codec and
// zarr-python's and xarray's default compressor): a 16-byte header
// (version, codec version, flags, type size, then as little-endian int32s
// the decoded size, the block size and the frame size), the offsets of the
// blocks, and the blocks. A block is compressed whole or, unless the
// dont-split flag is set, as one stream per byte of the type; each stream
// is its compressed size then its bytes, stored as they are when the size
// equals the stream's decoded size. Shuffling reorders a block's bytes by
// their position within each value before compression.

// Blosc shuffle modes, as numcodecs numbers them.
const (
	BloscNoShuffle  = 0
	BloscShuffle    = 1 // byte shuffle
	BloscBitShuffle = 2
)

const (
	bloscHeader       = 16
	bloscFlagShuffle  = 0x01
	bloscFlagMemcpy   = 0x02
	bloscFlagBitShuf  = 0x04
	bloscFlagDontSplt = 0x10
	bloscMaxSplits    = 16
	bloscMinSplit     = 128 // a block splits only if each stream gets this many bytes
	bloscBlockSize    = 256 << 10
)

// bloscFormats are the inner codecs' numbers in the flags (bits 5-7).
var bloscFormats = map[string]byte{"blosclz": 0, "lz4": 1, "lz4hc": 1, "snappy": 2, "zlib": 3, "zstd": 4}

// ErrBloscUnsupported is wrapped by errors for Blosc frames that use an
// inner codec or filter this package does not implement.
var ErrBloscUnsupported = errors.New("unsupported Blosc feature")

// bloscDecode decodes a Blosc frame to at most limit bytes.
func bloscDecode(src []byte, limit int64) ([]byte, error) {
	if len(src) < bloscHeader {
		return nil, fmt.Errorf("blosc: frame of %d bytes, shorter than its header", len(src))
	}
	flags, typesize := src[2], int64(max(src[3], 1))
	nbytes := int64(binary.LittleEndian.Uint32(src[4:]))
	blocksize := int64(binary.LittleEndian.Uint32(src[8:]))
	cbytes := int64(binary.LittleEndian.Uint32(src[12:]))
	switch {
	case src[0] == 0 || src[0] > 2:
		return nil, fmt.Errorf("blosc: format version %d: %w", src[0], ErrBloscUnsupported)
	case nbytes > limit:
		return nil, fmt.Errorf("blosc: frame decodes to %d bytes, more than %d", nbytes, limit)
	case cbytes > int64(len(src)) || cbytes < bloscHeader:
		return nil, fmt.Errorf("blosc: frame of %d bytes says it has %d", len(src), cbytes)
	}
	src = src[:cbytes]
	out := make([]byte, nbytes)
	if flags&bloscFlagMemcpy != 0 {
		if int64(len(src)) < bloscHeader+nbytes {
			return nil, fmt.Errorf("blosc: stored frame of %d bytes for %d", len(src), nbytes)
		}
		copy(out, src[bloscHeader:])
		return out, nil
	}
	if nbytes == 0 {
		return out, nil
	}
	if blocksize <= 0 {
		return nil, fmt.Errorf("blosc: block size %d for %d bytes", blocksize, nbytes)
	}
	format := flags >> 5
	nblocks := (nbytes + blocksize - 1) / blocksize
	if bloscHeader+4*nblocks > int64(len(src)) {
		return nil, fmt.Errorf("blosc: %d blocks do not fit a frame of %d bytes", nblocks, len(src))
	}
	tmp := make([]byte, min(blocksize, nbytes))
	for b := range nblocks {
		start := int64(binary.LittleEndian.Uint32(src[bloscHeader+4*b:]))
		if start < bloscHeader || start > int64(len(src)) {
			return nil, fmt.Errorf("blosc: block %d starts at %d, outside the frame", b, start)
		}
		lo := b * blocksize
		bsize := min(blocksize, nbytes-lo)
		leftover := bsize < blocksize
		nsplits := int64(1)
		if flags&bloscFlagDontSplt == 0 && typesize <= bloscMaxSplits && blocksize/typesize >= bloscMinSplit && !leftover {
			nsplits = typesize
		}
		shuffled := flags&bloscFlagShuffle != 0 && typesize > 1
		bitShuffled := !shuffled && flags&bloscFlagBitShuf != 0
		dst := out[lo : lo+bsize]
		if shuffled || bitShuffled {
			dst = tmp[:bsize]
		}
		neblock := bsize / nsplits
		p := src[start:]
		for s := range nsplits {
			if len(p) < 4 {
				return nil, fmt.Errorf("blosc: block %d is cut short", b)
			}
			csize := int64(binary.LittleEndian.Uint32(p))
			p = p[4:]
			if csize > int64(len(p)) {
				return nil, fmt.Errorf("blosc: block %d: stream of %d bytes in %d left", b, csize, len(p))
			}
			part := dst[s*neblock : (s+1)*neblock]
			if csize == neblock {
				copy(part, p[:csize])
			} else if err := bloscInflate(format, p[:csize], part); err != nil {
				return nil, fmt.Errorf("blosc: block %d: %w", b, err)
			}
			p = p[csize:]
		}
		switch {
		case shuffled:
			nd.Unshuffle(out[lo:lo+bsize], dst, int(typesize))
		case bitShuffled:
			bitShuffleBlock(out[lo:lo+bsize], dst, int(typesize), nd.BitUnshuffle)
		}
	}
	return out, nil
}

// bitShuffleBlock bit-shuffles a Blosc block as c-blosc does, with
// transpose (nd.BitShuffle, or nd.BitUnshuffle to undo it): the whole
// elements, when their number is a multiple of 8, the bytes after them (and
// any other block) as they are.
func bitShuffleBlock(dst, src []byte, typesize int, transpose func(dst, src []byte, size int)) {
	whole := len(src) / typesize * typesize
	if whole/typesize%8 != 0 {
		whole = 0
	}
	transpose(dst[:whole], src[:whole], typesize)
	copy(dst[whole:len(src)], src[whole:])
}

// bloscInflate decodes one stream of inner codec format into dst, which it
// must fill exactly.
func bloscInflate(format byte, src, dst []byte) error {
	var n int
	var err error
	switch format {
	case 1: // lz4, lz4hc
		n, err = lz4.UncompressBlock(src, dst)
	case 3: // zlib
		var r io.ReadCloser
		if r, err = zlib.NewReader(bytes.NewReader(src)); err == nil {
			n, err = io.ReadFull(r, dst)
			if err == nil {
				if m, _ := r.Read(make([]byte, 1)); m > 0 {
					err = errors.New("zlib stream longer than its block")
				}
			}
		}
	case 4: // zstd
		var d *zstd.Decoder
		if d, err = getZstdDecoder(); err == nil {
			var out []byte
			out, err = d.DecodeAll(src, dst[:0:len(dst)])
			if err == nil && (len(out) != len(dst) || &out[0] != &dst[0]) {
				err = fmt.Errorf("zstd stream of %d bytes for a block of %d", len(out), len(dst))
			}
			n = len(out)
		}
	default:
		return fmt.Errorf("inner codec %d (blosclz or snappy): %w", format, ErrBloscUnsupported)
	}
	if err == nil && n != len(dst) {
		err = fmt.Errorf("stream decodes to %d bytes, want %d", n, len(dst))
	}
	return err
}

// bloscEncode appends to dst raw, of values of typesize bytes, as a Blosc
// frame: inner codec cname at level, byte- or bit-shuffled as shuffle
// says. Blocks are not split (the dont-split flag), and a frame that would
// not be smaller than raw stores it as it is. Frames say how they were
// made, so where this package cannot do what a store's metadata names —
// the blosclz, lz4hc or snappy codecs — it writes lz4, which every Blosc
// reader decodes the same.
func bloscEncode(dst, raw []byte, typesize int, cname string, level, shuffle int) ([]byte, error) {
	format, ok := bloscFormats[cname]
	if !ok || (format != 3 && format != 4) {
		format = bloscFormats["lz4"]
	}
	typesize = min(max(typesize, 1), 255)
	flags := format<<5 | bloscFlagDontSplt
	switch {
	case shuffle == BloscBitShuffle:
		flags |= bloscFlagBitShuf
	case shuffle != BloscNoShuffle && typesize > 1:
		flags |= bloscFlagShuffle
	}
	n := len(raw)
	blocksize := min(n, bloscBlockSize/typesize*typesize)
	header := func(flags byte, blocksize, cbytes int) []byte {
		h := []byte{2, 1, flags, byte(typesize)}
		h = binary.LittleEndian.AppendUint32(h, uint32(n))
		h = binary.LittleEndian.AppendUint32(h, uint32(blocksize))
		return binary.LittleEndian.AppendUint32(h, uint32(cbytes))
	}
	stored := func() []byte {
		out := append(dst, header(flags|bloscFlagMemcpy, max(blocksize, 1), bloscHeader+n)...)
		return append(out, raw...)
	}
	if n < bloscMinSplit || blocksize == 0 {
		return stored(), nil
	}
	nblocks := (n + blocksize - 1) / blocksize
	base := len(dst)
	out := append(dst, header(flags, blocksize, 0)...)
	out = append(out, make([]byte, 4*nblocks)...)
	buf := make([]byte, blocksize)
	comp := make([]byte, lz4.CompressBlockBound(blocksize)+64)
	var lzc lz4.Compressor
	for b := range nblocks {
		block := raw[b*blocksize : min((b+1)*blocksize, n)]
		switch {
		case flags&bloscFlagShuffle != 0:
			nd.Shuffle(buf[:len(block)], block, typesize)
			block = buf[:len(block)]
		case flags&bloscFlagBitShuf != 0:
			bitShuffleBlock(buf[:len(block)], block, typesize, nd.BitShuffle)
			block = buf[:len(block)]
		}
		binary.LittleEndian.PutUint32(out[base+bloscHeader+4*b:], uint32(len(out)-base))
		var c []byte
		switch format {
		case 1:
			k, err := lzc.CompressBlock(block, comp)
			if err != nil {
				return nil, fmt.Errorf("blosc: lz4: %w", err)
			}
			c = comp[:k]
		case 3:
			var zb bytes.Buffer
			w, err := zlib.NewWriterLevel(&zb, min(max(level, 1), 9))
			if err != nil {
				return nil, fmt.Errorf("blosc: zlib: %w", err)
			}
			if _, err := w.Write(block); err != nil {
				return nil, fmt.Errorf("blosc: zlib: %w", err)
			}
			if err := w.Close(); err != nil {
				return nil, fmt.Errorf("blosc: zlib: %w", err)
			}
			c = zb.Bytes()
		case 4:
			z, err := zstdEncoder(min(max(level, 1), 22))
			if err != nil {
				return nil, fmt.Errorf("blosc: zstd: %w", err)
			}
			c = z.EncodeAll(block, comp[:0])
		}
		if len(c) == 0 || len(c) >= len(block) {
			c = block // incompressible: stored, its size equal to the block's
		}
		out = binary.LittleEndian.AppendUint32(out, uint32(len(c)))
		out = append(out, c...)
		if len(out)-base >= bloscHeader+n {
			return stored(), nil
		}
	}
	binary.LittleEndian.PutUint32(out[base+12:], uint32(len(out)-base))
	return out, nil
}
