package transforms

// Appending: everything an append does to the store beside writing chunks
// (chunkWriter reads the chunks that straddle the old end): what
// PrepareTarget reads of the store and checks (the inputs against it with
// plan.Schema.AppendTo), and what FinalizeTarget gives it at the end (new
// shapes, the whole concat coordinate). The formats differ only inside the
// zarr package.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"github.com/zarrforge/zarrforge/plan"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/zarr"
)

// prepareAppend readies an append: it reads what the store holds, checks
// the inputs against it (plan.Schema.AppendTo), records the store's state
// before the append in the marker and withdraws the consolidated metadata
// (zarr.Withdraw), so that the store does not look complete until
// FinalizeTarget has written every chunk and the new shapes. The target
// encodes chunks as the store's arrays say (plan.Target.Arrays). The store's arrays keep their metadata until then. It
// returns false when there is no store to append to.
func (f *prepareFn) prepareAppend(ctx context.Context, st *storage.Store, schema plan.Schema) (_ plan.Target, _ bool, err error) {
	m, err := readMarker(ctx, st)
	if err != nil {
		return plan.Target{}, false, err
	}
	// What is read below can vanish under a run that takes the store
	// meanwhile (an overwrite clearing it): then that, not the store, is
	// why reading it failed.
	defer func() {
		if err != nil && !errors.Is(err, ErrTargetBusy) {
			if later, rerr := readMarker(ctx, st); rerr == nil && later.version != m.version {
				err = fmt.Errorf("%w: run %s took the store while this run read it (%v)", ErrTargetBusy, later.Run, err)
			}
		}
	}()
	keys, err := st.List(ctx, "")
	if err != nil {
		return plan.Target{}, false, err
	}
	if len(keys) == 0 {
		return plan.Target{}, false, nil
	}
	now := time.Now()
	mine := m.exists() && m.Run == f.Config.RunID
	var base *appendBase
	switch {
	case mine && m.State == stateWriting:
		return plan.Target{}, false, nil // our own create, retried
	case !mine && m.live(f.self, now):
		return plan.Target{}, false, m.busy(now)
	case m.State == stateWriting:
		return plan.Target{}, false, fmt.Errorf("the store is incomplete: run %s did not finish creating it; set target.mode to overwrite to start again", m.Run)
	case m.State == stateAppending && m.Base != nil:
		base = m.Base // an append that did not finish, ours retried or a dead run's: start from where it started
		if err := checkUnfinished(ctx, st, keys, schema, base); err != nil {
			return plan.Target{}, false, err
		}
	case m.State == stateComplete:
	case !m.exists():
		consolidated, err := zarr.IsConsolidated(ctx, st, keys)
		if err != nil {
			return plan.Target{}, false, err
		}
		if !consolidated {
			return plan.Target{}, false, fmt.Errorf("no complete Zarr store there to append to (no consolidated metadata: " +
				".zmetadata, or a root zarr.json with consolidated_metadata); set target.mode to overwrite to replace it")
		}
	default:
		return plan.Target{}, false, fmt.Errorf("no complete Zarr store there to append to; set target.mode to overwrite to replace it")
	}
	stored, err := readStored(ctx, st, keys, schema.ConcatNames(), base)
	if err != nil {
		return plan.Target{}, false, err
	}
	if f.Config.Format != 0 && f.Config.Format != stored.Format {
		return plan.Target{}, false, fmt.Errorf("target.zarr_format: the store is Zarr v%d, not v%d", stored.Format, f.Config.Format)
	}
	if err := schema.AppendTo(stored, f.Config.Chunks, f.Config.Shards); err != nil {
		return plan.Target{}, false, err
	}
	t := plan.Target{URL: f.Config.URL, Format: stored.Format, Run: f.Config.RunID, Schema: schema,
		Arrays: make(map[string]zarr.ArrayMeta, len(stored.Arrays))}
	for name, a := range stored.Arrays {
		t.Arrays[name] = a.Meta
	}
	if _, err := claim(ctx, st, m, f.Config.RunID, stateAppending, &appendBase{Len: stored.Len, Coord: stored.Coord}, f.self, now); err != nil {
		return plan.Target{}, false, err
	}
	if err := zarr.Withdraw(ctx, st, stored.Format); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return plan.Target{}, false, err
	}
	return t, true, nil
}

// checkUnfinished refuses to take up an unfinished append (whose marker
// says the store held base.Len steps) when the store has since been
// consolidated by another tool — xarray's to_zarr(mode="a") after a killed
// run — to a length this append would not make: starting again from base
// would drop what that tool added. (The unfinished append withdrew
// .zmetadata; it comes back only at its own very end, with the length it
// makes.)
func checkUnfinished(ctx context.Context, st *storage.Store, keys []string, schema plan.Schema, base *appendBase) error {
	if consolidated, err := zarr.IsConsolidated(ctx, st, keys); err != nil || !consolidated {
		return err
	}
	now, err := readArrays(ctx, st, keys, schema.AppendDim(), true)
	if err != nil {
		return err
	}
	steps, _ := schema.Dim(schema.AppendDim())
	if now.Len != base.Len && now.Len != base.Len+steps {
		return fmt.Errorf("an unfinished zarrforge append started from %d steps along %s, but the store now holds %d "+
			"(another tool appended and consolidated it since); appending again from %d would drop those steps: "+
			"check the store, then append with that tool or set target.mode to overwrite",
			base.Len, schema.AppendDim(), now.Len, base.Len)
	}
	return nil
}

// readStored reads the arrays of the store, its coordinates along the
// concat dimensions concat but the first and, unless base (from an
// unfinished append) gives them, its length along the first and its
// coordinate.
func readStored(ctx context.Context, st *storage.Store, keys []string, concat []string, base *appendBase) (plan.Stored, error) {
	concatDim := concat[0]
	stored, err := readArrays(ctx, st, keys, concatDim, base == nil)
	if err != nil {
		return plan.Stored{}, err
	}
	for _, name := range concat[1:] {
		a, ok := stored.Arrays[name]
		if !ok || len(a.Meta.Dims) != 1 || a.Meta.Dims[0] != name {
			continue
		}
		o := plan.Axis{Name: name}
		if a.Meta.DType == zarr.Strings {
			o.Labels, err = zarr.ReadLabels(ctx, st, name, a.Meta)
		} else {
			o.Coord, err = zarr.ReadArray(ctx, st, name, a.Meta)
		}
		if err != nil {
			return plan.Stored{}, err
		}
		stored.Others = append(stored.Others, o)
	}
	if base != nil {
		// Shapes may already be the unfinished append's: the store holds
		// what it held before it.
		stored.Len, stored.Coord = base.Len, base.Coord
		for _, a := range stored.Arrays {
			if i := slices.Index(a.Meta.Dims, concatDim); i >= 0 {
				a.Meta.Shape[i] = base.Len
			}
		}
		return stored, nil
	}
	if stored.Len < 0 {
		return plan.Stored{}, fmt.Errorf("no array of the store has the dimension %s", concatDim)
	}
	if a, ok := stored.Arrays[concatDim]; ok && len(a.Meta.Dims) == 1 {
		coord, err := zarr.ReadArray(ctx, st, concatDim, a.Meta)
		if err != nil {
			return plan.Stored{}, err
		}
		stored.Coord = coord
	}
	return stored, nil
}

// readArrays reads the metadata of the store's arrays and their length
// along concatDim as their shapes say (-1 when none has it); with even,
// arrays of different lengths are an error (an append killed while it
// wrote the new shapes leaves them so).
func readArrays(ctx context.Context, st *storage.Store, keys []string, concatDim string, even bool) (plan.Stored, error) {
	stored := plan.Stored{Format: zarr.FormatOf(keys), Arrays: map[string]plan.StoredArray{}, Len: -1}
	for _, name := range zarr.Arrays(keys) {
		meta, attrs, err := zarr.ReadArrayMeta(ctx, st, name)
		if err != nil {
			return plan.Stored{}, err
		}
		if meta.Dims == nil {
			return plan.Stored{}, fmt.Errorf("array %q has no dimension names (_ARRAY_DIMENSIONS or dimension_names) for its %d dimensions",
				name, len(meta.Shape))
		}
		stored.Arrays[name] = plan.StoredArray{Meta: meta, Attrs: attrs}
		if i := slices.Index(meta.Dims, concatDim); i >= 0 {
			if even && stored.Len >= 0 && meta.Shape[i] != stored.Len {
				return plan.Stored{}, fmt.Errorf("arrays of the store differ in length along %s (%d and %d)", concatDim, stored.Len, meta.Shape[i])
			}
			stored.Len = max(stored.Len, meta.Shape[i])
		}
	}
	return stored, nil
}

// finishAppend gives the arrays along the append dimension (see
// plan.Schema.AppendDim) their new length, writes its whole coordinate and
// removes chunk objects
// beyond the new ends (left by an earlier, longer append that did not
// finish). The arrays keep their other metadata and their attributes, and
// the store its group attributes.
func finishAppend(ctx context.Context, st *storage.Store, t *plan.Target) error {
	s := &t.Schema
	var keys []string
	for i := range s.Vars {
		v := &s.Vars[i]
		axis := v.ConcatAxis(s.AppendDim())
		if axis < 0 {
			continue
		}
		if cv, ok := s.CoordVar(0); ok && cv.Name == v.Name {
			if err := writeCoord(ctx, st, v.Name, s.Concat[0].Coord, v.Shape[0]); err != nil {
				return err
			}
			continue
		}
		meta, _, err := zarr.ReadArrayMeta(ctx, st, v.Name)
		if err != nil {
			return err
		}
		meta.Shape = v.Shape
		if err := zarr.UpdateArrayMeta(ctx, st, v.Name, meta); err != nil {
			return err
		}
		if keys == nil {
			var err error
			if keys, err = st.List(ctx, ""); err != nil {
				return err
			}
		}
		grid := v.Grid()
		for _, k := range keys {
			if idx, ok := meta.ParseKey(v.Name, k); ok && len(idx) == len(grid) && idx[axis] >= grid[axis] {
				if err := st.Delete(ctx, k); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// writeCoord writes the whole concat coordinate, raw, as array name of n
// values, in the chunking the store has for it: one chunk when it had one
// (zarrforge writes dimension coordinates so), else its chunk size.
func writeCoord(ctx context.Context, st *storage.Store, name string, raw []byte, n int64) error {
	meta, _, err := zarr.ReadArrayMeta(ctx, st, name)
	if err != nil {
		return err
	}
	if meta.Chunks[0] >= meta.Shape[0] {
		meta.Chunks[0] = n
	}
	meta.Shape[0] = n
	if err := zarr.WriteVector(ctx, st, name, meta, raw); err != nil {
		return err
	}
	return zarr.UpdateArrayMeta(ctx, st, name, meta)
}
