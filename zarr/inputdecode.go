package zarr

import (
	"encoding/binary"
	"fmt"

	"github.com/zarrforge/zarrforge/internal/checksum"
	"github.com/zarrforge/zarrforge/internal/nd"
)

// inputFilters are the v2 filters an input's chunks may have been through:
// what kerchunk references to netCDF-4 (HDF5) chunks name.
var inputFilters = map[string]bool{"zlib": true, "zstd": true, "shuffle": true, "fletcher32": true}

// inputCodable reports why an input array's chunks cannot be decoded
// here: an unknown filter, or filters on a sharded or string array.
func (m ArrayMeta) inputCodable() error {
	for _, f := range m.Filters {
		if !inputFilters[f.ID] {
			return fmt.Errorf("zarr: filter %q is not decoded here", f.ID)
		}
		if f.ID == "shuffle" && f.ElementSize < 1 {
			return fmt.Errorf("zarr: shuffle filter with element size %d", f.ElementSize)
		}
	}
	if len(m.Filters) > 0 && (m.Inner != nil || m.DType == Strings) {
		return fmt.Errorf("zarr: filters on a sharded array or one of strings are not decoded here")
	}
	return nil
}

// bigEndian reports whether m's values are stored big-endian.
func (m ArrayMeta) bigEndian() bool {
	return m.DType[0] == '>' && m.DType.ItemSize() > 1 && m.DType.kind() != 'S'
}

// decodeInputChunk decodes one chunk object of an input array into raw
// little-endian values: the compressor, then the filters in reverse (the
// order numcodecs applies them in on the way in), then the byte order.
func decodeInputChunk(meta ArrayMeta, data []byte) ([]byte, error) {
	if len(meta.Filters) == 0 && !meta.bigEndian() {
		return DecodeChunk(meta, data)
	}
	want := meta.ChunkBytes()
	room := -(want + 4*int64(len(meta.Filters))) // a decoded stage is at most the chunk and its checksums
	out, err := data, error(nil)
	if meta.Compressor != nil {
		out, err = decompress(meta.Compressor, data, room)
	}
	for i := len(meta.Filters) - 1; i >= 0 && err == nil; i-- {
		out, err = undoFilter(meta.Filters[i], out, room)
	}
	if err != nil {
		return nil, err
	}
	if int64(len(out)) != want {
		return nil, fmt.Errorf("zarr: decoded chunk has %d bytes, want %d", len(out), want)
	}
	if meta.bigEndian() {
		out = append([]byte(nil), out...) // the filters may have left it in data
		nd.SwapBytes(out, meta.DType.ItemSize())
	}
	return out, nil
}

// undoFilter undoes filter f on data, which decodes to at most -room
// bytes.
func undoFilter(f Filter, data []byte, room int64) ([]byte, error) {
	switch f.ID {
	case "zlib", "zstd":
		return decompress(&Compressor{ID: f.ID}, data, room)
	case "shuffle":
		out := make([]byte, len(data))
		nd.Unshuffle(out, data, f.ElementSize)
		return out, nil
	case "fletcher32":
		n := len(data) - 4
		if n < 0 {
			return nil, fmt.Errorf("zarr: fletcher32: a chunk of %d bytes has no checksum", len(data))
		}
		if got, want := checksum.Fletcher32(data[:n]), binary.LittleEndian.Uint32(data[n:]); got != want {
			return nil, fmt.Errorf("zarr: fletcher32: the chunk's checksum is %08x, its data's %08x", want, got)
		}
		return data[:n], nil
	}
	return nil, fmt.Errorf("zarr: filter %q is not decoded here", f.ID)
}
