package plan

// CopyBlock copies the C-ordered block src, of shape srcShape, into the
// C-ordered array dst, of shape dstShape, with the block's first element
// landing at index at. Every element is itemSize items of E (the bytes of a
// number, or one string). The block must fit: at[i]+srcShape[i] <=
// dstShape[i].
func CopyBlock[E any](dst []E, dstShape, at []int64, src []E, srcShape []int64, itemSize int) {
	rank := len(dstShape)
	if rank == 0 {
		copy(dst[:itemSize], src[:itemSize])
		return
	}
	// Merge trailing dimensions that are whole in both arrays into one run.
	run := int64(itemSize)
	inner := rank
	for inner > 1 && srcShape[inner-1] == dstShape[inner-1] {
		run *= dstShape[inner-1]
		inner--
	}
	run *= srcShape[inner-1]
	// Strides (in bytes) of dst for the outer dims.
	dstStride := make([]int64, rank)
	s := int64(itemSize)
	for i := rank - 1; i >= 0; i-- {
		dstStride[i] = s
		s *= dstShape[i]
	}
	base := int64(0)
	for i := 0; i < rank; i++ {
		base += at[i] * dstStride[i]
	}
	outer := inner - 1 // dims [0, outer) are iterated; dim outer starts the run
	idx := make([]int64, outer)
	var srcOff int64
	for {
		off := base
		for i := 0; i < outer; i++ {
			off += idx[i] * dstStride[i]
		}
		copy(dst[off:off+run], src[srcOff:srcOff+run])
		srcOff += run
		k := outer - 1
		for ; k >= 0; k-- {
			idx[k]++
			if idx[k] < srcShape[k] {
				break
			}
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
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
