package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
)

// gcsClients holds the process's Cloud Storage clients, made on first use:
// one per value of STORAGE_EMULATOR_HOST (normally just one). The client
// library reads that variable and application-default credentials itself.
var gcsClients struct {
	sync.Mutex
	byHost map[string]*storage.Client
}

func gcsClient() (*storage.Client, error) {
	host := os.Getenv("STORAGE_EMULATOR_HOST")
	gcsClients.Lock()
	defer gcsClients.Unlock()
	if c, ok := gcsClients.byHost[host]; ok {
		return c, nil
	}
	// JSON API reads, which emulators serve as Cloud Storage does; the
	// default XML API reads reach emulators only through a public host name.
	c, err := storage.NewClient(context.Background(), storage.WithJSONReads())
	if err != nil {
		return nil, err
	}
	if gcsClients.byHost == nil {
		gcsClients.byHost = map[string]*storage.Client{}
	}
	gcsClients.byHost[host] = c
	return c, nil
}

// gcsFS is one bucket; paths are object names.
type gcsFS struct{ bucket *storage.BucketHandle }

func newGCS(_ context.Context, bucket string) (gcsFS, error) {
	c, err := gcsClient()
	if err != nil {
		return gcsFS{}, fmt.Errorf("cloud storage client: %w", err)
	}
	// Every write of ours replaces a whole object with the same bytes when
	// it is repeated, so uploads and deletes are as safe to retry as reads:
	// retry them all on 429, 5xx and resets, not only the idempotent ones.
	return gcsFS{bucket: c.Bucket(bucket).Retryer(storage.WithPolicy(storage.RetryAlways))}, nil
}

// gcsError maps a missing object to fs.ErrNotExist.
func gcsError(name string, err error) error {
	if errors.Is(err, storage.ErrObjectNotExist) || errors.Is(err, storage.ErrBucketNotExist) {
		return fmt.Errorf("gs object %s: %w (%w)", name, err, fs.ErrNotExist)
	}
	return fmt.Errorf("gs object %s: %w", name, err)
}

// gcsReader reads ranges of an object, small reads through a block cache.
type gcsReader struct {
	ctx   context.Context
	obj   *storage.ObjectHandle
	attrs *storage.ObjectAttrs
	*blockCache
}

func (r *gcsReader) Close() error    { return nil }
func (r *gcsReader) Version() string { return strconv.FormatInt(r.attrs.Generation, 10) }

// fetch reads exactly len(p) bytes at off.
func (r *gcsReader) fetch(p []byte, off int64) error {
	rr, err := r.obj.NewRangeReader(r.ctx, off, int64(len(p)))
	if err != nil {
		return gcsError(r.attrs.Name, err)
	}
	defer rr.Close()
	if _, err := io.ReadFull(rr, p); err != nil {
		return fmt.Errorf("gs object %s: reading %d bytes at %d: %w", r.attrs.Name, len(p), off, err)
	}
	return nil
}

func (g gcsFS) open(ctx context.Context, path string) (Reader, error) {
	obj := g.bucket.Object(path)
	attrs, err := obj.Attrs(ctx)
	if err != nil {
		return nil, gcsError(path, err)
	}
	// Reads are of this generation: one that replaces it mid-read fails
	// them instead of mixing versions.
	r := &gcsReader{ctx: context.WithoutCancel(ctx), obj: obj.Generation(attrs.Generation), attrs: attrs}
	r.blockCache = newBlockCache("gs://"+attrs.Bucket+"/"+path, attrs.Size, remoteCache, r.fetch)
	return r, nil
}

func (g gcsFS) stat(ctx context.Context, path string) (int64, error) {
	attrs, err := g.bucket.Object(path).Attrs(ctx)
	if err != nil {
		return 0, gcsError(path, err)
	}
	return attrs.Size, nil
}

// gcsWriter uploads an object, which Cloud Storage makes visible only when
// the upload completes; Abort cancels the upload so nothing appears.
type gcsWriter struct {
	*storage.Writer
	cancel context.CancelFunc
}

func (g gcsFS) create(ctx context.Context, path string) (objectWriter, error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w := g.bucket.Object(path).NewWriter(ctx)
	return &gcsWriter{Writer: w, cancel: cancel}, nil
}

func (w *gcsWriter) Close() error {
	defer w.cancel()
	return w.Writer.Close()
}

func (w *gcsWriter) Abort() {
	w.cancel()
	_ = w.Writer.Close()
}

func (g gcsFS) list(ctx context.Context, prefix string) ([]string, error) {
	it := g.bucket.Objects(ctx, &storage.Query{Prefix: prefix})
	var out []string
	for {
		attrs, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return nil, gcsError(prefix+"*", err)
		}
		out = append(out, attrs.Name)
	}
	sort.Strings(out)
	return out, nil
}

func (g gcsFS) remove(ctx context.Context, path string) error {
	if err := g.bucket.Object(path).Delete(ctx); err != nil {
		return gcsError(path, err)
	}
	return nil
}

func (g gcsFS) removeAll(ctx context.Context, prefix string) error {
	if prefix != "" {
		prefix += "/"
	}
	names, err := g.list(ctx, prefix)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := g.remove(ctx, n); err != nil && !isNotExist(err) {
			return err
		}
	}
	return nil
}

func (g gcsFS) getVersion(ctx context.Context, path string) ([]byte, string, error) {
	r, err := g.bucket.Object(path).NewReader(ctx)
	if err != nil {
		return nil, "", gcsError(path, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, "", gcsError(path, err)
	}
	return b, strconv.FormatInt(r.Attrs.Generation, 10), nil
}

// swap writes with a generation precondition (ifGenerationMatch, 0 for
// "no object"), which Cloud Storage checks atomically.
func (g gcsFS) swap(ctx context.Context, path string, data []byte, version string) (string, error) {
	var gen int64
	if version != "" {
		var err error
		if gen, err = strconv.ParseInt(version, 10, 64); err != nil {
			return "", fmt.Errorf("gs object %s: version %q is not a generation", path, version)
		}
	}
	cond := storage.Conditions{GenerationMatch: gen}
	if gen == 0 {
		cond = storage.Conditions{DoesNotExist: true}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := g.bucket.Object(path).If(cond).NewWriter(ctx)
	if _, err := w.Write(data); err != nil {
		_ = w.Close()
		return "", gcsError(path, err)
	}
	if err := w.Close(); err != nil {
		var apiErr *googleapi.Error
		if errors.As(err, &apiErr) && apiErr.Code == http.StatusPreconditionFailed {
			return "", fmt.Errorf("gs object %s: generation is not %s: %w", path, describeGen(version), ErrConflict)
		}
		return "", gcsError(path, err)
	}
	return strconv.FormatInt(w.Attrs().Generation, 10), nil
}

func describeGen(version string) string {
	if version == "" {
		return "0 (no object)"
	}
	return version
}
