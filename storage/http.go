package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// httpClient is shared by every HTTP read of the process (it holds the
// connection pool); it is made once and never changed.
var httpClient = sync.OnceValue(func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	return &http.Client{Transport: t, CheckRedirect: checkRedirect}
})

// maxRedirects is how many redirects one request follows.
const maxRedirects = 10

// redirectError is a redirect not followed: to another scheme than
// http(s), or one too many (a loop). It is permanent: the same request
// would be redirected the same way.
type redirectError struct{ msg string }

func (e *redirectError) Error() string { return e.msg }

// checkRedirect vets each redirect of a request before it is followed:
// never a Referer (it would carry the previous URL, query secrets
// included); only http and https; at most maxRedirects; and the
// configured secrets (HTTPAuth: Basic auth, headers, query parameters) go
// only to the origin of the first URL — a redirect to another origin goes
// without them.
func checkRedirect(req *http.Request, via []*http.Request) error {
	req.Header.Del("Referer")
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return &redirectError{fmt.Sprintf("redirected to %s, which is not an http(s) URL; not followed", Redact(req.URL.String()))}
	}
	if len(via) >= maxRedirects {
		return &redirectError{fmt.Sprintf("more than %d redirects (a loop?), the last to %s", maxRedirects, Redact(req.URL.String()))}
	}
	if sameOrigin(req.URL, via[0].URL) {
		return nil
	}
	a, _ := req.Context().Value(authKey{}).(HTTPAuth)
	req.Header.Del("Authorization")
	for h := range a.HeadersEnv {
		req.Header.Del(h)
	}
	if len(a.QueryEnv) > 0 {
		q := req.URL.Query()
		for p := range a.QueryEnv {
			q.Del(p)
		}
		req.URL.RawQuery = q.Encode()
	}
	return nil
}

// sameOrigin reports whether a and b have one scheme, host and port.
func sameOrigin(a, b *neturl.URL) bool {
	port := func(u *neturl.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		return map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return a.Scheme == b.Scheme && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// httpFS reads http:// and https:// URLs.
type httpFS struct{}

var errReadOnly = errors.New("HTTP locations are read-only")

func (httpFS) create(context.Context, string) (objectWriter, error) { return nil, errReadOnly }
func (httpFS) list(context.Context, string) ([]string, error)       { return nil, errReadOnly }
func (httpFS) remove(context.Context, string) error                 { return errReadOnly }
func (httpFS) removeAll(context.Context, string) error              { return errReadOnly }

// response is one HTTP exchange of an attempt, with the stall timer that
// abandons it when less than MinProgress bytes arrive in the policy's
// timeout.
type response struct {
	*http.Response
	cancel   context.CancelFunc
	timer    *time.Timer
	timedOut *atomic.Bool
	timeout  time.Duration
	progress int // bytes since the timer was last restarted
}

// Read reads the body, restarting the stall timer on progress.
func (r *response) Read(p []byte) (int, error) {
	n, err := r.Body.Read(p)
	if r.progress += n; r.progress >= MinProgress {
		r.timer.Reset(r.timeout)
		r.progress = 0
	}
	if err != nil && err != io.EOF && r.timedOut.Load() {
		err = fmt.Errorf("less than %d bytes in %v (stalled): %w", MinProgress, r.timeout, err)
	}
	return n, err
}

func (r *response) Close() {
	r.timer.Stop()
	r.Body.Close()
	r.cancel()
}

// send makes one request; failures come back classified (permanentError
// for those not worth retrying). rng is a Range header value or "".
func send(ctx context.Context, timeout time.Duration, method, url, rng string) (*response, error) {
	return sendIf(ctx, timeout, method, url, rng, "")
}

// sendIf is send with an If-Range validator (an ETag or Last-Modified date
// of the object seen before; "" for none): a server whose object changed
// since answers with the whole new object instead of the range.
func sendIf(ctx context.Context, timeout time.Duration, method, url, rng, ifRange string) (*response, error) {
	shown := Redact(url) // the URL in messages: no secrets
	ctx, cancel := context.WithCancel(ctx)
	timedOut := new(atomic.Bool)
	timer := time.AfterFunc(timeout, func() { timedOut.Store(true); cancel() })
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		timer.Stop()
		cancel()
		return nil, &permanentError{fmt.Errorf("%s %s: bad request", method, shown)}
	}
	if err := authenticate(ctx, req); err != nil {
		timer.Stop()
		cancel()
		return nil, &permanentError{fmt.Errorf("%s %s: %w", method, shown, err)}
	}
	if rng != "" {
		req.Header.Set("Range", rng)
		if ifRange != "" {
			req.Header.Set("If-Range", ifRange)
		}
	}
	resp, err := httpClient().Do(req)
	if err != nil {
		timer.Stop()
		cancel()
		if timedOut.Load() {
			return nil, fmt.Errorf("%s %s: no response for %v (timed out)", method, shown, timeout)
		}
		var ue *neturl.Error // its text holds the whole URL
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if re := (*redirectError)(nil); errors.As(err, &re) {
			return nil, &permanentError{fmt.Errorf("%s %s: %w", method, shown, err)}
		}
		return nil, fmt.Errorf("%s %s: %w", method, shown, err)
	}
	r := &response{Response: resp, cancel: cancel, timer: timer, timedOut: timedOut, timeout: timeout}
	switch {
	case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusPartialContent:
		return r, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		r.Close()
		err := fmt.Errorf("%s %s: %s", method, shown, resp.Status)
		if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s >= 0 {
			return nil, &retryAfterError{err: err, delay: time.Duration(s) * time.Second}
		}
		return nil, err
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		r.Close()
		return nil, &permanentError{fmt.Errorf("%s %s: %s (%w)", method, shown, resp.Status, fs.ErrNotExist)}
	default:
		r.Close()
		return nil, &permanentError{fmt.Errorf("%s %s: %s", method, shown, resp.Status)}
	}
}

func (httpFS) stat(ctx context.Context, url string) (int64, error) {
	size, _, err := head(ctx, url)
	return size, err
}

// validator is what tells versions of an object apart in a response: its
// ETag, else its Last-Modified date ("" when it has neither).
func validator(h http.Header) string {
	if v := h.Get("ETag"); v != "" {
		return v
	}
	return h.Get("Last-Modified")
}

// checkVersion fails, for good, when a response comes from another version
// of the object than the one first seen (when both say which they are).
func checkVersion(resp *response, seen, url string) error {
	if v := validator(resp.Header); seen != "" && v != "" && v != seen {
		return &permanentError{fmt.Errorf("GET %s: the object changed while it was being read (%s, then %s): run again once it is stable", Redact(url), seen, v)}
	}
	return nil
}

// head returns the size of the object at url and its validator.
func head(ctx context.Context, url string) (int64, string, error) {
	var size int64
	var version string
	err := withRetries(ctx, url, func(ctx context.Context, timeout time.Duration) error {
		resp, err := send(ctx, timeout, http.MethodHead, url, "")
		if err != nil {
			return err
		}
		resp.Close()
		version = validator(resp.Header)
		if resp.ContentLength >= 0 && resp.StatusCode == http.StatusOK {
			size = resp.ContentLength
			return nil
		}
		// No length from HEAD: ask for one byte and read the total from
		// Content-Range.
		resp, err = send(ctx, timeout, http.MethodGet, url, "bytes=0-0")
		if err != nil {
			return err
		}
		defer resp.Close()
		if cr, ok := parseContentRange(resp.Header.Get("Content-Range")); ok && cr.total >= 0 {
			size = cr.total
			return nil
		}
		if resp.StatusCode == http.StatusOK && resp.ContentLength >= 0 {
			size = resp.ContentLength
			return nil
		}
		return &permanentError{fmt.Errorf("GET %s: the server gives no length", Redact(url))}
	})
	if err != nil {
		return 0, "", err
	}
	return size, version, nil
}

// totalFromContentRange parses "bytes 0-0/12345".
// contentRange is a parsed Content-Range header: "bytes first-last/total"
// (total -1 for "*").
type contentRange struct{ first, last, total int64 }

func parseContentRange(h string) (contentRange, bool) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes ")
	rng, total, ok2 := strings.Cut(spec, "/")
	first, last, ok3 := strings.Cut(rng, "-")
	if !ok || !ok2 || !ok3 {
		return contentRange{}, false
	}
	var cr contentRange
	var err1, err2, err3 error
	cr.first, err1 = strconv.ParseInt(first, 10, 64)
	cr.last, err2 = strconv.ParseInt(last, 10, 64)
	cr.total = -1
	if total != "*" {
		cr.total, err3 = strconv.ParseInt(total, 10, 64)
	}
	return cr, err1 == nil && err2 == nil && err3 == nil && cr.first >= 0 && cr.last >= cr.first
}

// checkRange verifies that a 206 response holds the bytes first.. (to
// last, when last >= 0) of an object of size bytes (when size >= 0): a
// server or proxy that answers with other bytes would give wrong data.
func checkRange(resp *response, first, last, size int64) error {
	if resp.StatusCode != http.StatusPartialContent {
		return nil
	}
	h := resp.Header.Get("Content-Range")
	cr, ok := parseContentRange(h)
	switch {
	case !ok:
		return fmt.Errorf("a partial response without a valid Content-Range (%q)", h)
	case cr.first != first || last >= 0 && cr.last != last || size >= 0 && cr.total >= 0 && cr.total != size:
		want := fmt.Sprintf("bytes %d-", first)
		if last >= 0 {
			want += fmt.Sprint(last)
		}
		return fmt.Errorf("the server sent %q for %s of %d", h, want, size)
	}
	return nil
}

// httpReader reads ranges of a URL, all of one version of the object: the
// one its first request saw.
type httpReader struct {
	ctx     context.Context
	url     string
	version string
	*blockCache
}

// Version returns the object's ETag, else its Last-Modified date.
func (r *httpReader) Version() string { return r.version }

// maxIgnoredSkip is how many bytes a server ignoring Range may make us skip.
const maxIgnoredSkip = 64 << 20

func (httpFS) open(ctx context.Context, url string) (Reader, error) {
	size, version, err := head(ctx, url)
	if err != nil {
		return nil, err
	}
	r := &httpReader{ctx: context.WithoutCancel(ctx), url: url, version: version}
	r.blockCache = newBlockCache(url, size, remoteCache, r.fetch)
	return r, nil
}

func (r *httpReader) Close() error { return nil }

// fetch reads exactly len(p) bytes at off with one ranged GET per attempt.
func (r *httpReader) fetch(p []byte, off int64) error {
	rng := fmt.Sprintf("bytes=%d-%d", off, off+int64(len(p))-1)
	return withRetries(r.ctx, r.url, func(ctx context.Context, timeout time.Duration) error {
		resp, err := sendIf(ctx, timeout, http.MethodGet, r.url, rng, r.version)
		if err != nil {
			return err
		}
		defer resp.Close()
		if err := checkVersion(resp, r.version, r.url); err != nil {
			return err
		}
		if err := checkRange(resp, off, off+int64(len(p))-1, r.Size()); err != nil {
			return fmt.Errorf("GET %s: %w", Redact(r.url), err)
		}
		if resp.StatusCode == http.StatusOK && off > 0 { // the server ignored Range
			if off > maxIgnoredSkip {
				return &permanentError{fmt.Errorf("GET %s: the server ignores Range requests", Redact(r.url))}
			}
			if _, err := io.CopyN(io.Discard, resp, off); err != nil {
				return fmt.Errorf("GET %s: %w", Redact(r.url), err)
			}
		}
		got, err := io.ReadFull(resp, p)
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return fmt.Errorf("GET %s: truncated: got %d of %d bytes at offset %d", Redact(r.url), got, len(p), off)
		}
		if err != nil {
			return fmt.Errorf("GET %s: %w", Redact(r.url), err)
		}
		return nil
	})
}
