//go:build unix && !linux

package workerpool

import "syscall"

// sysProcAttr puts a worker in a process group of its own, so that it and
// anything it starts are stopped together. (Only Linux can also have a
// worker killed when its pool dies.)
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// killGroup sends sig to the process group pid leads.
func killGroup(pid int, sig syscall.Signal) { _ = syscall.Kill(-pid, sig) }
