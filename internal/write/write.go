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
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zarrforge/zarrforge/internal/inputs"
	"github.com/zarrforge/zarrforge/internal/lease"
	"github.com/zarrforge/zarrforge/internal/nd"
	"github.com/zarrforge/zarrforge/internal/par"
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
	inputs  *inputs.Pool
	store   *storage.Store // where the target's arrays go (its group)
	root    *storage.Store // the store, whose marker says who owns it
	ownerMu sync.Mutex     // guards owned (a group's chunks are written at once)
	owned   time.Time      // when the store was last found to be the target's run's
	every   time.Duration  // how often to confirm it; lease.CheckEvery when 0
	chunk   []byte         // the chunk being assembled, reused
	encoder zarr.ChunkEncoder
	region  []byte      // a read group's region, reused
	slots   []groupSlot // a chunk buffer and an encoder for each of a group's encoding goroutines
	editors []Editor
	copied  atomic.Int64     // chunks copied out of a region (Stats.Copied)
	retry   storage.Retry    // how HTTP reads of the inputs retry
	auth    storage.HTTPAuth // and authenticate
}

type groupSlot struct {
	chunk   []byte
	encoder zarr.ChunkEncoder
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
}

// Stats returns what w has done so far.
func (w *Writer) Stats() Stats {
	decoded, fetched := w.inputs.Read()
	return Stats{Decoded: decoded, Fetched: fetched, Copied: w.copied.Load()}
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

// writeChunk writes chunk key of target t, returning its result and how
// many bytes of the inputs it needed.
func (w *Writer) writeChunk(ctx context.Context, t *zarrplan.Target, key plan.ChunkKey) (plan.WriteResult, int64, error) {
	ctx, err := w.open(ctx, t)
	if err != nil {
		return plan.WriteResult{}, 0, err
	}
	v, ok := t.Schema.Var(key.Var)
	if !ok {
		return plan.WriteResult{}, 0, fmt.Errorf("StoreChunks: chunk %s: no such variable in the schema", key)
	}
	meta, err := t.ArrayMeta(v)
	if err != nil {
		return plan.WriteResult{}, 0, fmt.Errorf("StoreChunks: %w", err)
	}
	var size, needed int64
	err = w.store.PutFrom(ctx, meta.Key(key.Var, key.Index), func(dst io.Writer) error {
		return par.Recovered("", func() error {
			var err error
			if meta.DType == zarr.Strings {
				size, err = w.assembleStrings(ctx, t, v, key, meta, dst)
			} else {
				size, needed, err = w.assembleAndEncode(ctx, t, v, key, meta, dst)
			}
			return err
		})
	})
	if err != nil {
		return plan.WriteResult{}, needed, fmt.Errorf("StoreChunks: chunk %s: %w", key, err)
	}
	return plan.WriteResult{Key: key, Bytes: size}, needed, nil
}

// assembleAndEncode reads the parts of chunk key from the inputs that hold
// them into w.chunk, sized to the full chunk (edges padded with the fill
// value), and writes the chunk, encoded, to dst, returning its size. Parts
// are read in parallel, by a goroutine per core (at least remoteReaders
// when any input is remote): the runner may give this worker a single
// bundle, and decoding the inputs is most of the work. A part that is a
// contiguous run of the chunk is decoded straight into it; when every part
// is (the concat dimension leads the chunk), each finished prefix of the
// chunk is fed to the compressor while the rest is still being read.
func (w *Writer) assembleAndEncode(ctx context.Context, t *zarrplan.Target, v *plan.Variable, key plan.ChunkKey, meta zarr.ArrayMeta, dst io.Writer) (size, needed int64, err error) {
	s := &t.Schema
	opts := t.Schema.ReadOptions(t.MaxMem)
	enc := &w.encoder
	start, count := v.Region(key.Index)
	n := meta.ChunkBytes()
	if int64(cap(w.chunk)) < n {
		w.chunk = make([]byte, n)
	}
	chunk := w.chunk[:n]
	if !plan.Covers(v, count) {
		nd.Fill(chunk, v.FillBytes())
	}
	parts, err := s.Sources(v, start, count)
	if err != nil {
		return 0, 0, err
	}
	if parts[0].Existing {
		if err := w.readExisting(ctx, s.AppendDim(), v, key, meta, chunk, parts[0]); err != nil {
			return 0, 0, err
		}
		parts = parts[1:]
	}
	// ends[i] is where part i ends in the chunk when the parts are runs in
	// order; nil otherwise.
	ends := make([]int64, len(parts))
	for _, sl := range parts {
		needed += v.BoxBytes(sl.Count)
	}
	for i, sl := range parts {
		off, ok := nd.Run(v.Chunks, sl.At, sl.Count, v.ItemSize())
		if !ok || (i > 0 && off < ends[i-1]) {
			ends = nil
			break
		}
		ends[i] = off + v.BoxBytes(sl.Count)
	}
	if err := enc.Begin(meta, dst); err != nil {
		return 0, needed, err
	}
	done := make([]bool, len(parts))
	written, ready := int64(0), 0
	err = readParallel(ctx, parts, func(i int, scratch []byte) ([]byte, error) {
		return w.readPart(ctx, opts, s, v, v.Chunks, chunk, parts[i], scratch)
	}, func(i int) {
		done[i] = true
		for ready < len(parts) && done[ready] {
			ready++
		}
		if ends != nil && ready > 0 && ends[ready-1] > written {
			enc.Write(chunk[written:ends[ready-1]])
			written = ends[ready-1]
		}
	})
	if err != nil {
		enc.Abort() // before the store discards dst
		return 0, needed, err
	}
	enc.Write(chunk[written:])
	size, err = enc.Finish()
	return size, needed, err
}

// readParallel calls read for every part, on a goroutine per core (at
// least remoteReaders when any input is remote: reading them is mostly
// waiting), each with a scratch buffer of its own, which read returns for
// reuse. done, when not nil, is called after each part is read, one call
// at a time. The first failure stops the reads left and is returned.
func readParallel(ctx context.Context, parts []plan.Slice, read func(i int, scratch []byte) ([]byte, error), done func(i int)) error {
	readers := runtime.GOMAXPROCS(0)
	if slices.ContainsFunc(parts, func(sl plan.Slice) bool { return storage.IsRemote(sl.Input.URL) }) {
		readers = max(readers, remoteReaders)
	}
	scratch := make(chan []byte, readers)
	for range readers {
		scratch <- nil
	}
	var mu sync.Mutex
	return par.Do(ctx, len(parts), readers, func(_ context.Context, i int) error {
		buf := <-scratch
		err := par.Recovered("input "+parts[i].Input.Source, func() error {
			var err error
			buf, err = read(i, buf)
			return err
		})
		scratch <- buf
		if err == nil && done != nil {
			mu.Lock()
			defer mu.Unlock()
			done(i)
		}
		return err
	})
}

// assembleStrings is assembleAndEncode for a variable of strings: it reads
// the parts of chunk key (one after another: strings are small) into a
// chunk of strings ("" at the edges), and writes it, encoded, to dst.
func (w *Writer) assembleStrings(ctx context.Context, t *zarrplan.Target, v *plan.Variable, key plan.ChunkKey, meta zarr.ArrayMeta, dst io.Writer) (int64, error) {
	s := &t.Schema
	start, count := v.Region(key.Index)
	n := int64(1)
	for _, c := range v.Chunks {
		n *= c
	}
	chunk := make([]string, n)
	parts, err := s.Sources(v, start, count)
	if err != nil {
		return 0, err
	}
	if parts[0].Existing {
		name := meta.Key(key.Var, key.Index)
		data, err := w.store.Get(ctx, name)
		if err == nil {
			var old []string
			if old, err = zarr.DecodeStrings(meta, data); err == nil {
				copy(chunk, old)
				axis := v.ConcatAxis(s.AppendDim())
				nd.FillFrom(chunk, v.Chunks, axis, parts[0].Count[axis], 1, nil) // the steps the store does not hold
			}
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) { // a missing object holds only ""
			return 0, fmt.Errorf("the store's %s: %w", name, err)
		}
		parts = parts[1:]
	}
	for _, sl := range parts {
		in, err := w.inputs.Get(ctx, sl.Input, t.Schema.ReadOptions(t.MaxMem))
		if err != nil {
			return 0, err
		}
		name, start, count, step := v.Read(sl.Start, sl.Count)
		strs, err := in.Reader.ReadStrings(name, start, count)
		w.inputs.Put(sl.Input, in)
		if err != nil {
			return 0, fmt.Errorf("input %s: %w", sl.Input.Source, err)
		}
		if strided(step) {
			picked := make([]string, v.BoxBytes(sl.Count)/int64(v.ItemSize()))
			nd.Pick(picked, sl.Count[v.Lead:], strs, count, step, 1)
			strs = picked
		}
		nd.CopyBlock(chunk, v.Chunks, sl.At, strs, sl.Count, 1)
	}
	b, err := zarr.EncodeStrings(meta, chunk)
	if err != nil {
		return 0, err
	}
	written, err := dst.Write(b)
	return int64(written), err
}

// remoteReaders is the least number of parts of a chunk read at once from
// remote inputs, whatever the number of cores: reading them is mostly
// waiting.
const remoteReaders = 8

// readExisting reads, when appending, the steps of chunk key that the store
// already holds from the chunk's object into chunk, and sets the rest of
// the chunk to fill. A missing object (zarr-python leaves out chunks that
// hold only fill) holds nothing but the store's fill value.
func (w *Writer) readExisting(ctx context.Context, concatDim string, v *plan.Variable, key plan.ChunkKey, meta zarr.ArrayMeta, chunk []byte, part plan.Slice) error {
	old, err := w.storedChunk(ctx, v, key.Index, meta)
	if err != nil {
		return err
	}
	if old == nil {
		nd.Fill(chunk, meta.EmptyBytes()) // what the store's unwritten chunk holds
	} else {
		copy(chunk, old)
	}
	axis := v.ConcatAxis(concatDim)
	nd.FillFrom(chunk, v.Chunks, axis, part.Count[axis], v.ItemSize(), v.FillBytes())
	return nil
}

// storedChunk reads and decodes chunk idx of v from the store; nil when
// the store has no such object (zarr-python leaves out chunks that hold
// only fill).
func (w *Writer) storedChunk(ctx context.Context, v *plan.Variable, idx []int64, meta zarr.ArrayMeta) ([]byte, error) {
	name := meta.Key(v.Name, idx)
	data, err := w.store.Get(ctx, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("the store's %s: %w", name, err)
	}
	old, err := zarr.DecodeChunk(meta, data)
	if err != nil {
		return nil, fmt.Errorf("the store's %s: %w", name, err)
	}
	return old, nil
}

// readPart reads one part of a chunk into its place in chunk, through
// scratch (returned for reuse) when the part is not one contiguous run.
// Bounds of the concat coordinate are re-encoded as it is (see
// plan.Schema.RecodeBounds).
func (w *Writer) readPart(ctx context.Context, opts source.Options, s *plan.Schema, v *plan.Variable, shape []int64, chunk []byte, sl plan.Slice, scratch []byte) ([]byte, error) {
	in, err := w.inputs.Get(ctx, sl.Input, opts)
	if err != nil {
		return scratch, err
	}
	defer w.inputs.Put(sl.Input, in)
	n := v.BoxBytes(sl.Count)
	name, start, count, step := v.Read(sl.Start, sl.Count)
	read := func(dst []byte) error {
		if err := in.Reader.Read(name, start, count, dst); err != nil {
			return fmt.Errorf("input %s: %w", sl.Input.Source, err)
		}
		return nil
	}
	if strided(step) {
		// A preprocess isel with a step: read the range covering the
		// values, then pick them.
		cover := v.BoxBytes(count) / int64(v.ItemSize()) * int64(v.Type.Size())
		if int64(cap(scratch)) < cover {
			scratch = make([]byte, cover)
		}
		if err := read(scratch[:cover]); err != nil {
			return scratch, err
		}
		picked := make([]byte, n)
		nd.Pick(picked, pickShape(v, sl.Count[v.Lead:]), scratch[:cover], count, step, v.Type.Size())
		if err := s.RecodeBounds(v, sl.Input, picked); err != nil {
			return scratch, err
		}
		nd.CopyBlock(chunk, shape, sl.At, picked, sl.Count, v.ItemSize())
		return scratch, nil
	}
	if off, ok := nd.Run(shape, sl.At, sl.Count, v.ItemSize()); ok {
		if err := read(chunk[off : off+n]); err != nil {
			return scratch, err
		}
		return scratch, s.RecodeBounds(v, sl.Input, chunk[off:off+n])
	}
	if int64(cap(scratch)) < n {
		scratch = make([]byte, n)
	}
	buf := scratch[:n]
	if err := read(buf); err != nil {
		return scratch, err
	}
	if err := s.RecodeBounds(v, sl.Input, buf); err != nil {
		return scratch, err
	}
	nd.CopyBlock(chunk, shape, sl.At, buf, sl.Count, v.ItemSize())
	return scratch, nil
}

// strided reports whether a read picks values apart (a preprocess isel
// with a step).
func strided(step []int64) bool {
	return slices.ContainsFunc(step, func(s int64) bool { return s > 1 })
}

// pickShape is the shape of the values a read of part count of v picks,
// in the input's terms (a folded char dimension is the last).
func pickShape(v *plan.Variable, count []int64) []int64 {
	if v.Width > 0 {
		return append(slices.Clone(count), v.Width)
	}
	return count
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
