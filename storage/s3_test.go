package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/storage/storagetest"
)

// TestS3 runs the store, reader and copies against versitygw, an
// S3-compatible server, through the AWS SDK: what TestGCS checks, and the
// objects as the server keeps them (files under its root).
func TestS3(t *testing.T) {
	bucket, srv := storagetest.S3(t, "zarrforge-test")
	checkBucket(t, bucket)
	ctx := context.Background()
	st, err := storage.NewStore(ctx, bucket+"/plain")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, "sst/0.0", []byte("chunk")); err != nil {
		t.Fatal(err)
	}
	onDisk := filepath.Join(srv.Root, "zarrforge-test", "plain", "sst", "0.0")
	if b, err := os.ReadFile(onDisk); err != nil || string(b) != "chunk" {
		t.Errorf("the server holds %q, %v", b, err)
	}
	// A copy checks the object's checksums: bytes damaged in the server's
	// keeping (the same length, the same ETag) are not copied.
	if err := os.WriteFile(onDisk, []byte("chunK"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy")
	if _, err := storage.Copy(ctx, bucket+"/plain/sst/0.0", dst); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("copying a damaged object: %v", err)
	}
	if _, err := os.Stat(dst); err == nil {
		t.Error("the damaged copy was kept")
	}
}

// TestS3Multipart: an object larger than a part is uploaded in parts, each
// checked by the server against its CRC-32C, and appears whole; one whose
// writer fails appears not at all, nor do its parts.
func TestS3Multipart(t *testing.T) {
	bucket, _ := storagetest.S3(t, "zarrforge-test")
	ctx := context.Background()
	st, err := storage.NewStore(ctx, bucket+"/big")
	if err != nil {
		t.Fatal(err)
	}
	body := payload(40 << 20) // three parts of 16 MiB, the last short
	if err := st.Put(ctx, "shard", body); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get(ctx, "shard"); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("Get of a multipart object: %d bytes, %v", len(got), err)
	}
	err = st.PutFrom(ctx, "streamed", func(w io.Writer) error { // parts gathered from smaller writes
		for b := body; len(b) > 0; b = b[min(len(b), 5<<20+3):] {
			if _, err := w.Write(b[:min(len(b), 5<<20+3)]); err != nil {
				return err
			}
		}
		return nil
	})
	if got, gerr := st.Get(ctx, "streamed"); err != nil || gerr != nil || !bytes.Equal(got, body) {
		t.Fatalf("a multipart object from small writes: %d bytes, %v, %v", len(got), err, gerr)
	}
	err = st.PutFrom(ctx, "broken", func(w io.Writer) error {
		w.Write(body[:20<<20]) // a part is uploaded
		return errors.New("source broke")
	})
	if err == nil {
		t.Fatal("PutFrom succeeded")
	}
	if keys, _ := st.List(ctx, ""); len(keys) != 2 {
		t.Errorf("after a failed multipart upload: %v", keys)
	}
}

// TestS3Versions: GetVersion and PutIf on ETags (one of two writers
// conditioned on the same version wins); a reader pinned to the version it
// opened fails with ErrChanged once the object is replaced.
func TestS3Versions(t *testing.T) {
	bucket, _ := storagetest.S3(t, "zarrforge-test")
	ctx := context.Background()
	st, err := storage.NewStore(ctx, bucket+"/s.zarr")
	if err != nil {
		t.Fatal(err)
	}
	v1, err := st.PutIf(ctx, ".lease", []byte("run a"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutIf(ctx, ".lease", []byte("run b"), ""); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("a second create: %v, want ErrConflict", err)
	}
	b, v, err := st.GetVersion(ctx, ".lease")
	if err != nil || string(b) != "run a" || v != v1 {
		t.Fatalf("GetVersion = %q, %q, %v; want run a, %q", b, v, err, v1)
	}
	v2, err := st.PutIf(ctx, ".lease", []byte("run a, renewed"), v1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutIf(ctx, ".lease", []byte("stale"), v1); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("a write conditioned on an old ETag: %v, want ErrConflict", err)
	}
	body := payload(300_000)
	if err := st.Put(ctx, "in.nc", body); err != nil {
		t.Fatal(err)
	}
	r, err := storage.OpenReader(ctx, bucket+"/s.zarr/in.nc")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, "in.nc", payload(300_001)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAt(make([]byte, 100_000), 1000); !errors.Is(err, storage.ErrChanged) {
		t.Errorf("reading a replaced object: %v, want ErrChanged", err)
	}
	if v2 == v1 {
		t.Errorf("a rewrite kept ETag %s", v1)
	}
}

// TestS3IgnoresConditions: a server that ignores If-None-Match and
// If-Match (its proxy answers conditional writes as done) is found out before anything is
// claimed: the claim fails with ErrNoConditionalWrites and writes nothing.
func TestS3IgnoresConditions(t *testing.T) {
	bucket, srv := storagetest.S3Behind(t, "zarrforge-test", func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPut || r.Header.Get("If-None-Match") == "" && r.Header.Get("If-Match") == "" {
			return false
		}
		w.Header().Set("ETag", `"written-whatever-it-was-conditioned-on"`)
		return true // as a server that ignores the condition answers
	})
	ctx := context.Background()
	st, err := storage.NewStore(ctx, bucket+"/s.zarr")
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.PutIf(ctx, ".lease", []byte("run a"), "")
	if !errors.Is(err, storage.ErrNoConditionalWrites) {
		t.Fatalf("a claim on a server without conditional writes: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(srv.Root, "zarrforge-test", "s.zarr")); len(entries) != 0 {
		t.Errorf("the refused claim left %v", entries)
	}
}

// TestS3Faults: 503s and connection resets are retried by the SDK's
// retryer under the storage's policy, each retry reported to the observer;
// a bad secret fails at once in one line that names the object and not
// the secret.
func TestS3Faults(t *testing.T) {
	var failing atomic.Int32
	var tornOnce atomic.Bool
	bucket, _ := storagetest.S3Behind(t, "zarrforge-test", func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet {
			return false
		}
		if strings.HasSuffix(r.URL.Path, "/small.json") && tornOnce.CompareAndSwap(true, false) {
			w.Header().Set("x-amz-checksum-crc32", "AAAAAA==") // not the CRC-32 of what follows
			w.Header().Set("Content-Length", "100")
			w.Write(make([]byte, 100))
			return true
		}
		switch n := failing.Add(-1); {
		case n >= 2:
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		case n >= 0: // a reset mid-answer
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npart"))
			c.Close()
			return true
		}
		return false
	})
	var retries atomic.Int32
	ctx := storage.WithRetryObserver(fastRetry(context.Background()), func(string, int, error) { retries.Add(1) })
	st, err := storage.NewStore(ctx, bucket+"/s.zarr")
	if err != nil {
		t.Fatal(err)
	}
	body := payload(200_000)
	if err := st.Put(ctx, "in.nc", body); err != nil {
		t.Fatal(err)
	}
	failing.Store(3) // two 503s and a reset for the ranged GET
	r, err := storage.OpenReader(ctx, bucket+"/s.zarr/in.nc")
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 100_000)
	if _, err := r.ReadAt(p, 500); err != nil || !bytes.Equal(p, body[500:100_500]) {
		t.Fatalf("ReadAt through faults: %v", err)
	}
	if retries.Load() < 3 {
		t.Errorf("%d retries observed, want 3", retries.Load())
	}
	// A whole-object read whose body does not match the checksum its
	// answer announces (an overwrite torn on a server that is not atomic)
	// is read again.
	small := payload(100)
	if err := st.Put(ctx, "small.json", small); err != nil {
		t.Fatal(err)
	}
	tornOnce.Store(true)
	retries.Store(0)
	if got, err := st.Get(ctx, "small.json"); err != nil || !bytes.Equal(got, small) || retries.Load() != 1 {
		t.Errorf("a torn read: %v, %d retries, got the object: %v, the interceptor answered: %v", err, retries.Load(), bytes.Equal(got, small), !tornOnce.Load())
	}
	secret := "wrong-secret-do-not-print"
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	_, err = storage.OpenReader(context.Background(), bucket+"/s.zarr/in.nc")
	if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "s3://zarrforge-test/s.zarr/in.nc") {
		t.Errorf("a bad secret: %v", err)
	}
	t.Logf("a bad secret: %v", err)
}
