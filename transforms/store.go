package transforms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/zarrforge/zarrforge/netcdf"
	"github.com/zarrforge/zarrforge/plan"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/zarr"
)

func init() {
	register.DoFn3x0[[]byte, plan.Target, func(plan.ChunkKey)](&chunkKeysFn{})
	register.Emitter1[plan.ChunkKey]()
	register.DoFn3x2[context.Context, plan.ChunkKey, plan.Target, plan.WriteResult, error](&storeChunkFn{})
}

// StoreChunks writes every chunk of the target (the singleton PCollection
// of plan.Target from PrepareTarget, taken as a side input) and returns one
// plan.WriteResult per chunk object. Chunk keys, not array data, go through
// the shuffle; each chunk is read from the inputs that overlap it,
// assembled, encoded and written whole, once, by one element.
func StoreChunks(s beam.Scope, target beam.PCollection) beam.PCollection {
	s = s.Scope("StoreChunks")
	keys := beam.ParDo(s, &chunkKeysFn{}, beam.Impulse(s), beam.SideInput{Input: target})
	keys = beam.Reshuffle(s, keys)
	return beam.ParDo(s, &storeChunkFn{}, keys, beam.SideInput{Input: target})
}

// chunkKeysFn emits the key of every chunk to write.
type chunkKeysFn struct{}

func (f *chunkKeysFn) ProcessElement(_ []byte, t plan.Target, emit func(plan.ChunkKey)) {
	t.Schema.ChunkKeys(emit)
}

// storeChunkFn assembles and writes one chunk. The chunk is compressed
// while it is assembled and its encoding streamed to the store as it is
// produced; the object appears, whole, only when it is complete.
type storeChunkFn struct {
	inputs  *inputPool
	chunk   []byte // the chunk being assembled, reused
	encoder zarr.ChunkEncoder
	store   *storage.Store
	owned   time.Time // when this worker last found the store its run's
	chunks  beam.Counter
	written beam.Counter
}

func (f *storeChunkFn) Setup() {
	f.inputs = newInputPool(64)
	f.chunks = beam.NewCounter(counterNamespace, "chunks_written")
	f.written = beam.NewCounter(counterNamespace, "chunk_bytes_written")
}

func (f *storeChunkFn) Teardown() {
	f.inputs.closeAll()
}

func (f *storeChunkFn) ProcessElement(ctx context.Context, key plan.ChunkKey, t plan.Target) (plan.WriteResult, error) {
	if t.Retry != (storage.Retry{}) {
		ctx = storage.WithRetry(ctx, t.Retry)
	}
	v, ok := t.Schema.Var(key.Var)
	if !ok {
		return plan.WriteResult{}, fmt.Errorf("StoreChunks: chunk %s: no such variable in the schema", key)
	}
	meta, err := t.ArrayMeta(v)
	if err != nil {
		return plan.WriteResult{}, fmt.Errorf("StoreChunks: %w", err)
	}
	if f.store == nil || f.store.URL() != t.URL {
		if f.store, err = storage.NewStore(ctx, t.URL); err != nil {
			return plan.WriteResult{}, fmt.Errorf("StoreChunks: %w", err)
		}
		f.owned = time.Time{}
	}
	// Stop writing a store another run has taken, and keep ours alive.
	if now := time.Now(); now.Sub(f.owned) >= beatEvery {
		if _, err := ensureOwner(ctx, f.store, t.Run, now, beatEvery); err != nil {
			return plan.WriteResult{}, fmt.Errorf("StoreChunks: target %s: %w", t.URL, err)
		}
		f.owned = now
	}
	var size int64
	err = f.store.PutFrom(ctx, zarr.ChunkKey(key.Var, key.Index), func(w io.Writer) error {
		return recovered("", func() error {
			var err error
			if meta.DType == zarr.Strings {
				size, err = f.assembleStrings(ctx, &t, v, key, meta, w)
			} else {
				size, err = f.assembleAndEncode(ctx, &t, v, key, meta, w)
			}
			return err
		})
	})
	if err != nil {
		return plan.WriteResult{}, fmt.Errorf("StoreChunks: chunk %s: %w", key, err)
	}
	f.chunks.Inc(ctx, 1)
	f.written.Inc(ctx, size)
	return plan.WriteResult{Key: key, Bytes: size}, nil
}

// assembleAndEncode reads the parts of chunk key from the inputs that hold
// them into f.chunk, sized to the full chunk (edges padded with the fill
// value), and writes the chunk, encoded, to dst, returning its size. Parts
// are read in parallel, by a goroutine per core (at least remoteReaders
// when any input is remote): the runner may give this worker a single
// bundle, and decoding the inputs is most of the work. A part that is a
// contiguous run of the chunk is decoded straight into it; when every part
// is (the concat dimension leads the chunk), each finished prefix of the
// chunk is fed to the compressor while the rest is still being read.
func (f *storeChunkFn) assembleAndEncode(ctx context.Context, t *plan.Target, v *plan.Variable, key plan.ChunkKey, meta zarr.ArrayMeta, dst io.Writer) (int64, error) {
	s := &t.Schema
	opts := netcdf.Options{MaxChunk: inputChunkLimit(t.MaxMem)}
	enc := &f.encoder
	start, count := v.Region(key.Index)
	size := meta.ChunkBytes()
	if int64(cap(f.chunk)) < size {
		f.chunk = make([]byte, size)
	}
	chunk := f.chunk[:size]
	if !plan.Covers(v, count) {
		plan.Fill(chunk, v.FillBytes())
	}
	parts, err := s.Sources(v, start, count)
	if err != nil {
		return 0, err
	}
	if parts[0].Existing {
		if err := f.readExisting(ctx, s.ConcatDim, v, key, meta, chunk, parts[0]); err != nil {
			return 0, err
		}
		parts = parts[1:]
	}
	// ends[i] is where part i ends in the chunk when the parts are runs in
	// order; nil otherwise.
	ends := make([]int64, len(parts))
	for i, sl := range parts {
		off, ok := plan.Run(v.Chunks, sl.At, sl.Count, v.ItemSize())
		if !ok || (i > 0 && off < ends[i-1]) {
			ends = nil
			break
		}
		ends[i] = off + partBytes(v, sl)
	}
	if err := enc.Begin(meta, dst); err != nil {
		return 0, err
	}

	next := make(chan int, len(parts))
	for i := range parts {
		next <- i
	}
	close(next)
	type result struct {
		part int
		err  error
	}
	results := make(chan result, len(parts))
	var failed atomic.Bool
	var wg sync.WaitGroup
	readers := runtime.GOMAXPROCS(0)
	if slices.ContainsFunc(parts, func(sl plan.Slice) bool { return storage.IsRemote(sl.Input.URL) }) {
		readers = max(readers, remoteReaders)
	}
	for range min(len(parts), readers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var scratch []byte
			for i := range next {
				var err error
				if !failed.Load() {
					err = recovered("input "+parts[i].Input.Source, func() error {
						var err error
						scratch, err = f.readPart(ctx, opts, v, chunk, parts[i], scratch)
						return err
					})
					if err != nil {
						failed.Store(true)
					}
				}
				results <- result{i, err}
			}
		}()
	}
	done := make([]bool, len(parts))
	written, ready := int64(0), 0
	for range parts {
		r := <-results
		if r.err != nil && err == nil {
			err = r.err
		}
		done[r.part] = true
		for ready < len(parts) && done[ready] {
			ready++
		}
		if ends != nil && err == nil && ready > 0 && ends[ready-1] > written {
			enc.Write(chunk[written:ends[ready-1]])
			written = ends[ready-1]
		}
	}
	wg.Wait()
	if err != nil {
		enc.Abort() // before the store discards dst
		return 0, err
	}
	enc.Write(chunk[written:])
	return enc.Finish()
}

// assembleStrings is assembleAndEncode for a variable of strings: it reads
// the parts of chunk key (one after another: strings are small) into a
// chunk of strings ("" at the edges), and writes it, encoded, to dst.
func (f *storeChunkFn) assembleStrings(ctx context.Context, t *plan.Target, v *plan.Variable, key plan.ChunkKey, meta zarr.ArrayMeta, dst io.Writer) (int64, error) {
	s := &t.Schema
	start, count := v.Region(key.Index)
	n := int64(1)
	for _, c := range v.Chunks {
		n *= c
	}
	chunk := make([]string, n)
	parts, err := s.Sources(v, start, count)
	if err != nil {
		return 0, err
	}
	if parts[0].Existing {
		name := zarr.ChunkKey(key.Var, key.Index)
		data, err := f.store.Get(ctx, name)
		if err == nil {
			var old []string
			if old, err = zarr.DecodeStrings(meta, data); err == nil {
				copy(chunk, old)
				axis := v.ConcatAxis(s.ConcatDim)
				plan.FillFrom(chunk, v.Chunks, axis, parts[0].Count[axis], 1, nil) // the steps the store does not hold
			}
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) { // a missing object holds only ""
			return 0, fmt.Errorf("the store's %s: %w", name, err)
		}
		parts = parts[1:]
	}
	for _, sl := range parts {
		in, err := f.inputs.get(ctx, sl.Input, netcdf.Options{MaxChunk: inputChunkLimit(t.MaxMem)})
		if err != nil {
			return 0, err
		}
		strs, err := in.nc.ReadStrings(v.Name, sl.Start, sl.Count)
		f.inputs.put(sl.Input, in)
		if err != nil {
			return 0, fmt.Errorf("input %s: %w", sl.Input.Source, err)
		}
		plan.CopyBlock(chunk, v.Chunks, sl.At, strs, sl.Count, 1)
	}
	b, err := zarr.EncodeStrings(meta, chunk)
	if err != nil {
		return 0, err
	}
	written, err := dst.Write(b)
	return int64(written), err
}

// inputChunkLimit is the largest input chunk a chunk's reads may decode
// under the memory budget: half of it.
func inputChunkLimit(budget int64) int64 { return budgetOf(budget) / 2 }

func partBytes(v *plan.Variable, sl plan.Slice) int64 {
	n := int64(v.ItemSize())
	for _, c := range sl.Count {
		n *= c
	}
	return n
}

// remoteReaders is the least number of parts of a chunk read at once from
// remote inputs, whatever the number of cores: reading them is mostly
// waiting.
const remoteReaders = 8

// readExisting reads, when appending, the steps of chunk key that the store
// already holds from the chunk's object into chunk, and sets the rest of
// the chunk to fill. A missing object (zarr-python leaves out chunks that
// hold only fill) holds nothing but fill.
func (f *storeChunkFn) readExisting(ctx context.Context, concatDim string, v *plan.Variable, key plan.ChunkKey, meta zarr.ArrayMeta, chunk []byte, part plan.Slice) error {
	name := zarr.ChunkKey(key.Var, key.Index)
	data, err := f.store.Get(ctx, name)
	if errors.Is(err, fs.ErrNotExist) {
		plan.Fill(chunk, v.FillBytes()) // the chunk buffer holds the last chunk
		return nil
	}
	if err != nil {
		return fmt.Errorf("the store's %s: %w", name, err)
	}
	old, err := zarr.DecodeChunk(meta, data)
	if err != nil {
		return fmt.Errorf("the store's %s: %w", name, err)
	}
	copy(chunk, old)
	axis := v.ConcatAxis(concatDim)
	plan.FillFrom(chunk, v.Chunks, axis, part.Count[axis], v.ItemSize(), v.FillBytes())
	return nil
}

// readPart reads one part of a chunk into its place in chunk, through
// scratch (returned for reuse) when the part is not one contiguous run.
func (f *storeChunkFn) readPart(ctx context.Context, opts netcdf.Options, v *plan.Variable, chunk []byte, sl plan.Slice, scratch []byte) ([]byte, error) {
	in, err := f.inputs.get(ctx, sl.Input, opts)
	if err != nil {
		return scratch, err
	}
	defer f.inputs.put(sl.Input, in)
	n := partBytes(v, sl)
	start, count := v.InputSlab(sl.Start, sl.Count)
	if off, ok := plan.Run(v.Chunks, sl.At, sl.Count, v.ItemSize()); ok {
		if err := in.nc.Read(v.Name, start, count, chunk[off:off+n]); err != nil {
			return scratch, fmt.Errorf("input %s: %w", sl.Input.Source, err)
		}
		return scratch, nil
	}
	if int64(cap(scratch)) < n {
		scratch = make([]byte, n)
	}
	buf := scratch[:n]
	if err := in.nc.Read(v.Name, start, count, buf); err != nil {
		return scratch, fmt.Errorf("input %s: %w", sl.Input.Source, err)
	}
	plan.CopyBlock(chunk, v.Chunks, sl.At, buf, sl.Count, v.ItemSize())
	return scratch, nil
}
