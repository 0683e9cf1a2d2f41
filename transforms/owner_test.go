package transforms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/internal/lease"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/targetstore"
	"github.com/zarrforge/zarrforge/internal/write"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
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

	for _, modes := range [][2]Mode{
		{ModeCreate, ModeCreate}, {ModeCreate, ModeOverwrite}, {ModeOverwrite, ModeOverwrite},
		{ModeAppend, ModeAppend}, {ModeAppend, ModeOverwrite},
	} {
		t.Run(string(modes[0])+"+"+string(modes[1]), func(t *testing.T) {
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
				if _, err := targetstore.Finalize(ctx, target, writeChunks(t, newStoreFn(t), target, keysOf(target), 1)); err != nil {
					t.Fatal(err)
				}
				sameSnapshot(t, snapshotData(t, url), want)
			}
		})
	}
}

// namesFor is the inputs a run in mode writes: days 3-5 when it appends to
// days 0-2, else days 0-5.
func namesFor(mode Mode, appending bool) []string {
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
// is dead (lease.TestLive says when), and a run whose store was taken
// stops: its chunk writes and its finalize fail with ErrTargetBusy.
func TestTakeOver(t *testing.T) {
	ctx := context.Background()
	now := time.Now()

	// A live run's store refused to overwrite; once silent past the lease,
	// taken, and the first run is then stopped.
	url := filepath.Join(t.TempDir(), "out.zarr")
	first := &prepareFn{Config: TargetConfig{URL: url, Chunks: map[string]int64{"time": 1}, Compressor: "zstd", RunID: "first"},
		self: lease.Process{Host: "worker-7", PID: 1}}
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
	m, err := lease.Read(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	stale := m.Marker
	stale.Beat = now.Add(-lease.Timeout - time.Minute)
	b, _ := json.Marshal(stale)
	if err := st.Put(ctx, lease.Key, b); err != nil {
		t.Fatal(err)
	}
	if _, err := second.ProcessElement(ctx, schemaOf(t, "daily_00.nc", "daily_01.nc")); err != nil {
		t.Fatalf("overwriting a run silent past its lease: %v", err)
	}
	if _, _, err := writeChunk(ctx, newStoreFn(t), &target, keysOf(target)[0]); !errors.Is(err, ErrTargetBusy) {
		t.Errorf("a chunk of the run taken for dead: %v, want ErrTargetBusy", err)
	}
	if _, err := targetstore.Finalize(ctx, target, allWritten(target)); !errors.Is(err, ErrTargetBusy) {
		t.Errorf("finalizing the run taken for dead: %v, want ErrTargetBusy", err)
	}
	if ok, _ := st.Exists(ctx, ".zmetadata"); ok {
		t.Error("the run taken for dead consolidated the store")
	}
}

// allWritten is the totals of a run that wrote every chunk of target.
func allWritten(target zarrplan.Target) plan.Totals {
	return plan.Totals{Chunks: target.Schema.NumChunks()}
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
	for _, mode := range []Mode{ModeCreate, ModeAppend} {
		cfg := TargetConfig{URL: bucket + "/a.zarr", Chunks: chunks, Compressor: "zstd", Mode: ModeOverwrite, RunID: "a-" + string(mode)}
		from := 0
		if mode == ModeAppend {
			stages(t, cfg, 0, 3, -1, true)
			cfg.Mode, cfg.RunID, from = ModeAppend, "b", 3
		}
		target, err := inProcess(cfg, deadProcess(t)).ProcessElement(ctx, schemaOf(t, dailyNames(from, 6)...))
		if err != nil {
			t.Fatal(err)
		}
		totals := writeChunks(t, newStoreFn(t), target, keysOf(target), 1)
		failNth.Store(1) // lease.Ensure's beat passes, the commit fails
		_, err = targetstore.Finalize(ctx, target, totals)
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
	sameSnapshot(t, storeData(t, bucket+"/a.zarr"), storeData(t, bucket+"/ref.zarr"))
}

// dailyNames names the daily fixtures from..to-1.
func dailyNames(from, to int) []string {
	var names []string
	for i := from; i < to; i++ {
		names = append(names, fmt.Sprintf("daily_%02d.nc", i))
	}
	return names
}

// TestClaimInNamespaceHelper is not a test: run by TestOtherPIDNamespace
// inside a new PID namespace, it claims the store named by
// ZARRFORGE_CLAIM_URL as a run of one process, says so on stdout, and
// waits for its stdin to close.
func TestClaimInNamespaceHelper(t *testing.T) {
	url := os.Getenv("ZARRFORGE_CLAIM_URL")
	if url == "" {
		t.Skip("run by TestOtherPIDNamespace")
	}
	cfg := TargetConfig{URL: url, Chunks: map[string]int64{"time": 1}, Compressor: "zstd", RunID: "in-namespace"}
	self := lease.This()
	if _, err := inProcess(cfg, self).ProcessElement(context.Background(), schemaOf(t, "daily_00.nc")); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("claimed as %+v\n", self)
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// TestOtherPIDNamespace (issue 29, item 3): a live run in another PID
// namespace of this machine (another container with the host's network and
// name), whose PID here is another process's or none, keeps its store: a
// run here is refused it, the lease deciding. Needs unshare(1) and root.
func TestOtherPIDNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("PID NAMESPACE TEST SKIPPED: unshare --pid needs root")
	}
	if err := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "true").Run(); err != nil {
		t.Skipf("PID NAMESPACE TEST SKIPPED: unshare --pid --fork --mount-proc fails here: %v", err)
	}
	url := filepath.Join(t.TempDir(), "out.zarr")
	// Processes started first push the helper's PID in its namespace up
	// to one that names no process, or another, here.
	script := `for i in $(seq 200); do /bin/true; done; "$0" -test.run '^TestClaimInNamespaceHelper$' -test.v`
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", script, os.Args[0])
	cmd.Env = append(os.Environ(), "ZARRFORGE_CLAIM_URL="+url)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "claimed as") {
		if time.Now().After(deadline) || strings.Contains(out.String(), "FAIL") {
			t.Fatalf("the helper did not claim the store:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	st, err := storage.NewStore(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	m, err := lease.Read(context.Background(), st)
	if err != nil || m.Run != "in-namespace" {
		t.Fatalf("marker %+v, %v", m, err)
	}
	t.Logf("the helper's marker: process %d, %s, %s", m.PID, m.PIDNS, m.Host)
	cfg := TargetConfig{URL: url, Chunks: map[string]int64{"time": 1}, Compressor: "zstd", Mode: ModeOverwrite, RunID: "here"}
	if _, err := inProcess(cfg, lease.This()).ProcessElement(context.Background(), schemaOf(t, "daily_00.nc")); !errors.Is(err, ErrTargetBusy) {
		t.Fatalf("a live run of another PID namespace was taken over: %v", err)
	}
}

// TestWriterStopsWhenTaken (issue 29, item 3): a writer whose store another
// run has taken stops at its next chunk — before each chunk it confirms the
// store is still its run's (at most every lease.CheckEvery; here every time) —
// on Cloud Storage and S3 as locally.
func TestWriterStopsWhenTaken(t *testing.T) {
	ctx := context.Background()
	s3, _ := storagetest.S3(t, "taken")
	for _, url := range []string{filepath.Join(t.TempDir(), "out.zarr"), storagetest.FakeGCS(t, "taken") + "/out.zarr", s3 + "/out.zarr"} {
		cfg := TargetConfig{URL: url, Chunks: map[string]int64{"time": 1, "lat": 2}, Compressor: "zstd", RunID: "first"}
		target, err := inProcess(cfg, lease.This()).ProcessElement(ctx, schemaOf(t, "daily_00.nc", "daily_01.nc"))
		if err != nil {
			t.Fatal(err)
		}
		w := newStoreFn(t, write.Options{ConfirmEvery: time.Nanosecond})
		keys := keysOf(target)
		if _, _, err := writeChunk(ctx, w, &target, keys[0]); err != nil {
			t.Fatal(err)
		}
		st, err := storage.NewStore(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(lease.Marker{Run: "second", State: lease.Writing, Host: "elsewhere", Beat: time.Now()})
		if err := st.Put(ctx, lease.Key, b); err != nil {
			t.Fatal(err)
		}
		before, _ := st.List(ctx, "")
		if _, _, err := writeChunk(ctx, w, &target, keys[1]); !errors.Is(err, ErrTargetBusy) {
			t.Errorf("%s: a chunk after the store was taken: %v, want ErrTargetBusy", url, err)
		}
		g := plan.ReadGroup{Var: "sst"}
		target.Schema.ReadGroups(1<<30, 1, func(rg plan.ReadGroup) {
			if rg.Var == "sst" && rg.NumChunks() > 1 {
				g = rg
			}
		})
		if g.NumChunks() < 2 {
			t.Fatalf("no read group of several chunks to write")
		}
		if _, _, err := w.Group(ctx, &target, g); !errors.Is(err, ErrTargetBusy) {
			t.Errorf("%s: a read group after the store was taken: %v, want ErrTargetBusy", url, err)
		}
		if after, _ := st.List(ctx, ""); len(after) != len(before) {
			t.Errorf("%s: %d objects written after the store was taken", url, len(after)-len(before))
		}
	}
}

// storeData is snapshotData of a store at any URL: its objects but the
// marker, with the inputs' digests made alike. (The external tests'
// storeFiles is the same for their package.)
func storeData(t *testing.T, url string) map[string]string {
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
		b, err := st.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		out["/"+k] = string(beamtest.SameInputs(b))
	}
	delete(out, "/"+lease.Key)
	return out
}
