package write

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync/atomic"

	"github.com/zarrforge/zarrforge/internal/nd"
	"github.com/zarrforge/zarrforge/internal/par"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/zarr"
)

// Group writes every chunk of read group g of target t and returns
// their results and how many bytes of the inputs it needed. A group of one
// chunk is written as a chunk (its reads feed the compressor as they
// finish); a larger one is read once into a buffer of its region — every
// stored chunk of the inputs inside it decoded once — then cut into its
// chunks, which are encoded and written in parallel, each whole.
func (w *Writer) Group(ctx context.Context, t *zarrplan.Target, g plan.ReadGroup) ([]plan.WriteResult, int64, error) {
	v, ok := t.Schema.Var(g.Var)
	if !ok {
		return nil, 0, fmt.Errorf("StoreChunks: read group %s: no such variable in the schema", g)
	}
	if g.NumChunks() == 1 && (len(w.editors) == 0 || !editable(v)) {
		r, needed, err := w.writeChunk(ctx, t, plan.ChunkKey{Var: g.Var, Index: g.Index})
		if err != nil {
			return nil, needed, err
		}
		return []plan.WriteResult{r}, needed, nil
	}
	ctx, err := w.open(ctx, t)
	if err != nil {
		return nil, 0, err
	}
	p, err := t.Schema.PlanReadGroup(g)
	if err != nil {
		return nil, 0, fmt.Errorf("StoreChunks: %w", err)
	}
	meta, err := t.ArrayMeta(p.Var)
	if err != nil {
		return nil, 0, fmt.Errorf("StoreChunks: %w", err)
	}
	var needed int64
	for _, r := range p.Reads {
		needed += p.Var.BoxBytes(r.Count)
	}
	var results []plan.WriteResult
	err = par.Recovered("", func() error {
		if err := w.readRegion(ctx, t, &p, meta); err != nil {
			return err
		}
		if err := w.edit(t, &p); err != nil {
			return err
		}
		var err error
		results, err = w.writeCut(ctx, t, &p, meta)
		return err
	})
	if err != nil {
		return nil, needed, fmt.Errorf("StoreChunks: read group %s: %w", g, err)
	}
	return results, needed, nil
}

// readRegion reads the region of plan p into w.region: the steps the store
// holds already from their chunks' objects, the rest from the inputs, in
// parallel.
func (w *Writer) readRegion(ctx context.Context, t *zarrplan.Target, p *plan.ReadGroupPlan, meta zarr.ArrayMeta) error {
	v := p.Var
	n := int64(v.ItemSize())
	for _, c := range p.Count {
		n *= c
	}
	if int64(cap(w.region)) < n {
		w.region = make([]byte, n)
	}
	region := w.region[:n]
	axis := v.ConcatAxis(t.Schema.AppendDim())
	for _, c := range p.Chunks {
		if c.Stored == 0 {
			continue
		}
		if err := w.readStored(ctx, v, c, meta, region, p.Count, axis); err != nil {
			return err
		}
	}
	opts := t.Schema.ReadOptions(t.MaxMem)
	return readParallel(ctx, p.Reads, func(i int, scratch []byte) ([]byte, error) {
		return w.readPart(ctx, opts, &t.Schema, v, p.Count, region, p.Reads[i], scratch)
	}, nil)
}

// readStored copies the steps chunk c holds in the store into its place in
// region (of shape shape). A missing object holds only the store's fill
// value (zarr-python leaves such chunks out).
func (w *Writer) readStored(ctx context.Context, v *plan.Variable, c plan.GroupChunk, meta zarr.ArrayMeta, region []byte, shape []int64, axis int) error {
	count := slices.Clone(c.Count)
	count[axis] = c.Stored
	old, err := w.storedChunk(ctx, v, c.Index, meta)
	if err != nil {
		return err
	}
	if old == nil {
		fill := make([]byte, v.BoxBytes(count))
		nd.Fill(fill, meta.EmptyBytes())
		nd.CopyBlock(region, shape, c.At, fill, count, v.ItemSize())
		return nil
	}
	nd.CopyBox(region, shape, c.At, old, v.Chunks, make([]int64, len(count)), count, v.ItemSize())
	return nil
}

// writeCut cuts the chunks of plan p out of w.region and writes each,
// encoded, on a goroutine per core (fewer when their chunks would not fit
// beside the region in t's budget), each once the store is confirmed
// still t's run's (confirm). A chunk whose values are one run of
// the region (a whole chunk, the region one chunk wide after its first
// dimension) is encoded from the region itself; the others are copied out
// first.
func (w *Writer) writeCut(ctx context.Context, t *zarrplan.Target, p *plan.ReadGroupPlan, meta zarr.ArrayMeta) ([]plan.WriteResult, error) {
	v, budget := p.Var, t.MaxMem
	size := meta.ChunkBytes()
	room := max(budget-int64(len(w.region)), size) / max(size, 1)
	workers := int(min(int64(runtime.GOMAXPROCS(0)), int64(len(p.Chunks)), room))
	for len(w.slots) < workers {
		w.slots = append(w.slots, groupSlot{})
	}
	slots := make(chan *groupSlot, workers)
	for k := range workers {
		slots <- &w.slots[k]
	}
	results := make([]plan.WriteResult, len(p.Chunks))
	err := par.Do(ctx, len(p.Chunks), workers, func(ctx context.Context, i int) error {
		slot := <-slots
		defer func() { slots <- slot }()
		c := p.Chunks[i]
		key := plan.ChunkKey{Var: v.Name, Index: c.Index}
		if err := w.confirm(ctx, t); err != nil {
			return err
		}
		chunk := slot.cut(w.region, p, c, size, &w.copied)
		var n int64
		err := w.store.PutFrom(ctx, meta.Key(key.Var, key.Index), func(dst io.Writer) error {
			if err := slot.encoder.Begin(meta, dst); err != nil {
				return err
			}
			if _, err := slot.encoder.Write(chunk); err != nil {
				slot.encoder.Abort()
				return err
			}
			var err error
			n, err = slot.encoder.Finish()
			return err
		})
		if err != nil {
			return fmt.Errorf("chunk %s: %w", key, err)
		}
		results[i] = plan.WriteResult{Key: key, Bytes: n}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// cut returns the values of chunk c of plan p, of size bytes: a slice of
// region when they are one run of it, else a copy in the slot's buffer
// (filled where the chunk passes the array's edge), counted in copied.
func (slot *groupSlot) cut(region []byte, p *plan.ReadGroupPlan, c plan.GroupChunk, size int64, copied *atomic.Int64) []byte {
	v := p.Var
	whole := plan.Covers(v, c.Count)
	if off, ok := nd.Run(p.Count, c.At, c.Count, v.ItemSize()); whole && ok {
		return region[off : off+size]
	}
	copied.Add(1)
	if int64(cap(slot.chunk)) < size {
		slot.chunk = make([]byte, size)
	}
	chunk := slot.chunk[:size]
	if !whole {
		nd.Fill(chunk, v.FillBytes())
	}
	nd.CopyBox(chunk, v.Chunks, make([]int64, len(c.At)), region, p.Count, c.At, c.Count, v.ItemSize())
	return chunk
}

// edit gives the values of plan p's region that come from the inputs to
// the editors: all of it, but for the steps the store already held.
func (w *Writer) edit(t *zarrplan.Target, p *plan.ReadGroupPlan) error {
	v := p.Var
	if len(w.editors) == 0 || !editable(v) {
		return nil
	}
	region := w.region[:v.BoxBytes(p.Count)]
	b := &plan.Block{Var: v, Start: p.Start, Shape: p.Count, Data: region}
	axis := v.ConcatAxis(t.Schema.AppendDim())
	var skip int64 // steps along the concat dimension the store held
	if axis >= 0 {
		skip = max(0, t.Schema.Base-p.Start[axis])
	}
	if skip > 0 { // edit a copy of the rest of the region, then put it back
		at := make([]int64, len(p.Count))
		at[axis] = skip
		b.Start, b.Shape = slices.Clone(p.Start), slices.Clone(p.Count)
		b.Start[axis] += skip
		b.Shape[axis] -= skip
		b.Data = make([]byte, v.BoxBytes(b.Shape))
		nd.CopyBox(b.Data, b.Shape, make([]int64, len(at)), region, p.Count, at, b.Shape, v.ItemSize())
		defer nd.CopyBlock(region, p.Count, at, b.Data, b.Shape, v.ItemSize())
	}
	for _, e := range w.editors {
		if err := e.EditChunk(b); err != nil {
			return fmt.Errorf("editor %T: %w", e, err)
		}
	}
	return nil
}
