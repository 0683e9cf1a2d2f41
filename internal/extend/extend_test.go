package extend

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/zarrforge/zarrforge/internal/lease"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/storage"
)

// TestPrepareRefusesEarly: with no store there is nothing to append to;
// a store a live run is writing is refused with lease.ErrBusy, and an
// unfinished create of a dead run is refused naming it, before anything
// of the store is read. (The stage tests in transforms append to real
// stores: TestKilledRuns, TestStaleMarker, TestAppendRefusesStoreApart.)
func TestPrepareRefusesEarly(t *testing.T) {
	ctx := context.Background()
	st, err := storage.NewStore(ctx, filepath.Join(t.TempDir(), "s.zarr"))
	if err != nil {
		t.Fatal(err)
	}
	self := lease.This()
	cfg := Config{Run: "mine", Self: self, Owner: self}
	if _, ok, err := Prepare(ctx, st, plan.Schema{}, cfg); ok || err != nil {
		t.Fatalf("no store: %v, %v", ok, err)
	}
	if err := st.Put(ctx, ".zgroup", []byte(`{"zarr_format":2}`)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		beat time.Time
		busy bool
	}{{time.Now(), true}, {time.Now().Add(-lease.Timeout - time.Minute), false}} {
		old, _ := lease.Read(ctx, st)
		if _, err := lease.Replace(ctx, st, old, lease.Marker{Run: "other", State: lease.Writing, Host: "elsewhere", Beat: c.beat}); err != nil {
			t.Fatal(err)
		}
		_, _, err := Prepare(ctx, st, plan.Schema{}, cfg)
		if got := errors.Is(err, lease.ErrBusy); got != c.busy || err == nil {
			t.Errorf("beat %v: %v, want busy %v", c.beat, err, c.busy)
		}
	}
}
