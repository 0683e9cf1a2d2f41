package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/storage"
	"os/exec"
	"syscall"
)

func TestPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"file:///data/x.nc", "/data/x.nc"},
		{"/data/../data/x.nc", "/data/x.nc"},
		{"rel/x.nc", "rel/x.nc"},
		{"gs://bucket/prefix", "gs://bucket/prefix"},
		// "#" and "?" are part of a file URL's path, as of a plain path
		// (issue 29, item 6: file:///data/run#2.zarr was cut to /data/run).
		{"file:///data/run#2.zarr", "/data/run#2.zarr"},
		{"file:///data/run?x=1", "/data/run?x=1"},
		{"file://localhost/data/a%20b.zarr", "/data/a b.zarr"},
	}
	for _, tc := range tests {
		if got, err := storage.Path(tc.in); err != nil || got != tc.want {
			t.Errorf("Path(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "file://otherhost/x", "file://", "file:///data/%zz"} {
		if _, err := storage.Path(bad); err == nil {
			t.Errorf("Path(%q) accepted", bad)
		}
	}
}

// TestFileURLLiteral: a store at a file URL with "#" in it is written
// there, not at the path cut before the "#" (another store's).
func TestFileURLLiteral(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := storage.NewStore(ctx, "file://"+dir+"/run#2.zarr")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, ".zgroup", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "run#2.zarr", ".zgroup")); err != nil {
		t.Fatalf("not written inside run#2.zarr: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "run")); err == nil {
		t.Fatal("written to the path cut at #")
	}
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "s.zarr")
	st, err := storage.NewStore(ctx, "file://"+root)
	if err != nil {
		t.Fatal(err)
	}
	if keys, err := st.List(ctx, ""); err != nil || len(keys) != 0 {
		t.Fatalf("List of a missing store = %v, %v", keys, err)
	}
	for _, k := range []string{".zgroup", "sst/0.0", "sst/.zarray"} {
		if err := st.Put(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := st.List(ctx, "")
	if err != nil || !slices.Equal(keys, []string{".zgroup", "sst/.zarray", "sst/0.0"}) {
		t.Errorf("List = %v, %v (temporary files must not remain)", keys, err)
	}
	if b, err := st.Get(ctx, "sst/0.0"); err != nil || string(b) != "sst/0.0" {
		t.Errorf("Get = %q, %v", b, err)
	}
	if _, err := st.Get(ctx, "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Get of a missing key: %v", err)
	}
	if ok, err := st.Exists(ctx, ".zgroup"); !ok || err != nil {
		t.Errorf("Exists = %v, %v", ok, err)
	}
	checkOpen(t, st, "sst/0.0")
	// A failed streaming write leaves nothing under the key.
	if err := st.PutFrom(ctx, "sst/1.0", func(w io.Writer) error {
		_, _ = w.Write([]byte("partial"))
		return errors.New("source broke")
	}); err == nil {
		t.Error("PutFrom succeeded")
	}
	if ok, _ := st.Exists(ctx, "sst/1.0"); ok {
		t.Error("a failed write left an object")
	}
	if err := st.Delete(ctx, ".zgroup"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteAll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("root remains after DeleteAll: %v", err)
	}
}

// checkOpen: Open streams the object at key whole, into another store
// as a copy (for local stores, one the kernel makes), and a missing key
// or a directory is an error wrapping fs.ErrNotExist or naming it.
func checkOpen(t *testing.T, st *storage.Store, key string) {
	t.Helper()
	ctx := context.Background()
	want, err := st.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.Open(ctx, key)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	dst, err := storage.NewStore(ctx, filepath.Join(t.TempDir(), "copy"))
	if err != nil {
		t.Fatal(err)
	}
	if err := dst.PutFrom(ctx, "x", func(w io.Writer) error { _, err := io.Copy(w, r); return err }); err != nil {
		t.Fatal(err)
	}
	if got, err := dst.Get(ctx, "x"); err != nil || !bytes.Equal(got, want) {
		t.Errorf("copied through Open: %q, %v; want %q", got, err, want)
	}
	if _, err := st.Open(ctx, "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing key: %v", err)
	}
}

func TestCopyAndRead(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "in.nc")
	if err := os.WriteFile(src, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "cache", "x.nc")
	if n, err := storage.Copy(ctx, src, dst); err != nil || n != 10 {
		t.Fatalf("Copy = %d, %v", n, err)
	}
	r, err := storage.OpenReader(ctx, "file://"+dst)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, 3)
	if _, err := r.ReadAt(buf, 4); err != nil || string(buf) != "456" || r.Size() != 10 {
		t.Errorf("ReadAt = %q, %v, size %d", buf, err, r.Size())
	}
	if _, err := storage.OpenReader(ctx, filepath.Join(dir, "missing.nc")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenReader of a missing file: %v", err)
	}
	if _, err := storage.Stat(ctx, dir+"/nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat of a missing file: %v", err)
	}
}

// TestLocalUmask checks that local objects and their directories get the
// permissions the process umask leaves (temporary files are owner-only
// unless made otherwise), and that another user can read a store written
// under the usual umask 022.
func TestLocalUmask(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		umask         int
		file, dirMode fs.FileMode
	}{{0o022, 0o644, 0o755}, {0o002, 0o664, 0o775}, {0o077, 0o600, 0o700}} {
		old := syscall.Umask(tc.umask)
		root := filepath.Join(t.TempDir(), "s.zarr")
		st, err := storage.NewStore(ctx, root)
		if err == nil {
			err = st.Put(ctx, "sst/0.0", []byte("x"))
		}
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		for path, want := range map[string]fs.FileMode{root: tc.dirMode, filepath.Join(root, "sst"): tc.dirMode, filepath.Join(root, "sst", "0.0"): tc.file} {
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
				t.Errorf("umask %03o: %s has mode %v (%v), want %v", tc.umask, path, fi.Mode().Perm(), err, want)
			}
		}
	}
	if os.Geteuid() != 0 {
		t.Log("not root: reading the store as another user is not tried")
		return
	}
	dir, err := os.MkdirTemp("", "umask")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := syscall.Umask(0o022)
	st, err := storage.NewStore(ctx, filepath.Join(dir, "s.zarr"))
	if err == nil {
		err = st.Put(ctx, "sst/0.0", []byte("readable"))
	}
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("cat", filepath.Join(dir, "s.zarr", "sst", "0.0"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}} // nobody
	if out, err := cmd.CombinedOutput(); err != nil || string(out) != "readable" {
		t.Errorf("user nobody cannot read the store: %v: %s", err, out)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/data/x.nc", "/data/x.nc"},
		{"gs://bucket/x.nc", "gs://bucket/x.nc"},
		{"https://host/x.nc", "https://host/x.nc"},
		{"https://host/x.nc?token=abc&day=1", "https://host/x.nc?day=REDACTED&token=REDACTED"},
		{"https://user:pass@host/x.nc", "https://REDACTED@host/x.nc"},
		{"https://tok3n@host/x.nc", "https://REDACTED@host/x.nc"},
		{"https://u:p@host/%zz?k=v", "https://host/REDACTED"},
	}
	for _, tc := range tests {
		if got := storage.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestNoWritesThroughLinks: a store whose chunk directory is a symbolic
// link to elsewhere (issue 29, item 9: a v3 append wrote through
// sst/c -> ../../victim) gets no write, conditional write or removal
// through it; the place it points to is left as it was.
func TestNoWritesThroughLinks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.MkdirAll(filepath.Join(victim, "0"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(victim, "0", "0"), []byte("theirs"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "s.zarr")
	if err := os.MkdirAll(filepath.Join(root, "sst"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../victim", filepath.Join(root, "sst", "c")); err != nil {
		t.Fatal(err)
	}
	st, err := storage.NewStore(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	for name, write := range map[string]func() error{
		"put":     func() error { return st.Put(ctx, "sst/c/0/0", []byte("ours")) },
		"put new": func() error { return st.Put(ctx, "sst/c/1/0", []byte("ours")) },
		"put if":  func() error { _, err := st.PutIf(ctx, "sst/c/0/1", []byte("ours"), ""); return err },
		"delete":  func() error { return st.Delete(ctx, "sst/c/0/0") },
	} {
		if err := write(); err == nil || !strings.Contains(err.Error(), "sst/c inside the store is a symbolic link") {
			t.Errorf("%s through a link: %v", name, err)
		}
	}
	entries, _ := os.ReadDir(victim)
	b, _ := os.ReadFile(filepath.Join(victim, "0", "0"))
	if len(entries) != 1 || string(b) != "theirs" {
		t.Errorf("the link's target changed: %d entries, %q", len(entries), b)
	}
}
