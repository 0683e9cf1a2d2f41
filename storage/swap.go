package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// ErrConflict is wrapped by the error of a conditional write (PutIf) that
// found the object at another version than the one it was conditioned on:
// another writer got there first.
var ErrConflict = errors.New("the object is not the version the write was conditioned on")

// GetVersion returns the whole object at key and its version, for a later
// PutIf. A missing key gives an error wrapping fs.ErrNotExist.
func (s *Store) GetVersion(ctx context.Context, key string) ([]byte, string, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, "", err
	}
	b, v, err := s.be.getVersion(ctx, p)
	if err != nil {
		return nil, "", fmt.Errorf("storage: get %s: %w", key, err)
	}
	return b, v, nil
}

// PutIf writes data at key only if the object there is still at version
// (from GetVersion or an earlier PutIf) or, when version is "", only if
// there is none: of two writers conditioned on the same version, one wins
// and the other gets an error wrapping ErrConflict. It returns the version
// written. Cloud Storage checks generations; locally the compare and the
// atomic write happen under an exclusive lock of the object's directory,
// so every process on the machine sees one order.
func (s *Store) PutIf(ctx context.Context, key string, data []byte, version string) (string, error) {
	p, err := s.writePath(key)
	if err != nil {
		return "", err
	}
	v, err := s.be.swap(ctx, p, data, version)
	if err != nil {
		return "", fmt.Errorf("storage: put %s: %w", key, err)
	}
	return v, nil
}

// Clear removes every object of the store but keep (and, locally, the
// directories it empties; the root stays).
func (s *Store) Clear(ctx context.Context, keep string) error {
	keys, err := s.List(ctx, "")
	if err != nil {
		return err
	}
	keys = slices.DeleteFunc(keys, func(k string) bool { return k == keep })
	if f, ok := s.be.(s3FS); ok { // a thousand to a request
		paths := make([]string, len(keys))
		for i, k := range keys {
			paths[i] = s.base() + k
		}
		return f.removeMany(ctx, paths)
	}
	for _, k := range keys {
		if err := s.Delete(ctx, k); err != nil {
			return err
		}
	}
	if _, ok := s.be.(localFS); ok {
		return removeEmptyDirs(s.root)
	}
	return nil
}

// removeEmptyDirs removes the empty directories below root, deepest first.
func removeEmptyDirs(root string) error {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() && p != root {
			dirs = append(dirs, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if entries, err := os.ReadDir(dirs[i]); err == nil && len(entries) == 0 {
			if err := os.Remove(dirs[i]); err != nil && !isNotExist(err) {
				return err
			}
		}
	}
	return nil
}

// localVersion is a local object's version: a digest of its bytes, so that
// a version names content, whoever wrote it and however often.
func localVersion(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

func (localFS) getVersion(_ context.Context, path string) ([]byte, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	return b, localVersion(b), nil
}

func (fsys localFS) swap(ctx context.Context, path string, data []byte, version string) (string, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return "", err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return "", fmt.Errorf("locking %s: %w", dir, err)
	}
	defer unlock()
	now := ""
	switch b, err := os.ReadFile(path); {
	case err == nil:
		now = localVersion(b)
	case !isNotExist(err):
		return "", err
	}
	if now != version {
		return "", conflict(path, version, now)
	}
	w, err := fsys.create(ctx, path)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return localVersion(data), nil
}

// conflict is the error of a conditional write to path that expected
// version and found now ("" for no object).
func conflict(path, version, now string) error {
	describe := func(v string) string {
		if v == "" {
			return "no object"
		}
		return "version " + v
	}
	return fmt.Errorf("%s: expected %s, found %s: %w", path, describe(version), describe(now), ErrConflict)
}

func (httpFS) getVersion(context.Context, string) ([]byte, string, error) {
	return nil, "", errReadOnly
}

func (httpFS) swap(context.Context, string, []byte, string) (string, error) {
	return "", errReadOnly
}
