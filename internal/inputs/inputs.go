// Package inputs keeps a worker's inputs open between elements, so that
// neighbouring chunks and references parse each input's header once.
package inputs

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/source"
)

// Pool keeps recently used inputs open, so a worker writing
// neighbouring chunks parses each input's header once. An open input is
// used by one goroutine at a time: get takes it out of the pool (opening it
// if the pool has none) and put returns it. Goroutines wanting the same
// input at once each get their own copy; the spare is closed on return.
type Pool struct {
	max int

	// decoded and fetched sum what the inputs' readers decoded and fetched
	// while out of the pool.
	decoded, fetched atomic.Int64

	mu    sync.Mutex
	idle  map[string]Open
	order []string // idle inputs, least recently used first
}

// Open is an input taken out of the pool.
type Open struct {
	// File is the input as storage reads it, Reader as its format does.
	File   Handle
	Reader source.Reader
	// what the reader had decoded and fetched when it left the pool
	decoded, fetched int64
}

// NewPool returns a pool that keeps up to max inputs open.
func NewPool(max int) *Pool {
	return &Pool{max: max, idle: map[string]Open{}}
}

// Get returns in, open (with opts, when it is opened), for the caller's
// exclusive use until Put.
func (p *Pool) Get(ctx context.Context, in plan.Input, opts source.Options) (Open, error) {
	p.mu.Lock()
	if f, ok := p.idle[in.URL]; ok {
		delete(p.idle, in.URL)
		p.forget(in.URL)
		p.mu.Unlock()
		f.decoded, f.fetched = f.Reader.Decoded(), f.File.Fetched()
		return f, nil
	}
	p.mu.Unlock()
	return OpenInput(ctx, in.URL, in.Version, in.Source, opts)
}

// Put returns f, got for in, to the pool, closing the least recently used
// idle input when the pool is full.
func (p *Pool) Put(in plan.Input, f Open) {
	p.decoded.Add(f.Reader.Decoded() - f.decoded)
	p.fetched.Add(f.File.Fetched() - f.fetched)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, dup := p.idle[in.URL]; dup {
		f.File.Close()
		return
	}
	if len(p.order) >= p.max {
		old := p.order[0]
		p.order = p.order[1:]
		p.idle[old].File.Close()
		delete(p.idle, old)
	}
	p.idle[in.URL] = f
	p.order = append(p.order, in.URL)
}

func (p *Pool) forget(url string) {
	for i, u := range p.order {
		if u == url {
			p.order = append(p.order[:i:i], p.order[i+1:]...)
			return
		}
	}
}

// Close closes the idle inputs.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.idle {
		f.File.Close()
	}
	p.idle, p.order = map[string]Open{}, nil
}

// Read returns how many bytes of values the inputs decoded (whole stored
// chunks) and fetched from storage while out of the pool, so far.
func (p *Pool) Read() (decoded, fetched int64) { return p.decoded.Load(), p.fetched.Load() }
