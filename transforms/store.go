package transforms

import (
	"context"
	"fmt"

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

// storeChunkFn assembles and writes one chunk.
type storeChunkFn struct {
	inputs  *openInputs
	store   *storage.Store
	chunks  beam.Counter
	written beam.Counter
}

func (f *storeChunkFn) Setup() {
	f.inputs = newOpenInputs(8)
	f.chunks = beam.NewCounter(counterNamespace, "chunks_written")
	f.written = beam.NewCounter(counterNamespace, "chunk_bytes_written")
}

func (f *storeChunkFn) Teardown() {
	f.inputs.closeAll()
}

func (f *storeChunkFn) ProcessElement(ctx context.Context, key plan.ChunkKey, t plan.Target) (plan.WriteResult, error) {
	v, ok := t.Schema.Var(key.Var)
	if !ok {
		return plan.WriteResult{}, fmt.Errorf("StoreChunks: chunk %s: no such variable in the schema", key)
	}
	meta, err := t.ArrayMeta(v)
	if err != nil {
		return plan.WriteResult{}, fmt.Errorf("StoreChunks: %w", err)
	}
	raw, err := f.assemble(ctx, &t.Schema, v, key)
	if err != nil {
		return plan.WriteResult{}, fmt.Errorf("StoreChunks: chunk %s: %w", key, err)
	}
	enc, err := zarr.EncodeChunk(meta, raw)
	if err != nil {
		return plan.WriteResult{}, fmt.Errorf("StoreChunks: chunk %s: %w", key, err)
	}
	if f.store == nil || f.store.URL() != t.URL {
		if f.store, err = storage.NewStore(ctx, t.URL); err != nil {
			return plan.WriteResult{}, fmt.Errorf("StoreChunks: %w", err)
		}
	}
	if err := f.store.Put(ctx, zarr.ChunkKey(key.Var, key.Index), enc); err != nil {
		return plan.WriteResult{}, fmt.Errorf("StoreChunks: chunk %s: %w", key, err)
	}
	f.chunks.Inc(ctx, 1)
	f.written.Inc(ctx, int64(len(enc)))
	return plan.WriteResult{Key: key, Bytes: int64(len(enc))}, nil
}

// assemble reads the parts of chunk key from the inputs that hold them into
// one full-size chunk buffer (edges padded with the fill value).
func (f *storeChunkFn) assemble(ctx context.Context, s *plan.Schema, v *plan.Variable, key plan.ChunkKey) ([]byte, error) {
	start, count := v.Region(key.Index)
	size := int64(v.ItemSize())
	for _, c := range v.Chunks {
		size *= c
	}
	chunk := make([]byte, size)
	if !plan.Covers(v, count) {
		plan.Fill(chunk, v.FillBytes())
	}
	slices, err := s.Sources(v, start, count)
	if err != nil {
		return nil, err
	}
	direct := len(slices) == 1 && plan.Covers(v, count)
	for _, sl := range slices {
		nc, err := f.inputs.open(ctx, sl.Input)
		if err != nil {
			return nil, err
		}
		buf := chunk
		if !direct {
			n := int64(v.ItemSize())
			for _, c := range sl.Count {
				n *= c
			}
			buf = make([]byte, n)
		}
		if err := nc.Read(v.Name, sl.Start, sl.Count, buf); err != nil {
			return nil, fmt.Errorf("input %s: %w", sl.Input.Source, err)
		}
		if !direct {
			plan.CopyBlock(chunk, v.Chunks, sl.At, buf, sl.Count, v.ItemSize())
		}
	}
	return chunk, nil
}

// openInputs keeps the most recently used inputs open, so a worker writing
// neighbouring chunks parses each input's header once.
type openInputs struct {
	max   int
	order []string // most recent last
	files map[string]openInput
}

type openInput struct {
	r  storage.Reader
	nc netcdf.File
}

func newOpenInputs(max int) *openInputs {
	return &openInputs{max: max, files: map[string]openInput{}}
}

func (o *openInputs) open(ctx context.Context, in plan.Input) (netcdf.File, error) {
	if f, ok := o.files[in.URL]; ok {
		o.touch(in.URL)
		return f.nc, nil
	}
	r, err := storage.OpenReader(ctx, in.URL)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", in.Source, err)
	}
	nc, err := netcdf.Open(r, r.Size(), in.Source)
	if err != nil {
		r.Close()
		return nil, err
	}
	if len(o.order) >= o.max {
		old := o.order[0]
		o.order = o.order[1:]
		o.files[old].r.Close()
		delete(o.files, old)
	}
	o.files[in.URL] = openInput{r: r, nc: nc}
	o.order = append(o.order, in.URL)
	return nc, nil
}

func (o *openInputs) touch(url string) {
	for i, u := range o.order {
		if u == url {
			o.order = append(append(o.order[:i:i], o.order[i+1:]...), url)
			return
		}
	}
}

func (o *openInputs) closeAll() {
	for _, f := range o.files {
		f.r.Close()
	}
	o.files, o.order = map[string]openInput{}, nil
}
