//go:build !unix

package transforms

import "os"

// thisProcess is the process running the code: its machine and PID, with
// nothing that would make it unique across boots, so that a run is taken
// for dead only when its lease lapses.
func thisProcess() process {
	host, _ := os.Hostname()
	return process{Host: host, PID: os.Getpid()}
}

// running cannot tell here: a run is taken for live until its lease lapses.
func running(process) bool { return true }
