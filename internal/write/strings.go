package write

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/zarrforge/zarrforge/internal/nd"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/zarr"
)

// groupStrings writes the chunks of plan p of a variable of strings as
// groupValues writes numbers: its region (of strings, "" where nothing is
// written) read from the store's boxes and the inputs — one read after
// another: strings are small —, cut into its chunks, each encoded and
// written whole. Editors do not see strings.
func (w *Writer) groupStrings(ctx context.Context, t *zarrplan.Target, p *plan.ReadGroupPlan, meta zarr.ArrayMeta) ([]plan.WriteResult, error) {
	v := p.Var
	region := make([]string, cells(p.Count))
	if err := w.readHeldStrings(ctx, t, p, meta, region); err != nil {
		return nil, err
	}
	opts := t.Schema.ReadOptions(t.MaxMem)
	for _, sl := range p.Reads {
		if err := w.readStrings(ctx, opts, v, region, p.Count, sl); err != nil {
			return nil, err
		}
	}
	results := make([]plan.WriteResult, len(p.Chunks))
	chunk := make([]string, cells(v.Chunks))
	for i, c := range p.Chunks {
		clear(chunk)
		nd.CopyBox(chunk, v.Chunks, make([]int64, len(c.At)), region, p.Count, c.At, c.Count, 1)
		key := plan.ChunkKey{Var: v.Name, Index: c.Index}
		if err := w.confirm(ctx, t); err != nil {
			return nil, err
		}
		b, err := zarr.EncodeStrings(meta, chunk)
		if err == nil {
			err = w.store.Put(ctx, meta.Key(key.Var, key.Index), b)
		}
		if err != nil {
			return nil, fmt.Errorf("chunk %s: %w", key, err)
		}
		results[i] = plan.WriteResult{Key: key, Bytes: int64(len(b))}
	}
	return results, nil
}

// readStrings reads one read of strings into its place in region (of
// shape shape).
func (w *Writer) readStrings(ctx context.Context, opts source.Options, v *plan.Variable, region []string, shape []int64, sl plan.Slice) error {
	in, err := w.inputs.Get(ctx, sl.Input, opts)
	if err != nil {
		return err
	}
	name, start, count, step := v.Read(sl.Start, sl.Count)
	strs, err := in.Reader.ReadStrings(name, start, count)
	w.inputs.Put(sl.Input, in)
	if err != nil {
		return fmt.Errorf("input %s: %w", sl.Input.Source, err)
	}
	if strided(step) {
		picked := make([]string, cells(sl.Count))
		nd.Pick(picked, sl.Count[v.Lead:], strs, count, step, 1)
		strs = picked
	}
	nd.CopyBlock(region, shape, sl.At, strs, sl.Count, 1)
	return nil
}

// readHeldStrings copies into region the strings each chunk of plan p
// holds in the store already (when appending); a missing object holds
// only "".
func (w *Writer) readHeldStrings(ctx context.Context, t *zarrplan.Target, p *plan.ReadGroupPlan, meta zarr.ArrayMeta, region []string) error {
	v := p.Var
	axis := v.ConcatAxis(t.Schema.AppendDim())
	for _, c := range p.Chunks {
		if c.Held == 0 {
			continue
		}
		name := meta.Key(v.Name, c.Index)
		data, err := w.store.Get(ctx, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		var old []string
		if err == nil {
			old, err = zarr.DecodeStrings(meta, data)
		}
		if err != nil {
			return fmt.Errorf("the store's %s: %w", name, err)
		}
		count := slices.Clone(c.Count)
		count[axis] = c.Held
		nd.CopyBox(region, p.Count, c.At, old, v.Chunks, make([]int64, len(count)), count, 1)
	}
	return nil
}

// cells is how many values a box of shape count holds.
func cells(count []int64) int64 {
	n := int64(1)
	for _, c := range count {
		n *= c
	}
	return n
}
