package par

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestDo: at most limit calls run at once; the error reported is
// the lowest real failure, not a cancellation it caused.
func TestDo(t *testing.T) {
	var running, most atomic.Int64
	err := Do(context.Background(), 40, 4, func(ctx context.Context, i int) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		return nil
	})
	if err != nil || most.Load() > 4 || most.Load() < 2 {
		t.Errorf("err %v, at most %d at once", err, most.Load())
	}
	err = Do(context.Background(), 8, 8, func(ctx context.Context, i int) error {
		if i == 5 {
			return fmt.Errorf("input %d is bad", i)
		}
		<-ctx.Done() // the others wait until cancelled
		return fmt.Errorf("input %d: %w", i, ctx.Err())
	})
	if err == nil || err.Error() != "input 5 is bad" {
		t.Errorf("got %v, want input 5's error", err)
	}
}

func TestRecovered(t *testing.T) {
	err := Recovered("StoreChunks: input x.nc", func() error {
		panic("a bug") // as a nil map or an index out of range would
	})
	if err == nil || !strings.Contains(err.Error(), "StoreChunks: input x.nc: internal error") || strings.Contains(err.Error(), "goroutine") {
		t.Fatalf("got %v", err)
	}
	if err := Recovered("", func() error { return nil }); err != nil {
		t.Fatal(err)
	}
}
