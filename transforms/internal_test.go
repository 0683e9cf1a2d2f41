package transforms

import (
	"context"
	"fmt"
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
	paths := make([]string, len(names))
	for i, n := range names {
		paths[i] = beamtest.Testdata("collections", "daily", n)
	}
	return schemaOfFiles(t, paths...)
}

// schemaOfFiles runs the schema stage's DoFns directly over files.
func schemaOfFiles(t *testing.T, paths ...string) plan.Schema {
	t.Helper()
	ctx := context.Background()
	d := &describeFn{Config: SchemaConfig{ConcatDim: "time"}}
	m := &mergeSchemaFn{ConcatDim: "time"}
	acc := m.CreateAccumulator()
	for i, p := range paths {
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
		if err := store.FinishBundle(ctx, target); err != nil {
			t.Fatal(err)
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

// TestChunkPartFails: a chunk is read from several inputs at once; when one
// of them turns out to be damaged, the chunk fails naming that input, the
// other reads stop, and nothing is written.
func TestChunkPartFails(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var paths []string
	for i := range 4 {
		b, err := os.ReadFile(beamtest.Testdata("collections", "daily", fmt.Sprintf("daily_%02d.nc", i)))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("in_%d.nc", i))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	schema := schemaOfFiles(t, paths...)
	url := filepath.Join(dir, "out.zarr")
	target, err := (&prepareFn{Config: TargetConfig{URL: url, Chunks: map[string]int64{"time": 4}, Compressor: "zstd", RunID: "r"}}).ProcessElement(ctx, schema)
	if err != nil {
		t.Fatal(err)
	}
	// The third input loses its data after the schema was read.
	st, _ := os.Stat(paths[2])
	if err := os.Truncate(paths[2], st.Size()/2); err != nil {
		t.Fatal(err)
	}
	store := &storeChunkFn{}
	store.Setup()
	defer store.Teardown()
	var keys []plan.ChunkKey
	(&chunkKeysFn{}).ProcessElement(nil, target, func(k plan.ChunkKey) { keys = append(keys, k) })
	failed := 0
	for _, k := range keys {
		v, _ := schema.Var(k.Var)
		if v.ConcatAxis("time") < 0 {
			continue
		}
		_, err := store.ProcessElement(ctx, k, target)
		if err == nil {
			t.Errorf("chunk %s: written from a truncated input", k)
			continue
		}
		failed++
		if !strings.Contains(err.Error(), paths[2]) {
			t.Errorf("chunk %s: error does not name the damaged input: %v", k, err)
		}
		if _, serr := os.Stat(filepath.Join(url, k.Var, strings.Join(strings.Split(k.String(), "/")[1:], ""))); serr == nil {
			t.Errorf("chunk %s: an object was written", k)
		}
	}
	if err := store.FinishBundle(ctx, target); err != nil {
		t.Fatal(err)
	}
	if failed == 0 {
		t.Fatal("no chunk read the damaged input")
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
