package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// localFS is the local file system. Paths use the OS separator.
type localFS struct{}

type localReader struct {
	*blockCache
	f       *os.File
	version string
}

func (r localReader) Close() error    { return r.f.Close() }
func (r localReader) Version() string { return r.version }

func (r localReader) fetch(p []byte, off int64) error {
	_, err := r.f.ReadAt(p, off)
	return err
}

func (localFS) open(_ context.Context, path string) (Reader, error) {
	f, st, err := openFile(path)
	if err != nil {
		return nil, err
	}
	r := localReader{f: f, version: fmt.Sprintf("%d@%d", st.Size(), st.ModTime().UnixNano())}
	r.blockCache = newBlockCache(path, st.Size(), localCache, r.fetch)
	return r, nil
}

// openFile opens the file at path, refusing a directory.
func openFile(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err == nil && st.IsDir() {
		err = fmt.Errorf("%s: is a directory", path)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

func (localFS) stat(_ context.Context, path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	if st.IsDir() {
		return 0, fmt.Errorf("%s: is a directory", path)
	}
	return st.Size(), nil
}

// localWriter writes to a temporary file beside the destination and renames
// it over the destination on Close.
type localWriter struct {
	*os.File
	dst string
}

// create opens the temporary file. Files (0666) and directories (0777)
// get the permissions the process umask leaves, as files other programs
// write do: a store on a shared filesystem is readable by whoever the
// umask allows (everyone under the usual 022), never owner-only.
func (localFS) create(_ context.Context, path string) (objectWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return nil, err
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-"+randomSuffix())
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return nil, err
	}
	return &localWriter{File: f, dst: path}, nil
}

func (w *localWriter) Close() error {
	if err := w.File.Close(); err != nil {
		os.Remove(w.Name())
		return err
	}
	if err := os.Rename(w.Name(), w.dst); err != nil {
		os.Remove(w.Name())
		return err
	}
	return nil
}

func (w *localWriter) Abort() {
	w.File.Close()
	os.Remove(w.Name())
}

func (localFS) list(_ context.Context, prefix string) ([]string, error) {
	root := filepath.Clean(prefix)
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			switch {
			case errors.Is(err, fs.ErrNotExist) && p == root:
				return fs.SkipAll
			case errors.Is(err, fs.ErrNotExist):
				return nil // removed while we walked: another writer's, gone
			}
			return err
		}
		if d.IsDir() || strings.Contains(d.Name(), ".tmp-") {
			return nil
		}
		out = append(out, filepath.ToSlash(p))
		return nil
	})
	sort.Strings(out)
	return out, err
}

func (localFS) remove(_ context.Context, path string) error { return os.Remove(path) }

func (localFS) removeAll(_ context.Context, prefix string) error { return os.RemoveAll(prefix) }

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
