package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/metricsx"
	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/zarrforge/zarrforge/transforms"
)

// watchEvery is how often a job on a job server is asked how far it got.
const watchEvery = 5 * time.Second

// jobWatch follows a job that a job server runs, found by its name: its
// workers log there, not here, so its progress is read from the job's
// metrics as it runs and printed when it changes; once the job is over,
// the server says how it ended.
type jobWatch struct {
	client jobpb.JobServiceClient
	conn   *grpc.ClientConn
	name   string
	out    io.Writer
	quiet  bool

	mu     sync.Mutex
	before map[string]bool  // jobs of that name the server had already
	id     string           // the job's ID, once found
	seen   map[string]int64 // the counters last seen
}

// newJobWatch connects to the job server at endpoint to follow the job
// named name, which is not submitted yet.
func newJobWatch(ctx context.Context, endpoint, name string, out io.Writer, quiet bool) (*jobWatch, error) {
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	w := &jobWatch{client: jobpb.NewJobServiceClient(conn), conn: conn, name: name, out: out, quiet: quiet,
		before: map[string]bool{}, seen: map[string]int64{}}
	if jobs, err := w.client.GetJobs(ctx, &jobpb.GetJobsRequest{}); err == nil {
		for _, j := range jobs.GetJobInfo() {
			w.before[j.GetJobId()] = true
		}
	}
	return w, nil
}

// run polls the job until ctx is done.
func (w *jobWatch) run(ctx context.Context) {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.poll(ctx, !w.quiet)
		}
	}
}

// poll finds the job if need be, reads its counters and, if show, prints
// what moved.
func (w *jobWatch) poll(ctx context.Context, show bool) {
	id := w.jobID(ctx)
	if id == "" {
		return
	}
	resp, err := w.client.GetJobMetrics(ctx, &jobpb.GetJobMetricsRequest{JobId: id})
	if err != nil {
		return // the job's end is reported by the runner, not here
	}
	res := metricsx.FromMonitoringInfos(nil, resp.GetMetrics().GetAttempted(), resp.GetMetrics().GetCommitted())
	now := map[string]int64{}
	for _, c := range res.AllMetrics().Counters() {
		if c.Key.Namespace == transforms.CounterNamespace {
			now[c.Key.Name] += c.Result()
		}
	}
	w.mu.Lock()
	old := w.seen
	w.seen = now
	w.mu.Unlock()
	if show {
		printProgress(w.out, old, now)
	}
}

// jobID is the ID of the job named w.name that the server did not have
// before, "" until it has it.
func (w *jobWatch) jobID(ctx context.Context) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.id != "" {
		return w.id
	}
	jobs, err := w.client.GetJobs(ctx, &jobpb.GetJobsRequest{})
	if err != nil {
		return ""
	}
	for _, j := range jobs.GetJobInfo() {
		if j.GetJobName() == w.name && !w.before[j.GetJobId()] {
			w.id = j.GetJobId()
		}
	}
	return w.id
}

// ended reports whether the server says the job is over (done, failed or
// cancelled): only then may what it left be released.
func (w *jobWatch) ended(ctx context.Context) bool {
	id := w.jobID(ctx)
	if id == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := w.client.GetState(ctx, &jobpb.GetJobStateRequest{JobId: id})
	if err != nil {
		return false
	}
	return slices.Contains([]jobpb.JobState_Enum{jobpb.JobState_DONE, jobpb.JobState_FAILED, jobpb.JobState_CANCELLED}, st.GetState())
}

// stage is the last stage, in the order the pipeline runs them, that the
// job's counters show at work ("" when none did), as the job server has
// them now.
func (w *jobWatch) stage(ctx context.Context) string {
	w.poll(ctx, false)
	w.mu.Lock()
	defer w.mu.Unlock()
	return lastStage(w.seen)
}

func (w *jobWatch) close() { w.conn.Close() }

// stageCounters are the counters that show each stage at work, in the
// order the stages run.
var stageCounters = []struct{ stage, counter, what string }{
	{transforms.StageCacheInputs, transforms.CounterInputsCached, "inputs copied"},
	{transforms.StageCacheInputs, transforms.CounterInputsCacheHits, "inputs already cached"},
	{transforms.StageDetermineSchema, transforms.CounterInputsDescribed, "inputs read"},
	{transforms.StageStoreChunks, transforms.CounterChunksWritten, "chunks written"},
	{transforms.StageWriteReferences, transforms.CounterChunksReferenced, "chunks referenced"},
}

// lastStage is the last stage whose counters in n are above zero.
func lastStage(n map[string]int64) string {
	stage := ""
	for _, s := range stageCounters {
		if n[s.counter] > 0 {
			stage = s.stage
		}
	}
	return stage
}

// printProgress prints a line for each counter that moved from old to now,
// as the stages' own lines read on the local runners:
// "zarrforge: StoreChunks: 1200 chunks written so far (job metrics)".
func printProgress(out io.Writer, old, now map[string]int64) {
	for _, s := range stageCounters {
		if v := now[s.counter]; v != old[s.counter] {
			extra := ""
			if s.counter == transforms.CounterChunksWritten {
				extra = fmt.Sprintf(" (%d bytes)", now[transforms.CounterChunkBytes])
			}
			fmt.Fprintf(out, "zarrforge: %s: %d %s%s so far\n", s.stage, v, s.what, extra)
		}
	}
}
