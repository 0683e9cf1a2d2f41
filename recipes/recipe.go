package recipes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/transforms"
)

func init() {
	register.DoFn2x1[int, func(plan.Input), error](&expandFn{})
}

// ExpandInputs returns the PCollection of a valid pattern's inputs
// (transforms.Input, as Pattern.Inputs lists them, in no particular order). They
// are expanded on the workers, a thousand concat positions per element, so
// the pipeline graph holds the pattern, not every input. An invalid
// pattern gives an empty PCollection: Recipe.Validate says why.
func ExpandInputs(s beam.Scope, p Pattern) beam.PCollection {
	s = s.Scope("recipes.ExpandInputs")
	var shards []int
	if e, err := p.expand(); err == nil {
		for i := range (len(e.keys[0]) + shardSize - 1) / shardSize {
			shards = append(shards, i)
		}
	}
	return beam.ParDo(s, &expandFn{Pattern: p, Per: shardSize}, beam.CreateList(s, shards))
}

// shardSize is how many concat positions one element of the pipeline's
// first stage expands into inputs.
const shardSize = 1000

// expandFn expands shard i of a pattern — concat positions i*Per to
// (i+1)*Per-1 — into its inputs, on the worker: the pipeline graph holds
// the pattern and a shard number per thousand positions, not every input,
// so millions of inputs cost no memory before the run.
type expandFn struct {
	Pattern Pattern
	Per     int

	e *expanded
}

func (f *expandFn) Setup() error {
	e, err := f.Pattern.expand()
	f.e = e
	return err
}

func (f *expandFn) ProcessElement(shard int, emit func(plan.Input)) error {
	lo := shard * f.Per
	f.e.each(lo, min(lo+f.Per, len(f.e.keys[0])), emit)
	return nil
}

// configs are the recipe's stage configurations.
func (r Recipe) configs() (transforms.CacheConfig, transforms.SchemaConfig, transforms.TargetConfig) {
	retry := r.Pattern.Retry()
	auth := r.Pattern.Auth()
	cache := transforms.CacheConfig{Retry: retry, Auth: auth}
	if r.Cache != nil {
		cache.URL = r.Cache.URL
	}
	edits, _ := r.Preprocess.Edits(r.Pattern.ConcatNames()) // Validate reports its errors
	schema := transforms.SchemaConfig{
		Group:      r.Pattern.Group,
		Filter:     r.Pattern.Filter(),
		FileType:   r.Pattern.FileType,
		MaxMem:     r.Target.MaxMemBytes(),
		Retry:      retry,
		Auth:       auth,
		Preprocess: edits,
	}
	if e, err := r.Pattern.expand(); err == nil {
		schema.Concat = e.concatDims(r.Pattern)
	}
	compressor, level := r.Target.CompressorAndLevel()
	target := transforms.TargetConfig{
		URL:        r.Target.URL,
		Chunks:     r.Target.Chunks,
		Format:     r.Target.ZarrFormat,
		ChunkBytes: r.Target.ChunkBytesN(),
		Shards:     r.Target.Shards,
		Compressor: compressor,
		Level:      level,
		Mode:       transforms.Mode(r.Target.Mode),
		MaxMem:     r.Target.MaxMemBytes(),
		RecipeHash: r.Hash(),
		RunID:      r.RunID,
	}
	return cache, schema, target
}

// Release lets the next run take the recipe's target at once after its
// run (r.RunID, set before Build) failed, rather than after the lease:
// see transforms.ReleaseTarget, whose caveat holds — call it only once the
// runner says the job has ended. It reports whether it released anything.
func (r Recipe) Release(ctx context.Context) (bool, error) {
	if r.RunID == "" || r.Target.References() {
		return false, nil // no run named; a reference set has no marker
	}
	return transforms.ReleaseTarget(ctx, r.Target.URL, r.RunID)
}

// Build adds the recipe's pipeline to s — CacheInputs, DetermineSchema,
// PrepareTarget, StoreChunks, FinalizeTarget — and returns the singleton
// PCollection of transforms.Summary that FinalizeTarget emits once the store is
// complete. It fails only if the recipe is invalid; nothing runs until the
// pipeline does.
func Build(s beam.Scope, r Recipe) (beam.PCollection, error) {
	if err := r.Validate(); err != nil {
		return beam.PCollection{}, err
	}
	if r.Pattern.OneInput() && r.Pattern.ConcatDim.Name == "" {
		return beam.PCollection{}, r.errorf("pattern", "one input and no concat_dim.name: Recipe.Resolve picks the dimension from the input's header")
	}
	cache, schema, target := r.configs()
	refs := r.referencesConfig()
	// The stages panic on a configuration they refuse: ask first.
	last := target.Validate()
	if r.Target.References() {
		last = refs.Validate()
	}
	for _, err := range []error{cache.Validate(), schema.Validate(), last} {
		if err != nil {
			return beam.PCollection{}, r.errorf("", "%s", err)
		}
	}
	s = s.Scope("recipes.Build")
	cached := transforms.CacheInputs(s, cache, ExpandInputs(s, r.Pattern))
	if len(r.Pattern.Groups) > 0 {
		return buildGroups(s, r, schema, target, cached)
	}
	described := transforms.DetermineSchema(s, schema, cached)
	if r.Target.References() {
		return transforms.WriteReferences(s, refs, described), nil
	}
	prepared := transforms.PrepareTarget(s, target, described)
	return transforms.FinalizeTarget(s, prepared, transforms.StoreChunks(s, r.chunksConfig(), prepared)), nil
}

// buildGroups adds the stages that write the recipe's groups (the inputs'
// cached) as nested Zarr groups: a schema per group, each group's
// variables read as pattern.group would read it, the concat dimensions
// only in the groups that have them.
func buildGroups(s beam.Scope, r Recipe, schema transforms.SchemaConfig, target transforms.TargetConfig, cached beam.PCollection) (beam.PCollection, error) {
	if slices.Equal(r.Pattern.Groups, []string{AllGroups}) {
		return beam.PCollection{}, r.errorf("pattern.groups", "%q: list the groups first (Recipe.ResolveGroups reads them from the first input)", AllGroups)
	}
	if err := target.ValidateGroups(r.Pattern.Groups); err != nil {
		return beam.PCollection{}, r.errorf("pattern.groups", "%s", err)
	}
	schema.Concat = slices.Clone(schema.Concat)
	for i := range schema.Concat {
		schema.Concat[i].OnceIfAbsent = true
	}
	schemas := make([]beam.PCollection, len(r.Pattern.Groups))
	for i, g := range r.Pattern.Groups {
		cfg := schema
		cfg.Group = groupRead(g)
		schemas[i] = transforms.DetermineSchema(s, cfg, cached)
	}
	return transforms.WriteGroups(s, target, r.chunksConfig(), r.Pattern.Groups, schemas), nil
}

// chunksConfig is the configuration of the chunk stage.
func (r Recipe) chunksConfig() transforms.ChunksConfig {
	return transforms.ChunksConfig{Retry: r.Pattern.Retry(), Auth: r.Pattern.Auth()}
}

// referencesConfig is the configuration of the references stage.
func (r Recipe) referencesConfig() transforms.ReferencesConfig {
	return transforms.ReferencesConfig{URL: r.Target.URL, Mode: transforms.Mode(r.Target.Mode), MaxMem: r.Target.MaxMemBytes(),
		Retry: r.Pattern.Retry(), Auth: r.Pattern.Auth(), RecipeHash: r.Hash()}
}

// Hash returns the SHA-256 of the recipe (hex): of its keys and values,
// whatever their layout in its file, so that the same recipe always gives
// the same hash. Stores record it in their root attributes.
func (r Recipe) Hash() string {
	r.Source, r.RunID = "", ""
	b, _ := json.Marshal(r) // maps in key order: deterministic
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
