package transforms

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/internal/extend"
	"github.com/zarrforge/zarrforge/internal/lease"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/targetstore"
	"github.com/zarrforge/zarrforge/internal/write"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/storage/storagetest"
	"github.com/zarrforge/zarrforge/zarr"
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
	d := &describeFn{Config: SchemaConfig{Concat: []plan.ConcatDim{{Name: "time"}}}}
	d.Setup()
	var ins []plan.Input
	for i, p := range paths {
		ins = append(ins, plan.Input{Index: plan.Index{Concat: []int{i}}, Source: p, URL: p})
	}
	var metas []plan.InputMeta
	if err := d.ProcessElement(ctx, 0, iterOf(ins), func(m plan.InputMeta) { metas = append(metas, m) }); err != nil {
		t.Fatal(err)
	}
	m := &mergeSchemaFn{Concat: []plan.ConcatDim{{Name: "time"}}}
	acc := m.CreateAccumulator()
	for _, meta := range metas {
		var err error
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

// newStoreFn returns a write.Writer as a worker of StoreChunks has one,
// closed when the test ends.
func newStoreFn(t *testing.T, opts ...write.Options) *write.Writer {
	w := write.New(append(opts, write.Options{})[0])
	t.Cleanup(w.Close)
	return w
}

// writeChunk writes chunk key of target with w, as a read group of one
// chunk.
func writeChunk(ctx context.Context, w *write.Writer, target *zarrplan.Target, key plan.ChunkKey) (plan.WriteResult, int64, error) {
	res, needed, err := w.Group(ctx, target, plan.ReadGroup{Var: key.Var, Index: key.Index})
	if err != nil {
		return plan.WriteResult{}, needed, err
	}
	return res[0], needed, nil
}

// copyDaily copies the first n daily fixtures into dir (as in_0.nc, ...)
// and returns their paths, for tests that damage or replace them.
func copyDaily(t *testing.T, dir string, n int) []string {
	t.Helper()
	var paths []string
	for i := range n {
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
	return paths
}

// keysOf returns the keys of the chunks the chunk stage writes for target.
func keysOf(target zarrplan.Target) []plan.ChunkKey {
	var keys []plan.ChunkKey
	target.Schema.ChunkKeys(func(k plan.ChunkKey) { keys = append(keys, k) })
	return keys
}

// writeChunks writes each chunk of keys with w, times times in a row (a
// retried bundle writes it again), and returns the totals of one write of
// each.
func writeChunks(t *testing.T, w *write.Writer, target zarrplan.Target, keys []plan.ChunkKey, times int) plan.Totals {
	t.Helper()
	var totals plan.Totals
	for _, k := range keys {
		for i := range times {
			res, _, err := writeChunk(context.Background(), w, &target, k)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				totals = totals.Add(res)
			}
		}
	}
	return totals
}

// TestStagesIdempotent runs prepare, every chunk write and finalize twice
// over the same elements, as a retried bundle would, and checks the store is
// byte-for-byte the same.
func TestStagesIdempotent(t *testing.T) {
	ctx := context.Background()
	schema := schemaOf(t, "daily_00.nc", "daily_01.nc")
	url := filepath.Join(t.TempDir(), "out.zarr")
	prep := &prepareFn{Config: TargetConfig{URL: url, Chunks: map[string]int64{"time": 1}, Compressor: "zlib", Mode: ModeCreate, RunID: "run-1"}}
	store := newStoreFn(t)
	run := func() map[string]string {
		target, err := prep.ProcessElement(ctx, schema)
		if err != nil {
			t.Fatal(err)
		}
		totals := writeChunks(t, store, target, keysOf(target), 1)
		if _, err := targetstore.Finalize(ctx, target, totals); err != nil {
			t.Fatal(err)
		}
		return snapshot(t, url)
	}
	first, second := run(), run()
	// The marker records when the run was last heard from; the rest is
	// the same.
	if a, b := markerOf(t, first), markerOf(t, second); a.Run != b.Run || a.State != b.State || a.Chunks != b.Chunks {
		t.Errorf("the marker changed on the second run: %+v, then %+v", a, b)
	}
	delete(first, "/"+lease.Key)
	delete(second, "/"+lease.Key)
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
	_, err = targetstore.Finalize(ctx, target, plan.Totals{Chunks: 1})
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
	paths := copyDaily(t, dir, 4)
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
	store := newStoreFn(t)
	failed := 0
	for _, k := range keysOf(target) {
		v, _ := schema.Var(k.Var)
		if v.ConcatAxis("time") < 0 {
			continue
		}
		_, _, err := writeChunk(ctx, store, &target, k)
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
		out[strings.TrimPrefix(p, dir)] = string(beamtest.SameInputs(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// stages runs the prepare, chunk and finalize DoFns of one run over the
// daily fixtures from..to-1, as a worker would, but stops as a killed run
// does: after writing the first upTo chunks (all when upTo < 0), and
// before finalizing unless fin is set.
func stages(t *testing.T, cfg TargetConfig, from, to, upTo int, fin bool) {
	t.Helper()
	ctx := context.Background()
	target, err := inProcess(cfg, deadProcess(t)).ProcessElement(ctx, schemaOf(t, dailyNames(from, to)...))
	if err != nil {
		t.Fatal(err)
	}
	keys := keysOf(target)
	if upTo >= 0 {
		keys = keys[:min(upTo, len(keys))]
	}
	totals := writeChunks(t, newStoreFn(t), target, keys, 1)
	if fin {
		if _, err := targetstore.Finalize(ctx, target, totals); err != nil {
			t.Fatal(err)
		}
	}
}

// incomplete checks that the store at url cannot be taken for complete.
func incomplete(t *testing.T, url string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(url, ".zmetadata")); err == nil {
		t.Error("a store being written has .zmetadata")
	}
	b, _ := os.ReadFile(filepath.Join(url, ".zarrforge.json"))
	if strings.Contains(string(b), `"complete"`) {
		t.Errorf("a store being written is marked complete: %s", b)
	}
}

// TestKilledRuns: a run killed at any point, then run again — with
// overwrite after a create, with append after an append — leaves the store
// that one uninterrupted run writes, byte for byte, and until then the
// store never looks complete.
func TestKilledRuns(t *testing.T) {
	dir := t.TempDir()
	chunks := map[string]int64{"time": 2, "lat": 4}
	cfg := func(name string, mode Mode, run string) TargetConfig {
		return TargetConfig{URL: filepath.Join(dir, name), Chunks: chunks, Compressor: "zstd", Mode: mode, RunID: run}
	}
	// The reference: days 0-5 in one run.
	stages(t, cfg("ref.zarr", ModeCreate, "ref"), 0, 6, -1, true)
	want := snapshotData(t, filepath.Join(dir, "ref.zarr"))

	t.Run("create killed, then overwrite", func(t *testing.T) {
		for _, upTo := range []int{0, 3, -1} {
			c := cfg(fmt.Sprintf("create%d.zarr", upTo), ModeCreate, "a")
			stages(t, c, 0, 6, upTo, false)
			incomplete(t, c.URL)
			c.Mode, c.RunID = ModeOverwrite, "b"
			stages(t, c, 0, 6, -1, true)
			sameSnapshot(t, snapshotData(t, c.URL), want)
		}
	})
	t.Run("append killed, then append again", func(t *testing.T) {
		for _, c := range []struct {
			name     string
			to, upTo int
			finalize bool
		}{
			{"before any chunk", 6, 0, false},
			{"after some chunks", 6, 5, false},
			{"after every chunk", 6, -1, false},
			{"a longer append, after every chunk", 8, -1, false},
		} {
			tc := cfg(strings.ReplaceAll(c.name, " ", "_")+".zarr", ModeCreate, "a")
			stages(t, tc, 0, 3, -1, true)
			tc.Mode, tc.RunID = ModeAppend, "b"
			stages(t, tc, 3, c.to, c.upTo, c.finalize)
			incomplete(t, tc.URL)
			tc.RunID = "c"
			stages(t, tc, 3, 6, -1, true)
			t.Run(c.name, func(t *testing.T) { sameSnapshot(t, snapshotData(t, tc.URL), want) })
		}
	})
	t.Run("append killed while finalizing", func(t *testing.T) {
		tc := cfg("finalizing.zarr", ModeCreate, "a")
		stages(t, tc, 0, 3, -1, true)
		tc.Mode, tc.RunID = ModeAppend, "b"
		stages(t, tc, 3, 6, -1, false)
		// FinalizeTarget got as far as the new shapes and coordinate.
		st, err := storage.NewStore(context.Background(), tc.URL)
		if err != nil {
			t.Fatal(err)
		}
		target, err := inProcess(tc, deadProcess(t)).ProcessElement(context.Background(), schemaOf(t, "daily_03.nc", "daily_04.nc", "daily_05.nc"))
		if err != nil {
			t.Fatal(err)
		}
		if err := extend.Finish(context.Background(), st, &target); err != nil {
			t.Fatal(err)
		}
		incomplete(t, tc.URL)
		tc.RunID = "c"
		stages(t, tc, 3, 6, -1, true)
		sameSnapshot(t, snapshotData(t, tc.URL), want)
	})
}

// snapshotData is snapshot without the run marker.
// markerOf decodes the marker of a snapshot.
func markerOf(t *testing.T, snap map[string]string) lease.Marker {
	t.Helper()
	var m lease.Marker
	if err := json.Unmarshal([]byte(snap["/"+lease.Key]), &m); err != nil {
		t.Fatalf("%s: %v", lease.Key, err)
	}
	return m
}

// inProcess is the prepare stage of a run that is process p alone (p built
// its pipeline, as on the direct runner): the marker names p.
func inProcess(cfg TargetConfig, p lease.Process) *prepareFn {
	return &prepareFn{Config: cfg, Builder: p.Key(), self: p}
}

// deadProcess is a process of this machine that has ended: the identity of
// a run the tests kill.
func deadProcess(t *testing.T) lease.Process {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	p := lease.This()
	p.PID = cmd.Process.Pid
	return p
}

func snapshotData(t *testing.T, dir string) map[string]string {
	s := snapshot(t, dir)
	delete(s, "/.zarrforge.json")
	return s
}

func sameSnapshot(t *testing.T, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s is missing", k)
		} else if g != v {
			t.Errorf("%s differs", k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s should not be there", k)
		}
	}
}

// TestAppendStagesIdempotent: in append mode too, prepare, every chunk
// write (the straddling chunk reads the store's steps back from the object
// it rewrites) and finalize can each run twice, as retried bundles do.
func TestAppendStagesIdempotent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := TargetConfig{URL: filepath.Join(dir, "a.zarr"), Chunks: map[string]int64{"time": 2, "lat": 4}, Compressor: "zstd", RunID: "a"}
	stages(t, cfg, 0, 3, -1, true)
	stages(t, TargetConfig{URL: filepath.Join(dir, "ref.zarr"), Chunks: cfg.Chunks, Compressor: "zstd", RunID: "r"}, 0, 6, -1, true)
	cfg.Mode, cfg.RunID = ModeAppend, "b"
	prep := &prepareFn{Config: cfg}
	schema := schemaOf(t, "daily_03.nc", "daily_04.nc", "daily_05.nc")
	var target zarrplan.Target
	for range 2 {
		var err error
		if target, err = prep.ProcessElement(ctx, schema); err != nil {
			t.Fatal(err)
		}
	}
	totals := writeChunks(t, newStoreFn(t), target, keysOf(target), 2)
	for range 2 {
		if _, err := targetstore.Finalize(ctx, target, totals); err != nil {
			t.Fatal(err)
		}
	}
	sameSnapshot(t, snapshotData(t, cfg.URL), snapshotData(t, filepath.Join(dir, "ref.zarr")))
}

// TestCacheIdempotent: caching the same input twice (a retried bundle)
// leaves the same cached file, and the same element.
func TestCacheIdempotent(t *testing.T) {
	ctx := context.Background()
	cache := t.TempDir()
	f := &cacheFn{Config: CacheConfig{URL: cache}}
	f.Setup()
	src := beamtest.Testdata("collections", "daily", "daily_00.nc")
	in := plan.Input{Index: plan.Index{Concat: []int{0}}, Source: src, URL: src}
	cacheOne := func() plan.Input {
		var out []plan.Input
		if err := f.ProcessElement(ctx, 0, iterOf([]plan.Input{in}), func(c plan.Input) { out = append(out, c) }); err != nil || len(out) != 1 {
			t.Fatalf("%v (%d outputs)", err, len(out))
		}
		return out[0]
	}
	first := cacheOne()
	before := snapshot(t, cache)
	second := cacheOne()
	if first.URL != second.URL || first.URL == src {
		t.Errorf("cached as %s, then %s", first.URL, second.URL)
	}
	sameSnapshot(t, snapshot(t, cache), before)
}

// TestAppendMissingChunk: a chunk object the store lacks (zarr-python leaves
// out chunks holding only fill) reads as fill when an append rewrites it.
func TestAppendMissingChunk(t *testing.T) {
	ctx := context.Background()
	cfg := TargetConfig{URL: filepath.Join(t.TempDir(), "a.zarr"), Chunks: map[string]int64{"time": 2, "lat": 4}, Compressor: "zstd", RunID: "a"}
	stages(t, cfg, 0, 3, -1, true)
	// count/1.0.0 holds day 2 (and room for day 3); the store loses it.
	if err := os.Remove(filepath.Join(cfg.URL, "count", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	cfg.Mode, cfg.RunID = ModeAppend, "b"
	stages(t, cfg, 3, 4, -1, true)
	st, err := storage.NewStore(ctx, cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	data, err := st.Get(ctx, "count/1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	meta, _, err := zarr.ReadArrayMeta(ctx, st, "count")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := zarr.DecodeChunk(meta, data)
	if err != nil {
		t.Fatal(err)
	}
	// Day 2 (the chunk's first step) is fill: count has no _FillValue, so zeros.
	step := len(raw) / 2
	if slices.ContainsFunc(raw[:step], func(b byte) bool { return b != 0 }) {
		t.Errorf("the missing chunk's stored step reads as %v, want fill", raw[:16])
	}
	if !slices.ContainsFunc(raw[step:], func(b byte) bool { return b != 0 }) {
		t.Error("the appended step is empty")
	}
}

// iterOf is a Beam iterator over ins, as a grouped element gives one.
func iterOf(ins []plan.Input) func(*plan.Input) bool {
	return func(in *plan.Input) bool {
		if len(ins) == 0 {
			return false
		}
		*in, ins = ins[0], ins[1:]
		return true
	}
}

// TestSourceChangesMidRun replaces an input (same size, new bytes and
// modification time; on S3, a new ETag) between the schema and the chunk
// stage: writing a chunk that reads it fails, naming the change, rather
// than storing the new data under the old coordinate.
func TestSourceChangesMidRun(t *testing.T) {
	for _, where := range []string{"local", "s3"} {
		t.Run(where, func(t *testing.T) { sourceChangesMidRun(t, where == "s3") })
	}
}

// sourceChangesMidRun is TestSourceChangesMidRun on local files, or on
// objects of an S3-compatible server (replaced with a new ETag).
func sourceChangesMidRun(t *testing.T, onS3 bool) {
	ctx := context.Background()
	dir := t.TempDir()
	paths := copyDaily(t, dir, 2)
	var inputs *storage.Store
	if onS3 {
		bucket, _ := storagetest.S3(t, "changes")
		inputs, _ = storage.NewStore(ctx, bucket+"/in")
		for i, p := range paths {
			b, _ := os.ReadFile(p)
			if err := inputs.Put(ctx, filepath.Base(p), b); err != nil {
				t.Fatal(err)
			}
			paths[i] = bucket + "/in/" + filepath.Base(p)
		}
	}
	schema := schemaOfFiles(t, paths...)
	target, err := (&prepareFn{Config: TargetConfig{URL: filepath.Join(dir, "out.zarr"), Chunks: map[string]int64{"time": 1}, RunID: "r"}}).ProcessElement(ctx, schema)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(beamtest.Testdata("collections", "daily", "daily_05.nc")) // same layout, other values
	if onS3 {
		if err := inputs.Put(ctx, "in_1.nc", b); err != nil {
			t.Fatal(err)
		}
	} else {
		if err := os.WriteFile(paths[1], b, 0o644); err != nil {
			t.Fatal(err)
		}
		future := time.Now().Add(time.Hour)
		if err := os.Chtimes(paths[1], future, future); err != nil {
			t.Fatal(err)
		}
	}
	f := newStoreFn(t)
	_, _, err = writeChunk(ctx, f, &target, plan.ChunkKey{Var: "sst", Index: []int64{1, 0, 0}})
	if !errors.Is(err, storage.ErrChanged) || !strings.Contains(err.Error(), "in_1.nc") {
		t.Fatalf("got %v, want storage.ErrChanged naming the input", err)
	}
	if _, _, err := writeChunk(ctx, f, &target, plan.ChunkKey{Var: "sst", Index: []int64{0, 0, 0}}); err != nil {
		t.Errorf("a chunk of the unchanged input: %v", err)
	}
}

// TestStaleCache re-runs the cache stage after the server replaced an input
// with a corrected file of the same size (a new ETag): the copy is made
// again, not reused because its size matches.
func TestStaleCache(t *testing.T) {
	ctx := context.Background()
	v1, err := os.ReadFile(beamtest.Testdata("collections", "daily", "daily_00.nc"))
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := os.ReadFile(beamtest.Testdata("collections", "daily", "daily_05.nc"))
	var current atomic.Pointer[[]byte]
	current.Store(&v1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := *current.Load()
		w.Header().Set("ETag", fmt.Sprintf(`"%x"`, sha256.Sum256(b)))
		http.ServeContent(w, r, "d.nc", time.Time{}, bytes.NewReader(b))
	}))
	defer srv.Close()
	cache := t.TempDir()
	f := &cacheFn{Config: CacheConfig{URL: cache}}
	f.Setup()
	in := plan.Input{Index: plan.Index{Concat: []int{0}}, Source: srv.URL + "/d.nc", URL: srv.URL + "/d.nc"}
	cacheOne := func() (plan.Input, int64) {
		out, n, err := f.cache(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return out, n
	}
	if _, n := cacheOne(); n != int64(len(v1)) {
		t.Fatalf("first run copied %d bytes", n)
	}
	if _, n := cacheOne(); n != -1 {
		t.Fatalf("an unchanged source was copied again (%d bytes)", n)
	}
	current.Store(&v2)
	out, n := cacheOne()
	got, _ := os.ReadFile(out.URL)
	if n != int64(len(v2)) || !bytes.Equal(got, v2) {
		t.Fatalf("after the source changed: copied %d bytes, cached copy is the new one: %v", n, bytes.Equal(got, v2))
	}
}

// otherToolAppends does to the store at url what another tool's append
// does (xarray's to_zarr(mode="a")): every array along time grows to n
// steps, the time coordinate gets values (nil: left as it is), and the
// store is consolidated (unless consolidate is false: that tool died first).
func otherToolAppends(t *testing.T, url string, n int64, values []float64, consolidate bool) {
	t.Helper()
	ctx := context.Background()
	st, err := storage.NewStore(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := st.List(ctx, "")
	names := zarr.Arrays(keys)
	for _, name := range names {
		meta, _, err := zarr.ReadArrayMeta(ctx, st, name)
		if err != nil {
			t.Fatal(err)
		}
		if len(meta.Dims) == 0 || meta.Dims[0] != "time" {
			continue
		}
		if name == "time" && values != nil {
			raw, err := zarr.ReadArray(ctx, st, name, meta)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range values {
				raw = binary.LittleEndian.AppendUint64(raw, math.Float64bits(v))
			}
			meta.Shape[0], meta.Chunks[0] = n, n
			if err := zarr.WriteVector(ctx, st, name, meta, raw); err != nil {
				t.Fatal(err)
			}
		}
		meta.Shape[0] = n
		if err := zarr.UpdateArrayMeta(ctx, st, name, meta); err != nil {
			t.Fatal(err)
		}
	}
	if consolidate {
		if err := zarr.Consolidate(ctx, st, 2, names); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStaleMarker: after a killed append, another tool appends and
// consolidates (as xarray's to_zarr(mode="a") does); appending again with
// zarrforge is refused instead of starting from the marker's length and
// dropping that tool's steps — also when this run writes as many steps as
// that tool added (issue 29, item 1: lengths alone took it for a retry).
// Only the same values, the killed append itself run again, take it up.
func TestStaleMarker(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name      string
		n         int64
		values    []float64 // the other tool's times (days since 2000-01-01)
		appending []string
		want      string // "" takes the store up
	}{
		{"resized only, fewer steps", 5, nil, []string{"daily_03.nc"},
			"beyond them the store now holds 2000-01-01 to 2000-01-01, 2 steps, but this run writes 2000-01-04, 1 step"},
		{"as many steps, other days", 6, []float64{10, 11, 12}, []string{"daily_03.nc", "daily_04.nc", "daily_05.nc"},
			"beyond them the store now holds 2000-01-11 to 2000-01-13, 3 steps, but this run writes 2000-01-04 to 2000-01-06, 3 steps"},
		{"the same days: a retry", 6, []float64{3, 4, 5}, []string{"daily_03.nc", "daily_04.nc", "daily_05.nc"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := TargetConfig{URL: filepath.Join(t.TempDir(), "a.zarr"), Chunks: map[string]int64{"time": 2, "lat": 4}, Compressor: "zstd", RunID: "a"}
			stages(t, cfg, 0, 3, -1, true)
			cfg.Mode, cfg.RunID = ModeAppend, "b"
			stages(t, cfg, 3, 6, 1, false) // killed after one chunk
			otherToolAppends(t, cfg.URL, c.n, c.values, true)
			cfg.RunID = "c"
			_, err := (&prepareFn{Config: cfg}).ProcessElement(ctx, schemaOf(t, c.appending...))
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("a retry of the same steps was refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("got %v, want a refusal naming both ranges: %s", err, c.want)
			}
		})
	}
}

// TestZeroCompressor: a TargetConfig that names no compressor compresses
// with zstd, as a recipe does; "none" is how to ask for none.
func TestZeroCompressor(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ compressor, want string }{{"", `"id":"zstd"`}, {"none", `"compressor":null`}} {
		url := filepath.Join(t.TempDir(), "out.zarr")
		if _, err := (&prepareFn{Config: TargetConfig{URL: url, RunID: "r", Compressor: c.compressor}}).ProcessElement(ctx, schemaOf(t, "daily_00.nc")); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(url, "sst", ".zarray"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.ReplaceAll(string(b), " ", ""), c.want) {
			t.Errorf("compressor %q: .zarray %s, want %s", c.compressor, b, c.want)
		}
	}
}

// TestAppendRefusesStoreApart: an append is refused, before anything is
// written, when the store's consolidated metadata and its arrays' own
// metadata disagree (issue 29, item 4: another tool's append died between
// resizing the arrays and consolidating), and when the store has groups
// below its root (item 5: rewriting the root's .zmetadata would hide them).
func TestAppendRefusesStoreApart(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		spoil func(t *testing.T, url string)
		want  string
	}{
		{"arrays ahead of .zmetadata", func(t *testing.T, url string) { otherToolAppends(t, url, 5, []float64{3, 4}, false) },
			"steps along time in its own metadata, 3 in the consolidated metadata (its own metadata is ahead)"},
		{"an array missing from .zmetadata", func(t *testing.T, url string) {
			if err := os.MkdirAll(filepath.Join(url, "extra"), 0o755); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(filepath.Join(url, "time", ".zarray"))
			_ = os.WriteFile(filepath.Join(url, "extra", ".zarray"), b, 0o644)
			_ = os.WriteFile(filepath.Join(url, "extra", ".zattrs"), []byte(`{"_ARRAY_DIMENSIONS":["time"]}`), 0o644)
		}, `array "extra" is not in the consolidated metadata`},
		{"a nested group", func(t *testing.T, url string) {
			if err := os.MkdirAll(filepath.Join(url, "g1"), 0o755); err != nil {
				t.Fatal(err)
			}
			_ = os.WriteFile(filepath.Join(url, "g1", ".zgroup"), []byte(`{"zarr_format":2}`), 0o644)
		}, "the store has groups below its root (g1)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := TargetConfig{URL: filepath.Join(t.TempDir(), "a.zarr"), Chunks: map[string]int64{"time": 2, "lat": 4}, Compressor: "zstd", RunID: "a"}
			stages(t, cfg, 0, 3, -1, true)
			c.spoil(t, cfg.URL)
			before := snapshot(t, cfg.URL)
			cfg.Mode, cfg.RunID = ModeAppend, "b"
			_, err := (&prepareFn{Config: cfg}).ProcessElement(ctx, schemaOf(t, "daily_05.nc"))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want a refusal: %s", err, c.want)
			}
			sameSnapshot(t, snapshot(t, cfg.URL), before)
		})
	}
}

// TestChunkBytesClamped: chunk_bytes larger than the whole dataset makes
// one chunk of the concat dimension's length, not a chunk of millions of
// steps for a few steps of data (issue 29, item 13).
func TestChunkBytesClamped(t *testing.T) {
	url := filepath.Join(t.TempDir(), "out.zarr")
	cfg := TargetConfig{URL: url, ChunkBytes: 1 << 40, RunID: "r"}
	if _, err := (&prepareFn{Config: cfg}).ProcessElement(context.Background(), schemaOf(t, dailyNames(0, 3)...)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(url, "sst", ".zarray"))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct{ Chunks []int64 }
	if err := json.Unmarshal(b, &meta); err != nil || meta.Chunks[0] != 3 {
		t.Fatalf("chunks %v (%v), want 3 steps along time", meta.Chunks, err)
	}
}
