package storage

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Retry is how reads from HTTP servers retry transient failures (5xx and 429
// responses, connection resets, bodies shorter than announced, requests that
// stall): up to Attempts tries per request, waiting Initial, then twice as
// long each time (with jitter) up to Max. An attempt that receives less
// than MinProgress bytes in Timeout (nothing at all, or a trickle) is
// abandoned and retried. A request, with all its attempts and waits, gives
// up after Deadline, however it is going. 404, 403 and other client errors
// fail at once.
type Retry struct {
	Attempts int
	Initial  time.Duration
	Max      time.Duration
	Timeout  time.Duration
	Deadline time.Duration
}

// MinProgress is the least an HTTP response must deliver in each Timeout
// for its attempt to go on (the end of the body counts as progress).
const MinProgress = 1 << 10

// DefaultRetry is the policy used unless a context carries another: 6
// attempts, backoff from 0.5 s to 30 s, a 30 s stall timeout, and at most
// 5 minutes for one request (its attempts and waits): the longest a dead
// or trickling server holds up one read.
func DefaultRetry() Retry {
	return Retry{Attempts: 6, Initial: 500 * time.Millisecond, Max: 30 * time.Second, Timeout: 30 * time.Second, Deadline: 5 * time.Minute}
}

type retryKey struct{}
type observerKey struct{}

// WithRetry returns a context whose HTTP reads follow r.
func WithRetry(ctx context.Context, r Retry) context.Context {
	return context.WithValue(ctx, retryKey{}, r)
}

// WithRetryObserver returns a context whose HTTP reads call observe before
// each retry, with the URL (redacted: see Redact), the attempt that failed
// (1 for the first) and its error. Beam transforms count retries with it.
func WithRetryObserver(ctx context.Context, observe func(url string, attempt int, err error)) context.Context {
	return context.WithValue(ctx, observerKey{}, observe)
}

func retryOf(ctx context.Context) Retry {
	r, ok := ctx.Value(retryKey{}).(Retry)
	if !ok {
		r = DefaultRetry()
	}
	d := DefaultRetry()
	r.Attempts = max(1, r.Attempts)
	if r.Timeout <= 0 {
		r.Timeout = d.Timeout
	}
	if r.Deadline <= 0 {
		r.Deadline = d.Deadline
	}
	if r.Initial <= 0 {
		r.Initial = d.Initial
	}
	if r.Max < r.Initial {
		r.Max = max(r.Initial, d.Max)
	}
	return r
}

// permanentError is a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// retryAfterError is a transient failure whose server asked for a delay.
type retryAfterError struct {
	err   error
	delay time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// withRetries runs try until it succeeds, fails permanently, the context
// ends or the attempts are spent.
func withRetries(ctx context.Context, url string, try func(ctx context.Context, timeout time.Duration) error) error {
	policy := retryOf(ctx)
	observe, _ := ctx.Value(observerKey{}).(func(string, int, error))
	outer := ctx
	ctx, cancel := context.WithTimeout(ctx, policy.Deadline)
	defer cancel()
	late := func(err error) error {
		if outer.Err() == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &permanentError{fmt.Errorf("%w (gave up: no answer within %v)", err, policy.Deadline)}
		}
		return fmt.Errorf("%w (%w)", err, ctx.Err())
	}
	wait := policy.Initial
	for attempt := 1; ; attempt++ {
		err := try(ctx, policy.Timeout)
		if err == nil {
			return nil
		}
		var perm *permanentError
		if errors.As(err, &perm) {
			return err
		}
		if ctx.Err() != nil {
			return late(err)
		}
		if attempt >= policy.Attempts {
			return fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		if observe != nil {
			observe(Redact(url), attempt, err)
		}
		delay := wait/2 + time.Duration(rand.Int64N(int64(wait/2)+1)) // jitter in [wait/2, wait]
		var ra *retryAfterError
		if errors.As(err, &ra) {
			delay = max(delay, min(ra.delay, policy.Max))
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return late(err)
		case <-t.C:
		}
		wait = min(2*wait, policy.Max)
	}
}
