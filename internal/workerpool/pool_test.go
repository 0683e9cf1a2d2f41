package workerpool

import (
	"context"
	"errors"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"
)

// The test binary is also the fake worker the pool starts: with
// FAKE_WORKER set it checks what a Go SDK worker is given, then behaves as
// FAKE_WORKER says: "run" until stopped, "stubborn" ignoring SIGTERM,
// "exit" at once (its job ended).
func TestMain(m *testing.M) {
	if mode := os.Getenv("FAKE_WORKER"); mode != "" {
		os.Exit(fakeWorker(mode))
	}
	os.Exit(m.Run())
}

func fakeWorker(mode string) int {
	opts, err := os.ReadFile(os.Getenv("PIPELINE_OPTIONS_FILE"))
	if err != nil || !strings.Contains(string(opts), "zarrforge-test") {
		return 3
	}
	args := strings.Join(os.Args[1:], " ")
	for _, want := range []string{"--worker=true", "--id=", "--control_endpoint=ctl:1", "--logging_endpoint=log:1", "--semi_persist_dir="} {
		if !strings.Contains(args, want) {
			return 4
		}
	}
	switch mode {
	case "exit":
		return 0
	case "stubborn":
		signal.Ignore(syscall.SIGTERM)
	}
	dir, _ := os.Getwd() // the pool runs it in its own directory
	if os.WriteFile(filepath.Join(dir, "ready"), nil, 0o600) != nil {
		return 5
	}
	time.Sleep(time.Hour)
	return 0
}

// provision is a provisioning service that gives pipeline options and
// the endpoints.
type provision struct {
	fnpb.UnimplementedProvisionServiceServer
}

func (provision) GetProvisionInfo(context.Context, *fnpb.GetProvisionInfoRequest) (*fnpb.GetProvisionInfoResponse, error) {
	opts, _ := structpb.NewStruct(map[string]any{"beam:option:job_name:v1": "zarrforge-test"})
	return &fnpb.GetProvisionInfoResponse{Info: &fnpb.ProvisionInfo{
		PipelineOptions: opts,
		ControlEndpoint: &pipepb.ApiServiceDescriptor{Url: "ctl:1"},
		LoggingEndpoint: &pipepb.ApiServiceDescriptor{Url: "log:1"},
	}}, nil
}

// serveProvision starts the provisioning service on loopback for the
// test and returns its address.
func serveProvision(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	fnpb.RegisterProvisionServiceServer(srv, provision{})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// newTestPool is a pool whose workers are this test binary, in mode.
func newTestPool(t *testing.T, mode string) (*Pool, string) {
	t.Helper()
	t.Setenv("FAKE_WORKER", mode)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := New(Config{Binary: self, Dir: dir, Grace: 300 * time.Millisecond, Log: &strings.Builder{}})
	t.Cleanup(p.Close)
	return p, dir
}

func start(t *testing.T, p *Pool, id, provisionAddr string) *worker {
	t.Helper()
	resp, err := p.StartWorker(context.Background(), &fnpb.StartWorkerRequest{WorkerId: id,
		ProvisionEndpoint: &pipepb.ApiServiceDescriptor{Url: provisionAddr}})
	if err != nil || resp.GetError() != "" {
		t.Fatalf("StartWorker %s: %v %s", id, err, resp.GetError())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.workers[id]
}

// gone reports, waiting up to a minute, whether the worker was reaped and
// its directory deleted.
func gone(w *worker) bool {
	select {
	case <-w.done:
	case <-time.After(time.Minute):
		return false
	}
	_, err := os.Stat(w.dir)
	return errors.Is(err, os.ErrNotExist) && w.cmd.ProcessState != nil
}

// TestStopWorker: a worker runs as a child with its options, and
// StopWorker returns once it has exited and its directory is gone — also
// one that ignores SIGTERM, killed after the grace period.
func TestStopWorker(t *testing.T) {
	addr := serveProvision(t)
	for _, mode := range []string{"run", "stubborn"} {
		p, dir := newTestPool(t, mode)
		w := start(t, p, "w1", addr)
		if filepath.Dir(w.dir) != dir || p.Running() != 1 {
			t.Fatalf("%s: worker dir %s, %d running", mode, w.dir, p.Running())
		}
		waitReady(t, w)
		if _, err := p.StopWorker(context.Background(), &fnpb.StopWorkerRequest{WorkerId: "w1"}); err != nil {
			t.Fatal(err)
		}
		if w.cmd.ProcessState == nil || !gone(w) || p.Running() != 0 {
			t.Errorf("%s: StopWorker returned before the worker was reaped and its files deleted", mode)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s: left behind %v", mode, entries)
		}
		if killed := strings.Contains(w.cmd.ProcessState.String(), "killed"); killed != (mode == "stubborn") {
			t.Errorf("%s: the worker ended with %v", mode, w.cmd.ProcessState)
		}
	}
}

// waitReady waits until the fake worker has set itself up.
func waitReady(t *testing.T, w *worker) {
	t.Helper()
	for range 600 {
		if _, err := os.Stat(filepath.Join(w.dir, "ready")); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the fake worker never got ready")
}

// TestWorkerExits: a worker that exits by itself (its job ended) is
// reaped and its files deleted; stopping it afterwards is no error.
func TestWorkerExits(t *testing.T) {
	p, _ := newTestPool(t, "exit")
	w := start(t, p, "w1", serveProvision(t))
	if !gone(w) {
		t.Fatal("the worker was not reaped")
	}
	if !w.cmd.ProcessState.Success() {
		t.Errorf("the fake worker found something wrong in what it was given: %v", w.cmd.ProcessState)
	}
	if p.Running() != 0 {
		t.Errorf("%d still running", p.Running())
	}
	resp, err := p.StopWorker(context.Background(), &fnpb.StopWorkerRequest{WorkerId: "w1"})
	if err != nil || resp.GetError() != "" {
		t.Errorf("StopWorker after the worker exited: %v %s", err, resp.GetError())
	}
}

// TestStartRefused: bad requests, a worker ID in use and a closed pool are
// refused in the response, leaving nothing behind; Close stops every
// worker.
func TestStartRefused(t *testing.T) {
	addr := serveProvision(t)
	p, dir := newTestPool(t, "run")
	a, b := start(t, p, "a", addr), start(t, p, "b", addr)
	for _, req := range []*fnpb.StartWorkerRequest{
		{WorkerId: "a", ProvisionEndpoint: &pipepb.ApiServiceDescriptor{Url: addr}},
		{WorkerId: "../escape", ProvisionEndpoint: &pipepb.ApiServiceDescriptor{Url: addr}},
		{WorkerId: "c"},
	} {
		resp, err := p.StartWorker(context.Background(), req)
		if err != nil || resp.GetError() == "" {
			t.Errorf("%v: started (%v)", req, err)
		}
	}
	p.Close()
	if !gone(a) || !gone(b) {
		t.Error("Close left workers running")
	}
	resp, _ := p.StartWorker(context.Background(), &fnpb.StartWorkerRequest{WorkerId: "d",
		ProvisionEndpoint: &pipepb.ApiServiceDescriptor{Url: addr}})
	if !strings.Contains(resp.GetError(), "shutting down") {
		t.Errorf("a closed pool started a worker: %q", resp.GetError())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind %v", entries)
	}
}
