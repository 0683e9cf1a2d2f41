package transforms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/zarrforge/zarrforge/plan"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/zarr"
)

// A store has one writer at a time: the run its marker names. The marker
// is taken and changed only by conditional writes (storage.PutIf: a
// generation precondition on Cloud Storage, a compare under an exclusive
// lock locally), so of two runs that read the same marker one wins and the
// other fails. A run takes over another run's unfinished store only when
// that run is dead: nothing was heard from it for leaseTimeout (StoreChunks
// renews the marker's beat every beatEvery while it writes); or, sooner,
// when the run ran in one process (the one that built its pipeline: the
// direct runner, Prism with loopback workers) and that process — named by
// its machine, boot, PID namespace, PID and start time, which no other
// process shares — is gone. Writers confirm the store is still their run's
// at most every checkEvery, before a chunk, and stop at the first sign it
// is not. FinalizeTarget checks that the marker is still its run's, with a
// conditional write, before the store is made to look complete.

// markerKey is the object recording which run owns a store and whether it
// finished. zarr-python and xarray ignore it.
const markerKey = ".zarrforge.json"

const (
	// leaseTimeout is how long a run not heard from keeps its store from
	// other runs (on another machine; on the same one its process tells).
	leaseTimeout = 5 * time.Minute
	// beatEvery is how often a writing run renews its marker's beat.
	beatEvery = 30 * time.Second
	// checkEvery is how often a writer confirms, before a chunk, that the
	// store is still its run's.
	checkEvery = 5 * time.Second
)

// ErrTargetBusy is wrapped by the errors of a run refused a store because
// another run, live, is writing it, or took it first.
var ErrTargetBusy = errors.New("the target is busy")

type marker struct {
	Run    string `json:"run"`
	State  string `json:"state"` // "writing", "appending" or "complete"
	Chunks int64  `json:"chunks,omitempty"`
	// Base is, while appending, what the store held before: a run that dies
	// mid-append leaves enough behind for the next to start from it.
	Base *appendBase `json:"base,omitempty"`
	// Host is the machine that claimed the store; PID, Boot, PIDNS and
	// Start name the process, where the run is that one process (see
	// process). Beat is when the run was last heard from.
	Host  string    `json:"host,omitempty"`
	PID   int       `json:"pid,omitempty"`
	Boot  string    `json:"boot,omitempty"`
	PIDNS string    `json:"pid_ns,omitempty"`
	Start uint64    `json:"start,omitempty"`
	Beat  time.Time `json:"beat,omitzero"`
}

// Marker states.
const (
	stateWriting   = "writing"
	stateAppending = "appending"
	stateComplete  = "complete"
)

type appendBase struct {
	Len   int64  `json:"len"`             // steps along the concat dimension
	Coord []byte `json:"coord,omitempty"` // the concat coordinate, raw
}

// process names a process: the machine it runs on and its PID there and,
// where the system tells them (thisProcess), the machine's boot, the PID
// namespace and when the process started, which together no other process
// shares, in another container or after a reboot or a PID's reuse.
type process struct {
	Host  string
	PID   int
	Boot  string
	PIDNS string
	Start uint64
}

// unique reports whether p names one process and no other.
func (p process) unique() bool {
	return p.Host != "" && p.PID > 0 && p.Boot != "" && p.PIDNS != "" && p.Start > 0
}

// Key is p as one string ("" unless unique): how a pipeline records the
// process that built it (prepareFn.Builder).
func (p process) Key() string {
	if !p.unique() {
		return ""
	}
	return fmt.Sprintf("%s|%s|%s|%d|%d", p.Host, p.Boot, p.PIDNS, p.PID, p.Start)
}

// owner is who a run's marker names, as seen by process self: self where
// the run is self's process alone (self is builder, the process that built
// the pipeline, so no worker runs elsewhere), else only self's machine,
// which makes the lease alone judge the run.
func owner(self process, builder string) process {
	if k := self.Key(); k != "" && k == builder {
		return self
	}
	return process{Host: self.Host}
}

// process is the process the marker names.
func (m marker) process() process {
	return process{Host: m.Host, PID: m.PID, Boot: m.Boot, PIDNS: m.PIDNS, Start: m.Start}
}

// markerAt is the marker of a store and the version of it read.
type markerAt struct {
	marker
	version string // "" when the store has no marker
}

func (m markerAt) exists() bool { return m.version != "" }

// readMarker reads the store's marker and its version.
func readMarker(ctx context.Context, st *storage.Store) (markerAt, error) {
	b, v, err := st.GetVersion(ctx, markerKey)
	if errors.Is(err, fs.ErrNotExist) {
		return markerAt{}, nil
	}
	if err != nil {
		return markerAt{}, err
	}
	var m marker
	if err := json.Unmarshal(b, &m); err != nil {
		return markerAt{}, fmt.Errorf("%s: %w", markerKey, err)
	}
	return markerAt{marker: m, version: v}, nil
}

// replace writes m in place of the marker read as old, only if no one
// changed it since; a run that got there first gives ErrTargetBusy.
func replace(ctx context.Context, st *storage.Store, old markerAt, m marker) (markerAt, error) {
	b, _ := json.Marshal(m)
	v, err := st.PutIf(ctx, markerKey, b, old.version)
	if errors.Is(err, storage.ErrConflict) {
		now, rerr := readMarker(ctx, st)
		who := "another run"
		if rerr == nil && now.exists() {
			who = "run " + now.Run
		}
		return markerAt{}, fmt.Errorf("%w: %s took the store while this run (%s) was taking it", ErrTargetBusy, who, m.Run)
	}
	if err != nil {
		return markerAt{}, err
	}
	return markerAt{marker: m, version: v}, nil
}

// claim makes the store run's, in state, in place of the marker read as
// old; who is the run's process (see owner).
func claim(ctx context.Context, st *storage.Store, old markerAt, run, state string, base *appendBase, who process, now time.Time) (markerAt, error) {
	return replace(ctx, st, old, marker{Run: run, State: state, Base: base, Host: who.Host, PID: who.PID, Boot: who.Boot,
		PIDNS: who.PIDNS, Start: who.Start, Beat: now.UTC()})
}

// live reports whether the marker's run may still be writing the store, as
// seen by process self at time now: heard from within the lease, unless
// the marker names the run's one process, which self can see is gone.
func (m marker) live(self process, now time.Time) bool {
	if m.Run == "" || m.State == stateComplete {
		return false
	}
	p := m.process()
	if p.unique() && self.unique() && p.Host == self.Host && p.Boot == self.Boot && p.PIDNS == self.PIDNS && !running(p) {
		return false
	}
	return now.Sub(m.Beat) < leaseTimeout
}

// busy is the error for a store that live run m is writing.
func (m marker) busy(now time.Time) error {
	doing := "writing"
	if m.State == stateAppending {
		doing = "appending to"
	}
	who := "on " + m.Host
	if m.PID > 0 {
		who = fmt.Sprintf("process %d on %s", m.PID, m.Host)
	}
	return fmt.Errorf("%w: run %s (%s, last heard from %s ago) is %s this store; a store has one writer at a time: "+
		"wait for it to finish or, if it died, for %s after it was last heard from",
		ErrTargetBusy, m.Run, who, now.Sub(m.Beat).Round(time.Second), doing, leaseTimeout)
}

// ensureOwner checks that the store is still run's and renews its beat
// (when older than every, or always when every is 0) with a conditional
// write, so that no other run can have taken it in between. A beat lost to
// another worker of the same run is no loss: the marker is read again.
func ensureOwner(ctx context.Context, st *storage.Store, run string, now time.Time, every time.Duration) (markerAt, error) {
	for try := 0; ; try++ {
		m, err := readMarker(ctx, st)
		if err != nil {
			return markerAt{}, err
		}
		if !m.exists() || m.Run != run {
			who := "no run"
			if m.exists() {
				who = "run " + m.Run
			}
			return markerAt{}, fmt.Errorf("%w: the store is no longer this run's (%s): %s holds it now (this run was taken for dead)", ErrTargetBusy, run, who)
		}
		if every > 0 && now.Sub(m.Beat) < every {
			return m, nil
		}
		next := m.marker
		next.Beat = now.UTC()
		renewed, err := replace(ctx, st, m, next)
		if errors.Is(err, ErrTargetBusy) && try < 3 {
			continue
		}
		return renewed, err
	}
}

// commit marks the store at url complete: the marker, written after the
// consolidated metadata, is the commit point. When the marker cannot be
// written (a full disk, a storage error), the consolidated metadata of the
// store's groups (paths; "" the root) is withdrawn again, so that the store
// does not look complete while its marker says otherwise, and the error
// says so; a run that took the store meanwhile (ErrTargetBusy) owns it, and
// nothing of it is touched.
func commit(ctx context.Context, st *storage.Store, url string, owned markerAt, chunks int64, format int, groups []string) error {
	done := owned.marker
	done.State, done.Chunks, done.Base = stateComplete, chunks, nil
	_, err := replace(ctx, st, owned, done)
	if err == nil || errors.Is(err, ErrTargetBusy) {
		return err
	}
	var undo []error
	for _, g := range groups {
		gs := st
		if g != "" {
			if gs, err = storage.NewStore(ctx, plan.GroupURL(url, g)); err != nil {
				undo = append(undo, err)
				continue
			}
		}
		if werr := zarr.Withdraw(ctx, gs, format); werr != nil && !errors.Is(werr, fs.ErrNotExist) {
			undo = append(undo, werr)
		}
	}
	if len(undo) > 0 {
		return fmt.Errorf("marking the store complete failed (%w), and withdrawing its consolidated metadata failed too (%w): "+
			"it may look complete to readers; run again to finish it", err, errors.Join(undo...))
	}
	return fmt.Errorf("marking the store complete failed (%w); its consolidated metadata was withdrawn, so it does not look complete: run again to finish it", err)
}
