// Command dataflow runs a zarrforge recipe: it turns a collection of netCDF
// files into a Zarr store, on any Beam runner.
//
//	go run ./examples/dataflow                       # the built-in sample recipe
//	go run ./examples/dataflow --recipe oisst.yaml   # your recipe, on the direct runner
//	go run ./examples/dataflow --recipe oisst.yaml --target /tmp/oisst.zarr --runner prism
//	zarrforge --recipe oisst.yaml --runner dataflow --project P --region R \
//	    --temp_location gs://B/tmp --staging_location gs://B/staging --worker_binary ./zarrforge
//
// With no --recipe it runs the sample recipe on the small sample files
// shipped in the repository (embedded in this binary) and writes a local
// store. --target overrides the recipe's target.url. The exit status is 0 on
// success; on failure the last line printed is the root cause.
package main

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx" // links the prism, direct and dataflow runners

	"github.com/zarrforge/zarrforge/recipes"
	"github.com/zarrforge/zarrforge/transforms"
)

//go:embed sample/*.nc sample/recipe.yaml
var sample embed.FS

var (
	recipePath = flag.String("recipe", "", "recipe YAML file (default: the built-in sample recipe)")
	targetURL  = flag.String("target", "", "overrides target.url of the recipe")
	verbose    = flag.Bool("verbose", false, "show the runner's own log lines too")
	quiet      = flag.Bool("quiet", false, "show only warnings, errors and where the store is")
	prune      = flag.Int("prune", 0, "convert only the first N keys of the concat dimension (to try a recipe on a big archive); 0: all")
	cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of this process to the file (local runners)")
	memProfile = flag.String("memprofile", "", "write a heap profile of this process to the file at the end (local runners)")
)

func main() {
	flag.Usage = usage
	flag.Parse()
	beam.Init()
	if !*verbose {
		// The local runners log through slog, and quote every failure in
		// full several times: their lines would bury ours, so only the
		// stages' own lines are shown. beam.Init sets the default logger,
		// so this comes after it.
		slog.SetDefault(slog.New(stageLines{quiet: *quiet}))
	}
	if err := profile(context.Background(), run); err != nil {
		msg := err.Error() // a mistake found before the pipeline ran: the library's own text
		var re runnerError
		if errors.As(err, &re) {
			msg = re.explain()
		}
		fmt.Fprintf(os.Stderr, "zarrforge: error: %s\n", recipes.Explain(msg))
		os.Exit(1)
	}
}

// ownFlags are this program's flags, shown first by usage; runnerFlags
// the Beam flags most runs need, shown next; Beam's other flags come last.
var (
	ownFlags    = []string{"recipe", "target", "prune", "quiet", "verbose", "shared_filesystem", "cpuprofile", "memprofile"}
	runnerFlags = []string{"runner", "project", "region", "staging_location", "temp_location", "worker_binary",
		"service_account_email", "async", "dry_run", "endpoint", "environment_type", "environment_config"}
)

// usage prints the program's own flags first, then the runner's most used,
// then Beam's others: --help is for the recipe before the runner.
func usage() {
	out := flag.CommandLine.Output()
	fmt.Fprintf(out, "usage: %s [--recipe FILE] [flags]: convert a recipe's inputs into a Zarr store (no flags: the sample)\n", filepath.Base(os.Args[0]))
	shown := map[string]bool{}
	section := func(title string, names []string) {
		fmt.Fprintf(out, "\n%s:\n", title)
		for _, name := range names {
			if f := flag.Lookup(name); f != nil && !shown[name] {
				shown[name] = true
				fmt.Fprintf(out, "  --%s\n    \t%s\n", f.Name, f.Usage)
			}
		}
	}
	section("This program", ownFlags)
	section("The runner (direct, the default; prism; dataflow; universal)", runnerFlags)
	var rest []string
	flag.VisitAll(func(f *flag.Flag) {
		if !shown[f.Name] {
			rest = append(rest, f.Name)
		}
	})
	section("Beam's other flags", rest)
}

// profile runs fn under the CPU and heap profilers the flags ask for. The
// local runners execute the pipeline in this process, so the profiles cover
// the runner and every stage.
func profile(ctx context.Context, fn func(context.Context) error) error {
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	err := fn(ctx)
	if *memProfile != "" {
		f, ferr := os.Create(*memProfile)
		if ferr != nil {
			return ferr
		}
		defer f.Close()
		runtime.GC() // the profile counts allocations up to the last collection
		if ferr := pprof.Lookup("allocs").WriteTo(f, 0); ferr != nil {
			return ferr
		}
	}
	return err
}

func run(ctx context.Context) error {
	r, err := loadRecipe()
	if err != nil {
		return err
	}
	if *targetURL != "" {
		r.Target.URL = *targetURL
	}
	if *prune < 0 {
		return fmt.Errorf("--prune %d: give a number of concat keys >= 1", *prune)
	}
	if *prune > 0 {
		r.Pattern = r.Pattern.Prune(*prune)
	}
	runner := *runners.Runner
	if runner == "" {
		// The direct runner is the local default. StoreChunks decodes and
		// compresses each chunk on every core itself, so one bundle at a
		// time loses nothing; Prism (Beam v2.77) busy-waits on a core while
		// a bundle runs, which cost a third of the machine on two cores.
		runner = "direct"
		if err := flag.Set("runner", runner); err != nil {
			return err
		}
	}
	place := placementOf(runner)
	if err := checkPlacement(place, r); err != nil {
		return err
	}
	if err := defaultWorkerBinary(place); err != nil {
		return err
	}
	dryRun := false
	if f := flag.Lookup("dry_run"); runner == "dataflow" && f != nil && f.Value.String() == "true" {
		dryRun = true
	}
	if err := r.Pattern.Auth().Check(); err != nil && place.inProcess {
		// Workers in this process read the inputs here: their credentials
		// must be in this environment (other workers read their own).
		return fmt.Errorf("recipe pattern.http: %w", err)
	}
	// Recipe mistakes that need an input's header to see (a chunk size for
	// a dimension the data lacks) are reported before anything runs (a dry
	// run only translates the job: it reads nothing).
	if !dryRun {
		var err error
		if r, err = r.Resolve(ctx); err != nil { // pattern.groups: all; one input's dimension
			return err
		}
		if err := r.Check(ctx); err != nil {
			return err
		}
	}
	r.RunID = newRunID()
	p, s := beam.NewPipelineWithRoot()
	if _, err := recipes.Build(s, r); err != nil {
		return err
	}
	if !*quiet {
		fmt.Fprintf(os.Stderr, "zarrforge: running %d inputs into %s on %s\n", r.Pattern.NumInputs(), r.Target.URL, runner)
	}
	res, err := execute(ctx, p, r, place)
	if err != nil || dryRun || *jobopts.Async {
		return err
	}
	if res != nil && !*quiet {
		printCounters(res, r.Cache != nil)
	}
	printWritten(os.Stdout, r)
	return nil
}

// execute runs the pipeline on the runner and waits for it, unless it is
// only translated (a dry run) or submitted (--async). On a job server it
// follows the job's progress, which its workers log there, from the job's
// metrics. When the job fails, the store it left unfinished is released
// once the runner says the job is over, so that a run again can take it
// at once (see transforms.ReleaseTarget).
func execute(ctx context.Context, p *beam.Pipeline, r recipes.Recipe, place placement) (beam.PipelineResult, error) {
	var watch *jobWatch
	if place.jobServer && !*jobopts.Async {
		if *jobopts.JobName == "" {
			*jobopts.JobName = "zarrforge-" + r.RunID
		}
		if w, err := newJobWatch(ctx, *jobopts.Endpoint, *jobopts.JobName, os.Stderr, *quiet); err == nil {
			watch = w
			defer w.close()
			wctx, stop := context.WithCancel(ctx)
			defer stop()
			go w.run(wctx)
		}
	}
	res, err := beamx.RunWithMetrics(ctx, p)
	if err == nil {
		if *jobopts.Async {
			fmt.Printf("submitted; the job writes %s\n", r.Target.URL)
		} else if f := flag.Lookup("dry_run"); f != nil && f.Value.String() == "true" && place.runner == "dataflow" {
			fmt.Println("dry run: the job was translated, nothing was submitted")
		}
		return res, nil
	}
	rerr := runnerError{err: err}
	if place.outOfProcess() {
		rerr.stage = "the job"
		if watch != nil {
			if stage := watch.stage(ctx); stage != "" {
				rerr.stage = stage
			}
		}
	}
	// Only a job known to be over is released: in this process it is;
	// a job server says; of a Dataflow job the lease judges.
	over := place.inProcess || (watch != nil && watch.ended(ctx))
	if over && !*jobopts.Async {
		if released, relErr := r.Release(ctx); relErr != nil {
			fmt.Fprintf(os.Stderr, "zarrforge: the failed run's store could not be released (%v): "+
				"another run can take it 5 minutes after this one was last heard from\n", relErr)
		} else if released && !*quiet {
			fmt.Fprintf(os.Stderr, "zarrforge: %s is unfinished and released: run again to write it\n", r.Target.URL)
		}
	}
	return nil, rerr
}

// newRunID is a random ID for the run, which names it in the store's
// marker.
func newRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// printWritten says what the run wrote and how to open it: a reference
// set through fsspec, a Zarr v2 store with any xarray, a v3 store with
// zarr-python 3 or later (Debian's zarr 2 cannot read v3) or zarrita.
func printWritten(w io.Writer, r recipes.Recipe) {
	fmt.Fprintf(w, "wrote %s\n", r.Target.URL)
	const xarray = "open it with xarray (a Python that has it: pip install xarray zarr fsspec, or Debian's python3-xarray): "
	switch {
	case r.Target.References():
		fmt.Fprintf(w, xarray+"python3 -c 'import xarray; print(xarray.open_dataset(\"reference://\", engine=\"zarr\", "+
			"backend_kwargs={\"consolidated\": False, \"storage_options\": {\"fo\": %q}}))'\n", r.Target.URL)
	case r.Target.ZarrFormat == 3:
		fmt.Fprintf(w, "open it with xarray and zarr-python 3 or later (pip install xarray 'zarr>=3'; zarr 2, as Debian ships it, cannot read Zarr v3): "+
			"python3 -c 'import xarray; print(xarray.open_zarr(%q))', or with zarrita (npm install zarrita)\n", r.Target.URL)
	default:
		fmt.Fprintf(w, xarray+"python3 -c 'import xarray; print(xarray.open_zarr(%q))'\n", r.Target.URL)
	}
}

// loadRecipe reads --recipe, or unpacks the embedded sample files into a
// new private temporary directory (nothing planted at a known path, a
// symbolic link say, is followed) and returns the sample recipe pointing at
// them, with the store beside them.
func loadRecipe() (recipes.Recipe, error) {
	if *recipePath != "" {
		return recipes.Load(*recipePath)
	}
	top, err := os.MkdirTemp("", "zarrforge-sample-")
	if err != nil {
		return recipes.Recipe{}, err
	}
	dir := filepath.Join(top, "inputs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return recipes.Recipe{}, err
	}
	names, err := fs.Glob(sample, "sample/*.nc")
	if err != nil {
		return recipes.Recipe{}, err
	}
	for _, n := range names {
		b, err := sample.ReadFile(n)
		if err != nil {
			return recipes.Recipe{}, err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(n)), b, 0o644); err != nil {
			return recipes.Recipe{}, err
		}
	}
	text, err := sample.ReadFile("sample/recipe.yaml")
	if err != nil {
		return recipes.Recipe{}, err
	}
	yaml := strings.NewReplacer("$SAMPLE_DIR", filepath.ToSlash(dir),
		"$SAMPLE_OUT", filepath.ToSlash(filepath.Join(top, "sample.zarr"))).Replace(string(text))
	return recipes.Parse([]byte(yaml), "sample recipe")
}

// wallSeconds returns each stage's wall time in seconds, by the name of
// its span: from its first element's start to its last's end, whichever
// worker ran them (not the elements' times summed across workers).
func wallSeconds(res beam.PipelineResult) func(span string) float64 {
	first, last := map[string]int64{}, map[string]int64{}
	for _, d := range res.Metrics().AllMetrics().Distributions() {
		if d.Key.Namespace != transforms.CounterNamespace || d.Result().Count == 0 {
			continue
		}
		name, r := d.Key.Name, d.Result()
		if v, ok := first[name]; !ok || r.Min < v {
			first[name] = r.Min
		}
		last[name] = max(last[name], r.Max)
	}
	return func(span string) float64 { return float64(last[span]-first[span]) / 1000 }
}

// printCounters prints a progress line per stage that did something (the
// cache stage only when there is a cache), from the Beam counters the
// stages keep.
func printCounters(res beam.PipelineResult, cached bool) {
	n := map[string]int64{}
	for _, c := range res.Metrics().AllMetrics().Counters() {
		if c.Key.Namespace == transforms.CounterNamespace {
			n[c.Key.Name] += c.Result()
		}
	}
	secs := wallSeconds(res)
	if cached { // a stage that did nothing says nothing
		fmt.Fprintf(os.Stderr, "zarrforge: %s: %d inputs copied (%d bytes), %d already cached, %.1f s\n", transforms.StageCacheInputs,
			n[transforms.CounterInputsCached], n[transforms.CounterInputBytesCached], n[transforms.CounterInputsCacheHits],
			secs(transforms.SpanCacheInputs))
	}
	if r := n[transforms.CounterInputRetries]; r > 0 {
		fmt.Fprintf(os.Stderr, "zarrforge: inputs: %d reads retried\n", r)
	}
	fmt.Fprintf(os.Stderr, "zarrforge: %s: %d inputs read, %.1f s\n", transforms.StageDetermineSchema,
		n[transforms.CounterInputsDescribed], secs(transforms.SpanDetermineSchema))
	if _, refs := n[transforms.CounterChunksReferenced]; refs {
		fmt.Fprintf(os.Stderr, "zarrforge: %s: %d chunks referenced, %.1f s; inputs: %d bytes fetched\n", transforms.StageWriteReferences,
			n[transforms.CounterChunksReferenced], secs(transforms.SpanWriteReferences), n[transforms.CounterRefBytesFetched])
		return
	}
	copied := ""
	if k := n[transforms.CounterChunksCopied]; k > 0 {
		copied = fmt.Sprintf(", %d of them copied as the inputs store them and %d encoded", k, n[transforms.CounterChunksWritten]-k)
	}
	fmt.Fprintf(os.Stderr, "zarrforge: %s: %d chunks written (%d bytes)%s, %.1f s; inputs: %d bytes fetched, %d decoded for %d needed (%s)\n",
		transforms.StageStoreChunks, n[transforms.CounterChunksWritten], n[transforms.CounterChunkBytes], copied, secs(transforms.SpanStoreChunks),
		n[transforms.CounterInputBytes], n[transforms.CounterSourceDecoded], n[transforms.CounterSourceNeeded],
		amplification(n[transforms.CounterSourceDecoded], n[transforms.CounterSourceNeeded]))
}

// stageLines is the log handler without --verbose: it shows the stages'
// own lines (their progress, and warnings such as retries) as
// "zarrforge: ...", and none of the runner's; quiet keeps only warnings
// and errors.
type stageLines struct {
	quiet bool
	out   io.Writer // os.Stderr when nil
}

var stageNames = []string{transforms.StageCacheInputs, transforms.StageDetermineSchema, transforms.StagePrepareTarget,
	transforms.StageStoreChunks, transforms.StageFinalizeTarget}

func (h stageLines) Enabled(_ context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo && (!h.quiet || l >= slog.LevelWarn)
}

func (h stageLines) Handle(_ context.Context, r slog.Record) error {
	// Prism passes on its workers' lines marked "[SDK] ".
	msg := strings.TrimPrefix(r.Message, "[SDK] ")
	ours := strings.HasPrefix(msg, "retrying ") || slices.ContainsFunc(stageNames, func(s string) bool {
		return strings.HasPrefix(msg, s+": ")
	})
	if ours {
		out := h.out
		if out == nil {
			out = os.Stderr
		}
		fmt.Fprintf(out, "zarrforge: %s\n", strings.TrimSpace(msg))
	}
	return nil
}

func (h stageLines) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h stageLines) WithGroup(string) slog.Handler      { return h }

// amplification is how many times over the inputs' bytes were decoded,
// for the summary line: 1.00x when each was decoded once.
func amplification(decoded, needed int64) string {
	if needed == 0 {
		return "nothing needed"
	}
	return fmt.Sprintf("%.2fx", float64(decoded)/float64(needed))
}

// runnerError is a failure of the pipeline, reported by the runner.
type runnerError struct {
	err error
	// stage is, for a job whose workers are other processes, the stage
	// the job's metrics last showed at work ("the job" when none was
	// seen); "" for a job in this process.
	stage string
}

func (e runnerError) Error() string { return e.err.Error() }

// explain is the error's one line: the cause the failing stage returned
// or, for a worker process that went away, which is not a stage's error,
// a line saying so (never the runner's stack trace).
func (e runnerError) explain() string {
	cause := rootCause(e.err)
	if e.stage == "" {
		return cause
	}
	switch {
	case stackFrame.MatchString(cause):
		return fmt.Sprintf("%s failed in the runner, which gave a stack trace for its reason (see its log): "+
			"a worker process of the job may have died", e.stage)
	case workerGone.MatchString(cause):
		return fmt.Sprintf("%s failed: a worker process of the job died or was killed while it ran (the runner says: %s)",
			e.stage, workerGone.FindString(cause))
	}
	return cause
}

// stackFrame matches a line of a Go stack trace, which some runners give
// as a job's error when one of their own goroutines panicked.
var stackFrame = regexp.MustCompile(`\.go:\d+( \+0x[0-9a-f]+)?\s*$|^goroutine \d+ \[|^panic: `)

// workerGone matches how runners report a worker process that went away.
var workerGone = regexp.MustCompile(`SDK worker disconnected|worker process (died|exited|crashed)|harness (died|exited|crashed)`)

// failedDoFn is how Beam's runners (direct, Prism, Dataflow) introduce the
// error a DoFn returned, quoted whole on the lines that follow.
var failedDoFn = regexp.MustCompile(`(?m)^\s*DoFn\[[^\n]*\] failed:\s*$`)

// rootCause extracts from a runner's error, which wraps the cause in the
// runner's own context (plans, bundles, stages; errors do not survive a
// runner as values, so this is text), the error the failing stage
// returned: the lines after Beam's last "DoFn[...] failed:" up to the
// runner's next "caused by:". Failing that, the last line, which is where
// runners put the innermost cause. A combiner's cause loses the method
// Beam names before it.
func rootCause(err error) string {
	text := strings.TrimSpace(err.Error())
	cause := text
	if loc := failedDoFn.FindAllStringIndex(text, -1); len(loc) > 0 {
		cause = text[loc[len(loc)-1][1]:]
		if i := strings.Index(cause, "\tcaused by:"); i >= 0 {
			cause = cause[:i]
		}
	} else if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		cause = text[i+1:]
	}
	return combinePrefix.ReplaceAllString(strings.Join(strings.Fields(cause), " "), "")
}

// combinePrefix is how Beam introduces the error of a CombineFn's method
// ("invoking AddInput DetermineSchema: "): runner context, not the cause.
var combinePrefix = regexp.MustCompile(`^(invoking (CreateAccumulator|AddInput|MergeAccumulators|ExtractOutput) \S+: )+`)
