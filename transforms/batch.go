package transforms

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/zarrforge/zarrforge/plan"
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

// concurrently calls fn(ctx, i) for every i below n, at most limit at a
// time. When one fails the others are cancelled, and the error of the
// lowest failed i (not counting those cancelled) is returned, so that a
// batch reports its first bad input.
func concurrently(ctx context.Context, n, limit int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, n)
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range min(n, limit) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if ctx.Err() != nil {
					return
				}
				if errs[i] = recovered("", func() error { return fn(ctx, i) }); errs[i] != nil {
					cancel()
				}
			}
		}()
	}
	wg.Wait()
	// The lowest failure that is not one of the cancellations it caused.
	var cancelled error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			cancelled = cmp.Or(cancelled, err)
		default:
			return err
		}
	}
	return cancelled
}

// recovered runs fn and turns a panic in it into an error about what (an
// input or a chunk, when given): a bug, or a reader meeting input it was
// not built for, must fail the element with a message, not take the worker
// down with a stack trace.
func recovered(what string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error (a bug: please report it with the input): %v", r)
			if what != "" {
				err = fmt.Errorf("%s: %w", what, err)
			}
		}
	}()
	return fn()
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
