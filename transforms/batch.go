package transforms

import (
	"context"
	"sync/atomic"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/storage"
)

func init() {
	register.DoFn1x2[plan.Input, int, plan.Input](&batchKeyFn{})
	register.Iter1[plan.Input]()
}

// batchSize is how many inputs one element of CacheInputs and
// DetermineSchema handles, reading them at once. Reading a remote file is
// mostly waiting, and a runner may run a stage as one bundle on one worker
// (the direct runner does); batches also spread the inputs over workers.
const batchSize = 16

// batchKeyFn keys an input by its batch: inputs at nearby positions along
// the last concat dimension, at the same positions along the others, with
// all their merge positions, share one (or, rarely, two such runs do).
type batchKeyFn struct{}

func (batchKeyFn) ProcessElement(in plan.Input) (int, plan.Input) {
	key := 0
	for i, c := range in.Index.Concat {
		if i == len(in.Index.Concat)-1 {
			c /= batchSize
		}
		key = key*1_000_003 + c
	}
	return key, in
}

// batches groups inputs into batches of batchSize concat positions.
func batches(s beam.Scope, inputs beam.PCollection) beam.PCollection {
	return beam.GroupByKey(s, beam.ParDo(s, &batchKeyFn{}, inputs))
}

// collect returns the inputs of a batch.
func collect(iter func(*plan.Input) bool) []plan.Input {
	var ins []plan.Input
	var in plan.Input
	for iter(&in) {
		ins = append(ins, in)
	}
	return ins
}

// countingRetries returns a context whose storage reads follow policy (the
// storage default when it is the zero Retry), authenticate as auth says,
// and count each retry (and log it). Beam counters may only be updated from the goroutine that runs the
// element, so the count is added to a counter afterwards.
func countingRetries(ctx context.Context, policy storage.Retry, auth storage.HTTPAuth) (context.Context, *atomic.Int64) {
	var n atomic.Int64
	if policy != (storage.Retry{}) {
		ctx = storage.WithRetry(ctx, policy)
	}
	ctx = storage.WithHTTPAuth(ctx, auth)
	return storage.WithRetryObserver(ctx, func(url string, attempt int, err error) {
		n.Add(1)
		log.Warnf(ctx, "retrying %s after attempt %d failed: %v", url, attempt, err)
	}), &n
}
