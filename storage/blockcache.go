package storage

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// blockCache gives an object ReaderAt semantics with few requests: small
// reads (the headers and metadata a netCDF reader walks) go through a cache
// of a few aligned blocks, so they cost one request (or system call) per
// block rather than one each; large reads (chunk data) are fetched directly.
type blockCache struct {
	name  string
	size  int64
	fetch func(p []byte, off int64) error // reads exactly len(p) bytes at off
	shape cacheShape

	fetched atomic.Int64 // bytes fetched from the object

	mu     sync.Mutex
	blocks map[int64][]byte
	order  []int64 // least recently used first
}

// cacheShape sizes a block cache: its block size, how many blocks it keeps,
// and the largest read it serves.
type cacheShape struct {
	block, blocks, small int64
}

var (
	// Remote requests cost milliseconds: fetch large blocks.
	remoteCache = cacheShape{block: 512 << 10, blocks: 8, small: 64 << 10}
	// Local reads cost a system call: small blocks, little memory per file.
	localCache = cacheShape{block: 64 << 10, blocks: 4, small: 16 << 10}
)

func newBlockCache(name string, size int64, shape cacheShape, fetch func(p []byte, off int64) error) *blockCache {
	return &blockCache{name: name, size: size, fetch: fetch, shape: shape, blocks: map[int64][]byte{}}
}

func (c *blockCache) Size() int64 { return c.size }

// Fetched is how many bytes were fetched from the object so far (whole
// blocks for small reads).
func (c *blockCache) Fetched() int64 { return c.fetched.Load() }

// get fetches p at off, counting it.
func (c *blockCache) get(p []byte, off int64) error {
	c.fetched.Add(int64(len(p)))
	return c.fetch(p, off)
}

func (c *blockCache) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%s: negative offset", c.name)
	}
	if off >= c.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), c.size-off))
	var err error
	if int64(n) <= c.shape.small {
		err = c.readCached(p[:n], off)
	} else {
		err = c.get(p[:n], off)
	}
	if err != nil {
		return 0, err
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (c *blockCache) readCached(p []byte, off int64) error {
	for len(p) > 0 {
		idx := off / c.shape.block
		b, err := c.block(idx)
		if err != nil {
			return err
		}
		k := copy(p, b[off-idx*c.shape.block:])
		p, off = p[k:], off+int64(k)
	}
	return nil
}

func (c *blockCache) block(idx int64) ([]byte, error) {
	c.mu.Lock()
	if b, ok := c.blocks[idx]; ok {
		for i, x := range c.order {
			if x == idx {
				c.order = append(append(c.order[:i:i], c.order[i+1:]...), idx)
				break
			}
		}
		c.mu.Unlock()
		return b, nil
	}
	c.mu.Unlock()
	start := idx * c.shape.block
	b := make([]byte, min(c.shape.block, c.size-start))
	if err := c.get(b, start); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.blocks[idx]; !ok {
		if int64(len(c.order)) >= c.shape.blocks {
			delete(c.blocks, c.order[0])
			c.order = c.order[1:]
		}
		c.blocks[idx] = b
		c.order = append(c.order, idx)
	}
	return b, nil
}
