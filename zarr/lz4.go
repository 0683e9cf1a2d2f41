package zarr

import (
	"encoding/binary"
	"fmt"

	"github.com/pierrec/lz4/v4"
)

// numcodecs' LZ4 codec: the decoded size as a little-endian int32, then
// one LZ4 block.

// lz4Encode appends raw, as numcodecs' LZ4 encodes it, to dst.
func lz4Encode(dst, raw []byte) ([]byte, error) {
	if len(raw) > 1<<31-1 {
		return nil, fmt.Errorf("zarr: lz4: %d bytes are more than a frame holds", len(raw))
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(raw)))
	start := len(dst)
	dst = append(dst, make([]byte, lz4.CompressBlockBound(len(raw)))...)
	var c lz4.Compressor
	n, err := c.CompressBlock(raw, dst[start:])
	if err != nil {
		return nil, fmt.Errorf("zarr: lz4: %w", err)
	}
	if n == 0 { // incompressible: a block of literals, as LZ4 itself writes one
		return lz4Literals(dst[:start], raw), nil
	}
	return dst[:start+n], nil
}

// lz4Literals appends to dst an LZ4 block holding raw as one run of
// literals.
func lz4Literals(dst, raw []byte) []byte {
	n := len(raw)
	if n < 15 {
		return append(append(dst, byte(n<<4)), raw...)
	}
	dst = append(dst, 15<<4)
	for n -= 15; n >= 255; n -= 255 {
		dst = append(dst, 255)
	}
	return append(append(dst, byte(n)), raw...)
}

// lz4Decode decodes a numcodecs LZ4 frame of at most limit bytes.
func lz4Decode(data []byte, limit int64) ([]byte, error) {
	if len(data) < 4 {
		return nil, fmt.Errorf("lz4: frame of %d bytes, shorter than its header", len(data))
	}
	size := int64(int32(binary.LittleEndian.Uint32(data)))
	if size < 0 || size > limit {
		return nil, fmt.Errorf("lz4: frame decodes to %d bytes, more than %d", size, limit)
	}
	out := make([]byte, size)
	n, err := lz4.UncompressBlock(data[4:], out)
	if err != nil {
		return nil, fmt.Errorf("lz4: %w", err)
	}
	if int64(n) != size {
		return nil, fmt.Errorf("lz4: block decodes to %d bytes, its header says %d", n, size)
	}
	return out, nil
}
