package write

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"slices"
	"sync"

	"github.com/zarrforge/zarrforge/internal/nd"
	"github.com/zarrforge/zarrforge/internal/par"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/zarr"
)

// remoteReaders is the least number of parts of a chunk read at once from
// remote inputs, whatever the number of cores: reading them is mostly
// waiting.
const remoteReaders = 8

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

// heldChunk reads and decodes chunk idx of v from the store; nil when
// the store has no such object (zarr-python leaves out chunks that hold
// only fill).
func (w *Writer) heldChunk(ctx context.Context, v *plan.Variable, idx []int64, meta zarr.ArrayMeta) ([]byte, error) {
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
