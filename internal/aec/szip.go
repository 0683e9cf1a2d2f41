package aec

import "fmt"

// The szip option bits (szlib.h; HDF5's H5_SZIP_*_OPTION_MASK) that
// change how a stream decodes.
const (
	SzipMSB = 16 // samples most significant byte first
	SzipNN  = 32 // nearest-neighbour preprocessing
)

// SzipParams are the parameters of an szip buffer, as HDF5's szip filter
// keeps them in its client data: the options mask, pixels per block, bits
// per pixel and pixels per scanline.
type SzipParams struct {
	Options, PixelsPerBlock, BitsPerPixel, PixelsPerScanline int
}

// Szip decodes src, an szip buffer (libaec's SZ_BufftoBuffDecompress
// input), into dst, which it fills exactly. Pixels of 32 and 64 bits are
// coded as byte planes of 8-bit samples; scanlines whose pixels are not a
// whole number of blocks were padded to one, and lose the padding here.
func Szip(dst, src []byte, sp SzipParams) error {
	bpp, ppb, pps := sp.BitsPerPixel, sp.PixelsPerBlock, sp.PixelsPerScanline
	if ppb <= 0 || pps <= 0 || bpp <= 0 || bpp > 64 || bpp > 32 && bpp != 64 {
		return fmt.Errorf("aec: szip with %d pixels per block, %d per scanline, %d bits per pixel", ppb, pps, bpp)
	}
	p := Params{BitsPerSample: bpp, BlockSize: ppb, RSI: (pps + ppb - 1) / ppb}
	if sp.Options&SzipMSB != 0 {
		p.Flags |= MSB
	}
	if sp.Options&SzipNN != 0 {
		p.Flags |= Preprocess
	}
	planes := bpp == 32 || bpp == 64
	if planes {
		p.BitsPerSample = 8
	}
	if err := p.check(); err != nil {
		return fmt.Errorf("szip: %w", err)
	}
	size := p.BytesPerSample()
	if len(dst)%size != 0 || planes && len(dst)%(bpp/8) != 0 {
		return fmt.Errorf("aec: szip: %d bytes of output for pixels of %d bits", len(dst), bpp)
	}
	buf := dst
	padded := pps%ppb != 0
	line := pps * size
	if padded || planes {
		n := len(dst)
		if padded { // every scanline was coded as RSI whole blocks
			lines := (len(dst)/size + pps - 1) / pps
			n = lines * p.RSI * ppb * size
		}
		buf = make([]byte, n)
	}
	if err := Decode(buf, src, p); err != nil {
		return err
	}
	if padded {
		step := p.RSI * ppb * size
		for i, at := 0, 0; at < len(dst); i, at = i+1, at+line {
			copy(buf[at:min(at+line, len(dst))], buf[i*step:])
		}
	}
	switch {
	case planes:
		w := bpp / 8
		n := len(dst) / w
		for i := range n {
			for j := range w {
				dst[i*w+j] = buf[j*n+i]
			}
		}
	case padded:
		copy(dst, buf)
	}
	return nil
}
