package transforms

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/plan"
)

// schemaOf runs the schema stage's DoFns directly over daily fixture files.
func schemaOf(t *testing.T, names ...string) plan.Schema {
	t.Helper()
	ctx := context.Background()
	d := &describeFn{Config: SchemaConfig{ConcatDim: "time"}}
	m := &mergeSchemaFn{ConcatDim: "time"}
	acc := m.CreateAccumulator()
	for i, n := range names {
		p := beamtest.Testdata("collections", "daily", n)
		meta, err := d.ProcessElement(ctx, plan.Input{Index: plan.Index{Concat: i}, Source: p, URL: p})
		if err != nil {
			t.Fatal(err)
		}
		if acc, err = m.AddInput(acc, meta); err != nil {
			t.Fatal(err)
		}
	}
	s, err := m.ExtractOutput(acc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStagesIdempotent runs prepare, every chunk write and finalize twice
// over the same elements, as a retried bundle would, and checks the store is
// byte-for-byte the same.
func TestStagesIdempotent(t *testing.T) {
	ctx := context.Background()
	schema := schemaOf(t, "daily_00.nc", "daily_01.nc")
	url := filepath.Join(t.TempDir(), "out.zarr")
	prep := &prepareFn{Config: TargetConfig{URL: url, Chunks: map[string]int64{"time": 1}, Compressor: "zlib", Mode: ModeCreate, RunID: "run-1"}}
	store := &storeChunkFn{}
	store.Setup()
	defer store.Teardown()
	run := func() map[string]string {
		target, err := prep.ProcessElement(ctx, schema)
		if err != nil {
			t.Fatal(err)
		}
		var totals plan.Totals
		var keys []plan.ChunkKey
		(&chunkKeysFn{}).ProcessElement(nil, target, func(k plan.ChunkKey) { keys = append(keys, k) })
		for _, k := range keys {
			res, err := store.ProcessElement(ctx, k, target)
			if err != nil {
				t.Fatal(err)
			}
			totals = totals.Add(res)
		}
		if _, err := (&finalizeFn{}).ProcessElement(ctx, target, totals); err != nil {
			t.Fatal(err)
		}
		return snapshot(t, url)
	}
	first, second := run(), run()
	if len(first) == 0 || len(first) != len(second) {
		t.Fatalf("stores differ in size: %d vs %d objects", len(first), len(second))
	}
	for k, v := range first {
		if second[k] != v {
			t.Errorf("object %s changed on the second run", k)
		}
	}
	// Another run (another RunID) in create mode is refused.
	other := *prep
	other.Config.RunID = "run-2"
	if _, err := other.ProcessElement(ctx, schema); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second run in create mode: %v", err)
	}
}

// TestFinalizeRefusesMissingChunks: a store whose chunks did not all arrive
// never gets its .zgroup or .zmetadata.
func TestFinalizeRefusesMissingChunks(t *testing.T) {
	ctx := context.Background()
	url := filepath.Join(t.TempDir(), "out.zarr")
	prep := &prepareFn{Config: TargetConfig{URL: url, RunID: "r"}}
	target, err := prep.ProcessElement(ctx, schemaOf(t, "daily_00.nc"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&finalizeFn{}).ProcessElement(ctx, target, plan.Totals{Chunks: 1})
	if err == nil || !strings.Contains(err.Error(), "1 of 6 chunks") {
		t.Errorf("finalize with missing chunks: %v", err)
	}
	for _, key := range []string{".zgroup", ".zmetadata"} {
		if _, err := os.Stat(filepath.Join(url, key)); !os.IsNotExist(err) {
			t.Errorf("%s exists after a failed finalize", key)
		}
	}
}

func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[strings.TrimPrefix(p, dir)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
