// Package workerpool serves Beam's BeamFnExternalWorkerPool: a portable
// runner (a standalone Prism, Flink or Spark job server) with
// --environment_type EXTERNAL asks it for SDK workers, and it starts each
// as a process of the pipeline's own binary — fetched from the job's staged
// artifacts, or one given — with what the runner's provisioning service
// gives it (the pipeline options, the endpoints). Unlike a boot loader that
// starts the binary as its own child, each worker is this process's child:
// StopWorker, the end of the job (the worker exits when its runner closes
// the control stream) or the pool's own end stop it, wait for it and delete
// its directory (staged binary, options file), so nothing is left behind.
// Where the system allows (Linux), a worker is killed when the pool dies.
// The package knows nothing of zarrforge's stages.
package workerpool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/apache/beam/sdks/v2/go/container/tools"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/artifact"
	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/util/grpcx"
)

// DefaultGrace is how long a stopped worker has to exit after SIGTERM
// before it is killed.
const DefaultGrace = 10 * time.Second

// Pool starts and stops SDK worker processes. Its zero value is not
// ready: use New.
type Pool struct {
	fnpb.UnimplementedBeamFnExternalWorkerPoolServer

	binary string        // the worker binary; "" fetches the job's staged one
	dir    string        // where workers' directories go
	grace  time.Duration // SIGTERM to SIGKILL
	log    io.Writer     // the pool's lines and its workers' output

	mu      sync.Mutex
	workers map[string]*worker // by worker ID; nil once the pool is closed
}

// Config configures a Pool.
type Config struct {
	// Binary is the pipeline binary workers run; empty: the one the job
	// staged (its go_worker_binary artifact), fetched for each worker.
	Binary string
	// Dir is where each worker gets a directory of its own, deleted when
	// it exits; empty: the system's temporary directory.
	Dir string
	// Grace is how long a stopped worker has to exit before it is killed;
	// 0: DefaultGrace.
	Grace time.Duration
	// Log receives the pool's lines and its workers' output; nil:
	// os.Stderr.
	Log io.Writer
}

// worker is one started worker process.
type worker struct {
	cmd  *exec.Cmd
	dir  string
	done chan struct{} // closed once the process was waited for and dir deleted
}

// New returns a pool that starts workers as cfg says.
func New(cfg Config) *Pool {
	p := &Pool{binary: cfg.Binary, dir: cfg.Dir, grace: cfg.Grace, log: cfg.Log, workers: map[string]*worker{}}
	if p.grace <= 0 {
		p.grace = DefaultGrace
	}
	if p.log == nil {
		p.log = os.Stderr
	}
	return p
}

// StartWorker starts the worker req names, as the BeamFnExternalWorkerPool
// service does: a failure is the response's Error.
func (p *Pool) StartWorker(ctx context.Context, req *fnpb.StartWorkerRequest) (*fnpb.StartWorkerResponse, error) {
	id := req.GetWorkerId()
	if err := p.start(ctx, req); err != nil {
		p.logf("worker %s not started: %v", id, err)
		return &fnpb.StartWorkerResponse{Error: fmt.Sprintf("worker %s: %v", id, err)}, nil
	}
	return &fnpb.StartWorkerResponse{}, nil
}

// StopWorker stops the worker req names and returns once it has exited
// and its directory is gone.
func (p *Pool) StopWorker(_ context.Context, req *fnpb.StopWorkerRequest) (*fnpb.StopWorkerResponse, error) {
	p.mu.Lock()
	w := p.workers[req.GetWorkerId()]
	p.mu.Unlock()
	if w == nil { // already gone: it exited when its job ended
		return &fnpb.StopWorkerResponse{}, nil
	}
	p.stop(w)
	return &fnpb.StopWorkerResponse{}, nil
}

// Close stops every worker and refuses new ones; it returns once they
// have exited and their directories are gone.
func (p *Pool) Close() {
	p.mu.Lock()
	ws := p.workers
	p.workers = nil
	p.mu.Unlock()
	for _, w := range ws {
		p.stop(w)
	}
}

// Running is the number of worker processes not yet exited.
func (p *Pool) Running() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.workers)
}

func (p *Pool) start(ctx context.Context, req *fnpb.StartWorkerRequest) error {
	id := req.GetWorkerId()
	if id == "" || strings.ContainsAny(id, "/\\") {
		return fmt.Errorf("a worker ID must be a non-empty name, not %q", id)
	}
	p.mu.Lock()
	_, dup := p.workers[id]
	closed := p.workers == nil
	p.mu.Unlock()
	switch {
	case closed:
		return errors.New("the pool is shutting down")
	case dup:
		return errors.New("a worker with this ID is running")
	}
	dir, err := os.MkdirTemp(p.dir, "zarrforge-worker-")
	if err != nil {
		return err
	}
	cmd, err := p.command(grpcx.WriteWorkerID(ctx, id), req, dir)
	if err == nil {
		err = p.launch(id, cmd, dir)
	}
	if err != nil {
		os.RemoveAll(dir)
	}
	return err
}

// command is the worker process for req, its files in dir: the binary and
// its arguments as Beam's Go container gives them, and the pipeline
// options from the provisioning service in a file named by
// PIPELINE_OPTIONS_FILE.
func (p *Pool) command(ctx context.Context, req *fnpb.StartWorkerRequest, dir string) (*exec.Cmd, error) {
	ep := endpoints{
		control:   req.GetControlEndpoint().GetUrl(),
		logging:   req.GetLoggingEndpoint().GetUrl(),
		artifact:  req.GetArtifactEndpoint().GetUrl(),
		provision: req.GetProvisionEndpoint().GetUrl(),
	}
	if ep.provision == "" {
		return nil, errors.New("the request names no provision endpoint")
	}
	info, err := tools.ProvisionInfo(ctx, ep.provision)
	if err != nil {
		return nil, fmt.Errorf("provisioning from %s: %w", ep.provision, err)
	}
	ep.update(info)
	if ep.control == "" || ep.logging == "" {
		return nil, errors.New("neither the request nor provisioning names the control and logging endpoints")
	}
	options, err := tools.ProtoToJSON(info.GetPipelineOptions())
	if err != nil {
		return nil, fmt.Errorf("the pipeline options: %w", err)
	}
	optionsFile := filepath.Join(dir, "options.json")
	if err := os.WriteFile(optionsFile, []byte(options), 0o600); err != nil {
		return nil, err
	}
	bin := p.binary
	if bin == "" {
		if bin, err = fetchBinary(ctx, ep.artifact, info, dir); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(bin, "--worker=true", "--id="+req.GetWorkerId(), "--logging_endpoint="+ep.logging,
		"--control_endpoint="+ep.control, "--semi_persist_dir="+dir)
	cmd.Env = append(os.Environ(), "PIPELINE_OPTIONS_FILE="+optionsFile)
	if s := info.GetStatusEndpoint().GetUrl(); s != "" {
		cmd.Env = append(cmd.Env, "STATUS_ENDPOINT="+s)
	}
	if caps := info.GetRunnerCapabilities(); len(caps) > 0 {
		cmd.Env = append(cmd.Env, "RUNNER_CAPABILITIES="+strings.Join(caps, " "))
	}
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.SysProcAttr = sysProcAttr()
	return cmd, nil
}

// endpoints are where a worker talks to its runner.
type endpoints struct{ control, logging, artifact, provision string }

// update prefers what provisioning names over the request's, as Beam's
// containers do.
func (e *endpoints) update(info *fnpb.ProvisionInfo) {
	for _, u := range []struct {
		to   *string
		from string
	}{{&e.control, info.GetControlEndpoint().GetUrl()}, {&e.logging, info.GetLoggingEndpoint().GetUrl()},
		{&e.artifact, info.GetArtifactEndpoint().GetUrl()}} {
		if u.from != "" {
			*u.to = u.from
		}
	}
}

// fetchBinary retrieves the job's staged worker binary into dir and
// returns its path, executable.
func fetchBinary(ctx context.Context, endpoint string, info *fnpb.ProvisionInfo, dir string) (string, error) {
	if endpoint == "" {
		return "", errors.New("no artifact endpoint to fetch the worker binary from (or give the pool a binary)")
	}
	staged := filepath.Join(dir, "staged")
	got, err := artifact.Materialize(ctx, endpoint, info.GetDependencies(), info.GetRetrievalToken(), staged)
	if err != nil {
		return "", fmt.Errorf("fetching the staged worker binary: %w", err)
	}
	name, err := workerArtifact(got)
	if err != nil {
		return "", err
	}
	bin := filepath.Join(staged, name)
	if err := os.Chmod(bin, 0o700); err != nil {
		return "", err
	}
	return bin, nil
}

// workerArtifact is the file name of the Go worker binary among a job's
// staged artifacts: the one in its role, or the only one.
func workerArtifact(got []*pipepb.ArtifactInformation) (string, error) {
	for _, a := range got {
		if a.GetRoleUrn() == artifact.URNGoWorkerBinaryRole || len(got) == 1 {
			name, _ := artifact.MustExtractFilePayload(a)
			if name == "" || filepath.Base(name) != name {
				return "", fmt.Errorf("the staged worker binary has a bad name %q", name)
			}
			return name, nil
		}
	}
	return "", fmt.Errorf("the job staged %d artifacts and none is a Go worker binary", len(got))
}

// launch starts cmd as worker id and reaps it when it exits.
func (p *Pool) launch(id string, cmd *exec.Cmd, dir string) error {
	w := &worker{cmd: cmd, dir: dir, done: make(chan struct{})}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.workers == nil {
		return errors.New("the pool is shutting down")
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	p.workers[id] = w
	p.logf("worker %s started: pid %d", id, cmd.Process.Pid)
	go p.reap(id, w)
	return nil
}

// reap waits for worker id to exit, deletes its directory and forgets it.
func (p *Pool) reap(id string, w *worker) {
	err := w.cmd.Wait()
	killGroup(w.cmd.Process.Pid, syscall.SIGKILL) // anything it started
	rmErr := os.RemoveAll(w.dir)
	p.mu.Lock()
	if p.workers != nil && p.workers[id] == w {
		delete(p.workers, id)
	}
	p.mu.Unlock()
	status := "exited"
	if err != nil {
		status = "exited: " + err.Error()
	}
	if rmErr != nil {
		status += fmt.Sprintf("; its directory %s could not be deleted: %v", w.dir, rmErr)
	}
	p.logf("worker %s %s", id, status)
	close(w.done)
}

// stop asks w to exit, kills it after the grace period, and waits until
// it is reaped.
func (p *Pool) stop(w *worker) {
	killGroup(w.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-w.done:
	case <-time.After(p.grace):
		killGroup(w.cmd.Process.Pid, syscall.SIGKILL)
		<-w.done
	}
}

func (p *Pool) logf(format string, args ...any) {
	fmt.Fprintf(p.log, "workerpool: "+format+"\n", args...)
}
