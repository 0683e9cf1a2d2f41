package plan

import (
	"slices"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/source"
)

// TestRefPieces: an input's chunks land where it sits along the concat
// dimension; inputs off the chunk grid are refused.
func TestRefPieces(t *testing.T) {
	s := &Schema{Concat: []Axis{{Name: "time"}}, Inputs: []Extent{{Spans: []Span{{Offset: 0, Len: 4}}}, {Spans: []Span{{Offset: 4, Len: 4}}}, {Spans: []Span{{Offset: 8, Len: 3}}}}}
	v := &Variable{Name: "sst", Dims: []string{"time", "lat"}, Shape: []int64{11, 5}}
	pieces := []source.Piece{{Index: []int64{0, 0}, Offset: 100, Size: 10}, {Index: []int64{1, 1}, Offset: 200, Size: 10}}
	for _, tc := range []struct {
		e      Extent
		chunks []int64
		first  []int64
		err    string
	}{
		{s.Inputs[1], []int64{2, 3}, []int64{2, 0}, ""},
		{s.Inputs[2], []int64{4, 3}, []int64{2, 0}, ""}, // the last input: its chunk overhangs the end
		{s.Inputs[1], []int64{3, 3}, nil, "do not fall on the reference set's chunk boundaries"},
		{s.Inputs[0], []int64{8, 3}, nil, "do not fall"}, // a chunk longer than the input
		{s.Inputs[0], []int64{2}, nil, "rank 1 for 2 dimensions"},
	} {
		chunks, got, err := s.RefPieces(v, tc.e, tc.chunks, pieces)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%+v %v: %v, want %q", tc.e, tc.chunks, err, tc.err)
			}
		case err != nil || !slices.Equal(chunks, tc.chunks) || !slices.Equal(got[0].Index, tc.first) || got[1].Offset != 200:
			t.Errorf("%+v %v: %v %+v %v", tc.e, tc.chunks, chunks, got, err)
		}
	}
	v.Sel = []Step{{Start: 1, Step: 2}}
	if _, _, err := s.RefPieces(v, s.Inputs[0], []int64{2, 3}, pieces); err == nil {
		t.Error("an isel was referenced")
	}
}
