package storage_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zarrforge/zarrforge/netcdf"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/storage/storagetest"
)

// fastRetry keeps the tests quick: millisecond backoffs, a short stall
// timeout.
func fastRetry(ctx context.Context) context.Context {
	return storage.WithRetry(ctx, storage.Retry{Attempts: 4, Initial: time.Millisecond, Max: 5 * time.Millisecond, Timeout: 300 * time.Millisecond})
}

func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// fault decides how the server answers request number i (from 1).
type fault func(i int, w http.ResponseWriter, r *http.Request, body []byte) bool

func serve(t *testing.T, body []byte, f fault) (url string, requests *atomic.Int32) {
	t.Helper()
	requests = new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(requests.Add(1))
		if f != nil && f(i, w, r, body) {
			return
		}
		http.ServeContent(w, r, "data.nc", time.Time{}, bytes.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/data.nc", requests
}

var (
	status = func(code, times int) fault {
		return func(i int, w http.ResponseWriter, r *http.Request, _ []byte) bool {
			if i <= times {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(code)
				return true
			}
			return false
		}
	}
	// reset sends half the body, then drops the connection.
	reset = func(times int) fault {
		return func(i int, w http.ResponseWriter, r *http.Request, body []byte) bool {
			if i > times || r.Method != http.MethodGet {
				return false
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(http.StatusOK)
			w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
			return true
		}
	}
	// short announces the whole length but sends less.
	short = func(times int) fault {
		return func(i int, w http.ResponseWriter, r *http.Request, body []byte) bool {
			if i > times || r.Method != http.MethodGet {
				return false
			}
			conn, buf, _ := w.(http.Hijacker).Hijack()
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(body))
			buf.Write(body[:len(body)/3])
			buf.Flush()
			conn.Close()
			return true
		}
	}
	slow = func(times int) fault {
		return func(i int, w http.ResponseWriter, r *http.Request, _ []byte) bool {
			if i > times {
				return false
			}
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
			return true
		}
	}
	ignoreRange = func(i int, w http.ResponseWriter, r *http.Request, body []byte) bool {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
		return true
	}
	withMD5 = func(sum []byte) fault {
		return func(i int, w http.ResponseWriter, r *http.Request, body []byte) bool {
			w.Header().Set("Content-MD5", base64.StdEncoding.EncodeToString(sum))
			return false
		}
	}
)

// TestHTTPFaults reads and copies through servers that misbehave: the
// bytes come out right after retries, or the failure is clear and quick.
func TestHTTPFaults(t *testing.T) {
	body := payload(300_000)
	tests := []struct {
		name  string
		fault fault
		err   string // "" when the read must succeed
	}{
		{"503 twice", status(http.StatusServiceUnavailable, 2), ""},
		{"429 with Retry-After", status(http.StatusTooManyRequests, 1), ""},
		{"connection reset mid-body", reset(2), ""},
		{"body shorter than Content-Length", short(2), ""},
		{"slower than the timeout", slow(1), ""},
		{"server ignores Range", ignoreRange, ""},
		{"404", status(http.StatusNotFound, 100), "404 Not Found"},
		{"403", status(http.StatusForbidden, 100), "403 Forbidden"},
		{"always 500", status(http.StatusInternalServerError, 100), "gave up after 4 attempts"},
		{"wrong Content-MD5", withMD5(make([]byte, 16)), "md5 checksum mismatch"},
		{"right Content-MD5", withMD5(func() []byte { s := md5.Sum(body); return s[:] }()), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url, requests := serve(t, body, tc.fault)
			var retries atomic.Int32
			ctx := storage.WithRetryObserver(fastRetry(context.Background()), func(u string, attempt int, err error) {
				retries.Add(1)
			})
			dst := filepath.Join(t.TempDir(), "copy.nc")
			n, err := storage.Copy(ctx, url, dst)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), url) {
					t.Fatalf("Copy: %v, want an error naming %s and saying %q", err, url, tc.err)
				}
				if strings.HasPrefix(tc.name, "40") && requests.Load() != 1 {
					t.Errorf("%d requests for a %s, want 1", requests.Load(), tc.name)
				}
				if _, err := os.Stat(dst); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("a failed copy left %s behind", dst)
				}
				if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dst), "*")); len(left) != 0 {
					t.Errorf("a failed copy left %v", left)
				}
				return
			}
			if err != nil {
				t.Fatalf("Copy: %v", err)
			}
			got, _ := os.ReadFile(dst)
			if n != int64(len(body)) || !bytes.Equal(got, body) {
				t.Fatalf("copied %d bytes, equal %v", n, bytes.Equal(got, body))
			}
			if strings.Contains(tc.name, "twice") && retries.Load() != 2 {
				t.Errorf("%d retries observed, want 2", retries.Load())
			}
			// Ranged reads through the same misbehaviour.
			requests.Store(0)
			r, err := storage.OpenReader(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			for _, rng := range [][2]int{{0, 16}, {1000, 70_000}, {250_000, 50_000}, {299_990, 10}} {
				p := make([]byte, rng[1])
				if _, err := r.ReadAt(p, int64(rng[0])); err != nil {
					t.Fatalf("ReadAt %v: %v", rng, err)
				}
				if !bytes.Equal(p, body[rng[0]:rng[0]+rng[1]]) {
					t.Fatalf("ReadAt %v: wrong bytes", rng)
				}
			}
		})
	}
}

func TestHTTPNotFoundIsNotExist(t *testing.T) {
	url, _ := serve(t, nil, status(http.StatusNotFound, 100))
	if _, err := storage.Stat(context.Background(), url); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat: %v, want fs.ErrNotExist", err)
	}
	if _, err := storage.NewStore(context.Background(), url); err == nil {
		t.Fatal("a store on an HTTP URL was accepted")
	}
}

// TestGCS runs the store, reader and copies against a fake Cloud Storage
// server through the real client.
func TestGCS(t *testing.T) {
	checkBucket(t, storagetest.FakeGCS(t, "zarrforge-test"))
}

// checkBucket exercises a store in bucket (gs:// or s3://): writes,
// listing, reads, a failed write leaving nothing, copies in and out with
// ranged reads, and DeleteAll keeping to the store.
func checkBucket(t *testing.T, bucket string) {
	ctx := context.Background()
	st, err := storage.NewStore(ctx, bucket+"/stores/a.zarr")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{".zgroup", "sst/.zarray", "sst/0.0.0", "time/0"} {
		if err := st.Put(ctx, k, []byte("v:"+k)); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{".zgroup", "sst/.zarray", "sst/0.0.0", "time/0"}; !slices.Equal(keys, want) {
		t.Fatalf("List = %v, want %v", keys, want)
	}
	if b, err := st.Get(ctx, "sst/0.0.0"); err != nil || string(b) != "v:sst/0.0.0" {
		t.Fatalf("Get = %q, %v", b, err)
	}
	if _, err := st.Get(ctx, "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Get missing: %v, want fs.ErrNotExist", err)
	}
	if ok, err := st.Exists(ctx, "time/0"); !ok || err != nil {
		t.Fatalf("Exists = %v, %v", ok, err)
	}
	checkOpen(t, st, "sst/0.0.0")
	// A failed streaming write leaves nothing.
	err = st.PutFrom(ctx, "half", func(w io.Writer) error {
		w.Write([]byte("partial"))
		return errors.New("source broke")
	})
	if err == nil {
		t.Fatal("PutFrom succeeded")
	}
	if ok, _ := st.Exists(ctx, "half"); ok {
		t.Fatal("a failed PutFrom left an object")
	}
	if err := st.Delete(ctx, "time/0"); err != nil {
		t.Fatal(err)
	}
	// Copies: local → bucket, http → bucket, bucket → local; ranged reads.
	body := payload(200_000)
	local := filepath.Join(t.TempDir(), "in.nc")
	os.WriteFile(local, body, 0o644)
	url, _ := serve(t, body, reset(1))
	cctx := fastRetry(ctx)
	for _, src := range []string{local, url} {
		dst := bucket + "/cache/" + filepath.Base(src) + ".copy"
		if n, err := storage.Copy(cctx, src, dst); err != nil || n != int64(len(body)) {
			t.Fatalf("Copy %s: %d, %v", src, n, err)
		}
		r, err := storage.OpenReader(ctx, dst)
		if err != nil {
			t.Fatal(err)
		}
		p := make([]byte, 1000)
		if _, err := r.ReadAt(p, 12345); err != nil || !bytes.Equal(p, body[12345:13345]) || r.Size() != int64(len(body)) {
			t.Fatalf("ReadAt: %v", err)
		}
		back := filepath.Join(t.TempDir(), "back.nc")
		if _, err := storage.Copy(ctx, dst, back); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(back); !bytes.Equal(got, body) {
			t.Fatal("bucket → local copy differs")
		}
	}
	if _, err := storage.Stat(ctx, bucket+"/cache/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat missing: %v", err)
	}
	if err := st.DeleteAll(ctx); err != nil {
		t.Fatal(err)
	}
	if keys, _ := st.List(ctx, ""); len(keys) != 0 {
		t.Fatalf("after DeleteAll: %v", keys)
	}
	if n, err := storage.Stat(ctx, bucket+"/cache/in.nc.copy"); err != nil || n != int64(len(body)) {
		t.Fatalf("DeleteAll removed objects outside the store: %d, %v", n, err)
	}
}

// TestFewRequestsForHeaders opens a netCDF-4 file over HTTP and reads every
// variable: the hundreds of small metadata reads share a few cached blocks.
func TestFewRequestsForHeaders(t *testing.T) {
	path := filepath.Join("..", "testdata", "formats", "nc4_types.nc")
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	url, requests := serve(t, body, nil)
	r, err := storage.OpenReader(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	f, err := netcdf.Open(r, r.Size(), url)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range f.Vars() {
		n := int64(v.Type.Size())
		for _, s := range v.Shape {
			n *= s
		}
		if err := f.Read(v.Name, make([]int64, len(v.Shape)), v.Shape, make([]byte, n)); err != nil {
			t.Fatal(err)
		}
	}
	if n := requests.Load(); n > 3 { // HEAD, then one block for a 55 KB file
		t.Errorf("%d requests for a %d-byte file", n, len(body))
	}
}

// TestHTTPSlowFailures bounds the time a dead or trickling server holds up a
// read: a stall (headers, then nothing) and a trickle (a byte at a time,
// never idle for the timeout) both fail, and a request gives up after its
// deadline however many attempts it has left.
func TestHTTPSlowFailures(t *testing.T) {
	trickle := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.WriteHeader(http.StatusOK)
		for range 1000 {
			if _, err := w.Write([]byte{1}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	silent := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		policy  storage.Retry
		want    string
	}{
		{"trickle", trickle, storage.Retry{Attempts: 2, Timeout: 300 * time.Millisecond, Deadline: time.Minute}, "stalled"},
		{"silent, many attempts", silent, storage.Retry{Attempts: 1000, Initial: time.Millisecond, Timeout: 200 * time.Millisecond, Deadline: 1500 * time.Millisecond}, "no answer within 1.5s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			ctx := storage.WithRetry(context.Background(), tc.policy)
			start := time.Now()
			_, err := storage.Copy(ctx, srv.URL+"/x.nc", filepath.Join(t.TempDir(), "x.nc"))
			took := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Copy: %v, want an error saying %q", err, tc.want)
			}
			if took > tc.policy.Deadline+2*time.Second {
				t.Errorf("took %v, more than the deadline %v", took, tc.policy.Deadline)
			}
		})
	}
}

// TestHTTPContentRange reads ranges from servers whose partial answers are
// not the bytes asked for: each read fails (after its retries), none gives
// the wrong bytes.
func TestHTTPContentRange(t *testing.T) {
	body := payload(4 << 20)
	for _, tc := range []struct {
		name   string
		header func(first, last int) string
		from   func(first int) int
	}{
		{"from the start", func(first, last int) string { return fmt.Sprintf("bytes 0-%d/4194304", last-first) }, func(int) int { return 0 }},
		{"shifted, and says so", func(first, last int) string { return fmt.Sprintf("bytes %d-%d/4194304", first+8, last+8) }, func(f int) int { return f + 8 }},
		{"another total", func(first, last int) string { return fmt.Sprintf("bytes %d-%d/9999999", first, last) }, func(f int) int { return f }},
		{"no Content-Range", func(int, int) string { return "" }, func(f int) int { return f }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var first, last int
				if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &first, &last); err != nil || r.Method == http.MethodHead {
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
					w.Write(body)
					return
				}
				if h := tc.header(first, last); h != "" {
					w.Header().Set("Content-Range", h)
				}
				from := min(tc.from(first), len(body)-(last-first+1))
				w.Header().Set("Content-Length", strconv.Itoa(last-first+1))
				w.WriteHeader(http.StatusPartialContent)
				w.Write(body[from : from+last-first+1])
			}))
			defer srv.Close()
			r, err := storage.OpenReader(fastRetry(context.Background()), srv.URL+"/x.nc")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			p := make([]byte, 100)
			_, err = r.ReadAt(p, 3_000_000)
			if err == nil || !strings.Contains(err.Error(), "Content-Range") && !strings.Contains(err.Error(), "the server sent") {
				t.Fatalf("ReadAt: %v (equal: %v), want an error about the range", err, bytes.Equal(p, body[3_000_000:3_000_100]))
			}
		})
	}
}

// TestHTTPSourceChanges replaces the object a server serves (same size, new
// ETag) while it is read: a ranged read after the change and a download
// resumed after it fail, naming the change, instead of mixing versions.
func TestHTTPSourceChanges(t *testing.T) {
	v1, v2 := payload(200_000), payload(200_000)
	for i := range v2 {
		v2[i] ^= 0xff
	}
	var changed, broke atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, etag := v1, `"v1"`
		if changed.Load() {
			body, etag = v2, `"v2"`
		}
		w.Header().Set("ETag", etag)
		if r.Method == http.MethodGet && r.Header.Get("Range") == "" && !broke.Swap(true) {
			// The first download breaks off after 1000 bytes; the object
			// changes before it resumes.
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body[:1000])
			w.(http.Flusher).Flush()
			changed.Store(true)
			panic(http.ErrAbortHandler)
		}
		http.ServeContent(w, r, "x.nc", time.Time{}, bytes.NewReader(body)) // honours If-Range
	}))
	defer srv.Close()
	_, err := storage.Copy(fastRetry(context.Background()), srv.URL+"/x.nc", filepath.Join(t.TempDir(), "x.nc"))
	if err == nil || !strings.Contains(err.Error(), "the object changed while it was being read") {
		t.Fatalf("Copy: %v, want an error saying the object changed", err)
	}

	changed.Store(false)
	r, err := storage.OpenReader(fastRetry(context.Background()), srv.URL+"/x.nc")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	changed.Store(true)
	p := make([]byte, 100)
	if _, err := r.ReadAt(p, 150_000); err == nil || !strings.Contains(err.Error(), `"v1", then "v2"`) {
		t.Fatalf("ReadAt: %v, want an error saying the object changed", err)
	}
}
