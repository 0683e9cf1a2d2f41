package targetstore

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/zarrforge/zarrforge/internal/extend"
	"github.com/zarrforge/zarrforge/internal/lease"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/storage"
)

// Config is a target's configuration, resolved: defaults applied, checked
// where it was defined (transforms.TargetConfig).
type Config struct {
	// URL is the store.
	URL string
	// Nested says the schema is one group of a store of nested groups
	// (WriteGroups), at path Group ("" the root): the store is claimed
	// already, and the group takes the chunk and shard sizes of the
	// dimensions it has.
	Nested bool
	Group  string
	// Chunks and Shards are the sizes per dimension asked for: each
	// group takes those of the dimensions it has.
	Chunks, Shards map[string]int64
	// ChunkBytes, when not 0, sets the chunk size along the concat
	// dimension of a store the run creates.
	ChunkBytes int64
	// Format is the Zarr format of a store the run creates (2 or 3);
	// AppendFormat the one an append asks the store to have (0: any).
	Format, AppendFormat int
	// Compressor (a numcodecs id, "" for none) and Level compress the
	// chunks of a store the run creates.
	Compressor string
	Level      int
	// Append extends the store when there is one.
	Append bool
	// MaxMem is the memory budget of one element's chunk work.
	MaxMem int64
	// RecipeHash is recorded in the root attributes of a store the run
	// creates.
	RecipeHash string
	// Claim says who claims the store, and how.
	Claim Claim
}

// Prepare lays schema out (a copy: elements are not the caller's to
// change) and readies its store: an append's checks and its record of
// where it started (extend.Prepare), or the store claimed (ClaimStore), a
// group of a store of nested groups in it, and every array's metadata and
// concat coordinate written. It returns the target, its arrays' metadata
// resolved (zarrplan.Resolve), and whether it is an append.
func Prepare(ctx context.Context, schema plan.Schema, c Config) (zarrplan.Target, bool, error) {
	schema = schema.Clone()
	chunks, shards := c.Chunks, c.Shards
	if c.Nested {
		chunks, shards = sizesOf(chunks, &schema), sizesOf(shards, &schema)
	}
	if err := schema.Layout(chunks); err != nil {
		return zarrplan.Target{}, false, err
	}
	st, err := storage.NewStore(ctx, plan.GroupURL(c.URL, c.Group))
	if err != nil {
		return zarrplan.Target{}, false, err
	}
	if c.Append {
		t, ok, err := prepareAppend(ctx, st, schema, c)
		if err != nil || ok {
			return t, ok, err
		}
		// Nothing to append to: create the store.
	}
	if err := layoutNew(&schema, chunks, shards, c); err != nil {
		return zarrplan.Target{}, false, err
	}
	t := zarrplan.Target{URL: c.URL, Group: c.Group, Format: c.Format, Run: c.Claim.Run, MaxMem: c.MaxMem, RecipeHash: c.RecipeHash, Schema: schema}
	if err := zarrplan.Resolve(&t, c.Compressor, c.Level); err != nil {
		return zarrplan.Target{}, false, err
	}
	if !c.Nested {
		if err := ClaimStore(ctx, st, c.Claim); err != nil {
			return zarrplan.Target{}, false, fmt.Errorf("target %s: %w", c.URL, err)
		}
	}
	if err := WriteArrays(ctx, st, &t); err != nil {
		return zarrplan.Target{}, false, fmt.Errorf("target %s: %w", c.URL, err)
	}
	return t, false, nil
}

// prepareAppend readies an append to the store st (extend.Prepare); false
// when there is none to append to.
func prepareAppend(ctx context.Context, st *storage.Store, schema plan.Schema, c Config) (zarrplan.Target, bool, error) {
	cl := c.Claim
	t, ok, err := extend.Prepare(ctx, st, schema, extend.Config{Run: cl.Run, Format: c.AppendFormat,
		Chunks: c.Chunks, Shards: c.Shards, Self: cl.Self, Owner: lease.Owner(cl.Self, cl.Builder)})
	if err == nil && ok {
		t.URL, t.MaxMem = c.URL, c.MaxMem
		err = errors.Join(t.Schema.CheckChunkCount(), t.Schema.CheckMemory(c.MaxMem)) // the store's chunks
	}
	if err != nil {
		return zarrplan.Target{}, false, fmt.Errorf("target %s: appending: %w", c.URL, err)
	}
	return t, ok, nil
}

// layoutNew finishes the layout of a store the run creates: chunks along
// the concat dimension from ChunkBytes, when given; shards; and the check
// that a chunk fits the budget.
func layoutNew(schema *plan.Schema, chunks, shards map[string]int64, c Config) error {
	if _, ok := schema.Dim(schema.AppendDim()); ok && c.ChunkBytes > 0 {
		chunks = maps.Clone(chunks)
		if chunks == nil {
			chunks = map[string]int64{}
		}
		chunks[schema.AppendDim()] = schema.ConcatChunk(c.ChunkBytes)
		if err := schema.Layout(chunks); err != nil {
			return err
		}
	}
	if err := schema.Shard(shards); err != nil { // (an append keeps the store's shards)
		return err
	}
	if err := schema.CheckChunkCount(); err != nil {
		return err
	}
	return schema.CheckMemory(c.MaxMem)
}

// sizesOf returns the chunk (or shard) sizes of the dimensions s has.
func sizesOf(all map[string]int64, s *plan.Schema) map[string]int64 {
	var out map[string]int64
	for d, n := range all {
		if _, ok := s.Dim(d); ok {
			if out == nil {
				out = map[string]int64{}
			}
			out[d] = n
		}
	}
	return out
}
