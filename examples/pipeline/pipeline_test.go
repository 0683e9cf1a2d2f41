// Package pipeline_test is the README's Go example: the stages in a
// pipeline of your own, with a step of your own on the values, tested with
// passert (on the direct runner; go test -args --runner=prism for Prism).
package pipeline_test

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/zarrforge/zarrforge/transforms"
)

func init() {
	beam.RegisterType(reflect.TypeOf(clamp{})) // workers rebuild editors by type
}

// clamp is a step on the values: it clamps Var's packed values into
// [Min, Max]. Missing values (NaN here) stay missing.
type clamp struct {
	Var      string
	Min, Max float64
}

func (c clamp) EditChunk(b *transforms.Block) error {
	if b.Var.Name != c.Var {
		return nil
	}
	vals, err := b.Values()
	if err != nil {
		return err
	}
	for i, v := range vals {
		vals[i] = min(max(v, c.Min), c.Max)
	}
	return b.SetValues(vals)
}

func TestPipeline(t *testing.T) {
	var inputs []transforms.Input
	for i, day := range []string{"19810901", "19810902", "19810903"} {
		path := filepath.Join("..", "dataflow", "sample", "oisst-avhrr-v02r01."+day+".nc")
		inputs = append(inputs, transforms.Input{Index: transforms.Index{Concat: []int{i}}, Source: path, URL: path})
	}
	p, s := beam.NewPipelineWithRoot()
	schema := transforms.DetermineSchema(s, transforms.SchemaConfig{Concat: []transforms.ConcatDim{{Name: "time"}}},
		beam.CreateList(s, inputs))
	target := transforms.PrepareTarget(s, transforms.TargetConfig{URL: filepath.Join(t.TempDir(), "sst.zarr"),
		Chunks: map[string]int64{"time": 3}}, schema)
	results := transforms.StoreChunks(s, transforms.ChunksConfig{Editors: []transforms.ChunkEditor{clamp{Var: "sst", Min: -300, Max: 4500}}}, target)
	summary := transforms.FinalizeTarget(s, target, results)
	passert.Count(s, summary, "one finished store", 1)
	ptest.RunAndValidate(t, p)
}

// TestMain initialises Beam and picks the runner (--runner; direct by
// default).
func TestMain(m *testing.M) { ptest.Main(m) }
