package zarr_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/zarr"
)

// memStore is an in-memory zarr.Store.
type memStore struct {
	mu   sync.Mutex
	objs map[string][]byte
}

func newMem() *memStore { return &memStore{objs: map[string][]byte{}} }

func (m *memStore) Get(_ context.Context, key string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[key]
	if !ok {
		return nil, fmt.Errorf("%s: %w", key, fs.ErrNotExist)
	}
	return b, nil
}

func (m *memStore) Put(_ context.Context, key string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objs[key] = append([]byte(nil), data...)
	return nil
}

// dirStore writes objects as files under a directory.
type dirStore string

func (d dirStore) Get(_ context.Context, key string) ([]byte, error) {
	return os.ReadFile(filepath.Join(string(d), key))
}

func (d dirStore) Put(_ context.Context, key string, data []byte) error {
	p := filepath.Join(string(d), key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

func TestChunkRoundTrip(t *testing.T) {
	for _, dt := range []zarr.DType{"|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f4", "<f8", "|S1"} {
		for _, comp := range []string{"none", "zstd", "zlib", "gzip", "blosc", "lz4"} {
			c, err := zarr.NewCompressor(comp, 0)
			if err != nil {
				t.Fatal(err)
			}
			meta := zarr.ArrayMeta{Shape: []int64{5, 7}, Chunks: []int64{3, 4}, DType: dt, Compressor: c}
			raw := make([]byte, meta.ChunkBytes())
			for i := range raw {
				raw[i] = byte(i * 7)
			}
			enc, err := zarr.EncodeChunk(meta, raw)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := zarr.DecodeChunk(meta, enc)
			if err != nil || !bytes.Equal(dec, raw) {
				t.Errorf("%s/%s: round trip failed: %v", dt, comp, err)
			}
			if _, err := zarr.EncodeChunk(meta, raw[1:]); err == nil {
				t.Errorf("%s/%s: a short chunk was encoded", dt, comp)
			}
		}
	}
}

func TestArrayMetaJSON(t *testing.T) {
	c, _ := zarr.NewCompressor("zstd", 0)
	tests := []struct {
		meta zarr.ArrayMeta
		want string
	}{
		{zarr.ArrayMeta{Shape: []int64{10, 3}, Chunks: []int64{4, 3}, DType: "<i2", Compressor: c, FillValue: int64(-999)},
			`{"chunks":[4,3],"compressor":{"id":"zstd","level":3},"dimension_separator":".","dtype":"<i2","fill_value":-999,"filters":null,"order":"C","shape":[10,3],"zarr_format":2}`},
		{zarr.ArrayMeta{Shape: []int64{2}, Chunks: []int64{2}, DType: "<f4", FillValue: math.NaN()},
			`{"chunks":[2],"compressor":null,"dimension_separator":".","dtype":"<f4","fill_value":"NaN","filters":null,"order":"C","shape":[2],"zarr_format":2}`},
		{zarr.ArrayMeta{Shape: []int64{}, Chunks: []int64{}, DType: "<f8", FillValue: 1.0},
			`{"chunks":[],"compressor":null,"dimension_separator":".","dtype":"<f8","fill_value":1.0,"filters":null,"order":"C","shape":[],"zarr_format":2}`},
		{zarr.ArrayMeta{Shape: []int64{1}, Chunks: []int64{1}, DType: "<u8", FillValue: uint64(math.MaxUint64)},
			`{"chunks":[1],"compressor":null,"dimension_separator":".","dtype":"<u8","fill_value":18446744073709551615,"filters":null,"order":"C","shape":[1],"zarr_format":2}`},
		{zarr.ArrayMeta{Shape: []int64{1}, Chunks: []int64{1}, DType: "<f8", FillValue: math.Inf(-1)},
			`{"chunks":[1],"compressor":null,"dimension_separator":".","dtype":"<f8","fill_value":"-Infinity","filters":null,"order":"C","shape":[1],"zarr_format":2}`},
	}
	for _, tc := range tests {
		got, err := tc.meta.MarshalJSON()
		if err != nil || string(got) != tc.want {
			t.Errorf("got %s (%v)\nwant %s", got, err, tc.want)
			continue
		}
		var back zarr.ArrayMeta
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		again, _ := back.MarshalJSON()
		if string(again) != tc.want {
			t.Errorf("read back as %s", again)
		}
	}
}

// TestOtherWriters: .zarray documents as other tools write them read
// as what they mean — "<i1" is "|i1", lz4 and Blosc's bit shuffle are
// codecs like the others — and what would be misread is refused.
func TestOtherWriters(t *testing.T) {
	doc := func(dtype, compressor string) string {
		return `{"chunks":[2],"compressor":` + compressor + `,"dtype":"` + dtype +
			`","fill_value":0,"filters":null,"order":"C","shape":[4],"zarr_format":2}`
	}
	for _, tc := range []struct {
		doc, dtype, comp, err string
	}{
		{doc("<i1", "null"), "|i1", "<nil>", ""},
		{doc(">u1", "null"), "|u1", "<nil>", ""},
		{doc("<f4", `{"id":"lz4","acceleration":3}`), "<f4", "&{ID:lz4 Level:3 CName: Shuffle:0}", ""},
		{doc("<f4", `{"id":"blosc","cname":"zstd","clevel":9,"shuffle":2,"blocksize":0}`), "<f4", "&{ID:blosc Level:9 CName:zstd Shuffle:2}", ""},
		{doc(">f4", "null"), ">f4", "<nil>", ""}, // its chunks are refused: below
		{doc("<f4", `{"id":"zfpy","mode":4}`), "", "", `unknown compressor "zfpy"`},
		{doc("|b1", "null"), "", "", `unsupported dtype "|b1"`},
	} {
		var m zarr.ArrayMeta
		err := json.Unmarshal([]byte(tc.doc), &m)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want %q", tc.doc, err, tc.err)
			}
		case err != nil || m.DType != zarr.DType(tc.dtype) || fmt.Sprintf("%+v", m.Compressor) != tc.comp:
			t.Errorf("%s: dtype %s compressor %+v (%v)", tc.doc, m.DType, m.Compressor, err)
		}
	}
	big := zarr.ArrayMeta{Shape: []int64{2}, Chunks: []int64{2}, DType: ">f4"}
	if _, err := zarr.DecodeChunk(big, make([]byte, 8)); err == nil || !strings.Contains(err.Error(), `big-endian dtype ">f4"`) {
		t.Errorf("a big-endian chunk: %v", err)
	}
}

// TestVector writes 1-D arrays in chunks of every kind (one, several with
// a short last one, larger than the array) and reads them back.
func TestVector(t *testing.T) {
	ctx := context.Background()
	raw := make([]byte, 7*4)
	for i := range raw {
		raw[i] = byte(i + 1)
	}
	zstd, _ := zarr.NewCompressor("zstd", 1)
	for _, chunk := range []int64{1, 3, 7, 10} {
		st := newMem()
		meta := zarr.ArrayMeta{Shape: []int64{7}, Chunks: []int64{chunk}, DType: "<f4", Compressor: zstd}
		if err := zarr.WriteVector(ctx, st, "time", meta, raw); err != nil {
			t.Fatal(err)
		}
		if want := (7 + chunk - 1) / chunk; int64(len(st.objs)) != want {
			t.Errorf("chunks of %d: %d objects, want %d", chunk, len(st.objs), want)
		}
		got, err := zarr.ReadArray(ctx, st, "time", meta)
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("chunks of %d: read back %v, %v", chunk, got, err)
		}
	}
	st := newMem()
	meta := zarr.ArrayMeta{Shape: []int64{7}, Chunks: []int64{3}, DType: "<f4"}
	if err := zarr.WriteVector(ctx, st, "time", meta, raw[4:]); err == nil {
		t.Error("wrote 6 values as 7")
	}
	meta.FillValue = -1.5 // chunks never written hold the fill value, as zarr-python reads them
	got, err := zarr.ReadArray(ctx, st, "time", meta)
	if err != nil || len(got) != 28 || math.Float32frombits(binary.LittleEndian.Uint32(got[24:])) != -1.5 {
		t.Errorf("reading missing chunks: %v, %v", got, err)
	}
}

func TestAttrsJSON(t *testing.T) {
	a := zarr.Attrs{{"units", "degC"}, {"scale", float32(0.5)}, {"one", 1.0}, {"n", int16(-3)}, {"nan", math.NaN()},
		{"list", []float64{1, math.Inf(1)}}, {"dims", []string{"time", "lat"}}, {"ok", true}}
	got, err := a.MarshalJSON()
	want := `{"units":"degC","scale":0.5,"one":1.0,"n":-3,"nan":NaN,"list":[1.0,Infinity],"dims":["time","lat"],"ok":true}`
	if err != nil || string(got) != want {
		t.Fatalf("got %s (%v)\nwant %s", got, err, want)
	}
	back, err := zarr.ParseAttrs(got)
	if err != nil {
		t.Fatal(err)
	}
	if v := back["nan"].(float64); !math.IsNaN(v) || back["units"] != "degC" {
		t.Errorf("read back %v", back)
	}
	if _, err := (zarr.Attrs{{"x", struct{}{}}}).MarshalJSON(); err == nil {
		t.Error("an unsupported value was written")
	}
}

func TestConsolidate(t *testing.T) {
	ctx := context.Background()
	st := newMem()
	meta := zarr.ArrayMeta{Shape: []int64{3}, Chunks: []int64{3}, DType: "<i4", Dims: []string{"x"}}
	if err := zarr.WriteArrayMeta(ctx, st, "x", meta, nil); err != nil {
		t.Fatal(err)
	}
	if err := zarr.Consolidate(ctx, st, 2, []string{"x"}); err == nil {
		t.Error("consolidated a store without a group")
	}
	if err := zarr.WriteGroup(ctx, st, 2, zarr.Attrs{{"title", "t"}}, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Metadata map[string]json.RawMessage `json:"metadata"`
		Format   int                        `json:"zarr_consolidated_format"`
	}
	if err := json.Unmarshal(st.objs[".zmetadata"], &doc); err != nil || doc.Format != 1 || len(doc.Metadata) != 4 {
		t.Errorf(".zmetadata %s (%v)", st.objs[".zmetadata"], err)
	}
	m, attrs, err := zarr.ReadArrayMeta(ctx, st, "x")
	if err != nil || m.DType != "<i4" || !slices.Equal(m.Dims, []string{"x"}) || attrs["_ARRAY_DIMENSIONS"] != nil {
		t.Errorf("ReadArrayMeta = %+v %v %v", m, attrs, err)
	}
	if _, _, err := zarr.ReadArrayMeta(ctx, st, "missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing array: %v", err)
	}
}

func TestCompressorErrors(t *testing.T) {
	for _, tc := range []struct {
		id    string
		level int
	}{{"blosc", 10}, {"lzma", 0}, {"zstd", 23}, {"zlib", 10}, {"gzip", -1}, {"lz4", -1}} {
		if _, err := zarr.NewCompressor(tc.id, tc.level); err == nil {
			t.Errorf("NewCompressor(%q, %d) accepted", tc.id, tc.level)
		}
	}
}

// TestZarrPythonReads writes arrays of every dtype with every compressor,
// chunks that do not divide the shape, and odd attributes, and has
// zarr-python read them back.
// TestAttrsJSONASCII checks that metadata JSON is ASCII, as zarr-python
// writes it (zarr-python 2 cannot read anything else), and reads back to
// the same text.
func TestAttrsJSONASCII(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{"Smith \u2013 Jones", `"Smith \u2013 Jones"`},
		{"Z\u00fcrich", `"Z\u00fcrich"`},
		{"\U0001F30A wave", `"\ud83c\udf0a wave"`},
		{"quote \" back \\ nl \n tab \t bell \x07", `"quote \" back \\ nl \n tab \t bell \u0007"`},
		{"bad \x80 byte", `"bad \ufffd byte"`},
		{"<html> & co", `"<html> & co"`},
	}
	for _, tc := range tests {
		got, err := zarr.Attrs{{"k\u00e9", tc.in}}.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"k\u00e9":` + tc.want + `}`; string(got) != want {
			t.Errorf("%q: got %s, want %s", tc.in, got, want)
		}
		back, err := zarr.ParseAttrs(got)
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.ToValidUTF8(tc.in, "\ufffd"); back["k\u00e9"] != want {
			t.Errorf("%q: read back %q", tc.in, back["k\u00e9"])
		}
	}
}

func TestZarrPythonReads(t *testing.T) {
	py := beamtest.RequirePython(t, "zarr", "numcodecs", "numpy")
	ctx := context.Background()
	dir := t.TempDir()
	st := dirStore(dir)
	var names []string
	for _, dt := range []zarr.DType{"|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f4", "<f8"} {
		for _, comp := range []string{"none", "zstd", "zlib", "gzip", "blosc", "lz4"} {
			c, _ := zarr.NewCompressor(comp, 0)
			name := fmt.Sprintf("%s_%s", strings.Trim(string(dt), "<|"), comp)
			names = append(names, name)
			meta := zarr.ArrayMeta{Shape: []int64{5, 3}, Chunks: []int64{2, 3}, DType: dt, Compressor: c, FillValue: int64(7)}
			if dt[1] == 'f' {
				meta.FillValue = math.NaN()
			}
			attrs := zarr.Attrs{{"_ARRAY_DIMENSIONS", []string{"y", "x"}}, {"scale", float32(0.01)}, {"nan", math.NaN()}, {"ints", []int32{1, 2}}}
			if err := zarr.WriteArrayMeta(ctx, st, name, meta, attrs); err != nil {
				t.Fatal(err)
			}
			size := int64(dt.ItemSize())
			for ci := int64(0); ci < 3; ci++ {
				raw := make([]byte, 2*3*size)
				for e := int64(0); e < 6; e++ {
					raw[e*size] = byte(ci*6 + e) // element value = its flat index, little-endian
				}
				if dt[1] == 'f' { // floats: write float values instead
					for e := int64(0); e < 6; e++ {
						if size == 4 {
							putF32(raw[e*4:], float32(ci*6+e))
						} else {
							putF64(raw[e*8:], float64(ci*6+e))
						}
					}
				}
				enc, err := zarr.EncodeChunk(meta, raw)
				if err != nil {
					t.Fatal(err)
				}
				if err := st.Put(ctx, meta.Key(name, []int64{ci, 0}), enc); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := zarr.WriteGroup(ctx, st, 2, zarr.Attrs{{"title", "interop"}}, names); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, json, zarr, numpy as np
g = zarr.open_consolidated(sys.argv[1])
out = {}
for name, a in g.arrays():
    v = a[:]
    out[name] = {"values": [float(x) for x in v.ravel()], "dtype": a.dtype.str,
                 "scale_type": type(a.attrs["scale"]).__name__, "nan": str(a.attrs["nan"]), "ints": a.attrs["ints"]}
print(json.dumps(out))
`
	out, err := exec.Command(py, "-c", script, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("zarr-python: %v\n%s", err, out)
	}
	var got map[string]struct {
		Values    []float64
		DType     string
		ScaleType string `json:"scale_type"`
		NaN       string
		Ints      []int
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, name := range names {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: not read", name)
			continue
		}
		for i, v := range g.Values {
			if v != float64(i) {
				t.Errorf("%s: value %d = %v", name, i, v)
				break
			}
		}
		if g.ScaleType != "float" || g.NaN != "nan" || len(g.Ints) != 2 {
			t.Errorf("%s: attrs read as %+v", name, g)
		}
	}
}

func putF32(b []byte, f float32) {
	u := math.Float32bits(f)
	b[0], b[1], b[2], b[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
}

func putF64(b []byte, f float64) {
	u := math.Float64bits(f)
	for i := 0; i < 8; i++ {
		b[i] = byte(u >> (8 * i))
	}
}

func ExampleWriteArrayMeta() {
	ctx := context.Background()
	st := newMem()
	comp, _ := zarr.NewCompressor("zstd", 1)
	meta := zarr.ArrayMeta{Shape: []int64{4}, Chunks: []int64{2}, DType: "<i2", Compressor: comp, FillValue: int64(-999)}
	_ = zarr.WriteArrayMeta(ctx, st, "sst", meta, zarr.Attrs{{"_ARRAY_DIMENSIONS", []string{"time"}}, {"scale_factor", 0.01}})
	chunk, _ := zarr.EncodeChunk(meta, []byte{1, 0, 2, 0})
	_ = st.Put(ctx, meta.Key("sst", []int64{0}), chunk)
	fmt.Println(string(st.objs["sst/.zarray"]))
	fmt.Println(string(st.objs["sst/.zattrs"]))
	// Output:
	// {"chunks":[2],"compressor":{"id":"zstd","level":1},"dimension_separator":".","dtype":"<i2","fill_value":-999,"filters":null,"order":"C","shape":[4],"zarr_format":2}
	// {"_ARRAY_DIMENSIONS":["time"],"scale_factor":0.01}
}

func ExampleWriteVector() {
	ctx := context.Background()
	st := newMem()
	meta := zarr.ArrayMeta{Shape: []int64{5}, Chunks: []int64{2}, DType: "|u1"}
	_ = zarr.WriteVector(ctx, st, "time", meta, []byte{10, 11, 12, 13, 14})
	fmt.Println(st.objs["time/0"], st.objs["time/1"], st.objs["time/2"]) // the last chunk padded
	values, err := zarr.ReadArray(ctx, st, "time", meta)
	fmt.Println(values, err)
	// Output:
	// [10 11] [12 13] [14 0]
	// [10 11 12 13 14] <nil>
}

func ExampleEncodeStrings() {
	ctx := context.Background()
	st := newMem()
	meta := zarr.ArrayMeta{Shape: []int64{3}, Chunks: []int64{3}, DType: zarr.Strings}
	_ = zarr.WriteArrayMeta(ctx, st, "station", meta, zarr.Attrs{{"_ARRAY_DIMENSIONS", []string{"n"}}})
	chunk, _ := zarr.EncodeStrings(meta, []string{"Z\u00fcrich", "", "Ushuaia"})
	_ = st.Put(ctx, meta.Key("station", []int64{0}), chunk)
	fmt.Println(string(st.objs["station/.zarray"]))
	back, err := zarr.DecodeStrings(meta, chunk)
	fmt.Printf("%q %v\n", back, err)
	// Output:
	// {"chunks":[3],"compressor":null,"dimension_separator":".","dtype":"|O","fill_value":null,"filters":[{"id":"vlen-utf8"}],"order":"C","shape":[3],"zarr_format":2}
	// ["Zürich" "" "Ushuaia"] <nil>
}

// TestChunkEncoder encodes chunks above and below the streaming size, whole
// and piece by piece into a writer, and checks that they decode to what
// went in, here and with numcodecs.
func TestChunkEncoder(t *testing.T) {
	var enc zarr.ChunkEncoder
	dir := t.TempDir()
	var files []string
	for _, n := range []int64{1000, 3 << 20} {
		for _, comp := range []string{"none", "zstd", "zlib", "gzip", "blosc", "lz4"} {
			c, _ := zarr.NewCompressor(comp, 1)
			meta := zarr.ArrayMeta{Shape: []int64{n}, Chunks: []int64{n}, DType: "<i2", Compressor: c}
			raw := make([]byte, meta.ChunkBytes())
			for i := range raw {
				raw[i] = byte(i*i>>7) ^ byte(i>>13)
			}
			var one bytes.Buffer // the chunk given in one Write
			if err := enc.Begin(meta, &one); err != nil {
				t.Fatal(err)
			}
			enc.Write(raw)
			if _, err := enc.Finish(); err != nil {
				t.Fatal(err)
			}
			whole := one.Bytes()
			var out bytes.Buffer
			if err := enc.Begin(meta, &out); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(raw); i += 70001 {
				enc.Write(raw[i:min(i+70001, len(raw))])
			}
			size, err := enc.Finish()
			if err != nil {
				t.Fatal(err)
			}
			pieces := out.Bytes()
			if size != int64(len(pieces)) {
				t.Errorf("%s: Finish says %d bytes, %d were written", comp, size, len(pieces))
			}
			if !bytes.Equal(whole, pieces) { // stores must be byte-for-byte repeatable
				t.Errorf("%s %d bytes: encoding whole and in pieces differ", comp, len(raw))
			}
			for name, b := range map[string][]byte{"whole": whole, "pieces": pieces} {
				dec, err := zarr.DecodeChunk(meta, b)
				if err != nil || !bytes.Equal(dec, raw) {
					t.Errorf("%s %d bytes, %s: round trip failed: %v", comp, len(raw), name, err)
				}
			}
			if comp != "none" {
				name := fmt.Sprintf("%s_%d", comp, n)
				files = append(files, name)
				os.WriteFile(filepath.Join(dir, name), pieces, 0o644)
				os.WriteFile(filepath.Join(dir, name+".raw"), raw, 0o644)
			}
			enc.Begin(meta, io.Discard)
			enc.Write(raw[1:])
			if _, err := enc.Finish(); err == nil {
				t.Errorf("%s: a short chunk was encoded", comp)
			}
		}
	}
	py := beamtest.RequirePython(t, "numcodecs")
	script := `
import sys, numcodecs
codecs = {"zstd": numcodecs.Zstd(), "zlib": numcodecs.Zlib(), "gzip": numcodecs.GZip(), "blosc": numcodecs.Blosc(), "lz4": numcodecs.LZ4()}
for name in sys.argv[2:]:
    data = open(sys.argv[1] + "/" + name, "rb").read()
    raw = open(sys.argv[1] + "/" + name + ".raw", "rb").read()
    if bytes(codecs[name.split("_")[0]].decode(data)) != raw:
        sys.exit(name + ": numcodecs decodes something else")
`
	if out, err := exec.Command(py, append([]string{"-c", script, dir}, files...)...).CombinedOutput(); err != nil {
		t.Fatalf("numcodecs: %v\n%s", err, out)
	}
}

// closable records writes made after it is closed.
type closable struct {
	mu     sync.Mutex
	closed bool
	late   int
}

func (c *closable) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.late += len(p)
	}
	return len(p), nil
}

// TestChunkEncoderAbort abandons large chunks half-way: once Abort returns
// nothing more reaches the chunk's writer, and the next chunk encodes as
// if nothing had happened.
func TestChunkEncoderAbort(t *testing.T) {
	var enc zarr.ChunkEncoder
	for _, comp := range []string{"none", "zstd", "zlib", "gzip", "blosc", "lz4"} {
		c, _ := zarr.NewCompressor(comp, 1)
		meta := zarr.ArrayMeta{Shape: []int64{4 << 20}, Chunks: []int64{4 << 20}, DType: "<i2", Compressor: c}
		raw := make([]byte, meta.ChunkBytes())
		for i := range raw {
			raw[i] = byte(i*i>>9) ^ byte(i>>11)
		}
		for range 3 {
			dst := &closable{}
			if err := enc.Begin(meta, dst); err != nil {
				t.Fatal(err)
			}
			enc.Write(raw[:len(raw)/2])
			enc.Abort()
			dst.mu.Lock()
			dst.closed = true
			dst.mu.Unlock()
			var out bytes.Buffer
			if err := enc.Begin(meta, &out); err != nil {
				t.Fatal(err)
			}
			enc.Write(raw)
			if _, err := enc.Finish(); err != nil {
				t.Fatalf("%s: after Abort: %v", comp, err)
			}
			if dec, err := zarr.DecodeChunk(meta, out.Bytes()); err != nil || !bytes.Equal(dec, raw) {
				t.Fatalf("%s: the chunk after Abort does not round-trip: %v", comp, err)
			}
			if dst.late != 0 {
				t.Fatalf("%s: %d bytes written to an aborted chunk's writer after Abort", comp, dst.late)
			}
		}
	}
}

func ExampleChunkEncoder() {
	comp, _ := zarr.NewCompressor("zstd", 1)
	meta := zarr.ArrayMeta{Shape: []int64{4, 3}, Chunks: []int64{4, 3}, DType: "|u1", Compressor: comp}
	var enc zarr.ChunkEncoder
	var out bytes.Buffer
	_ = enc.Begin(meta, &out)
	for row := range 4 { // the chunk, as it is assembled, row by row
		enc.Write([]byte{byte(row), byte(row), byte(row)})
	}
	size, err := enc.Finish()
	fmt.Println(size == int64(out.Len()), err)
	raw, _ := zarr.DecodeChunk(meta, out.Bytes())
	fmt.Println(raw)
	// Output:
	// true <nil>
	// [0 0 0 1 1 1 2 2 2 3 3 3]
}

func ExampleShardEncoder() {
	comp, _ := zarr.NewCompressor("zstd", 1)
	// Shards of 2 x 4 in inner chunks of 2 x 2, of an array of 2 x 8.
	meta := zarr.ArrayMeta{Format: 3, Shape: []int64{2, 8}, Chunks: []int64{2, 4}, Inner: []int64{2, 2}, DType: "|u1", Compressor: comp}
	region := []byte{ // the whole array, in memory
		0, 1, 2, 3, 4, 5, 6, 7,
		8, 9, 10, 11, 12, 13, 14, 15,
	}
	var enc zarr.ShardEncoder
	var shard bytes.Buffer // the second shard, cut from the region as it is encoded
	_, err := enc.Encode(meta, zarr.ShardBox{Data: region, Shape: []int64{2, 8}, At: []int64{0, 4}, Count: []int64{2, 4}}, &shard)
	fmt.Println(err)
	raw, _ := zarr.DecodeChunk(meta, shard.Bytes())
	fmt.Println(raw)
	// Output:
	// <nil>
	// [4 5 6 7 12 13 14 15]
}

// TestStrings round-trips a chunk of strings and has zarr-python read the
// array as xarray writes str variables.
func TestStrings(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := dirStore(dir)
	c, _ := zarr.NewCompressor("zstd", 0)
	meta := zarr.ArrayMeta{Shape: []int64{3}, Chunks: []int64{2}, DType: zarr.Strings, Compressor: c}
	chunks := [][]string{{"Z\u00fcrich", ""}, {"\u2013 \U0001F30A", ""}} // the second chunk pads the edge with ""
	for i, strs := range chunks {
		b, err := zarr.EncodeStrings(meta, strs)
		if err != nil {
			t.Fatal(err)
		}
		back, err := zarr.DecodeStrings(meta, b)
		if err != nil || !slices.Equal(back, strs) {
			t.Fatalf("read back %q (%v), want %q", back, err, strs)
		}
		if err := st.Put(ctx, meta.Key("names", []int64{int64(i)}), b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := zarr.EncodeStrings(meta, []string{"one"}); err == nil {
		t.Error("a chunk of the wrong length was encoded")
	}
	if err := zarr.WriteArrayMeta(ctx, st, "names", meta, zarr.Attrs{{"_ARRAY_DIMENSIONS", []string{"n"}}}); err != nil {
		t.Fatal(err)
	}
	b, _ := st.Get(ctx, "names/.zarray")
	var m zarr.ArrayMeta
	if err := json.Unmarshal(b, &m); err != nil || m.DType != zarr.Strings {
		t.Fatalf("%s read back as %+v (%v)", b, m, err)
	}
	py := beamtest.RequirePython(t, "zarr", "numcodecs")
	out, err := exec.Command(py, "-c", `
import sys, json, zarr
print(json.dumps(list(zarr.open_array(sys.argv[1] + "/names", mode="r")[:])))`, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("zarr-python: %v\n%s", err, out)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil || !slices.Equal(got, []string{"Z\u00fcrich", "", "\u2013 \U0001F30A"}) {
		t.Fatalf("zarr-python read %s (%v)", out, err)
	}
}

// TestCheckName: names that would make an array's keys collide with the
// store's metadata keys in either format, or leave the store, are refused
// (issue 29, item 15: zarr.json passed and failed after every chunk).
func TestCheckName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"sst", true}, {"c", true}, {"zarr.json.bak", true}, {"a.b", true},
		{"", false}, {"zarr.json", false}, {".zarray", false}, {".zmetadata", false}, {".zarrforge.json", false},
		{"a/b", false}, {`a\b`, false}, {"..", false}, {"a\x00", false},
	} {
		if err := zarr.CheckName(c.name); (err == nil) != c.ok {
			t.Errorf("CheckName(%q) = %v, want ok %v", c.name, err, c.ok)
		}
	}
}

// TestZstdBombs (issue 29, item 10): a stored zstd chunk never decodes past
// its chunk's size, across all its frames: a frame with no content size
// and a small frame followed by a large one are refused, allocating about
// the chunk's size, not the bomb's.
func TestZstdBombs(t *testing.T) {
	meta := zarr.ArrayMeta{Shape: []int64{1024}, Chunks: []int64{1024}, DType: "<u1", Compressor: &zarr.Compressor{ID: "zstd", Level: 1}}
	small, err := zarr.EncodeChunk(meta, make([]byte, 1024))
	if err != nil {
		t.Fatal(err)
	}
	var big bytes.Buffer // 256 MiB of zeros, streamed: no content size in its header
	w, _ := zstd.NewWriter(&big)
	zeros := make([]byte, 1<<20)
	for range 256 {
		_, _ = w.Write(zeros)
	}
	_ = w.Close()
	for name, data := range map[string][]byte{
		"no content size":            big.Bytes(),
		"a small frame, then a bomb": append(slices.Clone(small), big.Bytes()...),
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := zarr.DecodeChunk(meta, data)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("%s: decoded", name)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 32<<20 {
			t.Errorf("%s: %d MiB allocated to refuse it", name, grew>>20)
		}
	}
	if out, err := zarr.DecodeChunk(meta, small); err != nil || len(out) != 1024 {
		t.Errorf("a good chunk: %d bytes, %v", len(out), err)
	}
}

// TestHostileShapes (issue 29, item 11): coordinates whose metadata says
// more than can be read whole — 2^40 values in one chunk, 2^26 chunks of
// one value that were never written — are refused at once, before
// anything is allocated or read.
func TestHostileShapes(t *testing.T) {
	ctx := context.Background()
	for name, meta := range map[string]zarr.ArrayMeta{
		"2^40 values in one chunk": {Shape: []int64{1 << 40}, Chunks: []int64{1 << 40}, DType: "<f8"},
		"a chunk of 2^40":          {Shape: []int64{10}, Chunks: []int64{1 << 40}, DType: "<f8"},
		"2^26 chunks of one":       {Shape: []int64{1 << 26}, Chunks: []int64{1}, DType: "<f8"},
		"overflowing":              {Shape: []int64{1 << 40, 1 << 40}, Chunks: []int64{1 << 40, 1 << 40}, DType: "<f8"},
	} {
		start := time.Now()
		_, err := zarr.ReadArray(ctx, newMem(), "time", meta)
		if err == nil || !strings.Contains(err.Error(), "read whole") {
			t.Errorf("%s: %v", name, err)
		}
		if time.Since(start) > time.Second {
			t.Errorf("%s: took %v to refuse", name, time.Since(start))
		}
	}
	// Metadata invalid before it is large: refused, not a panic dividing
	// by its chunks or indexing past them.
	for name, meta := range map[string]zarr.ArrayMeta{
		"chunks of 0":  {Shape: []int64{10}, Chunks: []int64{0}, DType: "<f8"},
		"ranks differ": {Shape: []int64{10, 10}, Chunks: []int64{10}, DType: "<f8"},
	} {
		if _, err := zarr.ReadArray(ctx, newMem(), "time", meta); err == nil {
			t.Errorf("%s: read", name)
		}
	}
	labels := zarr.ArrayMeta{Shape: []int64{1 << 26}, Chunks: []int64{1}, DType: zarr.Strings}
	if _, err := zarr.ReadLabels(ctx, newMem(), "x", labels); err == nil || !strings.Contains(err.Error(), "read whole") {
		t.Errorf("labels in 2^26 chunks: %v", err)
	}
}
