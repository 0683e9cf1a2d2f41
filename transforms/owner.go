package transforms

import (
	"context"
	"fmt"
	"time"

	"github.com/zarrforge/zarrforge/internal/lease"
	"github.com/zarrforge/zarrforge/storage"
)

// A store has one writer at a time: the run its marker names (package
// internal/lease holds the protocol). PrepareTarget and WriteGroups claim
// the store, StoreChunks confirms before each chunk that it is still the
// run's, FinalizeTarget commits it, and ReleaseTarget, called by what
// launched a run that failed, lets the next run take it at once.

// ErrTargetBusy is wrapped by the errors of a run refused a store because
// another run, live, is writing it, or took it first.
var ErrTargetBusy = lease.ErrBusy

// ReleaseTarget is for the program that launched run runID (its
// TargetConfig.RunID) on the store at url, once the runner says the job
// failed or was cancelled: the store, left unfinished, may then be taken by
// the next run at once rather than after the lease (5 minutes without news
// from the run's workers), and any of the run's workers still running
// stops at its next check. It reports whether it released the store; a
// store the run never claimed, finished, or another run's is left as it
// is. Never call it while the job may still be running: a run is over only
// when its runner says so.
func ReleaseTarget(ctx context.Context, url, runID string) (bool, error) {
	st, err := storage.NewStore(ctx, url)
	if err != nil {
		return false, fmt.Errorf("target %s: %w", url, err)
	}
	released, err := lease.Release(ctx, st, runID, time.Now())
	if err != nil {
		return false, fmt.Errorf("target %s: releasing run %s: %w", url, runID, err)
	}
	return released, nil
}
