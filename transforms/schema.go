package transforms

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/zarrforge/zarrforge/internal/inputs"
	"github.com/zarrforge/zarrforge/internal/par"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/storage"
)

func init() {
	register.DoFn4x1[context.Context, int, func(*plan.Input) bool, func(plan.InputMeta), error](&describeFn{})
	register.Emitter1[plan.InputMeta]()
	register.Combiner3[plan.Merger, plan.InputMeta, plan.Schema](&mergeSchemaFn{})
}

// SchemaConfig configures DetermineSchema.
type SchemaConfig struct {
	// Concat declares the dimensions the inputs are concatenated along,
	// in the pattern's order (the inputs' Index.Concat), at least one: each
	// with its NItemsPerFile, when positive the length every input must have
	// along it, and its keys, which become its coordinate when the inputs
	// lack the dimension (see ConcatDim).
	Concat []plan.ConcatDim
	// FileType is "auto" (or ""), "netcdf3" or "netcdf4"; an input of
	// another format is an error.
	FileType string
	// MaxMem bounds, in bytes, the decoded size of an input chunk read for
	// the schema (the coordinates); 0 means DefaultMaxMem.
	MaxMem int64
	// Retry is how HTTP reads retry; the zero value is
	// storage.DefaultRetry.
	Retry storage.Retry
	// Auth is how HTTP reads of the inputs authenticate (names of
	// environment variables, resolved where the reads run).
	Auth storage.HTTPAuth
	// Preprocess edits every input as it is described (see
	// Preprocess); the later stages read each variable where the
	// edits say it is.
	Preprocess plan.Preprocess
	// Group, when not "", is the netCDF-4 group of every input to read as
	// the dataset, as xarray.open_dataset(path, group=...) does
	// (source.Options.Group; "/" the root alone, its groups left out); the
	// later stages read it too.
	Group string
	// Filter, when not nil, selects the messages of every input (GRIB) to
	// read as the dataset, as cfgrib's filter_by_keys does
	// (source.Options.Filter); the later stages read them too.
	Filter map[string]string
}

// DetermineSchema reads the metadata of every input (a PCollection of
// Input) and merges it into one Schema, returned as a singleton
// PCollection. Inputs that disagree — a different grid, dtype or variable
// set — fail the pipeline here, before anything is written, with an error
// naming both inputs and the difference.
//
// It panics, as the pipeline is built, when cfg.Validate fails.
func DetermineSchema(s beam.Scope, cfg SchemaConfig, inputs beam.PCollection) beam.PCollection {
	mustValid("transforms.DetermineSchema", cfg.Validate())
	s = s.Scope("transforms.DetermineSchema")
	if cfg.Group != "" {
		s = s.Scope("Group " + scopeName(cfg.Group))
	}
	metas := beam.ParDo(s, &describeFn{Config: cfg.withoutKeys()}, batches(s, inputs))
	return beam.Combine(s, &mergeSchemaFn{Concat: cfg.Concat, Preprocess: cfg.Preprocess, Group: cfg.Group, Filter: cfg.Filter}, metas)
}

// withoutKeys returns c without the concat dimensions' keys, which only
// the merge needs: the pipeline graph holds them once.
func (c SchemaConfig) withoutKeys() SchemaConfig {
	c.Concat = slices.Clone(c.Concat)
	for i := range c.Concat {
		c.Concat[i].Keys, c.Concat[i].Values = nil, nil
	}
	return c
}

// describeFn reads the headers of a batch of inputs, at once.
type describeFn struct {
	Config SchemaConfig

	described, retries, msec beam.Counter
	span                     beam.Distribution
	progress                 progress
}

func (f *describeFn) Setup() {
	f.described = beam.NewCounter(CounterNamespace, CounterInputsDescribed)
	f.retries = beam.NewCounter(CounterNamespace, CounterInputRetries)
	f.msec = beam.NewCounter(CounterNamespace, CounterDescribeMsec)
	f.span = beam.NewDistribution(CounterNamespace, SpanDetermineSchema)
	f.progress = progress{stage: StageDetermineSchema, what: "inputs described"}
}

func (f *describeFn) ProcessElement(ctx context.Context, _ int, iter func(*plan.Input) bool, emit func(plan.InputMeta)) error {
	defer timeSince(ctx, f.msec, f.span, time.Now())
	ins := collect(iter)
	metas := make([]plan.InputMeta, len(ins))
	rctx, retries := countingRetries(ctx, f.Config.Retry, f.Config.Auth)
	err := par.Do(rctx, len(ins), batchSize, func(ctx context.Context, i int) error {
		return par.Recovered("DetermineSchema: input "+ins[i].Source, func() error {
			var err error
			metas[i], err = f.describe(ctx, ins[i])
			return err
		})
	})
	f.retries.Inc(ctx, retries.Load())
	if err != nil {
		return err
	}
	for _, m := range metas {
		f.described.Inc(ctx, 1)
		emit(m)
	}
	f.progress.add(ctx, int64(len(metas)), 0, 0)
	return nil
}

// describe reads one input's header.
func (f *describeFn) describe(ctx context.Context, in plan.Input) (plan.InputMeta, error) {
	budget := budgetOf(f.Config.MaxMem)
	o, err := inputs.OpenInput(ctx, in.URL, "", in.Source, source.Options{MaxChunk: budget / 2, Group: f.Config.Group, Filter: f.Config.Filter})
	if err != nil {
		return plan.InputMeta{}, fmt.Errorf("DetermineSchema: %w", err)
	}
	defer o.File.Close()
	in.Version = o.File.Version() // the chunk stage reads this version or fails
	nc := o.Reader
	if err := checkFileType(f.Config.FileType, nc); err != nil {
		return plan.InputMeta{}, fmt.Errorf("DetermineSchema: input %s: %w", in.Source, err)
	}
	m, err := plan.Describe(in, nc, plan.ConcatNames(f.Config.Concat), budget, f.Config.Preprocess)
	if err == nil {
		err = zarrplan.CheckNames(&m)
	}
	if err != nil {
		return plan.InputMeta{}, fmt.Errorf("DetermineSchema: %w", err)
	}
	for _, c := range f.Config.Concat {
		if n := m.ConcatLen(c.Name); c.NItemsPerFile > 0 && n != c.NItemsPerFile {
			return plan.InputMeta{}, fmt.Errorf("DetermineSchema: input %s: %d steps along %q, but nitems_per_file is %d",
				in.Source, n, c.Name, c.NItemsPerFile)
		}
	}
	return m, nil
}

// checkFileType checks that an input is of the file type the stage was
// told to expect ("" or "auto" for any).
func checkFileType(want string, r source.Reader) error {
	if want == "" || want == "auto" || want == r.FileType() {
		return nil
	}
	return fmt.Errorf("file_type is %s but the file is %s", want, r.Format())
}

// mergeSchemaFn combines input metadata into the Schema.
type mergeSchemaFn struct {
	Concat     []plan.ConcatDim
	Preprocess plan.Preprocess
	Group      string
	Filter     map[string]string
}

func (f *mergeSchemaFn) CreateAccumulator() plan.Merger { return plan.Merger{} }

func (f *mergeSchemaFn) AddInput(g plan.Merger, m plan.InputMeta) (plan.Merger, error) {
	if err := g.Add(m, plan.ConcatNames(f.Concat)); err != nil {
		return g, fmt.Errorf("DetermineSchema: %w", err)
	}
	return g, nil
}

func (f *mergeSchemaFn) MergeAccumulators(a, b plan.Merger) (plan.Merger, error) {
	if err := a.Merge(b, plan.ConcatNames(f.Concat)); err != nil {
		return a, fmt.Errorf("DetermineSchema: %w", err)
	}
	return a, nil
}

func (f *mergeSchemaFn) ExtractOutput(g plan.Merger) (plan.Schema, error) {
	s, err := g.Schema(f.Concat)
	if err != nil {
		return plan.Schema{}, fmt.Errorf("DetermineSchema: %w", err)
	}
	s.Bind(f.Preprocess)
	s.Group, s.Filter = f.Group, f.Filter
	return s, nil
}
