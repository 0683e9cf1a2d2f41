package storage

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"time"
)

// Copy copies the object at src to dst atomically (dst appears whole or not
// at all) and returns the number of bytes copied. It checks the length, and
// the checksum where the source gives one (an HTTP server's Content-MD5 or
// x-goog-hash header, a Cloud Storage object's CRC32C). An HTTP download
// that breaks off resumes from the byte it reached, under the context's
// Retry policy.
func Copy(ctx context.Context, src, dst string) (int64, error) {
	sbe, sp, err := locate(ctx, src)
	if err != nil {
		return 0, err
	}
	dbe, dp, err := locate(ctx, dst)
	if err != nil {
		return 0, err
	}
	var n int64
	err = put(ctx, dbe, dp, func(w io.Writer) error {
		var err error
		if _, ok := sbe.(httpFS); ok {
			n, err = download(ctx, sp, w)
		} else {
			n, err = copyObject(ctx, sbe, sp, w)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("storage: copy %s to %s: %w", src, dst, err)
	}
	return n, nil
}

// copyObject copies a local, Cloud Storage or S3 object, checking the
// checksums the store keeps of it.
func copyObject(ctx context.Context, be backend, path string, w io.Writer) (int64, error) {
	r, err := be.open(ctx, path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	var sums checksums
	switch r := r.(type) {
	case *gcsReader:
		if r.attrs.CRC32C != 0 {
			sums.add("crc32c", crc32.New(crc32.MakeTable(crc32.Castagnoli)), be32(r.attrs.CRC32C))
		}
	case *s3Reader:
		sums = r.checksums()
	}
	n, err := io.Copy(io.MultiWriter(w, &sums), io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		return n, err
	}
	if n != r.Size() {
		return n, fmt.Errorf("copied %d of %d bytes", n, r.Size())
	}
	return n, sums.verify()
}

// download streams url into w, resuming with a Range request after a
// transient failure.
func download(ctx context.Context, url string, w io.Writer) (int64, error) {
	var (
		n       int64
		size    int64 = -1
		sums    checksums
		first   = true
		version string // of the object, from the first response
	)
	err := withRetries(ctx, url, func(ctx context.Context, timeout time.Duration) error {
		rng := ""
		if n > 0 {
			rng = fmt.Sprintf("bytes=%d-", n)
		}
		// A resumed download asks for the rest of the version it began
		// with; one that changed comes back whole, and is refused below
		// rather than spliced onto the old bytes.
		resp, err := sendIf(ctx, timeout, http.MethodGet, url, rng, version)
		if err != nil {
			return err
		}
		defer resp.Close()
		if err := checkVersion(resp, version, url); err != nil {
			return err
		}
		switch {
		case n > 0 && resp.StatusCode == http.StatusOK: // Range ignored: skip what we have
			if _, err := io.CopyN(io.Discard, resp, n); err != nil {
				return fmt.Errorf("GET %s: %w", Redact(url), err)
			}
		case n > 0:
			if cr, ok := parseContentRange(resp.Header.Get("Content-Range")); ok && size >= 0 && cr.total >= 0 && cr.total != size {
				return &permanentError{fmt.Errorf("GET %s: the object changed size during the download (%d, then %d bytes)", Redact(url), size, cr.total)}
			}
			if err := checkRange(resp, n, -1, size); err != nil {
				return fmt.Errorf("GET %s: %w", Redact(url), err)
			}
		}
		if first {
			first = false
			size = resp.ContentLength
			sums = headerChecksums(resp.Header)
			version = validator(resp.Header)
		}
		got, err := io.Copy(io.MultiWriter(w, &sums), resp)
		n += got
		if err != nil {
			return fmt.Errorf("GET %s: after %d bytes: %w", Redact(url), n, err)
		}
		if size >= 0 && n < size {
			return fmt.Errorf("GET %s: truncated: got %d of %d bytes", Redact(url), n, size)
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	if size >= 0 && n != size {
		return n, fmt.Errorf("GET %s: got %d bytes, the server announced %d", Redact(url), n, size)
	}
	if err := sums.verify(); err != nil {
		return n, fmt.Errorf("GET %s: %w", Redact(url), err)
	}
	return n, nil
}

// checksums computes the digests a source announced and checks them at the
// end.
type checksums struct {
	names []string
	hs    []hash.Hash
	want  [][]byte
}

func (c *checksums) add(name string, h hash.Hash, want []byte) {
	c.names, c.hs, c.want = append(c.names, name), append(c.hs, h), append(c.want, want)
}

func (c *checksums) Write(p []byte) (int, error) {
	for _, h := range c.hs {
		h.Write(p)
	}
	return len(p), nil
}

func (c *checksums) verify() error {
	for i, h := range c.hs {
		if got := h.Sum(nil); string(got) != string(c.want[i]) {
			return fmt.Errorf("%s checksum mismatch: got %x, want %x", c.names[i], got, c.want[i])
		}
	}
	return nil
}

// headerChecksums reads Content-MD5 and x-goog-hash (crc32c=..., md5=...).
func headerChecksums(h http.Header) checksums {
	var c checksums
	seen := map[string]bool{}
	addB64 := func(name, v string) {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil || seen[name] {
			return
		}
		switch {
		case name == "md5" && len(b) == md5.Size:
			c.add(name, md5.New(), b)
		case name == "crc32c" && len(b) == 4:
			c.add(name, crc32.New(crc32.MakeTable(crc32.Castagnoli)), b)
		default:
			return
		}
		seen[name] = true
	}
	if v := h.Get("Content-MD5"); v != "" {
		addB64("md5", v)
	}
	for _, line := range h.Values("X-Goog-Hash") {
		for _, part := range strings.Split(line, ",") {
			if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok {
				addB64(strings.ToLower(k), v)
			}
		}
	}
	return c
}

func be32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }
