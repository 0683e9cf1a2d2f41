package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Location is a place as Contains compares places: its kind ("file", "gs",
// "s3" or "http") and its canonical path (local paths absolute with
// symbolic links resolved; "bucket/object" for gs:// and s3://; the URL
// without query or fragment for http(s)://).
type Location struct {
	Kind, Path string
}

// Locate returns the canonical Location of a URL or path as NewStore and
// OpenReader take them. Local paths are made absolute against the working
// directory, and the symbolic links of their longest existing prefix are
// resolved, so that two names of one directory compare equal.
func Locate(rawURL string) (Location, error) {
	p, err := Path(rawURL)
	if err != nil {
		return Location{}, err
	}
	switch {
	case !strings.Contains(p, "://"):
		abs, err := filepath.Abs(p)
		if err != nil {
			return Location{}, fmt.Errorf("storage: %s: %w", rawURL, err)
		}
		real, err := resolveExisting(abs)
		if err != nil {
			return Location{}, fmt.Errorf("storage: %s: %w", rawURL, err)
		}
		return Location{"file", real}, nil
	case strings.HasPrefix(p, "gs://"):
		return Location{"gs", strings.TrimSuffix(path.Clean(strings.TrimPrefix(p, "gs://")), "/")}, nil
	case strings.HasPrefix(p, "s3://"):
		return Location{"s3", strings.TrimSuffix(path.Clean(strings.TrimPrefix(p, "s3://")), "/")}, nil
	case strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://"):
		u, err := url.Parse(p)
		if err != nil {
			return Location{}, fmt.Errorf("storage: %s: %w", Redact(rawURL), err)
		}
		u.RawQuery, u.Fragment, u.User = "", "", nil
		return Location{"http", strings.TrimSuffix(u.String(), "/")}, nil
	}
	return Location{}, fmt.Errorf("storage: %s: unsupported scheme", Redact(rawURL))
}

// A Locator locates many files of few directories: it resolves each local
// directory once. The zero value is ready to use; it is not safe for
// concurrent use.
type Locator struct {
	dirs map[string]Location
}

// Locate is the function Locate, for a file.
func (l *Locator) Locate(rawURL string) (Location, error) {
	p, err := Path(rawURL)
	if err != nil || strings.Contains(p, "://") {
		return Locate(rawURL)
	}
	dir, base := filepath.Split(p)
	d, ok := l.dirs[dir]
	if !ok {
		if d, err = Locate(filepath.Clean(dir + ".")); err != nil {
			return Location{}, err
		}
		if l.dirs == nil {
			l.dirs = map[string]Location{}
		}
		l.dirs[dir] = d
	}
	return Location{d.Kind, filepath.Join(d.Path, base)}, nil
}

// resolveExisting resolves the symbolic links of the longest prefix of the
// absolute path p that exists, and appends the rest.
func resolveExisting(p string) (string, error) {
	rest := ""
	for {
		real, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return filepath.Join(p, rest), nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}

// Contains reports whether inner is outer or lies below it: a file in a
// directory or its subdirectories, an object under a prefix. Locations of
// different kinds never contain each other.
func (outer Location) Contains(inner Location) bool {
	if outer.Kind != inner.Kind {
		return false
	}
	if inner.Path == outer.Path || outer.Path == string(os.PathSeparator) && outer.Kind == "file" {
		return true
	}
	sep := "/"
	if outer.Kind == "file" {
		sep = string(os.PathSeparator)
	}
	return strings.HasPrefix(inner.Path, strings.TrimSuffix(outer.Path, sep)+sep)
}
