package zarr_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/zarr"
)

func (m *memStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	b, err := m.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (m *memStore) List(_ context.Context, prefix string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var keys []string
	for k := range m.objs {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// inputStore is a v2 store of a (time, lat) float32 array "sst" of 4 x 3 in
// chunks of 2 x 2, values 0..11, the chunk at (1, 1) never written, fill
// -1; a 1-d "time"; group attributes; consolidated.
func inputStore(t *testing.T) *memStore { return formatStore(t, 2) }

// formatStore is inputStore in Zarr format 2 or 3.
func formatStore(t *testing.T, format int) *memStore {
	t.Helper()
	ctx := context.Background()
	st := newMem()
	sst := zarr.ArrayMeta{Format: format, Shape: []int64{4, 3}, Chunks: []int64{2, 2}, DType: "<f4", FillValue: -1.0, Dims: []string{"time", "lat"}}
	if err := zarr.WriteArrayMeta(ctx, st, "sst", sst, zarr.Attrs{{Key: "units", Value: "K"}, {Key: "valid_range", Value: []float64{0, 40.5}}}); err != nil {
		t.Fatal(err)
	}
	for _, idx := range [][]int64{{0, 0}, {0, 1}, {1, 0}} {
		raw := make([]byte, 16)
		for i := range int64(4) {
			r, c := idx[0]*2+i/2, idx[1]*2+i%2
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(float32(r*3+c)))
		}
		b, err := zarr.EncodeChunk(sst, raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Put(ctx, sst.Key("sst", idx), b); err != nil {
			t.Fatal(err)
		}
	}
	tm := zarr.ArrayMeta{Format: format, Shape: []int64{4}, Chunks: []int64{4}, DType: "<i8", Dims: []string{"time"}}
	if err := zarr.WriteArrayMeta(ctx, st, "time", tm, zarr.Attrs{{Key: "units", Value: "days since 2000-01-01"}}); err != nil {
		t.Fatal(err)
	}
	raw := binary.LittleEndian.AppendUint64(nil, 0)
	for i := range uint64(3) {
		raw = binary.LittleEndian.AppendUint64(raw, i+1)
	}
	if err := zarr.WriteVector(ctx, st, "time", tm, raw); err != nil {
		t.Fatal(err)
	}
	if err := zarr.WriteGroup(ctx, st, format, zarr.Attrs{{Key: "title", Value: "t"}, {Key: "version", Value: 3}}, []string{"sst", "time"}); err != nil {
		t.Fatal(err)
	}
	if err := zarr.Consolidate(ctx, st, format, []string{"sst", "time"}); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestInput reads a store as an input: variables, dimensions, attributes
// (typed; the fill value as _FillValue), a hyperslab across chunks, one
// never written reading as the fill.
func TestInput(t *testing.T) {
	ctx := context.Background()
	r, err := source.OpenStore(ctx, inputStore(t), "mem://s.zarr", source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.FileType() != "zarr" || r.Format() != "Zarr v2" {
		t.Errorf("format %s, file type %s", r.Format(), r.FileType())
	}
	if got := r.Dims(); !slices.Equal(got, []source.Dim{{Name: "time", Len: 4}, {Name: "lat", Len: 3}}) {
		t.Errorf("dims %v", got)
	}
	vars := r.Vars()
	if len(vars) != 2 || vars[0].Name != "sst" || vars[0].Type != source.Float || !slices.Equal(vars[0].Chunks, []int64{2, 2}) {
		t.Fatalf("vars %+v", vars)
	}
	want := map[string]source.Attr{"units": {Name: "units", Type: source.Char, Value: "K"},
		"valid_range": {Name: "valid_range", Type: source.Double, Value: []float64{0, 40.5}},
		"_FillValue":  {Name: "_FillValue", Type: source.Float, Value: []float32{-1}}}
	for _, a := range vars[0].Attrs {
		if w, ok := want[a.Name]; !ok || w.Type != a.Type || !equalAny(w.Value, a.Value) {
			t.Errorf("attribute %+v, want %+v", a, w)
		}
	}
	if g := r.Attrs(); len(g) != 2 || g[1].Name != "version" || g[1].Type != source.Int64 {
		t.Errorf("group attributes %+v", g)
	}
	dst := make([]byte, 4*3*2)
	if err := r.Read("sst", []int64{1, 1}, []int64{3, 2}, dst); err != nil {
		t.Fatal(err)
	}
	var got []float32
	for i := range 6 {
		got = append(got, math.Float32frombits(binary.LittleEndian.Uint32(dst[4*i:])))
	}
	if !slices.Equal(got, []float32{4, 5, 7, -1, 10, -1}) {
		t.Errorf("sst[1:4, 1:3] = %v", got)
	}
	if err := r.Read("sst", []int64{3, 0}, []int64{2, 1}, make([]byte, 8)); err == nil {
		t.Error("a read past the end was not refused")
	}
}

func equalAny(a, b any) bool {
	switch x := a.(type) {
	case []float64:
		return slices.Equal(x, b.([]float64))
	case []float32:
		return slices.Equal(x, b.([]float32))
	}
	return a == b
}

// TestInputRefused: stores that cannot be read as xarray would are refused
// before any chunk is read, naming the store, the array and what is wrong.
func TestInputRefused(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		edit  func(st *memStore)
		want  string
		is    error
		group string
	}{
		{"not a store", func(st *memStore) { st.objs = map[string][]byte{"a.txt": []byte("x")} }, "not an input zarrforge reads", source.ErrFormat, ""},
		{"consolidated metadata behind", func(st *memStore) {
			st.objs["sst/.zarray"] = []byte(strings.Replace(string(st.objs["sst/.zarray"]), "[\n        4,", "[\n        6,", 1))
			st.objs["sst/.zarray"] = []byte(strings.Replace(string(st.objs["sst/.zarray"]), `"shape":[4,`, `"shape":[6,`, 1))
		}, `array "sst": the consolidated metadata says shape [4 3]`, source.ErrFormat, ""},
		{"no dimension names", func(st *memStore) {
			delete(st.objs, ".zmetadata")
			st.objs["sst/.zattrs"] = []byte(`{"units": "K"}`)
		}, `array "sst" has no dimension names`, source.ErrFormat, ""},
		{"chunks larger than the memory allowed", func(st *memStore) {
			delete(st.objs, ".zmetadata")
			st.objs["sst/.zarray"] = []byte(`{"chunks":[100000000,100000000],"compressor":null,"dtype":"<f4","fill_value":null,"filters":null,"order":"C","shape":[4,3],"zarr_format":2}`)
		}, `array "sst": stored chunks of [100000000 100000000]`, source.ErrTooLarge, ""},
		{"dimension lengths that disagree", func(st *memStore) {
			delete(st.objs, ".zmetadata")
			st.objs["time/.zarray"] = []byte(`{"chunks":[5],"compressor":null,"dtype":"<i8","fill_value":null,"filters":null,"order":"C","shape":[5],"zarr_format":2}`)
		}, `dimension "time" has length 4 in one array and 5 in array "time"`, source.ErrFormat, ""},
		{"a filter not decoded here", func(st *memStore) {
			delete(st.objs, ".zmetadata")
			st.objs["sst/.zarray"] = []byte(`{"chunks":[2,2],"compressor":null,"dtype":"<f4","fill_value":null,"filters":[{"id":"bz2"}],"order":"C","shape":[4,3],"zarr_format":2}`)
		}, `zarr: array "sst": zarr: .zarray: filters [{"id":"bz2"}] are not supported`, source.ErrUnsupported, ""},
		{"groups below the root read whole", func(st *memStore) {
			delete(st.objs, ".zmetadata")
			st.objs["g/.zgroup"] = []byte(`{"zarr_format":2}`)
			st.objs["g/sst/.zarray"] = st.objs["sst/.zarray"]
		}, "groups below the root (g) hold data", source.ErrNestedGroups, ""},
		{"a group that holds no arrays", func(st *memStore) {
			delete(st.objs, ".zmetadata")
			st.objs["g/.zgroup"] = []byte(`{"zarr_format":2}`)
		}, "holds no arrays in group g", source.ErrFormat, "g"},
	} {
		st := inputStore(t)
		tc.edit(st)
		_, err := source.OpenStore(ctx, st, "mem://s.zarr", source.Options{Group: tc.group, MaxChunk: 1 << 20})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "mem://s.zarr") || !errors.Is(err, tc.is) {
			t.Errorf("%s: got %v, want %q (%v)", tc.name, err, tc.want, tc.is)
		}
	}
}

// TestInputGroups: a store's groups are listed, and one is read as the
// input.
func TestInputGroups(t *testing.T) {
	ctx := context.Background()
	st := inputStore(t)
	delete(st.objs, ".zmetadata")
	for k, v := range st.objs {
		if strings.HasPrefix(k, "sst/") || strings.HasPrefix(k, "time/") {
			st.objs["forecast/surface/"+k] = v
		}
	}
	st.objs["forecast/.zgroup"] = []byte(`{"zarr_format":2}`)
	st.objs["forecast/surface/.zgroup"] = []byte(`{"zarr_format":2}`)
	groups, err := source.StoreGroups(ctx, st, "mem://s.zarr")
	if err != nil || !slices.Equal(groups, []string{"/", "forecast", "forecast/surface"}) {
		t.Fatalf("groups %v, %v", groups, err)
	}
	r, err := source.OpenStore(ctx, st, "mem://s.zarr", source.Options{Group: "forecast/surface"})
	if err != nil || len(r.Vars()) != 2 {
		t.Fatalf("group forecast/surface: %v", err)
	}
	dst := make([]byte, 4)
	if err := r.Read("sst", []int64{0, 2}, []int64{1, 1}, dst); err != nil || math.Float32frombits(binary.LittleEndian.Uint32(dst)) != 2 {
		t.Errorf("sst[0, 2] in the group: %v %v", dst, err)
	}
	if _, err := source.OpenStore(ctx, st, "mem://s.zarr", source.Options{Group: "/"}); err != nil {
		t.Errorf("the root alone: %v", err)
	}
}

// FuzzInput opens stores whose array metadata and chunk are arbitrary
// bytes and reads every variable whole: errors, never a panic or an
// allocation the memory limit does not allow.
func FuzzInput(f *testing.F) {
	st := inputStore(&testing.T{})
	f.Add(st.objs["sst/.zarray"], st.objs["sst/0.0"])
	f.Add([]byte(`{"chunks":[2,2],"compressor":{"id":"zstd","level":1},"dtype":"<f8","fill_value":"NaN","filters":null,"order":"C","shape":[4,3],"zarr_format":2}`), []byte{0x28, 0xb5, 0x2f, 0xfd})
	f.Fuzz(func(t *testing.T, zarray, chunk []byte) {
		st := inputStore(t)
		delete(st.objs, ".zmetadata")
		st.objs["sst/.zarray"], st.objs["sst/0.0"] = zarray, chunk
		r, err := source.OpenStore(context.Background(), st, "mem://s.zarr", source.Options{MaxChunk: 1 << 20})
		if err != nil {
			return
		}
		for _, v := range r.Vars() {
			n := int64(v.Type.Size())
			for _, s := range v.Shape {
				n *= s
			}
			if v.Type == source.String || n > 1<<20 || n <= 0 {
				continue
			}
			_ = r.Read(v.Name, make([]int64, len(v.Shape)), v.Shape, make([]byte, n))
		}
	})
}

// TestInputFilters: chunks as kerchunk references to netCDF-4 chunks name
// them — big-endian values through fletcher32, shuffle and zlib filters —
// decode to little-endian values; a checksum that does not match is an
// error naming the chunk.
func TestInputFilters(t *testing.T) {
	ctx := context.Background()
	st := newMem()
	st.objs[".zgroup"] = []byte(`{"zarr_format":2}`)
	st.objs["v/.zarray"] = []byte(`{"chunks":[3],"compressor":null,"dtype":">i2","fill_value":null,` +
		`"filters":[{"id":"fletcher32"},{"elementsize":2,"id":"shuffle"},{"id":"zlib","level":4}],"order":"C","shape":[3],"zarr_format":2}`)
	st.objs["v/.zattrs"] = []byte(`{"_ARRAY_DIMENSIONS":["x"]}`)
	raw := []byte{0x01, 0x02, 0xff, 0xfe, 0x00, 0x07} // 258, -2, 7 big-endian
	sum := make([]byte, 4)
	binary.LittleEndian.PutUint32(sum, fletcher32(raw))
	withSum := append(raw, sum...)
	shuffled := make([]byte, len(withSum))
	for i := range len(withSum) / 2 {
		shuffled[i], shuffled[len(withSum)/2+i] = withSum[2*i], withSum[2*i+1]
	}
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(shuffled)
	w.Close()
	st.objs["v/0"] = z.Bytes()
	r, err := source.OpenStore(ctx, st, "mem://refs", source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]byte, 6)
	if err := r.Read("v", []int64{0}, []int64{3}, dst); err != nil {
		t.Fatal(err)
	}
	got := []int16{int16(binary.LittleEndian.Uint16(dst)), int16(binary.LittleEndian.Uint16(dst[2:])), int16(binary.LittleEndian.Uint16(dst[4:]))}
	if !slices.Equal(got, []int16{258, -2, 7}) {
		t.Errorf("values %v", got)
	}
	shuffled[0] ^= 0xff // a changed byte: the checksum catches it
	z.Reset()
	w = zlib.NewWriter(&z)
	w.Write(shuffled)
	w.Close()
	st.objs["v/0"] = z.Bytes()
	if err := r.Read("v", []int64{0}, []int64{3}, dst); err == nil || !strings.Contains(err.Error(), "v/0") || !strings.Contains(err.Error(), "fletcher32") {
		t.Errorf("a corrupt chunk: %v", err)
	}
}

// fletcher32 is HDF5's checksum, written out here as the test's own
// account of it (16-bit big-endian words, sums modulo 65535).
func fletcher32(data []byte) uint32 {
	var a, b uint32
	for i := 0; i+1 < len(data); i += 2 {
		a = (a + (uint32(data[i])<<8 | uint32(data[i+1]))) % 65535
		b = (b + a) % 65535
	}
	return b<<16 | a
}

// TestInputEmptyGroups: groups below the root that hold no array are
// passed over when the root is read whole, v2 and v3 alike.
func TestInputEmptyGroups(t *testing.T) {
	ctx := context.Background()
	st := inputStore(t)
	delete(st.objs, ".zmetadata")
	st.objs["empty/.zgroup"] = []byte(`{"zarr_format":2}`)
	st.objs["empty/deeper/.zgroup"] = []byte(`{"zarr_format":2}`)
	st.objs["empty/deeper/.zattrs"] = []byte(`{"title":"nothing here"}`)
	if _, err := source.OpenStore(ctx, st, "mem://s.zarr", source.Options{}); err != nil {
		t.Errorf("v2 empty groups: %v", err)
	}
	st.objs["empty/deeper/sst/.zarray"] = st.objs["sst/.zarray"]
	if _, err := source.OpenStore(ctx, st, "mem://s.zarr", source.Options{}); !errors.Is(err, source.ErrNestedGroups) {
		t.Errorf("v2 group holding an array deeper down: %v", err)
	}
	// v3, listed: each zarr.json says whether it is a group or an array.
	st = formatStore(t, 3)
	st.objs["zarr.json"] = []byte(`{"zarr_format":3,"node_type":"group","attributes":{"title":"t"}}`) // no consolidated metadata
	st.objs["empty/zarr.json"] = []byte(`{"zarr_format":3,"node_type":"group"}`)
	st.objs["empty/deeper/zarr.json"] = []byte(`{"zarr_format":3,"node_type":"group","attributes":{"title":"nothing here"}}`)
	r, err := source.OpenStore(ctx, st, "mem://s.zarr", source.Options{})
	if err != nil {
		t.Fatalf("v3 empty groups: %v", err)
	}
	if len(r.Vars()) != 2 {
		t.Errorf("v3 store with empty groups: variables %v", r.Vars())
	}
	if groups, err := source.StoreGroups(ctx, st, "mem://s.zarr"); err != nil || !slices.Equal(groups, []string{"/", "empty", "empty/deeper"}) {
		t.Errorf("v3 groups %v, %v", groups, err)
	}
	st.objs["empty/deeper/sst/zarr.json"] = st.objs["sst/zarr.json"]
	if _, err := source.OpenStore(ctx, st, "mem://s.zarr", source.Options{}); !errors.Is(err, source.ErrNestedGroups) {
		t.Errorf("v3 group holding an array deeper down: %v", err)
	}
}
