package transforms

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/zarrforge/zarrforge/internal/lease"
	"github.com/zarrforge/zarrforge/internal/par"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/targetstore"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/storage"
)

func init() {
	register.DoFn2x2[context.Context, []byte, string, error](&claimFn{})
	register.DoFn3x2[context.Context, plan.Schema, string, zarrplan.Target, error](&prepareGroupFn{})
	register.DoFn4x2[context.Context, zarrplan.Target, func(*plan.Totals) bool, func(plan.Summary), zarrplan.Target, error](&groupDoneFn{})
	register.Emitter1[plan.Summary]()
	register.DoFn4x2[context.Context, string, func(*zarrplan.Target) bool, func(*plan.Summary) bool, plan.Summary, error](&finalizeTreeFn{})
	register.Iter1[zarrplan.Target]()
	register.Iter1[plan.Summary]()
}

// WriteGroups writes several datasets into one store, each as a Zarr group
// at its path, as xarray.open_zarr(store, group=path) and open_datatree
// read them: the datasets of the groups of netCDF-4 inputs. schemas[i] (a
// singleton PCollection of Schema, from DetermineSchema) is written
// to group paths[i] ("" or "/" for the root, "sweep_1/extra"). cfg is as
// for PrepareTarget, for every group: each lays out its arrays with the
// chunk and shard sizes of the dimensions it has; chunks is as for
// StoreChunks.
//
// The store is claimed once, first (as PrepareTarget claims it); each
// group is prepared and its chunks written (StoreChunks); once every chunk
// of every group is written, the groups' metadata and, last, the root's
// consolidated metadata are written (zarr.WriteTree), so neither the store
// nor any group in it can be opened as complete before. It returns the
// singleton PCollection of Summary for the whole store.
//
// Appends are not supported (ModeAppend is refused). It panics, as the
// pipeline is built, when ValidateGroups fails.
func WriteGroups(s beam.Scope, cfg TargetConfig, chunks ChunksConfig, paths []string, schemas []beam.PCollection) beam.PCollection {
	mustValid("transforms.WriteGroups", cfg.ValidateGroups(paths))
	if len(schemas) != len(paths) {
		panic(fmt.Errorf("transforms.WriteGroups: %d schemas for %d groups", len(schemas), len(paths)))
	}
	s = s.Scope("transforms.WriteGroups")
	if cfg.RunID == "" {
		cfg.RunID = newRunID()
	}
	claimed := beam.ParDo(s.Scope("Claim"), &claimFn{Config: cfg, Builder: lease.This().Key()}, beam.Impulse(s))
	var targets, summaries []beam.PCollection
	for i, p := range paths {
		gs := s.Scope("Group " + scopeName(p))
		prepared := beam.ParDo(gs.Scope("PrepareTarget"), &prepareGroupFn{Config: cfg, Path: groupPath(p)}, schemas[i], beam.SideInput{Input: claimed})
		totals := beam.Combine(gs, &totalsFn{}, StoreChunks(gs, chunks, prepared))
		done, sum := beam.ParDo2(gs, &groupDoneFn{}, prepared, beam.SideInput{Input: totals})
		targets, summaries = append(targets, done), append(summaries, sum)
	}
	return beam.ParDo(s.Scope("FinalizeTarget"), &finalizeTreeFn{Config: cfg, Groups: len(paths)}, claimed,
		beam.SideInput{Input: beam.Flatten(s, targets...)}, beam.SideInput{Input: beam.Flatten(s, summaries...)})
}

// groupPath is a group's path as a Target holds it: "" for the root.
func groupPath(p string) string { return strings.Trim(p, "/") }

// ValidateGroups is Validate for WriteGroups with these group paths: each
// a path of Zarr names, none twice; and no append.
func (c TargetConfig) ValidateGroups(paths []string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Mode == ModeAppend {
		return fmt.Errorf("target %s: appending to a store of nested groups is not supported (mode %s or %s)", c.URL, ModeCreate, ModeOverwrite)
	}
	if len(paths) == 0 {
		return fmt.Errorf("target %s: no group to write", c.URL)
	}
	seen := map[string]bool{}
	for _, p := range paths {
		g := groupPath(p)
		if seen[g] {
			return fmt.Errorf("target %s: group %q is given twice", c.URL, p)
		}
		seen[g] = true
		if g == "" {
			continue
		}
		if err := targetstore.CheckGroupPath(g); err != nil {
			return fmt.Errorf("target %s: group %q: %w", c.URL, p, err)
		}
	}
	return nil
}

// claimFn claims the store for the run, as PrepareTarget does (clearing
// it in overwrite mode), and emits the run's ID.
type claimFn struct {
	Config  TargetConfig
	Builder string // the process that built the pipeline (see prepareFn)
}

func (f *claimFn) ProcessElement(ctx context.Context, _ []byte) (string, error) {
	err := par.Recovered("WriteGroups: target "+f.Config.URL, func() error {
		st, err := storage.NewStore(ctx, f.Config.URL)
		if err != nil {
			return fmt.Errorf("WriteGroups: %w", err)
		}
		p := &prepareFn{Config: f.Config, Builder: f.Builder, self: lease.This()}
		if err := targetstore.ClaimStore(ctx, st, p.claimOf()); err != nil {
			return fmt.Errorf("WriteGroups: target %s: %w", f.Config.URL, err)
		}
		return nil
	})
	return f.Config.RunID, err
}

// prepareGroupFn prepares one group of a claimed store (its run's ID is
// the side input, which orders it after the claim).
type prepareGroupFn struct {
	Config TargetConfig
	Path   string
}

func (f *prepareGroupFn) ProcessElement(ctx context.Context, schema plan.Schema, _ string) (zarrplan.Target, error) {
	var t zarrplan.Target
	err := par.Recovered("PrepareTarget: target "+f.Config.URL+" group "+f.Path, func() error {
		var err error
		p := &prepareFn{Config: f.Config}
		t, err = p.prepare(ctx, schema, &f.Path)
		return err
	})
	return t, err
}

// groupDoneFn checks that every chunk of a group was written, and passes
// its target on, with its summary.
type groupDoneFn struct{}

func (f *groupDoneFn) ProcessElement(ctx context.Context, t zarrplan.Target, results func(*plan.Totals) bool, emit func(plan.Summary)) (zarrplan.Target, error) {
	totals := sumTotals(results)
	if err := targetstore.CheckWritten(&t, totals); err != nil {
		return zarrplan.Target{}, err
	}
	emit(plan.Summary{URL: t.GroupURL(), Arrays: len(t.Schema.Vars), Chunks: totals.Chunks, Bytes: totals.Bytes})
	return t, nil
}

// finalizeTreeFn completes the store once every group is written.
type finalizeTreeFn struct {
	Config TargetConfig
	Groups int
}

func (f *finalizeTreeFn) ProcessElement(ctx context.Context, run string, targets func(*zarrplan.Target) bool, summaries func(*plan.Summary) bool) (plan.Summary, error) {
	var ts []zarrplan.Target
	var t zarrplan.Target
	for targets(&t) {
		ts = append(ts, t)
	}
	sum := plan.Summary{URL: f.Config.URL}
	var one plan.Summary
	for summaries(&one) {
		sum.Arrays, sum.Chunks, sum.Bytes = sum.Arrays+one.Arrays, sum.Chunks+one.Chunks, sum.Bytes+one.Bytes
	}
	if len(ts) != f.Groups {
		return plan.Summary{}, fmt.Errorf("FinalizeTarget: target %s: %d of %d groups were written; not finalizing", f.Config.URL, len(ts), f.Groups)
	}
	err := par.Recovered("FinalizeTarget: target "+f.Config.URL, func() error {
		return targetstore.FinalizeTree(ctx, f.Config.URL, run, ts, sum)
	})
	if err == nil {
		log.Infof(ctx, "FinalizeTarget: %s complete: %d groups, %d arrays, %d chunks, %d bytes", f.Config.URL, len(ts), sum.Arrays, sum.Chunks, sum.Bytes)
	}
	return sum, err
}

// scopeName names group p's stages: its path with dots for slashes (a
// slash separates steps in a runner's step names).
func scopeName(p string) string {
	if p = groupPath(p); p == "" {
		return "(root)"
	}
	return strings.ReplaceAll(p, "/", ".")
}
