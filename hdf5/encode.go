package hdf5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"

	"github.com/klauspost/compress/zstd"

	"github.com/zarrforge/zarrforge/internal/checksum"
	"github.com/zarrforge/zarrforge/internal/nd"
)

// EncodeChunk runs raw, one chunk's values as stored (in the dataset's
// byte order), through a filter pipeline (from Dataset.Filters) as HDF5
// does when it writes a chunk: each filter in order. itemSize is the size
// of one element (shuffle's default). It is what a chunk the dataset
// never wrote would hold had it been written, for references that must
// point at every chunk.
func EncodeChunk(pipeline []Filter, raw []byte, itemSize int) ([]byte, error) {
	data := raw
	for _, f := range pipeline {
		level := 0
		if len(f.Values) > 0 {
			level = int(f.Values[0])
		}
		switch f.Name {
		case "shuffle":
			size := itemSize
			if level > 0 {
				size = level
			}
			out := make([]byte, len(data))
			nd.Shuffle(out, data, size)
			data = out
		case "deflate":
			var b bytes.Buffer
			w, err := zlib.NewWriterLevel(&b, min(max(level, zlib.BestSpeed), zlib.BestCompression))
			if err != nil {
				return nil, err
			}
			_, _ = w.Write(data)
			if err := w.Close(); err != nil {
				return nil, err
			}
			data = b.Bytes()
		case "zstd":
			e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(max(level, 1))), zstd.WithEncoderConcurrency(1))
			if err != nil {
				return nil, err
			}
			data = e.EncodeAll(data, nil)
			_ = e.Close()
		case "fletcher32":
			data = binary.LittleEndian.AppendUint32(bytes.Clone(data), checksum.Fletcher32(data))
		default:
			return nil, fmt.Errorf("hdf5: filter %s cannot be encoded: %w", f.Name, ErrUnsupported)
		}
	}
	return data, nil
}
