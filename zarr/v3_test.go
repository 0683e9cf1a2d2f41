package zarr_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/zarr"
)

func (m *memStore) Delete(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objs, key)
	return nil
}

// TestV3Metadata: every kind of array zarrforge writes in v3 reads back as
// it was written, its zarr.json standard JSON (zarrita and JavaScript's
// JSON.parse take no NaN), with xarray's _FillValue attribute.
func TestV3Metadata(t *testing.T) {
	ctx := context.Background()
	blosc, _ := zarr.NewBlosc("zstd", 5, zarr.BloscBitShuffle)
	zstd, _ := zarr.NewCompressor("zstd", 0)
	zlib, _ := zarr.NewCompressor("zlib", 0)
	for _, tc := range []struct {
		name     string
		meta     zarr.ArrayMeta
		fillAttr string // the _FillValue attribute's JSON, "" for none
	}{
		{"sharded", zarr.ArrayMeta{Shape: []int64{10, 7}, Chunks: []int64{4, 7}, Inner: []int64{2, 7}, DType: "<i2", Compressor: zstd,
			FillValue: int64(-999), Dims: []string{"time", "lat"}}, `-999`},
		{"float NaN", zarr.ArrayMeta{Shape: []int64{3}, Chunks: []int64{3}, DType: "<f4", Compressor: blosc, FillValue: math.NaN(),
			Dims: []string{"x"}}, `"AAAAAAAA+H8="`},
		{"no fill", zarr.ArrayMeta{Shape: []int64{3}, Chunks: []int64{2}, DType: "<f8", Compressor: zlib, Dims: []string{"x"}}, ""},
		{"bytes", zarr.ArrayMeta{Shape: []int64{2}, Chunks: []int64{2}, DType: "|S4", FillValue: "ab", Dims: []string{"n"}}, `"YWI="`},
		{"strings", zarr.ArrayMeta{Shape: []int64{2}, Chunks: []int64{2}, DType: zarr.Strings, Compressor: zstd, Dims: []string{"n"}}, ""},
		{"scalar", zarr.ArrayMeta{Shape: []int64{}, Chunks: []int64{}, DType: "<u8", FillValue: uint64(math.MaxUint64), Dims: []string{}},
			`18446744073709551615`},
		{"xarray's", zarr.ArrayMeta{Shape: []int64{3}, Chunks: []int64{3}, DType: "<f4", FillValue: -1.5, EmptyFill: 0.0, Dims: []string{"x"}},
			`"AAAAAAAA+L8="`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newMem()
			tc.meta.Format = 3
			attrs := zarr.Attrs{{"units", "K"}, {"valid_max", math.Inf(1)}, {"missing", math.NaN()}}
			if err := zarr.WriteArrayMeta(ctx, st, "a", tc.meta, attrs); err != nil {
				t.Fatal(err)
			}
			doc := st.objs["a/zarr.json"]
			if !json.Valid(doc) || bytes.Contains(doc, []byte("NaN,")) {
				t.Fatalf("zarr.json is not standard JSON: %s", doc)
			}
			var raw struct {
				Attrs map[string]json.RawMessage `json:"attributes"`
				Dims  []string                   `json:"dimension_names"`
			}
			_ = json.Unmarshal(doc, &raw)
			if got := string(raw.Attrs["_FillValue"]); got != tc.fillAttr || raw.Attrs["_ARRAY_DIMENSIONS"] != nil {
				t.Errorf("_FillValue attribute %s, want %s (attributes %v)", got, tc.fillAttr, raw.Attrs)
			}
			if !slices.Equal(raw.Dims, tc.meta.Dims) {
				t.Errorf("dimension_names %v", raw.Dims)
			}
			got, gotAttrs, err := zarr.ReadArrayMeta(ctx, st, "a")
			if err != nil {
				t.Fatal(err)
			}
			if show(got) != show(tc.meta) {
				t.Errorf("read back\n %+v\nwant\n %+v", got, tc.meta)
			}
			if gotAttrs["units"] != "K" || gotAttrs["valid_max"] != "Infinity" || gotAttrs["missing"] != "NaN" || len(gotAttrs) != 3 {
				t.Errorf("attributes %v", gotAttrs) // special floats are strings in v3, as zarr-python 3 writes them
			}
			// Metadata updates keep the attributes.
			tc.meta.Shape = slices.Clone(tc.meta.Shape)
			if len(tc.meta.Shape) > 0 {
				tc.meta.Shape[0]++
			}
			if err := zarr.UpdateArrayMeta(ctx, st, "a", tc.meta); err != nil {
				t.Fatal(err)
			}
			if got, again, err := zarr.ReadArrayMeta(ctx, st, "a"); err != nil || !slices.Equal(got.Shape, tc.meta.Shape) || len(again) != 3 {
				t.Errorf("after an update: %+v %v %v", got, again, err)
			}
		})
	}
}

// TestV3Refusals: what zarrforge cannot read in a zarr.json is refused by
// name, not misread; big-endian values are read (as dtype ">i2").
func TestV3Refusals(t *testing.T) {
	base := `{"zarr_format":3,"node_type":"array","shape":[4],"data_type":"int16",` +
		`"chunk_grid":{"name":"regular","configuration":{"chunk_shape":[2]}},` +
		`"chunk_key_encoding":{"name":"default","configuration":{"separator":"/"}},"fill_value":0,` +
		`"codecs":[{"name":"bytes","configuration":{"endian":"little"}}],"attributes":{},"dimension_names":["x"]}`
	var ok zarr.ArrayMeta
	if err := json.Unmarshal([]byte(base), &ok); err != nil || ok.Format != 3 || ok.DType != "<i2" {
		t.Fatalf("the base document: %+v %v", ok, err)
	}
	var big zarr.ArrayMeta // read as numpy says it, for inputs to swap
	if err := json.Unmarshal([]byte(strings.Replace(base, `"endian":"little"`, `"endian":"big"`, 1)), &big); err != nil || big.DType != ">i2" {
		t.Errorf("a big-endian array: %+v %v", big, err)
	}
	for _, tc := range []struct{ from, to, want string }{
		{`"chunk_key_encoding":{"name":"default","configuration":{"separator":"/"}}`, `"chunk_key_encoding":{"name":"v2"}`, "chunk_key_encoding v2"},
		{`[{"name":"bytes","configuration":{"endian":"little"}}]`,
			`[{"name":"sharding_indexed","configuration":{"chunk_shape":[1],"codecs":[{"name":"bytes","configuration":{"endian":"big"}}],` +
				`"index_codecs":[{"name":"bytes","configuration":{"endian":"little"}},{"name":"crc32c"}]}}]`, "big-endian chunks in shards"},
		{`"data_type":"int16"`, `"data_type":"complex64"`, `data_type "complex64"`},
		{`"name":"regular"`, `"name":"rectilinear"`, `chunk_grid "rectilinear"`},
		{`[{"name":"bytes","configuration":{"endian":"little"}}]`, `[{"name":"transpose","configuration":{"order":[0]}},{"name":"bytes"}]`, `codec "transpose"`},
		{`[{"name":"bytes","configuration":{"endian":"little"}}]`, `[{"name":"bytes"},{"name":"lz4"}]`, `codec "lz4" is not supported`},
		{`"dimension_names":["x"]`, `"dimension_names":[null]`, "dimension 0 has no name"},
	} {
		doc := strings.Replace(base, tc.from, tc.to, 1)
		var m zarr.ArrayMeta
		if err := json.Unmarshal([]byte(doc), &m); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.to, err, tc.want)
		}
	}
}

// TestShards: a shard decodes to what was encoded; inner chunks of only
// fill are left out of it and read back as fill; a damaged shard is an
// error, not a wrong value.
func TestShards(t *testing.T) {
	zstd, _ := zarr.NewCompressor("zstd", 0)
	for _, comp := range []*zarr.Compressor{nil, zstd} {
		meta := zarr.ArrayMeta{Format: 3, Shape: []int64{5, 7}, Chunks: []int64{4, 6}, Inner: []int64{2, 3}, DType: "<i2",
			Compressor: comp, FillValue: int64(-999)}
		raw := make([]byte, meta.ChunkBytes())
		for i := range 24 {
			v := int16(i)
			if i/6 >= 2 && i%6 >= 3 { // inner chunk (1, 1): only fill
				v = -999
			}
			binary.LittleEndian.PutUint16(raw[2*i:], uint16(v))
		}
		enc, err := zarr.EncodeChunk(meta, raw)
		if err != nil {
			t.Fatal(err)
		}
		index := enc[len(enc)-4-16*4 : len(enc)-4]
		if binary.LittleEndian.Uint64(index[48:]) != math.MaxUint64 || binary.LittleEndian.Uint64(index[0:]) != 0 {
			t.Errorf("index %x: inner chunk (1, 1) should be left out", index)
		}
		got, err := zarr.DecodeChunk(meta, enc)
		if err != nil || !bytes.Equal(got, raw) {
			t.Fatalf("decoded %v, %v", got, err)
		}
		for name, damage := range map[string]func([]byte) []byte{
			"a flipped index byte": func(b []byte) []byte { b[len(b)-10] ^= 1; return b },
			"truncated":            func(b []byte) []byte { return b[:20] },
			"an offset past the end": func(b []byte) []byte {
				idx := b[len(b)-4-64 : len(b)-4]
				binary.LittleEndian.PutUint64(idx, 1<<40)
				binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.Checksum(idx, crc32.MakeTable(crc32.Castagnoli)))
				return b
			},
		} {
			if _, err := zarr.DecodeChunk(meta, damage(bytes.Clone(enc))); err == nil {
				t.Errorf("%s: decoded", name)
			}
		}
	}
}

// TestShardEncoderBox: a shard encoded from a box of a larger region —
// the array's last shard, partly past its edge — is the shard EncodeChunk
// makes of the same values cut out and padded with the fill, byte for
// byte, on every call of a reused encoder; a box that does not fit is
// refused, not a panic.
func TestShardEncoderBox(t *testing.T) {
	zstd, _ := zarr.NewCompressor("zstd", 3)
	meta := zarr.ArrayMeta{Format: 3, Shape: []int64{6, 9}, Chunks: []int64{4, 6}, Inner: []int64{2, 3}, DType: "<i2",
		Compressor: zstd, FillValue: int64(-1)}
	fill := []byte{0xff, 0xff}
	region := make([]byte, 2*6*9) // the whole array: shard (1, 1) is rows 4-5, columns 6-8
	for i := range 54 {
		binary.LittleEndian.PutUint16(region[2*i:], uint16(i))
	}
	raw := make([]byte, meta.ChunkBytes()) // shard (1, 1) cut out, padded
	for i := range 24 {
		r, c := i/6, i%6
		v := uint16(0xffff)
		if 4+r < 6 && 6+c < 9 {
			v = uint16((4+r)*9 + 6 + c)
		}
		binary.LittleEndian.PutUint16(raw[2*i:], v)
	}
	want, err := zarr.EncodeChunk(meta, raw)
	if err != nil {
		t.Fatal(err)
	}
	var enc zarr.ShardEncoder
	box := zarr.ShardBox{Data: region, Shape: []int64{6, 9}, At: []int64{4, 6}, Count: []int64{2, 3}, Fill: fill}
	for range 3 {
		var got bytes.Buffer
		n, err := enc.Encode(meta, box, &got)
		if err != nil || n != int64(got.Len()) || !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("Encode: %d bytes, %v; equal to EncodeChunk's: %v", n, err, bytes.Equal(got.Bytes(), want))
		}
	}
	for name, b := range map[string]zarr.ShardBox{
		"past the values":     {Data: region, Shape: []int64{6, 9}, At: []int64{4, 6}, Count: []int64{4, 3}},
		"larger than a shard": {Data: make([]byte, 2*6*9), Shape: []int64{6, 9}, At: []int64{0, 0}, Count: []int64{6, 6}},
		"short values":        {Data: region[:10], Shape: []int64{6, 9}, At: []int64{0, 0}, Count: []int64{2, 3}},
		"dimensions":          {Data: region, Shape: []int64{54}, At: []int64{0}, Count: []int64{2}},
		"fill width":          {Data: region, Shape: []int64{6, 9}, At: []int64{0, 0}, Count: []int64{2, 3}, Fill: []byte{1}},
	} {
		if _, err := enc.Encode(meta, b, io.Discard); err == nil {
			t.Errorf("%s: encoded", name)
		}
	}
}

// FuzzDecodeShard: any bytes decode to a shard or to an error.
func FuzzDecodeShard(f *testing.F) {
	zstd, _ := zarr.NewCompressor("zstd", 0)
	meta := zarr.ArrayMeta{Format: 3, Shape: []int64{5, 7}, Chunks: []int64{4, 6}, Inner: []int64{2, 3}, DType: "<f4", Compressor: zstd}
	enc, _ := zarr.EncodeChunk(meta, make([]byte, meta.ChunkBytes()))
	f.Add(enc)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := zarr.DecodeChunk(meta, data)
		if err == nil && int64(len(out)) != meta.ChunkBytes() {
			t.Fatalf("decoded %d bytes", len(out))
		}
	})
}

// TestKeys: chunk keys in both formats, and what is not one.
func TestKeys(t *testing.T) {
	v2 := zarr.ArrayMeta{Shape: []int64{4, 4}, Chunks: []int64{2, 2}}
	v3 := v2
	v3.Format = 3
	scalar3 := zarr.ArrayMeta{Format: 3, Shape: []int64{}, Chunks: []int64{}}
	for _, tc := range []struct {
		meta zarr.ArrayMeta
		idx  []int64
		key  string
	}{
		{v2, []int64{1, 0}, "sst/1.0"},
		{v3, []int64{1, 0}, "sst/c/1/0"},
		{scalar3, []int64{}, "sst/c"},
		{zarr.ArrayMeta{Shape: []int64{}, Chunks: []int64{}}, []int64{}, "sst/0"},
	} {
		if got := tc.meta.Key("sst", tc.idx); got != tc.key {
			t.Errorf("Key(%v) = %q, want %q", tc.idx, got, tc.key)
		}
		if idx, ok := tc.meta.ParseKey("sst", tc.key); !ok || !slices.Equal(idx, tc.idx) {
			t.Errorf("ParseKey(%q) = %v, %v", tc.key, idx, ok)
		}
	}
	for _, key := range []string{"sst/zarr.json", "sst/c/1", "sst/c/1/0/2", "sst/c/01/0", "sst/1.0", "sst/c/-1/0", "other/c/1/0"} {
		if idx, ok := v3.ParseKey("sst", key); ok {
			t.Errorf("ParseKey(%q) = %v", key, idx)
		}
	}
}

// TestV3Group: the root zarr.json is written once, with the arrays'
// metadata inline; Withdraw takes the consolidated metadata away and
// Consolidate brings it back, the group's attributes kept.
func TestV3Group(t *testing.T) {
	ctx := context.Background()
	st := newMem()
	meta := zarr.ArrayMeta{Format: 3, Shape: []int64{3}, Chunks: []int64{3}, DType: "<i4", Dims: []string{"x"}}
	if err := zarr.WriteArrayMeta(ctx, st, "x", meta, nil); err != nil {
		t.Fatal(err)
	}
	if err := zarr.WriteGroup(ctx, st, 3, zarr.Attrs{{"title", "t"}, {"nan", math.NaN()}}, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	keys := func() []string {
		var out []string
		for k := range st.objs {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	if ok, err := zarr.IsConsolidated(ctx, st, keys()); !ok || err != nil || zarr.FormatOf(keys()) != 3 {
		t.Fatalf("consolidated %v %v, format %d", ok, err, zarr.FormatOf(keys()))
	}
	var root struct {
		Attrs        map[string]any `json:"attributes"`
		Consolidated struct {
			Kind     string                     `json:"kind"`
			Metadata map[string]json.RawMessage `json:"metadata"`
		} `json:"consolidated_metadata"`
	}
	if err := json.Unmarshal(st.objs["zarr.json"], &root); err != nil || root.Attrs["title"] != "t" || root.Attrs["nan"] != "NaN" ||
		root.Consolidated.Kind != "inline" || !bytes.Equal(root.Consolidated.Metadata["x"], st.objs["x/zarr.json"]) {
		t.Fatalf("root zarr.json %s (%v)", st.objs["zarr.json"], err)
	}
	if err := zarr.Withdraw(ctx, st, 3); err != nil {
		t.Fatal(err)
	}
	if ok, _ := zarr.IsConsolidated(ctx, st, keys()); ok {
		t.Error("still consolidated after Withdraw")
	}
	if err := zarr.Consolidate(ctx, st, 3, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := zarr.IsConsolidated(ctx, st, keys()); !ok || !bytes.Contains(st.objs["zarr.json"], []byte(`"title":"t"`)) {
		t.Errorf("after Consolidate: %s", st.objs["zarr.json"])
	}
	if got := zarr.Arrays(keys()); !slices.Equal(got, []string{"x"}) {
		t.Errorf("Arrays = %v", got)
	}
}

// show renders m for comparison, its compressor included.
func show(m zarr.ArrayMeta) string {
	c := m.Compressor
	m.Compressor = nil
	if c != nil {
		return fmt.Sprintf("%+v %+v", m, *c)
	}
	return fmt.Sprintf("%+v", m)
}

// FuzzArrayMeta: any document reads as array metadata or as an error, and
// what reads renders again.
func FuzzArrayMeta(f *testing.F) {
	zstd, _ := zarr.NewCompressor("zstd", 0)
	for _, m := range []zarr.ArrayMeta{
		{Format: 3, Shape: []int64{10, 7}, Chunks: []int64{4, 7}, Inner: []int64{2, 7}, DType: "<i2", Compressor: zstd, FillValue: int64(-9), Dims: []string{"t", "y"}},
		{Shape: []int64{3}, Chunks: []int64{2}, DType: "<f4", FillValue: math.NaN()},
	} {
		doc, _ := m.MarshalJSON()
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var m zarr.ArrayMeta
		if json.Unmarshal(doc, &m) != nil {
			return
		}
		if _, err := m.MarshalJSON(); err != nil {
			t.Fatalf("%s read as %+v, which does not render: %v", doc, m, err)
		}
	})
}
