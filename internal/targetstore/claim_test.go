package targetstore

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zarrforge/zarrforge/internal/lease"
)

// TestClaimable: the one rule for taking a store. A create takes an empty
// target, its own run's partial writes and what a dead (or released) run
// left unfinished while creating it — so a failed create can be run again
// as it was — and refuses anything else that is there; overwrite replaces
// a Zarr store or a zarrforge run's leftovers, nothing else; a live run's
// store is busy to both.
func TestClaimable(t *testing.T) {
	now := time.Now()
	self := lease.This()
	at := func(run, state string, beat time.Time, ended bool) lease.At {
		m := lease.At{Marker: lease.Marker{Run: run, State: state, Host: "worker-1", Beat: beat}, Version: "1"}
		if ended {
			m.Ended = now
		}
		return m
	}
	old := now.Add(-lease.Timeout - time.Minute)
	zarrKeys := []string{".zgroup", "sst/.zarray", "sst/0.0"}
	for _, tc := range []struct {
		name      string
		m         lease.At
		keys      []string
		overwrite bool
		want      string // "" when it may be taken
	}{
		{"empty", lease.At{}, nil, false, ""},
		{"this run's own writes", at("me", lease.Writing, now, false), zarrKeys, false, ""},
		{"another run, live", at("other", lease.Writing, now, false), zarrKeys, true, "busy"},
		{"another run's create, dead", at("other", lease.Writing, old, false), zarrKeys, false, ""},
		{"another run's create, released", at("other", lease.Writing, now, true), zarrKeys, false, ""},
		{"another run's append, dead", at("other", lease.Appending, old, false), zarrKeys, false, "already exists"},
		{"a complete store", at("other", lease.Complete, now, false), zarrKeys, false, "already exists"},
		{"a store another tool wrote", lease.At{}, zarrKeys, false, "already exists"},
		{"overwrite a store another tool wrote", lease.At{}, zarrKeys, true, ""},
		{"overwrite a complete store", at("other", lease.Complete, now, false), zarrKeys, true, ""},
		{"overwrite what is not a store", lease.At{}, []string{"notes.txt"}, true, "not a Zarr store"},
	} {
		err := Claimable(tc.m, tc.keys, Claim{Run: "me", Overwrite: tc.overwrite, Self: self}, now)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		case tc.want == "busy" && !errors.Is(err, lease.ErrBusy):
			t.Errorf("%s: %v is not ErrBusy", tc.name, err)
		}
	}
}
