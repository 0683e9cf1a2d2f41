package write

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/internal/lease"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/targetstore"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/source"

	// The netCDF reader, for the fixtures.
	_ "github.com/zarrforge/zarrforge/internal/formats"
)

// schemaOfFiles describes files concatenated along time, as the schema
// stage does, without Beam.
func schemaOfFiles(t *testing.T, paths ...string) plan.Schema {
	t.Helper()
	concat := []plan.ConcatDim{{Name: "time"}}
	var g plan.Merger
	for i, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := source.Open(bytes.NewReader(b), int64(len(b)), p, source.Options{})
		if err != nil {
			t.Fatal(err)
		}
		in := plan.Input{Index: plan.Index{Concat: []int{i}}, Source: p, URL: p}
		m, err := plan.Describe(in, r, plan.ConcatNames(concat), 1<<30, plan.Preprocess{})
		if err == nil {
			err = g.Add(m, plan.ConcatNames(concat))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := g.Schema(concat)
	if err != nil {
		t.Fatal(err)
	}
	s.Bind(plan.Preprocess{})
	return s
}

// prepared is the target of schema at url, its chunks zstd-compressed in
// the sizes chunks gives, claimed by this process as PrepareTarget claims
// it (maxMem 0: the default budget).
func prepared(t *testing.T, schema plan.Schema, url string, chunks map[string]int64, maxMem int64) zarrplan.Target {
	t.Helper()
	if maxMem == 0 {
		maxMem = 1 << 30
	}
	target, _, err := targetstore.Prepare(context.Background(), schema, targetstore.Config{URL: url, Chunks: chunks, Format: 2,
		Compressor: "zstd", MaxMem: maxMem, Claim: targetstore.Claim{Run: filepath.Base(url), Self: lease.This()}})
	if err != nil {
		t.Fatal(err)
	}
	return target
}

// newStoreFn returns a Writer as a worker of StoreChunks has one, closed
// when the test ends.
func newStoreFn(t *testing.T) *Writer {
	w := New(Options{})
	t.Cleanup(w.Close)
	return w
}

// keysOf returns the keys of the chunks of target.
func keysOf(target zarrplan.Target) []plan.ChunkKey {
	var keys []plan.ChunkKey
	target.Schema.ChunkKeys(func(k plan.ChunkKey) { keys = append(keys, k) })
	return keys
}

// writeChunks writes each chunk of keys with w, as a read group of one
// chunk, and returns their totals.
func writeChunks(t *testing.T, w *Writer, target zarrplan.Target, keys []plan.ChunkKey) plan.Totals {
	t.Helper()
	var totals plan.Totals
	for _, k := range keys {
		res, _, err := w.Group(context.Background(), &target, plan.ReadGroup{Var: k.Var, Index: k.Index})
		if err != nil {
			t.Fatal(err)
		}
		totals = totals.Add(res[0])
	}
	return totals
}

// snapshotData is every object of the store at dir but its owner marker,
// as bytes (the inputs' digest in the provenance made the same).
func snapshotData(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, lease.Key) {
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

// storedBytes is what decoding every stored chunk of variable name in the
// netCDF file at path once produces (its bytes, when contiguous).
func storedBytes(t *testing.T, path, name string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := source.Open(bytes.NewReader(b), int64(len(b)), path, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range f.Vars() {
		if v.Name != name {
			continue
		}
		n := int64(v.Type.Size())
		for i, s := range v.Shape {
			if v.Chunks == nil {
				n *= s
			} else {
				n *= (s + v.Chunks[i] - 1) / v.Chunks[i] * v.Chunks[i]
			}
		}
		return n
	}
	t.Fatalf("%s: no variable %s", path, name)
	return 0
}

// writeGroups writes every read group of target with w, for a worker of
// the given cores, and returns the totals and the bytes the groups needed.
func writeGroups(t *testing.T, w *Writer, target zarrplan.Target, cores int) (plan.Totals, int64) {
	t.Helper()
	var totals plan.Totals
	var needed int64
	target.Schema.ReadGroups(target.ReadGroupMem(), cores, func(g plan.ReadGroup) {
		res, n, err := w.Group(context.Background(), &target, g)
		if err != nil {
			t.Fatal(err)
		}
		needed += n
		for _, r := range res {
			totals = totals.Add(r)
		}
	})
	return totals, needed
}

// TestGroupsDecodeOnce: target chunks that cut the inputs' tiles on every
// axis, over uneven files whose tiles differ: written in read groups, every
// stored chunk is decoded exactly once (edge tiles whole), and the store is
// byte for byte the one a chunk at a time writes, which decodes several
// times as much. Halved groups (a budget smaller than a group) write the
// same store too.
func TestGroupsDecodeOnce(t *testing.T) {
	ctx := context.Background()
	var paths []string
	for i := range 4 {
		paths = append(paths, beamtest.Testdata("collections", "nc4_tiled", fmt.Sprintf("nc4_tiled_sst_%02d.nc", i)))
	}
	schema := schemaOfFiles(t, paths...)
	if sst, _ := schema.Var("sst"); fmt.Sprint(sst.SourceChunks) != "[6 12 5]" {
		t.Errorf("sst stored in chunks %v, want [6 12 5] (the least common multiple of (2,4,5) and (3,3,5), time counted in whole files)", sst.SourceChunks)
	}
	want := storedBytes(t, paths[0], "lat") + storedBytes(t, paths[0], "lon")
	for _, p := range paths {
		want += storedBytes(t, p, "sst")
	}
	dir := t.TempDir()
	prepare := func(name string, maxMem int64) zarrplan.Target {
		return prepared(t, schema, filepath.Join(dir, name), map[string]int64{"time": 4, "lat": 5, "lon": 3}, maxMem)
	}

	grouped := prepare("groups.zarr", 0)
	w := newStoreFn(t)
	totals, needed := writeGroups(t, w, grouped, 1)
	decoded := decodedBy(w)
	if decoded != want {
		t.Errorf("read groups decoded %d bytes, want %d: each stored chunk once", decoded, want)
	}
	if _, err := targetstore.Finalize(ctx, grouped, totals); err != nil {
		t.Fatal(err)
	}

	single := prepare("chunks.zarr", 0)
	w = newStoreFn(t)
	totals = writeChunks(t, w, single, keysOf(single))
	if _, err := targetstore.Finalize(ctx, single, totals); err != nil {
		t.Fatal(err)
	}
	t.Logf("needed %d bytes; decoded %d in read groups (%.2fx), %d a chunk at a time (%.2fx)",
		needed, decoded, float64(decoded)/float64(needed), decodedBy(w), float64(decodedBy(w))/float64(needed))
	if decodedBy(w) < 2*decoded {
		t.Errorf("a chunk at a time decoded %d bytes, read groups %d: the fixture no longer shows what groups save", decodedBy(w), decoded)
	}
	sameSnapshot(t, snapshotData(t, filepath.Join(dir, "groups.zarr")), snapshotData(t, filepath.Join(dir, "chunks.zarr")))

	halved := prepare("halved.zarr", 1200) // a region of at most 600 bytes: a chunk is 120
	w = newStoreFn(t)
	totals, _ = writeGroups(t, w, halved, 1)
	if nh, ng := halved.Schema.NumReadGroups(halved.ReadGroupMem(), 1), grouped.Schema.NumReadGroups(grouped.ReadGroupMem(), 1); nh <= ng {
		t.Errorf("a budget of 1200 bytes gave %d groups, no more than the default's %d", nh, ng)
	}
	if _, err := targetstore.Finalize(ctx, halved, totals); err != nil {
		t.Fatal(err)
	}
	t.Logf("halved groups decoded %d bytes", decodedBy(w))
	sameSnapshot(t, snapshotData(t, filepath.Join(dir, "halved.zarr")), snapshotData(t, filepath.Join(dir, "chunks.zarr")))
}

// TestJoinedGroups: daily files, whose chunks make groups of one chunk
// each, are written in groups of several chunks along time for a worker of
// several cores; the store is byte for byte the one a chunk at a time
// writes. Whole chunks are encoded from the group's region itself: no chunk
// buffer is made for them, only for the last, partial chunk along time.
func TestJoinedGroups(t *testing.T) {
	ctx := context.Background()
	var paths []string
	for i := range 8 {
		paths = append(paths, beamtest.Testdata("collections", "daily", fmt.Sprintf("daily_%02d.nc", i)))
	}
	schema := schemaOfFiles(t, paths...)
	dir := t.TempDir()
	for _, c := range []struct {
		time   int64
		cores  int
		groups int64
		copied bool // whether a chunk is copied out of the region
	}{
		{2, 1, 4 * 4, false}, // 4 data variables of 4 chunks, one a group
		{2, 2, 4 * 2, false},
		{2, 4, 4 * 1, false},
		{3, 4, 4 * 1, true}, // chunks of 3 steps, the last of 2 (and 1 of fill)
	} {
		name := fmt.Sprintf("time%d-cores%d", c.time, c.cores)
		t.Run(name, func(t *testing.T) {
			prepare := func(name string) zarrplan.Target {
				return prepared(t, schema, filepath.Join(dir, name), map[string]int64{"time": c.time}, 0)
			}
			joined := prepare(name + ".zarr")
			if n := joined.Schema.NumReadGroups(joined.ReadGroupMem(), c.cores); n != c.groups+2 { // and lat and lon a group each
				t.Errorf("%d groups, want %d", n, c.groups+2)
			}
			w := newStoreFn(t)
			totals, _ := writeGroups(t, w, joined, c.cores)
			if _, err := targetstore.Finalize(ctx, joined, totals); err != nil {
				t.Fatal(err)
			}
			if copied := w.Stats().Copied > 0; copied != c.copied {
				t.Errorf("a chunk copied out of its region: %v, want %v", copied, c.copied)
			}

			single := prepare(name + "-chunks.zarr")
			if _, err := targetstore.Finalize(ctx, single, writeChunks(t, newStoreFn(t), single, keysOf(single))); err != nil {
				t.Fatal(err)
			}
			sameSnapshot(t, snapshotData(t, filepath.Join(dir, name+".zarr")), snapshotData(t, filepath.Join(dir, name+"-chunks.zarr")))
		})
	}
}

// decodedBy is how many bytes w's inputs have decoded.
func decodedBy(w *Writer) int64 {
	return w.Stats().Decoded
}
