package transforms

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

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

func (f *finalizeFn) ProcessElement(ctx context.Context, t plan.Target, results func(*plan.Totals) bool) (plan.Summary, error) {
	var totals, one plan.Totals
	for results(&one) {
		totals = totals.Merge(one)
	}
	var sum plan.Summary
	err := recovered("FinalizeTarget: target "+t.URL, func() error {
		var err error
		sum, err = finalize(ctx, t, totals)
		return err
	})
	return sum, err
}

// finalize completes target t, to which the chunk stage wrote what totals
// sums (the stage without Beam).
func finalize(ctx context.Context, t plan.Target, totals plan.Totals) (plan.Summary, error) {
	s := &t.Schema
	if want := s.NumChunks(); totals.Chunks != want {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: target %s: %d of %d chunks were written; not finalizing", t.URL, totals.Chunks, want)
	}
	st, err := storage.NewStore(ctx, t.URL)
	if err != nil {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: %w", err)
	}
	// The store must still be this run's, and stays so: a run that took it
	// meanwhile would make the conditional writes below fail.
	owned, err := ensureOwner(ctx, st, t.Run, time.Now(), 0)
	if err != nil {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: target %s: not finalizing: %w", t.URL, err)
	}
	names := make([]string, len(s.Vars))
	for i, v := range s.Vars {
		names[i] = v.Name
	}
	if s.Base > 0 {
		err = finishAppend(ctx, st, &t)
		if err == nil {
			err = zarr.Consolidate(ctx, st, t.Format, names)
		}
	} else {
		err = zarr.WriteGroup(ctx, st, t.Format, plan.GroupAttrs(s), names)
	}
	if err != nil {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: target %s: %w", t.URL, err)
	}
	done := owned.marker
	done.State, done.Chunks, done.Base = stateComplete, totals.Chunks, nil
	if _, err := replace(ctx, st, owned, done); err != nil {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: target %s: %w", t.URL, err)
	}
	log.Infof(ctx, "FinalizeTarget: %s complete: %d arrays, %d chunks, %d bytes", t.URL, len(s.Vars), totals.Chunks, totals.Bytes)
	return plan.Summary{URL: t.URL, Arrays: len(s.Vars), Chunks: totals.Chunks, Bytes: totals.Bytes}, nil
}

// finishAppend gives the arrays along the concat dimension their new
// length, writes the whole concat coordinate and removes chunk objects
// beyond the new ends (left by an earlier, longer append that did not
// finish). The arrays keep their other metadata and their attributes, and
// the store its group attributes.
func finishAppend(ctx context.Context, st *storage.Store, t *plan.Target) error {
	s := &t.Schema
	var keys []string
	for i := range s.Vars {
		v := &s.Vars[i]
		axis := v.ConcatAxis(s.ConcatDim)
		if axis < 0 {
			continue
		}
		if cv, ok := s.CoordVar(); ok && cv.Name == v.Name {
			if err := writeCoord(ctx, st, v.Name, s.Coord, v.Shape[0]); err != nil {
				return err
			}
			continue
		}
		meta, _, err := zarr.ReadArrayMeta(ctx, st, v.Name)
		if err != nil {
			return err
		}
		meta.Shape = v.Shape
		if err := zarr.UpdateArrayMeta(ctx, st, v.Name, meta); err != nil {
			return err
		}
		if keys == nil {
			var err error
			if keys, err = st.List(ctx, ""); err != nil {
				return err
			}
		}
		grid := v.Grid()
		for _, k := range keys {
			if idx, ok := meta.ParseKey(v.Name, k); ok && len(idx) == len(grid) && idx[axis] >= grid[axis] {
				if err := st.Delete(ctx, k); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// writeCoord writes the whole concat coordinate, raw, as array name of n
// values, in the chunking the store has for it: one chunk when it had one
// (zarrforge writes dimension coordinates so), else its chunk size.
func writeCoord(ctx context.Context, st *storage.Store, name string, raw []byte, n int64) error {
	meta, _, err := zarr.ReadArrayMeta(ctx, st, name)
	if err != nil {
		return err
	}
	if meta.Chunks[0] >= meta.Shape[0] {
		meta.Chunks[0] = n
	}
	meta.Shape[0] = n
	if err := zarr.WriteVector(ctx, st, name, meta, raw); err != nil {
		return err
	}
	return zarr.UpdateArrayMeta(ctx, st, name, meta)
}
