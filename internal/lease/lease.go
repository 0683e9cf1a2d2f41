// Package lease is how a store has one writer at a time: the run its
// marker object names. The marker is taken and changed only by conditional
// writes (storage.PutIf: a generation precondition on Cloud Storage, a
// compare under an exclusive lock locally), so of two runs that read the
// same marker one wins and the other fails with ErrBusy. A run takes over
// another run's unfinished store only when that run is dead: nothing was
// heard from it for Timeout (writers renew the marker's beat every
// BeatEvery); or, sooner, when the run ran in one process (the one that
// built its pipeline: the direct runner, Prism with loopback workers) and
// that process — named by its machine, boot, PID namespace, PID and start
// time, which no other process shares — is gone. Writers confirm the store
// is still their run's at most every CheckEvery and stop at the first sign
// it is not; a run marks its store complete with a conditional write,
// after its consolidated metadata (Commit). A run whose job failed is
// released by the process that launched it (Release), which is the one
// that knows: its store may be taken at once, and its writers, which may
// still be running elsewhere, stop at their next check. The package knows
// nothing of Beam or of Zarr.
package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/zarrforge/zarrforge/storage"
)

// Key is the object recording which run owns a store and whether it
// finished. zarr-python and xarray ignore it.
const Key = ".zarrforge.json"

const (
	// Timeout is how long a run not heard from keeps its store from
	// other runs.
	Timeout = 5 * time.Minute
	// BeatEvery is how often a writing run renews its marker's beat.
	BeatEvery = 30 * time.Second
	// CheckEvery is how often a writer confirms, before a chunk, that the
	// store is still its run's.
	CheckEvery = 5 * time.Second
)

// ErrBusy is wrapped by the errors of a run refused a store because
// another run, live, is writing it, or took it first.
var ErrBusy = errors.New("the target is busy")

// Marker states.
const (
	Writing   = "writing"
	Appending = "appending"
	Complete  = "complete"
)

// Marker is what the marker object holds.
type Marker struct {
	Run    string `json:"run"`
	State  string `json:"state"` // Writing, Appending or Complete
	Chunks int64  `json:"chunks,omitempty"`
	// Base is, while appending, what the store held before: a run that dies
	// mid-append leaves enough behind for the next to start from it.
	Base *Base `json:"base,omitempty"`
	// Host is the machine that claimed the store; PID, Boot, PIDNS and
	// Start name the process, where the run is that one process (see
	// Owner). Beat is when the run was last heard from.
	Host  string    `json:"host,omitempty"`
	PID   int       `json:"pid,omitempty"`
	Boot  string    `json:"boot,omitempty"`
	PIDNS string    `json:"pid_ns,omitempty"`
	Start uint64    `json:"start,omitempty"`
	Beat  time.Time `json:"beat,omitzero"`
	// Ended is when the run was released (see Release): it has ended,
	// unfinished, and none of its writers may write any more.
	Ended time.Time `json:"ended,omitzero"`
}

// Base is what a store held before an append: its steps along the append
// dimension and their coordinate, raw.
type Base struct {
	Len   int64  `json:"len"`
	Coord []byte `json:"coord,omitempty"`
}

// Process names a process: the machine it runs on and its PID there and,
// where the system tells them (This), the machine's boot, the PID
// namespace and when the process started, which together no other process
// shares, in another container or after a reboot or a PID's reuse.
type Process struct {
	Host  string
	PID   int
	Boot  string
	PIDNS string
	Start uint64
}

// Unique reports whether p names one process and no other.
func (p Process) Unique() bool {
	return p.Host != "" && p.PID > 0 && p.Boot != "" && p.PIDNS != "" && p.Start > 0
}

// Key is p as one string ("" unless unique): how a pipeline records the
// process that built it.
func (p Process) Key() string {
	if !p.Unique() {
		return ""
	}
	return fmt.Sprintf("%s|%s|%s|%d|%d", p.Host, p.Boot, p.PIDNS, p.PID, p.Start)
}

// Owner is who a run's marker names, as seen by process self: self where
// the run is self's process alone (self is builder, the Key of the process
// that built the pipeline, so no worker runs elsewhere), else only self's
// machine, which makes the lease alone judge the run.
func Owner(self Process, builder string) Process {
	if k := self.Key(); k != "" && k == builder {
		return self
	}
	return Process{Host: self.Host}
}

// process is the process the marker names.
func (m Marker) process() Process {
	return Process{Host: m.Host, PID: m.PID, Boot: m.Boot, PIDNS: m.PIDNS, Start: m.Start}
}

// At is the marker of a store and the version of it read.
type At struct {
	Marker
	Version string // "" when the store has no marker
}

// Exists reports whether the store had a marker.
func (m At) Exists() bool { return m.Version != "" }

// Read reads the store's marker and its version.
func Read(ctx context.Context, st *storage.Store) (At, error) {
	b, v, err := st.GetVersion(ctx, Key)
	if errors.Is(err, fs.ErrNotExist) {
		return At{}, nil
	}
	if err != nil {
		return At{}, err
	}
	var m Marker
	if err := json.Unmarshal(b, &m); err != nil {
		return At{}, fmt.Errorf("%s: %w", Key, err)
	}
	return At{Marker: m, Version: v}, nil
}

// Replace writes m in place of the marker read as old, only if no one
// changed it since; a run that got there first gives ErrBusy.
func Replace(ctx context.Context, st *storage.Store, old At, m Marker) (At, error) {
	b, _ := json.Marshal(m)
	v, err := st.PutIf(ctx, Key, b, old.Version)
	if errors.Is(err, storage.ErrConflict) {
		now, rerr := Read(ctx, st)
		who := "another run"
		if rerr == nil && now.Exists() {
			who = "run " + now.Run
		}
		return At{}, fmt.Errorf("%w: %s took the store while this run (%s) was taking it", ErrBusy, who, m.Run)
	}
	if err != nil {
		return At{}, err
	}
	return At{Marker: m, Version: v}, nil
}

// Claim makes the store run's, in state, in place of the marker read as
// old; who is the run's process (see Owner).
func Claim(ctx context.Context, st *storage.Store, old At, run, state string, base *Base, who Process, now time.Time) (At, error) {
	if old.Run == run && !old.Ended.IsZero() {
		return At{}, fmt.Errorf("%w: run %s was ended at %s (released by what launched it): a worker of it cannot take the store again",
			ErrBusy, run, old.Ended.Format(time.RFC3339))
	}
	return Replace(ctx, st, old, Marker{Run: run, State: state, Base: base, Host: who.Host, PID: who.PID, Boot: who.Boot,
		PIDNS: who.PIDNS, Start: who.Start, Beat: now.UTC()})
}

// Live reports whether the marker's run may still be writing the store, as
// seen by process self at time now: heard from within the lease, unless
// the marker names the run's one process, which self can see is gone.
func (m Marker) Live(self Process, now time.Time) bool {
	if m.Run == "" || m.State == Complete || !m.Ended.IsZero() {
		return false
	}
	p := m.process()
	if p.Unique() && self.Unique() && p.Host == self.Host && p.Boot == self.Boot && p.PIDNS == self.PIDNS && !running(p) {
		return false
	}
	return now.Sub(m.Beat) < Timeout
}

// Busy is the error for a store that live run m is writing.
func (m Marker) Busy(now time.Time) error {
	doing := "writing"
	if m.State == Appending {
		doing = "appending to"
	}
	who := "on " + m.Host
	if m.PID > 0 {
		who = fmt.Sprintf("process %d on %s", m.PID, m.Host)
	}
	return fmt.Errorf("%w: run %s (%s, last heard from %s ago) is %s this store; a store has one writer at a time: "+
		"wait for it to finish or, if it died, for %s after it was last heard from",
		ErrBusy, m.Run, who, now.Sub(m.Beat).Round(time.Second), doing, Timeout)
}

// Ensure checks that the store is still run's and renews its beat (when
// older than every, or always when every is 0) with a conditional write,
// so that no other run can have taken it in between. A beat lost to
// another worker of the same run is no loss: the marker is read again.
func Ensure(ctx context.Context, st *storage.Store, run string, now time.Time, every time.Duration) (At, error) {
	for try := 0; ; try++ {
		m, err := Read(ctx, st)
		if err != nil {
			return At{}, err
		}
		if !m.Exists() || m.Run != run {
			who := "no run"
			if m.Exists() {
				who = "run " + m.Run
			}
			return At{}, fmt.Errorf("%w: the store is no longer this run's (%s): %s holds it now (this run was taken for dead)", ErrBusy, run, who)
		}
		if !m.Ended.IsZero() {
			return At{}, fmt.Errorf("%w: run %s was ended at %s (the job failed, and what launched it released the store): "+
				"this worker outlived its job and stops", ErrBusy, run, m.Ended.Format(time.RFC3339))
		}
		if every > 0 && now.Sub(m.Beat) < every {
			return m, nil
		}
		next := m.Marker
		next.Beat = now.UTC()
		renewed, err := Replace(ctx, st, m, next)
		if errors.Is(err, ErrBusy) && try < 3 {
			continue
		}
		return renewed, err
	}
}

// Release marks run's unfinished store as no longer its: the run has
// ended (its job failed or was cancelled) and another run may take the
// store at once instead of waiting out the lease; any of its writers still
// running stops at its next check (Ensure). It reports whether it released
// anything: a store that is another run's, complete, or without a marker
// is left as it is. Only what launched the run may call it, once the job
// has ended: a worker cannot know that the run is over.
func Release(ctx context.Context, st *storage.Store, run string, now time.Time) (bool, error) {
	for try := 0; ; try++ {
		m, err := Read(ctx, st)
		if err != nil || !m.Exists() || m.Run != run || m.State == Complete || !m.Ended.IsZero() {
			return false, err
		}
		next := m.Marker
		next.Ended = now.UTC()
		_, err = Replace(ctx, st, m, next)
		if errors.Is(err, ErrBusy) && try < 3 {
			continue // a beat of a writer still running came first: read again
		}
		return err == nil, err
	}
}

// Commit marks the store complete, after its consolidated metadata: the
// marker is the commit point. When the marker cannot be written (a full
// disk, a storage error), withdraw takes the consolidated metadata away
// again, so that the store does not look complete while its marker says
// otherwise, and the error says so; a run that took the store meanwhile
// (ErrBusy) owns it, and nothing of it is touched.
func Commit(ctx context.Context, st *storage.Store, owned At, chunks int64, withdraw func() error) error {
	done := owned.Marker
	done.State, done.Chunks, done.Base = Complete, chunks, nil
	_, err := Replace(ctx, st, owned, done)
	if err == nil || errors.Is(err, ErrBusy) {
		return err
	}
	if werr := withdraw(); werr != nil {
		return fmt.Errorf("marking the store complete failed (%w), and withdrawing its consolidated metadata failed too (%w): "+
			"it may look complete to readers; run again to finish it", err, werr)
	}
	return fmt.Errorf("marking the store complete failed (%w); its consolidated metadata was withdrawn, so it does not look complete: run again to finish it", err)
}
