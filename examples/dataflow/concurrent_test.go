package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/storage/storagetest"
)

// TestConcurrentWriters runs the program twice at once on one target, at
// varied offsets and on both runners: two appends of different days, and a
// create racing an overwrite of different days. A store has one writer at
// a time, so whichever runs exit 0, the store must be what xarray makes of
// exactly their inputs (in the order they finished) — locally, and on an
// S3-compatible server (versitygw) through its conditional writes; a run
// that loses exits 1 saying the target is busy (or, coming second, that a
// create finds a store, or that an append's days come before the store's).
func TestConcurrentWriters(t *testing.T) {
	beamtest.RequirePython(t, "xarray")
	bin := buildProgram(t)
	manifest := beamtest.Testdata("collections", "daily", "collection.json")
	day := func(i int) string { return beamtest.Testdata("collections", "daily", fmt.Sprintf("daily_%02d.nc", i)) }
	days := func(from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, day(i))
		}
		return out
	}
	dir := t.TempDir()
	recipe := func(name, target, mode string, files []string) string {
		keys := make([]string, len(files))
		for i, f := range files {
			keys[i] = fmt.Sprintf("%q", f)
		}
		p := filepath.Join(dir, name+".yaml")
		text := fmt.Sprintf("pattern:\n  template: \"{time}\"\n  concat_dim: {name: time, keys: [%s]}\ntarget: {url: %q, chunks: {time: 2}, mode: %s}\n",
			strings.Join(keys, ", "), target, mode)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	type run struct {
		mode  string
		files []string
	}
	for _, c := range []struct {
		name string
		base []string // what the store holds before, if anything
		runs [2]run
	}{
		{"two appends", days(0, 2), [2]run{{"append", days(2, 5)}, {"append", days(5, 8)}}},
		{"create and overwrite", nil, [2]run{{"create", days(0, 4)}, {"overwrite", days(4, 8)}}},
	} {
		for _, runner := range []string{"direct", "prism", "direct on s3"} {
			for _, offset := range []time.Duration{0, 40 * time.Millisecond, 400 * time.Millisecond} {
				name := fmt.Sprintf("%s/%s/%v", c.name, runner, offset)
				t.Run(name, func(t *testing.T) {
					target := filepath.Join(t.TempDir(), "out.zarr")
					runner, onS3 := strings.CutSuffix(runner, " on s3")
					if onS3 { // the lease on S3's conditional writes, between two processes
						bucket, _ := storagetest.S3(t, "concurrent")
						target = bucket + "/out.zarr"
					}
					if c.base != nil {
						if code, stderr := runProgram(t, bin, "", "--recipe", recipe("base", target, "create", c.base), "--runner", runner); code != 0 {
							t.Fatalf("base: exit %d\n%s", code, stderr)
						}
					}
					var wg sync.WaitGroup
					codes, stderrs, finished := [2]int{}, [2]string{}, [2]time.Time{}
					for i, r := range c.runs {
						wg.Add(1)
						go func() {
							defer wg.Done()
							time.Sleep(time.Duration(i) * offset)
							codes[i], stderrs[i] = runConcurrent(bin, "--recipe", recipe(fmt.Sprintf("run%d", i), target, r.mode, r.files), "--runner", runner)
							finished[i] = time.Now()
						}()
					}
					wg.Wait()
					var want []string
					order := []int{0, 1}
					if finished[1].Before(finished[0]) {
						order = []int{1, 0}
					}
					won := 0
					for _, i := range order {
						switch codes[i] {
						case 0:
							won++
							if c.runs[i].mode == "append" {
								if want == nil {
									want = append(want, c.base...)
								}
								want = append(want, c.runs[i].files...)
							} else {
								want = append([]string(nil), c.runs[i].files...)
							}
						case 1:
							// Busy; or, for a run that comes second, what the
							// first left: a store a create must not replace,
							// later days an append cannot come before.
							if !strings.Contains(stderrs[i], "busy") && !strings.Contains(stderrs[i], "a store already exists there") &&
								!strings.Contains(stderrs[i], "does not come after the store's last value") {
								t.Errorf("run %d (%s) failed, but not for a busy target:\n%s", i, c.runs[i].mode, stderrs[i])
							}
						default:
							t.Fatalf("run %d: exit %d\n%s", i, codes[i], stderrs[i])
						}
					}
					if won == 0 {
						t.Fatalf("both runs failed:\n%s\n%s", stderrs[0], stderrs[1])
					}
					t.Logf("exit codes %v", codes)
					if onS3 {
						target = downloadS3(t, "concurrent", "out.zarr")
					}
					beamtest.CompareWithXarray(t, target, manifest, want, nil)
				})
			}
		}
	}
}

// runConcurrent runs the program within a minute and returns its exit code
// and stderr (-1 when it could not be run or hung); safe to call from any
// goroutine.
func runConcurrent(bin string, args ...string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		return 0, stderr.String()
	}
	if ee, ok := err.(*exec.ExitError); ok && ctx.Err() == nil {
		return ee.ExitCode(), stderr.String()
	}
	return -1, stderr.String() + err.Error()
}

// downloadS3 downloads, with boto3, the objects under prefix of bucket on
// the test's S3 server into a local directory and returns it.
func downloadS3(t *testing.T, bucket, prefix string) string {
	t.Helper()
	py := beamtest.RequirePython(t, "boto3")
	dir := filepath.Join(t.TempDir(), filepath.Base(prefix))
	out, err := exec.Command(py, filepath.Join(beamtest.Root(), "testdata", "s3_client.py"), "download", bucket, prefix, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("boto3 download: %v\n%s", err, out)
	}
	return dir
}
