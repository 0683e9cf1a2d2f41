package transforms

import (
	"context"
	"runtime"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/write"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/storage"
)

func init() {
	register.DoFn3x0[[]byte, zarrplan.Target, func(plan.ReadGroup)](&groupKeysFn{})
	register.Emitter1[plan.ReadGroup]()
	register.DoFn4x1[context.Context, plan.ReadGroup, zarrplan.Target, func(plan.WriteResult), error](&storeGroupFn{})
	register.Emitter1[plan.WriteResult]()
}

// StoreChunks writes every chunk of the target (the singleton PCollection
// of the prepared target from PrepareTarget, taken as a side input) and
// returns a write result per chunk object, for FinalizeTarget. The chunks are written in read groups
// (Schema.ReadGroups): boxes of chunks cut so that each stored chunk of
// the inputs is decoded, and fetched, once, however the target chunks cut
// it. Group keys, not array data, go through the shuffle; each group is
// read from the inputs that overlap it, cut into its chunks, and each chunk
// is encoded and written whole, once, by one element.
//
// cfg says how the inputs are read and which editors change the values
// before they are encoded (see ChunkEditor). StoreChunks panics, as
// beam.ParDo does for a malformed DoFn, when an editor cannot travel to
// the workers.
func StoreChunks(s beam.Scope, cfg ChunksConfig, target beam.PCollection) beam.PCollection {
	s = s.Scope("transforms.StoreChunks")
	fn := &storeGroupFn{Retry: cfg.Retry, Auth: cfg.Auth}
	for _, e := range cfg.Editors {
		enc, err := encodeEditor(e)
		if err != nil {
			panic(err)
		}
		fn.Editors = append(fn.Editors, enc)
	}
	groups := beam.ParDo(s, &groupKeysFn{Cores: runtime.GOMAXPROCS(0)}, beam.Impulse(s), beam.SideInput{Input: target})
	groups = beam.Reshuffle(s, groups)
	return beam.ParDo(s, fn, groups, beam.SideInput{Input: target})
}

// groupKeysFn emits the key of every read group to write, groups of at
// least Cores chunks where they fit. Cores is fixed when the pipeline is
// built (the cores of the machine that builds it), so that the plan does
// not depend on which worker computes it.
type groupKeysFn struct {
	Cores int
}

func (f *groupKeysFn) ProcessElement(_ []byte, t zarrplan.Target, emit func(plan.ReadGroup)) {
	t.Schema.ReadGroups(t.ReadGroupMem(), max(f.Cores, 1), emit)
}

// ChunksConfig configures StoreChunks.
type ChunksConfig struct {
	// Retry is how HTTP reads of the inputs retry; the zero value is
	// storage.DefaultRetry.
	Retry storage.Retry
	// Auth is how HTTP reads of the inputs authenticate (names of
	// environment variables, resolved where the reads run).
	Auth storage.HTTPAuth
	// Editors change the values, in this order, before they are encoded.
	Editors []ChunkEditor
}

// storeGroupFn writes the chunks of one read group, through a write.Writer.
type storeGroupFn struct {
	Retry   storage.Retry
	Auth    storage.HTTPAuth
	Editors []encodedEditor

	w        *write.Writer
	chunks   beam.Counter
	asStored beam.Counter // chunks written as the inputs store them
	written  beam.Counter
	needed   beam.Counter
	decoded  beam.Counter
	fetched  beam.Counter
	msec     beam.Counter
	span     beam.Distribution
	progress progress
}

func (f *storeGroupFn) Setup() error {
	opts := write.Options{Retry: f.Retry, Auth: f.Auth}
	for _, e := range f.Editors {
		ed, err := e.decode()
		if err != nil {
			return err
		}
		opts.Editors = append(opts.Editors, ed)
	}
	f.w = write.New(opts)
	f.chunks = beam.NewCounter(CounterNamespace, CounterChunksWritten)
	f.asStored = beam.NewCounter(CounterNamespace, CounterChunksCopied)
	f.written = beam.NewCounter(CounterNamespace, CounterChunkBytes)
	f.needed = beam.NewCounter(CounterNamespace, CounterSourceNeeded)
	f.decoded = beam.NewCounter(CounterNamespace, CounterSourceDecoded)
	f.fetched = beam.NewCounter(CounterNamespace, CounterInputBytes)
	f.msec = beam.NewCounter(CounterNamespace, CounterStoreMsec)
	f.span = beam.NewDistribution(CounterNamespace, SpanStoreChunks)
	f.progress = progress{stage: StageStoreChunks, what: "chunks written"}
	return nil
}

func (f *storeGroupFn) Teardown() {
	f.w.Close()
}

func (f *storeGroupFn) ProcessElement(ctx context.Context, g plan.ReadGroup, t zarrplan.Target, emit func(plan.WriteResult)) error {
	defer timeSince(ctx, f.msec, f.span, time.Now())
	before := f.w.Stats()
	results, needed, err := f.w.Group(ctx, &t, g)
	f.needed.Inc(ctx, needed)
	after := f.w.Stats()
	f.decoded.Inc(ctx, after.Decoded-before.Decoded)
	f.fetched.Inc(ctx, after.Fetched-before.Fetched)
	f.asStored.Inc(ctx, after.AsStored-before.AsStored)
	if err != nil {
		return err
	}
	var bytes int64
	for _, r := range results {
		f.chunks.Inc(ctx, 1)
		f.written.Inc(ctx, r.Bytes)
		bytes += r.Bytes
		emit(r)
	}
	f.progress.add(ctx, int64(len(results)), bytes, t.Schema.NumChunks())
	return nil
}
