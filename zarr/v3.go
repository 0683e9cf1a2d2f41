package zarr

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Zarr v3 metadata: the array and group zarr.json documents, the data type
// and codec names, and xarray's _FillValue attribute for v3 arrays.

// v3Types are the v3 data types of the numpy dtypes zarrforge writes.
var v3Types = map[DType]string{
	"|i1": "int8", "|u1": "uint8", "<i2": "int16", "<u2": "uint16",
	"<i4": "int32", "<u4": "uint32", "<i8": "int64", "<u8": "uint64",
	"<f4": "float32", "<f8": "float64", Strings: "string",
}

// fillAttr is the attribute in which xarray keeps what a v3 array's
// missing values are: it does not read fill_value so.
const fillAttr = "_FillValue"

// v3DataType renders dt as a v3 data_type: a name, or for fixed-width
// bytes ("|S4") the null_terminated_bytes type zarr-python 3 writes.
func v3DataType(dt DType) (string, error) {
	if name, ok := v3Types[dt]; ok {
		return strconv.Quote(name), nil
	}
	if dt.kind() == 'S' && dt.ItemSize() > 0 {
		return fmt.Sprintf(`{"name":"null_terminated_bytes","configuration":{"length_bytes":%d}}`, dt.ItemSize()), nil
	}
	return "", fmt.Errorf("zarr: dtype %s has no Zarr v3 data type", dt)
}

func parseV3DataType(raw json.RawMessage) (DType, error) {
	var name string
	if err := json.Unmarshal(raw, &name); err == nil {
		for dt, n := range v3Types {
			if n == name {
				return dt, nil
			}
		}
		return "", fmt.Errorf("zarr: data_type %q is not supported", name)
	}
	var obj struct {
		Name   string `json:"name"`
		Config struct {
			Length int `json:"length_bytes"`
		} `json:"configuration"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.Name != "null_terminated_bytes" || obj.Config.Length < 1 {
		return "", fmt.Errorf("zarr: data_type %s is not supported", raw)
	}
	return DType(fmt.Sprintf("|S%d", obj.Config.Length)), nil
}

// v3JSON renders c as a v3 codec: zstd, gzip and blosc by their v3 names,
// zlib and lz4 as numcodecs.zlib and numcodecs.lz4 (there are no v3 codecs
// of theirs; zarr-python 3 reads them through numcodecs, as zarrita does).
func (c *Compressor) v3JSON(itemSize int) string {
	switch c.ID {
	case "zstd":
		return fmt.Sprintf(`{"name":"zstd","configuration":{"level":%d,"checksum":false}}`, c.Level)
	case "gzip":
		return fmt.Sprintf(`{"name":"gzip","configuration":{"level":%d}}`, c.Level)
	case "zlib":
		return fmt.Sprintf(`{"name":"numcodecs.zlib","configuration":{"level":%d}}`, c.Level)
	case "lz4":
		return fmt.Sprintf(`{"name":"numcodecs.lz4","configuration":{"acceleration":%d}}`, c.Level)
	}
	shuffle := [...]string{"noshuffle", "shuffle", "bitshuffle"}[c.Shuffle]
	return fmt.Sprintf(`{"name":"blosc","configuration":{"cname":%q,"clevel":%d,"shuffle":%q,"typesize":%d,"blocksize":0}}`,
		c.CName, c.Level, shuffle, itemSize)
}

// codecsJSON renders the codecs that turn a chunk of dt into bytes, then
// compress them with c.
func codecsJSON(dt DType, c *Compressor) string {
	codecs := `{"name":"bytes","configuration":{"endian":"little"}}`
	switch {
	case dt == Strings:
		codecs = `{"name":"vlen-utf8","configuration":{}}`
	case dt.ItemSize() == 1 || dt.kind() == 'S':
		codecs = `{"name":"bytes"}`
	}
	if c != nil {
		codecs += "," + c.v3JSON(max(dt.ItemSize(), 1))
	}
	return "[" + codecs + "]"
}

// indexCodecs are the codecs of a shard's index, as zarr-python writes
// them: little-endian uint64s, then their CRC-32C.
const indexCodecs = `[{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}]`

// v3Fill is the fill_value of a v3 array: what its unwritten chunks hold.
func (m ArrayMeta) v3Fill() any {
	switch {
	case m.EmptyFill != nil:
		return m.EmptyFill
	case m.FillValue != nil:
		return m.FillValue
	case m.DType.kind() == 'S':
		return ""
	}
	return int64(0)
}

// zarrJSON renders the v3 array document with attrs, a JSON object, as its
// attributes.
func (m ArrayMeta) zarrJSON(attrs []byte) ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	dt, err := v3DataType(m.DType)
	if err != nil {
		return nil, err
	}
	var b jsonWriter
	b.raw(`{"zarr_format":3,"node_type":"array",`)
	b.key("shape")
	b.value(m.Shape)
	b.raw(`,"data_type":` + dt + `,"chunk_grid":{"name":"regular","configuration":{"chunk_shape":`)
	b.value(m.Chunks)
	b.raw(`}},"chunk_key_encoding":{"name":"default","configuration":{"separator":"/"}},"fill_value":`)
	if m.DType == Strings {
		b.raw(`""`)
	} else if err := b.fill(m.v3Fill(), m.DType); err != nil {
		return nil, err
	}
	codecs := codecsJSON(m.DType, m.Compressor)
	if m.Inner != nil {
		var inner jsonWriter
		inner.value(m.Inner)
		codecs = `[{"name":"sharding_indexed","configuration":{"chunk_shape":` + string(inner.bytes()) +
			`,"codecs":` + codecs + `,"index_codecs":` + indexCodecs + `,"index_location":"end"}}]`
	}
	b.raw(`,"codecs":` + codecs + `,"attributes":`)
	b.raw(string(attrs))
	if m.Dims != nil {
		b.raw(",")
		b.key("dimension_names")
		b.value(m.Dims)
	}
	b.raw(`,"storage_transformers":[]}`)
	return b.bytes(), b.err
}

// v3Attrs returns attrs and, when m has a FillValue, the _FillValue
// attribute as xarray encodes it for v3 arrays: floats as the base64 of a
// little-endian float64, fixed-width bytes as base64, integers as they are.
func (m ArrayMeta) v3Attrs(attrs Attrs) Attrs {
	if m.FillValue == nil {
		return attrs
	}
	v := m.FillValue
	switch m.DType.kind() {
	case 'f':
		f, _ := toFloat(v)
		bits := math.Float64bits(f)
		if math.IsNaN(f) {
			bits = 0x7ff8000000000000 // the NaN numpy and Python have (Go's has another payload)
		}
		v = base64.StdEncoding.EncodeToString(binary.LittleEndian.AppendUint64(nil, bits))
	case 'S':
		s, _ := v.(string)
		v = base64.StdEncoding.EncodeToString([]byte(s))
	}
	return append(attrs[:len(attrs):len(attrs)], Attr{Key: fillAttr, Value: v})
}

// decodeFillAttr reads xarray's _FillValue attribute of a v3 array of dt.
func decodeFillAttr(v any, dt DType) (any, error) {
	switch x := v.(type) {
	case string:
		b, err := base64.StdEncoding.DecodeString(x)
		switch {
		case err != nil:
		case dt.kind() == 'S':
			return string(b), nil
		case dt.kind() == 'f' && len(b) == 8:
			return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
		}
	case float64:
		switch dt.kind() {
		case 'f':
			return x, nil
		case 'i':
			if x == math.Trunc(x) && math.Abs(x) <= 1<<63 {
				return int64(x), nil
			}
		case 'u':
			if x == math.Trunc(x) && x >= 0 && x < 1<<64 {
				return uint64(x), nil
			}
		}
	case json.Number:
		if i, err := x.Int64(); err == nil && dt.kind() != 'f' {
			return i, nil
		}
		if u, err := strconv.ParseUint(string(x), 10, 64); err == nil && dt.kind() == 'u' {
			return u, nil
		}
		if f, err := x.Float64(); err == nil && dt.kind() == 'f' {
			return f, nil
		}
	}
	return nil, fmt.Errorf("zarr: attribute _FillValue %v does not encode a value of %s", v, dt)
}

// toFloat returns a numeric fill value as a float64.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// codec is one entry of a v3 codecs list.
type codec struct {
	Name   string          `json:"name"`
	Config json.RawMessage `json:"configuration"`
}

// parseCodecs reads the v3 codecs of an array of dt: an array-to-bytes
// codec (bytes, vlen-utf8 or, unless nested, sharding_indexed) and at most
// one compressor. It returns the compressor, for a sharded array its inner
// chunk shape, and whether the values are big-endian (not in shards).
func parseCodecs(list []codec, dt DType, nested bool) (comp *Compressor, inner []int64, big bool, err error) {
	if len(list) == 0 {
		return nil, nil, false, fmt.Errorf("zarr: no codecs")
	}
	first := list[0]
	switch first.Name {
	case "bytes":
		var c struct {
			Endian string `json:"endian"`
		}
		_ = json.Unmarshal(first.Config, &c)
		big = c.Endian == "big" && dt.ItemSize() > 1 && dt.kind() != 'S'
		if big && nested {
			return nil, nil, false, fmt.Errorf("zarr: big-endian chunks in shards are not supported")
		}
		if dt == Strings {
			return nil, nil, false, fmt.Errorf("zarr: strings need the vlen-utf8 codec, not bytes")
		}
	case "vlen-utf8":
		if dt != Strings {
			return nil, nil, false, fmt.Errorf("zarr: the vlen-utf8 codec on an array of %s", dt)
		}
	case "sharding_indexed":
		if nested {
			return nil, nil, false, fmt.Errorf("zarr: shards within shards are not supported")
		}
		if len(list) > 1 {
			return nil, nil, false, fmt.Errorf("zarr: codecs after sharding_indexed are not supported")
		}
		var c struct {
			Chunks   []int64 `json:"chunk_shape"`
			Codecs   []codec `json:"codecs"`
			Index    []codec `json:"index_codecs"`
			Location string  `json:"index_location"`
		}
		if err := json.Unmarshal(first.Config, &c); err != nil {
			return nil, nil, false, fmt.Errorf("zarr: sharding_indexed: %w", err)
		}
		if c.Location != "" && c.Location != "end" {
			return nil, nil, false, fmt.Errorf("zarr: sharding_indexed: index_location %q is not supported (only end)", c.Location)
		}
		if len(c.Index) != 2 || c.Index[0].Name != "bytes" || c.Index[1].Name != "crc32c" ||
			strings.Contains(string(c.Index[0].Config), "big") {
			return nil, nil, false, fmt.Errorf("zarr: sharding_indexed: index codecs other than little-endian bytes and crc32c are not supported")
		}
		comp, _, _, err := parseCodecs(c.Codecs, dt, true)
		if err != nil {
			return nil, nil, false, fmt.Errorf("zarr: sharding_indexed: %w", err)
		}
		if c.Chunks == nil {
			c.Chunks = []int64{}
		}
		return comp, c.Chunks, false, nil
	default:
		return nil, nil, false, fmt.Errorf("zarr: codec %q is not supported (first codec: bytes, vlen-utf8 or sharding_indexed)", first.Name)
	}
	switch len(list) {
	case 1:
		return nil, nil, big, nil
	case 2:
		comp, err := parseV3Compressor(list[1])
		return comp, nil, big, err
	}
	return nil, nil, false, fmt.Errorf("zarr: %d codecs; one compressor after %s is supported", len(list), first.Name)
}

// parseV3Compressor reads a v3 compressor codec: zstd, gzip or blosc, or a
// numcodecs one ("numcodecs.zlib") with numcodecs' configuration.
func parseV3Compressor(c codec) (*Compressor, error) {
	if id, ok := strings.CutPrefix(c.Name, "numcodecs."); ok {
		var conf map[string]any
		if len(c.Config) > 0 {
			if err := json.Unmarshal(c.Config, &conf); err != nil {
				return nil, fmt.Errorf("zarr: codec %s: %w", c.Name, err)
			}
		}
		if conf == nil {
			conf = map[string]any{}
		}
		conf["id"] = id
		raw, _ := json.Marshal(conf)
		return parseCompressor(raw)
	}
	var conf struct {
		Level   int    `json:"level"`
		CLevel  int    `json:"clevel"`
		CName   string `json:"cname"`
		Shuffle string `json:"shuffle"`
	}
	if len(c.Config) > 0 {
		if err := json.Unmarshal(c.Config, &conf); err != nil {
			return nil, fmt.Errorf("zarr: codec %s: %w", c.Name, err)
		}
	}
	switch c.Name {
	case "zstd", "gzip", "zlib":
		if c.Name == "zstd" && conf.Level == 0 {
			conf.Level = DefaultZstdLevel // zstd's own default, which zarr-python may write as 0
		}
		return NewCompressor(c.Name, conf.Level)
	case "blosc":
		shuffle := map[string]int{"noshuffle": BloscNoShuffle, "shuffle": BloscShuffle, "bitshuffle": BloscBitShuffle}
		s, ok := shuffle[conf.Shuffle]
		if !ok {
			return nil, fmt.Errorf("zarr: blosc shuffle %q is not noshuffle, shuffle or bitshuffle", conf.Shuffle)
		}
		return NewBlosc(conf.CName, conf.CLevel, s)
	}
	return nil, fmt.Errorf("zarr: codec %q is not supported (want zstd, gzip, blosc or numcodecs.zlib)", c.Name)
}

// parseV3Fill reads a v3 fill_value of dt: a number, "NaN", "Infinity",
// "-Infinity" or a hex bit pattern ("0x7fc00000") for floats; base64 for
// fixed-width bytes; "" for strings.
func parseV3Fill(raw json.RawMessage, dt DType) (any, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil && dt.kind() == 'f' && strings.HasPrefix(s, "0x") {
		bits, err := strconv.ParseUint(s[2:], 16, 64)
		if err != nil {
			return nil, fmt.Errorf("zarr: fill_value %s: %w", raw, err)
		}
		if dt.ItemSize() == 4 {
			return float64(math.Float32frombits(uint32(bits))), nil
		}
		return math.Float64frombits(bits), nil
	}
	if dt == Strings {
		return nil, nil
	}
	return parseFill(raw, dt)
}

// parseZarrJSON reads a v3 array's zarr.json: its metadata and its
// attributes, but for _FillValue, which becomes the metadata's FillValue.
func parseZarrJSON(data []byte) (ArrayMeta, map[string]any, error) {
	var doc struct {
		Format    int             `json:"zarr_format"`
		NodeType  string          `json:"node_type"`
		Shape     []int64         `json:"shape"`
		DataType  json.RawMessage `json:"data_type"`
		ChunkGrid struct {
			Name   string `json:"name"`
			Config struct {
				Chunks []int64 `json:"chunk_shape"`
			} `json:"configuration"`
		} `json:"chunk_grid"`
		KeyEncoding struct {
			Name   string `json:"name"`
			Config struct {
				Separator string `json:"separator"`
			} `json:"configuration"`
		} `json:"chunk_key_encoding"`
		FillValue    json.RawMessage   `json:"fill_value"`
		Codecs       []codec           `json:"codecs"`
		Attrs        map[string]any    `json:"attributes"`
		Dims         []*string         `json:"dimension_names"`
		Transformers []json.RawMessage `json:"storage_transformers"`
	}
	d := json.NewDecoder(bytes.NewReader(quoteSpecialFloats(data)))
	d.UseNumber()
	if err := d.Decode(&doc); err != nil {
		return ArrayMeta{}, nil, fmt.Errorf("zarr.json: %w", err)
	}
	fail := func(format string, args ...any) (ArrayMeta, map[string]any, error) {
		return ArrayMeta{}, nil, fmt.Errorf("zarr.json: "+format, args...)
	}
	switch {
	case doc.Format != 3:
		return fail("zarr_format %d is not 3", doc.Format)
	case doc.NodeType != "array":
		return fail("node_type %q is not array", doc.NodeType)
	case doc.ChunkGrid.Name != "regular":
		return fail("chunk_grid %q is not supported (only regular)", doc.ChunkGrid.Name)
	case doc.KeyEncoding.Name != "default" || doc.KeyEncoding.Config.Separator != "" && doc.KeyEncoding.Config.Separator != "/":
		return fail("chunk_key_encoding %s with separator %q is not supported (only default with /)",
			doc.KeyEncoding.Name, doc.KeyEncoding.Config.Separator)
	case len(doc.Transformers) > 0:
		return fail("storage_transformers are not supported")
	}
	dt, err := parseV3DataType(doc.DataType)
	if err != nil {
		return fail("%v", err)
	}
	meta := ArrayMeta{Format: 3, Shape: doc.Shape, Chunks: doc.ChunkGrid.Config.Chunks, DType: dt}
	if meta.Shape == nil {
		meta.Shape = []int64{}
	}
	if meta.Chunks == nil {
		meta.Chunks = []int64{}
	}
	var big bool
	if meta.Compressor, meta.Inner, big, err = parseCodecs(doc.Codecs, dt, false); err != nil {
		return fail("%v", err)
	}
	if big { // the values' byte order, as a v2 dtype says it (inputs read it)
		meta.DType = ">" + dt[1:]
	}
	fill, err := parseV3Fill(unquotedRaw(doc.FillValue), dt)
	if err != nil {
		return fail("%v", err)
	}
	if doc.Dims != nil {
		meta.Dims = make([]string, len(doc.Dims))
		for i, name := range doc.Dims {
			if name == nil {
				return fail("dimension %d has no name", i)
			}
			meta.Dims[i] = *name
		}
	}
	attrs := map[string]any{}
	for k, v := range doc.Attrs {
		attrs[k] = unquoteSpecialFloats(v)
	}
	if v, ok := doc.Attrs[fillAttr]; ok && dt != Strings {
		if meta.FillValue, err = decodeFillAttr(v, dt); err != nil {
			return fail("%v", err)
		}
		delete(attrs, fillAttr)
	}
	if fmt.Sprint(fill) != fmt.Sprint(meta.FillValue) && !(meta.FillValue == nil && isZero(fill)) {
		meta.EmptyFill = fill
	}
	if err := meta.validate(); err != nil {
		return fail("%v", err)
	}
	return meta, attrs, nil
}

// isZero reports whether a fill value is zero (what unwritten chunks hold
// when there is none).
func isZero(v any) bool {
	f, ok := toFloat(v)
	return v == nil || ok && f == 0 && !math.Signbit(f) || v == ""
}

// unquotedRaw undoes quoteSpecialFloats in raw JSON text.
func unquotedRaw(raw []byte) []byte {
	for _, tok := range []string{"NaN", "Infinity", "-Infinity"} {
		raw = bytes.ReplaceAll(raw, []byte(`"\u0000float:`+tok+`"`), []byte(tok))
	}
	return raw
}

// rootV3 renders the root group's zarr.json with attrs (a JSON object) and,
// when metadata is not nil, the consolidated metadata of the arrays it
// maps to their zarr.json documents.
func rootV3(attrs []byte, metadata map[string][]byte) []byte {
	var b jsonWriter
	b.raw(`{"zarr_format":3,"node_type":"group","attributes":`)
	b.raw(string(attrs))
	if metadata != nil {
		names := make([]string, 0, len(metadata))
		for name := range metadata {
			names = append(names, name)
		}
		slices.Sort(names)
		b.raw(`,"consolidated_metadata":{"kind":"inline","must_understand":false,"metadata":{`)
		for i, name := range names {
			if i > 0 {
				b.raw(",")
			}
			b.key(name)
			b.raw(string(metadata[name]))
		}
		b.raw("}}")
	}
	b.raw("}")
	return b.bytes()
}

// writeRootV3 writes the root zarr.json with attrs and the named arrays'
// metadata consolidated.
func writeRootV3(ctx context.Context, st Store, attrs []byte, arrays []string) error {
	metadata := make(map[string][]byte, len(arrays))
	for _, a := range arrays {
		doc, err := st.Get(ctx, a+"/"+v3Meta)
		if err != nil {
			return fmt.Errorf("zarr: consolidating: %w", err)
		}
		metadata[a] = doc
	}
	return st.Put(ctx, v3Meta, rootV3(attrs, metadata))
}

// rootAttrsV3 returns the attributes of the root group's zarr.json, as
// JSON text.
func rootAttrsV3(ctx context.Context, st Store) ([]byte, error) {
	b, err := st.Get(ctx, v3Meta)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Format   int             `json:"zarr_format"`
		NodeType string          `json:"node_type"`
		Attrs    json.RawMessage `json:"attributes"`
	}
	if err := json.Unmarshal(quoteSpecialFloats(b), &doc); err != nil {
		return nil, fmt.Errorf("zarr: root zarr.json: %w", err)
	}
	if doc.Format != 3 || doc.NodeType != "group" {
		return nil, fmt.Errorf("zarr: root zarr.json is not that of a v3 group")
	}
	if len(doc.Attrs) == 0 {
		return []byte("{}"), nil
	}
	return unquotedRaw(doc.Attrs), nil
}
