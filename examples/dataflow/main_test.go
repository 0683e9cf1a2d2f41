package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/recipes"
)

func TestMain(m *testing.M) { ptest.Main(m) }

// TestSampleRecipe runs the program as `go run ./examples/dataflow` does,
// with --target pointing into a temporary directory, and asks xarray whether
// the store matches the sample files.
func TestSampleRecipe(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sample.zarr")
	*targetURL = out
	defer func() { *targetURL = "" }()
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, manifest := sampleCollection(t)
	beamtest.CompareWithXarray(t, out, manifest, files, map[string][]int64{"sst": {5, 1, 24, 48}})
}

// sampleCollection returns the sample's files in date order and a manifest
// for beamtest.CompareWithXarray to take them with.
func sampleCollection(t *testing.T) ([]string, string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(beamtest.Root(), "examples", "dataflow", "sample", "*.nc"))
	if err != nil || len(files) != 10 {
		t.Fatalf("sample files: %v %v", files, err)
	}
	manifest := filepath.Join(t.TempDir(), "collection.json")
	if err := os.WriteFile(manifest, []byte(`{"concat_dim": "time", "files": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return files, manifest
}

// TestPrune: --prune 3 converts the sample's first three days, and the
// store equals xarray's reading of those three files.
func TestPrune(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pruned.zarr")
	*targetURL, *prune = out, 3
	defer func() { *targetURL, *prune = "", 0 }()
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, manifest := sampleCollection(t)
	beamtest.CompareWithXarray(t, out, manifest, files[:3], nil)
	*prune = -1
	if err := run(context.Background()); err == nil || !strings.Contains(err.Error(), "--prune") {
		t.Errorf("--prune -1: %v", err)
	}
}

func TestRootCause(t *testing.T) {
	const cause = "DetermineSchema: netcdf: /data/recipe x.nc: StoreChunks: dimension list at offset 16: not a valid netCDF file"
	tests := []struct{ name, text, want string }{
		{"prism", "job job-001 failed:\nbundle inst003 stage-004 failed:process bundle failed for instruction inst003 using plan stage-004 : " +
			"while executing Process for Plan[stage-004]:\n1: DataSource[S[stage-004_source@localhost:36241], i0] Out:8\n" +
			"8: ParDo[transforms.describeFn] Out:[7] Sig: func(context.Context, int) error, SideInputs: []\n\tcaused by:\n" +
			"source failed processing data\n\tcaused by:\nDoFn[UID:8, PID:e5, Name: github.com/zarrforge/zarrforge/transforms.describeFn] failed:\n" +
			cause, cause},
		{"direct", "while executing FinishBundle for Plan[plan]:\n27: ParDo[beam.createFn] Out:[26]\n1: Discard\n\tcaused by:\n" +
			"DoFn[UID:2, PID:transforms.describeFn, Name: github.com/zarrforge/zarrforge/transforms.describeFn] failed:\n" +
			cause + "\n\tcaused by:\nmore runner text", cause},
		{"a cause on two lines", "x\nDoFn[UID:2, PID:p, Name: n] failed:\n\tmaking side input 0\ngot 0 values", "making side input 0 got 0 values"},
		{"no DoFn", "while executing Process for Plan[stage-002]:\n1: DataSource\nthe innermost cause", "the innermost cause"},
	}
	for _, tc := range tests {
		if got := rootCause(errString(tc.text)); got != tc.want {
			t.Errorf("%s: rootCause = %q, want %q", tc.name, got, tc.want)
		}
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// TestOISSTRecipe checks that the real-archive recipe loads and names the
// archive's files.
func TestOISSTRecipe(t *testing.T) {
	r, err := recipes.Load("oisst-http.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in, err := r.Pattern.Inputs()
	if err != nil {
		t.Fatal(err)
	}
	const want = "https://www.ncei.noaa.gov/data/sea-surface-temperature-optimum-interpolation/v2.1/access/avhrr/198208/oisst-avhrr-v02r01.19820831.nc"
	if len(in) != 365 || in[364].URL != want {
		t.Fatalf("%d inputs, the last %s; want 365, the last %s", len(in), in[len(in)-1].URL, want)
	}
	if !strings.HasSuffix(in[29].URL, "/avhrr/198109/oisst-avhrr-v02r01.19810930.nc") {
		t.Errorf("input 30: %s", in[29].URL)
	}
}

func TestDataflowNeedsGCS(t *testing.T) {
	r, err := recipes.Load("oisst-http.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkPlacement(dataflowPlacement, r); err == nil || !strings.Contains(err.Error(), "target.url") {
		t.Fatalf("got %v, want the local target refused", err)
	}
	r.Target.URL = "gs://bucket/oisst.zarr"
	if err := checkPlacement(dataflowPlacement, r); err == nil || !strings.Contains(err.Error(), "cache.url") {
		t.Fatalf("got %v, want the local cache refused", err)
	}
	r.Cache.URL = "gs://bucket/cache"
	if err := checkPlacement(dataflowPlacement, r); err != nil {
		t.Fatal(err)
	}
	r.Pattern.Template = "/data/oisst-avhrr-v02r01.{time}.nc"
	if err := checkPlacement(dataflowPlacement, r); err == nil || !strings.Contains(err.Error(), "pattern.template") {
		t.Fatalf("got %v, want the local inputs refused", err)
	}
}

// TestWhatItShows: by default the program shows the stages' own lines (the
// target laid out, the store complete, a summary per stage) and none of the
// runner's log; --quiet shows nothing on stderr but where the store is on
// stdout.
func TestWhatItShows(t *testing.T) {
	bin := buildProgram(t)
	code, stderr := runProgram(t, bin, "", "--target", filepath.Join(t.TempDir(), "a.zarr"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"zarrforge: PrepareTarget: ", "zarrforge: FinalizeTarget: ", "zarrforge: StoreChunks: 11 chunks written", "decoded for"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "level=") {
		t.Errorf("the runner's log on stderr:\n%s", stderr)
	}
	code, stderr = runProgram(t, bin, "", "--quiet", "--target", filepath.Join(t.TempDir(), "b.zarr"))
	if code != 0 || stderr != "" {
		t.Errorf("--quiet: exit %d, stderr %q", code, stderr)
	}
}

// TestOpenHint: the closing hint says how to open what was written: a v2
// store with any xarray, a v3 store with zarr-python 3 or zarrita (Debian's
// zarr 2 cannot), a reference set through fsspec.
func TestOpenHint(t *testing.T) {
	for _, tc := range []struct {
		target      recipes.Target
		want, wrong string
	}{
		{recipes.Target{URL: "/o/v2.zarr"}, `xarray.open_zarr("/o/v2.zarr")`, "zarr>=3"},
		{recipes.Target{URL: "/o/v3.zarr", ZarrFormat: 3}, "zarr-python 3 or later", "Debian's python3-xarray"},
		{recipes.Target{URL: "/o/refs.json", Format: "references"}, `"fo": "/o/refs.json"`, "open_zarr"},
	} {
		var b strings.Builder
		printWritten(&b, recipes.Recipe{Target: tc.target})
		if !strings.Contains(b.String(), tc.want) || strings.Contains(b.String(), tc.wrong) {
			t.Errorf("%s: %q, want %q and not %q", tc.target.URL, b.String(), tc.want, tc.wrong)
		}
	}
}

// TestUsage: --help shows this program's flags first, then the runner's
// most used, then Beam's others.
func TestUsage(t *testing.T) {
	var b strings.Builder
	flag.CommandLine.SetOutput(&b)
	defer flag.CommandLine.SetOutput(nil)
	usage()
	help := b.String()
	order := []string{"--recipe\n", "--memprofile\n", "--runner\n", "--worker_binary\n", "Beam's other flags"}
	for i := 1; i < len(order); i++ {
		if a, z := strings.Index(help, order[i-1]), strings.Index(help, order[i]); a < 0 || z < 0 || a > z {
			t.Fatalf("--help shows %q at %d and %q at %d:\n%s", order[i-1], a, order[i], z, help)
		}
	}
}

// TestStageLines: the stages' progress lines are shown as the direct
// runner logs them and as Prism passes on its workers' ("[SDK] ..."); the
// runners' own lines are not.
func TestStageLines(t *testing.T) {
	var b strings.Builder
	h := stageLines{out: &b}
	for _, msg := range []string{"PrepareTarget: /o.zarr: 8 arrays, 11 chunks to write", "[SDK] FinalizeTarget: /o.zarr complete",
		"Executing pipeline with the direct runner.", "[SDK] some worker chatter"} {
		if err := h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelInfo, msg, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if want := "zarrforge: PrepareTarget: /o.zarr: 8 arrays, 11 chunks to write\nzarrforge: FinalizeTarget: /o.zarr complete\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

var dataflowPlacement = placement{runner: "dataflow", remote: "Dataflow"}

// TestPlacement: where the runner flags put the workers, and which local
// paths are refused for it: none when the workers are this process or on
// this machine; the target, cache and inputs when a job server, a worker
// pool or containers run them elsewhere, unless --shared_filesystem says
// they see this machine's files.
func TestPlacement(t *testing.T) {
	local, err := recipes.Parse([]byte("pattern: {template: \"/data/{time}.nc\", concat_dim: {name: time, keys: [a]}}\ntarget: {url: /out/x.zarr}\n"), "t")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		runner, endpoint, env, config string
		inProcess, jobServer          bool
		refused                       string // "" when the local recipe may run
	}{
		{runner: "direct", inProcess: true},
		{runner: "prism", inProcess: true},
		{runner: "prism", env: "EXTERNAL", config: "localhost:50000"},
		{runner: "prism", env: "EXTERNAL", config: "10.0.0.7:50000", refused: "the worker pool at 10.0.0.7:50000"},
		{runner: "universal", endpoint: "localhost:8073", env: "EXTERNAL", config: "127.0.0.1:50000", jobServer: true},
		{runner: "universal", endpoint: "localhost:8073", env: "LOOPBACK", inProcess: true, jobServer: true},
		{runner: "universal", endpoint: "flink-jobserver:8099", env: "EXTERNAL", config: "localhost:50000", jobServer: true,
			refused: "the job server at flink-jobserver:8099"},
		{runner: "flink", endpoint: "localhost:8099", jobServer: true, refused: "containers"},
		{runner: "spark", endpoint: "[::1]:8099", env: "PROCESS", config: "{}", jobServer: true},
	} {
		name := fmt.Sprintf("%s %s %s %s", tc.runner, tc.endpoint, tc.env, tc.config)
		setFlags(t, map[string]string{"endpoint": tc.endpoint, "environment_type": tc.env, "environment_config": tc.config})
		p := placementOf(tc.runner)
		if p.inProcess != tc.inProcess || p.jobServer != tc.jobServer {
			t.Errorf("%s: placement %+v", name, p)
		}
		err := checkPlacement(p, local)
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("%s: refused: %v", name, err)
		case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused) || !strings.Contains(err.Error(), "target.url")):
			t.Errorf("%s: got %v, want the local target refused naming %s", name, err, tc.refused)
		}
		if tc.refused == "" {
			continue
		}
		setFlags(t, map[string]string{"shared_filesystem": "true"})
		if err := checkPlacement(p, local); err != nil {
			t.Errorf("%s with --shared_filesystem: %v", name, err)
		}
		setFlags(t, map[string]string{"shared_filesystem": "false"})
	}
}

// setFlags sets command-line flags for the rest of the test, and puts
// them back after it.
func setFlags(t *testing.T, values map[string]string) {
	t.Helper()
	for name, v := range values {
		f := flag.Lookup(name)
		old := f.Value.String()
		if err := f.Value.Set(v); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = f.Value.Set(old) })
	}
}

// TestRunnerFailure: a job whose worker process died says so in one line,
// naming the stage its metrics last showed at work, never with the
// runner's stack frame; a stage's own error stays as it was.
func TestRunnerFailure(t *testing.T) {
	for _, tc := range []struct {
		err, stage, want string
	}{
		{"job failed: bundle inst007 stage-008 failed:SDK worker disconnected: worker[job-003_go], 1 active instructions, error: context canceled",
			"StoreChunks", "StoreChunks failed: a worker process of the job died or was killed while it ran (the runner says: SDK worker disconnected)"},
		{"job failed:\n\t/root/go/pkg/mod/golang.org/x/sync@v0.24.0/errgroup/errgroup.go:78 +0x95", "the job",
			"the job failed in the runner, which gave a stack trace for its reason (see its log): a worker process of the job may have died"},
		{"DoFn[UID:1, PID:p, Name: x] failed:\n\tStoreChunks: input a.nc: not netCDF", "StoreChunks", "StoreChunks: input a.nc: not netCDF"},
		{"bundle failed:SDK worker disconnected", "", "bundle failed:SDK worker disconnected"}, // in process: as the runner said
	} {
		got := runnerError{err: errString(tc.err), stage: tc.stage}.explain()
		if got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.err, got, tc.want)
		}
	}
}
