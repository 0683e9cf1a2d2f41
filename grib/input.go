package grib

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/zarrforge/zarrforge/internal/nd"
	"github.com/zarrforge/zarrforge/source"
)

// fileType is the file type a recipe names GRIB2 files by.
const fileType = "grib2"

func init() {
	source.Register(source.Format{
		Name:       "GRIB2",
		Signature:  "GRIB",
		FileTypes:  []string{fileType},
		Match:      match,
		Open:       Open,
		Groups:     func(io.ReaderAt, int64, string) ([]string, error) { return []string{"/"}, nil },
		FilterKeys: filterKeys,
	})
}

// match reports whether the file behind r starts as a GRIB message does
// (edition 1 too, so that it is refused by name).
func match(r io.ReaderAt, _ int64) bool {
	var b [4]byte
	n, _ := r.ReadAt(b[:], 0)
	return n == 4 && string(b[:]) == "GRIB"
}

// defaultMaxChunk bounds a field's decoded values when the caller does
// not (source.Options.MaxChunk).
const defaultMaxChunk = 1 << 30

// reader is a GRIB2 file read as cfgrib reads it: one hypercube of the
// messages the filter selects.
type reader struct {
	name    string
	r       io.ReaderAt
	dims    []source.Dim
	vars    []source.Var
	attrs   []source.Attr
	coords  map[string]coord    // coordinate variables' values
	cube    map[string]*cubeVar // data variables
	decoded atomic.Int64
}

// coord is a coordinate variable's values, little-endian, its shape, and
// the variable that brought it.
type coord struct {
	values []byte
	shape  []int64
	owner  *cubeVar
}

// Open reads the messages of the GRIB2 file behind r (size bytes; name is
// for messages) that opts.Filter selects as one hypercube, as
// xarray.open_dataset(name, engine="cfgrib", backend_kwargs={"filter_by_keys":
// opts.Filter}) does: variables named by cfVarName, dimensions number
// (ensembles), time, step and the level type, squeezed where they have one
// value, then latitude and longitude. Messages that do not form one are
// refused, naming the keys that differ and the filters that would separate
// them; so are two messages for one cell, which cfgrib drops silently.
func Open(r io.ReaderAt, size int64, name string, opts source.Options) (source.Reader, error) {
	if g := strings.Trim(opts.Group, "/"); g != "" {
		return nil, fmt.Errorf("%s: group %q: a GRIB file has no groups (pattern.grib.filter_by_keys selects messages): %w", name, opts.Group, source.ErrUnsupported)
	}
	limit := opts.MaxChunk
	if limit <= 0 {
		limit = defaultMaxChunk
	}
	fields, err := Scan(r, size, limit+limit/8+1<<20)
	if err != nil {
		return nil, wrap(name, err)
	}
	var recs []*record
	for i := range fields {
		rec, err := newRecord(&fields[i])
		if err != nil {
			return nil, wrap(name, fmt.Errorf("message at byte %d: %w", fields[i].Offset(), err))
		}
		if !rec.matches(opts.Filter) {
			continue
		}
		if int64(fields[i].Grid.Points)*4 > limit {
			return nil, fmt.Errorf("%s: message at byte %d: a field of %d values, more than the %d bytes a chunk may take (target.max_mem): %w",
				name, fields[i].Offset(), fields[i].Grid.Points, limit, source.ErrTooLarge)
		}
		recs = append(recs, &rec)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: none of its %d messages matches filter_by_keys %v", name, len(fields), opts.Filter)
	}
	g := &reader{name: name, r: r, coords: map[string]coord{}, cube: map[string]*cubeVar{}}
	if err := g.build(recs, opts.Filter); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return g, nil
}

// wrap adds the file's name and the source error a grib error is.
func wrap(name string, err error) error {
	switch {
	case errors.Is(err, ErrTooLarge):
		return fmt.Errorf("%s: %w (%w)", name, err, source.ErrTooLarge)
	case errors.Is(err, ErrUnsupported):
		return fmt.Errorf("%s: %w (%w)", name, err, source.ErrUnsupported)
	case errors.Is(err, ErrFormat), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: %w (%w)", name, err, source.ErrFormat)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// build lays the records out as the dataset: a variable a parameter, the
// coordinates they share equal, the global attributes one value each.
func (g *reader) build(recs []*record, filter map[string]string) error {
	if c := distinct(recs, "centre"); len(c) > 1 {
		return notOneCube("the file", "centre", c, filter)
	}
	for _, rs := range byParam(recs) {
		v, err := newCubeVar(rs, filter, recs)
		if err != nil {
			return err
		}
		if o, ok := g.cube[v.name]; ok {
			return fmt.Errorf("parameters %d and %d are both named %s: read them apart with pattern.grib.filter_by_keys {paramId: %d} or {paramId: %d}",
				o.first.param.ID, v.first.param.ID, v.name, o.first.param.ID, v.first.param.ID)
		}
		if err := g.addVar(v); err != nil {
			return err
		}
	}
	g.attrs = globalAttrs(recs[0])
	return nil
}

// addVar adds v and its coordinates, which must equal those of the same
// name other variables have (cfgrib would leave v out).
func (g *reader) addVar(v *cubeVar) error {
	names, vars, values := v.coords()
	for i, cv := range vars {
		if old, ok := g.coords[cv.Name]; ok {
			if !slices.Equal(old.shape, cv.Shape) || string(old.values) != string(values[i]) {
				return fmt.Errorf("messages do not form one hypercube: %s and %s have different %s coordinates (shapes %v and %v): cfgrib would leave %s out; read them apart with pattern.grib.filter_by_keys {shortName: %s} and {shortName: %s}",
					old.owner.name, v.name, cv.Name, old.shape, cv.Shape, v.name, old.owner.first.param.ShortName, v.first.param.ShortName)
			}
			continue
		}
		g.coords[cv.Name] = coord{values: values[i], shape: cv.Shape, owner: v}
		g.vars = append(g.vars, cv)
		if len(cv.Dims) == 1 && cv.Dims[0] == cv.Name {
			g.dims = append(g.dims, source.Dim{Name: cv.Name, Len: cv.Shape[0]})
		}
	}
	dims, shape := v.dims()
	grid := v.first.f.Grid
	chunks := append(slices.Repeat([]int64{1}, len(dims)), int64(grid.Nj), int64(grid.Ni))
	g.vars = append(g.vars, source.Var{
		Name: v.name, Type: source.Float, Dims: append(dims, "latitude", "longitude"),
		Shape: append(shape, int64(grid.Nj), int64(grid.Ni)), Chunks: chunks, Attrs: dataAttrs(v.first, names),
	})
	g.cube[v.name] = v
	return nil
}

func (g *reader) Format() string       { return "GRIB2" }
func (g *reader) FileType() string     { return fileType }
func (g *reader) Dims() []source.Dim   { return slices.Clone(g.dims) }
func (g *reader) Vars() []source.Var   { return slices.Clone(g.vars) }
func (g *reader) Attrs() []source.Attr { return slices.Clone(g.attrs) }
func (g *reader) Decoded() int64       { return g.decoded.Load() }
func (g *reader) variable(name string) (source.Var, bool) {
	i := slices.IndexFunc(g.vars, func(v source.Var) bool { return v.Name == name })
	if i < 0 {
		return source.Var{}, false
	}
	return g.vars[i], true
}

// Read reads a box of a variable: coordinates from memory, data variables
// by decoding the messages the box holds (a cell no message holds is NaN,
// as cfgrib gives it).
func (g *reader) Read(name string, start, count []int64, dst []byte) error {
	v, ok := g.variable(name)
	if !ok {
		return fmt.Errorf("%s: no variable %q", g.name, name)
	}
	n, err := source.CheckBox(v.Shape, start, count)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", g.name, name, err)
	}
	if n *= int64(v.Type.Size()); int64(len(dst)) != n {
		return fmt.Errorf("%s: %s: %d bytes for a box of %d", g.name, name, len(dst), n)
	}
	if c, ok := g.coords[name]; ok {
		nd.CopyBox(dst, count, make([]int64, len(count)), c.values, c.shape, start, count, v.Type.Size())
		return nil
	}
	return g.readData(g.cube[name], start, count, dst)
}

// readData reads the box of data variable v: each field it crosses
// decoded once.
func (g *reader) readData(v *cubeVar, start, count []int64, dst []byte) error {
	k := len(start) - 2
	grid := []int64{int64(v.first.f.Grid.Nj), int64(v.first.f.Grid.Ni)}
	box := count[k] * count[k+1] * 4
	_, shape := v.dims()
	idx := slices.Clone(start[:k])
	for off := int64(0); off < int64(len(dst)); off += box {
		out := dst[off : off+box]
		cell := 0
		for i, x := range idx {
			cell = cell*int(shape[i]) + int(x)
		}
		if err := g.readField(v.cells[cell], grid, start[k:], count[k:], out); err != nil {
			return err
		}
		for i := k - 1; i >= 0; i-- { // the next cell of the box, in C order
			if idx[i]++; idx[i] < start[i]+count[i] {
				break
			}
			idx[i] = start[i]
		}
	}
	return nil
}

// readField writes the box start, count of the field of r (NaN where r is
// nil) as little-endian float32.
func (g *reader) readField(r *record, grid, start, count []int64, out []byte) error {
	if r == nil {
		for i := 0; i < len(out); i += 4 {
			binary.LittleEndian.PutUint32(out[i:], math.Float32bits(float32(math.NaN())))
		}
		return nil
	}
	vals, err := r.f.Load(g.r)
	if err != nil {
		return wrap(g.name, err)
	}
	g.decoded.Add(int64(len(vals)) * 4)
	if int64(len(vals)) != grid[0]*grid[1] {
		return fmt.Errorf("%s: message at byte %d: %d values for a grid of %d x %d", g.name, r.f.Offset(), len(vals), grid[1], grid[0])
	}
	i := 0
	for y := start[0]; y < start[0]+count[0]; y++ {
		for _, x := range vals[y*grid[1]+start[1] : y*grid[1]+start[1]+count[1]] {
			binary.LittleEndian.PutUint32(out[i:], math.Float32bits(x))
			i += 4
		}
	}
	return nil
}

// ReadStrings fails: a GRIB dataset has no string variables.
func (g *reader) ReadStrings(name string, _, _ []int64) ([]string, error) {
	return nil, fmt.Errorf("%s: %s holds no strings", g.name, name)
}

// Layout fails: references to GRIB messages are not written.
func (g *reader) Layout(name string) (source.Layout, error) {
	return source.Layout{}, fmt.Errorf("%s: %s: references to GRIB messages: %w", g.name, name, source.ErrUnsupported)
}
