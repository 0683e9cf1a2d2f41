package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/zarrforge/zarrforge/netcdf"
)

// InputMeta is what the schema stage learns from one input: its header, the
// values of its concat coordinate and digests of its other dimension
// coordinates.
type InputMeta struct {
	Input  Input
	Format string
	Dims   []netcdf.Dim
	Vars   []netcdf.Var
	Attrs  []netcdf.Attr
	// Coord holds the concat coordinate's raw values (little-endian, in the
	// coordinate variable's type); nil when the concat dimension has no
	// coordinate variable.
	Coord []byte
	// CoordSums are SHA-256 digests of the raw values of every other
	// dimension coordinate, used to tell inputs on different grids apart.
	CoordSums []CoordSum
}

// CoordSum is the digest of one dimension coordinate's raw values.
type CoordSum struct {
	Name string
	Sum  string
}

// ConcatLen returns the input's length along the concat dimension.
func (m *InputMeta) ConcatLen(concatDim string) int64 {
	for _, d := range m.Dims {
		if d.Name == concatDim {
			return d.Len
		}
	}
	return 0
}

func (m *InputMeta) dim(name string) (netcdf.Dim, bool) {
	for _, d := range m.Dims {
		if d.Name == name {
			return d, true
		}
	}
	return netcdf.Dim{}, false
}

func (m *InputMeta) varByName(name string) (netcdf.Var, bool) {
	for _, v := range m.Vars {
		if v.Name == name {
			return v, true
		}
	}
	return netcdf.Var{}, false
}

// coordAttr returns a text attribute of the concat coordinate ("" if absent).
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

// Describe reads what the schema stage needs from an open input.
func Describe(in Input, f netcdf.File, concatDim string) (InputMeta, error) {
	m := InputMeta{Input: in, Format: f.Format(), Dims: f.Dims(), Vars: f.Vars(), Attrs: f.Attrs()}
	if _, ok := m.dim(concatDim); !ok {
		return InputMeta{}, fmt.Errorf("input %s: no dimension %q to concatenate along (its dimensions: %s)",
			in.Source, concatDim, netcdfDimList(m.Dims))
	}
	for _, v := range m.Vars {
		if v.Type.Size() == 0 {
			return InputMeta{}, fmt.Errorf("input %s: variable %q has type %s, which cannot be stored in Zarr v2 yet",
				in.Source, v.Name, v.Type)
		}
		if len(v.Dims) != 1 || v.Dims[0] != v.Name {
			continue
		}
		raw := make([]byte, v.Shape[0]*int64(v.Type.Size()))
		if err := f.Read(v.Name, []int64{0}, []int64{v.Shape[0]}, raw); err != nil {
			return InputMeta{}, fmt.Errorf("input %s: reading coordinate %q: %w", in.Source, v.Name, err)
		}
		if v.Name == concatDim {
			m.Coord = raw
			continue
		}
		sum := sha256.Sum256(raw)
		m.CoordSums = append(m.CoordSums, CoordSum{Name: v.Name, Sum: hex.EncodeToString(sum[:])})
	}
	return m, nil
}

func netcdfDimList(dims []netcdf.Dim) string {
	ds := make([]Dim, len(dims))
	for i, d := range dims {
		ds[i] = Dim{d.Name, d.Len}
	}
	return dimList(ds)
}
