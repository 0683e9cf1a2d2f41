package transforms_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/transforms"
)

// TestCheckInputs: the checks a recipe gets before it runs, as a call a Go
// user makes with the stages' configurations.
func TestCheckInputs(t *testing.T) {
	p := fixture("daily", "daily_00.nc")
	first := []transforms.Input{{Index: transforms.Index{Concat: []int{0}}, Source: p, URL: p}}
	concat := []transforms.ConcatDim{{Name: "time"}}
	out := filepath.Join(t.TempDir(), "o.zarr")
	for _, tc := range []struct {
		name   string
		schema transforms.SchemaConfig
		target transforms.TargetConfig
		want   string // "" for none
		is     error
	}{
		{"good", transforms.SchemaConfig{Concat: concat}, transforms.TargetConfig{URL: out, Chunks: map[string]int64{"time": 2, "lat": 4}}, "", nil},
		{"a chunk size of a dimension the inputs lack", transforms.SchemaConfig{Concat: concat},
			transforms.TargetConfig{URL: out, Chunks: map[string]int64{"depth": 2}},
			`TargetConfig.Chunks["depth"]: the inputs have no dimension "depth" (dimensions of ` + p + `: lat, lon, time)`, transforms.ErrNoDimension},
		{"a renamed dimension's old name", transforms.SchemaConfig{Concat: concat, Preprocess: transforms.Preprocess{Rename: []transforms.Rename{{From: "lat", To: "y"}}}},
			transforms.TargetConfig{URL: out, Chunks: map[string]int64{"lat": 2}}, `TargetConfig.Chunks["lat"]: the inputs have no dimension "lat"`, transforms.ErrNoDimension},
		{"a preprocess name no input has", transforms.SchemaConfig{Concat: concat, Preprocess: transforms.Preprocess{DropVars: []string{"nope"}}},
			transforms.TargetConfig{URL: out}, `Preprocess.DropVars: no input has a variable "nope"`, nil},
		{"a mode not supported", transforms.SchemaConfig{Concat: concat}, transforms.TargetConfig{URL: out, Mode: "replace"}, `mode "replace" is not supported`, nil},
	} {
		err := transforms.CheckInputs(context.Background(), tc.schema, tc.target, first)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		case tc.is != nil && !errors.Is(err, tc.is):
			t.Errorf("%s: %v is not %v", tc.name, err, tc.is)
		}
	}
}

// Check a conversion before building its pipeline: the configurations,
// the target, and the first input's header against them.
func ExampleCheckInputs() {
	first := []transforms.Input{{Index: transforms.Index{Concat: []int{0}}, Source: "/data/t2m_2001.nc", URL: "/data/t2m_2001.nc"}}
	schema := transforms.SchemaConfig{Concat: []transforms.ConcatDim{{Name: "time"}}}
	target := transforms.TargetConfig{URL: "/out/t2m.zarr", Chunks: map[string]int64{"time": 365}}
	if err := transforms.CheckInputs(context.Background(), schema, target, first); err != nil {
		fmt.Println(err) // errors.Is(err, transforms.ErrNoDimension) for a chunk size of a dimension the inputs lack
		return
	}
	// build and run the pipeline
}
