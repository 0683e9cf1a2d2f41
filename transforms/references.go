package transforms

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/zarrforge/zarrforge/internal/inputs"
	"github.com/zarrforge/zarrforge/internal/par"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/refs"
	"github.com/zarrforge/zarrforge/storage"
)

func init() {
	register.DoFn2x0[plan.Schema, func(int)](&refIndexesFn{})
	register.Emitter1[int]()
	register.DoFn3x2[context.Context, int, plan.Schema, plan.InputRefs, error](&refInputFn{})
	register.DoFn3x2[context.Context, plan.Schema, func(*plan.InputRefs) bool, plan.Summary, error](&writeRefsFn{})
	register.Iter1[plan.InputRefs]()
}

// ReferencesConfig configures WriteReferences.
type ReferencesConfig struct {
	// URL is the reference file to write: a path, file:// URL or
	// gs://bucket/object, ending in .json.
	URL string
	// Mode is ModeCreate (the default: refuse an existing file) or
	// ModeOverwrite.
	Mode Mode
	// InlineLimit is the largest array without the concat dimension, in
	// bytes, that is inlined in the file rather than referenced; 0 means
	// DefaultInlineLimit. Coordinates are that small, as a rule, and a
	// reader then opens the set without touching the inputs for them.
	InlineLimit int64
	// MaxMem bounds an inlined variable's values and an input chunk
	// decoded for one; 0 means DefaultMaxMem.
	MaxMem int64
	// Retry is how reads of HTTP inputs retry (zero: the storage default).
	Retry storage.Retry
	// RecipeHash is recorded in the set's root attributes, as
	// TargetConfig.RecipeHash is in a store's.
	RecipeHash string
	// Auth is how HTTP reads of the inputs authenticate (names of
	// environment variables, resolved where the reads run).
	Auth storage.HTTPAuth
}

// DefaultInlineLimit is the largest array without the concat dimension
// inlined in a reference set when ReferencesConfig names none.
const DefaultInlineLimit = 64 << 10

// Validate checks the configuration of WriteReferences.
func (c ReferencesConfig) Validate() error {
	if err := storage.CheckWritable(c.URL); err != nil {
		return fmt.Errorf("references URL: %w", err)
	}
	if !strings.HasSuffix(c.URL, ".json") {
		return fmt.Errorf("references %s: the URL must name a .json file", c.URL)
	}
	if c.Mode != "" && c.Mode != ModeCreate && c.Mode != ModeOverwrite {
		return fmt.Errorf("references %s: mode %q is not supported (use %s or %s; a reference set is written whole)", c.URL, c.Mode, ModeCreate, ModeOverwrite)
	}
	if c.InlineLimit < 0 || c.MaxMem < 0 {
		return fmt.Errorf("references %s: negative inline limit or memory budget", c.URL)
	}
	return nil
}

// WriteReferences writes a kerchunk reference set of the dataset that
// schema (a singleton PCollection of Schema) describes, instead of a
// copy: every input's header is read for where its chunks lie (in
// parallel, an element per input), and one element writes the file,
// atomically, streaming the inputs' references into it as they come. It
// returns a singleton PCollection of Summary. It panics, as the
// pipeline is built, when cfg.Validate fails.
func WriteReferences(s beam.Scope, cfg ReferencesConfig, schema beam.PCollection) beam.PCollection {
	mustValid("transforms.WriteReferences", cfg.Validate())
	s = s.Scope("transforms.WriteReferences")
	indexes := beam.ParDo(s, &refIndexesFn{}, schema)
	refs := beam.ParDo(s, &refInputFn{Config: cfg}, beam.Reshuffle(s, indexes), beam.SideInput{Input: schema})
	return beam.ParDo(s, &writeRefsFn{Config: cfg}, schema, beam.SideInput{Input: refs})
}

// refIndexesFn emits the position of every input in the schema.
type refIndexesFn struct{}

func (refIndexesFn) ProcessElement(s plan.Schema, emit func(int)) {
	for i := range s.Inputs {
		emit(i)
	}
}

// refInputFn reads where one input's chunks lie.
type refInputFn struct {
	Config                ReferencesConfig
	inputs                *inputs.Pool
	chunks, fetched, msec beam.Counter
	span                  beam.Distribution
}

func (f *refInputFn) Setup() {
	f.inputs = inputs.NewPool(8)
	f.chunks = beam.NewCounter(CounterNamespace, CounterChunksReferenced)
	f.fetched = beam.NewCounter(CounterNamespace, CounterRefBytesFetched)
	f.msec = beam.NewCounter(CounterNamespace, CounterReferencesMsec)
	f.span = beam.NewDistribution(CounterNamespace, SpanWriteReferences)
}

func (f *refInputFn) Teardown() { f.inputs.Close() }

func (f *refInputFn) ProcessElement(ctx context.Context, i int, s plan.Schema) (plan.InputRefs, error) {
	defer timeSince(ctx, f.msec, f.span, time.Now())
	if f.Config.Retry != (storage.Retry{}) {
		ctx = storage.WithRetry(ctx, f.Config.Retry)
	}
	ctx = storage.WithHTTPAuth(ctx, f.Config.Auth)
	var in plan.InputRefs
	var fetched int64
	err := par.Recovered("WriteReferences: input", func() error {
		var err error
		in, fetched, err = refs.Input(ctx, f.inputs, &s, i, f.Config.options())
		return err
	})
	f.fetched.Inc(ctx, fetched)
	for _, v := range in.Vars {
		f.chunks.Inc(ctx, int64(len(v.Pieces)))
	}
	return in, err
}

// writeRefsFn writes the reference file.
type writeRefsFn struct {
	Config ReferencesConfig
}

func (f *writeRefsFn) ProcessElement(ctx context.Context, s plan.Schema, inputRefs func(*plan.InputRefs) bool) (plan.Summary, error) {
	var sum plan.Summary
	err := par.Recovered("WriteReferences: "+f.Config.URL, func() error {
		var err error
		sum, err = refs.Write(ctx, f.Config.options(), &s, inputRefs)
		return err
	})
	if err == nil {
		log.Infof(ctx, "WriteReferences: %s: %d arrays, %d chunks referenced, %d bytes", sum.URL, sum.Arrays, sum.Chunks, sum.Bytes)
	}
	return sum, err
}

// options are the configuration resolved for the Beam-free writer.
func (c ReferencesConfig) options() refs.Options {
	inline := c.InlineLimit
	if inline == 0 {
		inline = DefaultInlineLimit
	}
	return refs.Options{URL: c.URL, Overwrite: c.Mode == ModeOverwrite, InlineLimit: inline, MaxMem: budgetOf(c.MaxMem), RecipeHash: c.RecipeHash}
}
