package storage

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
)

// s3Clients holds the process's S3 clients, made on first use: one per
// endpoint (AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL), kind of
// credentials and environment they come from. The SDK reads credentials
// and region from its default chain itself; they are used in no message,
// name or log of this package (the key below only tells environments
// apart, in memory).
var s3Clients struct {
	sync.Mutex
	byKey map[s3ClientKey]*s3.Client
}

type s3ClientKey struct {
	endpoint  string
	anonymous bool
	env       [4]string // the variables the default chain reads first
}

// s3Endpoint is the S3-compatible service the environment names, "" for
// AWS itself.
func s3Endpoint() string {
	if e := os.Getenv("AWS_ENDPOINT_URL_S3"); e != "" {
		return e
	}
	return os.Getenv("AWS_ENDPOINT_URL")
}

func s3Client(ctx context.Context, anonymous bool) (*s3.Client, error) {
	key := s3ClientKey{endpoint: s3Endpoint(), anonymous: anonymous, env: [4]string{
		os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_PROFILE"), os.Getenv("AWS_REGION")}}
	s3Clients.Lock()
	defer s3Clients.Unlock()
	if c, ok := s3Clients.byKey[key]; ok {
		return c, nil
	}
	opts := []func(*config.LoadOptions) error{}
	if anonymous {
		opts = append(opts, config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	}
	cfg, err := config.LoadDefaultConfig(context.WithoutCancel(ctx), opts...)
	if err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // S3's default; a bucket elsewhere needs AWS_REGION
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = key.endpoint != "" // S3-compatible services: bucket in the path
		o.Logger = logging.Nop{}            // errors are returned, never logged by the SDK
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	if s3Clients.byKey == nil {
		s3Clients.byKey = map[s3ClientKey]*s3.Client{}
	}
	s3Clients.byKey[key] = c
	return c, nil
}

// s3FS is one bucket; paths are object keys. Its requests retry as the
// context's Retry policy says, through the SDK's own retryer (one policy,
// not two stacked), each within the policy's Deadline; a ranged read whose
// answer breaks off mid-body, which the SDK does not retry, is asked again
// as many times.
type s3FS struct {
	client  *s3.Client
	bucket  string
	policy  Retry
	retry   func(*s3.Options)
	observe func(url string, attempt int, err error) // nil: none
}

func newS3(ctx context.Context, bucket string) (s3FS, error) {
	c, err := s3Client(ctx, slices.Contains(authOf(ctx).S3Anonymous, bucket))
	if err != nil {
		return s3FS{}, fmt.Errorf("s3 client: %w", err)
	}
	policy := retryOf(ctx)
	observe, _ := ctx.Value(observerKey{}).(func(string, int, error))
	retryer := s3Retryer(policy, "s3://"+bucket, observe) // one for all of this location's operations
	return s3FS{client: c, bucket: bucket, policy: policy, observe: observe, retry: func(o *s3.Options) {
		o.Retryer = retryer
	}}, nil
}

// s3Call runs one S3 operation of f within its policy's deadline.
func s3Call[T any](ctx context.Context, f s3FS, op func(ctx context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, f.policy.Deadline)
	defer cancel()
	return op(ctx)
}

func (f s3FS) name(path string) string { return "s3://" + f.bucket + "/" + path }

// s3Error maps a missing object to fs.ErrNotExist and a failed
// precondition to ErrConflict; the SDK's message names the operation and
// the service's error code, never a credential.
func (f s3FS) s3Error(path string, err error) error {
	var apiErr smithy.APIError
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	switch {
	case errors.As(err, &nsk), errors.As(err, &nf), errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchBucket":
		return fmt.Errorf("%s: %w (%w)", f.name(path), err, fs.ErrNotExist)
	case s3Status(err) == http.StatusPreconditionFailed, errors.As(err, &apiErr) && apiErr.ErrorCode() == "ConditionalRequestConflict":
		return fmt.Errorf("%s: %w (%w)", f.name(path), err, ErrConflict)
	case s3Status(err) == http.StatusForbidden:
		return fmt.Errorf("%s: access denied: the credentials the AWS SDK found (environment, shared files, role) are wrong "+
			"or not allowed this, or the bucket is public and pattern.s3.anonymous is not set: %w", f.name(path), err)
	}
	return fmt.Errorf("%s: %w", f.name(path), err)
}

// s3Status is the HTTP status of a failed request, 0 when it had none.
func s3Status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// s3Reader reads ranges of one version of an object (its ETag): a newer
// one fails the reads with ErrChanged instead of mixing versions.
type s3Reader struct {
	ctx    context.Context
	fs     s3FS
	path   string
	etag   string
	crc32c string // the object's CRC-32C as S3 keeps it (base64), "" when none
	*blockCache
}

// checksums are those S3 keeps of the object that a whole copy can be
// checked against: its CRC-32C when it was uploaded with one (ours are),
// and the MD5 its ETag is when it was uploaded in one request (an ETag
// of 32 hex digits; a multipart upload's has a "-").
func (r *s3Reader) checksums() checksums {
	var c checksums
	if b, err := base64.StdEncoding.DecodeString(r.crc32c); err == nil && len(b) == 4 {
		c.add("crc32c", crc32.New(crc32.MakeTable(crc32.Castagnoli)), b)
	}
	if b, err := hex.DecodeString(strings.Trim(r.etag, `"`)); err == nil && len(b) == md5.Size {
		c.add("md5 (the ETag)", md5.New(), b)
	}
	return c
}

func (r *s3Reader) Close() error    { return nil }
func (r *s3Reader) Version() string { return r.etag }

// fetch reads exactly len(p) bytes at off.
func (r *s3Reader) fetch(p []byte, off int64) error {
	if len(p) == 0 {
		return nil
	}
	in := &s3.GetObjectInput{Bucket: &r.fs.bucket, Key: &r.path, IfMatch: &r.etag,
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+int64(len(p))-1))}
	var err error
	for attempt := 1; ; attempt++ {
		var cut bool // the answer came, and broke off (or came torn): the SDK retries requests, not bodies
		_, err = s3Call(r.ctx, r.fs, func(ctx context.Context) (struct{}, error) {
			out, err := r.fs.client.GetObject(ctx, in, r.fs.retry)
			if err != nil {
				return struct{}{}, err
			}
			defer out.Body.Close()
			_, err = io.ReadFull(out.Body, p)
			cut = err != nil
			if err == nil {
				err = readEnd(out.Body)
			}
			return struct{}{}, err
		})
		if !cut && !torn(err) || attempt >= r.fs.policy.Attempts {
			break
		}
		if r.fs.observe != nil {
			r.fs.observe(r.fs.name(r.path), attempt, err)
		}
	}
	if torn(err) {
		return fmt.Errorf("%s: reading %d bytes at %d: checksum mismatch: the bytes do not match the checksum the server announced, %d times (damaged where it keeps them): %w",
			r.fs.name(r.path), len(p), off, r.fs.policy.Attempts, err)
	}
	if err != nil {
		if err := r.fs.s3Error(r.path, err); errors.Is(err, ErrConflict) {
			return fmt.Errorf("%s: %w", r.fs.name(r.path), ErrChanged)
		}
		return fmt.Errorf("%s: reading %d bytes at %d: %w", r.fs.name(r.path), len(p), off, r.fs.s3Error(r.path, err))
	}
	return nil
}

func (f s3FS) head(ctx context.Context, path string) (*s3.HeadObjectOutput, error) {
	out, err := s3Call(ctx, f, func(ctx context.Context) (*s3.HeadObjectOutput, error) {
		return f.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &f.bucket, Key: &path, ChecksumMode: types.ChecksumModeEnabled}, f.retry)
	})
	if err != nil {
		return nil, f.s3Error(path, err)
	}
	return out, nil
}

func (f s3FS) open(ctx context.Context, path string) (Reader, error) {
	h, err := f.head(ctx, path)
	if err != nil {
		return nil, err
	}
	r := &s3Reader{ctx: context.WithoutCancel(ctx), fs: f, path: path, etag: aws.ToString(h.ETag), crc32c: aws.ToString(h.ChecksumCRC32C)}
	r.blockCache = newBlockCache(f.name(path), aws.ToInt64(h.ContentLength), remoteCache, r.fetch)
	return r, nil
}

func (f s3FS) stat(ctx context.Context, path string) (int64, error) {
	h, err := f.head(ctx, path)
	if err != nil {
		return 0, err
	}
	return aws.ToInt64(h.ContentLength), nil
}

func (f s3FS) create(ctx context.Context, path string) (objectWriter, error) {
	return &s3Writer{ctx: context.WithoutCancel(ctx), fs: f, path: path}, nil
}

// list lists the objects under prefix but the lease's probes (see
// checkConditionalWrites), which a run writes and deletes at once: another
// run listing the store in between must not take them for its objects.
func (f s3FS) list(ctx context.Context, prefix string) ([]string, error) {
	all, err := f.listAll(ctx, prefix)
	return slices.DeleteFunc(all, isProbe), err
}

// isProbe reports whether key is a conditional-write probe's.
func isProbe(key string) bool { return strings.Contains(key, probeInfix) }

// probeInfix marks the keys of conditional-write probes.
const probeInfix = ".conditional-write-probe-"

// listAll lists every object under prefix, page by page.
func (f s3FS) listAll(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	pages := s3.NewListObjectsV2Paginator(f.client, &s3.ListObjectsV2Input{Bucket: &f.bucket, Prefix: &prefix})
	for pages.HasMorePages() {
		page, err := s3Call(ctx, f, func(ctx context.Context) (*s3.ListObjectsV2Output, error) {
			return pages.NextPage(ctx, f.retry)
		})
		if err != nil {
			return nil, f.s3Error(prefix+"*", err)
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	sort.Strings(out)
	return out, nil
}

func (f s3FS) remove(ctx context.Context, path string) error {
	_, err := s3Call(ctx, f, func(ctx context.Context) (*s3.DeleteObjectOutput, error) {
		return f.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &f.bucket, Key: &path}, f.retry)
	})
	if err != nil {
		return f.s3Error(path, err)
	}
	return nil
}

// s3DeleteBatch is the most keys one DeleteObjects request takes.
const s3DeleteBatch = 1000

// removeMany deletes paths, a thousand to a request.
func (f s3FS) removeMany(ctx context.Context, paths []string) error {
	for len(paths) > 0 {
		n := min(len(paths), s3DeleteBatch)
		ids := make([]types.ObjectIdentifier, n)
		for i, p := range paths[:n] {
			ids[i] = types.ObjectIdentifier{Key: aws.String(p)}
		}
		out, err := s3Call(ctx, f, func(ctx context.Context) (*s3.DeleteObjectsOutput, error) {
			return f.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &f.bucket,
				Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}}, f.retry)
		})
		if err != nil {
			return f.s3Error(paths[0]+" and the next", err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("%s: deleting it: %s (%d of %d deletes failed)", f.name(aws.ToString(e.Key)), aws.ToString(e.Message), len(out.Errors), n)
		}
		paths = paths[n:]
	}
	return nil
}

func (f s3FS) removeAll(ctx context.Context, prefix string) error {
	if prefix != "" {
		prefix += "/"
	}
	paths, err := f.listAll(ctx, prefix) // probes a dead run left too
	if err != nil {
		return err
	}
	return f.removeMany(ctx, paths)
}

func (f s3FS) getVersion(ctx context.Context, path string) ([]byte, string, error) {
	type got struct {
		b    []byte
		etag string
	}
	var g got
	var err error
	for attempt := 1; ; attempt++ {
		g, err = s3Call(ctx, f, func(ctx context.Context) (got, error) {
			out, err := f.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &f.bucket, Key: &path}, f.retry)
			if err != nil {
				return got{}, err
			}
			defer out.Body.Close()
			b, err := io.ReadAll(out.Body)
			return got{b, aws.ToString(out.ETag)}, err
		})
		if !torn(err) || attempt >= f.policy.Attempts {
			break
		}
		if f.observe != nil {
			f.observe(f.name(path), attempt, err)
		}
	}
	if err != nil {
		return nil, "", f.s3Error(path, err)
	}
	return g.b, g.etag, nil
}

// readEnd reads the end of a body whose bytes were all read: where the
// SDK checks the checksum an answer announced (a torn answer fails there).
func readEnd(body io.Reader) error {
	switch n, err := io.CopyN(io.Discard, body, 1); {
	case err == io.EOF:
		return nil
	case n > 0:
		return fmt.Errorf("the answer is longer than the range asked for")
	default:
		return err
	}
}

// torn reports whether a whole object's body did not match the checksum
// its answer announced, as the SDK checks it: an object overwritten while
// it was read, on a server whose overwrites are not atomic (the test
// server's are not), which a second read gets whole. The SDK gives the
// error no type; its text is what tells it.
func torn(err error) bool {
	return err != nil && strings.Contains(err.Error(), "checksum did not match")
}

// swap writes with a precondition S3 checks atomically: If-Match on the
// ETag, or If-None-Match: * for "no object". A server that ignores them
// would let two runs both claim a store; swap checks, before it claims
// anything, that the server refuses a write conditioned on an object that
// is there, and refuses to go on (ErrNoConditionalWrites) if it does not.
func (f s3FS) swap(ctx context.Context, path string, data []byte, version string) (string, error) {
	if version == "" {
		if err := f.checkConditionalWrites(ctx, path); err != nil {
			return "", err
		}
	}
	etag, err := f.putIf(ctx, path, data, version)
	if errors.Is(err, ErrConflict) {
		return "", fmt.Errorf("%s: ETag is not %s: %w", f.name(path), describeETag(version), ErrConflict)
	}
	return etag, err
}

// putIf puts data at path if the object there is at version ("" for none).
func (f s3FS) putIf(ctx context.Context, path string, data []byte, version string) (string, error) {
	in := &s3.PutObjectInput{Bucket: &f.bucket, Key: &path, Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))}
	if version == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(version)
	}
	out, err := s3Call(ctx, f, func(ctx context.Context) (*s3.PutObjectOutput, error) {
		return f.client.PutObject(ctx, in, f.retry)
	})
	if err != nil {
		return "", f.s3Error(path, err)
	}
	return aws.ToString(out.ETag), nil
}

// ErrNoConditionalWrites is wrapped by the error of a claim on an S3
// store whose server ignores conditional writes (If-None-Match,
// If-Match): without them two runs could write one store at once, so
// nothing is written.
var ErrNoConditionalWrites = errors.New("the S3 server ignores conditional writes (If-None-Match, If-Match), which the store's lease needs")

// checkConditionalWrites writes a probe object beside path twice with
// If-None-Match: *, and once with If-Match on an ETag it never had: a
// server honouring conditional writes refuses the last two. The probe is
// deleted.
func (f s3FS) checkConditionalWrites(ctx context.Context, path string) error {
	probe := path + probeInfix + randomSuffix()
	defer f.remove(context.WithoutCancel(ctx), probe)
	if _, err := f.putIf(ctx, probe, nil, ""); err != nil {
		return err
	}
	_, again := f.putIf(ctx, probe, []byte("again"), "")
	_, other := f.putIf(ctx, probe, []byte("other"), `"not-its-etag"`)
	if !errors.Is(again, ErrConflict) || !errors.Is(other, ErrConflict) {
		return fmt.Errorf("%s: %w: use a server that honours them (AWS S3; MinIO since 2024; versitygw), "+
			"or a local or gs:// target", f.name(path), ErrNoConditionalWrites)
	}
	return nil
}

func describeETag(version string) string {
	if version == "" {
		return "absent (no object)"
	}
	return version
}

// s3PartSize is the size of the parts of a multipart upload: an object up
// to it is one PutObject.
const s3PartSize = 16 << 20

// s3Writer uploads an object, which S3 makes visible only when its upload
// completes: one PutObject for a small object, a multipart upload for a
// large one (parts of s3PartSize, each with its CRC-32C checked by the
// server). Abort abandons the upload, so nothing appears.
type s3Writer struct {
	ctx    context.Context
	fs     s3FS
	path   string
	buf    []byte
	upload *string // the multipart upload's ID, once there is one
	parts  []types.CompletedPart
	err    error
}

// Write sends every part p completes and keeps the rest; a whole part of p
// is sent from p itself, not copied.
func (w *s3Writer) Write(p []byte) (int, error) {
	n := len(p)
	for w.err == nil && len(w.buf)+len(p) >= s3PartSize {
		if len(w.buf) == 0 {
			w.err, p = w.uploadPart(p[:s3PartSize]), p[s3PartSize:]
			continue
		}
		k := s3PartSize - len(w.buf)
		w.buf, p = append(w.buf, p[:k]...), p[k:]
		w.err, w.buf = w.uploadPart(w.buf), w.buf[:0]
	}
	if w.err != nil {
		return 0, w.err
	}
	w.buf = append(w.buf, p...)
	return n, nil
}

// uploadPart sends the next part, starting the upload first.
func (w *s3Writer) uploadPart(part []byte) error {
	f := w.fs
	if w.upload == nil {
		out, err := s3Call(w.ctx, f, func(ctx context.Context) (*s3.CreateMultipartUploadOutput, error) {
			return f.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &f.bucket, Key: &w.path,
				ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c}, f.retry)
		})
		if err != nil {
			return f.s3Error(w.path, err)
		}
		w.upload = out.UploadId
	}
	n := aws.Int32(int32(len(w.parts) + 1))
	out, err := s3Call(w.ctx, f, func(ctx context.Context) (*s3.UploadPartOutput, error) {
		return f.client.UploadPart(ctx, &s3.UploadPartInput{Bucket: &f.bucket, Key: &w.path, UploadId: w.upload, PartNumber: n,
			Body: bytes.NewReader(part), ContentLength: aws.Int64(int64(len(part))), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c}, f.retry)
	})
	if err != nil {
		return f.s3Error(w.path, err)
	}
	w.parts = append(w.parts, types.CompletedPart{ETag: out.ETag, PartNumber: n, ChecksumCRC32C: out.ChecksumCRC32C})
	return nil
}

func (w *s3Writer) Close() error {
	if w.err != nil {
		w.Abort()
		return w.err
	}
	f := w.fs
	if w.upload == nil { // one request
		_, err := s3Call(w.ctx, f, func(ctx context.Context) (*s3.PutObjectOutput, error) {
			return f.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &f.bucket, Key: &w.path, Body: bytes.NewReader(w.buf),
				ContentLength: aws.Int64(int64(len(w.buf))), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c}, f.retry)
		})
		if err != nil {
			return f.s3Error(w.path, err)
		}
		return nil
	}
	if len(w.buf) > 0 {
		if err := w.uploadPart(w.buf); err != nil {
			w.Abort()
			return err
		}
	}
	_, err := s3Call(w.ctx, f, func(ctx context.Context) (*s3.CompleteMultipartUploadOutput, error) {
		return f.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &f.bucket, Key: &w.path,
			UploadId: w.upload, MultipartUpload: &types.CompletedMultipartUpload{Parts: w.parts}}, f.retry)
	})
	if err != nil {
		w.Abort()
		return f.s3Error(w.path, err)
	}
	return nil
}

func (w *s3Writer) Abort() {
	if w.upload == nil {
		return
	}
	f := w.fs
	_, _ = s3Call(w.ctx, f, func(ctx context.Context) (*s3.AbortMultipartUploadOutput, error) {
		return f.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &f.bucket, Key: &w.path, UploadId: w.upload}, f.retry)
	})
	w.upload = nil
}

// s3Retryer is the SDK's standard retryer (which retries 5xx, throttling
// and connection errors) with the attempts and the backoff limit of policy
// and no retry quota — every request gets its attempts, as HTTP reads do —
// reporting each retry to observe (when not nil) as the HTTP reads report
// theirs.
func s3Retryer(policy Retry, url string, observe func(string, int, error)) aws.Retryer {
	r := retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = policy.Attempts
		o.MaxBackoff = policy.Max
		o.Backoff = retry.NewExponentialJitterBackoff(policy.Max)
		o.RateLimiter = ratelimit.None
	})
	if observe == nil {
		return r
	}
	return observedRetryer{RetryerV2: r, url: url, observe: observe}
}

// observedRetryer calls observe before each retry.
type observedRetryer struct {
	aws.RetryerV2
	url     string
	observe func(string, int, error)
}

func (r observedRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	r.observe(r.url, attempt, err)
	return r.RetryerV2.RetryDelay(attempt, err)
}
