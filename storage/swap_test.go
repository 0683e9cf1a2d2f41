package storage_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/storage/storagetest"
)

// TestPutIf: conditional writes on every writable backend. Of writers
// conditioned on one version exactly one wins, the others get ErrConflict,
// whatever the interleaving.
func TestPutIf(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"local", func(t *testing.T) string { return filepath.Join(t.TempDir(), "store") }},
		{"gcs", func(t *testing.T) string { return storagetest.FakeGCS(t, "swap") + "/store" }},
		{"s3", func(t *testing.T) string { b, _ := storagetest.S3(t, "swap"); return b + "/store" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := storage.NewStore(ctx, tc.url(t))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := st.GetVersion(ctx, "m"); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("GetVersion of nothing: %v, want fs.ErrNotExist", err)
			}
			v1, err := st.PutIf(ctx, "m", []byte("one"), "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.PutIf(ctx, "m", []byte("two"), ""); !errors.Is(err, storage.ErrConflict) {
				t.Fatalf("create over an object: %v, want ErrConflict", err)
			}
			b, v, err := st.GetVersion(ctx, "m")
			if err != nil || string(b) != "one" || v != v1 {
				t.Fatalf("GetVersion = %q, %q, %v; want one, %q", b, v, err, v1)
			}
			if _, err := st.PutIf(ctx, "m", []byte("two"), v1); err != nil {
				t.Fatal(err)
			}
			if _, err := st.PutIf(ctx, "m", []byte("three"), v1); !errors.Is(err, storage.ErrConflict) {
				t.Fatalf("write conditioned on a replaced version: %v, want ErrConflict", err)
			}

			// Rounds of racing writers, each conditioned on what it read.
			for round := range 5 {
				_, v, err := st.GetVersion(ctx, "m")
				if err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				var mu sync.Mutex
				wins, conflicts := 0, 0
				for w := range 8 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, err := st.PutIf(ctx, "m", []byte{byte(round), byte(w)}, v)
						mu.Lock()
						defer mu.Unlock()
						switch {
						case err == nil:
							wins++
						case errors.Is(err, storage.ErrConflict):
							conflicts++
						default:
							t.Error(err)
						}
					}()
				}
				wg.Wait()
				if wins != 1 || conflicts != 7 {
					t.Fatalf("round %d: %d writers won and %d conflicted, want 1 and 7", round, wins, conflicts)
				}
			}

			if err := st.Put(ctx, "a/b/c", []byte("x")); err != nil {
				t.Fatal(err)
			}
			if err := st.Clear(ctx, "m"); err != nil {
				t.Fatal(err)
			}
			keys, err := st.List(ctx, "")
			if err != nil || len(keys) != 1 || keys[0] != "m" {
				t.Fatalf("after Clear: %v %v, want [m]", keys, err)
			}
			if tc.name == "local" {
				if _, err := os.Stat(filepath.Join(st.URL(), "a")); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Clear left the emptied directory a: %v", err)
				}
			}
		})
	}
}
