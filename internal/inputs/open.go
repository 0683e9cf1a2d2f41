package inputs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync/atomic"

	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/storage"
)

// Handle is what an open input holds in storage: a file, or the objects
// of a store.
type Handle interface {
	Close() error
	// Version is the version of the input read (see storage.Reader);
	// "" for a store, whose objects are not pinned.
	Version() string
	// Fetched is how many bytes were read from storage so far.
	Fetched() int64
}

// Located is an input found in storage, before its format reads it: a
// file, or a store of objects (a directory or prefix holding a Zarr
// store).
type Located struct {
	Handle
	name string
	file storage.Reader // nil for a store
	objs *objects       // nil for a file
}

// Locate finds the input at url (name says it in messages): a file — the
// version given, when not "" — or a store. It is the one place that tells
// them apart: a local directory, or a remote URL that is no file of a
// registered format (missing, or an HTML listing), is a store if it holds
// one. Close the result's Handle when done.
func Locate(ctx context.Context, url, version, name string) (Located, error) {
	if isLocalDir(url) {
		return locateStore(ctx, url, name, nil)
	}
	r, err := storage.OpenPinned(ctx, url, version)
	switch {
	case err == nil && (!storage.IsRemote(url) || source.IsFile(r, r.Size())):
		return Located{Handle: r, name: name, file: r}, nil
	case err == nil: // remote, and no file of a registered format
		asFile := Located{Handle: r, name: name, file: r}
		l, serr := locateStore(ctx, url, name, errNoStore)
		if serr != nil {
			return asFile, nil // the format's own error says what is wrong
		}
		r.Close()
		return l, nil
	case errors.Is(err, fs.ErrNotExist) && storage.IsRemote(url):
		return locateStore(ctx, url, name, fmt.Errorf("input %s: %w", name, err))
	}
	return Located{}, fmt.Errorf("input %s: %w", name, err)
}

// errNoStore stands for "no store there either".
var errNoStore = errors.New("no store")

// Size is a file's size in bytes; 0 for a store.
func (l Located) Size() int64 {
	if l.file == nil {
		return 0
	}
	return l.file.Size()
}

// IsStore reports whether the input is a store of objects, not a file.
func (l Located) IsStore() bool { return l.objs != nil }

// Open opens the located input with its format. Inputs whose bytes lie in
// other objects (reference sets) read them from storage with ctx.
func (l Located) Open(ctx context.Context, opts source.Options) (source.Reader, error) {
	if l.file != nil {
		if opts.Fetch == nil {
			opts.Fetch = fetcher(ctx, opts.MaxChunk)
		}
		return source.Open(l.file, l.file.Size(), l.name, opts)
	}
	return source.OpenStore(ctx, l.objs, l.name, opts)
}

// Groups lists the located input's groups: "/" first.
func (l Located) Groups(ctx context.Context) ([]string, error) {
	if l.file != nil {
		return source.Groups(l.file, l.file.Size(), l.name)
	}
	return source.StoreGroups(ctx, l.objs, l.name)
}

// OpenInput locates the input at url and opens it with its format.
func OpenInput(ctx context.Context, url, version, name string, opts source.Options) (Open, error) {
	l, err := Locate(ctx, url, version, name)
	if err != nil {
		return Open{}, err
	}
	rd, err := l.Open(ctx, opts)
	if err != nil {
		l.Close()
		return Open{}, err
	}
	return Open{File: l.Handle, Reader: rd}, nil
}

// fetcher reads byte ranges of objects from storage, with ctx, for
// source.Options.Fetch; a whole object (length < 0) may be at most limit
// bytes (0: 1 GiB).
func fetcher(ctx context.Context, limit int64) func(url string, offset, length int64) ([]byte, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	return func(url string, offset, length int64) ([]byte, error) {
		r, err := storage.OpenReader(ctx, url)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		if length < 0 {
			if length = r.Size() - offset; length > limit {
				return nil, fmt.Errorf("%s: %d bytes, more than the %d a chunk may take (%w)", storage.Redact(url), length, limit, source.ErrTooLarge)
			}
		}
		if offset < 0 || length < 0 || offset > r.Size()-length {
			return nil, fmt.Errorf("%s: bytes %d to %d lie outside its %d (%w)", storage.Redact(url), offset, offset+length, r.Size(), source.ErrFormat)
		}
		b := make([]byte, length)
		if _, err := r.ReadAt(b, offset); err != nil && !(errors.Is(err, io.EOF) && length == 0) {
			return nil, fmt.Errorf("%s: %w", storage.Redact(url), err)
		}
		return b, nil
	}
}

// locateStore finds the store at url; asFile is the error of opening it
// as a file, reported instead when there is no store either (nil: it must
// be one).
func locateStore(ctx context.Context, url, name string, asFile error) (Located, error) {
	st, err := storage.OpenStore(ctx, url)
	if err != nil {
		return Located{}, fmt.Errorf("input %s: %w", name, err)
	}
	objs := &objects{st: st}
	if asFile != nil && !source.IsStore(ctx, objs) {
		return Located{}, asFile
	}
	return Located{Handle: objs, name: name, objs: objs}, nil
}

// isLocalDir reports whether url names a directory of this machine.
func isLocalDir(url string) bool {
	if storage.IsRemote(url) {
		return false
	}
	p, err := storage.Path(url)
	if err != nil {
		return false
	}
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// objects is a store read as an input, counting what it fetches.
type objects struct {
	st      *storage.Store
	fetched atomic.Int64
}

func (o *objects) Get(ctx context.Context, key string) ([]byte, error) {
	b, err := o.st.Get(ctx, key)
	o.fetched.Add(int64(len(b)))
	return b, err
}

func (o *objects) List(ctx context.Context, prefix string) ([]string, error) {
	return o.st.List(ctx, prefix)
}

func (o *objects) Close() error    { return nil }
func (o *objects) Version() string { return "" }
func (o *objects) Fetched() int64  { return o.fetched.Load() }
