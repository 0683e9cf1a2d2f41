package zarr_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/zarr"
)

func ExampleWriteTree() {
	ctx := context.Background()
	st := newMem()
	meta := zarr.ArrayMeta{Shape: []int64{3}, Chunks: []int64{3}, DType: "<f4"}
	_ = zarr.WriteArrayMeta(ctx, st, "sweep_1/extra/ZDR", meta, zarr.Attrs{{"_ARRAY_DIMENSIONS", []string{"time"}}})
	_ = zarr.WriteTree(ctx, st, 2, []zarr.Group{
		{Attrs: zarr.Attrs{{"title", "radar volume"}}},
		{Path: "sweep_1/extra", Arrays: []string{"ZDR"}},
	})
	for _, k := range slices.Sorted(maps.Keys(st.objs)) {
		fmt.Println(k)
	}
	// Output:
	// .zattrs
	// .zgroup
	// .zmetadata
	// sweep_1/.zattrs
	// sweep_1/.zgroup
	// sweep_1/.zmetadata
	// sweep_1/extra/.zattrs
	// sweep_1/extra/.zgroup
	// sweep_1/extra/.zmetadata
	// sweep_1/extra/ZDR/.zarray
	// sweep_1/extra/ZDR/.zattrs
}

// TestWriteTree: each group's consolidated metadata holds its own and its
// descendants' documents at their paths from it, in v2 and v3; bad or
// repeated paths are refused.
func TestWriteTree(t *testing.T) {
	ctx := context.Background()
	for _, format := range []int{2, 3} {
		st := newMem()
		meta := zarr.ArrayMeta{Format: format, Shape: []int64{3}, Chunks: []int64{3}, DType: "<f4", Dims: []string{"time"}}
		for _, a := range []string{"range", "a/x", "a/b/y"} {
			if err := zarr.WriteArrayMeta(ctx, st, a, meta, nil); err != nil {
				t.Fatal(err)
			}
		}
		err := zarr.WriteTree(ctx, st, format, []zarr.Group{
			{Path: "/a/b/", Attrs: zarr.Attrs{{"level", 2}}, Arrays: []string{"y"}},
			{Path: "", Arrays: []string{"range"}},
			{Path: "a", Arrays: []string{"x"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{ // group → the keys of its consolidated metadata
			"":    {".zattrs", ".zgroup", "a/.zattrs", "a/.zgroup", "a/b/.zattrs", "a/b/.zgroup", "a/b/y/.zarray", "a/b/y/.zattrs", "a/x/.zarray", "a/x/.zattrs", "range/.zarray", "range/.zattrs"},
			"a/b": {".zattrs", ".zgroup", "y/.zarray", "y/.zattrs"},
		}
		if format == 3 {
			want = map[string][]string{"": {"a", "a/b", "a/b/y", "a/x", "range"}, "a/b": {"y"}}
		}
		for g, keys := range want {
			prefix := ""
			if g != "" {
				prefix = g + "/"
			}
			var doc struct {
				Metadata     map[string]json.RawMessage `json:"metadata"`
				Consolidated struct {
					Metadata map[string]json.RawMessage `json:"metadata"`
				} `json:"consolidated_metadata"`
				Attrs map[string]any `json:"attributes"`
			}
			key := prefix + ".zmetadata"
			if format == 3 {
				key = prefix + "zarr.json"
			}
			if err := json.Unmarshal(st.objs[key], &doc); err != nil {
				t.Fatalf("v%d %s: %v", format, key, err)
			}
			m := doc.Metadata
			if format == 3 {
				m = doc.Consolidated.Metadata
			}
			got := slices.Sorted(maps.Keys(m))
			if !slices.Equal(got, keys) {
				t.Errorf("v%d group %q: consolidated %q, want %q", format, g, got, keys)
			}
		}
		if format == 3 && !strings.Contains(string(st.objs["a/b/zarr.json"]), `"attributes":{"level":2}`) {
			t.Errorf("v3 a/b/zarr.json: %s", st.objs["a/b/zarr.json"])
		}
	}
	for _, tc := range []struct {
		groups []zarr.Group
		want   string
	}{
		{[]zarr.Group{{Path: "a"}, {Path: "/a"}}, `group "a" is given twice`},
		{[]zarr.Group{{Path: "a/.."}}, `group "a/.."`},
	} {
		if err := zarr.WriteTree(ctx, newMem(), 2, tc.groups); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.groups, err, tc.want)
		}
	}
}
