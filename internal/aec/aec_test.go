package aec

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
)

// requireAEC returns the path of libaec's command-line tool (Debian's
// libaec-tools), the oracle of these tests; without it a test fails as
// beamtest.MissingOracle says.
func requireAEC(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("aec")
	if err != nil {
		beamtest.MissingOracle(t, "libaec's aec tool (Debian's libaec-tools) is missing")
	}
	return p
}

// samples makes n samples of kind for p, each in p.BytesPerSample bytes in
// p's byte order, within p's bits (signed ones sign-extended).
func samples(p Params, kind string, n int, rng *rand.Rand) []byte {
	size, bps := p.BytesPerSample(), p.BitsPerSample
	lo, hi := int64(0), int64(1)<<bps-1
	if p.Flags&Signed != 0 {
		lo, hi = -(int64(1) << (bps - 1)), int64(1)<<(bps-1)-1
	}
	out := make([]byte, n*size)
	v := (lo + hi) / 2
	for i := range n {
		switch kind {
		case "smooth": // a slow wave, mostly small differences
			v += int64(rng.IntN(7)) - 3
		case "noisy":
			v = lo + rng.Int64N(hi-lo+1)
		case "zero runs": // long runs of one value, then jumps
			if rng.IntN(500) == 0 {
				v = lo + rng.Int64N(hi-lo+1)
			}
		case "extremes":
			v = []int64{lo, hi, lo, lo, hi, hi, 0}[i%7]
		case "pairs": // tiny differences: the second extension
			v += int64(rng.IntN(3)) - 1
		}
		v = min(max(v, lo), hi)
		u := uint32(v)
		for j := range size {
			shift := 8 * j
			if p.Flags&MSB != 0 {
				shift = 8 * (size - 1 - j)
			}
			out[i*size+j] = byte(u >> shift)
		}
	}
	return out
}

// TestDecodeAgainstLibaec encodes samples of every kind with libaec's aec
// tool under each set of parameters, decodes them with libaec and with
// Decode, and wants the same bytes.
func TestDecodeAgainstLibaec(t *testing.T) {
	tool := requireAEC(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range []Params{
		{BitsPerSample: 8, BlockSize: 8, RSI: 128, Flags: Preprocess},
		{BitsPerSample: 16, BlockSize: 16, RSI: 32, Flags: Preprocess},
		{BitsPerSample: 16, BlockSize: 32, RSI: 64, Flags: Preprocess | MSB},
		{BitsPerSample: 12, BlockSize: 16, RSI: 8, Flags: Preprocess | Signed},
		{BitsPerSample: 13, BlockSize: 64, RSI: 4096, Flags: 0},
		{BitsPerSample: 24, BlockSize: 32, RSI: 16, Flags: Preprocess | ThreeByte | MSB},
		{BitsPerSample: 24, BlockSize: 32, RSI: 16, Flags: Preprocess | Signed},
		{BitsPerSample: 32, BlockSize: 64, RSI: 8, Flags: Preprocess},
		{BitsPerSample: 32, BlockSize: 16, RSI: 128, Flags: Preprocess | Signed | MSB},
		{BitsPerSample: 3, BlockSize: 8, RSI: 16, Flags: Preprocess | Restricted},
		{BitsPerSample: 2, BlockSize: 16, RSI: 4, Flags: Restricted},
		{BitsPerSample: 1, BlockSize: 8, RSI: 1, Flags: Preprocess},
	} {
		for _, kind := range []string{"smooth", "noisy", "zero runs", "extremes", "pairs"} {
			name := fmt.Sprintf("%d bits, blocks of %d, RSI %d, flags %06b/%s", p.BitsPerSample, p.BlockSize, p.RSI, p.Flags, kind)
			t.Run(name, func(t *testing.T) {
				want := samples(p, kind, 10007, rng)
				enc, dec := libaec(t, tool, p, encoderInput(p, want))
				if dec == nil || !bytes.Equal(dec[:min(len(dec), len(want))], want) {
					t.Fatalf("libaec does not decode its stream to the samples (byte %d)", firstDiff(dec, want))
				}
				got := make([]byte, len(want))
				if err := Decode(got, enc, p); err != nil {
					t.Fatalf("Decode: %v (%d bytes encoded)", err, len(enc))
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("differs from the samples libaec encoded at byte %d of %d (%d bytes encoded)", firstDiff(got, want), len(want), len(enc))
				}
				if err := Decode(make([]byte, len(want)), enc[:len(enc)/2], p); !errors.Is(err, ErrStream) {
					t.Errorf("half the stream: %v, want ErrStream", err)
				}
			})
		}
	}
}

// encoderInput is samples as libaec's encoder takes them: signed ones
// narrower than their bytes as their own bits alone, not sign-extended
// (the decoder gives them back sign-extended).
func encoderInput(p Params, samples []byte) []byte {
	size := p.BytesPerSample()
	if p.Flags&Signed == 0 || p.BitsPerSample == 8*size {
		return samples
	}
	out := bytes.Clone(samples)
	for i := 0; i < len(out); i += size {
		for j := range size {
			k := j // the byte's place, least significant first
			if p.Flags&MSB != 0 {
				k = size - 1 - j
			}
			if keep := p.BitsPerSample - 8*k; keep <= 0 {
				out[i+j] = 0
			} else if keep < 8 {
				out[i+j] &= byte(1<<keep - 1)
			}
		}
	}
	return out
}

// libaec encodes raw with the aec tool under p and decodes the result with
// it: the stream, and libaec's decoding of it (nil where libaec's tool
// cannot decode its own stream; past the samples, it decodes the padding
// of the last byte too). The tool writes into an existing file without
// truncating it: every call has a new directory.
func libaec(t *testing.T, tool string, p Params, raw []byte) (enc, dec []byte) {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-n", strconv.Itoa(p.BitsPerSample), "-j", strconv.Itoa(p.BlockSize), "-r", strconv.Itoa(p.RSI)}
	for _, f := range []struct {
		flag Flags
		arg  string
	}{{Signed, "-s"}, {ThreeByte, "-3"}, {MSB, "-m"}, {Restricted, "-t"}, {PadRSI, "-p"}} {
		if p.Flags&f.flag != 0 {
			args = append(args, f.arg)
		}
	}
	if p.Flags&Preprocess == 0 {
		args = append(args, "-N")
	}
	in, coded, out := filepath.Join(dir, "in"), filepath.Join(dir, "coded"), filepath.Join(dir, "out")
	if err := os.WriteFile(in, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(tool, append(args, in, coded)...).CombinedOutput(); err != nil {
		t.Fatalf("aec %v: %v\n%s", args, err, b)
	}
	enc, _ = os.ReadFile(coded)
	if err := exec.Command(tool, append(append([]string{"-d"}, args...), coded, out)...).Run(); err != nil {
		return enc, nil
	}
	dec, _ = os.ReadFile(out)
	return enc, dec
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestPadRSI decodes a stream written by hand (libaec 1.0.6's tool cannot
// decode its own -p streams): two intervals of one uncompressed block of
// two 4-bit samples, each interval padded to a byte.
func TestPadRSI(t *testing.T) {
	p := Params{BitsPerSample: 4, BlockSize: 2, RSI: 1, Flags: PadRSI}
	src := []byte{0b1110_1011, 0b0100_0000, 0b1110_0111, 0b1000_0000} // id 111, 0101, 1010, pad; id 111, 0011, 1100, pad
	got := make([]byte, 4)
	if err := Decode(got, src, p); err != nil || !bytes.Equal(got, []byte{5, 10, 3, 12}) {
		t.Errorf("Decode = %v, %v; want [5 10 3 12]", got, err)
	}
	p.Flags = 0 // read on without the padding: other samples
	if err := Decode(got, src, p); err == nil && bytes.Equal(got, []byte{5, 10, 3, 12}) {
		t.Error("the padding made no difference")
	}
}

// TestParams: parameters outside the standard are refused before any
// decoding; so is output that is no whole number of samples.
func TestParams(t *testing.T) {
	for _, p := range []Params{
		{BitsPerSample: 0, BlockSize: 16, RSI: 1},
		{BitsPerSample: 33, BlockSize: 16, RSI: 1},
		{BitsPerSample: 8, BlockSize: 7, RSI: 1},
		{BitsPerSample: 8, BlockSize: 128, RSI: 1},
		{BitsPerSample: 8, BlockSize: 16, RSI: 0},
		{BitsPerSample: 8, BlockSize: 16, RSI: 5000},
		{BitsPerSample: 8, BlockSize: 16, RSI: 1, Flags: Restricted},
	} {
		if err := Decode(make([]byte, 16), []byte{0, 0, 0}, p); err == nil {
			t.Errorf("%+v: decoded", p)
		}
	}
	if err := Decode(make([]byte, 3), nil, Params{BitsPerSample: 16, BlockSize: 16, RSI: 1}); err == nil {
		t.Error("3 bytes of 16-bit samples: decoded")
	}
}

// TestSzip checks the szip interface against libaec: byte planes for 32-
// and 64-bit pixels, scanlines padded to whole blocks.
func TestSzip(t *testing.T) {
	tool := requireAEC(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sp := range []SzipParams{
		{Options: SzipNN, PixelsPerBlock: 32, BitsPerPixel: 16, PixelsPerScanline: 512},
		{Options: SzipNN | SzipMSB, PixelsPerBlock: 16, BitsPerPixel: 32, PixelsPerScanline: 100},
		{Options: 0, PixelsPerBlock: 8, BitsPerPixel: 64, PixelsPerScanline: 64},
		{Options: SzipNN, PixelsPerBlock: 8, BitsPerPixel: 8, PixelsPerScanline: 25},
	} {
		t.Run(fmt.Sprintf("%+v", sp), func(t *testing.T) {
			raw := make([]byte, 6000*sp.BitsPerPixel/8)
			for i := range raw {
				raw[i] = byte(i/37) + byte(rng.IntN(3))
			}
			enc := szipEncode(t, tool, sp, raw)
			got := make([]byte, len(raw))
			if err := Szip(got, enc, sp); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, raw) {
				t.Fatalf("differs at byte %d", firstDiff(got, raw))
			}
		})
	}
}

// szipEncode encodes raw as libaec's SZ_BufftoBuffCompress does, with the
// aec tool: byte planes for 32- and 64-bit pixels, every scanline padded
// with its last pixel to whole blocks.
func szipEncode(t *testing.T, tool string, sp SzipParams, raw []byte) []byte {
	t.Helper()
	bps := sp.BitsPerPixel
	if bps == 32 || bps == 64 {
		w := bps / 8
		n := len(raw) / w
		planes := make([]byte, len(raw))
		for i := range n {
			for j := range w {
				planes[j*n+i] = raw[i*w+j]
			}
		}
		raw, bps = planes, 8
	}
	p := Params{BitsPerSample: bps, BlockSize: sp.PixelsPerBlock, RSI: (sp.PixelsPerScanline + sp.PixelsPerBlock - 1) / sp.PixelsPerBlock}
	if sp.Options&SzipMSB != 0 {
		p.Flags |= MSB
	}
	if sp.Options&SzipNN != 0 {
		p.Flags |= Preprocess
	}
	size := p.BytesPerSample()
	line, padded := sp.PixelsPerScanline*size, p.RSI*p.BlockSize*size
	var in []byte
	for at := 0; at < len(raw); at += line {
		l := raw[at:min(at+line, len(raw))]
		in = append(in, l...)
		for range (padded - len(l)) / size {
			in = append(in, l[len(l)-size:]...)
		}
	}
	enc, _ := libaec(t, tool, p, in)
	return enc
}

// FuzzDecode: any stream, under any parameters, decodes or fails, within
// the output asked for.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0x3f, 0xff, 0x00, 0x12}, uint8(16), uint8(16), uint16(32), uint8(Preprocess))
	f.Add(bytes.Repeat([]byte{0}, 64), uint8(8), uint8(8), uint16(1), uint8(0))
	f.Add([]byte{0x80, 0x01, 0x02}, uint8(32), uint8(64), uint16(4096), uint8(Preprocess|Signed|MSB))
	f.Fuzz(func(t *testing.T, src []byte, bps, bs uint8, rsi uint16, flags uint8) {
		p := Params{BitsPerSample: int(bps), BlockSize: int(bs), RSI: int(rsi), Flags: Flags(flags)}
		if p.check() != nil {
			return
		}
		dst := make([]byte, 4096*p.BytesPerSample())
		_ = Decode(dst, src, p)
		_ = Szip(dst, src, SzipParams{Options: int(flags), PixelsPerBlock: int(bs), BitsPerPixel: int(bps), PixelsPerScanline: int(rsi) + 1})
	})
}
