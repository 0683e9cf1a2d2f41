package storagetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// S3Server is an S3-compatible server a test started: its endpoint, the
// keys it accepts, and the directory it keeps its buckets in (a bucket is
// a directory; an object a file under it).
type S3Server struct {
	Endpoint, AccessKey, SecretKey, Root string
}

// AddBucket makes an empty bucket on the server.
func (s S3Server) AddBucket(t testing.TB, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(s.Root, name), 0o755); err != nil {
		t.Fatal(err)
	}
}

// S3 starts versitygw (Versity's S3 gateway, Apache-2.0, built from the
// module in beamtest/versitygw) over a temporary directory holding an
// empty bucket, points the AWS SDK at it for the rest of the test
// (AWS_ENDPOINT_URL_S3, static keys, a region, no shared config or
// instance metadata) and returns the bucket's s3:// URL. The server stops
// when the test ends. A test fails, saying why, where the server cannot be
// built.
func S3(t testing.TB, bucket string) (string, S3Server) {
	t.Helper()
	return S3Behind(t, bucket, nil)
}

// S3Behind is S3 with every request passing through intercept first: it
// may answer a request itself (a failure the test stages) and return true,
// or return false to let the server answer. nil intercepts nothing.
func S3Behind(t testing.TB, bucket string, intercept func(http.ResponseWriter, *http.Request) bool) (string, S3Server) {
	t.Helper()
	bin := versitygw(t)
	dir := t.TempDir()
	srv := S3Server{AccessKey: "zarrforge-test-key", SecretKey: "zarrforge-test-secret-0123456789", Root: filepath.Join(dir, "root")}
	for _, d := range []string{filepath.Join(srv.Root, bucket), filepath.Join(dir, "meta")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--access", srv.AccessKey, "--secret", srv.SecretKey, "--port", addr, "--region", "us-east-1",
		"posix", "--sidecar", filepath.Join(dir, "meta"), srv.Root)
	log := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting versitygw: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitListening(t, addr, log)
	srv.Endpoint = "http://" + addr
	endpoint := srv.Endpoint
	if intercept != nil {
		target, _ := url.Parse(srv.Endpoint)
		proxy := httputil.NewSingleHostReverseProxy(target)
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !intercept(w, r) {
				proxy.ServeHTTP(w, r)
			}
		}))
		t.Cleanup(front.Close)
		endpoint = front.URL
	}
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_S3": endpoint, "AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey,
		"AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none"),
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "") // restored when the test ends
		os.Unsetenv(k)
	}
	return "s3://" + bucket, srv
}

// versitygw builds the server once per module version, into the user's
// cache directory, and returns the binary's path.
func versitygw(t testing.TB) string {
	t.Helper()
	build.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		mod := filepath.Join(filepath.Dir(file), "..", "..", "beamtest", "versitygw")
		sum, err := os.ReadFile(filepath.Join(mod, "go.sum"))
		if err != nil {
			build.err = err
			return
		}
		h := sha256.Sum256(sum)
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		build.bin = filepath.Join(cache, "zarrforge", "versitygw-"+hex.EncodeToString(h[:8]))
		if _, err := os.Stat(build.bin); err == nil {
			return
		}
		tmp := fmt.Sprintf("%s.%d", build.bin, os.Getpid())
		c := exec.Command("go", "build", "-o", tmp, "github.com/versity/versitygw/cmd/versitygw")
		c.Dir = mod
		if out, err := c.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("%v\n%s", err, out)
			return
		}
		build.err = os.Rename(tmp, build.bin)
	})
	if build.err != nil {
		t.Fatalf("the S3-compatible test server (versitygw, beamtest/versitygw) cannot be built: %v", build.err)
	}
	return build.bin
}

var build struct {
	sync.Once
	bin string
	err error
}

// lockedBuffer is a buffer one process writes while a test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freeAddr returns a loopback address no one listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitListening waits until addr accepts connections.
func waitListening(t testing.TB, addr string, log fmt.Stringer) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("versitygw did not listen on %s:\n%s", addr, log)
}
