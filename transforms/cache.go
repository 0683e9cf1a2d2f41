package transforms

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/zarrforge/zarrforge/plan"
	"github.com/zarrforge/zarrforge/storage"
)

func init() {
	register.DoFn2x2[context.Context, plan.Input, plan.Input, error](&cacheFn{})
}

// CacheInputs copies every input into the cache at cacheURL (a local path
// or gs:// URL) and returns the inputs with URL pointing at the cached copy.
// The inputs are reshuffled first, so that copies run in parallel across
// workers. A copy already in the cache with the source's size is reused.
// Copies are atomic (a cached name is never a partial file), checked against
// the source's length and checksum where it gives one, and retried on
// transient failures with backoff (storage.Retry); 404 and 403 fail at once.
// With an empty cacheURL the inputs are returned as they are and read in
// place, through the same retrying reader.
func CacheInputs(s beam.Scope, cacheURL string, inputs beam.PCollection) beam.PCollection {
	s = s.Scope("CacheInputs")
	if cacheURL == "" {
		return inputs
	}
	return beam.ParDo(s, &cacheFn{CacheURL: cacheURL}, beam.Reshuffle(s, inputs))
}

// CacheName returns the stable name an input's copy has in the cache: a
// digest of its URL, then its base name (kept readable for people browsing
// the cache).
func CacheName(sourceURL string) string {
	sum := sha256.Sum256([]byte(sourceURL))
	return hex.EncodeToString(sum[:8]) + "-" + path.Base(sourceURL)
}

type cacheFn struct {
	CacheURL string

	hits, copied, bytes, retries beam.Counter
}

func (f *cacheFn) Setup() {
	f.hits = beam.NewCounter(counterNamespace, "inputs_cache_hits")
	f.copied = beam.NewCounter(counterNamespace, "inputs_cached")
	f.bytes = beam.NewCounter(counterNamespace, "input_bytes_cached")
	f.retries = beam.NewCounter(counterNamespace, "input_retries")
}

func (f *cacheFn) ProcessElement(ctx context.Context, in plan.Input) (plan.Input, error) {
	ctx = countRetries(ctx, f.retries)
	dst := storage.Join(f.CacheURL, CacheName(in.Source))
	want, err := storage.Stat(ctx, in.URL)
	if err != nil {
		return plan.Input{}, fmt.Errorf("CacheInputs: input %s: %w", in.Source, err)
	}
	have, err := storage.Stat(ctx, dst)
	switch {
	case err == nil && have == want:
		f.hits.Inc(ctx, 1)
	case err == nil || errors.Is(err, fs.ErrNotExist):
		n, err := storage.Copy(ctx, in.URL, dst)
		if err != nil {
			return plan.Input{}, fmt.Errorf("CacheInputs: input %s: %w", in.Source, err)
		}
		f.copied.Inc(ctx, 1)
		f.bytes.Inc(ctx, n)
		log.Infof(ctx, "CacheInputs: cached %s (%d bytes) as %s", in.Source, n, dst)
	default:
		return plan.Input{}, fmt.Errorf("CacheInputs: cache %s: %w", dst, err)
	}
	in.URL = dst
	return in, nil
}

// countRetries returns a context whose storage reads count each retry in c
// and log it.
func countRetries(ctx context.Context, c beam.Counter) context.Context {
	return storage.WithRetryObserver(ctx, func(url string, attempt int, err error) {
		c.Inc(ctx, 1)
		log.Warnf(ctx, "retrying %s after attempt %d failed: %v", url, attempt, err)
	})
}
