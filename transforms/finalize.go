package transforms

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/zarrforge/zarrforge"
	"github.com/zarrforge/zarrforge/internal/extend"
	"github.com/zarrforge/zarrforge/internal/lease"
	"github.com/zarrforge/zarrforge/internal/par"
	"github.com/zarrforge/zarrforge/plan"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/zarr"
)

func init() {
	register.Combiner3[plan.Totals, plan.WriteResult, plan.Totals](&totalsFn{})
	register.DoFn3x2[context.Context, plan.Target, func(*plan.Totals) bool, plan.Summary, error](&finalizeFn{})
	register.Iter1[plan.Totals]()
}

// FinalizeTarget completes the store once every chunk is written: the
// write results (a PCollection of plan.WriteResult from StoreChunks) are
// combined into one plan.Totals, a side input of the finalizer, which checks
// that every chunk arrived, then writes the root group and the consolidated
// metadata last (.zmetadata in v2, the root zarr.json in v3). It returns a singleton PCollection of plan.Summary. (The
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

func (f *finalizeFn) ProcessElement(ctx context.Context, t plan.Target, results func(*plan.Totals) bool) (plan.Summary, error) {
	var sum plan.Summary
	err := par.Recovered("FinalizeTarget: target "+t.URL, func() error {
		var err error
		sum, err = finalize(ctx, t, sumTotals(results))
		return err
	})
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

// checkWritten checks that totals count every chunk of target t (of its
// group, in a store of nested groups).
func checkWritten(t *plan.Target, totals plan.Totals) error {
	if want := t.Schema.NumChunks(); totals.Chunks != want {
		where := "target " + t.URL
		if t.Group != "" {
			where += fmt.Sprintf(": group %q", t.Group)
		}
		return fmt.Errorf("FinalizeTarget: %s: %d of %d chunks were written; not finalizing", where, totals.Chunks, want)
	}
	return nil
}

// finalize completes target t, to which the chunk stage wrote what totals
// sums (the stage without Beam).
func finalize(ctx context.Context, t plan.Target, totals plan.Totals) (plan.Summary, error) {
	s := &t.Schema
	if err := checkWritten(&t, totals); err != nil {
		return plan.Summary{}, err
	}
	st, err := storage.NewStore(ctx, t.URL)
	if err != nil {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: %w", err)
	}
	// The store must still be this run's, and stays so: a run that took it
	// meanwhile would make the conditional writes below fail.
	owned, err := lease.Ensure(ctx, st, t.Run, time.Now(), 0)
	if err != nil {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: target %s: not finalizing: %w", t.URL, err)
	}
	names := make([]string, len(s.Vars))
	for i, v := range s.Vars {
		names[i] = v.Name
	}
	if s.Base > 0 {
		err = extend.Finish(ctx, st, &t)
		if err == nil {
			err = zarr.Consolidate(ctx, st, t.Format, names)
		}
	} else {
		attrs := append(plan.GroupAttrs(s), plan.Provenance(s, zarrforge.Version, t.RecipeHash)...)
		err = zarr.WriteGroup(ctx, st, t.Format, attrs, names)
	}
	if err != nil {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: target %s: %w", t.URL, err)
	}
	if err := commit(ctx, st, t.URL, owned, totals.Chunks, t.Format, []string{""}); err != nil {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: target %s: %w", t.URL, err)
	}
	log.Infof(ctx, "FinalizeTarget: %s complete: %d arrays, %d chunks, %d bytes", t.URL, len(s.Vars), totals.Chunks, totals.Bytes)
	return plan.Summary{URL: t.URL, Arrays: len(s.Vars), Chunks: totals.Chunks, Bytes: totals.Bytes}, nil
}
