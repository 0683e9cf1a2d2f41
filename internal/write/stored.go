package write

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sync/atomic"

	"github.com/zarrforge/zarrforge/internal/inputs"
	"github.com/zarrforge/zarrforge/internal/par"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/zarr"
)

// storedChunk is where one chunk of a read group lies as an input stores
// it: chunk idx of variable name of the input that read sl reads.
type storedChunk struct {
	sl   plan.Slice
	name string
	idx  []int64
}

// copyStored writes the chunks of plan p as their inputs store them,
// without decoding them, when every one of them — or, for a sharded
// array, every inner chunk of every shard within the array — is one stored
// chunk of one input that the target array can hold as it is: the same
// dtype, chunk shape and compressor (source.StoredChunks), no editor, no
// preprocess step, nothing the store holds already, every chunk written in
// the input. A chunk is streamed from the input into the store (a local
// file into a local store is copied by the kernel); a shard gets the
// stored chunks and its index. ok is false when the group must be decoded:
// then what was copied of it is written again, decoded.
func (w *Writer) copyStored(ctx context.Context, t *zarrplan.Target, p *plan.ReadGroupPlan, meta zarr.ArrayMeta) (results []plan.WriteResult, ok bool, err error) {
	v := p.Var
	if meta.DType == zarr.Strings || (len(w.editors) > 0 && editable(v)) || t.Schema.IsBoundsVar(v) {
		return nil, false, nil
	}
	parts, ok := storedParts(p, meta)
	if !ok {
		return nil, false, nil
	}
	// Each input is opened once: its reader serves every chunk at once.
	readers, release, ok, err := w.storedReaders(ctx, t.Schema.ReadOptions(t.MaxMem), parts, meta)
	defer release()
	if !ok || err != nil {
		return nil, false, err
	}
	if err := w.confirm(ctx, t); err != nil {
		return nil, true, err
	}
	copyChunk := w.streamStored
	if meta.Inner != nil {
		copyChunk = w.assembleShard
	}
	results = make([]plan.WriteResult, len(p.Chunks))
	var missing atomic.Bool
	err = par.Do(ctx, len(p.Chunks), copyWidth, func(ctx context.Context, i int) error {
		key := plan.ChunkKey{Var: v.Name, Index: p.Chunks[i].Index}
		n, err := copyChunk(ctx, meta.Key(v.Name, key.Index), parts[i], readers)
		switch {
		case errors.Is(err, errNotStored):
			missing.Store(true) // its fill may not be the target's: decode
			return nil
		case err != nil:
			return fmt.Errorf("chunk %s: %w", key, err)
		}
		results[i] = plan.WriteResult{Key: key, Bytes: n}
		return nil
	})
	if err != nil || missing.Load() {
		return nil, err != nil, err
	}
	w.asStored.Add(int64(len(results)))
	return results, true, nil
}

// streamStored copies the one stored chunk of parts to the store's object
// at key and returns its length; errNotStored when the input never wrote
// it (nothing is written then).
func (w *Writer) streamStored(ctx context.Context, key string, parts []storedChunk, readers map[string]source.StoredChunks) (int64, error) {
	s := parts[0]
	r, err := readers[s.sl.Input.URL].OpenStoredChunk(s.name, s.idx)
	if err != nil {
		return 0, storedErr(s, err)
	}
	defer r.Close()
	var n int64
	err = w.store.PutFrom(ctx, key, func(dst io.Writer) error {
		n, err = io.Copy(dst, r)
		if err != nil {
			return fmt.Errorf("input %s: %w", s.sl.Input.Source, err)
		}
		return nil
	})
	return n, err
}

// assembleShard reads the stored inner chunks of parts and writes them as
// the shard at key with its index; errNotStored when the input never wrote
// one of them (nothing is written then).
func (w *Writer) assembleShard(ctx context.Context, key string, parts []storedChunk, readers map[string]source.StoredChunks) (int64, error) {
	inner := make([][]byte, len(parts))
	err := par.Do(ctx, len(parts), copyWidth, func(ctx context.Context, j int) error {
		s := parts[j]
		if s.idx == nil {
			return nil // wholly past the array's edge
		}
		r, err := readers[s.sl.Input.URL].OpenStoredChunk(s.name, s.idx)
		if err != nil {
			return storedErr(s, err)
		}
		defer r.Close()
		inner[j], err = io.ReadAll(r)
		return storedErr(s, err)
	})
	if err != nil {
		return 0, err
	}
	var n int64
	err = w.store.PutFrom(ctx, key, func(dst io.Writer) error {
		n, err = zarr.WriteShard(dst, inner)
		return err
	})
	return n, err
}

// errNotStored is what copying a chunk that its input never wrote
// fails with.
var errNotStored = errors.New("a chunk the input never wrote")

// storedErr is err, from reading stored chunk s: errNotStored for one the
// input never wrote, else err naming the input.
func storedErr(s storedChunk, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return errNotStored
	}
	return fmt.Errorf("input %s: %w", s.sl.Input.Source, err)
}

// copyWidth is how many stored chunks of a group are fetched, or objects
// written, at once when they are copied as stored: the work is waiting on
// storage.
const copyWidth = 16

// storedParts finds, for every chunk of plan p, the input chunks it is
// made of: the one stored chunk that is it or, for a sharded array, one per
// inner chunk in C order (a zero storedChunk, left out of the shard, for
// those wholly past the array's edge). ok is false when some part is not
// one stored chunk.
func storedParts(p *plan.ReadGroupPlan, meta zarr.ArrayMeta) ([][]storedChunk, bool) {
	parts := make([][]storedChunk, len(p.Chunks))
	for i, c := range p.Chunks {
		if c.Held > 0 {
			return nil, false
		}
		if meta.Inner == nil {
			s, ok := storedAt(p, c.At, c.Count, meta.Chunks)
			if !ok {
				return nil, false
			}
			parts[i] = []storedChunk{s}
			continue
		}
		ok := true
		meta.InnerChunks(func(o []int64) {
			at, count := make([]int64, len(o)), make([]int64, len(o))
			outside := false
			for d := range o {
				at[d], count[d] = c.At[d]+o[d], min(meta.Inner[d], c.Count[d]-o[d])
				outside = outside || count[d] <= 0
			}
			var s storedChunk
			if !outside {
				var found bool
				s, found = storedAt(p, at, count, meta.Inner)
				ok = ok && found
			}
			parts[i] = append(parts[i], s)
		})
		if !ok {
			return nil, false
		}
	}
	return parts, true
}

// storedAt finds the input chunk that is the box at, count of plan p's
// region, for stored chunks of shape chunks: one read holds all of it, and
// in the input's indices it starts on a stored chunk boundary, without a
// preprocess step or a dimension the input lacks. (That the input's chunks
// have that shape is checked against its encoding.)
func storedAt(p *plan.ReadGroupPlan, at, count, chunks []int64) (storedChunk, bool) {
	for _, sl := range p.Reads {
		if sl.Existing || !inside(at, count, sl.At, sl.Count) {
			continue
		}
		start := make([]int64, len(at))
		for d := range start {
			start[d] = sl.Start[d] + at[d] - sl.At[d]
		}
		name, inStart, _, step := p.Var.Read(start, count)
		if len(inStart) != len(chunks) || strided(step) {
			return storedChunk{}, false
		}
		idx := make([]int64, len(inStart))
		for d := range inStart {
			if inStart[d]%chunks[d] != 0 {
				return storedChunk{}, false
			}
			idx[d] = inStart[d] / chunks[d]
		}
		return storedChunk{sl: sl, name: name, idx: idx}, true
	}
	return storedChunk{}, false
}

// inside reports whether the box at, count lies inside the box bAt,
// bCount.
func inside(at, count, bAt, bCount []int64) bool {
	for d := range at {
		if at[d] < bAt[d] || at[d]+count[d] > bAt[d]+bCount[d] {
			return false
		}
	}
	return true
}

// storedReaders takes out of the pool, once each, the inputs that parts
// name and returns their readers by URL, if each stores its chunks as the
// target (meta) can hold them (ok false when one does not), and release,
// which puts them back.
func (w *Writer) storedReaders(ctx context.Context, opts source.Options, parts [][]storedChunk, meta zarr.ArrayMeta) (
	readers map[string]source.StoredChunks, release func(), ok bool, err error) {
	shape := meta.Chunks
	if meta.Inner != nil {
		shape = meta.Inner
	}
	var taken []storedChunk
	var opened []inputs.Open
	release = func() {
		for i, s := range taken {
			w.inputs.Put(s.sl.Input, opened[i])
		}
	}
	readers = map[string]source.StoredChunks{}
	for _, ps := range parts {
		for _, s := range ps {
			if s.idx == nil || readers[s.sl.Input.URL] != nil {
				continue
			}
			in, err := w.inputs.Get(ctx, s.sl.Input, opts)
			if err != nil {
				return nil, release, false, err
			}
			taken, opened = append(taken, s), append(opened, in)
			sc, ok := in.Reader.(source.StoredChunks)
			if !ok {
				return nil, release, false, nil
			}
			enc, ok := sc.StoredEncoding(s.name)
			if !ok || enc.DType != string(meta.DType) || enc.Compressor != meta.Compressor.Spec() || !slices.Equal(enc.Chunks, shape) {
				return nil, release, false, nil
			}
			readers[s.sl.Input.URL] = sc
		}
	}
	return readers, release, true, nil
}
