package zarr

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/zarrforge/zarrforge/internal/nd"
)

// Shards, the v3 sharding_indexed codec: a shard holds the inner chunks of
// its cell of the chunk grid, each encoded with the array's codecs, one
// after another, followed by the index: an (offset, size) pair of uint64s
// per inner chunk in C order, little-endian, and the CRC-32C of the index.
// An inner chunk that holds only the fill value is left out (offset and size
// 2^64-1), as zarr-python leaves it out.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const emptyEntry = math.MaxUint64

// innerGrid returns how many inner chunks a shard of m holds per dimension.
func (m ArrayMeta) innerGrid() []int64 {
	g := make([]int64, len(m.Inner))
	for i := range g {
		g[i] = m.Chunks[i] / m.Inner[i]
	}
	return g
}

// innerAt returns where inner chunk i (in C order) starts in its shard.
func (m ArrayMeta) innerAt(i int64, grid []int64) []int64 {
	at := make([]int64, len(grid))
	for d := len(grid) - 1; d >= 0; d-- {
		at[d] = i % grid[d] * m.Inner[d]
		i /= grid[d]
	}
	return at
}

// ShardBox is where the values of a shard lie: the box At, Count of the
// C-ordered values Data of shape Shape, the shard's cells past Count (past
// its array's edge) holding Fill (zeros when nil).
type ShardBox struct {
	Data             []byte
	Shape, At, Count []int64
	Fill             []byte
}

// ShardEncoder encodes shards, keeping its buffers for the next one. Its
// zero value is ready to use; it is not safe for concurrent use.
type ShardEncoder struct {
	cutters []*innerCutter // one per goroutine
	spans   []span         // where each inner chunk's encoding lies
}

// span is where an inner chunk's encoding lies in the arena of cutter c;
// c < 0 for one left out.
type span struct{ c, off, n int }

// Encode writes to w the shard of m whose values are src and returns its
// length: each inner chunk is cut from src and compressed, on a goroutine
// per core, with no raw copy of the whole shard and none of the whole
// encoded shard; an inner chunk holding only m's fill is left out.
func (e *ShardEncoder) Encode(m ArrayMeta, src ShardBox, w io.Writer) (int64, error) {
	if err := m.codable(); err != nil {
		return 0, err
	}
	if err := src.check(m); err != nil {
		return 0, err
	}
	grid := m.innerGrid()
	n := elements(grid)
	e.spans = slices.Grow(e.spans[:0], int(n))[:n]
	workers := int(min(int64(runtime.GOMAXPROCS(0)), n))
	for len(e.cutters) < workers {
		e.cutters = append(e.cutters, &innerCutter{})
	}
	var (
		mu   sync.Mutex
		err  error
		next int64
		wg   sync.WaitGroup
	)
	take := func() (int64, bool) {
		mu.Lock()
		defer mu.Unlock()
		i := next
		next++
		return i, i < n && err == nil
	}
	for k, c := range e.cutters[:workers] {
		c.begin(m, src)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, ok := take(); ok; i, ok = take() {
				sp, cerr := c.encode(m.innerAt(i, grid))
				sp.c = k
				if sp.n < 0 {
					sp.c = -1
				}
				e.spans[i] = sp
				if cerr != nil {
					mu.Lock()
					err = cmp.Or(err, fmt.Errorf("zarr: inner chunk %v: %w", m.innerAt(i, grid), cerr))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err != nil {
		return 0, err
	}
	encoded := make([][]byte, n)
	for i, sp := range e.spans {
		if sp.c >= 0 {
			encoded[i] = e.cutters[sp.c].arena[sp.off : sp.off+sp.n]
		}
	}
	return WriteShard(w, encoded)
}

// encodeRaw appends the shard of m whose raw bytes (the whole shard
// shape) are raw to dst.
func (e *ShardEncoder) encodeRaw(m ArrayMeta, raw, dst []byte) ([]byte, error) {
	out := bytes.NewBuffer(dst)
	_, err := e.Encode(m, ShardBox{Data: raw, Shape: m.Chunks, At: make([]int64, len(m.Chunks)), Count: m.Chunks}, out)
	return out.Bytes(), err
}

// check reports a box that does not fit its values or m's shards.
func (b ShardBox) check(m ArrayMeta) error {
	k := len(m.Chunks)
	if m.Inner == nil || len(b.Shape) != k || len(b.At) != k || len(b.Count) != k {
		return fmt.Errorf("zarr: a shard's box has %d, %d and %d dimensions for an array of %d in shards", len(b.Shape), len(b.At), len(b.Count), k)
	}
	for d := range k {
		if b.At[d] < 0 || b.Count[d] < 0 || b.Count[d] > m.Chunks[d] || b.At[d]+b.Count[d] > b.Shape[d] {
			return fmt.Errorf("zarr: a shard's box at %v of %v lies outside its values of shape %v or its shard %v", b.At, b.Count, b.Shape, m.Chunks)
		}
	}
	if want := int64(m.DType.ItemSize()) * elements(b.Shape); int64(len(b.Data)) != want {
		return fmt.Errorf("zarr: a shard's values have %d bytes, want %d for shape %v of %s", len(b.Data), want, b.Shape, m.DType)
	}
	if len(b.Fill) > 0 && len(b.Fill) != m.DType.ItemSize() {
		return fmt.Errorf("zarr: a shard's fill has %d bytes for values of %d", len(b.Fill), m.DType.ItemSize())
	}
	return nil
}

// innerCutter cuts inner chunks of a shard from its box into buf and
// compresses them into its arena, one after another; both are reused.
type innerCutter struct {
	m          ArrayMeta
	src        ShardBox
	buf, arena []byte
}

// begin readies the cutter for a shard of m whose values are src.
func (c *innerCutter) begin(m ArrayMeta, src ShardBox) {
	c.m, c.src, c.arena = m, src, c.arena[:0]
	if size := int64(m.DType.ItemSize()) * elements(m.Inner); int64(cap(c.buf)) < size {
		c.buf = make([]byte, size)
	} else {
		c.buf = c.buf[:size]
	}
}

// encode compresses the inner chunk at o (its origin within the shard)
// into the arena and says where it lies there; n is -1 when it holds only
// the fill.
func (c *innerCutter) encode(o []int64) (span, error) {
	m, src, size := c.m, c.src, c.m.DType.ItemSize()
	at, count := make([]int64, len(o)), make([]int64, len(o))
	whole, outside := true, false
	for d := range o {
		at[d], count[d] = src.At[d]+o[d], min(m.Inner[d], src.Count[d]-o[d])
		whole = whole && count[d] == m.Inner[d]
		outside = outside || count[d] <= 0
	}
	if !whole {
		nd.Fill(c.buf, src.Fill)
	}
	if !outside {
		nd.CopyBox(c.buf, m.Inner, make([]int64, len(o)), src.Data, src.Shape, at, count, size)
	}
	if onlyFill(c.buf, m.EmptyBytes()) {
		return span{n: -1}, nil
	}
	start := len(c.arena)
	out, err := compress(m.Compressor, c.buf, c.arena, size)
	if err != nil {
		return span{}, err
	}
	if m.Compressor == nil { // the values themselves
		out = append(c.arena, out...)
	}
	c.arena = out
	return span{off: start, n: len(out) - start}, nil
}

// WriteShard writes to w the shard object of inner chunks encoded (each
// as its array's codecs encode it, in C order of the shard's inner grid;
// nil for one left out, which reads as the fill) and returns its length:
// the chunks one after the other, then the index of their offsets and
// lengths and its CRC-32C, as the sharding_indexed codec lays them out.
func WriteShard(w io.Writer, encoded [][]byte) (int64, error) {
	index := make([]byte, 0, 16*len(encoded)+4)
	var off uint64
	for _, e := range encoded {
		if e == nil {
			index = binary.LittleEndian.AppendUint64(index, emptyEntry)
			index = binary.LittleEndian.AppendUint64(index, emptyEntry)
			continue
		}
		index = binary.LittleEndian.AppendUint64(index, off)
		index = binary.LittleEndian.AppendUint64(index, uint64(len(e)))
		off += uint64(len(e))
	}
	index = binary.LittleEndian.AppendUint32(index, crc32.Checksum(index, castagnoli))
	var n int64
	for _, b := range encoded {
		k, err := w.Write(b)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	k, err := w.Write(index)
	return n + int64(k), err
}

// InnerChunks calls fn with the origin, within the shard, of every inner
// chunk of a shard of m, in C order.
func (m ArrayMeta) InnerChunks(fn func(at []int64)) {
	grid := m.innerGrid()
	for i := range elements(grid) {
		fn(m.innerAt(i, grid))
	}
}

// onlyFill reports whether buf holds nothing but copies of fill.
func onlyFill(buf, fill []byte) bool {
	if len(fill) == 0 {
		return false
	}
	for i := 0; i < len(buf); i += len(fill) {
		if !bytes.Equal(buf[i:i+len(fill)], fill) {
			return false
		}
	}
	return true
}

// decodeShard decodes a shard of m into its raw bytes: inner chunks left
// out hold the fill value.
func decodeShard(m ArrayMeta, data []byte) ([]byte, error) {
	grid := m.innerGrid()
	n := elements(grid)
	indexLen := 16*n + 4
	if int64(len(data)) < indexLen {
		return nil, fmt.Errorf("zarr: shard of %d bytes is shorter than its index (%d bytes)", len(data), indexLen)
	}
	body := data[:int64(len(data))-indexLen]
	index := data[len(body) : len(data)-4]
	if sum := binary.LittleEndian.Uint32(data[len(data)-4:]); sum != crc32.Checksum(index, castagnoli) {
		return nil, fmt.Errorf("zarr: shard index fails its CRC-32C check")
	}
	size := m.DType.ItemSize()
	innerBytes := int64(size) * elements(m.Inner)
	out := make([]byte, m.ChunkBytes())
	fill := make([]byte, innerBytes)
	nd.Fill(fill, m.EmptyBytes())
	zero := make([]int64, len(grid))
	for i := range n {
		off, length := binary.LittleEndian.Uint64(index[16*i:]), binary.LittleEndian.Uint64(index[16*i+8:])
		at := m.innerAt(i, grid)
		if off == emptyEntry && length == emptyEntry {
			nd.CopyBox(out, m.Chunks, at, fill, m.Inner, zero, m.Inner, size)
			continue
		}
		if off > uint64(len(body)) || length > uint64(len(body))-off {
			return nil, fmt.Errorf("zarr: shard index: inner chunk %v at %d+%d lies outside the shard's %d bytes", at, off, length, len(body))
		}
		raw, err := decompress(m.Compressor, body[off:off+length], innerBytes)
		if err != nil {
			return nil, fmt.Errorf("zarr: inner chunk %v: %w", at, err)
		}
		if int64(len(raw)) != innerBytes {
			return nil, fmt.Errorf("zarr: inner chunk %v decodes to %d bytes, want %d", at, len(raw), innerBytes)
		}
		nd.CopyBox(out, m.Chunks, at, raw, m.Inner, zero, m.Inner, size)
	}
	return out, nil
}

// EmptyBytes returns one element of what the array's unwritten chunks hold
// (its EmptyFill, else its FillValue, else zero), little-endian in its
// dtype; nil for Strings.
func (m ArrayMeta) EmptyBytes() []byte {
	size := m.DType.ItemSize()
	if m.DType == Strings || size == 0 {
		return nil
	}
	v := m.EmptyFill
	if v == nil {
		v = m.FillValue
	}
	b := make([]byte, size)
	switch x := v.(type) {
	case string:
		copy(b, x)
		return b
	case nil:
		return b
	}
	if m.DType.kind() == 'f' {
		f, _ := toFloat(v)
		if size == 4 {
			binary.LittleEndian.PutUint32(b, math.Float32bits(float32(f)))
		} else {
			binary.LittleEndian.PutUint64(b, math.Float64bits(f))
		}
		return b
	}
	var bits uint64
	switch x := v.(type) {
	case int64:
		bits = uint64(x)
	case uint64:
		bits = x
	case float64:
		bits = uint64(int64(x))
	}
	var all [8]byte
	binary.LittleEndian.PutUint64(all[:], bits)
	copy(b, all[:size])
	return b
}
