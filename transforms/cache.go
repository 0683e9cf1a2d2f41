package transforms

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/zarrforge/zarrforge/internal/inputs"
	"github.com/zarrforge/zarrforge/internal/par"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/storage"
)

func init() {
	register.DoFn4x1[context.Context, int, func(*plan.Input) bool, func(plan.Input), error](&cacheFn{})
	register.Emitter1[plan.Input]()
}

// CacheInputs copies every input into the cache at cfg.URL (a local path
// or gs:// URL) and returns the inputs with URL pointing at the cached copy.
// Inputs are copied in batches, spread over workers and copied at once
// within a batch. A copy already in the cache with the source's size is reused.
// Copies are atomic (a cached name is never a partial file), checked against
// the source's length and checksum where it gives one, and retried on
// transient failures with backoff (storage.Retry); 404 and 403 fail at once.
// With an empty URL the inputs are returned as they are and read in place,
// through the same retrying reader.
//
// It panics, as the pipeline is built, when cfg.Validate fails.
func CacheInputs(s beam.Scope, cfg CacheConfig, inputs beam.PCollection) beam.PCollection {
	mustValid("transforms.CacheInputs", cfg.Validate())
	s = s.Scope("transforms.CacheInputs")
	if cfg.URL == "" {
		return inputs
	}
	return beam.ParDo(s, &cacheFn{Config: cfg}, batches(s, inputs))
}

// CacheConfig configures CacheInputs.
type CacheConfig struct {
	// URL is the cache: a local path or gs:// URL; "" for none.
	URL string
	// Retry is how HTTP downloads retry; the zero value is
	// storage.DefaultRetry.
	Retry storage.Retry
	// Auth is how HTTP reads of the inputs authenticate (names of
	// environment variables, resolved where the reads run).
	Auth storage.HTTPAuth
}

// CacheName returns the stable name an input's copy has in the cache: a
// digest of its whole URL (inputs that differ only in case or in their
// query get different names), then the base name of its path (kept
// readable for people browsing the cache; no query, no user info, so no
// secret is ever part of a name).
func CacheName(sourceURL string) string {
	sum := sha256.Sum256([]byte(sourceURL))
	p := sourceURL
	if u, err := url.Parse(sourceURL); err == nil && strings.Contains(sourceURL, "://") {
		p = u.Path
	} else if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	base := path.Base(p)
	if base == "." || base == "/" {
		base = "input"
	}
	return hex.EncodeToString(sum[:8]) + "-" + base
}

type cacheFn struct {
	Config CacheConfig

	hits, copied, bytes, retries, msec beam.Counter
	span                               beam.Distribution
	progress                           progress
}

func (f *cacheFn) Setup() {
	f.hits = beam.NewCounter(CounterNamespace, CounterInputsCacheHits)
	f.copied = beam.NewCounter(CounterNamespace, CounterInputsCached)
	f.bytes = beam.NewCounter(CounterNamespace, CounterInputBytesCached)
	f.retries = beam.NewCounter(CounterNamespace, CounterInputRetries)
	f.msec = beam.NewCounter(CounterNamespace, CounterCacheMsec)
	f.span = beam.NewDistribution(CounterNamespace, SpanCacheInputs)
	f.progress = progress{stage: StageCacheInputs, what: "inputs cached"}
}

// ProcessElement caches a batch of inputs, at once, and emits them in the
// order they came.
func (f *cacheFn) ProcessElement(ctx context.Context, _ int, iter func(*plan.Input) bool, emit func(plan.Input)) error {
	defer timeSince(ctx, f.msec, f.span, time.Now())
	ins := collect(iter)
	rctx, retries := countingRetries(ctx, f.Config.Retry, f.Config.Auth)
	copied := make([]int64, len(ins)) // bytes copied; -1 for a cache hit, inPlace for a store
	err := par.Do(rctx, len(ins), batchSize, func(ctx context.Context, i int) error {
		return par.Recovered("CacheInputs: input "+ins[i].Source, func() error {
			var err error
			ins[i], copied[i], err = f.cache(ctx, ins[i])
			return err
		})
	})
	f.retries.Inc(ctx, retries.Load())
	if err != nil {
		return err
	}
	for i, in := range ins {
		if copied[i] == inPlace {
			emit(in)
			continue
		}
		if copied[i] < 0 {
			f.hits.Inc(ctx, 1)
		} else {
			f.copied.Inc(ctx, 1)
			f.bytes.Inc(ctx, copied[i])
		}
		f.progress.add(ctx, 1, max(copied[i], 0), 0)
		emit(in)
	}
	return nil
}

// inPlace is what cache returns for the bytes copied of an input it
// leaves where it is: a store.
const inPlace = -2

// cache copies one input into the cache, unless a copy of it is there, and
// returns it pointing at the copy, with the bytes copied (-1 when the copy
// was there). A copy is reused when it has the source's size and, when the
// source tells its version (ETag, generation, ...), was made from that
// version: a source corrected since is copied again. The version a copy
// was made from is kept beside it, in "<name>.version".
func (f *cacheFn) cache(ctx context.Context, in plan.Input) (plan.Input, int64, error) {
	name := CacheName(in.URL)
	dst := storage.Join(f.Config.URL, name)
	src, err := inputs.Locate(ctx, in.URL, "", in.Source)
	if err != nil {
		return plan.Input{}, 0, fmt.Errorf("CacheInputs: %w", err)
	}
	src.Close()
	if src.IsStore() {
		log.Infof(ctx, "CacheInputs: %s is a store: it is read in place, chunk by chunk, not cached", in.Source)
		return in, inPlace, nil
	}
	want, version := src.Size(), src.Version()
	cache, err := storage.NewStore(ctx, f.Config.URL)
	if err != nil {
		return plan.Input{}, 0, fmt.Errorf("CacheInputs: cache %s: %w", f.Config.URL, err)
	}
	have, err := storage.Stat(ctx, dst)
	fresh := err == nil && have == want
	if fresh && version != "" {
		made, verr := cache.Get(ctx, name+".version")
		fresh = verr == nil && string(made) == version
	}
	n := int64(-1)
	switch {
	case fresh:
	case err == nil || errors.Is(err, fs.ErrNotExist):
		if n, err = storage.Copy(ctx, in.URL, dst); err != nil {
			return plan.Input{}, 0, fmt.Errorf("CacheInputs: input %s: %w", in.Source, err)
		}
		if version != "" {
			if err := cache.Put(ctx, name+".version", []byte(version)); err != nil {
				return plan.Input{}, 0, fmt.Errorf("CacheInputs: cache %s: %w", f.Config.URL, err)
			}
		}
		log.Infof(ctx, "CacheInputs: cached %s (%d bytes) as %s", in.Source, n, dst)
	default:
		return plan.Input{}, 0, fmt.Errorf("CacheInputs: cache %s: %w", dst, err)
	}
	in.URL = dst
	return in, n, nil
}
