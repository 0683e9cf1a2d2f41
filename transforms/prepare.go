package transforms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/zarrforge/zarrforge/plan"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/zarr"
)

func init() {
	register.DoFn2x2[context.Context, plan.Schema, plan.Target, error](&prepareFn{})
}

// Target modes.
const (
	ModeCreate    = "create"    // fail if a store exists at the target
	ModeOverwrite = "overwrite" // replace whatever is at the target
	ModeAppend    = "append"    // extend the store at the target along the concat dimension (create it if there is none)
)

// TargetConfig configures PrepareTarget.
type TargetConfig struct {
	// URL is where the Zarr store goes: a path, file:// URL, or gs://bucket/prefix.
	URL string
	// Chunks is the target chunk size per dimension; dimensions not named
	// are one chunk.
	Chunks map[string]int64
	// Format is the Zarr format of a store the run creates: 2 (the
	// default when 0) or 3. An append keeps the store's.
	Format int
	// Shards (Zarr v3 only) is the shard size per dimension, a multiple of
	// the chunk size: each shard object holds the chunks within it (see
	// plan.Schema.Shard). nil: no shards.
	Shards map[string]int64
	// Compressor is the numcodecs id — "zstd", "zlib", "gzip" — or "none";
	// "" means zstd, as in recipes.
	Compressor string
	// Level is the compression level; 0 means the compressor's default.
	Level int
	// Mode is ModeCreate (the default), ModeOverwrite or ModeAppend.
	Mode string
	// MaxMem is the memory budget of one element's chunk work, in bytes:
	// a layout with a larger chunk is refused, a read group's region takes
	// at most half of it (larger groups are split), and inputs' chunks
	// larger than half of it are not decoded. 0 means DefaultMaxMem.
	MaxMem int64
	// Retry is how StoreChunks' HTTP reads of the inputs retry; the zero
	// value is storage.DefaultRetry.
	Retry storage.Retry
	// RunID tells this run's own partial writes from another run's. Left
	// empty, PrepareTarget picks a random one when the pipeline is built.
	RunID string
}

// PrepareTarget lays the schema (a singleton PCollection of plan.Schema)
// out in chunks and writes the store's array metadata and the concat
// coordinate. It returns the singleton plan.Target that StoreChunks and
// FinalizeTarget take as a side input. The store's root group and
// consolidated metadata are written only by FinalizeTarget, so a store whose
// run has not finished cannot be opened as complete.
//
// It panics, as the pipeline is built, when cfg.Validate fails.
func PrepareTarget(s beam.Scope, cfg TargetConfig, schema beam.PCollection) beam.PCollection {
	mustValid("transforms.PrepareTarget", cfg.Validate())
	s = s.Scope("PrepareTarget")
	if cfg.RunID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.RunID = hex.EncodeToString(b[:])
	}
	return beam.ParDo(s, &prepareFn{Config: cfg}, schema)
}

// DefaultMaxMem is the memory budget of one element's chunk work when none
// is given: 1 GiB, sized for a Dataflow worker (an n1-standard-1 has 3.75
// GB for one element at a time per core, beside the SDK harness). A read
// group's region takes at most half of it; its chunks, encoders and the
// reads' decoding the rest.
const DefaultMaxMem = 1 << 30

// budgetOf is a configured memory budget, DefaultMaxMem when unset.
func budgetOf(maxMem int64) int64 {
	if maxMem <= 0 {
		return DefaultMaxMem
	}
	return maxMem
}

type prepareFn struct {
	Config TargetConfig
	self   process // who claims the store; thisProcess() unless a test says
}

func (f *prepareFn) ProcessElement(ctx context.Context, schema plan.Schema) (plan.Target, error) {
	var t plan.Target
	err := recovered("PrepareTarget: target "+f.Config.URL, func() error {
		var err error
		t, err = f.prepare(ctx, schema)
		return err
	})
	return t, err
}

func (f *prepareFn) prepare(ctx context.Context, schema plan.Schema) (plan.Target, error) {
	if f.self == (process{}) {
		f.self = thisProcess()
	}
	switch f.Config.Mode {
	case "", ModeCreate, ModeOverwrite, ModeAppend:
	default:
		return plan.Target{}, fmt.Errorf("PrepareTarget: target %s: mode %q is not supported (use %s, %s or %s)",
			f.Config.URL, f.Config.Mode, ModeCreate, ModeOverwrite, ModeAppend)
	}
	schema = schema.Clone() // elements are not ours to change
	if err := schema.Layout(f.Config.Chunks); err != nil {
		return plan.Target{}, fmt.Errorf("PrepareTarget: %w", err)
	}
	budget := budgetOf(f.Config.MaxMem)
	st, err := storage.NewStore(ctx, f.Config.URL)
	if err != nil {
		return plan.Target{}, fmt.Errorf("PrepareTarget: %w", err)
	}
	if f.Config.Mode == ModeAppend {
		t, ok, err := f.prepareAppend(ctx, st, schema)
		if err != nil {
			return plan.Target{}, fmt.Errorf("PrepareTarget: target %s: appending: %w", f.Config.URL, err)
		}
		if ok {
			t.MaxMem, t.Retry = budget, f.Config.Retry
			if err := t.Schema.CheckMemory(budget); err != nil { // the store's chunks
				return plan.Target{}, fmt.Errorf("PrepareTarget: target %s: appending: %w", f.Config.URL, err)
			}
			steps, _ := t.Schema.Dim(t.Schema.ConcatDim)
			log.Infof(ctx, "PrepareTarget: %s: appending %d steps to %d, %d chunks to write",
				f.Config.URL, steps-t.Schema.Base, t.Schema.Base, t.Schema.NumChunks())
			return t, nil
		}
		// Nothing to append to: create the store.
	}
	if err := schema.Shard(f.Config.Shards); err != nil { // (an append keeps the store's shards)
		return plan.Target{}, fmt.Errorf("PrepareTarget: %w", err)
	}
	if err := schema.CheckMemory(budget); err != nil {
		return plan.Target{}, fmt.Errorf("PrepareTarget: %w", err)
	}
	t := plan.Target{URL: f.Config.URL, Format: f.Config.format(), Compressor: f.Config.compressor(), Level: f.Config.Level,
		Run: f.Config.RunID, MaxMem: budget, Retry: f.Config.Retry, Schema: schema}
	if err := f.claim(ctx, st); err != nil {
		return plan.Target{}, fmt.Errorf("PrepareTarget: target %s: %w", f.Config.URL, err)
	}
	for i := range schema.Vars {
		v := &schema.Vars[i]
		meta, err := t.ArrayMeta(v)
		if err != nil {
			return plan.Target{}, fmt.Errorf("PrepareTarget: %w", err)
		}
		if err := zarr.WriteArrayMeta(ctx, st, v.Name, meta, plan.ArrayAttrs(v)); err != nil {
			return plan.Target{}, fmt.Errorf("PrepareTarget: target %s: %w", f.Config.URL, err)
		}
	}
	if cv, ok := schema.CoordVar(); ok {
		meta, err := t.ArrayMeta(cv)
		if err != nil {
			return plan.Target{}, fmt.Errorf("PrepareTarget: %w", err)
		}
		if err := zarr.WriteVector(ctx, st, cv.Name, meta, schema.Coord); err != nil {
			return plan.Target{}, fmt.Errorf("PrepareTarget: target %s: %w", f.Config.URL, err)
		}
	}
	log.Infof(ctx, "PrepareTarget: %s: %d arrays, %d chunks to write", f.Config.URL, len(schema.Vars), schema.NumChunks())
	return t, nil
}

// claim makes the target this run's: in create mode it refuses a target
// that holds anything but this run's own partial writes (a retried bundle);
// in overwrite mode it takes the store, then deletes whatever another run
// left there. A store that another run is live writing is refused in both.
func (f *prepareFn) claim(ctx context.Context, st *storage.Store) error {
	keys, err := st.List(ctx, "")
	if err != nil {
		return err
	}
	m, err := readMarker(ctx, st)
	if err != nil {
		return err
	}
	now := time.Now()
	switch {
	case m.exists() && m.Run == f.Config.RunID:
		_, err = claim(ctx, st, m, f.Config.RunID, stateWriting, nil, f.self, now)
		return err // our own, retried
	case m.live(f.self, now):
		return m.busy(now)
	case len(keys) == 0:
	case f.Config.Mode == ModeOverwrite && !m.exists() && !zarr.IsStore(keys):
		return fmt.Errorf("it holds %d objects (%s) and is not a Zarr store, nor what a zarrforge run left; "+
			"overwrite replaces only those: remove them yourself or choose another target.url", len(keys), sample(keys))
	case f.Config.Mode == ModeOverwrite:
	default:
		return fmt.Errorf("a store already exists there (%d objects); set target.mode to overwrite to replace it", len(keys))
	}
	// Take the store first, then clear it: a run that took it since
	// stops this one here, before anything of its is deleted.
	if _, err := claim(ctx, st, m, f.Config.RunID, stateWriting, nil, f.self, now); err != nil {
		return err
	}
	if len(keys) > 0 {
		return st.Clear(ctx, markerKey)
	}
	return nil
}

// sample names the first few of keys.
func sample(keys []string) string {
	const n = 3
	if len(keys) <= n {
		return strings.Join(keys, ", ")
	}
	return strings.Join(keys[:n], ", ") + ", ..."
}

// prepareAppend readies an append: it reads what the store holds, checks
// the inputs against it (plan.Schema.AppendTo), records the store's state
// before the append in the marker and withdraws the consolidated metadata
// (zarr.Withdraw), so that the store does not look complete until
// FinalizeTarget has written every chunk and the new shapes. The target
// encodes chunks as the store's arrays say (plan.Target.Arrays). The store's arrays keep their metadata until then. It
// returns false when there is no store to append to.
func (f *prepareFn) prepareAppend(ctx context.Context, st *storage.Store, schema plan.Schema) (_ plan.Target, _ bool, err error) {
	m, err := readMarker(ctx, st)
	if err != nil {
		return plan.Target{}, false, err
	}
	// What is read below can vanish under a run that takes the store
	// meanwhile (an overwrite clearing it): then that, not the store, is
	// why reading it failed.
	defer func() {
		if err != nil && !errors.Is(err, ErrTargetBusy) {
			if later, rerr := readMarker(ctx, st); rerr == nil && later.version != m.version {
				err = fmt.Errorf("%w: run %s took the store while this run read it (%v)", ErrTargetBusy, later.Run, err)
			}
		}
	}()
	keys, err := st.List(ctx, "")
	if err != nil {
		return plan.Target{}, false, err
	}
	if len(keys) == 0 {
		return plan.Target{}, false, nil
	}
	now := time.Now()
	mine := m.exists() && m.Run == f.Config.RunID
	var base *appendBase
	switch {
	case mine && m.State == stateWriting:
		return plan.Target{}, false, nil // our own create, retried
	case !mine && m.live(f.self, now):
		return plan.Target{}, false, m.busy(now)
	case m.State == stateWriting:
		return plan.Target{}, false, fmt.Errorf("the store is incomplete: run %s did not finish creating it; set target.mode to overwrite to start again", m.Run)
	case m.State == stateAppending && m.Base != nil:
		base = m.Base // an append that did not finish, ours retried or a dead run's: start from where it started
		if err := checkUnfinished(ctx, st, keys, schema, base); err != nil {
			return plan.Target{}, false, err
		}
	case m.State == stateComplete:
	case !m.exists():
		consolidated, err := zarr.IsConsolidated(ctx, st, keys)
		if err != nil {
			return plan.Target{}, false, err
		}
		if !consolidated {
			return plan.Target{}, false, fmt.Errorf("no complete Zarr store there to append to (no consolidated metadata: " +
				".zmetadata, or a root zarr.json with consolidated_metadata); set target.mode to overwrite to replace it")
		}
	default:
		return plan.Target{}, false, fmt.Errorf("no complete Zarr store there to append to; set target.mode to overwrite to replace it")
	}
	stored, err := readStored(ctx, st, keys, schema.ConcatDim, base)
	if err != nil {
		return plan.Target{}, false, err
	}
	if f.Config.Format != 0 && f.Config.Format != stored.Format {
		return plan.Target{}, false, fmt.Errorf("target.zarr_format: the store is Zarr v%d, not v%d", stored.Format, f.Config.Format)
	}
	if err := schema.AppendTo(stored, f.Config.Chunks, f.Config.Shards); err != nil {
		return plan.Target{}, false, err
	}
	t := plan.Target{URL: f.Config.URL, Format: stored.Format, Run: f.Config.RunID, Schema: schema,
		Arrays: make(map[string]zarr.ArrayMeta, len(stored.Arrays))}
	for name, a := range stored.Arrays {
		t.Arrays[name] = a.Meta
	}
	if _, err := claim(ctx, st, m, f.Config.RunID, stateAppending, &appendBase{Len: stored.Len, Coord: stored.Coord}, f.self, now); err != nil {
		return plan.Target{}, false, err
	}
	if err := zarr.Withdraw(ctx, st, stored.Format); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return plan.Target{}, false, err
	}
	return t, true, nil
}

// checkUnfinished refuses to take up an unfinished append (whose marker
// says the store held base.Len steps) when the store has since been
// consolidated by another tool — xarray's to_zarr(mode="a") after a killed
// run — to a length this append would not make: starting again from base
// would drop what that tool added. (The unfinished append withdrew
// .zmetadata; it comes back only at its own very end, with the length it
// makes.)
func checkUnfinished(ctx context.Context, st *storage.Store, keys []string, schema plan.Schema, base *appendBase) error {
	if consolidated, err := zarr.IsConsolidated(ctx, st, keys); err != nil || !consolidated {
		return err
	}
	now, err := readArrays(ctx, st, keys, schema.ConcatDim, true)
	if err != nil {
		return err
	}
	steps, _ := schema.Dim(schema.ConcatDim)
	if now.Len != base.Len && now.Len != base.Len+steps {
		return fmt.Errorf("an unfinished zarrforge append started from %d steps along %s, but the store now holds %d "+
			"(another tool appended and consolidated it since); appending again from %d would drop those steps: "+
			"check the store, then append with that tool or set target.mode to overwrite",
			base.Len, schema.ConcatDim, now.Len, base.Len)
	}
	return nil
}

// readStored reads the arrays of the store and, unless base (from an
// unfinished append) gives them, its length along concatDim and its concat
// coordinate.
func readStored(ctx context.Context, st *storage.Store, keys []string, concatDim string, base *appendBase) (plan.Stored, error) {
	stored, err := readArrays(ctx, st, keys, concatDim, base == nil)
	if err != nil {
		return plan.Stored{}, err
	}
	if base != nil {
		// Shapes may already be the unfinished append's: the store holds
		// what it held before it.
		stored.Len, stored.Coord = base.Len, base.Coord
		for _, a := range stored.Arrays {
			if i := slices.Index(a.Meta.Dims, concatDim); i >= 0 {
				a.Meta.Shape[i] = base.Len
			}
		}
		return stored, nil
	}
	if stored.Len < 0 {
		return plan.Stored{}, fmt.Errorf("no array of the store has the dimension %s", concatDim)
	}
	if a, ok := stored.Arrays[concatDim]; ok && len(a.Meta.Dims) == 1 {
		coord, err := zarr.ReadVector(ctx, st, concatDim, a.Meta)
		if err != nil {
			return plan.Stored{}, err
		}
		stored.Coord = coord
	}
	return stored, nil
}

// readArrays reads the metadata of the store's arrays and their length
// along concatDim as their shapes say (-1 when none has it); with even,
// arrays of different lengths are an error (an append killed while it
// wrote the new shapes leaves them so).
func readArrays(ctx context.Context, st *storage.Store, keys []string, concatDim string, even bool) (plan.Stored, error) {
	stored := plan.Stored{Format: zarr.FormatOf(keys), Arrays: map[string]plan.StoredArray{}, Len: -1}
	for _, name := range zarr.Arrays(keys) {
		meta, attrs, err := zarr.ReadArrayMeta(ctx, st, name)
		if err != nil {
			return plan.Stored{}, err
		}
		if meta.Dims == nil {
			return plan.Stored{}, fmt.Errorf("array %q has no dimension names (_ARRAY_DIMENSIONS or dimension_names) for its %d dimensions",
				name, len(meta.Shape))
		}
		stored.Arrays[name] = plan.StoredArray{Meta: meta, Attrs: attrs}
		if i := slices.Index(meta.Dims, concatDim); i >= 0 {
			if even && stored.Len >= 0 && meta.Shape[i] != stored.Len {
				return plan.Stored{}, fmt.Errorf("arrays of the store differ in length along %s (%d and %d)", concatDim, stored.Len, meta.Shape[i])
			}
			stored.Len = max(stored.Len, meta.Shape[i])
		}
	}
	return stored, nil
}
