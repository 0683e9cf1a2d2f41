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
	file *file    // nil for a store
	objs *objects // nil for a file
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
		return locatedFile(ctx, r, name), nil
	case err == nil: // remote, and no file of a registered format
		asFile := locatedFile(ctx, r, name)
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

// locatedFile is the input r, a file.
func locatedFile(ctx context.Context, r storage.Reader, name string) Located {
	f := &file{Reader: r, refs: &refFetcher{ctx: ctx}}
	return Located{Handle: f, name: name, file: f}
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
// other objects (reference sets) read them from storage, with the
// context the input was located with, each object opened once.
func (l Located) Open(ctx context.Context, opts source.Options) (source.Reader, error) {
	if l.file != nil {
		if opts.Fetch == nil {
			l.file.refs.limit = opts.MaxChunk
			opts.Fetch = l.file.refs.fetch
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

func (o *objects) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	r, err := o.st.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return counted{ReadCloser: r, n: &o.fetched}, nil
}

// counted counts the bytes read through it; its WriteTo hands the
// stream itself to io.Copy, so that a local file still reaches a local
// destination's copy_file_range.
type counted struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c counted) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c counted) WriteTo(w io.Writer) (int64, error) {
	n, err := io.Copy(w, c.ReadCloser)
	c.n.Add(n)
	return n, err
}

func (o *objects) List(ctx context.Context, prefix string) ([]string, error) {
	return o.st.List(ctx, prefix)
}

func (o *objects) Close() error    { return nil }
func (o *objects) Version() string { return "" }
func (o *objects) Fetched() int64  { return o.fetched.Load() }
