package nd

import (
	"slices"
	"testing"
)

func TestCopyBlock(t *testing.T) {
	// A 2x3 block into a 4x5 array at (1, 2), one byte per element.
	dst := make([]byte, 20)
	CopyBlock(dst, []int64{4, 5}, []int64{1, 2}, []byte{1, 2, 3, 4, 5, 6}, []int64{2, 3}, 1)
	want := []byte{
		0, 0, 0, 0, 0,
		0, 0, 1, 2, 3,
		0, 0, 4, 5, 6,
		0, 0, 0, 0, 0,
	}
	if !slices.Equal(dst, want) {
		t.Errorf("got %v", dst)
	}
	// Whole trailing rows merge into one run; two-byte items.
	dst = make([]byte, 2*2*3*2)
	src := []byte{1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6}
	CopyBlock(dst, []int64{2, 2, 3}, []int64{1, 0, 0}, src, []int64{1, 2, 3}, 2)
	if !slices.Equal(dst[12:], src) || slices.ContainsFunc(dst[:12], func(b byte) bool { return b != 0 }) {
		t.Errorf("got %v", dst)
	}
	// AuxCoords.
	dst = make([]byte, 4)
	CopyBlock(dst, nil, nil, []byte{9, 8, 7, 6}, nil, 4)
	if !slices.Equal(dst, []byte{9, 8, 7, 6}) {
		t.Errorf("scalar %v", dst)
	}
}

func TestRun(t *testing.T) {
	for _, c := range []struct {
		name         string
		dst, at, src []int64
		off          int64
		ok           bool
	}{
		{"whole", []int64{4, 5}, []int64{0, 0}, []int64{4, 5}, 0, true},
		{"whole rows", []int64{4, 5}, []int64{2, 0}, []int64{2, 5}, 20, true},
		{"part of a row", []int64{4, 5}, []int64{1, 2}, []int64{1, 3}, 14, true},
		{"rows of a column block", []int64{4, 5}, []int64{1, 2}, []int64{2, 3}, 0, false},
		{"one step of a 3-d chunk", []int64{30, 72, 144}, []int64{7, 0, 0}, []int64{1, 72, 144}, 7 * 72 * 144 * 2, true},
		{"an edge strip", []int64{30, 72, 144}, []int64{7, 0, 0}, []int64{1, 72, 100}, 0, false},
		{"scalar", nil, nil, nil, 0, true},
	} {
		off, ok := Run(c.dst, c.at, c.src, 2)
		if ok != c.ok || (ok && off != c.off) {
			t.Errorf("%s: Run = %d, %v; want %d, %v", c.name, off, ok, c.off, c.ok)
		}
	}
}

func TestFillFrom(t *testing.T) {
	// A 2x3x2 array of bytes; from index 1 along axis 1 becomes 9.
	buf := make([]byte, 12)
	FillFrom(buf, []int64{2, 3, 2}, 1, 1, 1, []byte{9})
	want := []byte{0, 0, 9, 9, 9, 9, 0, 0, 9, 9, 9, 9}
	if !slices.Equal(buf, want) {
		t.Errorf("got %v", buf)
	}
}

func TestCopyBox(t *testing.T) {
	// The 2x2 box at (1, 1) of a 3x4 array to (0, 1) of a 3x3 one.
	src := []byte{
		1, 2, 3, 4,
		5, 6, 7, 8,
		9, 10, 11, 12,
	}
	dst := make([]byte, 9)
	CopyBox(dst, []int64{3, 3}, []int64{0, 1}, src, []int64{3, 4}, []int64{1, 1}, []int64{2, 2}, 1)
	if want := []byte{0, 6, 7, 0, 10, 11, 0, 0, 0}; !slices.Equal(dst, want) {
		t.Errorf("got %v, want %v", dst, want)
	}
	// An empty box copies nothing.
	CopyBox(dst, []int64{3, 3}, []int64{0, 0}, src, []int64{3, 4}, []int64{0, 0}, []int64{0, 2}, 1)
}

func TestSwapBytes(t *testing.T) {
	for _, size := range []int{1, 2, 4, 8, 16} {
		b := make([]byte, 3*size)
		for i := range b {
			b[i] = byte(i)
		}
		SwapBytes(b, size)
		for i := range b {
			if want := byte(i/size*size + size - 1 - i%size); b[i] != want {
				t.Fatalf("size %d: byte %d is %d, want %d", size, i, b[i], want)
			}
		}
	}
}

func TestPick(t *testing.T) {
	// Every second row and every third column of a 5x7 array of bytes.
	src := make([]byte, 35)
	for i := range src {
		src[i] = byte(i)
	}
	dst := make([]byte, 3*3)
	Pick(dst, []int64{3, 3}, src, []int64{5, 7}, []int64{2, 3}, 1)
	if want := []byte{0, 3, 6, 14, 17, 20, 28, 31, 34}; !slices.Equal(dst, want) {
		t.Errorf("got %v, want %v", dst, want)
	}
}

func TestShuffle(t *testing.T) {
	for _, size := range []int{1, 2, 3, 4, 8} {
		src := make([]byte, 5*size+2) // two trailing bytes of no whole value
		for i := range src {
			src[i] = byte(i * 7)
		}
		sh, back := make([]byte, len(src)), make([]byte, len(src))
		Shuffle(sh, src, size)
		Unshuffle(back, sh, size)
		if !slices.Equal(back, src) {
			t.Errorf("size %d: shuffled and back %v, want %v", size, back, src)
		}
		if size == 2 && sh[0] != src[0] || size == 2 && sh[1] != src[2] {
			t.Errorf("size 2: shuffle starts %v, want byte 0 of each value first", sh[:2])
		}
	}
}

func TestUnshuffle(t *testing.T) {
	tests := []struct {
		size     int
		shuffled []byte
		want     []byte
	}{
		{2, []byte{1, 3, 5, 2, 4, 6}, []byte{1, 2, 3, 4, 5, 6}},
		{4, []byte{1, 5, 2, 6, 3, 7, 4, 8, 9}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}}, // a trailing partial element stays
		{1, []byte{7, 8}, []byte{7, 8}},
		{3, []byte{1, 4, 2, 5, 3, 6, 7}, []byte{1, 2, 3, 4, 5, 6, 7}},
		{8, []byte{1, 2, 3}, []byte{1, 2, 3}}, // shorter than one element
	}
	for _, tc := range tests {
		got := make([]byte, len(tc.shuffled))
		if Unshuffle(got, tc.shuffled, tc.size); !slices.Equal(got, tc.want) {
			t.Errorf("Unshuffle(%v, %d) = %v, want %v", tc.shuffled, tc.size, got, tc.want)
		}
	}
}

func TestBitShuffle(t *testing.T) {
	// Eight one-byte values: bit plane b holds bit b of each, value 0 in
	// the least significant bit.
	src := []byte{1, 0, 0, 0, 0, 0, 0, 0x81}
	sh := make([]byte, 8)
	BitShuffle(sh, src, 1)
	if want := []byte{0x81, 0, 0, 0, 0, 0, 0, 0x80}; !slices.Equal(sh, want) {
		t.Errorf("bit planes %x, want %x", sh, want)
	}
	for _, size := range []int{1, 2, 4, 8} {
		src := make([]byte, 16*size)
		for i := range src {
			src[i] = byte(i*37 + 11)
		}
		sh, back := make([]byte, len(src)), make([]byte, len(src))
		BitShuffle(sh, src, size)
		BitUnshuffle(back, sh, size)
		if !slices.Equal(back, src) {
			t.Errorf("size %d: bit-shuffled and back %v, want %v", size, back, src)
		}
	}
}
