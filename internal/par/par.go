// Package par runs work in parallel and keeps a panic in it from taking a
// worker down: what every stage does with its inputs and chunks.
package par

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
)

// Do calls fn(ctx, i) for every i below n, at most limit at a
// time. When one fails the others are cancelled, and the error of the
// lowest failed i (not counting those cancelled) is returned, so that a
// batch reports its first bad input.
func Do(ctx context.Context, n, limit int, fn func(ctx context.Context, i int) error) error {
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
				if errs[i] = Recovered("", func() error { return fn(ctx, i) }); errs[i] != nil {
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

// Recovered runs fn and turns a panic in it into an error about what (an
// input or a chunk, when given): a bug, or a reader meeting input it was
// not built for, must fail the element with a message, not take the worker
// down with a stack trace.
func Recovered(what string, fn func() error) (err error) {
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
