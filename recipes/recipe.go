package recipes

import (
	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/zarrforge/zarrforge/transforms"
)

// Build adds the recipe's pipeline to s — CacheInputs, DetermineSchema,
// PrepareTarget, StoreChunks, FinalizeTarget — and returns the singleton
// PCollection of plan.Summary that FinalizeTarget emits once the store is
// complete. It fails only if the recipe is invalid; nothing runs until the
// pipeline does.
func Build(s beam.Scope, r Recipe) (beam.PCollection, error) {
	if err := r.Validate(); err != nil {
		return beam.PCollection{}, err
	}
	inputs, err := r.Pattern.Inputs()
	if err != nil {
		return beam.PCollection{}, err
	}
	s = s.Scope("Recipe")
	cacheURL := ""
	if r.Cache != nil {
		cacheURL = r.Cache.URL
	}
	compressor, level := r.Target.CompressorAndLevel()
	retry := r.Pattern.Retry()

	cached := transforms.CacheInputs(s, transforms.CacheConfig{URL: cacheURL, Retry: retry}, beam.CreateList(s, inputs))
	schema := transforms.DetermineSchema(s, transforms.SchemaConfig{
		ConcatDim:     r.Pattern.ConcatDim.Name,
		NItemsPerFile: r.Pattern.ConcatDim.NItemsPerFile,
		FileType:      r.Pattern.FileType,
		MaxMem:        r.Target.MaxMemBytes(),
		Retry:         retry,
	}, cached)
	target := transforms.PrepareTarget(s, transforms.TargetConfig{
		URL:        r.Target.URL,
		Chunks:     r.Target.Chunks,
		Compressor: compressor,
		Level:      level,
		Mode:       r.Target.Mode,
		MaxMem:     r.Target.MaxMemBytes(),
		Retry:      retry,
	}, schema)
	results := transforms.StoreChunks(s, target)
	return transforms.FinalizeTarget(s, target, results), nil
}
