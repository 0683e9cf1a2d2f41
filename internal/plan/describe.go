package plan

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/zarrforge/zarrforge/source"
)

// InputMeta is what the schema stage learns from one input: its header, the
// values of its concat coordinates and digests of its other dimension
// coordinates.
type InputMeta struct {
	Input  Input
	Format string
	Dims   []source.Dim
	Vars   []source.Var
	Attrs  []source.Attr
	// Coords holds, per concat dimension (in the pattern's order), its
	// coordinate's raw values (little-endian, in the coordinate variable's
	// type); nil when the input has no coordinate variable along it.
	Coords [][]byte
	// CoordSums are SHA-256 digests of the raw values of every other
	// dimension coordinate, used to tell inputs on different grids apart.
	CoordSums []CoordSum
	// AuxCoords are, for an input that lacks a concat dimension, the
	// values of its coordinates that are no dimension's — those a
	// "coordinates" attribute names, and a scalar named as a concat
	// dimension — as hex of their raw bytes (of a SHA-256 digest of them
	// past 64 bytes): where they differ between inputs, they are
	// concatenated along the new concat dimension, as
	// xarray.concat(coords="different") does (see Axis.New).
	AuxCoords []CoordSum
}

// CoordSum is the digest of one dimension coordinate's raw values.
type CoordSum struct {
	Name string
	Sum  string
}

// ConcatLen returns the input's length along a concat dimension: 1 when it
// lacks the dimension (a new one, see Axis.New).
func (m *InputMeta) ConcatLen(concatDim string) int64 {
	if d, ok := m.dim(concatDim); ok {
		return d.Len
	}
	return 1
}

func (m *InputMeta) dim(name string) (source.Dim, bool) {
	for _, d := range m.Dims {
		if d.Name == name {
			return d, true
		}
	}
	return source.Dim{}, false
}

func (m *InputMeta) varByName(name string) (source.Var, bool) {
	for _, v := range m.Vars {
		if v.Name == name {
			return v, true
		}
	}
	return source.Var{}, false
}

// coordAttr returns a text attribute of a concat coordinate ("" if absent).
func (m *InputMeta) coordAttr(concatDim, name string) string {
	v, ok := m.varByName(concatDim)
	if !ok {
		return ""
	}
	a, ok := v.Attr(name)
	if !ok {
		return ""
	}
	s, _ := a.Value.(string)
	return s
}

// CheckStorable checks that every variable of the input, once edited,
// has values, and a type Zarr holds (zarrplan.CheckNames checks their
// names). A recipe's Check and the schema stage check it alike, before any
// chunk is written.
func (m *InputMeta) CheckStorable() error {
	for _, v := range m.Vars {
		if v.NoValues {
			return fmt.Errorf("input %s: variable %q has no values (an empty, null, HDF5 dataspace); drop it (Preprocess.DropVars)",
				m.Input.Source, v.Name)
		}
		if _, ok := dtypes[v.Type]; !ok {
			return fmt.Errorf("input %s: variable %q has type %s, which cannot be stored in Zarr v2", m.Input.Source, v.Name, v.Type)
		}
	}
	return nil
}

// Describe reads what the schema stage needs from an open input, as the
// preprocess edits p make it (before anything is checked: a variable
// dropped cannot fail). The coordinates it reads may take budget bytes
// each, at most.
//
// concat names the concat dimensions. An input may lack one (a new
// dimension, see Axis.New): the merge checks that they all do.
func Describe(in Input, f source.Reader, concat []string, budget int64, p Preprocess) (InputMeta, error) {
	m := InputMeta{Input: in, Format: f.Format(), Dims: f.Dims(), Vars: f.Vars(), Attrs: f.Attrs(), Coords: make([][]byte, len(concat))}
	full := map[string]int64{} // the inputs' dimension sizes, before a selection
	for _, d := range m.Dims {
		full[d.Name] = d.Len
	}
	if err := p.Apply(&m); err != nil {
		return InputMeta{}, err
	}
	if err := m.CheckStorable(); err != nil {
		return InputMeta{}, err
	}
	for _, v := range m.Vars {
		if len(v.Dims) != 1 || v.Dims[0] != v.Name {
			continue
		}
		k := slices.Index(concat, v.Name)
		if v.Type == source.String && k >= 0 {
			return InputMeta{}, fmt.Errorf("input %s: the coordinate %q to concatenate along holds strings, which cannot be concatenated",
				in.Source, v.Name)
		}
		name, dim := p.original(v.Name), p.original(v.Dims[0])
		if n := full[dim] * memSize(v.Type, v.Type.Size()); n > budget || n < 0 {
			return InputMeta{}, fmt.Errorf("input %s: coordinate %q of %d values takes more than the memory budget of %d bytes (TargetConfig.MaxMem): %w",
				in.Source, v.Name, full[dim], budget, source.ErrTooLarge)
		}
		start, step, _, _ := p.sel(dim, full[dim])
		raw, err := coordBytes(f, v, name, full[dim], start, step)
		if err != nil {
			return InputMeta{}, fmt.Errorf("input %s: reading coordinate %q: %w", in.Source, v.Name, err)
		}
		if k >= 0 {
			m.Coords[k] = raw
			continue
		}
		sum := sha256.Sum256(raw)
		m.CoordSums = append(m.CoordSums, CoordSum{Name: v.Name, Sum: hex.EncodeToString(sum[:])})
	}
	if slices.ContainsFunc(concat, func(c string) bool { _, ok := m.dim(c); return !ok }) { // a new dimension
		aux, err := auxCoords(f, &m, concat, budget, p)
		if err != nil {
			return InputMeta{}, err
		}
		m.AuxCoords = aux
	}
	return m, nil
}

// auxCoords reads the values of m's coordinates that are no dimension's
// (InputMeta.AuxCoords), those of at most budget bytes: only for an input
// that lacks a concat dimension, the one case they may be concatenated
// along it.
func auxCoords(f source.Reader, m *InputMeta, concat []string, budget int64, p Preprocess) ([]CoordSum, error) {
	coords := coordNames([]InputMeta{*m})
	var out []CoordSum
	for _, v := range m.Vars {
		scalar := len(v.Dims) == 0 && slices.Contains(concat, v.Name)
		dimCoord := len(v.Dims) == 1 && v.Dims[0] == v.Name
		selected := slices.ContainsFunc(v.Dims, func(d string) bool { _, _, _, ok := p.sel(d, 0); return ok })
		along := slices.ContainsFunc(v.Dims, func(d string) bool { return slices.Contains(concat, d) }) // concatenated as it is
		if v.NoValues || v.Type == source.String || dimCoord || selected || along || !coords[v.Name] && !scalar {
			continue
		}
		n := int64(v.Type.Size())
		for _, s := range v.Shape {
			n *= s
		}
		if n > budget {
			continue
		}
		raw := make([]byte, n)
		if err := f.Read(p.original(v.Name), make([]int64, len(v.Shape)), v.Shape, raw); err != nil {
			return nil, fmt.Errorf("input %s: reading coordinate %q: %w", m.Input.Source, v.Name, err)
		}
		if len(raw) > 64 {
			sum := sha256.Sum256(raw)
			raw = sum[:]
		}
		out = append(out, CoordSum{Name: v.Name, Sum: hex.EncodeToString(raw)})
	}
	return out, nil
}

// coordBytes reads the values of dimension coordinate v, called name in
// the file where it has n values, that a selection from start by step
// keeps: raw, or for strings each one's length and bytes.
func coordBytes(f source.Reader, v source.Var, name string, n, start, step int64) ([]byte, error) {
	keep := func(i int64) bool { return i >= start && (i-start)%step == 0 && (i-start)/step < v.Shape[0] }
	if v.Type == source.String {
		strs, err := f.ReadStrings(name, []int64{0}, []int64{n})
		var raw []byte
		for i, s := range strs {
			if keep(int64(i)) {
				raw = binary.LittleEndian.AppendUint64(raw, uint64(len(s)))
				raw = append(raw, s...)
			}
		}
		return raw, err
	}
	size := int64(v.Type.Size())
	all := make([]byte, n*size)
	if err := f.Read(name, []int64{0}, []int64{n}, all); err != nil {
		return nil, err
	}
	if start == 0 && step == 1 && n == v.Shape[0] {
		return all, nil
	}
	raw := make([]byte, 0, v.Shape[0]*size)
	for i := range n {
		if keep(i) {
			raw = append(raw, all[i*size:(i+1)*size]...)
		}
	}
	return raw, nil
}
