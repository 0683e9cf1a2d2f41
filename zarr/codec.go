package zarr

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// Compressor is a numcodecs compressor: ID "zstd", "zlib", "gzip", "blosc"
// or "lz4", and a level (zstd 1..22, zlib and gzip 1..9, blosc 0..9; lz4's
// acceleration, >= 1). Blosc
// also has an inner codec (CName: lz4, zstd or zlib to write; blosclz and
// snappy are refused) and a shuffle (BloscNoShuffle or BloscShuffle).
type Compressor struct {
	ID      string
	Level   int
	CName   string
	Shuffle int
}

// Default levels, as numcodecs has them.
const (
	DefaultZstdLevel = 3
	DefaultZlibLevel = 1
	DefaultGzipLevel = 1
	// Blosc as numcodecs (and so zarr-python and xarray) default it:
	// lz4 at level 5 with byte shuffle.
	DefaultBloscLevel = 5
	DefaultBloscCName = "lz4"
)

// Spec names c whole, as two arrays with the same compressor name it:
// "none", "zstd:3", "blosc:lz4:5:1" (cname, level, shuffle). Chunks one
// array holds can be held by another of the same dtype, chunk shape and
// Spec as they are.
func (c *Compressor) Spec() string {
	switch {
	case c == nil:
		return "none"
	case c.ID == "blosc":
		return fmt.Sprintf("blosc:%s:%d:%d", c.CName, c.Level, c.Shuffle)
	}
	return fmt.Sprintf("%s:%d", c.ID, c.Level)
}

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
	case "blosc":
		if level == 0 {
			level = DefaultBloscLevel
		}
		return NewBlosc(DefaultBloscCName, level, BloscShuffle)
	case "lz4": // the level is numcodecs' acceleration
		if level == 0 {
			level = 1
		}
		if level < 1 {
			return nil, fmt.Errorf("zarr: lz4 acceleration %d is not >= 1", level)
		}
	default:
		return nil, fmt.Errorf("zarr: unknown compressor %q (want zstd, zlib, gzip, blosc, lz4 or none)", id)
	}
	return &Compressor{ID: id, Level: level}, nil
}

// NewBlosc returns the Blosc compressor with inner codec cname (lz4, zstd
// or zlib), level 0..9 and shuffle (BloscNoShuffle or BloscShuffle).
func NewBlosc(cname string, level, shuffle int) (*Compressor, error) {
	if _, ok := bloscFormats[cname]; !ok || level < 0 || level > 9 || shuffle < BloscNoShuffle || shuffle > BloscBitShuffle {
		return nil, fmt.Errorf("zarr: blosc with %q at level %d, shuffle %d: want lz4, zstd or zlib, a level in 0..9 and a shuffle of 0, 1 or 2", cname, level, shuffle)
	}
	return &Compressor{ID: "blosc", Level: level, CName: cname, Shuffle: shuffle}, nil
}

func (c *Compressor) json() string {
	if c.ID == "lz4" {
		return fmt.Sprintf(`{"acceleration":%d,"id":"lz4"}`, c.Level)
	}
	if c.ID == "blosc" {
		return fmt.Sprintf(`{"blocksize":0,"clevel":%d,"cname":%q,"id":"blosc","shuffle":%d}`, c.Level, c.CName, c.Shuffle)
	}
	return fmt.Sprintf(`{"id":%q,"level":%d}`, c.ID, c.Level)
}

func parseCompressor(raw json.RawMessage) (*Compressor, error) {
	if string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var c struct {
		ID      string `json:"id"`
		Level   int    `json:"level"`
		CLevel  int    `json:"clevel"`
		CName   string `json:"cname"`
		Shuffle int    `json:"shuffle"`
		Accel   int    `json:"acceleration"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("zarr: compressor %s: %w", raw, err)
	}
	if c.ID == "lz4" {
		c.Level = c.Accel
	}
	if c.ID == "blosc" {
		if c.Shuffle < 0 { // AUTOSHUFFLE: each frame says what it did
			c.Shuffle = BloscShuffle
		}
		return NewBlosc(c.CName, c.CLevel, c.Shuffle)
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
	// EncodeAll calls share it: as many run at once as there are cores
	// (a shard's inner chunks are compressed on every core).
	e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)),
		zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithSingleSegment(true))
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
		// DecodeAll decodes at most the capacity it is given, across all
		// frames: a chunk never decodes past its size (a zstd bomb).
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecodeAllCapLimit(true))
		if err != nil {
			return nil, err
		}
		zstdDecoder = d
	}
	return zstdDecoder, nil
}

// EncodeChunk compresses one chunk. raw holds the whole chunk — every
// element of the chunk shape, little-endian, C order — also at the array's
// far edges, where the caller pads with the fill value. To encode many
// chunks, a ChunkEncoder reuses its buffers and is faster on large chunks.
func EncodeChunk(meta ArrayMeta, raw []byte) ([]byte, error) {
	var e ChunkEncoder
	return e.encode(meta, raw, nil)
}

// A ChunkEncoder compresses chunks like EncodeChunk, reusing its buffers
// and codec state from one chunk to the next. A chunk is given in order,
// piece by piece, as it is assembled (Begin, Write, Finish), and its
// encoding goes to a writer as it is produced, so compression overlaps the
// work that produces the chunk and the write that stores it, and no
// encoded copy is held. Large zstd chunks are compressed by two goroutines
// (match finding and entropy coding run as a pipeline). A ChunkEncoder is
// not safe for concurrent use; its zero value is ready to use.
type ChunkEncoder struct {
	buf   []byte // small chunks' encoding, reused
	raw   []byte // small chunks, gathered for one-shot compression
	zstd  map[int]*zstd.Encoder
	shard ShardEncoder

	meta    ArrayMeta
	want, n int64
	dst     *countingWriter
	w       io.WriteCloser // the streaming compressor; nil: gather into raw
	err     error
}

// streamMin is the chunk size from which chunks are compressed as a stream
// while they are written; smaller ones are gathered and compressed in one
// call.
const streamMin = 1 << 20

// Begin starts a chunk of meta, whose bytes (meta.ChunkBytes of them, as
// EncodeChunk takes them) follow in order through Write; the encoded chunk
// goes to dst.
func (e *ChunkEncoder) Begin(meta ArrayMeta, dst io.Writer) error {
	if err := meta.codable(); err != nil {
		return err
	}
	e.meta, e.want, e.n, e.err, e.w = meta, meta.ChunkBytes(), 0, nil, nil
	e.dst = &countingWriter{w: dst}
	c := meta.Compressor
	switch {
	case c == nil && meta.Inner == nil:
		e.w = nopCloser{e.dst}
		return nil
	case e.want < streamMin, c.ID == "blosc", c.ID == "lz4", meta.Inner != nil: // Blosc and LZ4 frames and shards are made whole
		e.raw = e.raw[:0]
		return nil
	}
	var err error
	switch c.ID {
	case "zstd":
		var z *zstd.Encoder
		if z, err = e.stream(c.Level); err == nil {
			// The frame must carry its content size: numcodecs sizes its
			// output buffer from it.
			z.ResetContentSize(e.dst, e.want)
			e.w = z
		}
	case "zlib":
		e.w, err = zlib.NewWriterLevel(e.dst, c.Level)
	case "gzip":
		e.w, err = kgzip.NewWriterLevel(e.dst, c.Level)
	default:
		err = fmt.Errorf("unknown compressor %q", c.ID)
	}
	if err != nil {
		return fmt.Errorf("zarr: %s: %w", c.ID, err)
	}
	return nil
}

// Write adds the next bytes of the chunk begun with Begin. Errors are
// reported by Finish.
func (e *ChunkEncoder) Write(p []byte) (int, error) {
	e.n += int64(len(p))
	if e.err != nil || e.n > e.want {
		return len(p), nil
	}
	if e.w == nil {
		e.raw = append(e.raw, p...)
		return len(p), nil
	}
	if _, err := e.w.Write(p); err != nil {
		e.err = fmt.Errorf("zarr: encoding chunk: %w", err)
	}
	return len(p), nil
}

// Abort abandons the chunk begun with Begin. The compressor may still be
// writing to dst from its own goroutines; when Abort returns it has
// stopped, so dst may be discarded. The ChunkEncoder is ready for the next
// Begin.
func (e *ChunkEncoder) Abort() {
	if z, ok := e.w.(*zstd.Encoder); ok {
		z.Reset(io.Discard) // waits for the encoder's goroutines
	}
	e.w, e.err = nil, nil
}

// Finish completes the chunk and returns the size of its encoding.
func (e *ChunkEncoder) Finish() (int64, error) {
	if e.n != e.want {
		if e.w != nil {
			e.w.Close()
		}
		return 0, fmt.Errorf("zarr: chunk has %d bytes, want %d for chunks %v of %s", e.n, e.want, e.meta.Chunks, e.meta.DType)
	}
	if e.w == nil {
		out, err := e.encode(e.meta, e.raw, e.buf[:0])
		if err != nil {
			return 0, err
		}
		e.buf = out
		if _, err := e.dst.Write(out); err != nil {
			return 0, fmt.Errorf("zarr: writing chunk: %w", err)
		}
		return e.dst.n, nil
	}
	if err := e.w.Close(); err != nil && e.err == nil {
		e.err = fmt.Errorf("zarr: encoding chunk: %w", err)
	}
	if e.err != nil {
		return 0, e.err
	}
	return e.dst.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// encode appends raw, compressed in one call, to dst.
func (e *ChunkEncoder) encode(meta ArrayMeta, raw, dst []byte) ([]byte, error) {
	if want := meta.ChunkBytes(); int64(len(raw)) != want {
		return nil, fmt.Errorf("zarr: chunk has %d bytes, want %d for chunks %v of %s", len(raw), want, meta.Chunks, meta.DType)
	}
	if err := meta.codable(); err != nil {
		return nil, err
	}
	if meta.Inner != nil {
		return e.shard.encodeRaw(meta, raw, dst)
	}
	return compress(meta.Compressor, raw, dst, meta.DType.ItemSize())
}

// compress appends raw, values of itemSize bytes, compressed by c in one
// call, to dst.
func compress(c *Compressor, raw, dst []byte, itemSize int) ([]byte, error) {
	if c == nil {
		return raw, nil
	}
	switch c.ID {
	case "blosc":
		return bloscEncode(dst, raw, itemSize, c.CName, c.Level, c.Shuffle)
	case "lz4":
		return lz4Encode(dst, raw)
	case "zstd":
		z, err := zstdEncoder(c.Level)
		if err != nil {
			return nil, fmt.Errorf("zarr: zstd: %w", err)
		}
		return z.EncodeAll(raw, dst), nil
	case "zlib":
		out := bytes.NewBuffer(dst)
		w, err := zlib.NewWriterLevel(out, c.Level)
		if err != nil {
			return nil, fmt.Errorf("zarr: zlib: %w", err)
		}
		return finish(out, w, raw)
	case "gzip":
		out := bytes.NewBuffer(dst)
		w, err := kgzip.NewWriterLevel(out, c.Level)
		if err != nil {
			return nil, fmt.Errorf("zarr: gzip: %w", err)
		}
		return finish(out, w, raw)
	}
	return nil, fmt.Errorf("zarr: unknown compressor %q", c.ID)
}

func (e *ChunkEncoder) stream(level int) (*zstd.Encoder, error) {
	if z, ok := e.zstd[level]; ok {
		return z, nil
	}
	z, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)), zstd.WithEncoderConcurrency(2))
	if err != nil {
		return nil, err
	}
	if e.zstd == nil {
		e.zstd = map[int]*zstd.Encoder{}
	}
	e.zstd[level] = z
	return z, nil
}

func finish(out *bytes.Buffer, w io.WriteCloser, raw []byte) ([]byte, error) {
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// DecodeChunk decompresses one chunk object into its raw bytes.
func DecodeChunk(meta ArrayMeta, data []byte) ([]byte, error) {
	if err := meta.codable(); err != nil {
		return nil, err
	}
	if meta.Inner != nil {
		return decodeShard(meta, data)
	}
	want := meta.ChunkBytes()
	out, err := decompress(meta.Compressor, data, want)
	if err != nil {
		return nil, err
	}
	if int64(len(out)) != want {
		return nil, fmt.Errorf("zarr: decoded chunk has %d bytes, want %d", len(out), want)
	}
	return out, nil
}

// zstdCap is the room a zstd chunk decodes into, which its decoding may
// not exceed: want bytes; or, for at most -want, its first frame's content
// size where it says one (checked against -want), else 64 MiB at most.
func zstdCap(want int64, h zstd.Header) int64 {
	switch {
	case want >= 0:
		return want
	case h.HasFCS:
		return int64(h.FrameContentSize)
	}
	return min(-want, 64<<20)
}

// decompress undoes compressor c on data, which decodes to want bytes, or
// (want < 0) to at most -want.
func decompress(c *Compressor, data []byte, want int64) ([]byte, error) {
	limit := max(want, -want)
	var out []byte
	var err error
	switch {
	case c == nil:
		out = data
	case c.ID == "zstd":
		var h zstd.Header
		if err = h.Decode(data); err == nil && h.HasFCS && h.FrameContentSize > uint64(limit) {
			err = fmt.Errorf("frame of %d bytes, more than %d", h.FrameContentSize, limit)
		}
		var d *zstd.Decoder
		if err == nil {
			d, err = getZstdDecoder()
		}
		if err == nil {
			out, err = d.DecodeAll(data, make([]byte, 0, zstdCap(want, h)))
		}
	case c.ID == "zlib":
		var r io.ReadCloser
		if r, err = zlib.NewReader(bytes.NewReader(data)); err == nil {
			out, err = io.ReadAll(io.LimitReader(r, limit+1))
		}
	case c.ID == "blosc":
		out, err = bloscDecode(data, limit)
	case c.ID == "lz4":
		out, err = lz4Decode(data, limit)
	case c.ID == "gzip":
		var r *gzip.Reader
		if r, err = gzip.NewReader(bytes.NewReader(data)); err == nil {
			out, err = io.ReadAll(io.LimitReader(r, limit+1))
		}
	default:
		err = fmt.Errorf("unknown compressor %q", c.ID)
	}
	if err == nil && int64(len(out)) > limit {
		err = fmt.Errorf("more than %d bytes", limit)
	}
	if err != nil {
		return nil, fmt.Errorf("zarr: decoding chunk: %w", err)
	}
	return out, nil
}
