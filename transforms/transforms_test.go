package transforms_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/transforms"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func init() {
	register.Function1x1(dailySummaryOK)
}

// dailySummaryOK checks the summary of three daily inputs chunked
// {time: 2, lat: 4}: sst, ice, count and flag have 2×2 chunks each, lat and
// lon one each; time is written whole by PrepareTarget.
func dailySummaryOK(s plan.Summary) bool { return s.Arrays == 7 && s.Chunks == 18 && s.Bytes > 0 }

func inputs(paths ...string) []plan.Input {
	var out []plan.Input
	for i, p := range paths {
		out = append(out, plan.Input{Index: plan.Index{Concat: []int{i}}, Source: p, URL: p})
	}
	return out
}

func fixture(collection, name string) string {
	return beamtest.Testdata("collections", collection, name)
}

func threeDaily() []plan.Input {
	return inputs(fixture("daily", "daily_00.nc"), fixture("daily", "daily_01.nc"), fixture("daily", "daily_02.nc"))
}

// pipeline wires every stage over the given inputs.
func pipeline(s beam.Scope, in []plan.Input, cache string, target transforms.TargetConfig) beam.PCollection {
	cached := transforms.CacheInputs(s, transforms.CacheConfig{URL: cache}, beam.CreateList(s, in))
	schema := transforms.DetermineSchema(s, transforms.SchemaConfig{Concat: []plan.ConcatDim{{Name: "time"}}}, cached)
	prepared := transforms.PrepareTarget(s, target, schema)
	return transforms.FinalizeTarget(s, prepared, transforms.StoreChunks(s, transforms.ChunksConfig{}, prepared))
}

func dailyTarget(t *testing.T) transforms.TargetConfig {
	return transforms.TargetConfig{URL: filepath.Join(t.TempDir(), "out.zarr"), Chunks: map[string]int64{"time": 2, "lat": 4},
		Compressor: "zstd"}
}

// TestEveryStageSerialises runs every stage on Prism, which serialises each
// DoFn into the pipeline proto and rebuilds it in a worker, as Dataflow
// does: a DoFn keeping configuration outside its exported fields, or an
// unregistered one, fails here. The same pipeline runs on the direct runner.
func TestEveryStageSerialises(t *testing.T) {
	beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
		cache := t.TempDir()
		target := dailyTarget(t)
		err := beamtest.RunOn(t, runner, func(t *testing.T, s beam.Scope) {
			passert.True(s, pipeline(s, threeDaily(), cache, target), dailySummaryOK)
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{".zmetadata", ".zgroup", "sst/1.1.0", "time/0", "lat/0"} {
			if _, err := os.Stat(filepath.Join(target.URL, key)); err != nil {
				t.Errorf("store: %v", err)
			}
		}
		cached, _ := filepath.Glob(filepath.Join(cache, "*-daily_0?.nc"))
		if len(cached) != 3 {
			t.Errorf("cache holds %v, want the 3 inputs", cached)
		}
		beamtest.CompareWithXarray(t, target.URL, fixture("daily", "collection.json"),
			[]string{fixture("daily", "daily_00.nc"), fixture("daily", "daily_01.nc"), fixture("daily", "daily_02.nc")},
			map[string][]int64{"sst": {2, 4, 10}, "time": {3}})
	})
}

// TestInputsDisagree: inputs on different grids fail in DetermineSchema,
// naming both, before anything is written.
func TestInputsDisagree(t *testing.T) {
	beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
		target := dailyTarget(t)
		a, b := fixture("daily", "daily_00.nc"), fixture("merge", "sst_200101.nc")
		err := beamtest.RunOn(t, runner, func(t *testing.T, s beam.Scope) {
			pipeline(s, inputs(a, b), "", target)
		})
		if err == nil {
			t.Fatal("pipeline succeeded")
		}
		for _, want := range []string{"DetermineSchema", "inputs disagree", a, b} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not mention %q: %v", want, err)
			}
		}
		if _, err := os.Stat(target.URL); !os.IsNotExist(err) {
			t.Errorf("target was created: %v", err)
		}
	})
}

// TestExistingTarget: mode create leaves an existing store untouched;
// overwrite replaces it.
func TestExistingTarget(t *testing.T) {
	beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
		target := dailyTarget(t)
		if err := os.MkdirAll(target.URL, 0o755); err != nil {
			t.Fatal(err)
		}
		old := filepath.Join(target.URL, ".zgroup")
		if err := os.WriteFile(old, []byte("someone else's"), 0o644); err != nil {
			t.Fatal(err)
		}
		err := beamtest.RunOn(t, runner, func(t *testing.T, s beam.Scope) { pipeline(s, threeDaily(), "", target) })
		if err == nil || !strings.Contains(err.Error(), "already exists") {
			t.Fatalf("create over an existing store: %v", err)
		}
		if b, _ := os.ReadFile(old); string(b) != "someone else's" {
			t.Errorf("existing store was modified: %q", b)
		}
		entries, _ := os.ReadDir(target.URL)
		if len(entries) != 1 {
			t.Errorf("create wrote into the existing store: %v", entries)
		}
		target.Mode = transforms.ModeOverwrite
		err = beamtest.RunOn(t, runner, func(t *testing.T, s beam.Scope) {
			passert.True(s, pipeline(s, threeDaily(), "", target), dailySummaryOK)
		})
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(old); string(b) != `{"zarr_format":2}` {
			t.Errorf(".zgroup after overwrite: %q", b)
		}
	})
}

// TestCacheReused: a second run with the same cache copies nothing — the
// cached files are the ones the first run wrote — and a cached file whose
// size differs from its source is copied again.
func TestCacheReused(t *testing.T) {
	beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
		cache := t.TempDir()
		runOnce := func() {
			target := dailyTarget(t)
			err := beamtest.RunOn(t, runner, func(t *testing.T, s beam.Scope) {
				passert.True(s, pipeline(s, threeDaily(), cache, target), dailySummaryOK)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		runOnce()
		cached, _ := filepath.Glob(filepath.Join(cache, "*.nc"))
		if len(cached) != 3 {
			t.Fatalf("cache holds %v", cached)
		}
		stamps := map[string]int64{}
		for _, c := range cached {
			st, _ := os.Stat(c)
			stamps[c] = st.ModTime().UnixNano()
		}
		// Spoil one cached copy: it must be replaced, the others kept.
		if err := os.WriteFile(cached[0], []byte("short"), 0o644); err != nil {
			t.Fatal(err)
		}
		runOnce()
		for i, c := range cached {
			st, _ := os.Stat(c)
			if i == 0 {
				if st.Size() < 100 {
					t.Errorf("%s was not copied again", c)
				}
				continue
			}
			if st.ModTime().UnixNano() != stamps[c] {
				t.Errorf("%s was copied again", c)
			}
		}
	})
}
