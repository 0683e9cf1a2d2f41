package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/zarrforge/zarrforge/beamtest"
)

// portable is a standalone Prism job server and this repository's worker
// pool, both on loopback, that run jobs with their workers in processes of
// their own.
type portable struct {
	endpoint, pool string        // the job server's and the pool's addresses
	poolDir        string        // where the pool puts its workers' files
	poolLog        *syncedBuffer // the pool's output
}

// args are the runner flags that send a job to p.
func (p portable) args() []string {
	return []string{"--runner", "universal", "--endpoint", p.endpoint, "--environment_type", "EXTERNAL", "--environment_config", p.pool}
}

// startPortable builds the Prism job server from the Beam module this
// repository requires and the worker pool, and starts both on loopback
// for the test. Where the job server cannot be built, the test is
// skipped, saying so on stderr as well (a skip is otherwise silent).
func startPortable(t *testing.T) portable {
	t.Helper()
	dir := t.TempDir()
	prism := filepath.Join(dir, "prism")
	if out, err := exec.Command("go", "build", "-o", prism, "github.com/apache/beam/sdks/v2/go/cmd/prism").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("SKIP %s: the Prism job server cannot be built here, so nothing runs out of process: %v\n%s", t.Name(), err, out)
		fmt.Fprintln(os.Stderr, msg)
		t.Skip(msg)
	}
	pool := filepath.Join(dir, "workerpool")
	if out, err := exec.Command("go", "build", "-o", pool, "../workerpool").CombinedOutput(); err != nil {
		t.Fatalf("go build ../workerpool: %v\n%s", err, out)
	}
	port := freePort(t)
	prismLog := &syncedBuffer{}
	start(t, prismLog, prism, "--job_port", strconv.Itoa(port), "--serve_http=false", "--log_level", "warn")
	p := portable{endpoint: fmt.Sprintf("localhost:%d", port), poolDir: filepath.Join(dir, "workers"), poolLog: &syncedBuffer{}}
	if err := os.Mkdir(p.poolDir, 0o755); err != nil {
		t.Fatal(err)
	}
	start(t, p.poolLog, pool, "--listen", "127.0.0.1:0", "--dir", p.poolDir, "--grace", "2s")
	p.pool = waitFor(t, "the worker pool", func() string {
		if m := regexp.MustCompile(`serving on (\S+)`).FindStringSubmatch(p.poolLog.String()); m != nil {
			return m[1]
		}
		return ""
	})
	waitFor(t, "the job server", func() string {
		c, err := net.Dial("tcp", p.endpoint)
		if err != nil {
			return ""
		}
		c.Close()
		return "up"
	})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("job server's log:\n%s\nworker pool's log:\n%s", tail(prismLog.String()), tail(p.poolLog.String()))
		}
	})
	return p
}

// start starts a server for the test, its output to log, and stops it
// (SIGTERM, as a user would) after the test.
func start(t *testing.T, log *syncedBuffer, bin string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
}

// waitFor polls get until it returns something, for up to a minute.
func waitFor(t *testing.T, what string, get func() string) string {
	t.Helper()
	for range 600 {
		if v := get(); v != "" {
			return v
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not start", what)
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestOutOfProcess runs the program on a standalone Prism job server whose
// workers are separate processes, started by the worker pool: a fixture
// collection into Zarr v2, and a netCDF-4 collection into references and
// into Zarr v3 with shards. Each store must be the direct runner's, byte
// for byte (but for the run's own marker), and the progress and summary
// lines must reach the launching user.
func TestOutOfProcess(t *testing.T) {
	p := startPortable(t)
	bin := buildProgram(t)
	daily := beamtest.Testdata("collections", "daily", "daily_{time}.nc")
	nc4 := beamtest.Testdata("collections", "nc4_daily", "nc4_daily_{time}.nc")
	keys := `keys: ["00", "01", "02", "03", "04", "05", "06", "07"]`
	for _, tc := range []struct{ name, template, target, out string }{
		{"fixtures, v2", daily, "chunks: {time: 3}", "store.zarr"},
		{"netCDF-4, references", nc4, "format: references", "refs.json"},
		{"netCDF-4, v3 shards", nc4, "zarr_format: 3, chunks: {time: 2}, shards: {time: 4}", "store.zarr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			recipe := filepath.Join(dir, "recipe.yaml")
			text := fmt.Sprintf("pattern: {template: %q, concat_dim: {name: time, %s}}\ntarget: {url: %s, %s}\n", tc.template, keys, tc.out, tc.target)
			if err := os.WriteFile(recipe, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "out", tc.out)
			direct := directStore(t, bin, dir, recipe, out)
			code, stderr := runProgram(t, bin, dir, append(p.args(), "--recipe", recipe, "--target", out)...)
			if code != 0 {
				t.Fatalf("out of process: exit %d\n%s", code, stderr)
			}
			if !strings.Contains(stderr, "inputs read,") {
				t.Errorf("the summary did not reach the user:\n%s", stderr)
			}
			sameStore(t, direct, filepath.Dir(out))
		})
	}
	noWorkersLeft(t, p)
}

// TestWorkerKilled kills the job's worker process in the middle of
// StoreChunks: the program must exit 1 with one line naming the stage and
// saying that the worker died (no stack frame), leave nothing that looks
// complete, and the same command run again must succeed at once (the
// failed run's store was released: no five-minute lease to wait out) and
// write what the direct runner writes. The inputs come over HTTP from a
// server that, once the store's arrays are laid out (StoreChunks has
// begun), holds every request for the last input until the kill: the
// stage writes the chunks of the others and cannot finish before it.
func TestWorkerKilled(t *testing.T) {
	p := startPortable(t)
	bin := buildProgram(t)
	inputs := makeInputs(t, 12)
	dir := t.TempDir()
	store := filepath.Join(dir, "out", "store.zarr")
	var relaxed atomic.Bool
	released := make(chan struct{})
	files := http.FileServer(http.Dir(inputs))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := os.Stat(filepath.Join(store, "sst", ".zarray")); err == nil && r.URL.Path == "/day_11.nc" && !relaxed.Load() {
			<-released
		}
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()
	release := func() {
		if !relaxed.Swap(true) {
			close(released)
		}
	}
	defer release()
	recipe := filepath.Join(dir, "recipe.yaml")
	// A read group takes at most half of max_mem: two steps here, so
	// there are six, and the first writes its chunks without the last
	// input.
	text := fmt.Sprintf("pattern: {template: %q, concat_dim: {name: time, keys: [%s]}}\n"+
		"target: {url: unused, chunks: {time: 1, lat: 30, lon: 60}, max_mem: 1MiB}\n", srv.URL+"/day_{time}.nc", dayKeys(12))
	if err := os.WriteFile(recipe, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append(p.args(), "--recipe", recipe, "--target", store)

	done := make(chan int, 1)
	launcher := &syncedBuffer{}
	go func() { done <- runBackground(launcher, bin, dir, args...) }()
	chunk := filepath.Join(store, "sst", "0.0.0")
	if waitFor(t, "StoreChunks", func() string {
		if _, err := os.Stat(chunk); err == nil {
			return "writing"
		}
		if len(done) > 0 {
			return "ended"
		}
		return ""
	}) == "ended" {
		t.Fatalf("the run ended before StoreChunks wrote a chunk: exit %d\n%s", <-done, launcher.String())
	}
	// The stage is named from the job's metrics, which the program reads
	// every few seconds: kill once they have shown it at work.
	waitFor(t, "StoreChunks in the job's metrics", func() string {
		if strings.Contains(launcher.String(), "StoreChunks: ") {
			return "seen"
		}
		return ""
	})
	pid := workerPID(t, p)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing worker %d: %v", pid, err)
	}
	code := <-done
	stderr := launcher.String()
	release()
	last := lastLine(stderr)
	if code != 1 || !strings.Contains(last, "StoreChunks") || !strings.Contains(last, "worker") || !strings.Contains(last, "died") ||
		stackFrame.MatchString(last) || strings.Contains(last, ".go:") {
		t.Errorf("exit %d, last line %q; want 1 and one line naming StoreChunks and the dead worker\n%s", code, last, stderr)
	}
	for _, complete := range []string{".zmetadata", ".zgroup"} {
		if _, err := os.Stat(filepath.Join(store, complete)); err == nil {
			t.Errorf("the killed run left %s: the store looks complete", complete)
		}
	}
	noWorkersLeft(t, p)

	if code, stderr := runProgram(t, bin, dir, args...); code != 0 {
		t.Fatalf("the same command again: exit %d\n%s", code, stderr)
	}
	rerun := filepath.Join(dir, "rerun")
	if err := os.Rename(filepath.Dir(store), rerun); err != nil {
		t.Fatal(err)
	}
	sameStore(t, directStore(t, bin, dir, recipe, store), rerun)
	noWorkersLeft(t, p)
}

// directStore runs recipe on the direct runner into target (the target
// is part of the recipe, which the store's attributes record), then moves
// target's directory aside and returns where it is now.
func directStore(t *testing.T, bin, dir, recipe, target string) string {
	t.Helper()
	if code, stderr := runProgram(t, bin, dir, "--recipe", recipe, "--target", target); code != 0 {
		t.Fatalf("direct runner: exit %d\n%s", code, stderr)
	}
	aside := filepath.Join(dir, "direct")
	if err := os.Rename(filepath.Dir(target), aside); err != nil {
		t.Fatal(err)
	}
	return aside
}

// makeInputs writes n daily netCDF-4 files of a 180x360 float32 field,
// random (so that chunks take some work), with netCDF4-python, and returns
// their directory.
func makeInputs(t *testing.T, n int) string {
	t.Helper()
	python := beamtest.RequirePython(t, "netCDF4", "numpy")
	dir := t.TempDir()
	script := `
import sys, numpy as np, netCDF4
rng = np.random.default_rng(0)
for i in range(int(sys.argv[2])):
    with netCDF4.Dataset(f"{sys.argv[1]}/day_{i:02d}.nc", "w") as ds:
        ds.createDimension("time", 1); ds.createDimension("lat", 180); ds.createDimension("lon", 360)
        t = ds.createVariable("time", "f8", ("time",)); t.units = "days since 2000-01-01"; t[:] = [i]
        ds.createVariable("lat", "f4", ("lat",))[:] = np.linspace(-89.5, 89.5, 180)
        ds.createVariable("lon", "f4", ("lon",))[:] = np.linspace(0.5, 359.5, 360)
        v = ds.createVariable("sst", "f4", ("time", "lat", "lon"), zlib=True, chunksizes=(1, 90, 180))
        v[:] = rng.standard_normal((1, 180, 360)).astype("f4")
`
	if out, err := exec.Command(python, "-c", script, dir, strconv.Itoa(n)).CombinedOutput(); err != nil {
		t.Fatalf("making the inputs: %v\n%s", err, out)
	}
	return dir
}

// dayKeys is "\"00\", \"01\", ..." for n days.
func dayKeys(n int) string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%q", fmt.Sprintf("%02d", i))
	}
	return strings.Join(keys, ", ")
}

// workerPID is the process ID of the worker the pool started last.
func workerPID(t *testing.T, p portable) int {
	t.Helper()
	all := regexp.MustCompile(`started: pid (\d+)`).FindAllStringSubmatch(p.poolLog.String(), -1)
	if len(all) == 0 {
		t.Fatalf("the pool started no worker:\n%s", p.poolLog.String())
	}
	pid, _ := strconv.Atoi(all[len(all)-1][1])
	return pid
}

// noWorkersLeft checks that the pool has reaped every worker it started
// and deleted their files (it does so as each job ends: allow a minute).
func noWorkersLeft(t *testing.T, p portable) {
	t.Helper()
	for range 600 {
		entries, _ := os.ReadDir(p.poolDir)
		started := strings.Count(p.poolLog.String(), " started: pid ")
		exited := strings.Count(p.poolLog.String(), " exited")
		if len(entries) == 0 && started == exited {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	entries, _ := os.ReadDir(p.poolDir)
	t.Errorf("the pool left workers behind: %d files in its directory; its log:\n%s", len(entries), tail(p.poolLog.String()))
}

// sameStore checks that the trees a and b hold the same files with the
// same bytes, but for the marker, which names the run.
func sameStore(t *testing.T, a, b string) {
	t.Helper()
	fa, fb := files(t, a), files(t, b)
	if len(fa) == 0 || len(fa) != len(fb) {
		t.Fatalf("%d files from the direct runner, %d out of process", len(fa), len(fb))
	}
	for name, want := range fa {
		if got, ok := fb[name]; !ok || !bytes.Equal(got, want) {
			t.Errorf("%s differs from the direct runner's:\n%.2000s\n%.2000s", name, want, got)
		}
	}
}

// files is every file under root but markers, by path below root.
func files(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == ".zarrforge.json" {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(root, path)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tail is the last lines of a log.
func tail(log string) string {
	lines := strings.Split(strings.TrimSpace(log), "\n")
	return strings.Join(lines[max(0, len(lines)-40):], "\n")
}

// syncedBuffer is a buffer a process writes while the test reads it.
type syncedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runBackground runs the program in dir with args, its stderr to stderr,
// for up to two minutes, off the test's goroutine, and returns its exit
// code (-1: it did not end).
func runBackground(stderr io.Writer, bin, dir string, args ...string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Stderr = stderr
	_ = cmd.Run()
	if ctx.Err() != nil {
		return -1
	}
	return cmd.ProcessState.ExitCode()
}
