package lease

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/storage/storagetest"
)

// deadProcess is a process of this machine that has ended: the identity of
// a run the tests kill.
func deadProcess(t *testing.T) Process {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	p := This()
	p.PID = cmd.Process.Pid
	return p
}

// TestLive: a run's unfinished store may be taken over only when the run
// is dead — not heard from for the lease or, where the marker names the
// run's one process, that process gone from this machine, boot and PID
// namespace. A process of another PID namespace, another boot, or with a
// reused PID is never taken for dead by its PID (issue 29, item 3): the
// lease decides.
func TestLive(t *testing.T) {
	now := time.Now()
	self := This()
	if !self.Unique() {
		t.Fatalf("this process is not named uniquely here (%+v): /proc is needed", self)
	}
	dead := deadProcess(t)
	mark := func(p Process, beat time.Time) Marker {
		return Marker{Run: "a", State: Writing, Host: p.Host, PID: p.PID, Boot: p.Boot, PIDNS: p.PIDNS, Start: p.Start, Beat: beat}
	}
	otherNS, otherBoot, reused := dead, dead, self
	otherNS.PIDNS = "pid:[1]"
	otherBoot.Boot = "another-boot"
	reused.Start++ // this process's PID, but another process
	old := now.Add(-Timeout - time.Second)
	for _, tc := range []struct {
		name string
		m    Marker
		live bool
	}{
		{"this process, alive", mark(self, now), true},
		{"a process of this machine, gone", mark(dead, now), false},
		{"this PID, reused by another process", mark(reused, now), false},
		{"alive but silent past the lease (stopped)", mark(self, old), false},
		{"another PID namespace, its PID not alive here", mark(otherNS, now), true},
		{"another boot, its PID not alive now", mark(otherBoot, now), true},
		{"no process named (a run of many workers)", Marker{Run: "a", State: Writing, Host: self.Host, Beat: now}, true},
		{"no process named, silent past the lease", Marker{Run: "a", State: Writing, Host: self.Host, Beat: old}, false},
		{"PID without the rest (an older marker)", Marker{Run: "a", State: Writing, Host: self.Host, PID: dead.PID, Beat: now}, true},
		{"another machine, heard from lately", Marker{Run: "a", State: Appending, Host: "worker-7", PID: 1, Beat: now.Add(-Timeout + time.Minute)}, true},
		{"another machine, silent past the lease", Marker{Run: "a", State: Appending, Host: "worker-7", PID: 1, Beat: old}, false},
		{"complete", Marker{Run: "a", State: Complete, Host: self.Host, PID: self.PID, Beat: now}, false},
	} {
		if got := tc.m.Live(self, now); got != tc.live {
			t.Errorf("%s: live = %v, want %v", tc.name, got, tc.live)
		}
	}
	// The marker names a process only where the run is that process.
	if got := Owner(self, self.Key()); got != self {
		t.Errorf("a run in the process that built it: marker names %+v", got)
	}
	if got := Owner(self, dead.Key()); got != (Process{Host: self.Host}) {
		t.Errorf("a worker of a run built elsewhere: marker names %+v, want only the machine", got)
	}
}

// TestClaimRaceGCS: runs claiming one Cloud Storage target at once, through
// the real client and generation preconditions: one wins, and the others,
// taking it over from the winner's marker, fail with ErrBusy.
func TestClaimRaceGCS(t *testing.T) {
	claimRace(t, storagetest.FakeGCS(t, "claims")+"/out.zarr")
}

// TestClaimRaceS3 is TestClaimRaceGCS on an S3-compatible server, through
// the AWS SDK and ETag preconditions (If-None-Match, If-Match).
func TestClaimRaceS3(t *testing.T) {
	bucket, _ := storagetest.S3(t, "claims")
	claimRace(t, bucket+"/out.zarr")
}

// claimRace has six runs claim the store at url at once, on an empty store
// and on a complete one: one wins, the others fail with ErrBusy.
func claimRace(t *testing.T, url string) {
	ctx := context.Background()
	st, err := storage.NewStore(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	for _, before := range []string{"", Complete} {
		old := At{}
		if before != "" {
			if old, err = Claim(ctx, st, At{}, "done", Writing, nil, This(), time.Now()); err != nil {
				t.Fatal(err)
			}
			done := old.Marker
			done.State = Complete
			if old, err = Replace(ctx, st, old, done); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = Claim(ctx, st, old, fmt.Sprintf("run%d", i), Appending, nil, This(), time.Now())
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else if !errors.Is(err, ErrBusy) {
				t.Fatal(err)
			}
		}
		if won != 1 {
			t.Errorf("from %q: %d runs took the store, want 1 (%v)", before, won, errs)
		}
		if err := st.Delete(ctx, Key); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRelease: what launched a run that failed releases its store: no
// longer live however fresh its beat, so another run takes it at once;
// the run's own writers (Ensure) and a retried claim of it are refused;
// another run's store, a complete one or none is left as it was.
func TestRelease(t *testing.T) {
	ctx := context.Background()
	st, err := storage.NewStore(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if released, err := Release(ctx, st, "a", now); released || err != nil {
		t.Fatalf("no marker: released %v, %v", released, err)
	}
	m, err := Claim(ctx, st, At{}, "a", Writing, nil, Process{Host: "worker-1"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if released, err := Release(ctx, st, "b", now); released || err != nil {
		t.Fatalf("another run's store: released %v, %v", released, err)
	}
	if !m.Live(This(), now) {
		t.Fatal("a run just heard from is not live")
	}
	if released, err := Release(ctx, st, "a", now); !released || err != nil {
		t.Fatalf("the run's own store: released %v, %v", released, err)
	}
	ended, err := Read(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if ended.Live(This(), now) || ended.Ended.IsZero() || ended.State != Writing {
		t.Errorf("released marker %+v: still live, or its state changed", ended.Marker)
	}
	if _, err := Ensure(ctx, st, "a", now, 0); !errors.Is(err, ErrBusy) {
		t.Errorf("a writer of the released run carries on: %v", err)
	}
	if _, err := Claim(ctx, st, ended, "a", Writing, nil, Process{Host: "worker-2"}, now); !errors.Is(err, ErrBusy) {
		t.Errorf("a retried claim of the released run takes the store again: %v", err)
	}
	next, err := Claim(ctx, st, ended, "b", Writing, nil, Process{Host: "worker-3"}, now)
	if err != nil || !next.Ended.IsZero() {
		t.Fatalf("the next run takes the store: %+v, %v", next.Marker, err)
	}
	if err := Commit(ctx, st, next, 1, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if released, err := Release(ctx, st, "b", now); released || err != nil {
		t.Errorf("a complete store: released %v, %v", released, err)
	}
}
