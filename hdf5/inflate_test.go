package hdf5

import (
	"bytes"
	"compress/zlib"
	"io"
	"math/rand/v2"
	"testing"

	kzlib "github.com/klauspost/compress/zlib"
)

// zlibStreams returns zlib streams, made by the standard library, of data
// shaped like what HDF5 files hold, at every level (stored, Huffman only,
// fixed and dynamic blocks).
func zlibStreams(t testing.TB) (raws, streams [][]byte) {
	rng := rand.New(rand.NewPCG(1, 2))
	var inputs [][]byte
	for _, n := range []int{0, 1, 7, 100, 5000, 70000, 300000} {
		noise := make([]byte, n)
		for i := range noise {
			noise[i] = byte(rng.IntN(256))
		}
		smooth := make([]byte, n) // shuffled int16s: a smooth high plane, a noisy low one
		for i := range smooth {
			if i < n/2 {
				smooth[i] = byte(rng.IntN(4) + i/5000)
			} else {
				smooth[i] = byte(rng.IntN(256))
			}
		}
		runs := bytes.Repeat([]byte("abcabcabd"), n/9+1)[:n]
		inputs = append(inputs, noise, smooth, runs, make([]byte, n))
	}
	for _, in := range inputs {
		for _, level := range []int{0, 1, 4, 9, -2} {
			var b bytes.Buffer
			w, err := zlib.NewWriterLevel(&b, level)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(in)
			w.Close()
			raws = append(raws, in)
			streams = append(streams, b.Bytes())
		}
	}
	return raws, streams
}

func TestInflate(t *testing.T) {
	raws, streams := zlibStreams(t)
	for i, s := range streams {
		dst := make([]byte, len(raws[i])+10)
		n, err := inflateZlib(dst, s)
		if err != nil || !bytes.Equal(dst[:n], raws[i]) {
			t.Fatalf("stream %d (%d bytes): n=%d err=%v", i, len(raws[i]), n, err)
		}
		if len(raws[i]) > 0 {
			if _, err := inflateZlib(dst[:len(raws[i])-1], s); err == nil {
				t.Errorf("stream %d: decoded into a buffer one byte short", i)
			}
		}
		for _, cut := range []int{1, 3, len(s) / 2} {
			if cut < len(s) {
				if _, err := inflateZlib(dst, s[:len(s)-cut]); err == nil {
					t.Errorf("stream %d cut by %d: no error", i, cut)
				}
			}
		}
	}
}

// FuzzInflate checks the decoder against the standard library's on
// arbitrary input: same bytes when both succeed, and no panic.
func FuzzInflate(f *testing.F) {
	_, streams := zlibStreams(f)
	for _, s := range streams {
		if len(s) < 4096 {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		dst := make([]byte, 1<<20)
		n, err := inflateZlib(dst, s)
		r, rerr := zlib.NewReader(bytes.NewReader(s))
		var want []byte
		if rerr == nil {
			var b bytes.Buffer
			_, rerr = b.ReadFrom(r)
			want = b.Bytes()
		}
		if err == nil && (rerr != nil || !bytes.Equal(dst[:n], want)) {
			t.Fatalf("we decoded %d bytes, the standard library %d (%v)", n, len(want), rerr)
		}
		if err != nil && rerr == nil && len(want) <= len(dst) {
			t.Fatalf("we failed (%v), the standard library decoded %d bytes", err, len(want))
		}
	})
}

// BenchmarkInflate decodes 2 MB of shuffled, noisy int16 data (like one
// OISST chunk) compressed at zlib level 4, with our decoder and, for
// comparison, with klauspost/compress's streaming one.
func BenchmarkInflate(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	raw := make([]byte, 2<<20)
	for i := range len(raw) / 2 {
		raw[i] = byte(i/40000) + byte(rng.IntN(2)) // high bytes: smooth
		raw[len(raw)/2+i] = byte(rng.IntN(256))    // low bytes: noise
	}
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, 4)
	w.Write(raw)
	w.Close()
	s := z.Bytes()
	dst := make([]byte, len(raw)+1)
	b.Run("ours", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := inflateZlib(dst, s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("klauspost", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		zr, _ := kzlib.NewReader(bytes.NewReader(s))
		for b.Loop() {
			zr.(kzlib.Resetter).Reset(bytes.NewReader(s), nil)
			if _, err := io.ReadFull(zr, dst[:len(raw)]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
