package transforms

import (
	"context"

	"github.com/zarrforge/zarrforge/internal/inputs"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/preflight"
	"github.com/zarrforge/zarrforge/source"
)

// ErrNoDimension is what CheckInputs returns (errors.Is) for a chunk or
// shard size of a dimension the inputs lack.
var ErrNoDimension = preflight.ErrNoDimension

// CheckInputs checks a conversion before its pipeline is built, as the
// example program checks a recipe: both configurations (Validate), the
// target (TargetConfig.Check: in create mode an existing store is
// refused), and the headers of inputs — the first input along the concat
// dimension, or of each merge position — against them: the preprocess
// edits' names, variables a store cannot hold, chunk and shard sizes of
// dimensions the inputs lack (ErrNoDimension). The pipeline checks every
// input again; this says what is wrong before anything runs.
func CheckInputs(ctx context.Context, schema SchemaConfig, target TargetConfig, inputs []Input) error {
	if err := schema.Validate(); err != nil {
		return err
	}
	if err := target.Check(ctx); err != nil {
		return err
	}
	var headers []plan.InputMeta
	for _, in := range inputs {
		h, err := readHeader(ctx, in, source.Options{Group: schema.Group, Filter: schema.Filter})
		if err != nil {
			return err
		}
		headers = append(headers, h)
	}
	_, err := preflight.Check(headers, schema.Preprocess, plan.ConcatNames(schema.Concat), target.Chunks, target.Shards)
	return err
}

// readHeader reads the header of input in (what opts select), as it is,
// before any edit.
func readHeader(ctx context.Context, in Input, opts source.Options) (plan.InputMeta, error) {
	l, err := inputs.Locate(ctx, in.URL, "", in.Source)
	if err != nil {
		return plan.InputMeta{}, err
	}
	defer l.Close()
	return preflight.Header(ctx, l, in, opts)
}
