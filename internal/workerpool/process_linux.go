package workerpool

import "syscall"

// sysProcAttr puts a worker in a process group of its own (so that it and
// anything it starts are stopped together) and has the kernel kill it if
// the pool dies: no worker outlives its pool. (The kernel sends it when the
// thread that started the worker ends; Go ends threads only under
// runtime.LockOSThread, which nothing in the pool uses.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup sends sig to the process group pid leads.
func killGroup(pid int, sig syscall.Signal) { _ = syscall.Kill(-pid, sig) }
