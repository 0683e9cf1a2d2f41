package zarr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/zarrforge/zarrforge/internal/nd"
	"github.com/zarrforge/zarrforge/source"
)

// readGroupAttrs reads the attributes of the group read: its .zattrs (v2)
// or the attributes of its zarr.json (v3).
func (in *input) readGroupAttrs() error {
	key := in.prefix + ".zattrs"
	if in.format == 3 {
		key = in.prefix + v3Meta
	}
	attrs, err := in.attrsAt(key)
	if err != nil {
		return fmt.Errorf("%s: %s: %w (%w)", in.name, key, err, source.ErrFormat)
	}
	in.attrs, err = sourceAttrs(attrs, "the group")
	if err != nil {
		return fmt.Errorf("%s: %w", in.name, err)
	}
	return nil
}

// exactAttrs returns the attributes of the array at path but for those
// its metadata holds (the dimension names; in v3 the _FillValue), numbers
// as written (json.Number: 60.0 stays a float, 60 an integer).
func (in *input) exactAttrs(path string) (map[string]any, error) {
	key := path + "/.zattrs"
	if in.format == 3 {
		key = path + "/" + v3Meta
	}
	attrs, err := in.attrsAt(key)
	delete(attrs, dimsAttr)
	if in.format == 3 {
		delete(attrs, fillAttr)
	}
	return attrs, err
}

// attrsAt reads the attributes at key: a .zattrs document, or the
// attributes of a zarr.json; none when it is missing.
func (in *input) attrsAt(key string) (map[string]any, error) {
	b, err := in.st.Get(in.ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]any{}, nil
	}
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(quoteSpecialFloats(b)))
	d.UseNumber()
	var doc map[string]any
	if err := d.Decode(&doc); err != nil {
		return nil, err
	}
	if in.format == 3 {
		if doc, _ = doc["attributes"].(map[string]any); doc == nil {
			return map[string]any{}, nil
		}
	}
	for k, v := range doc {
		doc[k] = unquote(v, true)
	}
	return doc, nil
}

// addArray makes array a of the group read a variable, as xarray reads
// it; own reads the arrays' own metadata where the consolidated metadata
// stood in for it.
func (in *input) addArray(a string, own source.Objects) error {
	path := in.prefix + a
	meta, _, err := ReadArrayMeta(in.ctx, in.st, path)
	if err != nil { // it names the array
		return fmt.Errorf("%s: %w (%w)", in.name, err, source.ErrFormat)
	}
	attrs, err := in.exactAttrs(path)
	if err != nil {
		return fmt.Errorf("%s: array %q: %w (%w)", in.name, a, err, source.ErrFormat)
	}
	if err := in.checkConsolidated(path, meta, own); err != nil {
		return err
	}
	t, err := in.checkArray(a, meta)
	if err != nil {
		return err
	}
	v := source.Var{Name: a, Type: t, Dims: meta.Dims, Shape: meta.Shape, Chunks: meta.Chunks}
	if v.Attrs, err = sourceAttrs(attrs, fmt.Sprintf("array %q", a)); err != nil {
		return fmt.Errorf("%s: %w", in.name, err)
	}
	if meta.FillValue != nil { // what xarray reads as _FillValue
		fill, err := fillValueAttr(meta.FillValue, t)
		if err != nil {
			return fmt.Errorf("%s: array %q: %w", in.name, a, err)
		}
		v.Attrs = append(v.Attrs, fill)
	}
	for i, d := range meta.Dims {
		if err := in.addDim(d, meta.Shape[i], a); err != nil {
			return err
		}
	}
	in.arrays[a] = meta
	in.vars = append(in.vars, v)
	return nil
}

// checkConsolidated checks the consolidated metadata's account of the
// array at path against the array's own metadata: a tool that changed an
// array without consolidating again leaves them apart.
func (in *input) checkConsolidated(path string, meta ArrayMeta, own source.Objects) error {
	if !in.consolidated {
		return nil
	}
	mine, _, err := ReadArrayMeta(in.ctx, readOnly{o: own}, path)
	if err != nil {
		return fmt.Errorf("%s: array %q is in the consolidated metadata but its own metadata cannot be read: %w (%w)",
			in.name, path, err, source.ErrFormat)
	}
	if !slices.Equal(mine.Shape, meta.Shape) || !slices.Equal(mine.Chunks, meta.Chunks) || mine.DType != meta.DType {
		return fmt.Errorf("%s: array %q: the consolidated metadata says shape %v in chunks of %v (%s), its own metadata "+
			"shape %v in chunks of %v (%s): consolidate the store again (zarr.consolidate_metadata) (%w)",
			in.name, path, meta.Shape, meta.Chunks, meta.DType, mine.Shape, mine.Chunks, mine.DType, source.ErrFormat)
	}
	return nil
}

// checkArray checks that array a can be read here, within the memory
// limit, and returns its type.
func (in *input) checkArray(a string, meta ArrayMeta) (source.Type, error) {
	if err := errors.Join(meta.validate(), meta.inputCodable()); err != nil {
		return 0, fmt.Errorf("%s: array %q: %w (%w)", in.name, a, err, source.ErrUnsupported)
	}
	if meta.Dims == nil && len(meta.Shape) > 0 {
		return 0, fmt.Errorf("%s: array %q has no dimension names (_ARRAY_DIMENSIONS in v2, dimension_names in v3): "+
			"xarray cannot open it either (%w)", in.name, a, source.ErrFormat)
	}
	t, err := sourceType(meta.DType)
	if err != nil {
		return 0, fmt.Errorf("%s: array %q: %w", in.name, a, err)
	}
	size := int64(max(meta.DType.ItemSize(), 1))
	if meta.DType == Strings {
		size = 1 // counted by elements: each a string of a few bytes at least
	}
	n := int64(1)
	for _, c := range meta.Chunks {
		if n = boundedMul(n, c, in.limit/size); n < 0 {
			return 0, fmt.Errorf("%s: array %q: stored chunks of %v %s are more than the %d bytes one may take (%w)",
				in.name, a, meta.Chunks, meta.DType, in.limit, source.ErrTooLarge)
		}
	}
	return t, nil
}

// addDim records dimension d of length n, as array a has it.
func (in *input) addDim(d string, n int64, a string) error {
	for _, have := range in.dims {
		if have.Name == d {
			if have.Len != n {
				return fmt.Errorf("%s: dimension %q has length %d in one array and %d in array %q (%w)",
					in.name, d, have.Len, n, a, source.ErrFormat)
			}
			return nil
		}
	}
	in.dims = append(in.dims, source.Dim{Name: d, Len: n})
	return nil
}

// sourceType is the type of a variable of dtype dt.
func sourceType(dt DType) (source.Type, error) {
	if dt == Strings {
		return source.String, nil
	}
	types := map[string]source.Type{"i1": source.Byte, "i2": source.Short, "i4": source.Int, "i8": source.Int64,
		"u1": source.UByte, "u2": source.UShort, "u4": source.UInt, "u8": source.UInt64,
		"f4": source.Float, "f8": source.Double, "S1": source.Char}
	if t, ok := types[string(dt[1:])]; ok {
		return t, nil
	}
	return 0, fmt.Errorf("dtype %q is not read here (%w)", dt, source.ErrUnsupported)
}

// sourceAttrs turns attributes as JSON gives them into typed ones, sorted
// by name: strings as text, lists of strings as strings, whole numbers
// as int64 and others as float64. of names their owner in messages.
func sourceAttrs(attrs map[string]any, of string) ([]source.Attr, error) {
	var out []source.Attr
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		a, err := sourceAttr(k, attrs[k])
		if err != nil {
			return nil, fmt.Errorf("%s: attribute %q: %w", of, k, err)
		}
		out = append(out, a)
	}
	return out, nil
}

func sourceAttr(name string, v any) (source.Attr, error) {
	switch x := v.(type) {
	case string:
		return source.Attr{Name: name, Type: source.Char, Value: x}, nil
	case bool:
		b := int8(0)
		if x {
			b = 1
		}
		return source.Attr{Name: name, Type: source.Byte, Value: []int8{b}}, nil
	case float64, json.Number:
		return numbersAttr(name, []any{x})
	case []any:
		if len(x) > 0 && slices.IndexFunc(x, func(e any) bool { _, ok := e.(string); return !ok }) < 0 {
			strs := make([]string, len(x))
			for i, e := range x {
				strs[i] = e.(string)
			}
			return source.Attr{Name: name, Type: source.String, Value: strs}, nil
		}
		return numbersAttr(name, x)
	}
	return source.Attr{}, fmt.Errorf("%v is neither text nor numbers (%w)", v, source.ErrUnsupported)
}

// numbersAttr is a numeric attribute: int64 when every value is whole
// (and exact in float64), else float64.
func numbersAttr(name string, vals []any) (source.Attr, error) {
	fs := make([]float64, len(vals))
	whole := true
	for i, e := range vals {
		switch x := e.(type) {
		case float64:
			fs[i] = x
		case json.Number:
			f, err := x.Float64()
			if err != nil {
				return source.Attr{}, err
			}
			fs[i] = f
			whole = whole && !strings.ContainsAny(string(x), ".eE")
			continue
		default:
			return source.Attr{}, fmt.Errorf("a list of %v is neither text nor numbers (%w)", vals, source.ErrUnsupported)
		}
		whole = whole && fs[i] == math.Trunc(fs[i]) && math.Abs(fs[i]) < 1<<53
	}
	if whole {
		ints := make([]int64, len(fs))
		for i, f := range fs {
			ints[i] = int64(f)
		}
		return source.Attr{Name: name, Type: source.Int64, Value: ints}, nil
	}
	return source.Attr{Name: name, Type: source.Double, Value: fs}, nil
}

// fillValueAttr is the _FillValue attribute of a variable of type t whose
// fill value is v (an int64, a uint64, a float64 or a string).
func fillValueAttr(v any, t source.Type) (source.Attr, error) {
	f, isNum := toFloat(v)
	values := map[source.Type]any{
		source.Byte: []int8{int8(f)}, source.UByte: []uint8{uint8(f)}, source.Short: []int16{int16(f)},
		source.UShort: []uint16{uint16(f)}, source.Int: []int32{int32(f)}, source.UInt: []uint32{uint32(f)},
		source.Int64: []int64{int64(f)}, source.UInt64: []uint64{uint64(f)}, source.Float: []float32{float32(f)},
		source.Double: []float64{f},
	}
	switch x := v.(type) {
	case int64:
		values[source.Int64] = []int64{x}
	case uint64:
		values[source.UInt64] = []uint64{x}
	case string:
		if t == source.Char {
			return source.Attr{Name: fillAttr, Type: source.Char, Value: x}, nil
		}
	}
	if vals, ok := values[t]; ok && isNum {
		return source.Attr{Name: fillAttr, Type: t, Value: vals}, nil
	}
	return source.Attr{}, fmt.Errorf("fill value %v does not suit a variable of %s (%w)", v, t, source.ErrFormat)
}

// Format, FileType, Dims, Vars, Attrs, Decoded: see source.Reader.
func (in *input) Format() string {
	return fmt.Sprintf("Zarr v%d", in.format)
}
func (in *input) FileType() string     { return FileType }
func (in *input) Dims() []source.Dim   { return in.dims }
func (in *input) Vars() []source.Var   { return in.vars }
func (in *input) Attrs() []source.Attr { return in.attrs }
func (in *input) Decoded() int64       { return in.decoded.Load() }

// StoredEncoding says how variable name's chunks are stored, for copying
// them as they are: not for shards, filters, big-endian values or strings.
func (in *input) StoredEncoding(name string) (source.Encoding, bool) {
	m, ok := in.arrays[name]
	if !ok || m.Inner != nil || len(m.Filters) > 0 || m.bigEndian() || m.DType == Strings {
		return source.Encoding{}, false
	}
	return source.Encoding{DType: string(m.DType), Chunks: m.Chunks, Compressor: m.Compressor.Spec()}, true
}

// OpenStoredChunk streams chunk idx of variable name as stored.
func (in *input) OpenStoredChunk(name string, idx []int64) (io.ReadCloser, error) {
	m, ok := in.arrays[name]
	if !ok {
		return nil, fmt.Errorf("%s: no variable %q", in.name, name)
	}
	return in.st.o.Open(in.ctx, m.Key(in.prefix+name, idx))
}

// Layout says where a variable's values lie, for references: not offered
// for Zarr inputs (their chunks are objects already).
func (in *input) Layout(name string) (source.Layout, error) {
	return source.Layout{}, fmt.Errorf("%s: variable %q: references to the chunks of a Zarr store input are not written (%w)",
		in.name, name, source.ErrUnsupported)
}

// Read reads a hyperslab of a numeric or character variable: see
// source.Reader. Each stored chunk (shard) it touches is fetched and
// decoded whole; one never written reads as the array's fill.
func (in *input) Read(name string, start, count []int64, dst []byte) error {
	meta, err := in.box(name, start, count)
	if err != nil {
		return err
	}
	if meta.DType == Strings {
		return fmt.Errorf("%s: variable %q holds strings: read it with ReadStrings", in.name, name)
	}
	size := meta.DType.ItemSize()
	if int64(len(dst)) != elements(count)*int64(size) {
		return fmt.Errorf("%s: variable %q: %d bytes for %v values of %d bytes", in.name, name, len(dst), count, size)
	}
	return eachChunk(meta, start, count, func(idx, at, lo, n []int64) error {
		raw, err := in.chunk(name, meta, idx)
		if err != nil {
			return err
		}
		nd.CopyBox(dst, count, sub(lo, start), raw, meta.Chunks, sub(lo, at), n, size)
		return nil
	})
}

// ReadStrings reads a hyperslab of a variable of strings: see
// source.Reader.
func (in *input) ReadStrings(name string, start, count []int64) ([]string, error) {
	meta, err := in.box(name, start, count)
	if err != nil {
		return nil, err
	}
	if meta.DType != Strings {
		return nil, fmt.Errorf("%s: variable %q does not hold strings", in.name, name)
	}
	out := make([]string, elements(count))
	err = eachChunk(meta, start, count, func(idx, at, lo, n []int64) error {
		key := meta.Key(in.prefix+name, idx)
		data, err := in.st.Get(in.ctx, key)
		strs := make([]string, elements(meta.Chunks))
		switch {
		case errors.Is(err, fs.ErrNotExist): // never written: ""
		case err != nil:
			return fmt.Errorf("%s: %s: %w", in.name, key, err)
		default:
			if strs, err = DecodeStrings(meta, data); err != nil {
				return fmt.Errorf("%s: %s: %w (%w)", in.name, key, err, source.ErrFormat)
			}
		}
		nd.CopyBox(out, count, sub(lo, start), strs, meta.Chunks, sub(lo, at), n, 1)
		return nil
	})
	return out, err
}

// box checks a read of variable name and returns its array.
func (in *input) box(name string, start, count []int64) (ArrayMeta, error) {
	meta, ok := in.arrays[name]
	if !ok {
		return ArrayMeta{}, fmt.Errorf("%s: no variable %q", in.name, name)
	}
	if _, err := source.CheckBox(meta.Shape, start, count); err != nil {
		return ArrayMeta{}, fmt.Errorf("%s: variable %q: %w", in.name, name, err)
	}
	return meta, nil
}

// chunk returns the decoded chunk (shard) idx of variable name.
func (in *input) chunk(name string, meta ArrayMeta, idx []int64) ([]byte, error) {
	key := meta.Key(in.prefix+name, idx)
	data, err := in.st.Get(in.ctx, key)
	in.decoded.Add(meta.ChunkBytes())
	switch {
	case errors.Is(err, fs.ErrNotExist): // never written: the fill
		raw := make([]byte, meta.ChunkBytes())
		nd.Fill(raw, meta.EmptyBytes())
		return raw, nil
	case err != nil:
		return nil, fmt.Errorf("%s: %s: %w", in.name, key, err)
	}
	raw, err := decodeInputChunk(meta, data)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w (%w)", in.name, key, err, source.ErrFormat)
	}
	return raw, nil
}

// eachChunk calls fn for every stored chunk of meta that the box start,
// count touches, with the chunk's index, its origin, and the part of the
// box in it (from lo, n long).
func eachChunk(meta ArrayMeta, start, count []int64, fn func(idx, at, lo, n []int64) error) error {
	rank := len(start)
	if elements(count) == 0 {
		return nil
	}
	first, last := make([]int64, rank), make([]int64, rank)
	for i := range rank {
		first[i] = start[i] / meta.Chunks[i]
		last[i] = (start[i] + count[i] - 1) / meta.Chunks[i]
	}
	idx := slices.Clone(first)
	for {
		at, lo, n := make([]int64, rank), make([]int64, rank), make([]int64, rank)
		for i := range rank {
			at[i] = idx[i] * meta.Chunks[i]
			lo[i] = max(start[i], at[i])
			n[i] = min(start[i]+count[i], at[i]+meta.Chunks[i]) - lo[i]
		}
		if err := fn(idx, at, lo, n); err != nil {
			return err
		}
		k := rank - 1
		for ; k >= 0; k-- {
			if idx[k]++; idx[k] <= last[k] {
				break
			}
			idx[k] = first[k]
		}
		if k < 0 {
			return nil
		}
	}
}

// sub is a - b, element by element.
func sub(a, b []int64) []int64 {
	out := make([]int64, len(a))
	for i := range a {
		out[i] = a[i] - b[i]
	}
	return out
}
