package netcdf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync/atomic"

	"github.com/zarrforge/zarrforge/internal/nd"
	"github.com/zarrforge/zarrforge/source"
)

// classic is a netCDF classic-format file (CDF-1, CDF-2 or CDF-5).
type classic struct {
	r       io.ReaderAt
	size    int64
	name    string
	version byte
	dims    []Dim
	attrs   []Attr
	vars    []classicVar
	recSize int64 // bytes per record, over all record variables
	numRecs int64
	decoded atomic.Int64
}

type classicVar struct {
	Var
	dimIDs []int
	begin  int64
	record bool
}

const (
	tagDimension = 0x0A
	tagVariable  = 0x0B
	tagAttribute = 0x0C
	streaming    = 0xFFFFFFFF
)

// headerReader decodes the header through a buffered view of the file and
// remembers where it failed.
type headerReader struct {
	f    *classic
	buf  []byte
	base int64 // file offset of buf[0]
	pos  int64 // file offset of the next byte
	err  error
	what string // structure being read, for errors
}

func (h *headerReader) fail(format string, args ...any) {
	if h.err == nil {
		h.err = fmt.Errorf("netcdf: %s: %s at offset %d: %s: %w", h.f.name, h.what, h.pos, fmt.Sprintf(format, args...), ErrFormat)
	}
}

// next returns the next n bytes of the file.
func (h *headerReader) next(n int64) []byte {
	if h.err != nil {
		return nil
	}
	if n < 0 || h.pos+n > h.f.size {
		h.fail("needs %d bytes but the file ends at %d (truncated?)", n, h.f.size)
		return nil
	}
	if h.pos < h.base || h.pos+n > h.base+int64(len(h.buf)) {
		want := max(n, 64<<10)
		want = min(want, h.f.size-h.pos)
		buf := make([]byte, want)
		if k, err := h.f.r.ReadAt(buf, h.pos); int64(k) < n {
			h.fail("read failed: %v", err)
			return nil
		} else {
			buf = buf[:k]
		}
		h.buf, h.base = buf, h.pos
	}
	b := h.buf[h.pos-h.base : h.pos-h.base+n]
	h.pos += n
	return b
}

func (h *headerReader) u32() uint32 {
	b := h.next(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (h *headerReader) u64() uint64 {
	b := h.next(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// count reads a NON_NEG count: 32 bits, or 64 in CDF-5.
func (h *headerReader) count() int64 {
	var v uint64
	if h.f.version == 5 {
		v = h.u64()
	} else {
		v = uint64(h.u32())
	}
	if v > math.MaxInt64/2 {
		h.fail("count %d is too large", v)
		return 0
	}
	return int64(v)
}

// offset reads a variable's begin offset: 32 bits in CDF-1, 64 otherwise.
func (h *headerReader) offset() int64 {
	var v uint64
	if h.f.version == 1 {
		v = uint64(h.u32())
	} else {
		v = h.u64()
	}
	if v > math.MaxInt64/2 {
		h.fail("offset %d is too large", v)
		return 0
	}
	return int64(v)
}

func pad4(n int64) int64 { return (n + 3) &^ 3 }

func (h *headerReader) name() string {
	n := h.count()
	if h.err == nil && n > h.f.size {
		h.fail("name length %d exceeds the file size", n)
	}
	b := h.next(pad4(n))
	if b == nil {
		return ""
	}
	name := b[:n]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i] // netCDF-C ends a name at its first NUL (old writers padded names inside their length)
	}
	return string(name)
}

// listHeader reads a list's tag and length; ABSENT (two zero words) gives 0.
func (h *headerReader) listHeader(tag uint32, what string) int64 {
	h.what = what
	t := h.u32()
	n := h.count()
	if h.err != nil {
		return 0
	}
	if t == 0 && n == 0 {
		return 0
	}
	if t != tag {
		h.fail("tag %#x, want %#x", t, tag)
		return 0
	}
	// Every element takes at least 8 bytes; a count beyond that is corrupt.
	if n > (h.f.size-h.pos)/8+1 {
		h.fail("%d elements cannot fit in the file", n)
		return 0
	}
	return n
}

func openClassic(r io.ReaderAt, size int64, name string) (File, error) {
	f := &classic{r: r, size: size, name: name}
	h := &headerReader{f: f, what: "magic"}
	magic := h.next(4)
	if h.err != nil {
		return nil, h.err
	}
	f.version = magic[3]
	if f.version != 1 && f.version != 2 && f.version != 5 {
		return nil, fmt.Errorf("netcdf: %s: unknown classic format version %d: %w", name, f.version, ErrFormat)
	}
	h.what = "numrecs"
	var numRecs uint64
	if f.version == 5 {
		numRecs = h.u64()
	} else {
		numRecs = uint64(h.u32())
	}
	if err := f.readHeader(h); err != nil {
		return nil, err
	}
	if err := f.layout(numRecs); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *classic) readHeader(h *headerReader) error {
	n := h.listHeader(tagDimension, "dimension list")
	for i := int64(0); i < n && h.err == nil; i++ {
		h.what = fmt.Sprintf("dimension %d", i)
		d := Dim{Name: h.name()}
		d.Len = h.count()
		if d.Len == 0 {
			d.Unlimited = true
		}
		f.dims = append(f.dims, d)
	}
	f.attrs = h.attrList("global attributes")
	n = h.listHeader(tagVariable, "variable list")
	for i := int64(0); i < n && h.err == nil; i++ {
		h.what = fmt.Sprintf("variable %d", i)
		v := classicVar{}
		v.Name = h.name()
		h.what = fmt.Sprintf("variable %q", v.Name)
		rank := h.count()
		if rank > int64(len(f.dims)) && h.err == nil {
			h.fail("rank %d but only %d dimensions exist", rank, len(f.dims))
		}
		for j := int64(0); j < rank && h.err == nil; j++ {
			id := h.count()
			if id < 0 || id >= int64(len(f.dims)) {
				h.fail("dimension id %d out of range", id)
				break
			}
			v.dimIDs = append(v.dimIDs, int(id))
		}
		v.Attrs = h.attrList(fmt.Sprintf("attributes of variable %q", v.Name))
		h.what = fmt.Sprintf("variable %q", v.Name)
		v.Type = Type(h.u32())
		if h.err == nil && !f.validType(v.Type) {
			h.fail("unknown type %d", int(v.Type))
		}
		h.count() // vsize: recomputed from the shape, since it saturates for large variables
		v.begin = h.offset()
		f.vars = append(f.vars, v)
	}
	if h.err != nil {
		return h.err
	}
	return f.checkNames()
}

// checkNames refuses a header that gives two dimensions, two variables or
// two attributes of one list the same name (netCDF-C never writes one).
func (f *classic) checkNames() error {
	dup := func(what, name string) error {
		return fmt.Errorf("netcdf: %s: two %s are named %q (%w)", f.name, what, name, ErrFormat)
	}
	attrName := func(a Attr) string { return a.Name }
	if n, ok := firstDuplicate(f.dims, func(d Dim) string { return d.Name }); ok {
		return dup("dimensions", n)
	}
	if n, ok := firstDuplicate(f.vars, func(v classicVar) string { return v.Name }); ok {
		return dup("variables", n)
	}
	if n, ok := firstDuplicate(f.attrs, attrName); ok {
		return dup("global attributes", n)
	}
	for _, v := range f.vars {
		if n, ok := firstDuplicate(v.Attrs, attrName); ok {
			return dup(fmt.Sprintf("attributes of variable %q", v.Name), n)
		}
	}
	return nil
}

// firstDuplicate returns the first name of xs that an earlier one has too.
func firstDuplicate[T any](xs []T, name func(T) string) (string, bool) {
	seen := make(map[string]bool, len(xs))
	for _, x := range xs {
		n := name(x)
		if seen[n] {
			return n, true
		}
		seen[n] = true
	}
	return "", false
}

func (f *classic) validType(t Type) bool {
	if t >= Byte && t <= Double {
		return true
	}
	return f.version == 5 && t >= UByte && t <= UInt64
}

func (h *headerReader) attrList(what string) []Attr {
	n := h.listHeader(tagAttribute, what)
	var attrs []Attr
	for i := int64(0); i < n && h.err == nil; i++ {
		h.what = fmt.Sprintf("%s: attribute %d", what, i)
		a := Attr{Name: h.name()}
		h.what = fmt.Sprintf("%s: attribute %q", what, a.Name)
		a.Type = Type(h.u32())
		if h.err == nil && !h.f.validType(a.Type) {
			h.fail("unknown type %d", int(a.Type))
			break
		}
		nelems := h.count()
		if h.err == nil && nelems > h.f.size {
			h.fail("%d values cannot fit in the file", nelems)
			break
		}
		raw := h.next(pad4(nelems * int64(a.Type.Size())))
		if raw == nil {
			break
		}
		raw = raw[:nelems*int64(a.Type.Size())]
		if a.Type == Char {
			a.Value = strings.TrimRight(string(raw), "\x00")
		} else {
			a.Value = decodeBigEndian(a.Type, raw)
		}
		attrs = append(attrs, a)
	}
	return attrs
}

// decodeBigEndian turns big-endian raw values into the Go slice Attr uses.
func decodeBigEndian(t Type, raw []byte) any {
	le := make([]byte, len(raw))
	copy(le, raw)
	nd.SwapBytes(le, t.Size())
	a, _ := source.AttrFromRaw("", t, le)
	return a.Value
}

// layout resolves shapes, the record size and the number of records, and
// checks every variable's data lies inside the file.
func (f *classic) layout(numRecs uint64) error {
	var recVars []*classicVar
	for i := range f.vars {
		v := &f.vars[i]
		for j, id := range v.dimIDs {
			d := f.dims[id]
			if d.Unlimited && j != 0 {
				return fmt.Errorf("netcdf: %s: variable %q: the unlimited dimension must come first: %w", f.name, v.Name, ErrFormat)
			}
			v.Dims = append(v.Dims, d.Name)
			v.Shape = append(v.Shape, d.Len)
		}
		v.record = len(v.dimIDs) > 0 && f.dims[v.dimIDs[0]].Unlimited
		if v.record {
			recVars = append(recVars, v)
		}
	}
	for _, v := range recVars {
		n, ok := v.innerBytes()
		if !ok {
			return fmt.Errorf("netcdf: %s: variable %q: record size overflows: %w", f.name, v.Name, ErrFormat)
		}
		if len(recVars) > 1 {
			n = pad4(n)
		}
		f.recSize += n
	}
	switch {
	case numRecs == streaming && f.version != 5 || numRecs == math.MaxUint64:
		if len(recVars) > 0 && f.recSize > 0 {
			f.numRecs = (f.size - recVars[0].begin) / f.recSize
		}
	case numRecs > math.MaxInt64/2:
		return fmt.Errorf("netcdf: %s: numrecs %d is too large: %w", f.name, numRecs, ErrFormat)
	default:
		f.numRecs = int64(numRecs)
	}
	for i := range f.dims {
		if f.dims[i].Unlimited {
			f.dims[i].Len = f.numRecs
		}
	}
	for i := range f.vars {
		v := &f.vars[i]
		if v.record {
			v.Shape[0] = f.numRecs
		}
		inner, ok := v.innerBytes()
		end := v.begin + inner
		if v.record && f.numRecs == 0 {
			// No records: the variable holds no bytes, wherever it would
			// begin (netCDF-C places record variables as if there were one
			// record, so the second begins beyond the end of the file).
			if !ok || v.begin < 0 {
				return fmt.Errorf("netcdf: %s: variable %q: bad record layout: %w", f.name, v.Name, ErrFormat)
			}
			continue
		}
		if v.record && f.numRecs > 0 {
			if f.recSize > 0 && f.numRecs-1 > (math.MaxInt64/2-inner-v.begin)/f.recSize {
				ok = false
			} else {
				end = v.begin + (f.numRecs-1)*f.recSize + inner
			}
		}
		if !ok || v.begin < 0 || end > f.size || end < v.begin {
			return fmt.Errorf("netcdf: %s: variable %q: data at offset %d..%d beyond end of file (size %d) (truncated?): %w",
				f.name, v.Name, v.begin, end, f.size, ErrFormat)
		}
	}
	return nil
}

// innerBytes returns the size of the variable (of one record, for record
// variables), and false on overflow.
func (v *classicVar) innerBytes() (int64, bool) {
	shape := v.Shape
	if v.record {
		shape = shape[1:]
	}
	n, ok := product(shape)
	if !ok || n > math.MaxInt64/int64(v.Type.Size()) {
		return 0, false
	}
	return n * int64(v.Type.Size()), true
}

// product returns the product of sizes, and false if one is negative or
// the product overflows.
func product(sizes []int64) (int64, bool) {
	n := int64(1)
	for _, s := range sizes {
		if s < 0 || s != 0 && n > math.MaxInt64/s {
			return 0, false
		}
		n *= s
	}
	return n, true
}

func (f *classic) Format() string { return fmt.Sprintf("CDF-%d", f.version) }
func (f *classic) Dims() []Dim    { return append([]Dim(nil), f.dims...) }
func (f *classic) Attrs() []Attr  { return append([]Attr(nil), f.attrs...) }

func (f *classic) Decoded() int64 { return f.decoded.Load() }

func (f *classic) Vars() []Var {
	out := make([]Var, len(f.vars))
	for i, v := range f.vars {
		out[i] = v.Var
	}
	return out
}

// ReadStrings fails: the classic formats have no String type.
func (f *classic) ReadStrings(name string, _, _ []int64) ([]string, error) {
	return nil, fmt.Errorf("netcdf: %s: variable %q is not a string variable (the classic formats have none)", f.name, name)
}

func (f *classic) Read(name string, start, count []int64, dst []byte) error {
	var v *classicVar
	for i := range f.vars {
		if f.vars[i].Name == name {
			v = &f.vars[i]
		}
	}
	if v == nil {
		return fmt.Errorf("netcdf: %s: no variable %q", f.name, name)
	}
	size := int64(v.Type.Size())
	if err := checkSlab(v.Shape, start, count, size, len(dst)); err != nil {
		return fmt.Errorf("netcdf: %s: variable %q: %w", f.name, name, err)
	}
	if len(dst) == 0 {
		return nil
	}
	f.decoded.Add(int64(len(dst)))
	rank := len(v.Shape)
	// nat[i] is the byte size of one step along dimension i when the inner
	// dimensions are laid out contiguously; stride[i] is the step in the
	// file, which differs for the record dimension when there are several
	// record variables.
	nat := make([]int64, rank)
	stride := make([]int64, rank)
	s := size
	for i := rank - 1; i >= 0; i-- {
		nat[i], stride[i] = s, s
		s *= v.Shape[i]
	}
	if v.record {
		stride[0] = f.recSize
	}
	// The run: trailing dimensions read whole and laid out contiguously merge
	// into one ReadAt.
	k := rank - 1
	for k > 0 && count[k] == v.Shape[k] && stride[k-1] == nat[k-1] {
		k--
	}
	// Dimensions [0, outer) are iterated; each ReadAt reads run bytes.
	outer, run := 0, size
	if rank > 0 {
		outer, run = k, count[k]*nat[k]
		if stride[k] != nat[k] { // records are not adjacent: one at a time
			outer, run = k+1, nat[k]
		}
	}
	idx := make([]int64, outer)
	var pos int64
	for {
		off := v.begin
		for i := 0; i < outer; i++ {
			off += (start[i] + idx[i]) * stride[i]
		}
		if outer < rank {
			off += start[outer] * stride[outer]
		}
		if err := f.readAt(dst[pos:pos+run], off, name); err != nil {
			return err
		}
		pos += run
		i := outer - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < count[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			break
		}
	}
	nd.SwapBytes(dst, int(size))
	return nil
}

func (f *classic) readAt(p []byte, off int64, name string) error {
	if off+int64(len(p)) > f.size {
		return fmt.Errorf("netcdf: %s: variable %q: data at offset %d..%d beyond end of file (size %d): %w",
			f.name, name, off, off+int64(len(p)), f.size, ErrFormat)
	}
	n, err := f.r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("netcdf: %s: variable %q: reading %d bytes at offset %d: %w", f.name, name, len(p), off, err)
}

// checkSlab validates a hyperslab against a shape and the destination size.
func checkSlab(shape, start, count []int64, itemSize int64, dstLen int) error {
	n, err := source.CheckBox(shape, start, count)
	if err != nil {
		return err
	}
	if n*itemSize != int64(dstLen) {
		return fmt.Errorf("destination has %d bytes, the hyperslab %d", dstLen, n*itemSize)
	}
	return nil
}
