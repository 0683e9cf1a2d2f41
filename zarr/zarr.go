// Package zarr writes and reads Zarr v2 and v3 stores: group and array
// metadata with the conventions xarray relies on (dimension names, fill
// values), chunk objects compressed with numcodecs-compatible codecs (zstd,
// zlib, gzip, Blosc), v3 shards, and consolidated metadata, in the form
// zarr-python, xarray and zarrita read with no arguments. It knows nothing
// of Beam or netCDF; objects go to any Store.
package zarr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/zarrforge/zarrforge/internal/nd"
	"github.com/zarrforge/zarrforge/source"
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

// canonical returns d as numpy spells it: one-byte types with "|" ("<i1",
// as some tools write it, is "|i1").
func (d DType) canonical() DType {
	if d.ItemSize() == 1 && len(d) == 3 && (d[0] == '<' || d[0] == '>') {
		return "|" + d[1:]
	}
	return d
}

// kind returns the numpy kind letter: 'i', 'u', 'f' or 'S'.
func (d DType) kind() byte {
	if len(d) < 2 {
		return 0
	}
	return d[1]
}

// ArrayMeta is an array's metadata: its .zarray (Zarr v2) or zarr.json
// (v3), and its dimension names. Chunks are C-ordered; v2 keys use "." as
// dimension separator, v3 keys the default encoding ("c/0/1/2").
type ArrayMeta struct {
	// Format is the Zarr format, 2 or 3; 0 means 2.
	Format int
	Shape  []int64
	// Chunks is the shape of the cells of the chunk grid: of each chunk
	// object, or of each shard when the array is sharded.
	Chunks []int64
	// Inner, for a sharded array (v3 only), is the shape of the chunks
	// inside each shard (the sharding_indexed codec); nil when not sharded.
	Inner      []int64
	DType      DType
	Compressor *Compressor // nil: uncompressed
	// FillValue is the value that stands for missing data, as xarray
	// reads it (_FillValue), or nil for none. It is an int64, a uint64, a
	// float64 (NaN and ±Inf allowed) or, for "|S" dtypes, a string; nil
	// for Strings. Zarr v2 stores it as fill_value; v3 as the _FillValue
	// attribute, in xarray's encoding, and as fill_value too.
	FillValue any
	// EmptyFill (v3 only) is what chunks that were never written hold,
	// the array's fill_value, where that is not FillValue: xarray writes
	// v3 arrays with a fill_value of 0 and the _FillValue attribute apart.
	// nil: FillValue, or zero when that is nil.
	EmptyFill any
	// Dims names the array's dimensions, which xarray needs: the
	// _ARRAY_DIMENSIONS attribute in v2, dimension_names in v3.
	Dims []string
	// Filters (v2) are codecs the chunks went through before the
	// compressor, in that order: how the filter pipeline of an HDF5
	// dataset reads in Zarr, for references to its chunks. This package
	// writes them in .zarray but neither encodes nor decodes chunks with
	// them.
	Filters []Filter
}

// Filter is a numcodecs filter: ID "zlib" or "zstd" (with Level),
// "shuffle" (with ElementSize) or "fletcher32".
type Filter struct {
	ID          string
	Level       int
	ElementSize int
}

func (f Filter) json() string {
	switch f.ID {
	case "shuffle":
		return fmt.Sprintf(`{"elementsize":%d,"id":"shuffle"}`, f.ElementSize)
	case "fletcher32":
		return `{"id":"fletcher32"}`
	}
	return fmt.Sprintf(`{"id":%q,"level":%d}`, f.ID, f.Level)
}

// codable reports why this package cannot encode or decode m's chunks:
// big-endian values, or filters.
func (m ArrayMeta) codable() error {
	switch {
	case len(m.Filters) > 0:
		return fmt.Errorf("zarr: chunks with filters (%s) are not encoded or decoded here", m.Filters[0].ID)
	case m.DType[0] == '>' && m.DType.ItemSize() > 1 && m.DType.kind() != 'S':
		return fmt.Errorf("zarr: big-endian dtype %q is not supported", m.DType)
	}
	return nil
}

// CheckName returns an error if name cannot be the name of an array of the
// root group: it becomes the first segment of every key of the array, so
// it must be one path segment that stays inside the store on every
// filesystem and object store (no "/", "\\", NUL or other control
// character; not "." or ".."), must not start with "." (where Zarr's
// own metadata keys and zarrforge's temporary files live), and must not be
// zarr.json (the root group's metadata in v3): no array's keys may be
// those of the store's metadata in either format.
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("zarr: an empty name cannot name an array")
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("zarr: name %q starts with \".\", as Zarr's metadata keys do", name)
	case name == v3Meta:
		return fmt.Errorf("zarr: name %q is the key of the root group's Zarr v3 metadata", name)
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
		case ".zgroup", ".zarray", ".zmetadata", v3Meta:
			return true
		}
	}
	return false
}

// FormatOf returns the Zarr format of the store whose objects have keys:
// 3 when it holds any zarr.json, 2 when it holds v2 metadata, 0 when
// neither.
func FormatOf(keys []string) int {
	format := 0
	for _, k := range keys {
		base := k[strings.LastIndexByte(k, '/')+1:]
		switch base {
		case v3Meta:
			return 3
		case ".zgroup", ".zarray", ".zmetadata":
			format = 2
		}
	}
	return format
}

// Arrays returns the names of the arrays of the root group among keys, the
// keys of a store's objects, in their order.
func Arrays(keys []string) []string {
	var names []string
	for _, k := range keys {
		name, ok := strings.CutSuffix(k, "/.zarray")
		if !ok {
			name, ok = strings.CutSuffix(k, "/"+v3Meta)
		}
		if ok && !strings.Contains(name, "/") {
			names = append(names, name)
		}
	}
	return names
}

// v3Meta is the key of a Zarr v3 node's metadata, under the node's path.
const v3Meta = "zarr.json"

// format returns m's Zarr format, 2 when unset.
func (m ArrayMeta) format() int {
	if m.Format == 0 {
		return 2
	}
	return m.Format
}

// ChunkBytes returns the size of one decoded chunk (of a shard when the
// array is sharded); 0 for Strings arrays, whose chunks have no fixed size.
func (m ArrayMeta) ChunkBytes() int64 {
	return int64(m.DType.ItemSize()) * elements(m.Chunks)
}

// Key returns the store key of chunk (or shard) idx of array name:
// "sst/0.1.2" in v2 ("sst/0" for a scalar), "sst/c/0/1/2" in v3 ("sst/c").
func (m ArrayMeta) Key(name string, idx []int64) string {
	parts := make([]string, len(idx))
	for i, x := range idx {
		parts[i] = strconv.FormatInt(x, 10)
	}
	if m.format() == 3 {
		return strings.Join(append([]string{name, "c"}, parts...), "/")
	}
	if len(idx) == 0 {
		return name + "/0"
	}
	return name + "/" + strings.Join(parts, ".")
}

// ParseKey returns the chunk index of key, a store key of array name, and
// whether key is the key of one of its chunks.
func (m ArrayMeta) ParseKey(name, key string) ([]int64, bool) {
	rest, ok := strings.CutPrefix(key, name+"/")
	if !ok || rest == "" {
		return nil, false
	}
	sep := "."
	if m.format() == 3 {
		if rest, ok = strings.CutPrefix(rest, "c"); !ok {
			return nil, false
		}
		if rest == "" {
			return []int64{}, len(m.Shape) == 0
		}
		if rest, ok = strings.CutPrefix(rest, "/"); !ok {
			return nil, false
		}
		sep = "/"
	}
	parts := strings.Split(rest, sep)
	if len(parts) != max(len(m.Shape), 1) {
		return nil, false
	}
	idx := make([]int64, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil || n < 0 || strconv.FormatInt(n, 10) != p {
			return nil, false
		}
		idx[i] = n
	}
	if len(m.Shape) == 0 {
		return []int64{}, idx[0] == 0
	}
	return idx, true
}

func (m ArrayMeta) validate() error {
	if m.DType != Strings && (m.DType.ItemSize() == 0 || strings.IndexByte("iufS", m.DType.kind()) < 0) {
		return fmt.Errorf("zarr: unsupported dtype %q", m.DType)
	}
	if len(m.Filters) > 0 && (m.format() != 2 || m.DType == Strings) {
		return errors.New("zarr: filters are written in v2 metadata of numeric arrays only")
	}
	if m.DType == Strings && m.FillValue != nil {
		return fmt.Errorf("zarr: fill value %v for an array of strings", m.FillValue)
	}
	if m.Format != 0 && m.Format != 2 && m.Format != 3 {
		return fmt.Errorf("zarr: zarr_format %d is not 2 or 3", m.Format)
	}
	if len(m.Shape) != len(m.Chunks) {
		return fmt.Errorf("zarr: shape %v and chunks %v differ in rank", m.Shape, m.Chunks)
	}
	for i, c := range m.Chunks {
		if c < 1 || m.Shape[i] < 0 {
			return fmt.Errorf("zarr: bad shape %v / chunks %v", m.Shape, m.Chunks)
		}
	}
	if m.Dims != nil && len(m.Dims) != len(m.Shape) {
		return fmt.Errorf("zarr: %d dimension names for %d dimensions", len(m.Dims), len(m.Shape))
	}
	if m.Inner != nil {
		switch {
		case m.format() != 3:
			return errors.New("zarr: sharding needs Zarr v3")
		case m.DType == Strings:
			return errors.New("zarr: arrays of strings are not sharded")
		case len(m.Inner) != len(m.Chunks) || len(m.Inner) == 0:
			return fmt.Errorf("zarr: inner chunks %v of shards %v differ in rank", m.Inner, m.Chunks)
		}
		for i, c := range m.Inner {
			if c < 1 || m.Chunks[i]%c != 0 {
				return fmt.Errorf("zarr: shards %v are not a multiple of their inner chunks %v", m.Chunks, m.Inner)
			}
		}
	}
	return nil
}

// MarshalJSON renders the array's metadata document: its .zarray in v2
// (where the dimension names are an attribute: see WriteArrayMeta), its
// zarr.json in v3, with no attributes but the _FillValue.
func (m ArrayMeta) MarshalJSON() ([]byte, error) {
	if m.format() == 3 {
		attrs, err := m.v3Attrs(nil).marshal(true)
		if err != nil {
			return nil, err
		}
		return m.zarrJSON(attrs)
	}
	return m.zarray()
}

// UnmarshalJSON reads an array's .zarray or zarr.json document. Attributes
// of a zarr.json other than _FillValue are left out.
func (m *ArrayMeta) UnmarshalJSON(data []byte) error {
	var head struct {
		Format int `json:"zarr_format"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("zarr: array metadata: %w", err)
	}
	if head.Format == 3 {
		meta, _, err := parseZarrJSON(data)
		if err != nil {
			return err
		}
		*m = meta
		return nil
	}
	return m.parseZarray(data)
}

// zarray renders the .zarray document.
func (m ArrayMeta) zarray() ([]byte, error) {
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
	switch {
	case m.DType == Strings:
		b.raw(vlenUTF8)
	case len(m.Filters) > 0:
		for i, f := range m.Filters {
			b.raw([]string{"[", ","}[min(i, 1)] + f.json())
		}
		b.raw("]")
	default:
		b.raw("null")
	}
	b.raw(`,"order":"C",`)
	b.key("shape")
	b.value(m.Shape)
	b.raw(`,"zarr_format":2}`)
	return b.bytes(), b.err
}

// parseZarray reads a .zarray document.
func (m *ArrayMeta) parseZarray(data []byte) error {
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
		ID          string `json:"id"`
		Level       int    `json:"level"`
		ElementSize int    `json:"elementsize"`
	}
	if err := json.Unmarshal(doc.Filters, &filters); len(doc.Filters) > 0 && err != nil {
		return fmt.Errorf("zarr: .zarray: filters: %w", err)
	}
	strs := len(filters) == 1 && filters[0].ID == "vlen-utf8" && doc.DType == string(Strings)
	var kept []Filter // numeric filters, as references to HDF5 chunks name them
	for _, f := range filters {
		if !inputFilters[f.ID] || strs {
			break
		}
		kept = append(kept, Filter{ID: f.ID, Level: f.Level, ElementSize: f.ElementSize})
	}
	if len(filters) > 0 && !strs && len(kept) != len(filters) {
		return fmt.Errorf("zarr: .zarray: filters %s are not supported (%w)", doc.Filters, source.ErrUnsupported)
	}
	if doc.DType == string(Strings) && !strs {
		return fmt.Errorf("zarr: .zarray: object dtype without the vlen-utf8 filter is not supported")
	}
	if doc.Separator != "" && doc.Separator != "." {
		return fmt.Errorf("zarr: .zarray: dimension_separator %q is not supported", doc.Separator)
	}
	*m = ArrayMeta{Shape: doc.Shape, Chunks: doc.Chunks, DType: DType(doc.DType).canonical(), Filters: kept}
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

// dimsAttr is the attribute in which xarray keeps a v2 array's dimension
// names.
const dimsAttr = "_ARRAY_DIMENSIONS"

// WriteArrayMeta writes the metadata of array name: in v2 its .zarray and
// its .zattrs (attrs and the dimension names as _ARRAY_DIMENSIONS); in v3
// its zarr.json (attrs, the _FillValue attribute and dimension_names).
func WriteArrayMeta(ctx context.Context, st Store, name string, meta ArrayMeta, attrs Attrs) error {
	if meta.format() == 3 {
		raw, err := meta.v3Attrs(attrs).marshal(true)
		if err != nil {
			return fmt.Errorf("zarr: array %q: %w", name, err)
		}
		doc, err := meta.zarrJSON(raw)
		if err != nil {
			return fmt.Errorf("zarr: array %q: %w", name, err)
		}
		return st.Put(ctx, name+"/"+v3Meta, doc)
	}
	zarray, err := meta.zarray()
	if err != nil {
		return fmt.Errorf("zarr: array %q: %w", name, err)
	}
	if meta.Dims != nil {
		attrs = append(slices.Clip(attrs), Attr{Key: dimsAttr, Value: meta.Dims})
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

// ReadArrayMeta reads the metadata of array name, v2 or v3, and its
// attributes but for those that are part of the metadata (the dimension
// names, and in v3 the _FillValue).
func ReadArrayMeta(ctx context.Context, st Store, name string) (ArrayMeta, map[string]any, error) {
	b, err := st.Get(ctx, name+"/.zarray")
	if errors.Is(err, fs.ErrNotExist) {
		if b, err = st.Get(ctx, name+"/"+v3Meta); err != nil {
			return ArrayMeta{}, nil, err
		}
		meta, attrs, err := parseZarrJSON(b)
		if err != nil {
			return ArrayMeta{}, nil, fmt.Errorf("zarr: array %q: %w", name, err)
		}
		return meta, attrs, nil
	}
	if err != nil {
		return ArrayMeta{}, nil, err
	}
	var meta ArrayMeta
	if err := meta.parseZarray(b); err != nil {
		return meta, nil, fmt.Errorf("zarr: array %q: %w", name, err)
	}
	b, err = st.Get(ctx, name+"/.zattrs")
	if errors.Is(err, fs.ErrNotExist) {
		b = []byte("{}") // no attributes (and so no dimension names)
	} else if err != nil {
		return meta, nil, err
	}
	attrs, err := ParseAttrs(b)
	if err != nil {
		return meta, nil, fmt.Errorf("zarr: array %q: %w", name, err)
	}
	if list, ok := attrs[dimsAttr].([]any); ok {
		meta.Dims = make([]string, 0, len(list))
		for _, d := range list {
			s, ok := d.(string)
			if !ok {
				return meta, nil, fmt.Errorf("zarr: array %q: %s holds %v, not names", name, dimsAttr, attrs[dimsAttr])
			}
			meta.Dims = append(meta.Dims, s)
		}
		delete(attrs, dimsAttr)
	}
	return meta, attrs, nil
}

// UpdateArrayMeta rewrites the metadata of array name as meta says,
// leaving its attributes as they are.
func UpdateArrayMeta(ctx context.Context, st Store, name string, meta ArrayMeta) error {
	if meta.format() == 3 {
		b, err := st.Get(ctx, name+"/"+v3Meta)
		if err != nil {
			return err
		}
		var doc struct {
			Attrs json.RawMessage `json:"attributes"`
		}
		if err := json.Unmarshal(quoteSpecialFloats(b), &doc); err != nil {
			return fmt.Errorf("zarr: array %q: %w", name, err)
		}
		out, err := meta.zarrJSON(unquotedRaw(doc.Attrs))
		if err != nil {
			return fmt.Errorf("zarr: array %q: %w", name, err)
		}
		return st.Put(ctx, name+"/"+v3Meta, out)
	}
	zarray, err := meta.zarray()
	if err != nil {
		return fmt.Errorf("zarr: array %q: %w", name, err)
	}
	return st.Put(ctx, name+"/.zarray", zarray)
}

// WriteGroup writes the root group: its attributes and, last, the
// consolidated metadata of the named arrays, as zarr.consolidate_metadata
// does. Its presence is what tells readers the store is complete: in v2
// .zgroup and .zattrs, then .zmetadata; in v3 the root zarr.json, written
// once, with the arrays' metadata inline (consolidated_metadata, as
// zarr-python 3 writes it).
func WriteGroup(ctx context.Context, st Store, format int, attrs Attrs, arrays []string) error {
	raw, err := attrs.marshal(format == 3)
	if err != nil {
		return fmt.Errorf("zarr: group attributes: %w", err)
	}
	if format == 3 {
		return writeRootV3(ctx, st, raw, arrays)
	}
	if err := st.Put(ctx, ".zattrs", raw); err != nil {
		return err
	}
	if err := st.Put(ctx, ".zgroup", []byte(`{"zarr_format":2}`)); err != nil {
		return err
	}
	return Consolidate(ctx, st, format, arrays)
}

// Consolidate writes the consolidated metadata of the root group and the
// named arrays, keeping the group's attributes as the store has them: in
// v2 .zmetadata, in v3 the root zarr.json. Write it last.
func Consolidate(ctx context.Context, st Store, format int, arrays []string) error {
	if format == 3 {
		attrs, err := rootAttrsV3(ctx, st)
		if err != nil {
			return err
		}
		return writeRootV3(ctx, st, attrs, arrays)
	}
	keys := []string{".zattrs", ".zgroup"}
	for _, a := range arrays {
		keys = append(keys, a+"/.zarray", a+"/.zattrs")
	}
	docs := make(map[string][]byte, len(keys))
	for _, k := range keys {
		doc, err := st.Get(ctx, k)
		if err != nil {
			return fmt.Errorf("zarr: consolidating: %w", err)
		}
		docs[k] = doc
	}
	return st.Put(ctx, ".zmetadata", zmetadata(docs))
}

// Deleter is a Store that can delete objects; deleting a missing one is
// not an error.
type Deleter interface {
	Store
	Delete(ctx context.Context, key string) error
}

// Withdraw makes a complete store of the given format look incomplete until
// Consolidate: in v2 it removes .zmetadata; in v3 it rewrites the root
// zarr.json without its consolidated metadata. The arrays stay readable one
// by one.
func Withdraw(ctx context.Context, st Deleter, format int) error {
	if format == 3 {
		attrs, err := rootAttrsV3(ctx, st)
		if err != nil {
			return err
		}
		return st.Put(ctx, v3Meta, rootV3(attrs, nil))
	}
	if err := st.Delete(ctx, ".zmetadata"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// IsConsolidated reports whether the store whose objects have keys holds
// consolidated metadata: .zmetadata (v2), or a root zarr.json with
// consolidated_metadata (v3).
func IsConsolidated(ctx context.Context, st Store, keys []string) (bool, error) {
	if slices.Contains(keys, ".zmetadata") {
		return true, nil
	}
	if !slices.Contains(keys, v3Meta) {
		return false, nil
	}
	b, err := st.Get(ctx, v3Meta)
	if err != nil {
		return false, err
	}
	var doc struct {
		Consolidated json.RawMessage `json:"consolidated_metadata"`
	}
	if err := json.Unmarshal(quoteSpecialFloats(b), &doc); err != nil {
		return false, fmt.Errorf("zarr: root zarr.json: %w", err)
	}
	c := bytes.TrimSpace(doc.Consolidated)
	return len(c) > 0 && string(c) != "null", nil
}

// Bounds of what ReadArray and ReadLabels read whole (the coordinates of a
// store): a hostile or broken store's metadata is refused before anything
// is allocated or looped over.
const (
	MaxReadBytes  = 1 << 30 // the array's values, and one chunk's
	MaxReadChunks = 1 << 16 // chunk objects
)

// readable checks that the whole array m, valid, describes is within
// MaxReadBytes and MaxReadChunks, its chunks within MaxReadBytes, without
// overflowing.
func (m ArrayMeta) readable() error {
	size := int64(max(m.DType.ItemSize(), 1))
	values, chunkValues, chunks := int64(1), int64(1), int64(1)
	for i := range m.Shape {
		values = boundedMul(values, m.Shape[i], MaxReadBytes/size)
		chunkValues = boundedMul(chunkValues, m.Chunks[i], MaxReadBytes/size)
		chunks = boundedMul(chunks, (m.Shape[i]+m.Chunks[i]-1)/m.Chunks[i], MaxReadChunks)
	}
	switch {
	case values < 0 || chunkValues < 0:
		return fmt.Errorf("shape %v in chunks of %v is more than the %d MiB read whole", m.Shape, m.Chunks, MaxReadBytes>>20)
	case chunks < 0:
		return fmt.Errorf("shape %v in chunks of %v is more than %d chunks read whole", m.Shape, m.Chunks, MaxReadChunks)
	}
	return nil
}

// boundedMul is a*b for a, b >= 0, or -1 when it is more than limit.
func boundedMul(a, b, limit int64) int64 {
	if a < 0 || b < 0 || b != 0 && a > limit/b {
		return -1
	}
	return a * b
}

// ReadArray reads the whole of array name, described by meta, raw: every
// element of meta.Shape in C order, little-endian in meta.DType. Chunks
// never written hold the array's fill value. Arrays of more than
// MaxReadBytes or MaxReadChunks are refused before anything is read.
// Arrays of strings are read chunk by chunk with DecodeStrings.
func ReadArray(ctx context.Context, st Store, name string, meta ArrayMeta) ([]byte, error) {
	if meta.DType == Strings {
		return nil, fmt.Errorf("zarr: array %q holds strings: read its chunks with DecodeStrings", name)
	}
	if err := errors.Join(meta.validate(), meta.codable()); err != nil {
		return nil, fmt.Errorf("zarr: array %q: %w", name, err)
	}
	if err := meta.readable(); err != nil { // only once valid: it divides by the chunks
		return nil, fmt.Errorf("zarr: array %q: %w", name, err)
	}
	size := meta.DType.ItemSize()
	out := make([]byte, int64(size)*elements(meta.Shape))
	grid := make([]int64, len(meta.Shape))
	for i := range grid {
		grid[i] = (meta.Shape[i] + meta.Chunks[i] - 1) / meta.Chunks[i]
		if grid[i] == 0 {
			return out, nil
		}
	}
	idx := make([]int64, len(grid))
	for {
		key := meta.Key(name, idx)
		data, err := st.Get(ctx, key)
		var raw []byte
		switch {
		case errors.Is(err, fs.ErrNotExist): // never written: fill
			raw = make([]byte, meta.ChunkBytes())
			nd.Fill(raw, meta.EmptyBytes())
		case err != nil:
			return nil, fmt.Errorf("zarr: reading %s: %w", key, err)
		default:
			if raw, err = DecodeChunk(meta, data); err != nil {
				return nil, fmt.Errorf("zarr: reading %s: %w", key, err)
			}
		}
		at, count := make([]int64, len(idx)), make([]int64, len(idx))
		for i := range idx {
			at[i] = idx[i] * meta.Chunks[i]
			count[i] = min(meta.Chunks[i], meta.Shape[i]-at[i])
		}
		nd.CopyBox(out, meta.Shape, at, raw, meta.Chunks, make([]int64, len(idx)), count, size)
		k := len(idx) - 1
		for ; k >= 0; k-- {
			if idx[k]++; idx[k] < grid[k] {
				break
			}
			idx[k] = 0
		}
		if k < 0 {
			return out, nil
		}
	}
}

// ReadLabels reads the whole of array name, one-dimensional strings
// described by meta. Chunks never written hold "".
func ReadLabels(ctx context.Context, st Store, name string, meta ArrayMeta) ([]string, error) {
	if meta.DType != Strings || len(meta.Shape) != 1 {
		return nil, fmt.Errorf("zarr: array %q is not one-dimensional strings", name)
	}
	if err := meta.validate(); err != nil {
		return nil, fmt.Errorf("zarr: array %q: %w", name, err)
	}
	if err := meta.readable(); err != nil {
		return nil, fmt.Errorf("zarr: array %q: %w", name, err)
	}
	out := make([]string, 0, meta.Shape[0])
	for i := int64(0); i*meta.Chunks[0] < meta.Shape[0]; i++ {
		key := meta.Key(name, []int64{i})
		n := min(meta.Chunks[0], meta.Shape[0]-i*meta.Chunks[0])
		data, err := st.Get(ctx, key)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, make([]string, n)...)
			continue
		case err != nil:
			return nil, fmt.Errorf("zarr: reading %s: %w", key, err)
		}
		strs, err := DecodeStrings(meta, data)
		if err != nil {
			return nil, fmt.Errorf("zarr: reading %s: %w", key, err)
		}
		out = append(out, strs[:n]...)
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
		if err := st.Put(ctx, meta.Key(name, []int64{i}), enc); err != nil {
			return err
		}
	}
	return nil
}
