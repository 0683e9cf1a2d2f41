//go:build !unix

package transforms

// processAlive cannot tell here: a run is taken for live until its lease
// lapses.
func processAlive(int) bool { return true }
