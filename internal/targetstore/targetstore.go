// Package targetstore prepares and completes the store a run writes, without
// Beam: claiming it (ClaimStore), writing its arrays' metadata and concat
// coordinates (WriteArrays), and, once every chunk is written, its group
// and consolidated metadata and the marker that says it is complete
// (Finalize, FinalizeTree). The PrepareTarget, FinalizeTarget and
// WriteGroups stages are Beam wrappers around it; internal/lease holds the
// ownership protocol and internal/extend appends.
package targetstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/zarrforge/zarrforge"
	"github.com/zarrforge/zarrforge/internal/extend"
	"github.com/zarrforge/zarrforge/internal/lease"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/zarr"
)

// CheckCompressor checks a compressor's numcodecs id and level as the
// zarr package, which encodes the chunks, reads them.
func CheckCompressor(id string, level int) error {
	_, err := zarr.NewCompressor(id, level)
	return err
}

// CheckGroupPath checks the names of the parts of a group's path ("a/b").
func CheckGroupPath(path string) error {
	for _, part := range strings.Split(path, "/") {
		if err := zarr.CheckName(part); err != nil {
			return err
		}
	}
	return nil
}

// Claim says who claims a store, and how.
type Claim struct {
	// Run is the run that claims it.
	Run string
	// Overwrite replaces a store another run left; otherwise any store
	// but this run's own partial writes is refused.
	Overwrite bool
	// Self is the process that claims it; Builder the process that built
	// the pipeline (see lease.Owner).
	Self    lease.Process
	Builder string
}

// ClaimStore makes the store st this run's: without Overwrite it refuses a
// store that holds anything but this run's own partial writes (a retried
// bundle) or what a dead run left unfinished while creating it (a create
// run again); with it, it takes the store, then deletes whatever another
// run left there. A store that another run is live writing is refused in
// both.
func ClaimStore(ctx context.Context, st *storage.Store, c Claim) error {
	keys, err := st.List(ctx, "")
	if err != nil {
		return err
	}
	m, err := lease.Read(ctx, st)
	if err != nil {
		return err
	}
	now := time.Now()
	if m.Exists() && m.Run == c.Run {
		_, err = lease.Claim(ctx, st, m, c.Run, lease.Writing, nil, lease.Owner(c.Self, c.Builder), now)
		return err // our own, retried
	}
	if err := Claimable(m, keys, c, now); err != nil {
		return err
	}
	// Take the store first, then clear it: a run that took it since
	// stops this one here, before anything of its is deleted.
	if _, err := lease.Claim(ctx, st, m, c.Run, lease.Writing, nil, lease.Owner(c.Self, c.Builder), now); err != nil {
		return err
	}
	if len(keys) > 0 {
		return st.Clear(ctx, lease.Key)
	}
	return nil
}

// Claimable says whether run c may take a store that holds keys and whose
// marker is m (another run's, or none), at time now: the one rule that
// ClaimStore applies and that a pre-flight check asks before anything
// runs.
func Claimable(m lease.At, keys []string, c Claim, now time.Time) error {
	switch {
	case m.Exists() && m.Run == c.Run:
		return nil
	case m.Live(c.Self, now):
		return m.Busy(now)
	case len(keys) == 0:
	case m.Exists() && m.State == lease.Writing:
		// A dead run's unfinished create or overwrite: nothing anyone
		// could have opened as complete; any mode starts it again.
	case c.Overwrite && !m.Exists() && !zarr.IsStore(keys):
		return fmt.Errorf("it holds %d objects (%s) and is not a Zarr store, nor what a zarrforge run left; "+
			"overwrite replaces only those: remove them yourself or choose another TargetConfig.URL", len(keys), sample(keys))
	case !c.Overwrite:
		return fmt.Errorf("a store already exists there (%d objects); set TargetConfig.Mode to overwrite to replace it", len(keys))
	}
	return nil
}

// sample names the first few of keys.
func sample(keys []string) string {
	const n = 3
	if len(keys) <= n {
		return strings.Join(keys, ", ")
	}
	return strings.Join(keys[:n], ", ") + ", ..."
}

// WriteArrays writes the metadata of every array of target t and the
// coordinates along its concat dimensions.
func WriteArrays(ctx context.Context, st *storage.Store, t *zarrplan.Target) error {
	s := &t.Schema
	for i := range s.Vars {
		v := &s.Vars[i]
		meta, err := t.ArrayMeta(v)
		if err != nil {
			return err
		}
		if err := zarr.WriteArrayMeta(ctx, st, v.Name, meta, zarrplan.ArrayAttrs(v)); err != nil {
			return err
		}
	}
	for k, a := range s.Concat {
		cv, ok := s.CoordVar(k)
		if !ok {
			continue
		}
		meta, err := t.ArrayMeta(cv)
		if err != nil {
			return err
		}
		if err := writeAxisCoord(ctx, st, cv.Name, meta, a); err != nil {
			return err
		}
	}
	return nil
}

// writeAxisCoord writes the coordinate of concat dimension a, array name,
// whole: its values, or its labels (strings, one chunk).
func writeAxisCoord(ctx context.Context, st *storage.Store, name string, meta zarr.ArrayMeta, a plan.Axis) error {
	if a.Labels == nil {
		return zarr.WriteVector(ctx, st, name, meta, a.Coord)
	}
	data, err := zarr.EncodeStrings(meta, a.Labels)
	if err != nil {
		return fmt.Errorf("coordinate %q: %w", name, err)
	}
	return st.Put(ctx, meta.Key(name, []int64{0}), data)
}

// CheckWritten checks that totals count every chunk of target t (of its
// group, in a store of nested groups).
func CheckWritten(t *zarrplan.Target, totals plan.Totals) error {
	if want := t.Schema.NumChunks(); totals.Chunks != want {
		where := "target " + t.URL
		if t.Group != "" {
			where += fmt.Sprintf(": group %q", t.Group)
		}
		return fmt.Errorf("FinalizeTarget: %s: %d of %d chunks were written; not finalizing", where, totals.Chunks, want)
	}
	return nil
}

// Finalize completes target t, to which the chunk stage wrote what totals
// sums: its group metadata (or, for an append, its grown arrays), its
// consolidated metadata, then the marker that says it is complete.
func Finalize(ctx context.Context, t zarrplan.Target, totals plan.Totals) (plan.Summary, error) {
	s := &t.Schema
	if err := CheckWritten(&t, totals); err != nil {
		return plan.Summary{}, err
	}
	st, err := storage.NewStore(ctx, t.URL)
	if err != nil {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: %w", err)
	}
	// The store must still be this run's, and stays so: a run that took it
	// meanwhile would make the conditional writes below fail.
	owned, err := lease.Ensure(ctx, st, t.Run, time.Now(), 0)
	if err != nil {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: target %s: not finalizing: %w", t.URL, err)
	}
	names := make([]string, len(s.Vars))
	for i, v := range s.Vars {
		names[i] = v.Name
	}
	if s.Base > 0 {
		err = extend.Finish(ctx, st, &t)
		if err == nil {
			err = zarr.Consolidate(ctx, st, t.Format, names)
		}
	} else {
		attrs := append(zarrplan.GroupAttrs(s), zarrplan.Provenance(s, zarrforge.Version, t.RecipeHash)...)
		err = zarr.WriteGroup(ctx, st, t.Format, attrs, names)
	}
	if err != nil {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: target %s: %w", t.URL, err)
	}
	if err := commit(ctx, st, t.URL, owned, totals.Chunks, t.Format, []string{""}); err != nil {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: target %s: %w", t.URL, err)
	}
	return plan.Summary{URL: t.URL, Arrays: len(s.Vars), Chunks: totals.Chunks, Bytes: totals.Bytes}, nil
}

// commit marks the store at url complete (lease.Commit): should the marker
// fail, the consolidated metadata of the store's groups (paths; "" the
// root), format Zarr, is withdrawn again.
func commit(ctx context.Context, st *storage.Store, url string, owned lease.At, chunks int64, format int, groups []string) error {
	return lease.Commit(ctx, st, owned, chunks, func() error {
		var errs []error
		for _, g := range groups {
			gs := st
			if g != "" {
				var err error
				if gs, err = storage.NewStore(ctx, plan.GroupURL(url, g)); err != nil {
					errs = append(errs, err)
					continue
				}
			}
			if err := zarr.Withdraw(ctx, gs, format); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	})
}

// FinalizeTree completes the store at url, which run owns, whose groups
// are the targets ts, written the groups'
// metadata, the root's consolidated metadata, then the marker says
// complete.
func FinalizeTree(ctx context.Context, url, run string, ts []zarrplan.Target, sum plan.Summary) error {
	st, err := storage.NewStore(ctx, url)
	if err != nil {
		return fmt.Errorf("FinalizeTarget: %w", err)
	}
	owned, err := lease.Ensure(ctx, st, run, time.Now(), 0)
	if err != nil {
		return fmt.Errorf("FinalizeTarget: target %s: not finalizing: %w", url, err)
	}
	slices.SortFunc(ts, func(a, b zarrplan.Target) int { return strings.Compare(a.Group, b.Group) })
	// The root holds the provenance: the recipe, and the inputs (every
	// group reads the same).
	prov := zarrplan.Provenance(&ts[0].Schema, zarrforge.Version, ts[0].RecipeHash)
	var groups []zarr.Group
	if ts[0].Group != "" { // the root holds no dataset
		groups = append(groups, zarr.Group{Attrs: prov})
	}
	for i := range ts {
		s := &ts[i].Schema
		g := zarr.Group{Path: ts[i].Group, Attrs: zarrplan.GroupAttrs(s)}
		if g.Path == "" {
			g.Attrs = append(g.Attrs, prov...)
		}
		for _, v := range s.Vars {
			g.Arrays = append(g.Arrays, v.Name)
		}
		groups = append(groups, g)
	}
	if err := zarr.WriteTree(ctx, st, ts[0].Format, groups); err != nil {
		return fmt.Errorf("FinalizeTarget: target %s: %w", url, err)
	}
	paths := []string{""} // the root, and every group below it
	for _, g := range groups {
		if g.Path != "" {
			paths = append(paths, g.Path)
		}
	}
	if err := commit(ctx, st, url, owned, sum.Chunks, ts[0].Format, paths); err != nil {
		return fmt.Errorf("FinalizeTarget: target %s: %w", url, err)
	}
	return nil
}
