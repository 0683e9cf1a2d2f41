package transforms

import (
	"context"
	"errors"
	"io/fs"

	"github.com/zarrforge/zarrforge/internal/lease"
	"github.com/zarrforge/zarrforge/plan"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/zarr"
)

// A store has one writer at a time: the run its marker names (package
// internal/lease holds the protocol). PrepareTarget and WriteGroups claim
// the store, StoreChunks confirms before each chunk that it is still the
// run's, FinalizeTarget commits it.

// ErrTargetBusy is wrapped by the errors of a run refused a store because
// another run, live, is writing it, or took it first.
var ErrTargetBusy = lease.ErrBusy

// commit marks the store at url complete (lease.Commit): should the marker
// fail, the consolidated metadata of the store's groups (paths; "" the
// root), format Zarr, is withdrawn again.
func commit(ctx context.Context, st *storage.Store, url string, owned lease.At, chunks int64, format int, groups []string) error {
	return lease.Commit(ctx, st, owned, chunks, func() error {
		var errs []error
		for _, g := range groups {
			gs := st
			if g != "" {
				var err error
				if gs, err = storage.NewStore(ctx, plan.GroupURL(url, g)); err != nil {
					errs = append(errs, err)
					continue
				}
			}
			if err := zarr.Withdraw(ctx, gs, format); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	})
}
