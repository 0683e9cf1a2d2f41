package transforms

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/internal/lease"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/targetstore"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
)

// totalsOf is a side input of one Totals.
func totalsOf(t plan.Totals) func(*plan.Totals) bool {
	done := false
	return func(out *plan.Totals) bool {
		if done {
			return false
		}
		*out, done = t, true
		return true
	}
}

// TestGroupStagesIdempotent runs the stages of a store of nested groups —
// claim, each group's prepare, chunk writes and check, the tree's
// finalize — twice over the same elements, as retried bundles would: the
// store is the same. A group without chunks all written, another run's
// claim in create mode, and a finalize by a run that does not own the
// store are refused.
func TestGroupStagesIdempotent(t *testing.T) {
	ctx := context.Background()
	schema := schemaOf(t, "daily_00.nc", "daily_01.nc")
	url := filepath.Join(t.TempDir(), "out.zarr")
	// depth is no group's dimension: each takes the sizes of its own.
	cfg := TargetConfig{URL: url, Chunks: map[string]int64{"time": 1, "depth": 3}, Mode: ModeCreate, RunID: "run-1"}
	store := newStoreFn(t)
	groups := []string{"", "a/b"}
	var last []zarrplan.Target
	run := func() map[string]string {
		run, err := (&claimFn{Config: cfg}).ProcessElement(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var sum plan.Summary
		last = nil
		for _, g := range groups {
			target, err := (&prepareGroupFn{Config: cfg, Path: g}).ProcessElement(ctx, schema, run)
			if err != nil {
				t.Fatal(err)
			}
			totals := writeChunks(t, store, target, keysOf(target), 1)
			done, err := (&groupDoneFn{}).ProcessElement(ctx, target, totalsOf(totals), func(s plan.Summary) { sum.Chunks += s.Chunks })
			if err != nil {
				t.Fatal(err)
			}
			last = append(last, done)
		}
		if err := targetstore.FinalizeTree(ctx, url, run, last, sum); err != nil {
			t.Fatal(err)
		}
		return snapshot(t, url)
	}
	first, second := run(), run()
	if m := markerOf(t, second); m.State != lease.Complete || m.Run != "run-1" {
		t.Errorf("marker %+v", m)
	}
	delete(first, "/"+lease.Key)
	delete(second, "/"+lease.Key)
	if len(first) != len(second) {
		t.Fatalf("stores differ in size: %d vs %d objects", len(first), len(second))
	}
	for k, v := range first {
		if second[k] != v {
			t.Errorf("object %s changed on the second run", k)
		}
	}
	for _, key := range []string{"/.zmetadata", "/sst/.zarray", "/a/.zgroup", "/a/b/.zmetadata", "/a/b/sst/.zarray", "/a/b/sst/0.0.0"} {
		if _, ok := first[key]; !ok {
			t.Errorf("no %s", key)
		}
	}
	if _, err := (&groupDoneFn{}).ProcessElement(ctx, last[1], totalsOf(plan.Totals{Chunks: 1}), func(plan.Summary) {}); err == nil ||
		!strings.Contains(err.Error(), `group "a/b": 1 of`) {
		t.Errorf("a group with missing chunks: %v", err)
	}
	other := cfg
	other.RunID = "run-2"
	if _, err := (&claimFn{Config: other}).ProcessElement(ctx, nil); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second run in create mode: %v", err)
	}
	if err := targetstore.FinalizeTree(ctx, url, "run-3", last, plan.Summary{}); !errors.Is(err, ErrTargetBusy) {
		t.Errorf("finalizing another run's store: %v", err)
	}
}

// TestWriteGroupsRefused: configurations WriteGroups cannot write are
// refused as the pipeline is built.
func TestWriteGroupsRefused(t *testing.T) {
	url := filepath.Join(t.TempDir(), "out.zarr")
	for _, tc := range []struct {
		mode  Mode
		paths []string
		want  string
	}{
		{ModeAppend, []string{"a"}, "appending to a store of nested groups"},
		{"", nil, "no group to write"},
		{"", []string{"/a", "a/"}, `group "a/" is given twice`},
		{"", []string{"a/.."}, `group "a/.."`},
	} {
		err := TargetConfig{URL: url, Mode: tc.mode}.ValidateGroups(tc.paths)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %q: %v, want %q", tc.mode, tc.paths, err, tc.want)
		}
	}
	if _, err := os.Stat(url); !os.IsNotExist(err) {
		t.Errorf("validating wrote the target: %v", err)
	}
}
