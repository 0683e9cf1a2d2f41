// Package storage reaches the places a recipe's bytes live — local paths and
// file:// URLs today — through one small API: ranged reads as io.ReaderAt,
// atomic object writes, listing and removal under a prefix.
//
// It builds on Beam's io/filesystem registry (which chooses an implementation
// by URL scheme) for writes, renames and removal, and adds what that registry
// lacks: ranged reads, atomic writes and recursive listing.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // registers local paths
)

// Path turns a URL into the name Beam's filesystem registry uses:
// "file:///data/x.nc" becomes "/data/x.nc"; plain paths are returned cleaned.
// Other schemes are returned unchanged.
func Path(rawURL string) (string, error) {
	if rawURL == "" {
		return "", errors.New("storage: empty URL")
	}
	if strings.HasPrefix(rawURL, "file://") {
		u, err := url.Parse(rawURL)
		if err != nil {
			return "", fmt.Errorf("storage: %s: %w", rawURL, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", fmt.Errorf("storage: %s: file URLs must name a local path (file:///path)", rawURL)
		}
		return filepath.Clean(u.Path), nil
	}
	if !strings.Contains(rawURL, "://") {
		return filepath.Clean(rawURL), nil
	}
	return rawURL, nil
}

// Join appends a slash-separated key to a location URL.
func Join(base, key string) string {
	return strings.TrimSuffix(base, "/") + "/" + strings.TrimPrefix(key, "/")
}

func isLocal(p string) bool { return !strings.Contains(p, "://") }

// Reader is an open input: random access to its bytes and its size.
type Reader interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

type localReader struct {
	*os.File
	size int64
}

func (r localReader) Size() int64 { return r.size }

// OpenReader opens the object at rawURL for ranged reads.
func OpenReader(ctx context.Context, rawURL string) (Reader, error) {
	p, err := Path(rawURL)
	if err != nil {
		return nil, err
	}
	if !isLocal(p) {
		return nil, fmt.Errorf("storage: %s: unsupported scheme for reading", rawURL)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("storage: %w", err)
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("storage: %s: is a directory", rawURL)
	}
	return localReader{File: f, size: st.Size()}, nil
}

// Stat returns the size of the object at rawURL. A missing object gives an
// error wrapping fs.ErrNotExist.
func Stat(ctx context.Context, rawURL string) (int64, error) {
	p, err := Path(rawURL)
	if err != nil {
		return 0, err
	}
	if !isLocal(p) {
		return 0, fmt.Errorf("storage: %s: unsupported scheme", rawURL)
	}
	st, err := os.Stat(p)
	if err != nil {
		return 0, fmt.Errorf("storage: %w", err)
	}
	return st.Size(), nil
}

// Store is a flat object store rooted at a URL; keys are slash-separated
// paths below the root. It satisfies zarr.Store. Safe for concurrent use.
type Store struct {
	url  string
	root string // registry path of the root, without trailing slash
	fs   filesystem.Interface
}

// NewStore returns the store rooted at rawURL. Nothing is created until the
// first Put.
func NewStore(ctx context.Context, rawURL string) (*Store, error) {
	p, err := Path(rawURL)
	if err != nil {
		return nil, err
	}
	if !isLocal(p) {
		return nil, fmt.Errorf("storage: %s: unsupported scheme for a store", rawURL)
	}
	fsys, err := filesystem.New(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("storage: %s: %w", rawURL, err)
	}
	return &Store{url: rawURL, root: strings.TrimSuffix(p, "/"), fs: fsys}, nil
}

// URL returns the URL the store was opened with.
func (s *Store) URL() string { return s.url }

func (s *Store) path(key string) string { return s.root + "/" + strings.TrimPrefix(key, "/") }

// Get returns the whole object at key. A missing key gives an error wrapping
// fs.ErrNotExist.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	r, err := s.fs.OpenRead(ctx, s.path(key))
	if err != nil {
		return nil, fmt.Errorf("storage: get %s: %w", s.path(key), err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("storage: get %s: %w", s.path(key), err)
	}
	return b, nil
}

// Exists reports whether an object is stored at key.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	_, err := s.fs.Size(ctx, s.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("storage: stat %s: %w", s.path(key), err)
	}
	return true, nil
}

// Put writes data at key atomically: readers see the old object or the new
// one, never a part. Locally the bytes go to a temporary file in the same
// directory, which is then renamed over the key.
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
	dst := s.path(key)
	renamer, ok := s.fs.(filesystem.Renamer)
	if !ok {
		return fmt.Errorf("storage: put %s: filesystem cannot rename", dst)
	}
	tmp := fmt.Sprintf("%s.tmp-%d-%s", dst, os.Getpid(), randomSuffix())
	w, err := s.fs.OpenWrite(ctx, tmp)
	if err != nil {
		return fmt.Errorf("storage: put %s: %w", dst, err)
	}
	if err := write(w); err != nil {
		w.Close()
		s.remove(ctx, tmp)
		return fmt.Errorf("storage: put %s: %w", dst, err)
	}
	if err := w.Close(); err != nil {
		s.remove(ctx, tmp)
		return fmt.Errorf("storage: put %s: %w", dst, err)
	}
	if err := renamer.Rename(ctx, tmp, dst); err != nil {
		s.remove(ctx, tmp)
		return fmt.Errorf("storage: put %s: %w", dst, err)
	}
	return nil
}

func (s *Store) remove(ctx context.Context, p string) {
	if r, ok := s.fs.(filesystem.Remover); ok {
		_ = r.Remove(ctx, p)
	}
}

// List returns every key under prefix ("" for the whole store), sorted.
func (s *Store) List(ctx context.Context, prefix string) ([]string, error) {
	var keys []string
	start := s.root
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == start {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		key := filepath.ToSlash(strings.TrimPrefix(p, s.root+string(filepath.Separator)))
		if strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: list %s: %w", s.root, err)
	}
	return keys, nil
}

// Delete removes the object at key; a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	r, ok := s.fs.(filesystem.Remover)
	if !ok {
		return fmt.Errorf("storage: delete %s: filesystem cannot remove", s.path(key))
	}
	if err := r.Remove(ctx, s.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: delete %s: %w", s.path(key), err)
	}
	return nil
}

// DeleteAll removes every object in the store (and, locally, the emptied
// directories, including the root).
func (s *Store) DeleteAll(ctx context.Context) error {
	if err := os.RemoveAll(s.root); err != nil {
		return fmt.Errorf("storage: delete %s: %w", s.root, err)
	}
	return nil
}
