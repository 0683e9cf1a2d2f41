package inputs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/storage"
)

// file is an input that is one object. The objects its bytes may point
// into (a reference set's) are read through refs, counted with it and
// closed with it.
type file struct {
	storage.Reader
	refs *refFetcher
}

func (f file) Fetched() int64 { return f.Reader.Fetched() + f.refs.Fetched() }

func (f file) Close() error { return errors.Join(f.refs.Close(), f.Reader.Close()) }

// refFetcher reads byte ranges of the objects a reference set names, for
// source.Options.Fetch. Each object is opened once, its version pinned from
// then on (a changed object fails as storage.ErrChanged), and kept open
// among the last openRefs used.
type refFetcher struct {
	ctx   context.Context
	limit int64 // the most a whole object may hold (0: 1 GiB)

	mu      sync.Mutex
	readers map[string]storage.Reader
	order   []string // least recently used first
	closed  int64    // bytes fetched by readers closed since
}

// openRefs is how many referenced objects a set keeps open.
const openRefs = 16

// fetch reads length bytes at offset of the object at url; a length
// below 0 reads the rest of the object.
func (f *refFetcher) fetch(url string, offset, length int64) ([]byte, error) {
	r, err := f.reader(url)
	if err != nil {
		return nil, err
	}
	limit := f.limit
	if limit <= 0 {
		limit = 1 << 30
	}
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

// reader returns the open reader of url, opening it (and closing the
// least recently used one) when it is not.
func (f *refFetcher) reader(url string) (storage.Reader, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.readers[url]; ok {
		i := slices.Index(f.order, url)
		f.order = append(slices.Delete(f.order, i, i+1), url)
		return r, nil
	}
	r, err := storage.OpenReader(f.ctx, url)
	if err != nil {
		return nil, err
	}
	if len(f.order) == openRefs {
		old := f.order[0]
		f.order = f.order[1:]
		f.closed += f.readers[old].Fetched()
		f.readers[old].Close()
		delete(f.readers, old)
	}
	if f.readers == nil {
		f.readers = map[string]storage.Reader{}
	}
	f.readers[url] = r
	f.order = append(f.order, url)
	return r, nil
}

// Fetched is how many bytes were fetched from the referenced objects.
func (f *refFetcher) Fetched() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.closed
	for _, r := range f.readers {
		n += r.Fetched()
	}
	return n
}

// Close closes the open readers.
func (f *refFetcher) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var errs []error
	for url, r := range f.readers {
		f.closed += r.Fetched()
		errs = append(errs, r.Close())
		delete(f.readers, url)
	}
	f.order = nil
	return errors.Join(errs...)
}
