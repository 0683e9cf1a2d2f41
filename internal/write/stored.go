package write

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync/atomic"

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
// without decoding them, when every one of them is one stored chunk of one
// input that the target array can hold as it is — the same dtype, chunk
// shape and compressor (source.StoredChunks), no editor, no preprocess
// step, nothing the store holds already, every chunk written in the input.
// ok is false, with nothing written, when the group must be decoded.
func (w *Writer) copyStored(ctx context.Context, t *zarrplan.Target, p *plan.ReadGroupPlan, meta zarr.ArrayMeta) (results []plan.WriteResult, ok bool, err error) {
	v := p.Var
	if meta.Inner != nil || meta.DType == zarr.Strings || (len(w.editors) > 0 && editable(v)) || t.Schema.IsBoundsVar(v) {
		return nil, false, nil
	}
	where := make([]storedChunk, len(p.Chunks))
	for i, c := range p.Chunks {
		if where[i], ok = storedAt(p, c, meta.Chunks); !ok {
			return nil, false, nil
		}
	}
	// Every chunk is fetched before any is written: a group is copied
	// whole or decoded whole.
	opts := t.Schema.ReadOptions(t.MaxMem)
	data := make([][]byte, len(where))
	var missing atomic.Bool
	err = par.Do(ctx, len(where), copyWidth, func(ctx context.Context, i int) error {
		b, ok, err := w.stored(ctx, opts, where[i], meta)
		data[i] = b
		if !ok {
			missing.Store(true)
		}
		return err
	})
	if err != nil || missing.Load() {
		return nil, false, err
	}
	if err := w.confirm(ctx, t); err != nil {
		return nil, true, err
	}
	results = make([]plan.WriteResult, len(p.Chunks))
	err = par.Do(ctx, len(p.Chunks), copyWidth, func(ctx context.Context, i int) error {
		key := plan.ChunkKey{Var: v.Name, Index: p.Chunks[i].Index}
		if err := w.store.Put(ctx, meta.Key(v.Name, key.Index), data[i]); err != nil {
			return fmt.Errorf("chunk %s: %w", key, err)
		}
		results[i] = plan.WriteResult{Key: key, Bytes: int64(len(data[i]))}
		return nil
	})
	if err != nil {
		return nil, true, err
	}
	w.asStored.Add(int64(len(results)))
	return results, true, nil
}

// copyWidth is how many chunks of a group are fetched, or written, at
// once when they are copied as stored: the work is waiting on storage.
const copyWidth = 16

// storedAt finds the input chunk that is chunk c of plan p, for a target
// of chunk shape chunks: one read holds all of c, and in the input's
// indices c starts on a stored chunk boundary, without a preprocess step
// or a dimension the input lacks. (That the input's chunks have that
// shape is checked against its encoding.)
func storedAt(p *plan.ReadGroupPlan, c plan.GroupChunk, chunks []int64) (storedChunk, bool) {
	if c.Held > 0 {
		return storedChunk{}, false
	}
	for _, sl := range p.Reads {
		if sl.Existing || !inside(c.At, c.Count, sl.At, sl.Count) {
			continue
		}
		start := make([]int64, len(c.At))
		for d := range start {
			start[d] = sl.Start[d] + c.At[d] - sl.At[d]
		}
		name, inStart, _, step := p.Var.Read(start, c.Count)
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

// stored returns chunk s as its input stores it, if the target (meta) can
// hold it as it is; ok is false when it cannot or the input never wrote
// it.
func (w *Writer) stored(ctx context.Context, opts source.Options, s storedChunk, meta zarr.ArrayMeta) ([]byte, bool, error) {
	in, err := w.inputs.Get(ctx, s.sl.Input, opts)
	if err != nil {
		return nil, false, err
	}
	defer w.inputs.Put(s.sl.Input, in)
	sc, ok := in.Reader.(source.StoredChunks)
	if !ok {
		return nil, false, nil
	}
	enc, ok := sc.StoredEncoding(s.name)
	if !ok || enc.DType != string(meta.DType) || enc.Compressor != meta.Compressor.Spec() || !slices.Equal(enc.Chunks, meta.Chunks) {
		return nil, false, nil
	}
	b, err := sc.StoredChunk(s.name, s.idx)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil // its fill may not be the target's: decode
	}
	if err != nil {
		return nil, false, fmt.Errorf("input %s: %w", s.sl.Input.Source, err)
	}
	return b, true, nil
}
