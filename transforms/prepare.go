package transforms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/zarrforge/zarrforge/internal/lease"
	"github.com/zarrforge/zarrforge/internal/par"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/targetstore"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
)

func init() {
	register.DoFn2x2[context.Context, plan.Schema, zarrplan.Target, error](&prepareFn{})
}

// Mode is what PrepareTarget (and WriteReferences) does with what is at
// the target already.
type Mode string

// The modes.
const (
	ModeCreate    Mode = "create"    // fail if a store exists at the target
	ModeOverwrite Mode = "overwrite" // replace whatever is at the target
	ModeAppend    Mode = "append"    // extend the store at the target along the concat dimension (create it if there is none)
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
	Mode Mode
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

// claimOf is how the stage claims the store.
func (f *prepareFn) claimOf() targetstore.Claim {
	if f.self == (lease.Process{}) {
		f.self = lease.This()
	}
	return targetstore.Claim{Run: f.Config.RunID, Overwrite: f.Config.Mode == ModeOverwrite, Self: f.self, Builder: f.Builder}
}

// prepare prepares the target of schema (see targetstore.Prepare): the
// store, or its group at path *group of a store WriteGroups claimed.
func (f *prepareFn) prepare(ctx context.Context, schema plan.Schema, group *string) (zarrplan.Target, error) {
	t, appended, err := targetstore.Prepare(ctx, schema, f.resolved(group))
	if err != nil {
		return zarrplan.Target{}, fmt.Errorf("PrepareTarget: %w", err)
	}
	if appended {
		steps, _ := t.Schema.Dim(t.Schema.AppendDim())
		log.Infof(ctx, "PrepareTarget: %s: appending %d steps to %d, %d chunks to write",
			f.Config.URL, steps-t.Schema.Base, t.Schema.Base, t.Schema.NumChunks())
		return t, nil
	}
	log.Infof(ctx, "PrepareTarget: %s: %d arrays, %d chunks to write", t.GroupURL(), len(t.Schema.Vars), t.Schema.NumChunks())
	return t, nil
}

// resolved is the stage's configuration resolved for targetstore.Prepare:
// defaults applied, the mode and the claim in its terms.
func (f *prepareFn) resolved(group *string) targetstore.Config {
	c := f.Config
	r := targetstore.Config{URL: c.URL, Nested: group != nil, Chunks: c.Chunks, Shards: c.Shards, ChunkBytes: c.ChunkBytes,
		Format: c.format(), AppendFormat: c.Format, Compressor: c.compressor(), Level: c.Level, Append: c.Mode == ModeAppend,
		MaxMem: budgetOf(c.MaxMem), RecipeHash: c.RecipeHash, Claim: f.claimOf()}
	if group != nil {
		r.Group = *group
	}
	return r
}
