// Package checksum holds the checksums that more than one format uses.
package checksum

// Fletcher32 is HDF5's Fletcher-32 over big-endian 16-bit words: what
// HDF5's fletcher32 filter and numcodecs' Fletcher32 codec append to a
// chunk (little-endian).
func Fletcher32(data []byte) uint32 {
	var sum1, sum2 uint32
	words := len(data) / 2
	for words > 0 {
		n := min(words, 360)
		words -= n
		for ; n > 0; n-- {
			sum1 += uint32(data[0])<<8 | uint32(data[1])
			data = data[2:]
			sum2 += sum1
		}
		sum1 = sum1&0xffff + sum1>>16
		sum2 = sum2&0xffff + sum2>>16
	}
	if len(data) == 1 {
		sum1 += uint32(data[0]) << 8
		sum2 += sum1
		sum1 = sum1&0xffff + sum1>>16
		sum2 = sum2&0xffff + sum2>>16
	}
	sum1 = sum1&0xffff + sum1>>16
	sum2 = sum2&0xffff + sum2>>16
	return sum2<<16 | sum1
}
