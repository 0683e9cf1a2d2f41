// Package extend is everything an append does to a store beside writing
// chunks (the chunk stage reads the chunks that straddle the old end): what
// is read of the store and checked (the inputs against it with
// plan.Schema.AppendTo; consolidated metadata against the arrays; an
// unfinished append taken up only as itself), and what the store is given
// at the end (Finish: new shapes, the whole concat coordinate). The formats
// differ only inside the zarr package; the marker is package lease's. It
// knows nothing of Beam.
package extend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/zarrforge/zarrforge/internal/lease"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/zarr"
)

// Config is what an append needs of its run.
type Config struct {
	Run string // the run's ID
	// Format, when not 0, is the Zarr format the store must have.
	Format int
	// Chunks and Shards are the sizes the run's configuration names,
	// which must agree with the store's.
	Chunks, Shards map[string]int64
	// Self is the process judging whether another run is live; Owner
	// is who the marker names (lease.Owner).
	Self, Owner lease.Process
}

// Prepare readies an append of the inputs that schema describes (laid out)
// to the store st: it reads what the store holds, checks the inputs
// against it (plan.Schema.AppendTo), records the store's state before the
// append in the marker and withdraws the consolidated metadata
// (zarr.Withdraw), so that the store does not look complete until Finish
// has given it every chunk and the new shapes. The target it returns (its
// URL left for the caller) encodes chunks as the store's arrays say
// (zarrplan.Target.Arrays). It returns false when there is no store to append
// to.
func Prepare(ctx context.Context, st *storage.Store, schema plan.Schema, cfg Config) (_ zarrplan.Target, _ bool, err error) {
	m, err := lease.Read(ctx, st)
	if err != nil {
		return zarrplan.Target{}, false, err
	}
	// What is read below can vanish under a run that takes the store
	// meanwhile (an overwrite clearing it): then that, not the store, is
	// why reading it failed.
	defer func() {
		if err != nil && !errors.Is(err, lease.ErrBusy) {
			if later, rerr := lease.Read(ctx, st); rerr == nil && later.Version != m.Version {
				err = fmt.Errorf("%w: run %s took the store while this run read it (%v)", lease.ErrBusy, later.Run, err)
			}
		}
	}()
	keys, err := st.List(ctx, "")
	if err != nil {
		return zarrplan.Target{}, false, err
	}
	if len(keys) == 0 {
		return zarrplan.Target{}, false, nil
	}
	now := time.Now()
	base, ok, err := startFrom(m, cfg, now)
	if !ok || err != nil {
		return zarrplan.Target{}, false, err
	}
	if groups := zarr.SubGroups(keys); len(groups) > 0 {
		return zarrplan.Target{}, false, fmt.Errorf("the store has groups below its root (%s): appending to a store of nested groups is not supported "+
			"(an append would extend the root's arrays and leave the groups out of the consolidated metadata)", strings.Join(groups, ", "))
	}
	shapes, consolidated, err := zarr.ConsolidatedShapes(ctx, st, zarr.FormatOf(keys))
	if err != nil {
		return zarrplan.Target{}, false, err
	}
	if base == nil && !consolidated && !m.Exists() {
		return zarrplan.Target{}, false, fmt.Errorf("no complete Zarr store there to append to (no consolidated metadata: " +
			".zmetadata, or a root zarr.json with consolidated_metadata); set TargetConfig.Mode to overwrite to replace it")
	}
	own, metas, err := readArrays(ctx, st, keys, schema.AppendDim())
	if err != nil {
		return zarrplan.Target{}, false, err
	}
	if base == nil && consolidated {
		if err := agree(own, shapes, schema.AppendDim()); err != nil {
			return zarrplan.Target{}, false, err
		}
	}
	stored, err := readHeld(ctx, st, own, metas, schema.ConcatNames(), base)
	if err != nil {
		return zarrplan.Target{}, false, err
	}
	if cfg.Format != 0 && cfg.Format != stored.Format {
		return zarrplan.Target{}, false, fmt.Errorf("TargetConfig.Format: the store is Zarr v%d, not v%d", stored.Format, cfg.Format)
	}
	if err := schema.AppendTo(stored, cfg.Chunks, cfg.Shards); err != nil {
		return zarrplan.Target{}, false, err
	}
	if base != nil {
		if err := checkTakeUp(ctx, st, own, metas[schema.AppendDim()], shapes, &schema, stored, m.Run); err != nil {
			return zarrplan.Target{}, false, err
		}
	}
	t := zarrplan.Target{Format: stored.Format, Run: cfg.Run, Schema: schema,
		Arrays: make(map[string]zarr.ArrayMeta, len(stored.Arrays))}
	for name := range stored.Arrays {
		t.Arrays[name] = metas[name]
	}
	if _, err := lease.Claim(ctx, st, m, cfg.Run, lease.Appending, &lease.Base{Len: stored.Len, Coord: stored.Coord}, cfg.Owner, now); err != nil {
		return zarrplan.Target{}, false, err
	}
	if err := zarr.Withdraw(ctx, st, stored.Format); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return zarrplan.Target{}, false, err
	}
	return t, true, nil
}

// startFrom says, from the store's marker m, whether an append may start
// and from what: the base an unfinished append recorded (nil for a
// complete store, or one another tool made); false, with no error, when
// the store is this run's own create, retried.
func startFrom(m lease.At, cfg Config, now time.Time) (*lease.Base, bool, error) {
	mine := m.Exists() && m.Run == cfg.Run
	var base *lease.Base
	switch {
	case mine && m.State == lease.Writing:
		return nil, false, nil // our own create, retried
	case !mine && m.Live(cfg.Self, now):
		return nil, false, m.Busy(now)
	case m.State == lease.Writing:
		return nil, false, fmt.Errorf("the store is incomplete: run %s did not finish creating it; set TargetConfig.Mode to overwrite to start again", m.Run)
	case m.State == lease.Appending && m.Base != nil:
		base = m.Base // an append that did not finish, ours retried or a dead run's: start from where it started (checkTakeUp)
	case m.State == lease.Complete || !m.Exists():
	default:
		return nil, false, fmt.Errorf("no complete Zarr store there to append to; set TargetConfig.Mode to overwrite to replace it")
	}
	return base, true, nil
}

// agree checks that the store's consolidated metadata (the array shapes
// it lists) and its arrays' own metadata (own) agree on every array and its
// shape: a tool whose append died between resizing the arrays and
// consolidating leaves them apart, and appending after either would show
// steps no input holds or drop steps a reader saw.
func agree(own plan.Held, shapes map[string][]int64, dim string) error {
	disagree := "the store's consolidated metadata and its arrays' own metadata disagree: %s; " +
		"a tool that changed the store (an append that died before consolidating?) left it so: check it " +
		"(xarray.open_zarr(store, consolidated=False) reads the arrays' own metadata), then consolidate it " +
		"(zarr.consolidate_metadata) or set TargetConfig.Mode to overwrite"
	for _, name := range slices.Sorted(maps.Keys(own.Arrays)) {
		a := own.Arrays[name]
		shape, listed := shapes[name]
		if !listed {
			return fmt.Errorf(disagree, fmt.Sprintf("array %q is not in the consolidated metadata", name))
		}
		if slices.Equal(shape, a.Shape) {
			continue
		}
		what := fmt.Sprintf("array %q has shape %v in its own metadata, %v in the consolidated metadata", name, a.Shape, shape)
		if i := slices.Index(a.Dims, dim); i >= 0 && len(shape) == len(a.Shape) {
			ahead := "its own metadata is ahead"
			if shape[i] > a.Shape[i] {
				ahead = "the consolidated metadata is ahead"
			}
			what = fmt.Sprintf("array %q has %d steps along %s in its own metadata, %d in the consolidated metadata (%s)",
				name, a.Shape[i], dim, shape[i], ahead)
		}
		return fmt.Errorf(disagree, what)
	}
	for _, name := range slices.Sorted(maps.Keys(shapes)) {
		if _, ok := own.Arrays[name]; !ok && !strings.Contains(name, "/") {
			return fmt.Errorf(disagree, fmt.Sprintf("the consolidated metadata lists array %q, which the store lacks", name))
		}
	}
	return nil
}

// checkTakeUp refuses to take up an unfinished append of run (whose marker
// says the store held stored.Len steps before it, and s, after AppendTo,
// is what this run makes of the store) unless whatever the store shows
// beyond those steps — by its arrays' own metadata (now) or by the shapes
// of consolidated metadata another tool wrote since — is exactly what this run writes
// there: a retry of the same append. Anything else is another writer's
// steps (xarray's to_zarr(mode="a") after the killed run), or another
// append's, which starting again from stored.Len would drop or rewrite.
func checkTakeUp(ctx context.Context, st *storage.Store, now plan.Held, coord zarr.ArrayMeta, shapes map[string][]int64, s *plan.Schema, stored plan.Held, run string) error {
	dim := s.AppendDim()
	n := now.Len
	for name, a := range now.Arrays {
		if i := slices.Index(a.Dims, dim); i >= 0 && len(shapes[name]) == len(a.Shape) {
			n = max(n, shapes[name][i])
		}
	}
	if n <= stored.Len {
		return nil // nothing beyond the base is visible
	}
	steps, _ := s.Dim(dim)
	held, writes := fmt.Sprintf("%d steps", n-stored.Len), fmt.Sprintf("%d steps", steps-stored.Len)
	if c, ok := now.Arrays[dim]; ok && len(c.Dims) == 1 && c.DType != string(zarr.Strings) && s.Concat[0].Coord != nil {
		size := int64(coord.DType.ItemSize())
		raw, err := zarr.ReadArray(ctx, st, dim, coord)
		if err != nil {
			return err
		}
		theirs, ours := raw[min(stored.Len*size, int64(len(raw))):], s.Concat[0].Coord[stored.Len*size:]
		if n == steps && bytes.Equal(ours, theirs) {
			return nil // the same append, retried
		}
		held, writes = plan.DescribeSteps(theirs, c.DType, c.Attrs), plan.DescribeSteps(ours, c.DType, c.Attrs)
		if k := int64(len(theirs)) / size; k < n-stored.Len {
			held += fmt.Sprintf(" (%d steps by the arrays' shapes)", n-stored.Len)
		}
	}
	return fmt.Errorf("an unfinished zarrforge append (run %s) started from %d steps along %s; beyond them the store now holds %s, "+
		"but this run writes %s: taking the store up from %d steps would drop or rewrite what is there. If those steps "+
		"are another tool's (it appended since), check the store and append with that tool or set TargetConfig.Mode to overwrite; "+
		"if they are the unfinished append's, run it again with its own inputs to finish it",
		run, stored.Len, dim, held, writes, stored.Len)
}

// readHeld is what the store holds before the append, from its arrays
// as own has them: their coordinates along the concat dimensions concat but
// the first and, unless base (from an unfinished append) gives them, their
// length along the first, which must be one, and its coordinate.
func readHeld(ctx context.Context, st *storage.Store, own plan.Held, metas map[string]zarr.ArrayMeta, concat []string, base *lease.Base) (plan.Held, error) {
	concatDim := concat[0]
	stored := own
	stored.Arrays = make(map[string]plan.HeldArray, len(own.Arrays))
	for name, a := range own.Arrays {
		a.Shape = slices.Clone(a.Shape) // own stays as the store has it
		stored.Arrays[name] = a
		if i := slices.Index(a.Dims, concatDim); i >= 0 && base == nil && a.Shape[i] != own.Len {
			return plan.Held{}, fmt.Errorf("arrays of the store differ in length along %s (%d and %d)", concatDim, a.Shape[i], own.Len)
		}
	}
	var err error
	for _, name := range concat[1:] {
		a, ok := stored.Arrays[name]
		if !ok || len(a.Dims) != 1 || a.Dims[0] != name {
			continue
		}
		o := plan.Axis{Name: name}
		if a.DType == string(zarr.Strings) {
			o.Labels, err = zarr.ReadLabels(ctx, st, name, metas[name])
		} else {
			o.Coord, err = zarr.ReadArray(ctx, st, name, metas[name])
		}
		if err != nil {
			return plan.Held{}, err
		}
		stored.Others = append(stored.Others, o)
	}
	if base != nil {
		// Shapes may already be the unfinished append's: the store holds
		// what it held before it.
		stored.Len, stored.Coord = base.Len, base.Coord
		for _, a := range stored.Arrays {
			if i := slices.Index(a.Dims, concatDim); i >= 0 {
				a.Shape[i] = base.Len
			}
		}
		return stored, nil
	}
	if stored.Len < 0 {
		return plan.Held{}, fmt.Errorf("no array of the store has the dimension %s", concatDim)
	}
	if a, ok := stored.Arrays[concatDim]; ok && len(a.Dims) == 1 {
		coord, err := zarr.ReadArray(ctx, st, concatDim, metas[concatDim])
		if err != nil {
			return plan.Held{}, err
		}
		stored.Coord = coord
	}
	return stored, nil
}

// readArrays reads the metadata of the store's arrays, as each array's own
// metadata has it, and their greatest length along concatDim (-1 when none
// has it); and that metadata as the zarr package reads the arrays with.
func readArrays(ctx context.Context, st *storage.Store, keys []string, concatDim string) (plan.Held, map[string]zarr.ArrayMeta, error) {
	stored := plan.Held{Format: zarr.FormatOf(keys), Arrays: map[string]plan.HeldArray{}, Len: -1}
	metas := map[string]zarr.ArrayMeta{}
	for _, name := range zarr.Arrays(keys) {
		meta, attrs, err := zarr.ReadArrayMeta(ctx, st, name)
		if err != nil {
			return plan.Held{}, nil, err
		}
		if meta.Dims == nil {
			return plan.Held{}, nil, fmt.Errorf("array %q has no dimension names (_ARRAY_DIMENSIONS or dimension_names) for its %d dimensions",
				name, len(meta.Shape))
		}
		stored.Arrays[name] = plan.HeldArray{DType: string(meta.DType), Shape: meta.Shape, Chunks: meta.Chunks, Inner: meta.Inner,
			Dims: meta.Dims, FillValue: meta.FillValue, Attrs: attrs}
		metas[name] = meta
		if i := slices.Index(meta.Dims, concatDim); i >= 0 {
			stored.Len = max(stored.Len, meta.Shape[i])
		}
	}
	return stored, metas, nil
}

// Finish writes the whole coordinate along the append dimension (see
// plan.Schema.AppendDim), gives the arrays along it their new length and
// removes chunk objects
// beyond the new ends (left by an earlier, longer append that did not
// finish). The arrays keep their other metadata and their attributes, and
// the store its group attributes.
func Finish(ctx context.Context, st *storage.Store, t *zarrplan.Target) error {
	s := &t.Schema
	// The coordinate first: a store whose arrays grew shows which steps
	// they grew by (checkTakeUp tells a retry by them).
	cv, hasCoord := s.CoordVar(0)
	if hasCoord {
		if err := writeCoord(ctx, st, cv.Name, s.Concat[0].Coord, cv.Shape[0]); err != nil {
			return err
		}
	}
	var keys []string
	for i := range s.Vars {
		v := &s.Vars[i]
		axis := v.ConcatAxis(s.AppendDim())
		if axis < 0 || hasCoord && v.Name == cv.Name {
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
