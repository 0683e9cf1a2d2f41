package zarr

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Strings is the dtype of arrays of variable-length UTF-8 strings: numpy
// object arrays whose chunks pass through numcodecs' vlen-utf8 filter before
// the compressor, as xarray writes str variables to Zarr v2. Their chunks
// are encoded with EncodeStrings and decoded with DecodeStrings; their
// fill_value is null.
const Strings DType = "|O"

// vlenUTF8 is the filter of Strings arrays.
const vlenUTF8 = `[{"id":"vlen-utf8"}]`

// maxStringChunk bounds the decoded size of one chunk of strings.
const maxStringChunk = 1 << 30

// EncodeStrings encodes one chunk of a Strings array: every element of the
// chunk shape, in C order ("" at the array's far edges). Text that is not
// UTF-8 has its bad bytes replaced by U+FFFD.
func EncodeStrings(meta ArrayMeta, strs []string) ([]byte, error) {
	if meta.DType != Strings {
		return nil, fmt.Errorf("zarr: strings for an array of dtype %s", meta.DType)
	}
	if n := elements(meta.Chunks); int64(len(strs)) != n {
		return nil, fmt.Errorf("zarr: chunk has %d strings, want %d for chunks %v", len(strs), n, meta.Chunks)
	}
	size := 4
	for _, s := range strs {
		size += 4 + len(s)
	}
	raw := make([]byte, 4, size)
	binary.LittleEndian.PutUint32(raw, uint32(len(strs)))
	for _, s := range strs {
		s = strings.ToValidUTF8(s, "\uFFFD")
		raw = binary.LittleEndian.AppendUint32(raw, uint32(len(s)))
		raw = append(raw, s...)
	}
	return compress(meta.Compressor, raw, nil, 1)
}

// DecodeStrings decodes one chunk object of a Strings array.
func DecodeStrings(meta ArrayMeta, data []byte) ([]string, error) {
	raw, err := decompress(meta.Compressor, data, -maxStringChunk)
	if err != nil {
		return nil, err
	}
	n := elements(meta.Chunks)
	if len(raw) < 4 || int64(binary.LittleEndian.Uint32(raw)) != n {
		return nil, fmt.Errorf("zarr: vlen-utf8 chunk does not hold the %d strings of chunks %v", n, meta.Chunks)
	}
	out := make([]string, n)
	raw = raw[4:]
	for i := range out {
		if len(raw) < 4 || uint64(binary.LittleEndian.Uint32(raw)) > uint64(len(raw)-4) {
			return nil, fmt.Errorf("zarr: vlen-utf8 chunk ends within string %d", i)
		}
		m := binary.LittleEndian.Uint32(raw)
		out[i], raw = string(raw[4:4+m]), raw[4+m:]
	}
	return out, nil
}

// elements returns the number of elements of a chunk shape.
func elements(chunks []int64) int64 {
	n := int64(1)
	for _, c := range chunks {
		n *= c
	}
	return n
}
