// Package storage reaches the places a recipe's bytes live through one small
// API: local paths and file:// URLs, gs://bucket/prefix (Google Cloud
// Storage, through cloud.google.com/go/storage, which honours
// STORAGE_EMULATOR_HOST and application-default credentials),
// s3://bucket/prefix (S3 and S3-compatible services, through the AWS SDK
// for Go v2: its default credential chain and region, AWS_ENDPOINT_URL_S3
// or AWS_ENDPOINT_URL for another service, addressed path-style) and,
// read-only, http:// and https:// servers.
//
// Reads are ranged (io.ReaderAt) and pinned to the version first read;
// HTTP and S3 requests retry transient failures with exponential backoff
// (see Retry). Writes are atomic: an object appears whole or not at all.
package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Path normalises a URL: "file:///data/x.nc" becomes "/data/x.nc" (a
// file URL's "#" and "?" are part of the path, as in a plain path; percent
// escapes are decoded); plain paths are returned cleaned; other schemes are
// returned unchanged.
func Path(rawURL string) (string, error) {
	if rawURL == "" {
		return "", errors.New("storage: empty URL")
	}
	if rest, ok := strings.CutPrefix(rawURL, "file://"); ok {
		// Everything after the host is the path, "#" and "?" included
		// (a file URL has no fragment or query here): percent escapes
		// are decoded, nothing is cut.
		host, path := rest, ""
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			host, path = rest[:i], rest[i:]
		}
		if host != "" && host != "localhost" || path == "" {
			return "", fmt.Errorf("storage: %s: file URLs must name a local path (file:///path)", rawURL)
		}
		p, err := url.PathUnescape(path)
		if err != nil {
			return "", fmt.Errorf("storage: %s: %w", rawURL, err)
		}
		return filepath.Clean(p), nil
	}
	if !strings.Contains(rawURL, "://") {
		return filepath.Clean(rawURL), nil
	}
	return rawURL, nil
}

// IsRemote reports whether rawURL names an object reached over the network
// (gs://, s3://, http://, https://) rather than a local file: reading it is mostly
// waiting, and worth doing many at once.
func IsRemote(rawURL string) bool {
	p, err := Path(rawURL)
	return err == nil && strings.Contains(p, "://")
}

// Join appends a slash-separated key to a location URL.
func Join(base, key string) string {
	return strings.TrimSuffix(base, "/") + "/" + strings.TrimPrefix(key, "/")
}

// Reader is an open object: random access to its bytes, its size and the
// version of it that is open.
type Reader interface {
	io.ReaderAt
	io.Closer
	Size() int64
	// Version tells versions of the object apart: a Cloud Storage
	// generation, an HTTP ETag (else Last-Modified date), a local file's
	// size and modification time; "" when the source says nothing.
	Version() string
	// Fetched is how many bytes were read from the object itself so far:
	// with the reads a block cache served, set against the bytes asked for,
	// it shows whether an object was fetched more than once.
	Fetched() int64
}

// ErrChanged is wrapped by errors for an object that is no longer the
// version an earlier read saw.
var ErrChanged = errors.New("the object changed since it was first read")

// backend is one kind of location. Paths are backend-specific: a local
// path, an object name in a bucket, or a URL.
type backend interface {
	open(ctx context.Context, path string) (Reader, error)
	stat(ctx context.Context, path string) (int64, error)
	// create returns a writer whose object appears at path on Close; Abort
	// discards it.
	create(ctx context.Context, path string) (objectWriter, error)
	list(ctx context.Context, prefix string) ([]string, error)
	remove(ctx context.Context, path string) error
	removeAll(ctx context.Context, prefix string) error
	// getVersion reads a whole object and its version; swap writes one if
	// it is still at version (absent for ""), else fails with ErrConflict.
	getVersion(ctx context.Context, path string) ([]byte, string, error)
	swap(ctx context.Context, path string, data []byte, version string) (string, error)
}

type objectWriter interface {
	io.Writer
	Close() error // commits
	Abort()
}

// Kinds of location.
const (
	kindLocal = "local"
	kindGCS   = "gs"
	kindS3    = "s3"
	kindHTTP  = "http"
)

// parse tells what kind of location rawURL names and the path within it
// (for gs:// and s3://, the bucket and the object name), without reaching
// it.
func parse(rawURL string) (kind, bucket, path string, err error) {
	p, err := Path(rawURL)
	if err != nil {
		return "", "", "", err
	}
	switch {
	case !strings.Contains(p, "://"):
		return kindLocal, "", p, nil
	case strings.HasPrefix(p, "gs://"):
		bucket, object, _ := strings.Cut(strings.TrimPrefix(p, "gs://"), "/")
		if bucket == "" {
			return "", "", "", fmt.Errorf("storage: %s: no bucket", Redact(rawURL))
		}
		return kindGCS, bucket, object, nil
	case strings.HasPrefix(p, "s3://"):
		bucket, key, _ := strings.Cut(strings.TrimPrefix(p, "s3://"), "/")
		if bucket == "" {
			return "", "", "", fmt.Errorf("storage: %s: no bucket", Redact(rawURL))
		}
		return kindS3, bucket, key, nil
	case strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://"):
		return kindHTTP, "", p, nil
	}
	return "", "", "", fmt.Errorf("storage: %s: unsupported scheme (want a path, file://, gs://, s3://, http:// or https://)", Redact(rawURL))
}

// locate returns the backend for rawURL and the path within it.
func locate(ctx context.Context, rawURL string) (backend, string, error) {
	kind, bucket, p, err := parse(rawURL)
	switch {
	case err != nil:
		return nil, "", err
	case kind == kindGCS:
		be, err := newGCS(ctx, bucket)
		if err != nil {
			return nil, "", fmt.Errorf("storage: %s: %w", Redact(rawURL), err)
		}
		return be, p, nil
	case kind == kindS3:
		be, err := newS3(ctx, bucket)
		if err != nil {
			return nil, "", fmt.Errorf("storage: %s: %w", Redact(rawURL), err)
		}
		return be, p, nil
	case kind == kindHTTP:
		return httpFS{}, p, nil
	}
	return localFS{}, p, nil
}

// CheckWritable checks, without reaching it, that rawURL names a place a
// Store can write: a local path, a file:// URL, gs://bucket/prefix or
// s3://bucket/prefix.
func CheckWritable(rawURL string) error {
	if strings.TrimSpace(rawURL) == "" {
		return errors.New("storage: no location given")
	}
	kind, _, _, err := parse(rawURL)
	if err == nil && kind == kindHTTP {
		err = fmt.Errorf("storage: %s: HTTP locations are read-only", Redact(rawURL))
	}
	return err
}

// OpenReader opens the object at rawURL for ranged reads. A missing object
// gives an error wrapping fs.ErrNotExist.
func OpenReader(ctx context.Context, rawURL string) (Reader, error) {
	be, p, err := locate(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	r, err := be.open(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return r, nil
}

// OpenPinned is OpenReader for the version of the object an earlier
// reader's Version gave (any version when it is ""): a source replaced in
// between fails with ErrChanged rather than mixing the two versions' data.
func OpenPinned(ctx context.Context, rawURL, version string) (Reader, error) {
	r, err := OpenReader(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	if now := r.Version(); version != "" && now != "" && now != version {
		r.Close()
		return nil, fmt.Errorf("storage: %s: version %s, then %s: %w", Redact(rawURL), version, now, ErrChanged)
	}
	return r, nil
}

// Stat returns the size of the object at rawURL. A missing object gives an
// error wrapping fs.ErrNotExist.
func Stat(ctx context.Context, rawURL string) (int64, error) {
	be, p, err := locate(ctx, rawURL)
	if err != nil {
		return 0, err
	}
	n, err := be.stat(ctx, p)
	if err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	return n, nil
}

// Store is a flat object store rooted at a URL; keys are slash-separated
// paths below the root. It satisfies zarr.Store. Safe for concurrent use.
type Store struct {
	url  string
	root string // backend path of the root, without trailing slash
	be   backend
}

// NewStore returns the store rooted at rawURL (a local path, a file://,
// gs:// or s3:// URL). Nothing is created until the first Put.
func NewStore(ctx context.Context, rawURL string) (*Store, error) {
	if err := CheckWritable(rawURL); err != nil {
		return nil, err
	}
	return OpenStore(ctx, rawURL)
}

// OpenStore returns the store rooted at rawURL for reading: a local path,
// a file://, gs://, s3:// or http(s):// URL (an HTTP store cannot be
// listed or written). It reaches nothing until the first Get.
func OpenStore(ctx context.Context, rawURL string) (*Store, error) {
	be, p, err := locate(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	root := p
	if root != "/" {
		root = strings.TrimSuffix(p, "/")
	}
	return &Store{url: rawURL, root: root, be: be}, nil
}

// URL returns the URL the store was opened with.
func (s *Store) URL() string { return s.url }

// base is the backend path keys are below.
func (s *Store) base() string {
	if s.root == "" || strings.HasSuffix(s.root, "/") {
		return s.root
	}
	return s.root + "/"
}

// path returns the backend path of key, refusing keys that could name
// something outside the store (a ".." segment, a backslash, NUL) or that
// are no object's name (empty segments).
func (s *Store) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", fmt.Errorf("storage: %s: key %q: %w", s.url, key, err)
	}
	return s.base() + key, nil
}

// writePath is path for a write or a removal: locally it also refuses a
// key below a directory of the store that is a symbolic link, so that
// nothing is written or removed outside the store through one (a hostile
// store's "sst/c -> ../../elsewhere").
func (s *Store) writePath(key string) (string, error) {
	p, err := s.path(key)
	if err != nil {
		return "", err
	}
	if _, ok := s.be.(localFS); !ok {
		return p, nil
	}
	dir := s.root
	parts := strings.Split(key, "/")
	for _, part := range parts[:len(parts)-1] {
		dir = filepath.Join(dir, part)
		fi, err := os.Lstat(dir)
		switch {
		case isNotExist(err):
			return p, nil // made as a directory when written
		case err != nil:
			return "", fmt.Errorf("storage: %s: key %q: %w", s.url, key, err)
		case fi.Mode()&fs.ModeSymlink != 0:
			return "", fmt.Errorf("storage: %s: key %q: %s inside the store is a symbolic link; zarrforge writes and removes nothing through links",
				s.url, key, strings.TrimPrefix(dir, s.base()))
		}
	}
	return p, nil
}

func checkKey(key string) error {
	if strings.ContainsAny(key, "\\\x00") {
		return errors.New("holds a backslash or NUL")
	}
	for _, seg := range strings.Split(key, "/") {
		switch seg {
		case "":
			return errors.New("has an empty segment")
		case ".", "..":
			return fmt.Errorf("has a %q segment", seg)
		}
	}
	return nil
}

// Get returns the whole object at key. A missing key gives an error wrapping
// fs.ErrNotExist.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	r, err := s.be.open(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("storage: get %s: %w", key, err)
	}
	defer r.Close()
	b := make([]byte, r.Size())
	if _, err := r.ReadAt(b, 0); err != nil && !(err == io.EOF && len(b) == 0) {
		return nil, fmt.Errorf("storage: get %s: %w", key, err)
	}
	return b, nil
}

// Open streams the object at key, to copy it whole: a local file is the
// file itself, so that a copy into a local store is made by the kernel
// (io.Copy finds copy_file_range); other objects are read whole first, as
// Get reads them, under the storage's retry policy. A missing object gives
// an error wrapping fs.ErrNotExist.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	if _, ok := s.be.(localFS); ok {
		f, _, err := openFile(p)
		if err != nil {
			return nil, fmt.Errorf("storage: get %s: %w", key, err)
		}
		return f, nil
	}
	b, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// Exists reports whether an object is stored at key.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	p, err := s.path(key)
	if err != nil {
		return false, err
	}
	_, err = s.be.stat(ctx, p)
	if isNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("storage: stat %s: %w", key, err)
	}
	return true, nil
}

// Put writes data at key atomically: readers see the old object or the new
// one, never a part.
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	return s.PutFrom(ctx, key, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// PutFrom is Put for a streaming writer: write is called once with the
// destination; the object appears at key only if write and the commit
// succeed.
func (s *Store) PutFrom(ctx context.Context, key string, write func(io.Writer) error) error {
	p, err := s.writePath(key)
	if err != nil {
		return err
	}
	return put(ctx, s.be, p, write)
}

func put(ctx context.Context, be backend, path string, write func(io.Writer) error) error {
	// The object is created at the first byte, so that work a writer does
	// before it has output (reading a chunk's inputs) overlaps nothing but
	// itself, not a round trip to the store.
	w := &lazyWriter{create: func() (objectWriter, error) { return be.create(ctx, path) }}
	err := write(w)
	if err == nil {
		err = w.open() // an empty object
	}
	if err != nil {
		if w.w != nil {
			w.w.Abort()
		}
		return fmt.Errorf("storage: put %s: %w", path, err)
	}
	if err := w.w.Close(); err != nil {
		return fmt.Errorf("storage: put %s: %w", path, err)
	}
	return nil
}

// lazyWriter creates its object writer at the first Write.
type lazyWriter struct {
	create func() (objectWriter, error)
	w      objectWriter
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if err := l.open(); err != nil {
		return 0, err
	}
	return l.w.Write(p)
}

// ReadFrom copies r into the object, letting the object writer take it
// whole: a local file into a local file is copied by the kernel.
func (l *lazyWriter) ReadFrom(r io.Reader) (int64, error) {
	if err := l.open(); err != nil {
		return 0, err
	}
	return io.Copy(l.w, r)
}

// open creates the object writer, unless it is there.
func (l *lazyWriter) open() error {
	if l.w != nil {
		return nil
	}
	w, err := l.create()
	if err != nil {
		return err
	}
	l.w = w
	return nil
}

// List returns every key under prefix ("" for the whole store), sorted.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	base := s.base()
	paths, err := s.be.list(ctx, base)
	if err != nil {
		return nil, fmt.Errorf("storage: list %s: %w", s.url, err)
	}
	var keys []string
	for _, p := range paths {
		if key := strings.TrimPrefix(p, base); strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
	}
	return keys, nil
}

// Delete removes the object at key; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	p, err := s.writePath(key)
	if err != nil {
		return err
	}
	if err := s.be.remove(ctx, p); err != nil && !isNotExist(err) {
		return fmt.Errorf("storage: delete %s: %w", key, err)
	}
	return nil
}

// DeleteAll removes every object in the store (and, locally, the emptied
// directories, including the root).
func (s *Store) DeleteAll(ctx context.Context) error {
	if err := s.be.removeAll(ctx, s.root); err != nil {
		return fmt.Errorf("storage: delete %s: %w", s.url, err)
	}
	return nil
}
