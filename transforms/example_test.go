package transforms_test

import (
	"context"
	"fmt"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/transforms"
)

// kelvinToCelsius is a step on the values: a struct whose exported fields
// configure it, registered below so that workers can rebuild it.
type kelvinToCelsius struct{ Var string }

func (e kelvinToCelsius) EditChunk(b *transforms.Block) error {
	if b.Var.Name != e.Var {
		return nil
	}
	vals, err := b.Values()
	if err != nil {
		return err
	}
	for i, k := range vals {
		vals[i] = k - 273.15
	}
	return b.SetValues(vals)
}

// retitle is a step on the schema: any registered DoFn of transforms.Schema.
type retitle struct{ Title string }

func (f *retitle) ProcessElement(s transforms.Schema) transforms.Schema {
	s = s.Clone()
	s.SetAttr(source.Attr{Name: "title", Type: source.Char, Value: f.Title}) // replaces the inputs' title
	return s
}

func init() {
	beam.RegisterType(reflect.TypeOf(kelvinToCelsius{}))
	register.DoFn1x1[transforms.Schema, transforms.Schema](&retitle{})
}

// Your own steps between the stages: one on the schema (between
// DetermineSchema and PrepareTarget; later stages honour renames too) and
// one on the values (given to StoreChunks).
func Example_userSteps() {
	_, s := beam.NewPipelineWithRoot()
	inputs := beam.CreateList(s, []transforms.Input{
		{Index: transforms.Index{Concat: []int{0}}, Source: "/data/t2m_2001.nc", URL: "/data/t2m_2001.nc"},
		{Index: transforms.Index{Concat: []int{1}}, Source: "/data/t2m_2002.nc", URL: "/data/t2m_2002.nc"},
	})
	cached := transforms.CacheInputs(s, transforms.CacheConfig{}, inputs)
	schema := transforms.DetermineSchema(s, transforms.SchemaConfig{Concat: []transforms.ConcatDim{{Name: "time"}}}, cached)
	schema = beam.ParDo(s, &retitle{Title: "2 m temperature, Celsius"}, schema)
	target := transforms.PrepareTarget(s, transforms.TargetConfig{URL: "/out/t2m.zarr", Chunks: map[string]int64{"time": 365}}, schema)
	results := transforms.StoreChunks(s, transforms.ChunksConfig{Editors: []transforms.ChunkEditor{kelvinToCelsius{Var: "t2m"}}}, target)
	transforms.FinalizeTarget(s, target, results)
	// beamx.Run(ctx, p) runs it.
}

// The groups of netCDF-4 files as nested Zarr groups of one store: a
// schema per group (each read as xarray.open_dataset(group=...) reads it),
// written by WriteGroups. A group without the time dimension is written
// once, from the first input (ConcatDim.OnceIfAbsent).
func ExampleWriteGroups() {
	_, s := beam.NewPipelineWithRoot()
	inputs := beam.CreateList(s, []transforms.Input{
		{Index: transforms.Index{Concat: []int{0}}, Source: "/data/volume_00.nc", URL: "/data/volume_00.nc"},
		{Index: transforms.Index{Concat: []int{1}}, Source: "/data/volume_01.nc", URL: "/data/volume_01.nc"},
	})
	cached := transforms.CacheInputs(s, transforms.CacheConfig{}, inputs)
	groups := []string{"/", "sweep_0", "sweep_1"}
	var schemas []beam.PCollection
	for _, g := range groups {
		cfg := transforms.SchemaConfig{Group: g, Concat: []transforms.ConcatDim{{Name: "time", OnceIfAbsent: true}}}
		schemas = append(schemas, transforms.DetermineSchema(s, cfg, cached))
	}
	transforms.WriteGroups(s, transforms.TargetConfig{URL: "/out/volumes.zarr", Chunks: map[string]int64{"time": 100}}, transforms.ChunksConfig{}, groups, schemas)
	// beamx.Run(ctx, p) runs it.
}

// A kerchunk reference set of the inputs instead of a copy: WriteReferences
// in place of PrepareTarget, StoreChunks and FinalizeTarget. fsspec's
// reference filesystem opens the set; xarray reads the inputs' bytes
// through it.
func ExampleWriteReferences() {
	_, s := beam.NewPipelineWithRoot()
	inputs := beam.CreateList(s, []transforms.Input{
		{Index: transforms.Index{Concat: []int{0}}, Source: "https://host/sst_2001.nc", URL: "https://host/sst_2001.nc"},
		{Index: transforms.Index{Concat: []int{1}}, Source: "https://host/sst_2002.nc", URL: "https://host/sst_2002.nc"},
	})
	schema := transforms.DetermineSchema(s, transforms.SchemaConfig{Concat: []transforms.ConcatDim{{Name: "time"}}}, inputs)
	transforms.WriteReferences(s, transforms.ReferencesConfig{URL: "/out/sst.json", Mode: transforms.ModeOverwrite}, schema)
	// beamx.Run(ctx, p) runs it.
}

// The stages count what they do in Beam counters of CounterNamespace: after
// a run, how many bytes of the inputs were decoded for the bytes the chunks
// needed (1.00x when each stored chunk was decoded once).
func Example_counters() {
	p, s := beam.NewPipelineWithRoot()
	_ = s // the stages, as in Example_userSteps
	res, err := beamx.RunWithMetrics(context.Background(), p)
	if err != nil {
		fmt.Println(err)
		return
	}
	n := map[string]int64{}
	for _, c := range res.Metrics().AllMetrics().Counters() {
		if c.Key.Namespace == transforms.CounterNamespace {
			n[c.Key.Name] += c.Result()
		}
	}
	fmt.Printf("%d chunks written; inputs decoded %.2fx what they needed\n", n[transforms.CounterChunksWritten],
		float64(n[transforms.CounterSourceDecoded])/float64(max(n[transforms.CounterSourceNeeded], 1)))
}
