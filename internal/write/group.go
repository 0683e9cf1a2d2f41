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

// Group writes every chunk of read group g of target t (a group with no
// Count is the one chunk at Index) and returns their results and how many
// bytes of the inputs it needed. Every group goes the same way: one plan of
// it (plan.Schema.PlanReadGroup: the reads from the inputs, the boxes the
// store already holds, the chunks), its region read once — every stored
// chunk of the inputs inside it decoded once, in parallel —, given to the
// editors, cut into its chunks and each encoded and written whole. A group
// of one chunk that no editor sees streams: its region is the chunk, and
// its finished reads feed the compressor while the rest are read.
func (w *Writer) Group(ctx context.Context, t *zarrplan.Target, g plan.ReadGroup) ([]plan.WriteResult, int64, error) {
	ctx, err := w.open(ctx, t)
	if err != nil {
		return nil, 0, err
	}
	if len(g.Count) == 0 {
		g.Count = ones(len(g.Index))
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
		var err error
		if meta.DType == zarr.Strings {
			results, err = w.groupStrings(ctx, t, &p, meta)
		} else {
			results, err = w.groupValues(ctx, t, &p, meta)
		}
		return err
	})
	if err != nil {
		return nil, needed, fmt.Errorf("StoreChunks: read group %s: %w", g, err)
	}
	return results, needed, nil
}

func ones(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

// groupValues writes the chunks of plan p of a variable of numbers or
// fixed-width text: its region read into w.region, edited, cut.
func (w *Writer) groupValues(ctx context.Context, t *zarrplan.Target, p *plan.ReadGroupPlan, meta zarr.ArrayMeta) ([]plan.WriteResult, error) {
	if results, ok, err := w.copyStored(ctx, t, p, meta); ok || err != nil {
		return results, err
	}
	v := p.Var
	stream := len(p.Chunks) == 1 && (len(w.editors) == 0 || !editable(v)) && meta.Inner == nil
	shape := p.Count
	if stream {
		shape = v.Chunks // the chunk itself, padded with fill past the array's edge
	}
	n := v.BoxBytes(shape)
	if int64(cap(w.region)) < n {
		w.region = make([]byte, n)
	}
	region := w.region[:n]
	if !slices.Equal(shape, p.Count) {
		nd.Fill(region, v.FillBytes())
	}
	if err := w.readHeldBoxes(ctx, t, p, meta, region, shape); err != nil {
		return nil, err
	}
	if stream {
		r, err := w.streamChunk(ctx, t, p, meta, region)
		return []plan.WriteResult{r}, err
	}
	opts := t.Schema.ReadOptions(t.MaxMem)
	err := readParallel(ctx, p.Reads, func(i int, scratch []byte) ([]byte, error) {
		return w.readPart(ctx, opts, &t.Schema, v, shape, region, p.Reads[i], scratch)
	}, nil)
	if err != nil {
		return nil, err
	}
	if err := w.edit(t, p); err != nil {
		return nil, err
	}
	return w.writeCut(ctx, t, p, meta)
}

// streamChunk writes the one chunk of plan p, its region the whole chunk:
// it reads the plan's reads into region and encodes it into the chunk's
// object. When the reads are runs of the chunk in order (the concat
// dimension leads it), each finished prefix of the chunk is fed to the
// compressor while the rest is still being read.
func (w *Writer) streamChunk(ctx context.Context, t *zarrplan.Target, p *plan.ReadGroupPlan, meta zarr.ArrayMeta, region []byte) (plan.WriteResult, error) {
	v, c := p.Var, p.Chunks[0]
	opts := t.Schema.ReadOptions(t.MaxMem)
	ends := runEnds(v, p.Reads)
	var size int64
	err := w.store.PutFrom(ctx, meta.Key(v.Name, c.Index), func(dst io.Writer) error {
		enc := &w.encoder
		if err := enc.Begin(meta, dst); err != nil {
			return err
		}
		done := make([]bool, len(p.Reads))
		written, ready := int64(0), 0
		err := readParallel(ctx, p.Reads, func(i int, scratch []byte) ([]byte, error) {
			return w.readPart(ctx, opts, &t.Schema, v, v.Chunks, region, p.Reads[i], scratch)
		}, func(i int) {
			done[i] = true
			for ready < len(p.Reads) && done[ready] {
				ready++
			}
			if ends != nil && ready > 0 && ends[ready-1] > written {
				enc.Write(region[written:ends[ready-1]])
				written = ends[ready-1]
			}
		})
		if err != nil {
			enc.Abort() // before the store discards dst
			return err
		}
		enc.Write(region[written:])
		size, err = enc.Finish()
		return err
	})
	if err != nil {
		return plan.WriteResult{}, fmt.Errorf("chunk %s: %w", plan.ChunkKey{Var: v.Name, Index: c.Index}, err)
	}
	return plan.WriteResult{Key: plan.ChunkKey{Var: v.Name, Index: c.Index}, Bytes: size}, nil
}

// runEnds returns where each read ends in a chunk of v when the reads are
// runs of it in order; nil otherwise.
func runEnds(v *plan.Variable, reads []plan.Slice) []int64 {
	ends := make([]int64, len(reads))
	for i, sl := range reads {
		off, ok := nd.Run(v.Chunks, sl.At, sl.Count, v.ItemSize())
		if !ok || (i > 0 && off < ends[i-1]) {
			return nil
		}
		ends[i] = off + v.BoxBytes(sl.Count)
	}
	return ends
}

// readHeldBoxes copies into region (of shape shape) the steps each chunk
// of plan p holds in the store already (when appending). A missing object
// holds only the store's fill value (zarr-python leaves such chunks out).
func (w *Writer) readHeldBoxes(ctx context.Context, t *zarrplan.Target, p *plan.ReadGroupPlan, meta zarr.ArrayMeta, region []byte, shape []int64) error {
	v := p.Var
	axis := v.ConcatAxis(t.Schema.AppendDim())
	for _, c := range p.Chunks {
		if c.Held == 0 {
			continue
		}
		count := slices.Clone(c.Count)
		count[axis] = c.Held
		old, err := w.heldChunk(ctx, v, c.Index, meta)
		if err != nil {
			return err
		}
		if old == nil {
			fill := make([]byte, v.BoxBytes(count))
			nd.Fill(fill, meta.EmptyBytes())
			nd.CopyBlock(region, shape, c.At, fill, count, v.ItemSize())
			continue
		}
		nd.CopyBox(region, shape, c.At, old, v.Chunks, make([]int64, len(count)), count, v.ItemSize())
	}
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
	if meta.Inner != nil { // a shard's inner chunks are encoded on every core
		workers = int(min(int64(len(p.Chunks)), max(1, int64(runtime.GOMAXPROCS(0))/innerCount(meta))))
	}
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
		if meta.Inner != nil {
			n, err := w.writeShard(ctx, slot, p, c, meta)
			results[i] = plan.WriteResult{Key: key, Bytes: n}
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

// writeShard writes shard c of plan p, each inner chunk cut from
// w.region as it is encoded (zarr.ShardEncoder).
func (w *Writer) writeShard(ctx context.Context, slot *groupSlot, p *plan.ReadGroupPlan, c plan.GroupChunk, meta zarr.ArrayMeta) (int64, error) {
	v := p.Var
	key := plan.ChunkKey{Var: v.Name, Index: c.Index}
	box := zarr.ShardBox{Data: w.region[:v.BoxBytes(p.Count)], Shape: p.Count, At: c.At, Count: c.Count, Fill: v.FillBytes()}
	var n int64
	err := w.store.PutFrom(ctx, meta.Key(key.Var, key.Index), func(dst io.Writer) error {
		var err error
		n, err = slot.shards.Encode(meta, box, dst)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("chunk %s: %w", key, err)
	}
	return n, nil
}

// innerCount is how many inner chunks a shard of meta holds.
func innerCount(meta zarr.ArrayMeta) int64 {
	n := int64(1)
	for d := range meta.Chunks {
		n *= meta.Chunks[d] / meta.Inner[d]
	}
	return n
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
