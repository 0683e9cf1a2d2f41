package transforms

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/targetstore"
	"github.com/zarrforge/zarrforge/internal/write"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/source"
)

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
func writeGroups(t *testing.T, w *write.Writer, target zarrplan.Target, cores int) (plan.Totals, int64) {
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
		target, err := (&prepareFn{Config: TargetConfig{URL: filepath.Join(dir, name), Chunks: map[string]int64{"time": 4, "lat": 5, "lon": 3},
			Compressor: "zstd", RunID: name, MaxMem: maxMem}}).ProcessElement(ctx, schema)
		if err != nil {
			t.Fatal(err)
		}
		return target
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
	totals = writeChunks(t, w, single, keysOf(single), 1)
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
				target, err := (&prepareFn{Config: TargetConfig{URL: filepath.Join(dir, name), Chunks: map[string]int64{"time": c.time},
					Compressor: "zstd", RunID: name}}).ProcessElement(ctx, schema)
				if err != nil {
					t.Fatal(err)
				}
				return target
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
			if _, err := targetstore.Finalize(ctx, single, writeChunks(t, newStoreFn(t), single, keysOf(single), 1)); err != nil {
				t.Fatal(err)
			}
			sameSnapshot(t, snapshotData(t, filepath.Join(dir, name+".zarr")), snapshotData(t, filepath.Join(dir, name+"-chunks.zarr")))
		})
	}
}

// decodedBy is how many bytes w's inputs have decoded.
func decodedBy(w *write.Writer) int64 {
	return w.Stats().Decoded
}
