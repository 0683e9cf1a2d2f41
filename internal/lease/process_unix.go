//go:build unix

package lease

import (
	"os"
	"strconv"
	"strings"
)

// This is the process running the code, named so that no process
// in another PID namespace, on another boot or later with its PID can be
// taken for it: Boot, PIDNS and Start are left empty where /proc does not
// tell them consistently (another system; /proc of another PID namespace
// mounted), and a marker without them is judged by its lease alone.
func This() Process {
	host, _ := os.Hostname()
	p := Process{Host: host, PID: os.Getpid()}
	boot, err1 := os.ReadFile("/proc/sys/kernel/random/boot_id")
	ns, err2 := os.Readlink("/proc/self/ns/pid")
	self, ok1 := startOf("self")
	byPID, ok2 := startOf(strconv.Itoa(p.PID))
	if err1 == nil && err2 == nil && ok1 && ok2 && self == byPID {
		p.Boot, p.PIDNS, p.Start = strings.TrimSpace(string(boot)), ns, self
	}
	return p
}

// running reports whether process p, of this machine, boot and PID
// namespace, is still running: a process with its PID that started when it
// did.
func running(p Process) bool {
	start, ok := startOf(strconv.Itoa(p.PID))
	return ok && start == p.Start
}

// startOf is when process pid ("self", or a number) started, in clock
// ticks since boot: field 22 of /proc/PID/stat.
func startOf(pid string) (uint64, bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, false
	}
	i := strings.LastIndexByte(string(b), ')') // the command may hold spaces and parentheses
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(string(b[i+1:])) // from field 3, the state
	if len(fields) < 20 {
		return 0, false
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	return start, err == nil && start > 0
}
