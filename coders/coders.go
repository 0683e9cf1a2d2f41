// Package coders provides the Beam coders of the values that flow between
// zarrforge's stages (the plan package's element types). Importing it
// registers them with beam.RegisterCoder; the transforms package does so, so
// users never need to.
//
// The encoding is a compact, deterministic binary form (varints,
// length-prefixed strings and bytes). Deterministic matters: Beam compares
// encoded keys, and a retried bundle must produce the same bytes.
package coders

import (
	"fmt"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/source"
)

func init() {
	beam.RegisterCoder(reflect.TypeOf(plan.Input{}), encodeInput, decodeInput)
	beam.RegisterCoder(reflect.TypeOf(plan.InputMeta{}), encodeInputMeta, decodeInputMeta)
	beam.RegisterCoder(reflect.TypeOf(plan.Merger{}), encodeMerger, decodeMerger)
	beam.RegisterCoder(reflect.TypeOf(plan.Schema{}), encodeSchema, decodeSchema)
	beam.RegisterCoder(reflect.TypeOf(zarrplan.Target{}), encodeTarget, decodeTarget)
	beam.RegisterCoder(reflect.TypeOf(plan.ReadGroup{}), encodeReadGroup, decodeReadGroup)
	beam.RegisterCoder(reflect.TypeOf(plan.WriteResult{}), encodeWriteResult, decodeWriteResult)
	beam.RegisterCoder(reflect.TypeOf(plan.Totals{}), encodeTotals, decodeTotals)
	beam.RegisterCoder(reflect.TypeOf(plan.Summary{}), encodeSummary, decodeSummary)
	beam.RegisterCoder(reflect.TypeOf(plan.InputRefs{}), encodeInputRefs, decodeInputRefs)
}

// encodeInput encodes a plan.Input.
func encodeInput(in plan.Input) []byte {
	var w writer
	putInput(&w, in)
	return w.b
}

// decodeInput decodes what encodeInput wrote.
func decodeInput(b []byte) (plan.Input, error) {
	r := reader{b: b}
	in := getInput(&r)
	return in, r.done("input")
}

func putInput(w *writer, in plan.Input) {
	w.ints(in.Index.Concat)
	w.ints(in.Index.Merge)
	w.string(in.Source)
	w.string(in.URL)
	w.string(in.Version)
}

func getInput(r *reader) plan.Input {
	var in plan.Input
	in.Index.Concat = r.ints()
	in.Index.Merge = r.ints()
	in.Source = r.string()
	in.URL = r.string()
	in.Version = r.string()
	return in
}

// encodeInputMeta encodes a plan.InputMeta.
func encodeInputMeta(m plan.InputMeta) ([]byte, error) {
	var w writer
	if err := putInputMeta(&w, m); err != nil {
		return nil, err
	}
	return w.b, nil
}

// decodeInputMeta decodes what encodeInputMeta wrote.
func decodeInputMeta(b []byte) (plan.InputMeta, error) {
	r := reader{b: b}
	m := getInputMeta(&r)
	return m, r.done("input metadata")
}

func putInputMeta(w *writer, m plan.InputMeta) error {
	putInput(w, m.Input)
	w.string(m.Format)
	w.uvarint(uint64(len(m.Dims)))
	for _, d := range m.Dims {
		w.string(d.Name)
		w.varint(d.Len)
		w.bool(d.Unlimited)
	}
	w.uvarint(uint64(len(m.Vars)))
	for _, v := range m.Vars {
		w.string(v.Name)
		w.int(int(v.Type))
		w.strings(v.Dims)
		w.int64s(v.Shape)
		w.int64s(v.Chunks)
		w.bool(v.NoValues)
		if err := putAttrs(w, v.Attrs); err != nil {
			return fmt.Errorf("coders: variable %q: %w", v.Name, err)
		}
	}
	if err := putAttrs(w, m.Attrs); err != nil {
		return fmt.Errorf("coders: global attributes: %w", err)
	}
	w.uvarint(uint64(len(m.Coords)))
	for _, c := range m.Coords {
		putOptBytes(w, c)
	}
	putSums(w, m.CoordSums)
	putSums(w, m.AuxCoords)
	return nil
}

// putSums encodes coordinate digests.
func putSums(w *writer, sums []plan.CoordSum) {
	w.uvarint(uint64(len(sums)))
	for _, c := range sums {
		w.string(c.Name)
		w.string(c.Sum)
	}
}

func getSums(r *reader) []plan.CoordSum {
	n := r.count(2)
	if n == 0 {
		return nil
	}
	out := make([]plan.CoordSum, n)
	for i := range out {
		out[i] = plan.CoordSum{Name: r.string(), Sum: r.string()}
	}
	return out
}

func getInputMeta(r *reader) plan.InputMeta {
	var m plan.InputMeta
	m.Input = getInput(r)
	m.Format = r.string()
	if n := r.count(3); n > 0 {
		m.Dims = make([]source.Dim, n)
		for i := range m.Dims {
			m.Dims[i] = source.Dim{Name: r.string(), Len: r.varint(), Unlimited: r.bool()}
		}
	}
	if n := r.count(5); n > 0 {
		m.Vars = make([]source.Var, n)
		for i := range m.Vars {
			m.Vars[i] = source.Var{Name: r.string(), Type: source.Type(r.int()), Dims: r.strings(), Shape: r.int64s(), Chunks: r.int64s(), NoValues: r.bool(), Attrs: getAttrs(r)}
		}
	}
	m.Attrs = getAttrs(r)
	if n := r.count(2); n > 0 {
		m.Coords = make([][]byte, n)
		for i := range m.Coords {
			m.Coords[i] = getOptBytes(r)
		}
	}
	m.CoordSums = getSums(r)
	m.AuxCoords = getSums(r)
	return m
}

// putOptBytes encodes bytes that may be nil (nil and empty differ).
func putOptBytes(w *writer, b []byte) {
	w.bool(b != nil)
	if b != nil {
		w.bytes(b)
	}
}

func getOptBytes(r *reader) []byte {
	if !r.bool() {
		return nil
	}
	return r.bytes() // not nil, even when empty
}

// putAttrs encodes attributes: name, type, then the value (text for Char,
// a list of strings for String, raw little-endian values otherwise).
func putAttrs(w *writer, attrs []source.Attr) error {
	w.uvarint(uint64(len(attrs)))
	for _, a := range attrs {
		w.string(a.Name)
		w.int(int(a.Type))
		switch v := a.Value.(type) {
		case string:
			w.string(v)
		case []string:
			w.strings(v)
		default:
			raw, err := a.Raw()
			if err != nil {
				return err
			}
			w.bytes(raw)
		}
	}
	return nil
}

func getAttrs(r *reader) []source.Attr {
	n := r.count(3)
	if n == 0 {
		return nil
	}
	attrs := make([]source.Attr, n)
	for i := range attrs {
		a := source.Attr{Name: r.string(), Type: source.Type(r.int())}
		switch a.Type {
		case source.Char:
			a.Value = r.string()
		case source.String:
			a.Value = r.strings()
		default:
			v, err := source.AttrFromRaw(a.Name, a.Type, r.bytes())
			if err != nil {
				r.fail(err)
			}
			a.Value = v.Value
		}
		attrs[i] = a
	}
	return attrs
}
