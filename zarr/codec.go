package zarr

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// Compressor is a numcodecs compressor: ID "zstd", "zlib" or "gzip", and a
// level (zstd 1..22, zlib and gzip 1..9).
type Compressor struct {
	ID    string
	Level int
}

// Default levels, as numcodecs has them.
const (
	DefaultZstdLevel = 3
	DefaultZlibLevel = 1
	DefaultGzipLevel = 1
)

// NewCompressor returns the compressor id at level (0: the default level).
// An empty id or "none" gives nil, which stores chunks uncompressed.
func NewCompressor(id string, level int) (*Compressor, error) {
	switch id {
	case "", "none":
		return nil, nil
	case "zstd":
		if level == 0 {
			level = DefaultZstdLevel
		}
		if level < 1 || level > 22 {
			return nil, fmt.Errorf("zarr: zstd level %d is not in 1..22", level)
		}
	case "zlib", "gzip":
		if level == 0 {
			level = DefaultZlibLevel
		}
		if level < 1 || level > 9 {
			return nil, fmt.Errorf("zarr: %s level %d is not in 1..9", id, level)
		}
	default:
		return nil, fmt.Errorf("zarr: unknown compressor %q (want zstd, zlib, gzip or none)", id)
	}
	return &Compressor{ID: id, Level: level}, nil
}

func (c *Compressor) json() string {
	return fmt.Sprintf(`{"id":%q,"level":%d}`, c.ID, c.Level)
}

func parseCompressor(raw json.RawMessage) (*Compressor, error) {
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var c struct {
		ID    string `json:"id"`
		Level int    `json:"level"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("zarr: compressor %s: %w", raw, err)
	}
	return NewCompressor(c.ID, c.Level)
}

// zstd encoders are safe for concurrent EncodeAll; one per level is kept.
// Frames are single-segment so that they always carry their content size,
// which numcodecs needs to size its output buffer.
var (
	zstdMu       sync.Mutex
	zstdEncoders = map[int]*zstd.Encoder{}
	zstdDecoder  *zstd.Decoder
)

func zstdEncoder(level int) (*zstd.Encoder, error) {
	zstdMu.Lock()
	defer zstdMu.Unlock()
	if e, ok := zstdEncoders[level]; ok {
		return e, nil
	}
	e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)),
		zstd.WithEncoderConcurrency(1), zstd.WithSingleSegment(true))
	if err != nil {
		return nil, err
	}
	zstdEncoders[level] = e
	return e, nil
}

func getZstdDecoder() (*zstd.Decoder, error) {
	zstdMu.Lock()
	defer zstdMu.Unlock()
	if zstdDecoder == nil {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
		if err != nil {
			return nil, err
		}
		zstdDecoder = d
	}
	return zstdDecoder, nil
}

// EncodeChunk compresses one chunk. raw holds the whole chunk — every
// element of the chunk shape, little-endian, C order — also at the array's
// far edges, where the caller pads with the fill value.
func EncodeChunk(meta ArrayMeta, raw []byte) ([]byte, error) {
	if want := meta.ChunkBytes(); int64(len(raw)) != want {
		return nil, fmt.Errorf("zarr: chunk has %d bytes, want %d for chunks %v of %s", len(raw), want, meta.Chunks, meta.DType)
	}
	c := meta.Compressor
	if c == nil {
		return raw, nil
	}
	switch c.ID {
	case "zstd":
		e, err := zstdEncoder(c.Level)
		if err != nil {
			return nil, fmt.Errorf("zarr: zstd: %w", err)
		}
		return e.EncodeAll(raw, make([]byte, 0, len(raw)/2+64)), nil
	case "zlib":
		var buf bytes.Buffer
		w, err := zlib.NewWriterLevel(&buf, c.Level)
		if err != nil {
			return nil, fmt.Errorf("zarr: zlib: %w", err)
		}
		if _, err := w.Write(raw); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case "gzip":
		var buf bytes.Buffer
		w, err := kgzip.NewWriterLevel(&buf, c.Level)
		if err != nil {
			return nil, fmt.Errorf("zarr: gzip: %w", err)
		}
		if _, err := w.Write(raw); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	return nil, fmt.Errorf("zarr: unknown compressor %q", c.ID)
}

// DecodeChunk decompresses one chunk object into its raw bytes.
func DecodeChunk(meta ArrayMeta, data []byte) ([]byte, error) {
	want := meta.ChunkBytes()
	var out []byte
	var err error
	c := meta.Compressor
	switch {
	case c == nil:
		out = data
	case c.ID == "zstd":
		var d *zstd.Decoder
		if d, err = getZstdDecoder(); err == nil {
			out, err = d.DecodeAll(data, make([]byte, 0, want))
		}
	case c.ID == "zlib":
		var r io.ReadCloser
		if r, err = zlib.NewReader(bytes.NewReader(data)); err == nil {
			out, err = io.ReadAll(io.LimitReader(r, want+1))
		}
	case c.ID == "gzip":
		var r *gzip.Reader
		if r, err = gzip.NewReader(bytes.NewReader(data)); err == nil {
			out, err = io.ReadAll(io.LimitReader(r, want+1))
		}
	default:
		err = fmt.Errorf("unknown compressor %q", c.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("zarr: decoding chunk: %w", err)
	}
	if int64(len(out)) != want {
		return nil, fmt.Errorf("zarr: decoded chunk has %d bytes, want %d", len(out), want)
	}
	return out, nil
}
