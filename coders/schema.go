package coders

import (
	"fmt"
	"maps"
	"slices"

	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/zarr"
)

// encodeMerger encodes the schema stage's accumulator.
func encodeMerger(g plan.Merger) ([]byte, error) {
	var w writer
	w.uvarint(uint64(len(g.Reps)))
	for _, m := range g.Reps {
		if err := putInputMeta(&w, m); err != nil {
			return nil, err
		}
	}
	w.uvarint(uint64(len(g.Parts)))
	for _, p := range g.Parts {
		putInput(&w, p.Input)
		w.uvarint(uint64(len(p.Axes)))
		for _, a := range p.Axes {
			w.varint(a.Len)
			w.string(a.Units)
			w.string(a.Calendar)
			w.int(int(a.CoordType))
			putOptBytes(&w, a.Coord)
		}
		putSums(&w, p.AuxCoords)
	}
	w.uvarint(uint64(len(g.Stored)))
	for _, c := range g.Stored {
		w.string(c.Var)
		w.int64s(c.Chunks)
	}
	return w.b, nil
}

// decodeMerger decodes what encodeMerger wrote.
func decodeMerger(b []byte) (plan.Merger, error) {
	r := reader{b: b}
	var g plan.Merger
	if n := r.count(8); n > 0 {
		g.Reps = make([]plan.InputMeta, n)
		for i := range g.Reps {
			g.Reps[i] = getInputMeta(&r)
		}
	}
	if n := r.count(9); n > 0 {
		g.Parts = make([]plan.Part, n)
		for i := range g.Parts {
			p := plan.Part{Input: getInput(&r)}
			if n := r.count(5); n > 0 {
				p.Axes = make([]plan.PartAxis, n)
				for k := range p.Axes {
					p.Axes[k] = plan.PartAxis{Len: r.varint(), Units: r.string(), Calendar: r.string(),
						CoordType: source.Type(r.int()), Coord: getOptBytes(&r)}
				}
			}
			p.AuxCoords = getSums(&r)
			g.Parts[i] = p
		}
	}
	if n := r.count(2); n > 0 {
		g.Stored = make([]plan.StoredChunks, n)
		for i := range g.Stored {
			g.Stored[i] = plan.StoredChunks{Var: r.string(), Chunks: r.int64s()}
		}
	}
	return g, r.done("schema accumulator")
}

// encodeSchema encodes a plan.Schema.
func encodeSchema(s plan.Schema) ([]byte, error) {
	var w writer
	if err := putSchema(&w, s); err != nil {
		return nil, err
	}
	return w.b, nil
}

// decodeSchema decodes what encodeSchema wrote.
func decodeSchema(b []byte) (plan.Schema, error) {
	r := reader{b: b}
	s := getSchema(&r)
	return s, r.done("schema")
}

func putSchema(w *writer, s plan.Schema) error {
	w.uvarint(uint64(len(s.Concat)))
	for _, a := range s.Concat {
		w.string(a.Name)
		w.bool(a.New)
		putOptBytes(w, a.Coord)
		w.strings(a.Labels)
	}
	w.uvarint(uint64(len(s.Dims)))
	for _, d := range s.Dims {
		w.string(d.Name)
		w.varint(d.Size)
	}
	if err := putAttrs(w, s.Attrs); err != nil {
		return fmt.Errorf("coders: global attributes: %w", err)
	}
	w.uvarint(uint64(len(s.Vars)))
	for _, v := range s.Vars {
		w.string(v.Name)
		w.int(int(v.Type))
		w.strings(v.Dims)
		w.int64s(v.Shape)
		if err := putAttrs(w, v.Attrs); err != nil {
			return fmt.Errorf("coders: variable %q: %w", v.Name, err)
		}
		w.ints(v.Merge)
		w.int64s(v.Chunks)
		w.int64s(v.Inner)
		w.varint(v.Width)
		w.int(v.Lead)
		w.int64s(v.SourceChunks)
		w.string(v.InputName)
		w.uvarint(uint64(len(v.Sel)))
		for _, st := range v.Sel {
			w.varint(st.Start)
			w.varint(st.Step)
		}
	}
	w.uvarint(uint64(len(s.Inputs)))
	for _, e := range s.Inputs {
		putInput(w, e.Input)
		w.uvarint(uint64(len(e.Spans)))
		for _, sp := range e.Spans {
			w.varint(sp.Offset)
			w.varint(sp.Len)
			w.string(sp.Units)
			w.string(sp.Calendar)
		}
	}
	w.varint(s.Base)
	w.string(s.Group)
	putFilter(w, s.Filter)
	return nil
}

// putFilter writes a filter's keys in order, then their values.
func putFilter(w *writer, f map[string]string) {
	keys := slices.Sorted(maps.Keys(f))
	w.strings(keys)
	for _, k := range keys {
		w.string(f[k])
	}
}

func getFilter(r *reader) map[string]string {
	keys := r.strings()
	if len(keys) == 0 {
		return nil
	}
	f := make(map[string]string, len(keys))
	for _, k := range keys {
		f[k] = r.string()
	}
	return f
}

func getSchema(r *reader) plan.Schema {
	var s plan.Schema
	if n := r.count(4); n > 0 {
		s.Concat = make([]plan.Axis, n)
		for k := range s.Concat {
			s.Concat[k] = plan.Axis{Name: r.string(), New: r.bool(), Coord: getOptBytes(r), Labels: r.strings()}
		}
	}
	if n := r.count(2); n > 0 {
		s.Dims = make([]plan.Dim, n)
		for i := range s.Dims {
			s.Dims[i] = plan.Dim{Name: r.string(), Size: r.varint()}
		}
	}
	s.Attrs = getAttrs(r)
	if n := r.count(7); n > 0 {
		s.Vars = make([]plan.Variable, n)
		for i := range s.Vars {
			s.Vars[i] = plan.Variable{Name: r.string(), Type: source.Type(r.int()), Dims: r.strings(), Shape: r.int64s(),
				Attrs: getAttrs(r), Merge: r.ints(), Chunks: r.int64s(), Inner: r.int64s(), Width: r.varint(), Lead: r.int(), SourceChunks: r.int64s(), InputName: r.string()}
			if n := r.count(2); n > 0 {
				v := &s.Vars[i]
				v.Sel = make([]plan.Step, n)
				for k := range v.Sel {
					v.Sel[k] = plan.Step{Start: r.varint(), Step: r.varint()}
				}
			}
		}
	}
	if n := r.count(8); n > 0 {
		s.Inputs = make([]plan.Extent, n)
		for i := range s.Inputs {
			e := plan.Extent{Input: getInput(r)}
			if n := r.count(4); n > 0 {
				e.Spans = make([]plan.Span, n)
				for k := range e.Spans {
					e.Spans[k] = plan.Span{Offset: r.varint(), Len: r.varint(), Units: r.string(), Calendar: r.string()}
				}
			}
			s.Inputs[i] = e
		}
	}
	s.Base = r.varint()
	s.Group = r.string()
	s.Filter = getFilter(r)
	return s
}

// encodeTarget encodes a zarrplan.Target.
func encodeTarget(t zarrplan.Target) ([]byte, error) {
	var w writer
	w.string(t.URL)
	w.int(t.Format)
	w.string(t.Run)
	w.varint(t.MaxMem)
	if err := putSchema(&w, t.Schema); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(t.Arrays))
	for name := range t.Arrays {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic
	w.strings(names)
	for _, name := range names {
		if err := putArrayMeta(&w, t.Arrays[name]); err != nil {
			return nil, fmt.Errorf("coders: array %q: %w", name, err)
		}
	}
	w.string(t.RecipeHash)
	w.string(t.Group)
	return w.b, nil
}

func putArrayMeta(w *writer, m zarr.ArrayMeta) error {
	w.int(m.Format)
	w.int64s(m.Shape)
	w.int64s(m.Chunks)
	w.int64s(m.Inner)
	w.string(string(m.DType))
	w.bool(m.Compressor != nil)
	if c := m.Compressor; c != nil {
		w.string(c.ID)
		w.int(c.Level)
		w.string(c.CName)
		w.int(c.Shuffle)
	}
	for _, f := range []any{m.FillValue, m.EmptyFill} {
		if err := putFill(w, f); err != nil {
			return err
		}
	}
	w.bool(m.Dims != nil)
	w.strings(m.Dims)
	return nil
}

func getArrayMeta(r *reader) zarr.ArrayMeta {
	m := zarr.ArrayMeta{Format: r.int(), Shape: r.int64s(), Chunks: r.int64s(), Inner: r.int64s(), DType: zarr.DType(r.string())}
	if m.Shape == nil {
		m.Shape, m.Chunks = []int64{}, []int64{}
	}
	if r.bool() {
		m.Compressor = &zarr.Compressor{ID: r.string(), Level: r.int(), CName: r.string(), Shuffle: r.int()}
	}
	m.FillValue, m.EmptyFill = getFill(r), getFill(r)
	if r.bool() {
		m.Dims = r.strings()
		if m.Dims == nil {
			m.Dims = []string{}
		}
	}
	return m
}

// Fill value kinds, as zarr.ArrayMeta holds them.
const (
	fillNone = iota
	fillInt
	fillUint
	fillFloat
	fillString
)

func putFill(w *writer, v any) error {
	switch x := v.(type) {
	case nil:
		w.int(fillNone)
	case int64:
		w.int(fillInt)
		w.varint(x)
	case uint64:
		w.int(fillUint)
		w.uvarint(x)
	case float64:
		w.int(fillFloat)
		w.float64(x)
	case string:
		w.int(fillString)
		w.string(x)
	default:
		return fmt.Errorf("fill value of Go type %T", v)
	}
	return nil
}

func getFill(r *reader) any {
	switch k := r.int(); k {
	case fillNone:
		return nil
	case fillInt:
		return r.varint()
	case fillUint:
		return r.uvarint()
	case fillFloat:
		return r.float64()
	case fillString:
		return r.string()
	default:
		r.fail(fmt.Errorf("fill value kind %d", k))
		return nil
	}
}

// decodeTarget decodes what encodeTarget wrote.
func decodeTarget(b []byte) (zarrplan.Target, error) {
	r := reader{b: b}
	t := zarrplan.Target{URL: r.string(), Format: r.int(), Run: r.string(), MaxMem: r.varint()}
	t.Schema = getSchema(&r)
	if names := r.strings(); len(names) > 0 {
		t.Arrays = make(map[string]zarr.ArrayMeta, len(names))
		for _, name := range names {
			t.Arrays[name] = getArrayMeta(&r)
		}
	}
	t.RecipeHash = r.string()
	t.Group = r.string()
	return t, r.done("target")
}

// encodeReadGroup encodes a plan.ReadGroup, the key StoreChunks shuffles.
func encodeReadGroup(g plan.ReadGroup) []byte {
	var w writer
	w.string(g.Var)
	w.int64s(g.Index)
	w.int64s(g.Count)
	return w.b
}

// decodeReadGroup decodes what encodeReadGroup wrote.
func decodeReadGroup(b []byte) (plan.ReadGroup, error) {
	r := reader{b: b}
	g := plan.ReadGroup{Var: r.string(), Index: r.int64s(), Count: r.int64s()}
	return g, r.done("read group")
}

// encodeWriteResult encodes a plan.WriteResult.
func encodeWriteResult(res plan.WriteResult) []byte {
	var w writer
	w.string(res.Key.Var)
	w.int64s(res.Key.Index)
	w.varint(res.Bytes)
	return w.b
}

// decodeWriteResult decodes what encodeWriteResult wrote.
func decodeWriteResult(b []byte) (plan.WriteResult, error) {
	r := reader{b: b}
	res := plan.WriteResult{Key: plan.ChunkKey{Var: r.string(), Index: r.int64s()}, Bytes: r.varint()}
	return res, r.done("write result")
}

// encodeTotals encodes a plan.Totals.
func encodeTotals(t plan.Totals) []byte {
	var w writer
	w.varint(t.Chunks)
	w.varint(t.Bytes)
	return w.b
}

// decodeTotals decodes what encodeTotals wrote.
func decodeTotals(b []byte) (plan.Totals, error) {
	r := reader{b: b}
	t := plan.Totals{Chunks: r.varint(), Bytes: r.varint()}
	return t, r.done("totals")
}

// encodeSummary encodes a plan.Summary.
func encodeSummary(s plan.Summary) []byte {
	var w writer
	w.string(s.URL)
	w.int(s.Arrays)
	w.varint(s.Chunks)
	w.varint(s.Bytes)
	return w.b
}

// decodeSummary decodes what encodeSummary wrote.
func decodeSummary(b []byte) (plan.Summary, error) {
	r := reader{b: b}
	s := plan.Summary{URL: r.string(), Arrays: r.int(), Chunks: r.varint(), Bytes: r.varint()}
	return s, r.done("summary")
}

// encodeInputRefs encodes a plan.InputRefs.
func encodeInputRefs(in plan.InputRefs) []byte {
	var w writer
	putInput(&w, in.Input)
	w.uvarint(uint64(len(in.Vars)))
	for _, v := range in.Vars {
		w.string(v.Name)
		w.bool(v.BigEndian)
		w.int64s(v.Chunks)
		w.uvarint(uint64(len(v.Codecs)))
		for _, f := range v.Codecs {
			w.string(f.ID)
			w.int(f.Level)
			w.int(f.ElementSize)
		}
		w.uvarint(uint64(len(v.Pieces)))
		for _, p := range v.Pieces {
			w.int64s(p.Index)
			w.varint(p.Offset)
			w.varint(p.Size)
			putOptBytes(&w, p.Data)
		}
		w.uvarint(uint64(len(v.Unwritten)))
		for _, idx := range v.Unwritten {
			w.int64s(idx)
		}
		putOptBytes(&w, v.FillChunk)
	}
	return w.b
}

// decodeInputRefs decodes what encodeInputRefs wrote.
func decodeInputRefs(b []byte) (plan.InputRefs, error) {
	r := reader{b: b}
	in := plan.InputRefs{Input: getInput(&r)}
	if n := r.count(4); n > 0 {
		in.Vars = make([]plan.VarRefs, n)
		for i := range in.Vars {
			v := &in.Vars[i]
			v.Name, v.BigEndian, v.Chunks = r.string(), r.bool(), r.int64s()
			if v.Chunks == nil {
				v.Chunks = []int64{}
			}
			if n := r.count(3); n > 0 {
				v.Codecs = make([]source.Codec, n)
				for k := range v.Codecs {
					v.Codecs[k] = source.Codec{ID: r.string(), Level: r.int(), ElementSize: r.int()}
				}
			}
			if n := r.count(4); n > 0 {
				v.Pieces = make([]plan.RefPiece, n)
				for k := range v.Pieces {
					p := &v.Pieces[k]
					p.Index, p.Offset, p.Size = r.int64s(), r.varint(), r.varint()
					if p.Index == nil {
						p.Index = []int64{}
					}
					p.Data = getOptBytes(&r)
				}
			}
			if n := r.count(1); n > 0 {
				v.Unwritten = make([][]int64, n)
				for k := range v.Unwritten {
					if v.Unwritten[k] = r.int64s(); v.Unwritten[k] == nil {
						v.Unwritten[k] = []int64{}
					}
				}
			}
			v.FillChunk = getOptBytes(&r)
		}
	}
	return in, r.done("input references")
}
