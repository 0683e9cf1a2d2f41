package transforms

import (
	"context"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/zarrforge/zarrforge/internal/par"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/targetstore"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
)

func init() {
	register.Combiner3[plan.Totals, plan.WriteResult, plan.Totals](&totalsFn{})
	register.DoFn3x2[context.Context, zarrplan.Target, func(*plan.Totals) bool, plan.Summary, error](&finalizeFn{})
	register.Iter1[plan.Totals]()
}

// FinalizeTarget completes the store once every chunk is written: the
// write results (a PCollection of write results from StoreChunks) are
// combined into one total, a side input of the finalizer, which checks
// that every chunk arrived, then writes the root group and the consolidated
// metadata last (.zmetadata in v2, the root zarr.json in v3). It returns a singleton PCollection of Summary. (The
// side input is iterated: combining no results at all, as for inputs that
// hold only the concat coordinate, gives no Totals, not a zero one.)
func FinalizeTarget(s beam.Scope, target, results beam.PCollection) beam.PCollection {
	s = s.Scope("transforms.FinalizeTarget")
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

func (f *finalizeFn) ProcessElement(ctx context.Context, t zarrplan.Target, results func(*plan.Totals) bool) (plan.Summary, error) {
	var sum plan.Summary
	err := par.Recovered("FinalizeTarget: target "+t.URL, func() error {
		var err error
		sum, err = targetstore.Finalize(ctx, t, sumTotals(results))
		return err
	})
	if err == nil {
		log.Infof(ctx, "FinalizeTarget: %s complete: %d arrays, %d chunks, %d bytes", t.URL, sum.Arrays, sum.Chunks, sum.Bytes)
	}
	return sum, err
}

// sumTotals sums the totals of an iterated side input (none: zero).
func sumTotals(results func(*plan.Totals) bool) plan.Totals {
	var totals, one plan.Totals
	for results(&one) {
		totals = totals.Merge(one)
	}
	return totals
}
