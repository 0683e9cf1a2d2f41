package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/storage/storagetest"
)

// TestS3Faults runs the program on a target in an S3-compatible server
// (versitygw) and goes through the faults the other backends are tested
// with: a create over an existing store is refused; a run killed with
// SIGKILL mid-write leaves a store that is not complete, and the same
// command again writes it whole; a bad secret fails in one line naming the
// target, never printing the secret.
func TestS3Faults(t *testing.T) {
	bin := buildProgram(t)
	manifest := beamtest.Testdata("collections", "daily", "collection.json")
	var slow atomic.Bool
	bucket, srv := storagetest.S3Behind(t, "faults", func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/sst/") && slow.Load() {
			time.Sleep(300 * time.Millisecond) // chunks arrive slowly: time to kill the run
		}
		return false
	})
	target := bucket + "/daily.zarr"
	dir := t.TempDir()
	recipe := filepath.Join(dir, "recipe.yaml")
	text := fmt.Sprintf("pattern:\n  template: %q\n  concat_dim: {name: time, keys: [0, 1, 2, 3, 4, 5, 6, 7]}\n"+
		"target: {url: %q, chunks: {time: 1, lat: 2}, mode: create}\n",
		beamtest.Testdata("collections", "daily", "daily_0{time}.nc"), target)
	if err := os.WriteFile(recipe, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}

	// Killed mid-write: the marker stays "writing" and no consolidated
	// metadata is written; the same command takes the dead run's store up.
	slow.Store(true)
	cmd := exec.Command(bin, "--recipe", recipe)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(srv.Root, "faults", "daily.zarr")
	waitFor(t, "the first chunk in the bucket", func() string {
		if m, _ := filepath.Glob(filepath.Join(store, "sst", "*")); len(m) > 0 {
			return "there"
		}
		return ""
	})
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(store, ".zmetadata")); err == nil {
		t.Fatal("a killed run left consolidated metadata: the store looks complete")
	}
	slow.Store(false)
	if code, stderr := runProgram(t, bin, "", "--recipe", recipe); code != 0 {
		t.Fatalf("the same command after the kill: exit %d\n%s", code, stderr)
	}
	beamtest.CompareWithXarray(t, downloadS3(t, "faults", "daily.zarr"), manifest, nil, nil)

	// A create over the complete store is refused, and changes nothing.
	before := snapshot(t, store)
	code, stderr := runProgram(t, bin, "", "--recipe", recipe)
	if code != 1 || !strings.Contains(stderr, "a store already exists there") {
		t.Errorf("a create over a store: exit %d\n%s", code, stderr)
	}
	if after := snapshot(t, store); after != before {
		t.Error("the refused create changed the store")
	}

	// A bad secret: one line, the target named, the secret not.
	secret := "not-the-secret-0123456789"
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	code, stderr = runProgram(t, bin, "", "--recipe", recipe)
	last := lastLine(stderr)
	t.Logf("a bad secret: %s", last)
	if code != 1 || strings.Contains(stderr, secret) || !strings.Contains(last, "s3://faults/daily.zarr") || !strings.Contains(last, "access denied") {
		t.Errorf("a bad secret: exit %d, last line %q\n%s", code, last, stderr)
	}
}

// snapshot lists the files under dir with their sizes and times.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			fmt.Fprintf(&b, "%s %d %d\n", p, fi.Size(), fi.ModTime().UnixNano())
		}
		return nil
	})
	return b.String()
}
