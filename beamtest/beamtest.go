// Package beamtest holds what zarrforge's tests share: running a pipeline on
// every runner the project supports, locating fixtures, reading a store back
// and asking xarray whether it matches the inputs.
//
// Test packages that run pipelines call ptest.Main from TestMain, as every
// Beam Go test does, so that the Prism runner can start workers in the test
// binary.
package beamtest

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/direct" // registers "direct"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"  // registers "prism"
)

// Runners returns the runners every pipeline test runs on: Prism, which
// serialises every DoFn as a remote worker would, and the direct runner.
func Runners() []string { return []string{"prism", "direct"} }

// Run builds a pipeline with build and runs it on each of Runners, as
// subtests named after the runner. build is called once per runner, with a
// fresh pipeline; it adds passert checks as it likes. The subtest fails if
// the pipeline does.
func Run(t *testing.T, build func(t *testing.T, s beam.Scope)) {
	t.Helper()
	ForEachRunner(t, func(t *testing.T, runner string) {
		if err := RunOn(t, runner, build); err != nil {
			t.Fatalf("pipeline failed on %s: %v", runner, err)
		}
	})
}

// ForEachRunner calls test once per runner of Runners, in a subtest named
// after it, for tests that check more than the pipeline's success (the store
// it wrote, the error it failed with).
func ForEachRunner(t *testing.T, test func(t *testing.T, runner string)) {
	t.Helper()
	for _, runner := range Runners() {
		t.Run(runner, func(t *testing.T) { test(t, runner) })
	}
}

// RunOn builds and runs one pipeline on the named runner and returns its
// error, for tests that expect a pipeline to fail.
func RunOn(t *testing.T, runner string, build func(t *testing.T, s beam.Scope)) error {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	build(t, s)
	_, err := beam.Run(context.Background(), runner, p)
	return err
}

// RunWithMetrics is RunOn that also returns the pipeline's counters in the
// given namespace, by name (summed over steps).
func RunWithMetrics(t *testing.T, runner, namespace string, build func(t *testing.T, s beam.Scope)) (map[string]int64, error) {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	build(t, s)
	res, err := beam.Run(context.Background(), runner, p)
	if err != nil {
		return nil, err
	}
	counters := map[string]int64{}
	if res != nil {
		for _, c := range res.Metrics().AllMetrics().Counters() {
			if c.Key.Namespace == namespace {
				counters[c.Key.Name] += c.Result()
			}
		}
	}
	return counters, nil
}

// Root returns the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// Testdata returns the path of a file or directory under the repository's
// testdata directory.
func Testdata(elem ...string) string {
	return filepath.Join(append([]string{Root(), "testdata"}, elem...)...)
}

// RealWorld returns the real-world conformance set beside the repository
// (../shared/realworld: files from other projects' test suites, never
// copied into the repository): its directory and the lines of its
// MANIFEST.tsv after the header, each a file's tab-separated fields (name,
// source repository, path, commit, size, magic, what ncdump -k says,
// sha256). The test is skipped, loudly, when the set is absent, and fails
// when CI is set (CI has it).
func RealWorld(t testing.TB) (dir string, files [][]string) {
	t.Helper()
	dir = filepath.Join(Root(), "..", "shared", "realworld")
	manifest, err := os.ReadFile(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		msg := "REAL-WORLD CONFORMANCE SKIPPED: no " + dir + " (it is beside the repository in CI): " + err.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	for i, line := range strings.Split(strings.TrimSpace(string(manifest)), "\n") {
		if i > 0 {
			files = append(files, strings.Split(line, "\t"))
		}
	}
	return dir, files
}

// inputsDigest is the provenance attribute that digests a run's input list.
var inputsDigest = regexp.MustCompile(`"zarrforge_inputs_sha256":"[0-9a-f]{64}"`)

// SameInputs blanks the digest of the inputs in a store's metadata document,
// for comparing stores byte for byte: stores of the same data made by runs
// over other input lists (an append and one run over all its inputs, remote
// inputs and local copies) differ only there.
func SameInputs(doc []byte) []byte {
	return inputsDigest.ReplaceAll(doc, []byte(`"zarrforge_inputs_sha256":"..."`))
}
