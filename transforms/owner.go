package transforms

import (
	"github.com/zarrforge/zarrforge/internal/lease"
)

// A store has one writer at a time: the run its marker names (package
// internal/lease holds the protocol). PrepareTarget and WriteGroups claim
// the store, StoreChunks confirms before each chunk that it is still the
// run's, FinalizeTarget commits it.

// ErrTargetBusy is wrapped by the errors of a run refused a store because
// another run, live, is writing it, or took it first.
var ErrTargetBusy = lease.ErrBusy
