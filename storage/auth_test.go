package storage

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHTTPAuth: the credentials are read from the environment at each
// request, added as Basic auth, headers and query parameters, and never
// appear in an error; a missing variable is named, its value never.
func TestHTTPAuth(t *testing.T) {
	t.Setenv("T_USER", "u")
	t.Setenv("T_PASS", "pw-secret")
	t.Setenv("T_TOKEN", "tok-secret")
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer srv.Close()
	a := HTTPAuth{UsernameEnv: "T_USER", PasswordEnv: "T_PASS", HeadersEnv: map[string]string{"X-Key": "T_TOKEN"},
		QueryEnv: map[string]string{"token": "T_TOKEN"}}
	require.Equal(t, []string{"T_PASS", "T_TOKEN", "T_USER"}, a.Vars())
	require.NoError(t, a.Check())

	_, err := OpenReader(WithHTTPAuth(context.Background(), a), srv.URL+"/f.nc")
	require.Error(t, err, "a 403 must fail")
	assert.Contains(t, err.Error(), "403")
	assert.Contains(t, err.Error(), srv.URL+"/f.nc")
	assert.NotContains(t, err.Error(), "secret")
	require.NotNil(t, got)
	user, pass, ok := got.BasicAuth()
	assert.True(t, ok)
	assert.Equal(t, "u", user)
	assert.Equal(t, "pw-secret", pass)
	assert.Equal(t, "tok-secret", got.Header.Get("X-Key"))
	assert.Equal(t, "tok-secret", got.URL.Query().Get("token"))

	t.Setenv("T_PASS", "")
	err = a.Check()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "T_PASS")
	assert.ErrorContains(t, HTTPAuth{UsernameEnv: "T_USER"}.Check(), "both a username and a password")
	assert.True(t, HTTPAuth{}.IsZero())
}

// TestRedirects (issue 29, items 8 and 16): a redirect never carries a
// Referer; the configured secrets go to the origin of the first URL only,
// not to another origin it redirects to; redirects to other schemes and
// loops fail at once, naming the redirect, without retries.
func TestRedirects(t *testing.T) {
	t.Setenv("T_USER", "u")
	t.Setenv("T_PASS", "pw-secret")
	t.Setenv("T_TOKEN", "tok-secret")
	body := []byte("CDF\x01 not really")
	var other, same *http.Request
	otherSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other = r
		http.ServeContent(w, r, "f.nc", time.Time{}, bytes.NewReader(body))
	}))
	defer otherSrv.Close()
	var hits atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/away.nc":
			http.Redirect(w, r, otherSrv.URL+"/f.nc?"+r.URL.RawQuery, http.StatusFound)
		case "/here.nc":
			http.Redirect(w, r, "/f.nc", http.StatusFound)
		case "/f.nc":
			same = r
			http.ServeContent(w, r, "f.nc", time.Time{}, bytes.NewReader(body))
		case "/loop.nc":
			http.Redirect(w, r, "/loop.nc", http.StatusFound)
		default:
			http.Redirect(w, r, strings.TrimPrefix(r.URL.Path, "/to/"), http.StatusFound)
		}
	}))
	defer origin.Close()
	a := HTTPAuth{UsernameEnv: "T_USER", PasswordEnv: "T_PASS", HeadersEnv: map[string]string{"X-Key": "T_TOKEN"},
		QueryEnv: map[string]string{"token": "T_TOKEN"}}
	ctx := WithHTTPAuth(context.Background(), a)

	read := func(url string) error {
		r, err := OpenReader(ctx, url)
		if err == nil {
			r.Close()
		}
		return err
	}
	require.NoError(t, read(origin.URL+"/away.nc"))
	require.NotNil(t, other)
	_, _, basic := other.BasicAuth()
	assert.False(t, basic, "Basic auth sent to another origin")
	assert.Empty(t, other.Header.Get("X-Key"), "a secret header sent to another origin")
	assert.Empty(t, other.URL.Query().Get("token"), "a query secret sent to another origin")
	assert.Empty(t, other.Header.Get("Referer"), "a Referer sent")

	require.NoError(t, read(origin.URL+"/here.nc"))
	require.NotNil(t, same)
	assert.Equal(t, "tok-secret", same.Header.Get("X-Key"), "the origin's own redirect keeps its secrets")
	assert.Empty(t, same.Header.Get("Referer"), "a Referer sent")

	for _, to := range []string{"file:///etc/passwd", "gs://bucket/x.nc", "ftp://host/x.nc"} {
		hits.Store(0)
		start := time.Now()
		err := read(origin.URL + "/to/" + to)
		require.Error(t, err, to)
		assert.Contains(t, err.Error(), "redirected to "+to)
		assert.NotContains(t, err.Error(), "secret")
		assert.Equal(t, int64(1), hits.Load(), "%s: retried", to)
		assert.Less(t, time.Since(start), 2*time.Second)
	}
	hits.Store(0)
	err := read(origin.URL + "/loop.nc")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "more than 10 redirects")
	assert.NotContains(t, err.Error(), "secret")
	assert.LessOrEqual(t, hits.Load(), int64(maxRedirects+1), "a loop retried")
}
