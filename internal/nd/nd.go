// Package nd copies, fills and byte-swaps boxes of C-ordered N-dimensional
// arrays: the one home of the index arithmetic the readers and the chunk
// stage share. Shapes and indices are int64; an element is itemSize items
// of E (the bytes of a number, or one string).
package nd

import (
	"encoding/binary"
	"slices"
)

// CopyBlock copies the C-ordered block src, of shape srcShape, into the
// C-ordered array dst, of shape dstShape, with the block's first element
// landing at index at. Every element is itemSize items of E (the bytes of a
// number, or one string). The block must fit: at[i]+srcShape[i] <=
// dstShape[i].
func CopyBlock[E any](dst []E, dstShape, at []int64, src []E, srcShape []int64, itemSize int) {
	CopyBox(dst, dstShape, at, src, srcShape, make([]int64, len(srcShape)), srcShape, itemSize)
}

// CopyBox copies the box of extent count at index srcAt of the C-ordered
// array src, of shape srcShape, to index dstAt of the C-ordered array dst,
// of shape dstShape. Every element is itemSize items of E. The box must fit
// in both.
func CopyBox[E any](dst []E, dstShape, dstAt []int64, src []E, srcShape, srcAt, count []int64, itemSize int) {
	rank := len(dstShape)
	if rank == 0 {
		copy(dst[:itemSize], src[:itemSize])
		return
	}
	for _, c := range count {
		if c == 0 {
			return
		}
	}
	// Merge trailing dimensions that are whole in both arrays into one run.
	run := int64(itemSize)
	inner := rank
	for inner > 1 && count[inner-1] == dstShape[inner-1] && count[inner-1] == srcShape[inner-1] {
		run *= count[inner-1]
		inner--
	}
	run *= count[inner-1]
	dstStride, srcStride := strides(dstShape, itemSize), strides(srcShape, itemSize)
	var dstBase, srcBase int64
	for i := range rank {
		dstBase += dstAt[i] * dstStride[i]
		srcBase += srcAt[i] * srcStride[i]
	}
	outer := inner - 1 // dims [0, outer) are iterated; dim outer starts the run
	idx := make([]int64, outer)
	for {
		d, s := dstBase, srcBase
		for i := range outer {
			d += idx[i] * dstStride[i]
			s += idx[i] * srcStride[i]
		}
		copy(dst[d:d+run], src[s:s+run])
		k := outer - 1
		for ; k >= 0; k-- {
			idx[k]++
			if idx[k] < count[k] {
				break
			}
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// strides are the steps, in items, along each dimension of a C-ordered
// array of shape with elements of itemSize items.
func strides(shape []int64, itemSize int) []int64 {
	out := make([]int64, len(shape))
	s := int64(itemSize)
	for i := len(shape) - 1; i >= 0; i-- {
		out[i] = s
		s *= shape[i]
	}
	return out
}

// Fill sets every element of buf to the pattern value (the bytes of one
// number); a nil value leaves zeros (or "").
func Fill[E any](buf []E, value []E) {
	if len(value) == 0 {
		clear(buf)
		return
	}
	for i := 0; i+len(value) <= len(buf); i += len(value) {
		copy(buf[i:], value)
	}
}

// Run reports whether the block of shape srcShape placed at index at of the
// C-ordered array of shape dstShape is one contiguous run of the array, and
// if so the byte offset where it starts. A block that is a run can be read
// straight into the array.
func Run(dstShape, at, srcShape []int64, itemSize int) (int64, bool) {
	k := len(dstShape) - 1
	for k >= 0 && srcShape[k] == dstShape[k] {
		k--
	}
	for i := 0; i < k; i++ {
		if srcShape[i] != 1 {
			return 0, false
		}
	}
	off, stride := int64(0), int64(itemSize)
	for i := len(dstShape) - 1; i >= 0; i-- {
		off += at[i] * stride
		stride *= dstShape[i]
	}
	return off, true
}

// FillFrom sets every element of the C-ordered array buf, of shape shape,
// whose index along axis is from or more to value, an element of itemSize
// items of E (zeros, or "", when value is nil).
func FillFrom[E any](buf []E, shape []int64, axis int, from int64, itemSize int, value []E) {
	outer, inner := int64(1), int64(itemSize)
	for i, n := range shape {
		switch {
		case i < axis:
			outer *= n
		case i > axis:
			inner *= n
		}
	}
	rows := shape[axis]
	for o := range outer {
		Fill(buf[(o*rows+from)*inner:(o+1)*rows*inner], value)
	}
}

// SwapBytes reverses the byte order of every size-byte element of b in
// place (big-endian to little-endian and back).
func SwapBytes(b []byte, size int) {
	switch size {
	case 0, 1:
	case 2:
		for i := 0; i+1 < len(b); i += 2 {
			b[i], b[i+1] = b[i+1], b[i]
		}
	case 4:
		for i := 0; i+3 < len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], binary.BigEndian.Uint32(b[i:]))
		}
	case 8:
		for i := 0; i+7 < len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], binary.BigEndian.Uint64(b[i:]))
		}
	default:
		for i := 0; i+size <= len(b); i += size {
			slices.Reverse(b[i : i+size])
		}
	}
}

// Ints converts a shape or index of uint64 (as HDF5 has them) to int64.
func Ints(u []uint64) []int64 {
	out := make([]int64, len(u))
	for i, x := range u {
		out[i] = int64(x)
	}
	return out
}

// Pick copies to dst, of shape count, every step[i]-th element along each
// dimension i of src, of shape srcShape, starting at its first:
// dst[j...] = src[j0*step[0], j1*step[1], ...].
func Pick[E any](dst []E, count []int64, src []E, srcShape, step []int64, itemSize int) {
	rank := len(count)
	for _, c := range count {
		if c == 0 {
			return
		}
	}
	if rank == 0 {
		copy(dst[:itemSize], src[:itemSize])
		return
	}
	st := strides(srcShape, itemSize)
	idx := make([]int64, rank)
	for out := 0; ; out += itemSize {
		off := int64(0)
		for i, j := range idx {
			off += j * step[i] * st[i]
		}
		copy(dst[out:out+itemSize], src[off:off+int64(itemSize)])
		k := rank - 1
		for ; k >= 0; k-- {
			if idx[k]++; idx[k] < count[k] {
				break
			}
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// Unshuffle undoes a byte shuffle (HDF5's shuffle filter, Blosc's) of src
// into dst (as long as src): the stream holds byte 0 of every element of
// size bytes, then byte 1 of every element, and so on; bytes past the last
// whole element are copied as they are.
func Unshuffle(dst, src []byte, size int) {
	n := len(src) / size
	if size <= 1 || n == 0 {
		copy(dst, src)
		return
	}
	switch size {
	case 2:
		lo, hi := src[:n], src[n:2*n]
		out := dst[:2*n]
		for i := range lo {
			out[2*i] = lo[i]
			out[2*i+1] = hi[i]
		}
	case 4:
		b0, b1, b2, b3 := src[:n], src[n:2*n], src[2*n:3*n], src[3*n:4*n]
		out := dst[:4*n]
		for i := range b0 {
			out[4*i] = b0[i]
			out[4*i+1] = b1[i]
			out[4*i+2] = b2[i]
			out[4*i+3] = b3[i]
		}
	default:
		for j := range size {
			plane := src[j*n : (j+1)*n]
			for i, x := range plane {
				dst[i*size+j] = x
			}
		}
	}
	copy(dst[n*size:len(src)], src[n*size:])
}

// Shuffle is the byte shuffle Unshuffle undoes.
func Shuffle(dst, src []byte, size int) {
	n := len(src) / size
	if size <= 1 || n == 0 {
		copy(dst, src)
		return
	}
	for i := range n {
		for j := range size {
			dst[j*n+i] = src[i*size+j]
		}
	}
	copy(dst[n*size:len(src)], src[n*size:])
}

// BitShuffle transposes the bits of src, whole elements of size bytes
// whose number is a multiple of 8, into dst (as long as src): dst holds
// bit 0 of byte 0 of every element, then bit 1 of byte 0, and so on, each
// bit plane packed eight elements to a byte, least significant bit first
// (the bitshuffle filter Blosc uses).
func BitShuffle(dst, src []byte, size int) {
	n := len(src) / size
	row := n / 8
	clear(dst[:len(src)])
	for i := range n {
		for b := range size * 8 {
			if src[i*size+b/8]>>(b%8)&1 != 0 {
				dst[b*row+i/8] |= 1 << (i % 8)
			}
		}
	}
}

// BitUnshuffle undoes BitShuffle.
func BitUnshuffle(dst, src []byte, size int) {
	n := len(src) / size
	row := n / 8
	clear(dst[:len(src)])
	for b := range size * 8 {
		plane := src[b*row : (b+1)*row]
		for i := range n {
			if plane[i/8]>>(i%8)&1 != 0 {
				dst[i*size+b/8] |= 1 << (b % 8)
			}
		}
	}
}
