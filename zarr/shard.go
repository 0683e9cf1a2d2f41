package zarr

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"runtime"
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

// encodeShard appends the shard of m whose raw bytes (the whole shard
// shape) are raw to dst. Inner chunks are compressed on a goroutine per
// core.
func encodeShard(m ArrayMeta, raw, dst []byte) ([]byte, error) {
	grid := m.innerGrid()
	n := elements(grid)
	size := m.DType.ItemSize()
	innerBytes := int64(size) * elements(m.Inner)
	fill := m.EmptyBytes()
	encoded := make([][]byte, n)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		err  error
		next int64
	)
	workers := int(min(int64(runtime.GOMAXPROCS(0)), n))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, innerBytes)
			var scratch []byte // what a chunk compresses into, reused
			for {
				mu.Lock()
				i := next
				next++
				stop := err != nil
				mu.Unlock()
				if i >= n || stop {
					return
				}
				nd.CopyBox(buf, m.Inner, make([]int64, len(grid)), raw, m.Chunks, m.innerAt(i, grid), m.Inner, size)
				if onlyFill(buf, fill) {
					continue
				}
				out, cerr := compress(m.Compressor, buf, scratch[:0], size)
				if cerr == nil && m.Compressor != nil {
					scratch = out[:0]
				}
				out = bytes.Clone(out) // kept until the shard is assembled: its own size
				mu.Lock()
				if cerr != nil && err == nil {
					err = fmt.Errorf("zarr: inner chunk %v: %w", m.innerAt(i, grid), cerr)
				}
				encoded[i] = out
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err != nil {
		return nil, err
	}
	return AppendShard(dst, encoded), nil
}

// AppendShard appends to dst the shard object of inner chunks encoded
// (each as its array's codecs encode it, in C order of the shard's inner
// grid; nil for one left out, which reads as the fill): the chunks one
// after the other, then the index of their offsets and lengths and its
// CRC-32C, as the sharding_indexed codec lays them out.
func AppendShard(dst []byte, encoded [][]byte) []byte {
	start := len(dst)
	index := make([]byte, 0, 16*len(encoded)+4)
	for _, e := range encoded {
		if e == nil {
			index = binary.LittleEndian.AppendUint64(index, emptyEntry)
			index = binary.LittleEndian.AppendUint64(index, emptyEntry)
			continue
		}
		index = binary.LittleEndian.AppendUint64(index, uint64(len(dst)-start))
		index = binary.LittleEndian.AppendUint64(index, uint64(len(e)))
		dst = append(dst, e...)
	}
	index = binary.LittleEndian.AppendUint32(index, crc32.Checksum(index, castagnoli))
	return append(dst, index...)
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
