package grib

import (
	"encoding/binary"
	"fmt"
)

// complexPacking is what templates 5.2 and 5.3 add to the simple
// packing's fields: the values are split in groups, each a reference
// value and a width, and 5.3 packs differences of neighbouring values.
type complexPacking struct {
	MissingMgmt      int    // 0: none; 1: primary missing values; 2: primary and secondary
	Groups           int    // NG
	WidthRef         int    // reference for group widths
	WidthBits        int    // bits of each group width
	LengthRef        uint32 // reference for group lengths
	LengthIncrement  int
	LastLength       uint32 // true length of the last group
	LengthBits       int    // bits of each scaled group length
	Order            int    // 5.3: order of spatial differencing (1 or 2); 0: none (and 5.2)
	DescriptorOctets int    // 5.3: octets of each extra descriptor
}

// parseComplex reads the fields of templates 5.2 and 5.3 (s is the
// section from its length on).
func (c *complexPacking) parse(template int, s []byte) error {
	need := 47
	if template == 3 {
		need = 49
	}
	if len(s) < need {
		return fmt.Errorf("%w: template 5.%d in %d bytes", ErrFormat, template, len(s))
	}
	*c = complexPacking{
		MissingMgmt: int(s[22]), Groups: int(be32(s[31:])), WidthRef: int(s[35]), WidthBits: int(s[36]),
		LengthRef: be32(s[37:]), LengthIncrement: int(s[41]), LastLength: be32(s[42:]), LengthBits: int(s[46]),
	}
	if template == 3 {
		c.Order, c.DescriptorOctets = int(s[47]), int(s[48])
		if c.Order > 2 { // 0: none (ecCodes writes it; no descriptors follow)
			return fmt.Errorf("%w: spatial differencing of order %d", ErrFormat, c.Order)
		}
		if c.Order > 0 && (c.DescriptorOctets < 1 || c.DescriptorOctets > 4) {
			return fmt.Errorf("%w: extra descriptors of %d octets", ErrFormat, c.DescriptorOctets)
		}
	}
	if c.MissingMgmt > 2 {
		return fmt.Errorf("%w: missing value management %d", ErrFormat, c.MissingMgmt)
	}
	if c.WidthBits > 32 || c.LengthBits > 32 {
		return fmt.Errorf("%w: group widths of %d bits, lengths of %d bits", ErrFormat, c.WidthBits, c.LengthBits)
	}
	return nil
}

// bitReader reads big-endian bit fields of data, failing rather than
// reading past its end.
type bitReader struct {
	data []byte
	pos  int64 // in bits
	err  error
}

// read returns the next n (≤ 32) bits: from one 8-byte load where the
// data has eight bytes left, else byte by byte.
func (r *bitReader) read(n int) uint32 {
	if n == 0 || r.err != nil {
		return 0
	}
	if r.pos+int64(n) > int64(len(r.data))*8 {
		r.err = fmt.Errorf("%w: the data section ends inside its bit fields", ErrFormat)
		return 0
	}
	first := r.pos / 8
	if first+8 <= int64(len(r.data)) {
		v := binary.BigEndian.Uint64(r.data[first:]) << (r.pos % 8) // pos%8 + n ≤ 39 bits
		r.pos += int64(n)
		return uint32(v >> (64 - n))
	}
	var acc uint64
	last := (r.pos + int64(n) - 1) / 8
	for _, b := range r.data[first : last+1] {
		acc = acc<<8 | uint64(b)
	}
	shift := (last+1)*8 - r.pos - int64(n)
	r.pos += int64(n)
	return uint32(acc>>shift) & uint32(1<<n-1)
}

// align moves to the next whole octet.
func (r *bitReader) align() { r.pos = (r.pos + 7) &^ 7 }

// signMagnitude reads an n-octet sign-and-magnitude integer.
func (r *bitReader) signMagnitude(octets int) int64 {
	sign := r.read(1)
	v := int64(r.read(octets*8 - 1))
	if sign == 1 {
		return -v
	}
	return v
}

// unpackComplex decodes the n packed integers of templates 5.2 and 5.3
// (WMO Manual on Codes, regulation 92.9.4 and the notes to templates 7.2
// and 7.3); missing[i] is set where the missing value management says
// value i has none (missing is nil when it cannot).
func unpackComplex(data []byte, n int, p packing) (vals []int64, missing []bool, err error) {
	c := p.complex
	r := &bitReader{data: data}
	var first [2]int64
	var minimum int64
	if c.Order > 0 {
		for i := range c.Order {
			first[i] = r.signMagnitude(c.DescriptorOctets)
		}
		minimum = r.signMagnitude(c.DescriptorOctets)
	}
	if c.Groups < 0 || c.Groups > n || (c.Groups == 0 && n > 0) {
		return nil, nil, fmt.Errorf("%w: %d groups for %d values", ErrFormat, c.Groups, n)
	}
	refs, widths, lengths, err := groups(r, n, p.Bits, c)
	if err != nil {
		return nil, nil, err
	}
	vals = make([]int64, n)
	if c.MissingMgmt > 0 {
		missing = make([]bool, n)
	}
	k := 0
	for g := range refs {
		w, ref, l := widths[g], int64(refs[g]), int(lengths[g])
		for i := k; i < k+l; i++ {
			x := r.read(w)
			vals[i] = ref + int64(x)
			if missing != nil {
				missing[i] = isMissing(x, w, refs[g], p.Bits, c.MissingMgmt)
			}
		}
		k += l
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	if c.Order > 0 {
		undifference(vals, missing, first, minimum, c.Order)
	}
	return vals, missing, nil
}

// groups reads the groups' reference values, widths and lengths, checking
// that the widths are at most 32 bits and the lengths add up to n.
func groups(r *bitReader, n, refBits int, c complexPacking) (refs []uint32, widths []int, lengths []uint32, err error) {
	refs = make([]uint32, c.Groups)
	for g := range refs {
		refs[g] = r.read(refBits)
	}
	r.align()
	widths = make([]int, c.Groups)
	for g := range widths {
		widths[g] = c.WidthRef + int(r.read(c.WidthBits))
		if widths[g] > 32 {
			return nil, nil, nil, fmt.Errorf("%w: group %d is %d bits wide", ErrFormat, g, widths[g])
		}
	}
	r.align()
	lengths = make([]uint32, c.Groups)
	total := int64(0)
	for g := range lengths {
		l := int64(c.LengthRef) + int64(r.read(c.LengthBits))*int64(c.LengthIncrement)
		if g == c.Groups-1 {
			l = int64(c.LastLength)
		}
		total += l
		if total > int64(n) {
			return nil, nil, nil, fmt.Errorf("%w: groups longer than the %d values", ErrFormat, n)
		}
		lengths[g] = uint32(l)
	}
	r.align()
	if r.err != nil {
		return nil, nil, nil, r.err
	}
	if total != int64(n) {
		return nil, nil, nil, fmt.Errorf("%w: groups of %d values in all, %d declared", ErrFormat, total, n)
	}
	return refs, widths, lengths, nil
}

// isMissing applies the missing value management: a group of width 0
// whose reference is all ones (primary) or all ones but one (secondary)
// is missing throughout; in a wider group, a value of all ones or all ones
// but one is.
func isMissing(x uint32, width int, ref uint32, refBits, mgmt int) bool {
	v, bits := x, width
	if width == 0 {
		v, bits = ref, refBits
	}
	if bits == 0 {
		return false
	}
	ones := uint32(1<<bits - 1)
	return v == ones || (mgmt == 2 && v == ones-1)
}

// undifference undoes spatial differencing of order 1 or 2 over the
// values that are not missing: the first order values are given, each
// later one is its difference plus the overall minimum plus its
// predecessor (order 1) or twice its predecessor less the one before that
// (order 2).
func undifference(vals []int64, missing []bool, first [2]int64, minimum int64, order int) {
	var prev [2]int64 // the last two values, most recent first
	seen := 0
	for i := range vals {
		if missing != nil && missing[i] {
			continue
		}
		switch {
		case seen < order:
			vals[i] = first[seen]
		case order == 1:
			vals[i] += minimum + prev[0]
		default:
			vals[i] += minimum + 2*prev[0] - prev[1]
		}
		prev[1], prev[0] = prev[0], vals[i]
		seen++
	}
}
