package transforms_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/transforms"
)

// This file is written as a user of the package would: exported API only.

func init() {
	register.DoFn1x1[transforms.Schema, transforms.Schema](&renameVar{})
	beam.RegisterType(reflect.TypeOf(linear{}))
}

// renameVar is a user's step on the schema: it renames a variable,
// records that in a global attribute and sets the title (which the inputs
// have: it is replaced, not added twice).
type renameVar struct{ From, To string }

func (f *renameVar) ProcessElement(s transforms.Schema) transforms.Schema {
	s = s.Clone()
	for i := range s.Vars {
		if s.Vars[i].Name == f.From {
			s.Vars[i].Name = f.To
		}
	}
	s.SetAttr(source.Attr{Name: "processed_by", Type: source.Char, Value: "a user step"})
	s.SetAttr(source.Attr{Name: "title", Type: source.Char, Value: "renamed"})
	return s
}

// linear is a user's step on the values: v*Mul + Add for variable Var.
type linear struct {
	Var      string
	Mul, Add float64
}

func (e linear) EditChunk(b *transforms.Block) error {
	if b.Var.Name != e.Var {
		return nil
	}
	vals, err := b.Values()
	if err != nil {
		return err
	}
	for i := range vals {
		vals[i] = vals[i]*e.Mul + e.Add
	}
	return b.SetValues(vals)
}

// TestUserSteps inserts a schema DoFn that renames and value editors into
// the stages (one over packed values with missing cells, which stay
// missing), creates a store from three days and appends three more across
// a chunk that holds stored steps (which must not be edited again), on both
// runners; xarray, making the same edits, is the oracle.
func TestUserSteps(t *testing.T) {
	manifest := beamtest.Testdata("collections", "daily", "collection.json")
	beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
		target := transforms.TargetConfig{URL: filepath.Join(t.TempDir(), "out.zarr"), Chunks: map[string]int64{"time": 4, "lat": 4},
			Compressor: "zstd", Mode: transforms.ModeAppend}
		for _, days := range [][2]int{{0, 3}, {3, 6}} {
			var in []transforms.Input
			for i := days[0]; i < days[1]; i++ {
				p := fixture("daily", fmt.Sprintf("daily_%02d.nc", i))
				in = append(in, transforms.Input{Index: transforms.Index{Concat: []int{i - days[0]}}, Source: p, URL: p})
			}
			err := beamtest.RunOn(t, runner, func(t *testing.T, s beam.Scope) {
				cached := transforms.CacheInputs(s, transforms.CacheConfig{}, beam.CreateList(s, in))
				schema := transforms.DetermineSchema(s, transforms.SchemaConfig{Concat: []transforms.ConcatDim{{Name: "time"}}}, cached)
				schema = beam.ParDo(s, &renameVar{From: "ice", To: "sea_ice"}, schema)
				prepared := transforms.PrepareTarget(s, target, schema)
				summary := transforms.FinalizeTarget(s, prepared, transforms.StoreChunks(s, transforms.ChunksConfig{Editors: []transforms.ChunkEditor{linear{Var: "sea_ice", Mul: 2, Add: 1}, linear{Var: "sst", Mul: 2}}}, prepared))
				passert.Count(s, summary, "summary", 1)
			})
			if err != nil {
				t.Fatalf("days %v: %v", days, err)
			}
		}
		var files []string
		for i := range 6 {
			files = append(files, fixture("daily", fmt.Sprintf("daily_%02d.nc", i)))
		}
		beamtest.CompareWithXarrayPreprocessed(t, target.URL, manifest, files, map[string]any{
			"rename":       map[string]string{"ice": "sea_ice"},
			"global_attrs": map[string]string{"processed_by": "a user step", "title": "renamed"},
			"_values":      map[string][]float64{"sea_ice": {2, 1}, "sst": {2, 0}}, // sst's missing cells stay missing
		})
		attrs, err := os.ReadFile(filepath.Join(target.URL, ".zattrs"))
		if n := strings.Count(string(attrs), `"title"`); err != nil || n != 1 {
			t.Errorf(".zattrs holds %d titles (%v), want 1", n, err)
		}
	})
}

// unregistered is an editor nobody registered with Beam.
type unregistered struct{ Var string }

func (unregistered) EditChunk(*transforms.Block) error { return nil }

// TestUnregisteredEditor: an editor type not registered with Beam is
// refused as the pipeline is built, whatever the runner (the direct runner
// would run it; Prism and Dataflow workers could not rebuild it), with a
// message that says how to register it.
func TestUnregisteredEditor(t *testing.T) {
	for _, e := range []transforms.ChunkEditor{unregistered{Var: "sst"}, &unregistered{}} {
		msg := func() (msg string) {
			defer func() { msg = fmt.Sprint(recover()) }()
			_, s := beam.NewPipelineWithRoot()
			transforms.StoreChunks(s, transforms.ChunksConfig{Editors: []transforms.ChunkEditor{e}}, beam.Create(s, 1))
			return ""
		}()
		if !strings.Contains(msg, "not registered with Beam") || !strings.Contains(msg, "beam.RegisterType(reflect.TypeOf(unregistered{}))") {
			t.Errorf("%T: %q", e, msg)
		}
	}
}
