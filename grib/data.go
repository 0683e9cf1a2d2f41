package grib

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"

	"github.com/zarrforge/zarrforge/internal/aec"
)

// packing is section 5: how the values are packed (templates 5.0, 5.41
// and 5.42 share the first fields: a value is (R + X·2^E)·10^-D for the
// packed integer X of Bits bits).
type packing struct {
	Template   int
	Values     int // how many values are packed (points the bitmap leaves)
	R          float32
	E, D       int
	Bits       int
	ccsdsFlags int
	ccsdsBlock int
	ccsdsRSI   int
	complex    complexPacking // templates 5.2 and 5.3
}

func (p *packing) parse(s []byte) error {
	if len(s) < 21 {
		return fmt.Errorf("%w: %d bytes", ErrFormat, len(s))
	}
	p.Values = int(be32(s[5:]))
	p.Template = int(be16(s[9:]))
	switch p.Template {
	case 0, 2, 3, 41, 42:
	case 40:
		return fmt.Errorf("data representation template 5.40 (JPEG 2000): %w: convert the file with grib_set -r -s packingType=grid_ccsds", ErrUnsupported)
	default:
		return fmt.Errorf("data representation template 5.%d: %w (5.0, 5.2, 5.3, 5.41 and 5.42 are read)", p.Template, ErrUnsupported)
	}
	p.R = math.Float32frombits(be32(s[11:]))
	p.E, p.D = signed16(s[15:]), signed16(s[17:])
	p.Bits = int(s[19])
	if p.Template == 42 {
		if len(s) < 25 {
			return fmt.Errorf("%w: template 5.42 in %d bytes", ErrFormat, len(s))
		}
		p.ccsdsFlags, p.ccsdsBlock, p.ccsdsRSI = int(s[21]), int(s[22]), int(be16(s[23:]))
	}
	if p.Template == 2 || p.Template == 3 {
		if err := p.complex.parse(p.Template, s); err != nil {
			return err
		}
	}
	if p.Values < 0 || p.Values > MaxPoints {
		return fmt.Errorf("%w: %d values", ErrFormat, p.Values)
	}
	return nil
}

// Values decodes the field: one float32 a grid point, in the order the
// grid scans, NaN where the bitmap says there is no value. Each value is
// (R + X·2^E)·10^-D computed in float64, as ecCodes computes it, then
// rounded to float32, as cfgrib gives it.
func (f *Field) Values() ([]float32, error) {
	if f.loc != nil {
		return nil, fmt.Errorf("grib: a field Scan found is decoded by Load")
	}
	n := f.Grid.Points
	if f.bitmap != nil && len(f.bitmap)*8 < n {
		return nil, fmt.Errorf("%w: a bitmap of %d bits for %d points", ErrFormat, len(f.bitmap)*8, n)
	}
	present := n
	if f.bitmap != nil {
		present = 0
		for i := range n {
			present += int(f.bitmap[i/8] >> (7 - i%8) & 1)
		}
	}
	if f.pack.Values != present {
		return nil, fmt.Errorf("%w: %d values packed for %d points with a value", ErrFormat, f.pack.Values, present)
	}
	if f.pack.Template == 2 || f.pack.Template == 3 {
		vals, missing, err := unpackComplex(f.data, present, f.pack)
		if err != nil {
			return nil, fmt.Errorf("data representation 5.%d: %w", f.pack.Template, err)
		}
		return scatter(f, vals, missing), nil
	}
	if f.pack.Template == 0 && f.pack.Bits == 16 && f.bitmap == nil && len(f.data) >= 2*n {
		return simple16(f), nil
	}
	ints, err := f.unpack(present)
	if err != nil {
		return nil, fmt.Errorf("data representation 5.%d: %w", f.pack.Template, err)
	}
	if ints == nil {
		ints = make([]uint32, present) // no bits: every value is the reference value
	}
	return scatter(f, ints, nil), nil
}

// simple16 decodes the commonest field, 16-bit simple packing with no
// bitmap, in one pass (its data checked long enough).
func simple16(f *Field) []float32 {
	scale, ref, dec := math.Ldexp(1, f.pack.E), float64(f.pack.R), math.Pow(10, float64(-f.pack.D))
	out := make([]float32, f.Grid.Points)
	for i := range out {
		out[i] = float32((float64(be16(f.data[2*i:]))*scale + ref) * dec)
	}
	return out
}

// scatter places the packed values x, one for each point with a value,
// on the grid: (x·2^E + R)·10^-D in float64, then float32; NaN where the
// bitmap or missing says there is none.
func scatter[X uint32 | int64](f *Field, x []X, missing []bool) []float32 {
	scale, ref, dec := math.Ldexp(1, f.pack.E), float64(f.pack.R), math.Pow(10, float64(-f.pack.D))
	nan := float32(math.NaN())
	out := make([]float32, f.Grid.Points)
	if f.bitmap == nil && missing == nil {
		for i, v := range x[:len(out)] {
			out[i] = float32((float64(v)*scale + ref) * dec)
		}
		return out
	}
	k := 0
	for i := range out {
		if f.bitmap != nil && f.bitmap[i/8]>>(7-i%8)&1 == 0 {
			out[i] = nan
			continue
		}
		if missing != nil && missing[k] {
			out[i] = nan
		} else {
			out[i] = float32((float64(x[k])*scale + ref) * dec)
		}
		k++
	}
	return out
}

// unpack returns the n packed integers (nil when there are no bits: every
// value is the reference value).
func (f *Field) unpack(n int) ([]uint32, error) {
	p := f.pack
	if p.Bits == 0 || n == 0 {
		return nil, nil
	}
	if p.Bits > 32 {
		return nil, fmt.Errorf("%w: %d bits a value", ErrFormat, p.Bits)
	}
	switch p.Template {
	case 41:
		return unpackPNG(f.data, n, p.Bits)
	case 42:
		return unpackCCSDS(f.data, n, p)
	}
	if need := (int64(n)*int64(p.Bits) + 7) / 8; int64(len(f.data)) < need {
		return nil, fmt.Errorf("%w: %d bytes of data for %d values of %d bits", ErrFormat, len(f.data), n, p.Bits)
	}
	out := make([]uint32, n)
	switch p.Bits {
	case 8:
		for i := range out {
			out[i] = uint32(f.data[i])
		}
		return out, nil
	case 16:
		for i := range out {
			out[i] = uint32(be16(f.data[2*i:]))
		}
		return out, nil
	}
	var acc uint64
	nbit, pos := 0, 0
	for i := range out {
		for nbit < p.Bits {
			acc = acc<<8 | uint64(f.data[pos])
			pos++
			nbit += 8
		}
		nbit -= p.Bits
		out[i] = uint32(acc>>nbit) & uint32(1<<p.Bits-1)
	}
	return out, nil
}

// unpackCCSDS decodes n samples of the CCSDS stream data (template 5.42):
// its flags are libaec's, read here bit by bit.
func unpackCCSDS(data []byte, n int, p packing) ([]uint32, error) {
	params := aec.Params{BitsPerSample: p.Bits, BlockSize: p.ccsdsBlock, RSI: p.ccsdsRSI}
	for bit, flag := range map[int]aec.Flags{1: aec.Signed, 2: aec.ThreeByte, 4: aec.MSB, 8: aec.Preprocess, 16: aec.Restricted, 32: aec.PadRSI} {
		if p.ccsdsFlags&bit != 0 {
			params.Flags |= flag
		}
	}
	return aec.Samples(data, n, params)
}

// unpackPNG decodes the PNG image data (template 5.41): n gray (8 or 16
// bits), RGB (24) or RGBA (32) pixels, each a packed integer.
func unpackPNG(data []byte, n, bits int) ([]uint32, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if int64(cfg.Width)*int64(cfg.Height) != int64(n) {
		return nil, fmt.Errorf("%w: a PNG of %d x %d pixels for %d values", ErrFormat, cfg.Width, cfg.Height, n)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	out := make([]uint32, 0, n)
	b := img.Bounds()
	switch im := img.(type) {
	case *image.Gray16: // the usual case: straight from the pixels
		for y := range b.Dy() {
			row := im.Pix[y*im.Stride : y*im.Stride+2*b.Dx()]
			for x := 0; x < len(row); x += 2 {
				out = append(out, uint32(row[x])<<8|uint32(row[x+1]))
			}
		}
		return out, nil
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out = append(out, pixel(img, x, y, bits))
		}
	}
	return out, nil
}

// pixel is the packed integer of one pixel.
func pixel(img image.Image, x, y, bits int) uint32 {
	switch im := img.(type) {
	case *image.Gray: // 1, 2 and 4 bits come scaled to 8
		return uint32(im.GrayAt(x, y).Y) >> (8 - min(bits, 8))
	case *image.Gray16:
		return uint32(im.Gray16At(x, y).Y)
	}
	r, g, b, a := img.At(x, y).RGBA()
	v := r>>8<<16 | g>>8<<8 | b>>8
	if bits == 32 {
		v = v<<8 | a>>8
	}
	return v
}
