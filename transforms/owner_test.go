package transforms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/plan"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/storage/storagetest"
)

// TestOneWriter: two live runs that start together on one target, in any
// pairing of modes and at varied offsets: exactly one takes the store, the
// other fails with ErrTargetBusy before it writes anything, and the
// winner's store is the one an undisturbed run writes.
func TestOneWriter(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	chunks := map[string]int64{"time": 2, "lat": 4}
	stages(t, TargetConfig{URL: filepath.Join(dir, "ref.zarr"), Chunks: chunks, Compressor: "zstd", RunID: "ref"}, 0, 6, -1, true)
	want := snapshotData(t, filepath.Join(dir, "ref.zarr"))

	for _, modes := range [][2]string{
		{ModeCreate, ModeCreate}, {ModeCreate, ModeOverwrite}, {ModeOverwrite, ModeOverwrite},
		{ModeAppend, ModeAppend}, {ModeAppend, ModeOverwrite},
	} {
		t.Run(modes[0]+"+"+modes[1], func(t *testing.T) {
			for trial := range 12 {
				url := filepath.Join(dir, fmt.Sprintf("%s-%s-%d.zarr", modes[0], modes[1], trial))
				appending := modes[0] == ModeAppend
				if appending { // days 0-2 stored; both runs append days 3-5
					stages(t, TargetConfig{URL: url, Chunks: chunks, Compressor: "zstd", RunID: "base"}, 0, 3, -1, true)
				}
				var wg sync.WaitGroup
				errs := make([]error, 2)
				preps := make([]*prepareFn, 2)
				for i := range 2 {
					preps[i] = &prepareFn{Config: TargetConfig{URL: url, Chunks: chunks, Compressor: "zstd", Mode: modes[i], RunID: fmt.Sprintf("run%d", i)}}
					wg.Add(1)
					go func() {
						defer wg.Done()
						time.Sleep(time.Duration(trial*(i+1)%5) * time.Millisecond)
						_, errs[i] = preps[i].ProcessElement(ctx, schemaOf(t, namesFor(modes[i], appending)...))
					}()
				}
				wg.Wait()
				won := -1
				for i, err := range errs {
					switch {
					case err == nil && won >= 0:
						t.Fatalf("trial %d: both runs took the store", trial)
					case err == nil:
						won = i
					case !errors.Is(err, ErrTargetBusy):
						t.Fatalf("trial %d: run %d failed with %v, want ErrTargetBusy", trial, i, err)
					}
				}
				if won < 0 {
					t.Fatalf("trial %d: neither run took the store: %v", trial, errs)
				}
				// The winner writes and finalizes; its store is the reference
				// (an overwrite that won an append writes days 0-5 whole).
				w := preps[won]
				target, err := w.ProcessElement(ctx, schemaOf(t, namesFor(w.Config.Mode, appending)...))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := finalize(ctx, target, writeChunks(t, newStoreFn(t), target, keysOf(target), 1)); err != nil {
					t.Fatal(err)
				}
				sameSnapshot(t, snapshotData(t, url), want)
			}
		})
	}
}

// namesFor is the inputs a run in mode writes: days 3-5 when it appends to
// days 0-2, else days 0-5.
func namesFor(mode string, appending bool) []string {
	if mode == ModeAppend && appending {
		return []string{"daily_03.nc", "daily_04.nc", "daily_05.nc"}
	}
	var names []string
	for i := range 6 {
		names = append(names, fmt.Sprintf("daily_%02d.nc", i))
	}
	return names
}

// TestTakeOver: a run's unfinished store is taken over only when the run
// is dead — its process gone, on this machine, or not heard from for the
// lease, on another — and a run whose store was taken stops: its chunk
// writes and its finalize fail with ErrTargetBusy.
func TestTakeOver(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	self := thisProcess()
	for _, tc := range []struct {
		name string
		m    marker
		live bool
	}{
		{"this machine, process alive", marker{Run: "a", State: stateWriting, Host: self.Host, PID: self.PID, Beat: now}, true},
		{"this machine, process gone", marker{Run: "a", State: stateWriting, Host: self.Host, PID: deadProcess(t).PID, Beat: now}, false},
		{"this machine, alive but silent past the lease", marker{Run: "a", State: stateWriting, Host: self.Host, PID: self.PID, Beat: now.Add(-leaseTimeout - time.Second)}, false},
		{"another machine, heard from lately", marker{Run: "a", State: stateAppending, Host: "worker-7", PID: 1, Beat: now.Add(-leaseTimeout + time.Minute)}, true},
		{"another machine, silent past the lease", marker{Run: "a", State: stateAppending, Host: "worker-7", PID: 1, Beat: now.Add(-leaseTimeout - time.Second)}, false},
		{"complete", marker{Run: "a", State: stateComplete, Host: self.Host, PID: self.PID, Beat: now}, false},
	} {
		if got := tc.m.live(self, now); got != tc.live {
			t.Errorf("%s: live = %v, want %v", tc.name, got, tc.live)
		}
	}

	// A live run's store refused to overwrite; once silent past the lease,
	// taken, and the first run is then stopped.
	url := filepath.Join(t.TempDir(), "out.zarr")
	first := &prepareFn{Config: TargetConfig{URL: url, Chunks: map[string]int64{"time": 1}, Compressor: "zstd", RunID: "first"},
		self: process{Host: "worker-7", PID: 1}}
	target, err := first.ProcessElement(ctx, schemaOf(t, "daily_00.nc", "daily_01.nc"))
	if err != nil {
		t.Fatal(err)
	}
	second := &prepareFn{Config: TargetConfig{URL: url, Chunks: map[string]int64{"time": 1}, Compressor: "zstd", Mode: ModeOverwrite, RunID: "second"}}
	if _, err := second.ProcessElement(ctx, schemaOf(t, "daily_00.nc", "daily_01.nc")); !errors.Is(err, ErrTargetBusy) {
		t.Fatalf("overwriting a live run's store: %v, want ErrTargetBusy", err)
	}
	st, err := storage.NewStore(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	m, err := readMarker(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	stale := m.marker
	stale.Beat = now.Add(-leaseTimeout - time.Minute)
	b, _ := json.Marshal(stale)
	if err := st.Put(ctx, markerKey, b); err != nil {
		t.Fatal(err)
	}
	if _, err := second.ProcessElement(ctx, schemaOf(t, "daily_00.nc", "daily_01.nc")); err != nil {
		t.Fatalf("overwriting a run silent past its lease: %v", err)
	}
	if _, _, err := newStoreFn(t).writeChunk(ctx, &target, keysOf(target)[0]); !errors.Is(err, ErrTargetBusy) {
		t.Errorf("a chunk of the run taken for dead: %v, want ErrTargetBusy", err)
	}
	if _, err := finalize(ctx, target, allWritten(target)); !errors.Is(err, ErrTargetBusy) {
		t.Errorf("finalizing the run taken for dead: %v, want ErrTargetBusy", err)
	}
	if ok, _ := st.Exists(ctx, ".zmetadata"); ok {
		t.Error("the run taken for dead consolidated the store")
	}
}

// allWritten is the totals of a run that wrote every chunk of target.
func allWritten(target plan.Target) plan.Totals {
	return plan.Totals{Chunks: target.Schema.NumChunks()}
}

// TestClaimRaceGCS: runs claiming one Cloud Storage target at once, through
// the real client and generation preconditions: one wins, and the others,
// taking it over from the winner's marker, fail with ErrTargetBusy.
func TestClaimRaceGCS(t *testing.T) {
	ctx := context.Background()
	st, err := storage.NewStore(ctx, storagetest.FakeGCS(t, "claims")+"/out.zarr")
	if err != nil {
		t.Fatal(err)
	}
	for _, before := range []string{"", stateComplete} {
		old := markerAt{}
		if before != "" {
			if old, err = claim(ctx, st, markerAt{}, "done", stateWriting, nil, thisProcess(), time.Now()); err != nil {
				t.Fatal(err)
			}
			done := old.marker
			done.State = stateComplete
			if old, err = replace(ctx, st, old, done); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = claim(ctx, st, old, fmt.Sprintf("run%d", i), stateAppending, nil, thisProcess(), time.Now())
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else if !errors.Is(err, ErrTargetBusy) {
				t.Fatal(err)
			}
		}
		if won != 1 {
			t.Errorf("from %q: %d runs took the store, want 1 (%v)", before, won, errs)
		}
		if err := st.Delete(ctx, markerKey); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMarkerWriteFails: when the final marker write fails (a storage
// error, a full disk) after the consolidated metadata was written, the
// store must not look complete while its marker says otherwise (issue 29,
// items 1 and 18): the consolidated metadata is withdrawn and the run
// fails; another append is refused, and the same append run again
// finishes the store as one uninterrupted run writes it.
func TestMarkerWriteFails(t *testing.T) {
	ctx := context.Background()
	var failNth atomic.Int64 // conditional uploads to let through before one fails; < 0: none fails
	failNth.Store(-1)
	bucket := storagetest.FakeGCSBehind(t, "failing", func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || !strings.Contains(r.URL.RawQuery, "ifGenerationMatch") || failNth.Load() < 0 {
			return false
		}
		if failNth.Add(-1) >= 0 {
			return false
		}
		failNth.Store(-1)
		http.Error(w, "staged failure", http.StatusForbidden)
		return true
	})
	chunks := map[string]int64{"time": 2, "lat": 4}
	ref := TargetConfig{URL: bucket + "/ref.zarr", Chunks: chunks, Compressor: "zstd", RunID: "r"}
	stages(t, ref, 0, 6, -1, true)
	st, err := storage.NewStore(ctx, bucket+"/a.zarr")
	if err != nil {
		t.Fatal(err)
	}
	consolidated := func() bool {
		ok, err := st.Exists(ctx, ".zmetadata")
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, mode := range []string{ModeCreate, ModeAppend} {
		cfg := TargetConfig{URL: bucket + "/a.zarr", Chunks: chunks, Compressor: "zstd", Mode: ModeOverwrite, RunID: "a-" + mode}
		from := 0
		if mode == ModeAppend {
			stages(t, cfg, 0, 3, -1, true)
			cfg.Mode, cfg.RunID, from = ModeAppend, "b", 3
		}
		target, err := (&prepareFn{Config: cfg, self: deadProcess(t)}).ProcessElement(ctx, schemaOf(t, dailyNames(from, 6)...))
		if err != nil {
			t.Fatal(err)
		}
		totals := writeChunks(t, newStoreFn(t), target, keysOf(target), 1)
		failNth.Store(1) // ensureOwner's beat passes, the commit fails
		_, err = finalize(ctx, target, totals)
		if err == nil || !strings.Contains(err.Error(), "consolidated metadata was withdrawn") {
			t.Fatalf("%s: finalize with a failing marker write: %v", mode, err)
		}
		if consolidated() {
			t.Fatalf("%s: the store looks complete while its marker is not", mode)
		}
	}
	// Another append of other days is refused; the same append finishes it.
	other := TargetConfig{URL: bucket + "/a.zarr", Chunks: chunks, Compressor: "zstd", Mode: ModeAppend, RunID: "c"}
	if _, err := (&prepareFn{Config: other}).ProcessElement(ctx, schemaOf(t, "daily_06.nc")); err == nil ||
		!strings.Contains(err.Error(), "beyond them the store now holds 2000-01-04 to 2000-01-06, 3 steps") {
		t.Fatalf("another append after a failed commit: %v", err)
	}
	stages(t, other, 3, 6, -1, true)
	if !consolidated() {
		t.Fatal("the retried append did not complete the store")
	}
	sameSnapshot(t, gcsData(t, bucket+"/a.zarr"), gcsData(t, bucket+"/ref.zarr"))
}

// dailyNames names the daily fixtures from..to-1.
func dailyNames(from, to int) []string {
	var names []string
	for i := from; i < to; i++ {
		names = append(names, fmt.Sprintf("daily_%02d.nc", i))
	}
	return names
}

// gcsData is the objects of the store at url but its marker, with the
// inputs' digests made alike (as snapshotData).
func gcsData(t *testing.T, url string) map[string]string {
	t.Helper()
	ctx := context.Background()
	st, err := storage.NewStore(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		if k == markerKey {
			continue
		}
		b, err := st.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		out["/"+k] = string(beamtest.SameInputs(b))
	}
	return out
}
