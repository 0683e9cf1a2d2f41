package aec_test

import (
	"fmt"

	"github.com/zarrforge/zarrforge/internal/aec"
)

// Decode four 4-bit samples: two intervals of one uncompressed block of
// two samples each (the block's option 111, then the samples).
func ExampleDecode() {
	p := aec.Params{BitsPerSample: 4, BlockSize: 2, RSI: 1, Flags: aec.PadRSI}
	samples := make([]byte, 4*p.BytesPerSample())
	err := aec.Decode(samples, []byte{0b1110_1011, 0b0100_0000, 0b1110_0111, 0b1000_0000}, p)
	fmt.Println(samples, err)
	// Output: [5 10 3 12] <nil>
}
