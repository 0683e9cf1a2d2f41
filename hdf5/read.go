package hdf5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"

	"github.com/klauspost/compress/zstd"

	"github.com/zarrforge/zarrforge/internal/aec"
	"github.com/zarrforge/zarrforge/internal/checksum"
	"github.com/zarrforge/zarrforge/internal/nd"
)

// Read reads the hyperslab start[i] : start[i]+count[i] of the dataset into
// dst as little-endian values in C order; len(dst) must be the number of
// elements times Type.Size. Only integer (and enumeration: their integer
// values), float and fixed-length string types can be read. Only the chunks that overlap the hyperslab are read
// and decoded, one at a time.
func (d *Dataset) Read(start, count []uint64, dst []byte) error {
	err := fmt.Errorf("reading %s data: %w", d.Type, ErrUnsupported)
	switch d.Type.Class {
	case ClassFixed, ClassEnum, ClassFloat, ClassString:
		err = d.read(start, count, dst)
	}
	if err != nil {
		return fmt.Errorf("%q: %w", d.Name, wrapFormat(err))
	}
	return nil
}

// ReadStrings reads the hyperslab start[i] : start[i]+count[i] of a
// variable-length or fixed-length string dataset, in C order. Fixed-length
// strings lose their padding, as attribute strings do. Elements never
// written read as "".
func (d *Dataset) ReadStrings(start, count []uint64) ([]string, error) {
	out, err := d.readStrings(start, count)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", d.Name, wrapFormat(err))
	}
	return out, nil
}

func (d *Dataset) readStrings(start, count []uint64) ([]string, error) {
	fixed := d.Type.Class == ClassString
	if !fixed && (d.Type.Class != ClassVarLen || !d.Type.VarString) {
		return nil, fmt.Errorf("%s is not a string type", d.Type)
	}
	n, ok := numElements(count)
	if !ok || n > maxVarLen/uint64(d.Type.Size) {
		return nil, fmt.Errorf("hyperslab %v of strings: more than %d bytes", count, maxVarLen)
	}
	raw := make([]byte, n*uint64(d.Type.Size))
	if err := d.read(start, count, raw); err != nil {
		return nil, err
	}
	if fixed {
		return d.Type.fixedStrings(raw), nil
	}
	vals, err := d.f.varLen(raw, int(n), 1)
	if err != nil {
		return nil, err
	}
	return texts(vals), nil
}

func (d *Dataset) read(start, count []uint64, dst []byte) error {
	if d.Null {
		return ErrNoValues
	}
	if len(start) != len(d.Dims) || len(count) != len(d.Dims) {
		return fmt.Errorf("hyperslab of rank %d for a dataset of rank %d", len(start), len(d.Dims))
	}
	n := uint64(1)
	for i := range start {
		if start[i] > d.Dims[i] || count[i] > d.Dims[i]-start[i] {
			return fmt.Errorf("hyperslab %v+%v outside the shape %v", start, count, d.Dims)
		}
		n *= count[i]
	}
	es := uint64(d.Type.Size)
	if n*es != uint64(len(dst)) {
		return fmt.Errorf("destination has %d bytes, the hyperslab %d", len(dst), n*es)
	}
	if n == 0 {
		return nil
	}
	var err error
	switch d.layout.class {
	case layoutCompact:
		d.f.decoded.Add(int64(len(dst)))
		total, _ := numElements(d.Dims)
		if uint64(len(d.layout.compact)) < total*es {
			return fmt.Errorf("compact data of %d bytes for %d elements", len(d.layout.compact), total)
		}
		c := nd.Ints(count)
		nd.CopyBox(dst, c, make([]int64, len(c)), d.layout.compact, nd.Ints(d.Dims), nd.Ints(start), c, int(es))
	case layoutContiguous:
		d.f.decoded.Add(int64(len(dst)))
		err = d.readContiguous(start, count, dst)
	case layoutChunked:
		err = d.readChunked(start, count, dst)
	default:
		err = fmt.Errorf("layout class %d", d.layout.class)
	}
	if err != nil {
		return err
	}
	if d.Type.BigEndian {
		nd.SwapBytes(dst, int(es))
	}
	return nil
}

func (d *Dataset) fill(dst []byte) {
	if d.Fill == nil {
		clear(dst)
		return
	}
	for i := 0; i+len(d.Fill) <= len(dst); i += len(d.Fill) {
		copy(dst[i:], d.Fill)
	}
}

// readContiguous reads the hyperslab from contiguous storage, one ReadAt
// per run of consecutive elements.
func (d *Dataset) readContiguous(start, count []uint64, dst []byte) error {
	es := uint64(d.Type.Size)
	total, _ := numElements(d.Dims)
	if d.f.undefined(d.layout.addr) { // never written
		d.fill(dst)
		return nil
	}
	if d.layout.size != ^uint64(0) && d.layout.size < total*es {
		return fmt.Errorf("contiguous data of %d bytes for %d elements", d.layout.size, total)
	}
	rank := len(d.Dims)
	if rank == 0 {
		return d.f.readData(d.layout.addr, dst)
	}
	// k is the outermost dimension of the contiguous run: every dimension
	// after it is read whole.
	k := rank - 1
	for k > 0 && start[k] == 0 && count[k] == d.Dims[k] {
		k--
	}
	inner := uint64(1)
	for _, n := range d.Dims[k+1:] {
		inner *= n
	}
	run := count[k] * inner * es
	idx := make([]uint64, k) // position among the outer dimensions
	for out := uint64(0); out < uint64(len(dst)); out += run {
		// linear element offset of (start + idx, start[k], 0...)
		off := uint64(0)
		for i := 0; i <= k; i++ {
			p := start[i]
			if i < k {
				p += idx[i]
			}
			off = off*d.Dims[i] + p
		}
		off *= inner
		if err := d.f.readData(d.layout.addr+off*es, dst[out:out+run]); err != nil {
			return err
		}
		for i := k - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < count[i] {
				break
			}
			idx[i] = 0
		}
	}
	return nil
}

// readChunked reads the hyperslab from the chunks that overlap it.
func (d *Dataset) readChunked(start, count []uint64, dst []byte) error {
	chunks, err := d.index()
	if err != nil {
		return err
	}
	rank := len(d.Dims)
	chunk := d.layout.chunk
	es := d.Type.Size
	grid := d.grid()
	first := make([]uint64, rank)
	last := make([]uint64, rank)
	for i := range rank {
		first[i] = start[i] / chunk[i]
		last[i] = (start[i] + count[i] - 1) / chunk[i]
	}
	chunkElems, ok := numElements(chunk)
	if !ok {
		return fmt.Errorf("chunk shape %v: %w", chunk, ErrTooLarge)
	}
	var buf []byte
	lo := make([]uint64, rank)
	ext := make([]uint64, rank)
	src := make([]uint64, rank)
	for c := slices.Clone(first); ; {
		// the part of this chunk inside the hyperslab
		lin := uint64(0)
		for i := range rank {
			origin := c[i] * chunk[i]
			a := max(start[i], origin)
			b := min(start[i]+count[i], origin+chunk[i])
			lo[i], ext[i], src[i] = a-start[i], b-a, a-origin
			lin = lin*grid[i] + c[i]
		}
		ref, ok := chunks[lin]
		if ok && whole(lo, ext, count, chunk) {
			// The hyperslab is exactly this chunk: decode straight into dst.
			if _, err := d.chunk(ref, c, chunkElems, dst); err != nil {
				return err
			}
		} else if ok {
			if buf, err = d.chunk(ref, c, chunkElems, buf); err != nil {
				return err
			}
			nd.CopyBox(dst, nd.Ints(count), nd.Ints(lo), buf, nd.Ints(chunk[:rank]), nd.Ints(src), nd.Ints(ext), es)
		} else {
			fillBlock(dst, count, lo, ext, es, d)
		}
		i := rank - 1
		for ; i >= 0; i-- {
			if c[i]++; c[i] <= last[i] {
				break
			}
			c[i] = first[i]
		}
		if i < 0 {
			return nil
		}
	}
}

// whole reports whether the box at lo of extent ext is all of a hyperslab
// of shape count and all of a chunk.
func whole(lo, ext, count, chunk []uint64) bool {
	for i := range lo {
		if lo[i] != 0 || ext[i] != count[i] || ext[i] != chunk[i] {
			return false
		}
	}
	return true
}

// grid returns the number of chunks along each dimension of Dims.
func (d *Dataset) grid() []uint64 {
	g := make([]uint64, len(d.Dims))
	for i, n := range d.Dims {
		g[i] = (n + d.layout.chunk[i] - 1) / d.layout.chunk[i]
	}
	return g
}

// chunk reads and decodes one chunk into buf (reused when large enough).
func (d *Dataset) chunk(ref chunkRef, coord []uint64, elems uint64, buf []byte) ([]byte, error) {
	hi, want := bits.Mul64(elems, uint64(d.Type.Size))
	if hi != 0 || want > d.f.maxChunk {
		return nil, fmt.Errorf("chunk %v decodes to %d bytes, more than the %d a chunk may take here: %w", coord, want, d.f.maxChunk, ErrTooLarge)
	}
	d.f.decoded.Add(int64(want))
	filters := d.filters
	if d.layout.noEdgeFilter && d.isEdge(coord) {
		filters = nil
	}
	if len(filters) == 0 || ref.mask&(1<<uint(len(filters))-1) == 1<<uint(len(filters))-1 {
		if ref.size != want && ref.size != 0 {
			return nil, fmt.Errorf("chunk %v at address %d: %d bytes stored, want %d", coord, ref.addr, ref.size, want)
		}
		if uint64(cap(buf)) < want {
			buf = make([]byte, want)
		}
		buf = buf[:want]
		if err := d.f.readData(ref.addr, buf); err != nil {
			return nil, fmt.Errorf("chunk %v: %w", coord, err)
		}
		return buf, nil
	}
	if ref.size > want+want/2+1<<20 || ref.size > uint64(d.f.size) {
		return nil, fmt.Errorf("chunk %v at address %d: %d bytes stored for %d", coord, ref.addr, ref.size, want)
	}
	rawBuf := getBuffer(ref.size)
	defer putBuffer(rawBuf)
	raw := *rawBuf
	if err := d.f.readData(ref.addr, raw); err != nil {
		return nil, fmt.Errorf("chunk %v: %w", coord, err)
	}
	out, err := d.decode(raw, filters, ref.mask, want, buf)
	if err != nil {
		return nil, fmt.Errorf("chunk %v at address %d: %w", coord, ref.addr, err)
	}
	return out, nil
}

func (d *Dataset) isEdge(coord []uint64) bool {
	for i, c := range coord {
		if (c+1)*d.layout.chunk[i] > d.Dims[i] {
			return true
		}
	}
	return false
}

// errChecksum is wrapped by errors for data whose Fletcher-32 checksum does
// not match.
var errChecksum = errors.New("fletcher32 checksum mismatch")

// decode undoes the filters (in reverse pipeline order) on raw; the result
// must be want bytes long and is written to buf (reallocated if too small).
func (d *Dataset) decode(raw []byte, filters []filter, mask uint32, want uint64, buf []byte) ([]byte, error) {
	if uint64(cap(buf)) < want {
		buf = make([]byte, want)
	}
	buf = buf[:want]
	data := raw
	var scratch *[]byte // the inflate output, returned to the pool at the end
	defer func() {
		if scratch != nil {
			putBuffer(scratch)
		}
	}()
	last := 0 // the last filter to undo: the first applied
	for last < len(filters) && mask&(1<<uint(last)) != 0 {
		last++
	}
	for i := len(filters) - 1; i >= 0; i-- {
		if mask&(1<<uint(i)) != 0 {
			continue
		}
		switch filters[i].id {
		case filterFletcher32:
			if len(data) < 4 {
				return nil, errors.New("fletcher32: chunk shorter than its checksum")
			}
			n := len(data) - 4
			stored := uint32(data[n]) | uint32(data[n+1])<<8 | uint32(data[n+2])<<16 | uint32(data[n+3])<<24
			sum := checksum.Fletcher32(data[:n])
			// HDF5 1.6.0-1.6.2 wrote the sum byte-swapped; HDF5 still accepts it.
			if stored != sum && stored != bits.ReverseBytes32(sum) {
				return nil, errChecksum
			}
			data = data[:n]
		case filterShuffle:
			size := d.Type.Size
			if len(filters[i].values) > 0 && filters[i].values[0] > 0 {
				size = int(filters[i].values[0])
			}
			out := buf
			if i != last || uint64(len(data)) != want {
				out = make([]byte, len(data))
			}
			nd.Unshuffle(out, data, size)
			data = out
		case filterDeflate:
			if scratch == nil {
				scratch = getBuffer(want + 64)
			}
			out, err := inflateAll(data, want+64, *scratch)
			if err != nil {
				return nil, fmt.Errorf("deflate: %w", err)
			}
			*scratch = out[:cap(out)]
			data = out
		case filterZstd:
			out, err := unzstd(data, want)
			if err != nil {
				return nil, fmt.Errorf("zstd: %w", err)
			}
			data = out
		case filterSzip:
			out, err := unszip(data, filters[i].values, want)
			if err != nil {
				return nil, fmt.Errorf("szip: %w", err)
			}
			data = out
		default:
			return nil, fmt.Errorf("%s: %w", filters[i], ErrUnsupported)
		}
	}
	if uint64(len(data)) != want {
		return nil, fmt.Errorf("decoded to %d bytes, want %d", len(data), want)
	}
	if want > 0 && &data[0] != &buf[0] {
		copy(buf, data)
	}
	return buf, nil
}

// unszip decodes a chunk the szip filter wrote: the length it holds
// decoded (4 bytes, little-endian; 0 for a chunk kept as it was, which
// HDF5 1.6 wrote when szip could not shrink it), then the szip buffer,
// decoded with the parameters in the filter's client data (options mask,
// pixels per block, bits per pixel, pixels per scanline). The length may
// be at most want: no chunk expands past the dataset's chunk.
func unszip(data []byte, values []uint32, want uint64) ([]byte, error) {
	if len(values) < 4 {
		return nil, fmt.Errorf("%d parameters, want 4", len(values))
	}
	if len(data) < 4 {
		return nil, errors.New("chunk shorter than its length")
	}
	n := uint64(binary.LittleEndian.Uint32(data))
	switch {
	case n == 0:
		return data[4:], nil
	case n > want:
		return nil, fmt.Errorf("chunk holds %d bytes, more than the chunk's %d", n, want)
	}
	out := make([]byte, n)
	sp := aec.SzipParams{Options: int(values[0]), PixelsPerBlock: int(values[1]), BitsPerPixel: int(values[2]), PixelsPerScanline: int(values[3])}
	if err := aec.Szip(out, data[4:], sp); err != nil {
		return nil, err
	}
	return out, nil
}

// maxZstdWindow bounds the window a zstd frame may declare (the memory
// decoding it takes); zstd's own levels use at most 128 MiB.
const maxZstdWindow = 128 << 20

// unzstd decodes the zstd frames in data, which must decode to want bytes:
// decoding stops as soon as the output would be longer, whatever the frames
// declare, so a small chunk cannot expand into a large allocation.
func unzstd(data []byte, want uint64) ([]byte, error) {
	var h zstd.Header
	if err := h.Decode(data); err != nil {
		return nil, err
	}
	if h.HasFCS && h.FrameContentSize > want {
		return nil, fmt.Errorf("frame holds %d bytes, more than the chunk's %d", h.FrameContentSize, want)
	}
	// What HDF5's zstd filter writes: frames with their content size and a
	// window no larger than it, decoded in one call. The limit may not be
	// below zstd's smallest window (1 KiB), which a small frame declares.
	limit := max(want+1, zstd.MinWindowSize)
	if h.WindowSize <= limit {
		dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(limit))
		if err != nil {
			return nil, err
		}
		defer dec.Close()
		return dec.DecodeAll(data, make([]byte, 0, want))
	}
	// Frames from a streaming encoder declare a window larger than the
	// chunk: stream them, keeping no more than want+1 bytes of output.
	if h.WindowSize > maxZstdWindow {
		return nil, fmt.Errorf("frame declares a window of %d bytes, more than %d", h.WindowSize, maxZstdWindow)
	}
	dec, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	out := make([]byte, want+1)
	n, err := io.ReadFull(dec, out)
	switch {
	case err == nil:
		return nil, fmt.Errorf("frames hold more than the chunk's %d bytes", want)
	case err != io.ErrUnexpectedEOF && err != io.EOF:
		return nil, err
	}
	return out[:n], nil
}

// inflateAll decompresses a zlib stream of at most limit bytes into out
// (reallocated if too small).
func inflateAll(data []byte, limit uint64, out []byte) ([]byte, error) {
	if uint64(cap(out)) < limit {
		out = make([]byte, limit)
	}
	out = out[:limit]
	n, err := inflateZlib(out, data)
	if err != nil {
		return nil, err
	}
	if uint64(n) == limit {
		return nil, errors.New("decompressed data longer than the chunk")
	}
	return out[:n], nil
}

// fillBlock writes the dataset's fill value into the box of extent ext at
// off in dst (of shape shape).
func fillBlock(dst []byte, shape, off, ext []uint64, es int, d *Dataset) {
	n, _ := numElements(ext)
	tmp := make([]byte, n*uint64(es))
	d.fill(tmp)
	nd.CopyBlock(dst, nd.Ints(shape), nd.Ints(off), tmp, nd.Ints(ext), es)
}
