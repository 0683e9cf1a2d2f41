package transforms_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/transforms"
)

// TestConfigsValidated: each stage refuses a mistaken configuration as the
// pipeline is built (a panic, as beam.ParDo's), and Validate reports it as
// an error first.
func TestConfigsValidated(t *testing.T) {
	good := transforms.TargetConfig{URL: filepath.Join(t.TempDir(), "out.zarr")}
	for _, c := range []struct {
		name  string
		build func(s beam.Scope, in beam.PCollection)
		err   error
		want  string
	}{
		{"target without a URL", func(s beam.Scope, in beam.PCollection) { transforms.PrepareTarget(s, transforms.TargetConfig{}, in) },
			transforms.TargetConfig{}.Validate(), "target URL: storage: no location given"},
		{"target on HTTP", nil, transforms.TargetConfig{URL: "https://host/x.zarr"}.Validate(), "HTTP locations are read-only"},
		{"target scheme", nil, transforms.TargetConfig{URL: "ftp://b/x.zarr"}.Validate(), "unsupported scheme"},
		{"mode", nil, transforms.TargetConfig{URL: good.URL, Mode: "replace"}.Validate(), `mode "replace" is not supported`},
		{"compressor", nil, transforms.TargetConfig{URL: good.URL, Compressor: "lzma"}.Validate(), `unknown compressor "lzma"`},
		{"level", nil, transforms.TargetConfig{URL: good.URL, Level: 30}.Validate(), "zstd level 30 is not in 1..22"},
		{"chunks", nil, transforms.TargetConfig{URL: good.URL, Chunks: map[string]int64{"time": 0}}.Validate(), `chunks "time"`},
		{"schema without a concat dim", func(s beam.Scope, in beam.PCollection) { transforms.DetermineSchema(s, transforms.SchemaConfig{}, in) },
			transforms.SchemaConfig{}.Validate(), "no dimension to concatenate along"},
		{"file type", nil, transforms.SchemaConfig{Concat: []plan.ConcatDim{{Name: "time"}}, FileType: "hdf4"}.Validate(), `file type "hdf4"`},
		{"preprocess", nil, transforms.SchemaConfig{Concat: []plan.ConcatDim{{Name: "time"}}, Preprocess: plan.Preprocess{Rename: []plan.Rename{{From: "time", To: "t"}}}}.Validate(),
			`Preprocess.Rename["time"]`},
		{"cache on HTTP", func(s beam.Scope, in beam.PCollection) {
			transforms.CacheInputs(s, transforms.CacheConfig{URL: "http://host/cache"}, in)
		}, transforms.CacheConfig{URL: "http://host/cache"}.Validate(), "cache URL"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: Validate() = %v, want an error saying %q", c.name, c.err, c.want)
		}
		if c.build == nil {
			continue
		}
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(error).Error(), c.want) {
					t.Errorf("%s: building the stage: panic %v, want one saying %q", c.name, r, c.want)
				}
			}()
			_, s := beam.NewPipelineWithRoot()
			c.build(s, beam.Create(s, plan.Input{}))
		}()
	}
	if err := good.Validate(); err != nil {
		t.Errorf("a target with only a URL: %v", err)
	}
}

// TestTargetCheck: in create mode a store already there is refused before
// any input is read; an empty or missing target, or another mode, passes.
func TestTargetCheck(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	full := filepath.Join(dir, "full.zarr")
	if err := os.MkdirAll(full, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(full, ".zgroup"), []byte(`{"zarr_format": 2}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := (transforms.TargetConfig{URL: full}).Check(ctx); err == nil || !strings.Contains(err.Error(), "a store already exists there") {
		t.Errorf("create over a store: %v", err)
	}
	for _, c := range []transforms.TargetConfig{{URL: filepath.Join(dir, "new.zarr")}, {URL: full, Mode: transforms.ModeOverwrite}, {URL: full, Mode: transforms.ModeAppend}} {
		if err := c.Check(ctx); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
