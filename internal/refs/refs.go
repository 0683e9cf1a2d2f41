// Package refs writes kerchunk reference sets of a dataset, without Beam:
// where each input's chunks lie (Input, an element per input), then the
// set itself, written whole and atomically from them (Write). The
// WriteReferences stage is a Beam wrapper around it.
package refs

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/zarrforge/zarrforge"
	"github.com/zarrforge/zarrforge/internal/inputs"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/kerchunk"
	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/zarr"
)

// Options are a reference set's settings, resolved.
type Options struct {
	// URL is the reference file to write.
	URL string
	// Overwrite replaces an existing file; otherwise one is refused.
	Overwrite bool
	// InlineLimit is the largest array without the concat dimension, in
	// bytes, inlined rather than referenced.
	InlineLimit int64
	// MaxMem bounds an inlined variable's values and an input chunk
	// decoded for one.
	MaxMem int64
	// RecipeHash is recorded in the set's root attributes ("" for none).
	RecipeHash string
}

// Input returns where the values input i of s contributes lie
// in it: the chunks of every variable read from it (see
// plan.Schema.ReadsFrom); small ones of those without a concat dimension
// the inputs have, strings and compact ones inlined (the stage without
// Beam), and how many bytes it read of the input.
func Input(ctx context.Context, pool *inputs.Pool, s *plan.Schema, i int, o Options) (_ plan.InputRefs, fetched int64, err error) {
	if i < 0 || i >= len(s.Inputs) {
		return plan.InputRefs{}, 0, fmt.Errorf("WriteReferences: no input %d", i)
	}
	e := s.Inputs[i]
	budget := o.MaxMem
	in, err := pool.Get(ctx, e.Input, s.ReadOptions(budget))
	if err != nil {
		return plan.InputRefs{}, 0, fmt.Errorf("WriteReferences: %w", err)
	}
	defer func() {
		fetched = in.File.Fetched() // each input is read by one element: its header, indexes and inlined values
		pool.Put(e.Input, in)
	}()
	refs := plan.InputRefs{Input: e.Input}
	inline := o.InlineLimit
	for k := range s.Vars {
		v := &s.Vars[k]
		if !s.ReadsFrom(v, e) || !s.WrittenByChunks(v) {
			continue // another input's, or a concat coordinate (inlined from the schema)
		}
		small := !alongInputs(s, v) && v.BoxBytes(s.PartShape(v, e)) <= inline
		if isBounds(s, v) && s.BoundsDiffer() {
			small = true // re-encoded with the coordinate: its bytes change, so they are inlined
		}
		vr, err := referenceVar(in.Reader, s, v, e, small, budget)
		if err != nil {
			return plan.InputRefs{}, 0, fmt.Errorf("WriteReferences: %w", err)
		}
		refs.Vars = append(refs.Vars, vr)
	}
	return refs, 0, nil
}

// alongInputs reports whether v has a concat dimension that the inputs
// have (not a new one).
func alongInputs(s *plan.Schema, v *plan.Variable) bool {
	return slices.ContainsFunc(s.Concat, func(a plan.Axis) bool { return !a.New && v.ConcatAxis(a.Name) >= 0 })
}

// isBounds reports whether v is the bounds variable of a concat coordinate.
func isBounds(s *plan.Schema, v *plan.Variable) bool {
	for k := range s.Concat {
		if b, ok := s.BoundsVar(k); ok && b.Name == v.Name {
			return true
		}
	}
	return false
}

// referenceVar returns where v's values lie in input e (open as nc), or
// with small set, or for strings and compact layouts, the values
// themselves as one inlined chunk of the input's part of v (bounds of the
// concat coordinate re-encoded as it is).
func referenceVar(nc source.Reader, s *plan.Schema, v *plan.Variable, e plan.Extent, small bool, budget int64) (plan.VarRefs, error) {
	name := v.InputName
	if name == "" {
		name = v.Name
	}
	var layout source.Layout
	if !small && v.Type != source.String {
		var err error
		if layout, err = nc.Layout(name); err != nil {
			return plan.VarRefs{}, err
		}
		if layout.Inline == nil {
			chunks, pieces, err := s.RefPieces(v, e, layout.Chunks, layout.Pieces)
			if err != nil {
				return plan.VarRefs{}, err
			}
			refs := plan.VarRefs{Name: v.Name, BigEndian: layout.BigEndian && v.Type.Size() > 1, Chunks: chunks, Codecs: layout.Codecs, Pieces: pieces}
			return refs, unwritten(s, v, e, layout, &refs, budget)
		}
	}
	// Inlined: the input's part of v, as one chunk.
	shape := s.PartShape(v, e)
	size := v.BoxBytes(shape)
	if v.Type != source.String && size > budget/2 {
		return plan.VarRefs{}, fmt.Errorf("variable %q: %d bytes to inline, more than the memory budget allows", v.Name, size)
	}
	zero := make([]int64, len(shape))
	rname, start, count, _ := v.Read(zero, shape)
	var data []byte
	meta := zarr.ArrayMeta{Shape: shape, Chunks: shape, DType: zarr.Strings}
	inShape := shape[v.Lead:] // as the input holds it
	if v.Type == source.String {
		strs, err := nc.ReadStrings(rname, start, count)
		if err != nil {
			return plan.VarRefs{}, err
		}
		if data, err = zarr.EncodeStrings(meta, strs); err != nil {
			return plan.VarRefs{}, err
		}
	} else {
		data = make([]byte, size)
		if err := nc.Read(rname, start, count, data); err != nil {
			return plan.VarRefs{}, err
		}
		if err := s.RecodeBounds(v, e.Input, data); err != nil {
			return plan.VarRefs{}, err
		}
	}
	chunks, pieces, err := s.RefPieces(v, e, plan.WithWidth(v, inShape), []source.Piece{{Index: make([]int64, len(inShape)+min(int(v.Width), 1))}})
	if err != nil {
		return plan.VarRefs{}, err
	}
	pieces[0].Data = data
	return plan.VarRefs{Name: v.Name, Chunks: chunks, Pieces: pieces}, nil
}

// unwritten adds to refs the chunks of v that input e (whose layout is
// that) never wrote, and the chunk of its fill value they read as: the
// fill encoded through the input's filters, as HDF5 would have stored it,
// so that readers read there what netCDF4-python reads. Chunks of more
// than half the budget, or more than half the budget of fill to inline,
// are refused.
func unwritten(s *plan.Schema, v *plan.Variable, e plan.Extent, layout source.Layout, refs *plan.VarRefs, budget int64) error {
	missing, err := s.Unwritten(v, e, layout.Chunks, layout.Pieces)
	if err != nil || len(missing) == 0 {
		return err
	}
	n := int64(len(layout.Fill)) // bytes of one chunk of fill (HDF5 chunk sizes are 32-bit: no overflow)
	for _, c := range layout.Chunks {
		if n *= c; n > budget/2 {
			return fmt.Errorf("variable %q: input %s: its chunks %v of unwritten fill are more than the memory budget allows", v.Name, e.Input.Source, layout.Chunks)
		}
	}
	if refs.FillChunk, err = layout.FillChunk(); err != nil {
		return fmt.Errorf("variable %q: input %s: %w", v.Name, e.Input.Source, err)
	}
	if total := int64(len(refs.FillChunk)) * int64(len(missing)); total > budget/2 {
		return fmt.Errorf("variable %q: input %s never wrote %d of its chunks; a reference set would inline %d bytes of their fill, "+
			"more than the memory budget allows: convert it as a store (PrepareTarget and StoreChunks, not WriteReferences)", v.Name, e.Input.Source, len(missing), total)
	}
	_, at, err := s.RefPieces(v, e, layout.Chunks, missing)
	if err != nil {
		return err
	}
	for _, p := range at {
		refs.Unwritten = append(refs.Unwritten, p.Index)
	}
	return nil
}

// metaStore holds metadata documents in memory.
type metaStore map[string][]byte

func (m metaStore) Get(_ context.Context, key string) ([]byte, error) {
	if b, ok := m[key]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("%s: %w", key, errNoKey)
}

func (m metaStore) Put(_ context.Context, key string, data []byte) error {
	m[key] = data
	return nil
}

var errNoKey = fmt.Errorf("no such document: %w", fs.ErrNotExist)

// countingWriter counts what goes through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Write writes the reference set of s at o.URL, atomically,
// from the inputs' references that next yields one at a time (the stage
// without Beam): the chunks as they come, then the metadata of every
// array and the group, consolidated. Inputs must agree on how each
// variable's chunks are stored.
func Write(ctx context.Context, o Options, s *plan.Schema, next func(*plan.InputRefs) bool) (plan.Summary, error) {
	dir, file := path.Split(o.URL)
	if dir == "" {
		dir = "."
	}
	st, err := storage.NewStore(ctx, strings.TrimSuffix(dir, "/"))
	if err != nil {
		return plan.Summary{}, fmt.Errorf("WriteReferences: %w", err)
	}
	if !o.Overwrite {
		if ok, err := st.Exists(ctx, file); err != nil || ok {
			if err == nil {
				err = fmt.Errorf("the file exists; set ReferencesConfig.Mode to overwrite to replace it")
			}
			return plan.Summary{}, fmt.Errorf("WriteReferences: %s: %w", o.URL, err)
		}
	}
	var set *refSet
	var size int64
	err = st.PutFrom(ctx, file, func(w io.Writer) error {
		cw := &countingWriter{w: w}
		var err error
		if set, err = newRefSet(s, kerchunk.NewWriter(cw)); err != nil {
			return err
		}
		var one plan.InputRefs
		for next(&one) {
			if err := set.add(ctx, one); err != nil {
				return err
			}
		}
		err = set.finish(ctx, o.RecipeHash)
		size = cw.n
		return err
	})
	if err != nil {
		return plan.Summary{}, fmt.Errorf("WriteReferences: %s: %w", o.URL, err)
	}
	return plan.Summary{URL: o.URL, Arrays: len(s.Vars), Chunks: set.chunks, Bytes: size}, nil
}

// refSet is a reference file being written: the chunks as each input's
// references come (add), then the metadata of every array and of the
// group, consolidated (finish).
type refSet struct {
	s      *plan.Schema
	target zarrplan.Target // the set's arrays' metadata, as a Zarr v2 target has it
	docs   metaStore
	kw     *kerchunk.Writer
	first  map[string]firstRefs // by variable
	chunks int64
}

// firstRefs is how the first input to hold a variable stores it.
type firstRefs struct {
	from plan.Input
	refs plan.VarRefs
}

func newRefSet(s *plan.Schema, kw *kerchunk.Writer) (*refSet, error) {
	r := &refSet{s: s, target: zarrplan.Target{Format: 2, Schema: *s}, docs: metaStore{}, kw: kw, first: map[string]firstRefs{}}
	return r, zarrplan.Resolve(&r.target, "none", 0)
}

// add writes the chunks of one input's references; the first input to hold
// a variable gives its metadata, and the others must store it alike.
func (r *refSet) add(ctx context.Context, one plan.InputRefs) error {
	url, err := referenceURL(one.Input.Source)
	if err != nil {
		return err
	}
	for _, vr := range one.Vars {
		v, ok := r.s.Var(vr.Name)
		if !ok {
			return fmt.Errorf("input %s: no variable %q in the schema", one.Input.Source, vr.Name)
		}
		meta, err := refMeta(&r.target, v, vr)
		if err != nil {
			return err
		}
		if was, ok := r.first[vr.Name]; !ok {
			r.first[vr.Name] = firstRefs{one.Input, vr}
			if err := zarr.WriteArrayMeta(ctx, r.docs, v.Name, meta, zarrplan.ArrayAttrs(v)); err != nil {
				return err
			}
		} else if !sameStorage(was.refs, vr) {
			return fmt.Errorf("variable %q: input %s stores it in chunks %v%s, input %s in chunks %v%s; "+
				"a reference set needs one chunk shape and encoding for every input",
				v.Name, was.from.Source, was.refs.Chunks, describeStorage(was.refs), one.Input.Source, vr.Chunks, describeStorage(vr))
		}
		for _, p := range vr.Pieces {
			key := meta.Key(v.Name, p.Index)
			if p.Data != nil {
				r.kw.Inline(key, p.Data)
			} else {
				r.kw.Ref(key, url, p.Offset, p.Size)
			}
			r.chunks++
		}
		for _, idx := range vr.Unwritten {
			r.kw.Inline(meta.Key(v.Name, idx), vr.FillChunk)
			r.chunks++
		}
	}
	return nil
}

// finish writes the concat coordinates, the metadata of the arrays no
// input held (metadata only), the group with its provenance, and every
// metadata document, then closes the file.
func (r *refSet) finish(ctx context.Context, recipeHash string) error {
	s := r.s
	if err := refCoordinates(ctx, &r.target, r.docs, r.kw); err != nil {
		return err
	}
	names := make([]string, len(s.Vars))
	for i := range s.Vars {
		v := &s.Vars[i]
		names[i] = v.Name
		if _, ok := r.docs[v.Name+"/.zarray"]; ok {
			continue
		}
		meta, err := r.target.ArrayMeta(v)
		if err != nil {
			return err
		}
		meta.Compressor, meta.Chunks = nil, maxOne(v.Shape)
		if err := zarr.WriteArrayMeta(ctx, r.docs, v.Name, meta, zarrplan.ArrayAttrs(v)); err != nil {
			return err
		}
	}
	attrs := append(zarrplan.GroupAttrs(s), zarrplan.Provenance(s, zarrforge.Version, recipeHash)...)
	if err := zarr.WriteGroup(ctx, r.docs, 2, attrs, names); err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(r.docs)) {
		r.kw.Meta(k, r.docs[k])
	}
	return r.kw.Close()
}

// refMeta returns the .zarray metadata of v in a reference set whose
// chunks are stored as vr says.
func refMeta(t *zarrplan.Target, v *plan.Variable, vr plan.VarRefs) (zarr.ArrayMeta, error) {
	meta, err := t.ArrayMeta(v)
	if err != nil {
		return zarr.ArrayMeta{}, err
	}
	meta.Compressor, meta.Chunks, meta.Filters = nil, vr.Chunks, zarrFilters(vr.Codecs)
	if vr.BigEndian {
		meta.DType = ">" + meta.DType[1:]
	}
	return meta, nil
}

// refCoordinates writes the concat coordinates, each inlined whole (as
// the schema holds it: re-encoded in the first input's units, or a new
// dimension's keys).
func refCoordinates(ctx context.Context, t *zarrplan.Target, docs metaStore, kw *kerchunk.Writer) error {
	s := &t.Schema
	for k, a := range s.Concat {
		cv, ok := s.CoordVar(k)
		if !ok {
			continue
		}
		meta, err := t.ArrayMeta(cv)
		if err != nil {
			return err
		}
		meta.Compressor, meta.Chunks = nil, maxOne(cv.Shape)
		if err := zarr.WriteArrayMeta(ctx, docs, cv.Name, meta, zarrplan.ArrayAttrs(cv)); err != nil {
			return err
		}
		chunk := make([]byte, meta.ChunkBytes())
		copy(chunk, a.Coord)
		if a.Labels != nil {
			if chunk, err = zarr.EncodeStrings(meta, a.Labels); err != nil {
				return fmt.Errorf("coordinate %q: %w", cv.Name, err)
			}
		}
		kw.Inline(meta.Key(cv.Name, []int64{0}), chunk)
	}
	return nil
}

// maxOne returns shape with no size below 1 (a chunk shape for an array
// held in one chunk).
func maxOne(shape []int64) []int64 {
	out := make([]int64, len(shape))
	for i, n := range shape {
		out[i] = max(n, 1)
	}
	return out
}

func sameStorage(a, b plan.VarRefs) bool {
	return a.BigEndian == b.BigEndian && slices.Equal(a.Chunks, b.Chunks) && slices.Equal(a.Codecs, b.Codecs) &&
		(len(a.Pieces) == 0 || len(b.Pieces) == 0 || (a.Pieces[0].Data == nil) == (b.Pieces[0].Data == nil))
}

func describeStorage(v plan.VarRefs) string {
	var parts []string
	if v.BigEndian {
		parts = append(parts, "big-endian")
	}
	for _, f := range v.Codecs {
		parts = append(parts, f.ID)
	}
	if len(v.Pieces) > 0 && v.Pieces[0].Data != nil {
		parts = append(parts, "inlined")
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// referenceURL is what a reference set names an input by: its URL, or
// for a local path the absolute path.
func referenceURL(source string) (string, error) {
	if strings.Contains(source, "://") {
		return source, nil
	}
	abs, err := filepath.Abs(source)
	if err != nil {
		return "", fmt.Errorf("input %s: %w", source, err)
	}
	return abs, nil
}

// zarrFilters are an input's codecs as the .zarray's filters.
func zarrFilters(codecs []source.Codec) []zarr.Filter {
	var out []zarr.Filter
	for _, c := range codecs {
		out = append(out, zarr.Filter{ID: c.ID, Level: c.Level, ElementSize: c.ElementSize})
	}
	return out
}
