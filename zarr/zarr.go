// Package zarr writes and reads Zarr v2 stores: group and array metadata,
// chunk objects compressed with numcodecs-compatible codecs (zstd, zlib,
// gzip), and consolidated metadata, in the form zarr-python and xarray read
// with no arguments. It knows nothing of Beam or netCDF; objects go to any
// Store.
package zarr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Store is a flat key-value object store rooted at a Zarr store's URL. Keys
// use "/" separators (".zgroup", "sst/.zarray", "sst/0.1.2"). Put must be
// atomic: readers never see part of an object. Get of a missing key returns
// an error wrapping fs.ErrNotExist.
type Store interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, data []byte) error
}

// DType is a numpy type string: "<i2", "<f8", "|u1", "|S1", ...
type DType string

// ItemSize returns the size in bytes of one element, or 0 if the dtype is
// not understood.
func (d DType) ItemSize() int {
	if len(d) < 3 {
		return 0
	}
	n := 0
	for _, c := range d[2:] {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// kind returns the numpy kind letter: 'i', 'u', 'f' or 'S'.
func (d DType) kind() byte {
	if len(d) < 2 {
		return 0
	}
	return d[1]
}

// ArrayMeta is the content of an array's .zarray. Chunks are C-ordered,
// with "." as dimension separator.
type ArrayMeta struct {
	Shape      []int64
	Chunks     []int64
	DType      DType
	Compressor *Compressor // nil: uncompressed
	// FillValue is nil (JSON null), an int64, a uint64, a float64 (NaN and
	// ±Inf allowed) or, for "|S1", a one-byte string; nil for Strings.
	FillValue any
}

// CheckName returns an error if name cannot be the name of an array of the
// root group: it becomes the first segment of every key of the array, so
// it must be one path segment that stays inside the store on every
// filesystem and object store (no "/", "\\", NUL or other control
// character; not "." or ".."), and must not start with "." (where Zarr's
// own metadata keys and zarrforge's temporary files live).
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("zarr: an empty name cannot name an array")
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("zarr: name %q starts with \".\", as Zarr's metadata keys do", name)
	case strings.ContainsAny(name, "/\\"):
		return fmt.Errorf("zarr: name %q holds a path separator", name)
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return fmt.Errorf("zarr: name %q holds a control character", name)
	}
	return nil
}

// IsStore reports whether keys, the keys of a store's objects, are those of
// a Zarr store: its root holds Zarr metadata (v2 or v3).
func IsStore(keys []string) bool {
	for _, k := range keys {
		switch k {
		case ".zgroup", ".zarray", ".zmetadata", "zarr.json":
			return true
		}
	}
	return false
}

// ChunkKey returns the store key of chunk idx of array name: "sst/0.1.2",
// or "name/0" for a scalar array.
func ChunkKey(name string, idx []int64) string {
	if len(idx) == 0 {
		return name + "/0"
	}
	parts := make([]string, len(idx))
	for i, x := range idx {
		parts[i] = fmt.Sprint(x)
	}
	return name + "/" + strings.Join(parts, ".")
}

// ChunkBytes returns the size of one decoded chunk; 0 for Strings arrays,
// whose chunks have no fixed size.
func (m ArrayMeta) ChunkBytes() int64 {
	return int64(m.DType.ItemSize()) * elements(m.Chunks)
}

func (m ArrayMeta) validate() error {
	if m.DType != Strings && (m.DType.ItemSize() == 0 || strings.IndexByte("iufS", m.DType.kind()) < 0) {
		return fmt.Errorf("zarr: unsupported dtype %q", m.DType)
	}
	if m.DType == Strings && m.FillValue != nil {
		return fmt.Errorf("zarr: fill value %v for an array of strings", m.FillValue)
	}
	if len(m.Shape) != len(m.Chunks) {
		return fmt.Errorf("zarr: shape %v and chunks %v differ in rank", m.Shape, m.Chunks)
	}
	for i, c := range m.Chunks {
		if c < 1 || m.Shape[i] < 0 {
			return fmt.Errorf("zarr: bad shape %v / chunks %v", m.Shape, m.Chunks)
		}
	}
	return nil
}

// MarshalJSON renders the .zarray document.
func (m ArrayMeta) MarshalJSON() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	var b jsonWriter
	b.raw("{")
	b.key("chunks")
	b.value(m.Chunks)
	b.raw(",")
	b.key("compressor")
	if m.Compressor == nil {
		b.raw("null")
	} else {
		b.raw(m.Compressor.json())
	}
	b.raw(",")
	b.key("dimension_separator")
	b.value(".")
	b.raw(",")
	b.key("dtype")
	b.value(string(m.DType))
	b.raw(",")
	b.key("fill_value")
	if err := b.fill(m.FillValue, m.DType); err != nil {
		return nil, err
	}
	b.raw(`,"filters":`)
	if m.DType == Strings {
		b.raw(vlenUTF8)
	} else {
		b.raw("null")
	}
	b.raw(`,"order":"C",`)
	b.key("shape")
	b.value(m.Shape)
	b.raw(`,"zarr_format":2}`)
	return b.bytes(), b.err
}

// UnmarshalJSON reads a .zarray document.
func (m *ArrayMeta) UnmarshalJSON(data []byte) error {
	var doc struct {
		Shape      []int64          `json:"shape"`
		Chunks     []int64          `json:"chunks"`
		DType      string           `json:"dtype"`
		Compressor *json.RawMessage `json:"compressor"`
		FillValue  json.RawMessage  `json:"fill_value"`
		Order      string           `json:"order"`
		Filters    json.RawMessage  `json:"filters"`
		Format     int              `json:"zarr_format"`
		Separator  string           `json:"dimension_separator"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("zarr: .zarray: %w", err)
	}
	if doc.Format != 2 {
		return fmt.Errorf("zarr: .zarray: zarr_format %d is not 2", doc.Format)
	}
	if doc.Order != "" && doc.Order != "C" {
		return fmt.Errorf("zarr: .zarray: order %q is not supported", doc.Order)
	}
	var filters []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(doc.Filters, &filters); len(doc.Filters) > 0 && err != nil {
		return fmt.Errorf("zarr: .zarray: filters: %w", err)
	}
	strs := len(filters) == 1 && filters[0].ID == "vlen-utf8" && doc.DType == string(Strings)
	if len(filters) > 0 && !strs {
		return fmt.Errorf("zarr: .zarray: filters %s are not supported", doc.Filters)
	}
	if doc.DType == string(Strings) && !strs {
		return fmt.Errorf("zarr: .zarray: object dtype without the vlen-utf8 filter is not supported")
	}
	if doc.Separator != "" && doc.Separator != "." {
		return fmt.Errorf("zarr: .zarray: dimension_separator %q is not supported", doc.Separator)
	}
	*m = ArrayMeta{Shape: doc.Shape, Chunks: doc.Chunks, DType: DType(doc.DType)}
	if doc.Compressor != nil {
		c, err := parseCompressor(*doc.Compressor)
		if err != nil {
			return err
		}
		m.Compressor = c
	}
	fill, err := parseFill(doc.FillValue, m.DType)
	if err != nil {
		return err
	}
	m.FillValue = fill
	return m.validate()
}

// WriteArrayMeta writes an array's .zarray and .zattrs.
func WriteArrayMeta(ctx context.Context, st Store, name string, meta ArrayMeta, attrs Attrs) error {
	zarray, err := meta.MarshalJSON()
	if err != nil {
		return fmt.Errorf("zarr: array %q: %w", name, err)
	}
	zattrs, err := attrs.MarshalJSON()
	if err != nil {
		return fmt.Errorf("zarr: array %q: %w", name, err)
	}
	if err := st.Put(ctx, name+"/.zarray", zarray); err != nil {
		return err
	}
	return st.Put(ctx, name+"/.zattrs", zattrs)
}

// WriteGroup writes the root group's .zgroup and .zattrs.
func WriteGroup(ctx context.Context, st Store, attrs Attrs) error {
	zattrs, err := attrs.MarshalJSON()
	if err != nil {
		return fmt.Errorf("zarr: group attributes: %w", err)
	}
	if err := st.Put(ctx, ".zattrs", zattrs); err != nil {
		return err
	}
	return st.Put(ctx, ".zgroup", []byte(`{"zarr_format":2}`))
}

// Consolidate writes .zmetadata: the root group's and the named arrays'
// metadata documents, as zarr.consolidate_metadata does. Write it last: its
// presence is what tells readers the store is complete.
func Consolidate(ctx context.Context, st Store, arrays []string) error {
	keys := []string{".zattrs", ".zgroup"}
	for _, a := range arrays {
		keys = append(keys, a+"/.zarray", a+"/.zattrs")
	}
	var b jsonWriter
	b.raw(`{"metadata":{`)
	for i, k := range keys {
		doc, err := st.Get(ctx, k)
		if err != nil {
			return fmt.Errorf("zarr: consolidating: %w", err)
		}
		if i > 0 {
			b.raw(",")
		}
		b.key(k)
		b.raw(string(doc))
	}
	b.raw(`},"zarr_consolidated_format":1}`)
	return st.Put(ctx, ".zmetadata", b.bytes())
}

// ReadArrayMeta reads an array's .zarray and .zattrs.
func ReadArrayMeta(ctx context.Context, st Store, name string) (ArrayMeta, map[string]any, error) {
	var meta ArrayMeta
	b, err := st.Get(ctx, name+"/.zarray")
	if err != nil {
		return meta, nil, err
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return meta, nil, fmt.Errorf("zarr: array %q: %w", name, err)
	}
	b, err = st.Get(ctx, name+"/.zattrs")
	if err != nil {
		return meta, nil, err
	}
	attrs, err := ParseAttrs(b)
	if err != nil {
		return meta, nil, fmt.Errorf("zarr: array %q: %w", name, err)
	}
	return meta, attrs, nil
}

// UpdateArrayMeta rewrites array name's .zarray, leaving its attributes as
// they are.
func UpdateArrayMeta(ctx context.Context, st Store, name string, meta ArrayMeta) error {
	zarray, err := meta.MarshalJSON()
	if err != nil {
		return fmt.Errorf("zarr: array %q: %w", name, err)
	}
	return st.Put(ctx, name+"/.zarray", zarray)
}

// ParseChunkKey returns the chunk index of key, a store key of array name
// ("sst/0.1.2"), and whether key is one.
func ParseChunkKey(name, key string) ([]int64, bool) {
	rest, ok := strings.CutPrefix(key, name+"/")
	if !ok || rest == "" || strings.HasPrefix(rest, ".z") {
		return nil, false
	}
	parts := strings.Split(rest, ".")
	idx := make([]int64, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n < 0 {
			return nil, false
		}
		idx[i] = n
	}
	return idx, true
}

// ReadVector reads the whole of the one-dimensional array name, described
// by meta, raw: meta.Shape[0] elements of meta.DType.
func ReadVector(ctx context.Context, st Store, name string, meta ArrayMeta) ([]byte, error) {
	if len(meta.Shape) != 1 {
		return nil, fmt.Errorf("zarr: array %q has %d dimensions, not 1", name, len(meta.Shape))
	}
	size := int64(meta.DType.ItemSize())
	var out []byte
	for i := int64(0); i*meta.Chunks[0] < meta.Shape[0]; i++ {
		key := ChunkKey(name, []int64{i})
		data, err := st.Get(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("zarr: reading %s: %w", key, err)
		}
		raw, err := DecodeChunk(meta, data)
		if err != nil {
			return nil, fmt.Errorf("zarr: reading %s: %w", key, err)
		}
		n := min(meta.Chunks[0], meta.Shape[0]-i*meta.Chunks[0])
		out = append(out, raw[:n*size]...)
	}
	return out, nil
}

// WriteVector writes the chunks of the one-dimensional array name,
// described by meta, from raw (meta.Shape[0] elements of meta.DType); the
// last chunk is padded with zeros. It does not write the array's metadata.
func WriteVector(ctx context.Context, st Store, name string, meta ArrayMeta, raw []byte) error {
	if len(meta.Shape) != 1 {
		return fmt.Errorf("zarr: array %q has %d dimensions, not 1", name, len(meta.Shape))
	}
	size := int64(meta.DType.ItemSize())
	if int64(len(raw)) != meta.Shape[0]*size {
		return fmt.Errorf("zarr: array %q: %d bytes for %d elements of %s", name, len(raw), meta.Shape[0], meta.DType)
	}
	chunk := make([]byte, meta.ChunkBytes())
	for i := int64(0); i*meta.Chunks[0] < meta.Shape[0]; i++ {
		clear(chunk)
		copy(chunk, raw[i*meta.Chunks[0]*size:])
		enc, err := EncodeChunk(meta, chunk)
		if err != nil {
			return fmt.Errorf("zarr: array %q: %w", name, err)
		}
		if err := st.Put(ctx, ChunkKey(name, []int64{i}), enc); err != nil {
			return err
		}
	}
	return nil
}
