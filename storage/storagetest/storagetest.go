// Package storagetest runs an in-process fake Cloud Storage server
// (github.com/fsouza/fake-gcs-server) for tests, so that the real
// cloud.google.com/go/storage client — the code path production uses — is
// exercised against it.
package storagetest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// FakeGCS starts a fake Cloud Storage server holding an empty bucket,
// points STORAGE_EMULATOR_HOST at it for the rest of the test, and returns
// the bucket's gs:// URL. The server stops when the test ends.
func FakeGCS(t testing.TB, bucket string) string {
	t.Helper()
	return FakeGCSBehind(t, bucket, nil)
}

// FakeGCSBehind is FakeGCS with every request passing through intercept
// first: it may answer a request itself (a failure the test stages) and
// return true, or return false to let the server answer. nil intercepts
// nothing.
func FakeGCSBehind(t testing.TB, bucket string, intercept func(http.ResponseWriter, *http.Request) bool) string {
	t.Helper()
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme: "http", Host: "127.0.0.1", Port: 0, Writer: nopWriter{},
	})
	if err != nil {
		t.Fatalf("fake GCS server: %v", err)
	}
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	host := strings.TrimPrefix(srv.URL(), "http://")
	if intercept != nil {
		target, _ := url.Parse(srv.URL())
		proxy := httputil.NewSingleHostReverseProxy(target)
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !intercept(w, r) {
				proxy.ServeHTTP(w, r)
			}
		}))
		t.Cleanup(front.Close)
		host = strings.TrimPrefix(front.URL, "http://")
	}
	t.Setenv("STORAGE_EMULATOR_HOST", host)
	return "gs://" + bucket
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
