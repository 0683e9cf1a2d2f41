package storage

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
)

// HTTPAuth is how HTTP reads authenticate: Basic auth, headers and query
// parameters whose values are each taken, at request time, from an
// environment variable of the process making the request. Only the names
// of the variables are held — in recipes, in the pipeline graph, in
// configs — so a secret never leaves the machine that uses it, and never
// reaches a URL, a log line, an error or a counter. The zero value
// authenticates nothing.
type HTTPAuth struct {
	// UsernameEnv and PasswordEnv name the variables of Basic auth (both
	// or neither).
	UsernameEnv, PasswordEnv string
	// HeadersEnv maps a header name to the variable of its value
	// ("Authorization": "EARTHDATA_BEARER").
	HeadersEnv map[string]string
	// QueryEnv maps a query parameter to the variable of its value,
	// added to each request's URL ("token": "OISST_TOKEN").
	QueryEnv map[string]string
	// S3Anonymous are the S3 buckets read unsigned (public data, read
	// with no credentials at all); other buckets use the AWS SDK's
	// default credential chain.
	S3Anonymous []string
}

// IsZero reports whether a authenticates nothing.
func (a HTTPAuth) IsZero() bool {
	return a.UsernameEnv == "" && a.PasswordEnv == "" && len(a.HeadersEnv) == 0 && len(a.QueryEnv) == 0 && len(a.S3Anonymous) == 0
}

// Vars returns the names of the environment variables a uses, sorted.
func (a HTTPAuth) Vars() []string {
	var out []string
	for _, v := range []string{a.UsernameEnv, a.PasswordEnv} {
		if v != "" {
			out = append(out, v)
		}
	}
	out = append(out, slices.Collect(maps.Values(a.HeadersEnv))...)
	out = append(out, slices.Collect(maps.Values(a.QueryEnv))...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Check reports the variables a names that this process's environment
// lacks (an empty one counts as missing), and a Basic auth half given.
func (a HTTPAuth) Check() error {
	if (a.UsernameEnv == "") != (a.PasswordEnv == "") {
		return fmt.Errorf("basic auth needs both a username and a password variable")
	}
	var missing []string
	for _, v := range a.Vars() {
		if os.Getenv(v) == "" {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("environment variable(s) %v are not set (they hold the inputs' HTTP credentials)", missing)
	}
	return nil
}

type authKey struct{}

// WithHTTPAuth returns a context whose HTTP reads authenticate as a says.
func WithHTTPAuth(ctx context.Context, a HTTPAuth) context.Context {
	if a.IsZero() {
		return ctx
	}
	return context.WithValue(ctx, authKey{}, a)
}

// authOf is ctx's HTTPAuth (the zero value when it has none).
func authOf(ctx context.Context) HTTPAuth {
	a, _ := ctx.Value(authKey{}).(HTTPAuth)
	return a
}

// authenticate adds ctx's credentials to req, reading them from the
// environment now.
func authenticate(ctx context.Context, req *http.Request) error {
	a, ok := ctx.Value(authKey{}).(HTTPAuth)
	if !ok {
		return nil
	}
	if err := a.Check(); err != nil {
		return err
	}
	if a.UsernameEnv != "" {
		req.SetBasicAuth(os.Getenv(a.UsernameEnv), os.Getenv(a.PasswordEnv))
	}
	for h, v := range a.HeadersEnv {
		req.Header.Set(h, os.Getenv(v))
	}
	if len(a.QueryEnv) > 0 {
		q := req.URL.Query()
		for p, v := range a.QueryEnv {
			q.Set(p, os.Getenv(v))
		}
		req.URL.RawQuery = q.Encode()
	}
	return nil
}
