package transforms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/zarrforge/zarrforge/internal/extend"
	"github.com/zarrforge/zarrforge/internal/lease"
	"github.com/zarrforge/zarrforge/internal/par"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/targetstore"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/storage"
)

func init() {
	register.DoFn2x2[context.Context, plan.Schema, zarrplan.Target, error](&prepareFn{})
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
	// ChunkBytes, when not 0, sets the chunk size along the concat
	// dimension of a store the run creates so that chunks come out near
	// that many bytes (Schema.ConcatChunk); Chunks must then not
	// name the concat dimension. An append keeps the store's chunks.
	ChunkBytes int64
	// Format is the Zarr format of a store the run creates: 2 (the
	// default when 0) or 3. An append keeps the store's.
	Format int
	// Shards (Zarr v3 only) is the shard size per dimension, a multiple of
	// the chunk size: each shard object holds the chunks within it (see
	// Schema.Shard). nil: no shards.
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
	// RecipeHash, the SHA-256 of the recipe (hex), is recorded in the root
	// attributes of a store the run creates, beside the zarrforge version
	// and a digest of the inputs; "" records none.
	RecipeHash string
	// RunID tells this run's own partial writes from another run's. Left
	// empty, PrepareTarget picks a random one when the pipeline is built.
	RunID string
}

// PrepareTarget lays the schema (a singleton PCollection of Schema)
// out in chunks and writes the store's array metadata and the concat
// coordinate. It returns the singleton prepared target that StoreChunks and
// FinalizeTarget take as a side input. The store's root group and
// consolidated metadata are written only by FinalizeTarget, so a store whose
// run has not finished cannot be opened as complete.
//
// It panics, as the pipeline is built, when cfg.Validate fails.
func PrepareTarget(s beam.Scope, cfg TargetConfig, schema beam.PCollection) beam.PCollection {
	mustValid("transforms.PrepareTarget", cfg.Validate())
	s = s.Scope("transforms.PrepareTarget")
	if cfg.RunID == "" {
		cfg.RunID = newRunID()
	}
	return beam.ParDo(s, &prepareFn{Config: cfg, Builder: lease.This().Key()}, schema)
}

// newRunID is a random run ID, picked as the pipeline is built.
func newRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
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
	// Builder is the process that built the pipeline (lease.Process.Key):
	// where the store is claimed in it, the run is that one process (see
	// lease.Owner).
	Builder string
	self    lease.Process // who claims the store; lease.This() unless a test says
}

func (f *prepareFn) ProcessElement(ctx context.Context, schema plan.Schema) (zarrplan.Target, error) {
	var t zarrplan.Target
	err := par.Recovered("PrepareTarget: target "+f.Config.URL, func() error {
		var err error
		t, err = f.prepare(ctx, schema, nil)
		return err
	})
	return t, err
}

// prepare lays schema out and writes its array metadata and concat
// coordinates, after claiming the store; or, for group g of a store of
// nested groups (WriteGroups), in the group, the store being claimed.
func (f *prepareFn) prepare(ctx context.Context, schema plan.Schema, g *nestedGroup) (zarrplan.Target, error) {
	if f.self == (lease.Process{}) {
		f.self = lease.This()
	}
	schema = schema.Clone() // elements are not ours to change
	chunks, shards := f.Config.Chunks, f.Config.Shards
	url := f.Config.URL
	if g != nil {
		// The target's sizes are for every group: each takes those of
		// the dimensions it has.
		chunks, shards = sizesOf(chunks, &schema), sizesOf(shards, &schema)
		url = plan.GroupURL(url, g.Path)
	}
	if err := schema.Layout(chunks); err != nil {
		return zarrplan.Target{}, fmt.Errorf("PrepareTarget: %w", err)
	}
	budget := budgetOf(f.Config.MaxMem)
	st, err := storage.NewStore(ctx, url)
	if err != nil {
		return zarrplan.Target{}, fmt.Errorf("PrepareTarget: %w", err)
	}
	if f.Config.Mode == ModeAppend {
		t, ok, err := extend.Prepare(ctx, st, schema, extend.Config{Run: f.Config.RunID, Format: f.Config.Format,
			Chunks: f.Config.Chunks, Shards: f.Config.Shards, Self: f.self, Owner: lease.Owner(f.self, f.Builder)})
		if err == nil && ok {
			t.URL, t.MaxMem = f.Config.URL, budget
			err = t.Schema.CheckMemory(budget) // the store's chunks
		}
		if err != nil {
			return zarrplan.Target{}, fmt.Errorf("PrepareTarget: target %s: appending: %w", f.Config.URL, err)
		}
		if ok {
			steps, _ := t.Schema.Dim(t.Schema.AppendDim())
			log.Infof(ctx, "PrepareTarget: %s: appending %d steps to %d, %d chunks to write",
				f.Config.URL, steps-t.Schema.Base, t.Schema.Base, t.Schema.NumChunks())
			return t, nil
		}
		// Nothing to append to: create the store.
	}
	if err := f.layoutNew(&schema, chunks, shards, budget); err != nil {
		return zarrplan.Target{}, fmt.Errorf("PrepareTarget: %w", err)
	}
	t := zarrplan.Target{URL: f.Config.URL, Format: f.Config.format(), Run: f.Config.RunID, MaxMem: budget, RecipeHash: f.Config.RecipeHash, Schema: schema}
	if err := zarrplan.Resolve(&t, f.Config.compressor(), f.Config.Level); err != nil {
		return zarrplan.Target{}, fmt.Errorf("PrepareTarget: %w", err)
	}
	if g != nil {
		t.Group = g.Path // the store is claimed (claimFn)
	} else if err := targetstore.ClaimStore(ctx, st, f.claimOf()); err != nil {
		return zarrplan.Target{}, fmt.Errorf("PrepareTarget: target %s: %w", f.Config.URL, err)
	}
	if err := targetstore.WriteArrays(ctx, st, &t); err != nil {
		return zarrplan.Target{}, fmt.Errorf("PrepareTarget: target %s: %w", f.Config.URL, err)
	}
	log.Infof(ctx, "PrepareTarget: %s: %d arrays, %d chunks to write", url, len(schema.Vars), schema.NumChunks())
	return t, nil
}

// layoutNew finishes the layout of a store the run creates: chunks along
// the concat dimension from ChunkBytes, when given; shards; and the check
// that a chunk fits the budget.
func (f *prepareFn) layoutNew(schema *plan.Schema, chunks, shards map[string]int64, budget int64) error {
	if _, ok := schema.Dim(schema.AppendDim()); ok && f.Config.ChunkBytes > 0 {
		chunks = maps.Clone(chunks)
		if chunks == nil {
			chunks = map[string]int64{}
		}
		chunks[schema.AppendDim()] = schema.ConcatChunk(f.Config.ChunkBytes)
		if err := schema.Layout(chunks); err != nil {
			return err
		}
	}
	if err := schema.Shard(shards); err != nil { // (an append keeps the store's shards)
		return err
	}
	return schema.CheckMemory(budget)
}

// claimOf is how the stage claims the store.
func (f *prepareFn) claimOf() targetstore.Claim {
	if f.self == (lease.Process{}) {
		f.self = lease.This()
	}
	return targetstore.Claim{Run: f.Config.RunID, Overwrite: f.Config.Mode == ModeOverwrite, Self: f.self, Builder: f.Builder}
}
