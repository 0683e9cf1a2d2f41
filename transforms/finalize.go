package transforms

import (
	"context"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/zarrforge/zarrforge/plan"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/zarr"
)

func init() {
	register.Combiner3[plan.Totals, plan.WriteResult, plan.Totals](&totalsFn{})
	register.DoFn3x2[context.Context, plan.Target, plan.Totals, plan.Summary, error](&finalizeFn{})
}

// FinalizeTarget completes the store once every chunk is written: the
// write results (a PCollection of plan.WriteResult from StoreChunks) are
// combined into one plan.Totals, a side input of the finalizer, which checks
// that every chunk arrived, then writes the root group and the consolidated
// .zmetadata last. It returns a singleton PCollection of plan.Summary.
func FinalizeTarget(s beam.Scope, target, results beam.PCollection) beam.PCollection {
	s = s.Scope("FinalizeTarget")
	totals := beam.Combine(s, &totalsFn{}, results)
	return beam.ParDo(s, &finalizeFn{}, target, beam.SideInput{Input: totals})
}

// totalsFn sums write results.
type totalsFn struct{}

func (totalsFn) CreateAccumulator() plan.Totals                         { return plan.Totals{} }
func (totalsFn) AddInput(a plan.Totals, r plan.WriteResult) plan.Totals { return a.Add(r) }
func (totalsFn) MergeAccumulators(a, b plan.Totals) plan.Totals         { return a.Merge(b) }
func (totalsFn) ExtractOutput(a plan.Totals) plan.Totals                { return a }

type finalizeFn struct{}

func (f *finalizeFn) ProcessElement(ctx context.Context, t plan.Target, totals plan.Totals) (plan.Summary, error) {
	s := &t.Schema
	if want := s.NumChunks(); totals.Chunks != want {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: target %s: %d of %d chunks were written; not finalizing", t.URL, totals.Chunks, want)
	}
	st, err := storage.NewStore(ctx, t.URL)
	if err != nil {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: %w", err)
	}
	if err := zarr.WriteGroup(ctx, st, plan.GroupAttrs(s)); err != nil {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: target %s: %w", t.URL, err)
	}
	names := make([]string, len(s.Vars))
	for i, v := range s.Vars {
		names[i] = v.Name
	}
	if err := zarr.Consolidate(ctx, st, names); err != nil {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: target %s: %w", t.URL, err)
	}
	if err := writeMarker(ctx, st, marker{Run: t.Run, State: "complete", Chunks: totals.Chunks}); err != nil {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: target %s: %w", t.URL, err)
	}
	log.Infof(ctx, "FinalizeTarget: %s complete: %d arrays, %d chunks, %d bytes", t.URL, len(s.Vars), totals.Chunks, totals.Bytes)
	return plan.Summary{URL: t.URL, Arrays: len(s.Vars), Chunks: totals.Chunks, Bytes: totals.Bytes}, nil
}
