// Package write is zarrforge's write engine, without Beam: a Writer writes
// the chunks of one read group of a prepared target — reading the inputs
// that overlap it (each stored chunk of theirs decoded once) and the steps
// the store already holds, giving the values to the editors, cutting and
// encoding the chunks and writing each whole, once — while confirming the
// store is still the run's. The chunk stage (transforms.StoreChunks) is a
// Beam wrapper around it.
package write

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zarrforge/zarrforge/internal/inputs"
	"github.com/zarrforge/zarrforge/internal/lease"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/zarr"
)

// Writer writes chunks and read groups of a target: the chunk stage
// without Beam. It keeps what a worker keeps between elements — open
// inputs, the store, buffers and encoders — and is used by one goroutine at
// a time.
type Writer struct {
	inputs   *inputs.Pool
	store    *storage.Store    // where the target's arrays go (its group)
	root     *storage.Store    // the store, whose marker says who owns it
	ownerMu  sync.Mutex        // guards owned (a group's chunks are written at once)
	owned    time.Time         // when the store was last found to be the target's run's
	every    time.Duration     // how often to confirm it; lease.CheckEvery when 0
	encoder  zarr.ChunkEncoder // a group of one chunk's, streaming
	region   []byte            // a read group's region, reused
	slots    []groupSlot       // a chunk buffer and an encoder for each of a group's encoding goroutines
	editors  []Editor
	copied   atomic.Int64     // chunks copied out of a region (Stats.Copied)
	asStored atomic.Int64     // chunks written as their inputs store them (Stats.AsStored)
	retry    storage.Retry    // how HTTP reads of the inputs retry
	auth     storage.HTTPAuth // and authenticate
}

type groupSlot struct {
	chunk   []byte
	encoder zarr.ChunkEncoder
	shards  zarr.ShardEncoder
}

// Options configure a Writer.
type Options struct {
	// Retry is how HTTP reads of the inputs retry; the zero value is
	// storage.DefaultRetry.
	Retry storage.Retry
	// Auth is how HTTP reads of the inputs authenticate.
	Auth storage.HTTPAuth
	// Editors change the values from the inputs, in this order, before
	// they are encoded.
	Editors []Editor
	// ConfirmEvery is how often the writer confirms that the store is
	// still the run's (lease.CheckEvery when 0).
	ConfirmEvery time.Duration
}

// New returns a Writer, which keeps up to 64 inputs open between groups.
func New(opts Options) *Writer {
	return &Writer{inputs: inputs.NewPool(64), retry: opts.Retry, auth: opts.Auth, editors: opts.Editors, every: opts.ConfirmEvery}
}

// Close closes the inputs the writer keeps open.
func (w *Writer) Close() { w.inputs.Close() }

// Stats are what a Writer has done so far.
type Stats struct {
	// Decoded and Fetched are the bytes of values its inputs decoded
	// (whole stored chunks) and the bytes fetched from their storage.
	Decoded, Fetched int64
	// Copied is how many chunks of read groups were copied out of their
	// group's region to be encoded; the others were encoded in place.
	Copied int64
	// AsStored is how many chunks were written as their inputs store
	// them, never decoded (see source.StoredChunks).
	AsStored int64
}

// Stats returns what w has done so far.
func (w *Writer) Stats() Stats {
	decoded, fetched := w.inputs.Read()
	return Stats{Decoded: decoded, Fetched: fetched, Copied: w.copied.Load(), AsStored: w.asStored.Load()}
}

// open readies w for target t: its store, and the check that the store is
// still t's run's (renewing the run's beat every lease.BeatEvery).
func (w *Writer) open(ctx context.Context, t *zarrplan.Target) (context.Context, error) {
	if w.retry != (storage.Retry{}) {
		ctx = storage.WithRetry(ctx, w.retry)
	}
	ctx = storage.WithHTTPAuth(ctx, w.auth)
	if w.store == nil || w.store.URL() != t.GroupURL() {
		var err error
		if w.store, err = storage.NewStore(ctx, t.GroupURL()); err != nil {
			return ctx, fmt.Errorf("StoreChunks: %w", err)
		}
		if w.root = w.store; t.Group != "" {
			if w.root, err = storage.NewStore(ctx, t.URL); err != nil {
				return ctx, fmt.Errorf("StoreChunks: %w", err)
			}
		}
		w.owned = time.Time{}
	}
	return ctx, w.confirm(ctx, t)
}

// confirm checks, at most every lease.CheckEvery, that the store is still t's
// run's, renewing the run's beat every lease.BeatEvery: a writer stops at the
// first chunk after another run took the store (its lease lapsed while
// this process was stopped or cut off), and keeps its own alive.
func (w *Writer) confirm(ctx context.Context, t *zarrplan.Target) error {
	w.ownerMu.Lock()
	defer w.ownerMu.Unlock()
	every := w.every
	if every == 0 {
		every = lease.CheckEvery
	}
	now := time.Now()
	if now.Sub(w.owned) < every {
		return nil
	}
	if _, err := lease.Ensure(ctx, w.root, t.Run, now, lease.BeatEvery); err != nil {
		return fmt.Errorf("StoreChunks: target %s: %w", t.URL, err)
	}
	w.owned = now
	return nil
}

// Editor is a user's step on the values (transforms.ChunkEditor): it is
// given every value the run writes from the inputs once, in blocks.
type Editor interface {
	EditChunk(b *plan.Block) error
}

// editable reports whether editors are given v's values: numbers only.
func editable(v *plan.Variable) bool {
	return v.Width == 0 && v.Type != source.String && v.Type != source.Char
}
