//go:build unix

package transforms

import (
	"errors"
	"syscall"
)

// processAlive reports whether a process with id pid exists on this
// machine.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
