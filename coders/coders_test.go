package coders

import (
	"math"
	"reflect"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/zarr"
)

var allTypes = []source.Attr{
	{Name: "b", Type: source.Byte, Value: []int8{-1, 2}},
	{Name: "ub", Type: source.UByte, Value: []uint8{255}},
	{Name: "s", Type: source.Short, Value: []int16{-999}},
	{Name: "us", Type: source.UShort, Value: []uint16{65535}},
	{Name: "i", Type: source.Int, Value: []int32{math.MinInt32}},
	{Name: "ui", Type: source.UInt, Value: []uint32{math.MaxUint32}},
	{Name: "l", Type: source.Int64, Value: []int64{math.MinInt64, 1}},
	{Name: "ul", Type: source.UInt64, Value: []uint64{math.MaxUint64}},
	{Name: "f", Type: source.Float, Value: []float32{0.01, float32(math.Inf(-1))}},
	{Name: "d", Type: source.Double, Value: []float64{1e300, math.Copysign(0, -1)}},
	{Name: "c", Type: source.Char, Value: "degrees_north"},
	{Name: "empty", Type: source.Char, Value: ""},
	{Name: "strs", Type: source.String, Value: []string{"a", "", "ü"}},
}

func sampleSchema() plan.Schema {
	return plan.Schema{
		Concat: []plan.Axis{{Name: "time", Coord: []byte{1, 2, 3, 4, 5, 6, 7, 8}},
			{Name: "member", New: true, Labels: []string{"r1", "r2"}}},
		Dims:  []plan.Dim{{Name: "member", Size: 2}, {Name: "time", Size: 10}, {Name: "lat", Size: 3}},
		Attrs: allTypes,
		Vars: []plan.Variable{
			{Name: "time", Type: source.Double, Dims: []string{"time"}, Shape: []int64{10}, Chunks: []int64{10}},
			{Name: "member", Type: source.String, Dims: []string{"member"}, Shape: []int64{2}, Chunks: []int64{2}},
			{Name: "sst", Type: source.Short, Dims: []string{"member", "time", "lat"}, Shape: []int64{2, 10, 3},
				Attrs: allTypes[:3], Merge: []int{1, 0}, Chunks: []int64{1, 4, 3}, Lead: 1},
			{Name: "crs", Type: source.Int},
		},
		Inputs: []plan.Extent{
			{Input: plan.Input{Index: plan.Index{Concat: []int{0, 1}, Merge: []int{1, 0}}, Source: "a.nc", URL: "/c/a.nc"},
				Spans: []plan.Span{{Offset: 0, Len: 4, Units: "days since 2000-01-01", Calendar: "noleap"}, {Offset: 1, Len: 1}}},
			{Input: plan.Input{Index: plan.Index{Concat: []int{1, 0}, Merge: []int{1, 0}}, Source: "b.nc", URL: "/c/b.nc"},
				Spans: []plan.Span{{Offset: 4, Len: 6}, {Offset: 0, Len: 1}}},
		},
		Base: 365,
	}
}

// TestRoundTrip encodes and decodes a value of every element type.
func TestRoundTrip(t *testing.T) {
	meta := plan.InputMeta{
		Input:  plan.Input{Index: plan.Index{Concat: []int{3}}, Source: "http://x/a.nc", URL: "/cache/a.nc"},
		Format: "CDF-2",
		Dims:   []source.Dim{{Name: "time", Len: 2, Unlimited: true}, {Name: "lat", Len: 3}},
		Vars: []source.Var{{Name: "sst", Type: source.Short, Dims: []string{"time", "lat"}, Shape: []int64{2, 3}, Attrs: allTypes},
			{Name: "scalar", Type: source.Double}},
		Attrs:     allTypes,
		Coords:    [][]byte{{}},
		CoordSums: []plan.CoordSum{{Name: "lat", Sum: "abc"}},
	}
	noCoord := meta
	noCoord.Coords = [][]byte{nil}
	tests := []struct {
		name string
		v    any
		enc  func(any) ([]byte, error)
		dec  func([]byte) (any, error)
	}{
		{"input", plan.Input{Index: plan.Index{Concat: []int{7, 0}, Merge: []int{0, 2}}, Source: "s", URL: "u"},
			func(v any) ([]byte, error) { return encodeInput(v.(plan.Input)), nil },
			func(b []byte) (any, error) { return decodeInput(b) }},
		{"input meta", meta,
			func(v any) ([]byte, error) { return encodeInputMeta(v.(plan.InputMeta)) },
			func(b []byte) (any, error) { return decodeInputMeta(b) }},
		{"input meta without coordinate", noCoord,
			func(v any) ([]byte, error) { return encodeInputMeta(v.(plan.InputMeta)) },
			func(b []byte) (any, error) { return decodeInputMeta(b) }},
		{"merger", plan.Merger{Reps: []plan.InputMeta{meta}, Parts: []plan.Part{{Input: meta.Input, Axes: []plan.PartAxis{
			{Len: 2, Units: "u", Calendar: "c", CoordType: source.Float, Coord: []byte{0, 0, 128, 63}}, {Len: 1}}}}},
			func(v any) ([]byte, error) { return encodeMerger(v.(plan.Merger)) },
			func(b []byte) (any, error) { return decodeMerger(b) }},
		{"schema", sampleSchema(),
			func(v any) ([]byte, error) { return encodeSchema(v.(plan.Schema)) },
			func(b []byte) (any, error) { return decodeSchema(b) }},
		{"target", zarrplan.Target{URL: "/out.zarr", Group: "sweep_1/extra", Run: "r1", MaxMem: 1 << 29,
			Schema: sampleSchema()},
			func(v any) ([]byte, error) { return encodeTarget(v.(zarrplan.Target)) },
			func(b []byte) (any, error) { return decodeTarget(b) }},
		{"appending target", zarrplan.Target{URL: "gs://b/out.zarr", Format: 3, Run: "r2", MaxMem: 1 << 30, Schema: sampleSchema(),
			Arrays: map[string]zarr.ArrayMeta{
				"sst": {Format: 3, Shape: []int64{10, 4}, Chunks: []int64{8, 4}, Inner: []int64{2, 4}, DType: "<i2",
					Compressor: &zarr.Compressor{ID: "blosc", Level: 5, CName: "zstd", Shuffle: 2}, FillValue: int64(-999), EmptyFill: int64(0),
					Dims: []string{"time", "lat"}},
				"crs":   {Shape: []int64{}, Chunks: []int64{}, DType: "|S1", FillValue: "x", Dims: []string{}},
				"count": {Shape: []int64{3}, Chunks: []int64{3}, DType: "<u8", FillValue: uint64(1 << 63), EmptyFill: 2.5, Dims: []string{"n"}},
			}},
			func(v any) ([]byte, error) { return encodeTarget(v.(zarrplan.Target)) },
			func(b []byte) (any, error) { return decodeTarget(b) }},
		{"input references", plan.InputRefs{Input: plan.Input{Source: "gs://b/a.nc", URL: "/cache/a.nc"}, Vars: []plan.VarRefs{
			{Name: "sst", BigEndian: true, Chunks: []int64{1, 7, 10}, Codecs: []source.Codec{{ID: "shuffle", ElementSize: 2}, {ID: "zlib", Level: 4}},
				Pieces: []plan.RefPiece{{Index: []int64{3, 0, 0}, Offset: 1 << 33, Size: 1234}}},
			{Name: "crs", Chunks: []int64{}, Pieces: []plan.RefPiece{{Index: []int64{}, Data: []byte{}}}},
			{Name: "lat", Chunks: []int64{7}, Pieces: []plan.RefPiece{{Index: []int64{0}, Data: []byte{1, 2, 3}}}},
			{Name: "ice", Chunks: []int64{1, 2}, Unwritten: [][]int64{{0, 1}, {1, 0}}, FillChunk: []byte{9, 9}},
		}},
			func(v any) ([]byte, error) { return encodeInputRefs(v.(plan.InputRefs)), nil },
			func(b []byte) (any, error) { return decodeInputRefs(b) }},
		{"read group", plan.ReadGroup{Var: "sst", Index: []int64{0, 12, 3}, Count: []int64{2, 1, 4}},
			func(v any) ([]byte, error) { return encodeReadGroup(v.(plan.ReadGroup)), nil },
			func(b []byte) (any, error) { return decodeReadGroup(b) }},
		{"scalar read group", plan.ReadGroup{Var: "crs"},
			func(v any) ([]byte, error) { return encodeReadGroup(v.(plan.ReadGroup)), nil },
			func(b []byte) (any, error) { return decodeReadGroup(b) }},
		{"write result", plan.WriteResult{Key: plan.ChunkKey{Var: "sst", Index: []int64{1}}, Bytes: 1 << 40},
			func(v any) ([]byte, error) { return encodeWriteResult(v.(plan.WriteResult)), nil },
			func(b []byte) (any, error) { return decodeWriteResult(b) }},
		{"totals", plan.Totals{Chunks: 5, Bytes: 123},
			func(v any) ([]byte, error) { return encodeTotals(v.(plan.Totals)), nil },
			func(b []byte) (any, error) { return decodeTotals(b) }},
		{"summary", plan.Summary{URL: "gs://b/x.zarr", Arrays: 3, Chunks: 5, Bytes: 123},
			func(v any) ([]byte, error) { return encodeSummary(v.(plan.Summary)), nil },
			func(b []byte) (any, error) { return decodeSummary(b) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.enc(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.dec(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.v) {
				t.Errorf("round trip changed the value:\n got %#v\nwant %#v", got, tc.v)
			}
			again, _ := tc.enc(got)
			if string(again) != string(b) {
				t.Error("encoding is not deterministic")
			}
			// Every truncation is an error, never a panic.
			for n := 0; n < len(b); n++ {
				if _, err := tc.dec(b[:n]); err == nil {
					t.Errorf("decoding %d of %d bytes did not fail", n, len(b))
				}
			}
		})
	}
}

// TestRegistered checks that Beam uses these coders for the element types.
func TestRegistered(t *testing.T) {
	for _, v := range []any{plan.Input{}, plan.InputMeta{}, plan.Merger{}, plan.Schema{}, zarrplan.Target{}, plan.InputRefs{},
		plan.ReadGroup{}, plan.WriteResult{}, plan.Totals{}, plan.Summary{}} {
		if c := coder.LookupCustomCoder(reflect.TypeOf(v)); c == nil {
			t.Errorf("%T: no custom coder registered", v)
		}
	}
}

func TestEncodeRejectsBadAttr(t *testing.T) {
	m := plan.InputMeta{Attrs: []source.Attr{{Name: "x", Type: source.Int, Value: []int{1}}}}
	if _, err := encodeInputMeta(m); err == nil {
		t.Error("an attribute of Go type []int was encoded")
	}
}
