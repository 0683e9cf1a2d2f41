package storage

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

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
