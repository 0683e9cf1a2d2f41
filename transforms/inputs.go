package transforms

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/zarrforge/zarrforge/plan"
	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/storage"
)

// inputPool keeps recently used inputs open, so a worker writing
// neighbouring chunks parses each input's header once. An open input is
// used by one goroutine at a time: get takes it out of the pool (opening it
// if the pool has none) and put returns it. Goroutines wanting the same
// input at once each get their own copy; the spare is closed on return.
type inputPool struct {
	max int

	// decoded and fetched sum what the inputs' readers decoded and fetched
	// while out of the pool.
	decoded, fetched atomic.Int64

	mu    sync.Mutex
	idle  map[string]openInput
	order []string // idle inputs, least recently used first
}

type openInput struct {
	r  storage.Reader
	nc source.Reader
	// what the reader had decoded and fetched when it left the pool
	decoded, fetched int64
}

func newInputPool(max int) *inputPool {
	return &inputPool{max: max, idle: map[string]openInput{}}
}

// get returns in, open (with opts, when it is opened), for the caller's
// exclusive use until put.
func (p *inputPool) get(ctx context.Context, in plan.Input, opts source.Options) (openInput, error) {
	p.mu.Lock()
	if f, ok := p.idle[in.URL]; ok {
		delete(p.idle, in.URL)
		p.forget(in.URL)
		p.mu.Unlock()
		f.decoded, f.fetched = f.nc.Decoded(), f.r.Fetched()
		return f, nil
	}
	p.mu.Unlock()
	r, err := storage.OpenPinned(ctx, in.URL, in.Version)
	if err != nil {
		return openInput{}, fmt.Errorf("input %s: %w", in.Source, err)
	}
	nc, err := source.Open(r, r.Size(), in.Source, opts)
	if err != nil {
		r.Close()
		return openInput{}, err
	}
	return openInput{r: r, nc: nc}, nil
}

// put returns f, got for in, to the pool, closing the least recently used
// idle input when the pool is full.
func (p *inputPool) put(in plan.Input, f openInput) {
	p.decoded.Add(f.nc.Decoded() - f.decoded)
	p.fetched.Add(f.r.Fetched() - f.fetched)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, dup := p.idle[in.URL]; dup {
		f.r.Close()
		return
	}
	if len(p.order) >= p.max {
		old := p.order[0]
		p.order = p.order[1:]
		p.idle[old].r.Close()
		delete(p.idle, old)
	}
	p.idle[in.URL] = f
	p.order = append(p.order, in.URL)
}

func (p *inputPool) forget(url string) {
	for i, u := range p.order {
		if u == url {
			p.order = append(p.order[:i:i], p.order[i+1:]...)
			return
		}
	}
}

func (p *inputPool) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.idle {
		f.r.Close()
	}
	p.idle, p.order = map[string]openInput{}, nil
}
