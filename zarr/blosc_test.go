package zarr

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
)

// bloscCases are the frames both directions of the interop test make: every
// inner codec we write, with no shuffle, byte and bit shuffle, for value
// sizes 1 to 8, small (stored whole), one block and several blocks (split
// streams when numcodecs writes them).
type bloscCase struct {
	cname         string
	shuffle, size int
	n             int // bytes
	compressible  bool
}

func bloscCases() []bloscCase {
	var out []bloscCase
	for _, cname := range []string{"lz4", "zstd", "zlib"} {
		for _, shuffle := range []int{BloscNoShuffle, BloscShuffle, BloscBitShuffle} {
			for _, size := range []int{1, 2, 4, 8} {
				// 100012 bytes: elements not a multiple of 8 (bit shuffle
				// leaves such blocks as they are)
				for _, n := range []int{40, 64 << 10, 100012, 700 << 10} {
					out = append(out, bloscCase{cname, shuffle, size, n / size * size, n == 40 || n == 700<<10})
				}
			}
		}
	}
	return out
}

// sample is n bytes of values of size bytes: slowly varying (compressible)
// or random.
func sample(n, size int, compressible bool, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := 0; i+size <= n; i += size {
		v := uint64(i / size / 3)
		if !compressible {
			v = r.Uint64()
		}
		for j := range size {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// TestBloscInterop: frames we write decode in numcodecs to the same bytes,
// and frames numcodecs writes (lz4, zstd and zlib, with no, byte or bit
// shuffle, split or not) decode in ours.
func TestBloscInterop(t *testing.T) {
	py := beamtest.RequirePython(t, "numcodecs", "numpy")
	dir := t.TempDir()
	cases := bloscCases()
	for i, c := range cases {
		raw := sample(c.n, c.size, c.compressible, uint64(i))
		frame, err := bloscEncode(nil, raw, c.size, c.cname, 5, c.shuffle)
		if err != nil {
			t.Fatal(err)
		}
		if c.compressible && c.n > 1000 && len(frame) >= len(raw) {
			t.Errorf("%+v: %d bytes encoded to %d", c, len(raw), len(frame))
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("ours_%d.blosc", i)), frame, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("raw_%d", i)), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := `
import sys, os, numpy as np
from numcodecs import Blosc
d, cases = sys.argv[1], [c.split(",") for c in sys.argv[2:]]
bad = []
for i, (cname, shuffle, size) in enumerate(cases):
    raw = open(os.path.join(d, "raw_%d" % i), "rb").read()
    if bytes(Blosc().decode(open(os.path.join(d, "ours_%d.blosc" % i), "rb").read())) != raw:
        bad.append(i)
    arr = np.frombuffer(raw, dtype="u%s" % size)
    frame = Blosc(cname=cname, clevel=5, shuffle=int(shuffle)).encode(arr)
    open(os.path.join(d, "theirs_%d.blosc" % i), "wb").write(frame)
print(" ".join(map(str, bad)))
`
	args := []string{"-c", script, dir}
	for _, c := range cases {
		args = append(args, fmt.Sprintf("%s,%d,%d", c.cname, c.shuffle, c.size))
	}
	out, err := exec.Command(py, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("numcodecs: %v\n%s", err, out)
	}
	if bad := strings.TrimSpace(string(out)); bad != "" {
		t.Errorf("numcodecs decoded these frames of ours to other bytes: %s", bad)
	}
	for i, c := range cases {
		frame, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("theirs_%d.blosc", i)))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("raw_%d", i)))
		got, err := bloscDecode(frame, int64(len(raw)))
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("%+v: numcodecs' frame of %d bytes decoded to %d bytes (equal: %v): %v", c, len(frame), len(got), bytes.Equal(got, raw), err)
		}
	}
}

// TestBloscRefusals: frames we cannot decode say so, and damaged frames
// fail, never panic or decode past their limit.
func TestBloscRefusals(t *testing.T) {
	raw := sample(4096, 4, true, 1)
	frame, err := bloscEncode(nil, raw, 4, "lz4", 5, BloscShuffle)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bloscDecode(frame, 4095); err == nil || !strings.Contains(err.Error(), "more than 4095") {
		t.Errorf("over the limit: %v", err)
	}
	blosclz := bytes.Clone(frame)
	blosclz[2] &^= 0xe0
	if _, err := bloscDecode(blosclz, 4096); !errors.Is(err, ErrBloscUnsupported) {
		t.Errorf("blosclz: %v, want ErrBloscUnsupported", err)
	}
	for cut := range len(frame) {
		if _, err := bloscDecode(frame[:cut], 4096); err == nil {
			t.Fatalf("a frame cut to %d bytes decoded", cut)
		}
	}
}

func FuzzBloscDecode(f *testing.F) {
	for _, c := range bloscCases()[:12] {
		frame, _ := bloscEncode(nil, sample(min(c.n, 5000), c.size, true, 3), c.size, c.cname, 5, c.shuffle)
		f.Add(frame)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		out, err := bloscDecode(frame, 1<<20)
		if err == nil && len(out) > 1<<20 {
			t.Fatalf("decoded %d bytes past the limit", len(out))
		}
	})
}
