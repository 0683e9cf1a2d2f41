package netcdf

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/zarrforge/zarrforge/hdf5"
	"github.com/zarrforge/zarrforge/source"
)

// nc4 is a netCDF-4 file: the root group of an HDF5 file (or the group
// Options.Group names, read as the file), with HDF5 dimension scales
// mapped back to named netCDF dimensions.
type nc4 struct {
	h    *hdf5.File
	name string
	// phonyBase is the number of the first phony dimension: netCDF-C
	// numbers them across the file (see phonyCounter).
	phonyBase int
	dims      []Dim
	vars      []Var
	attrs     []Attr
	data      map[string]*nc4Var
}

// nc4Var is what Read needs of a variable.
type nc4Var struct {
	ds   *hdf5.Dataset
	fill []byte // little-endian fill value for elements beyond the dataset's extent
}

// dimPrefix starts the NAME attribute of a dimension scale that is a
// dimension without a coordinate variable.
const dimPrefix = "This is a netCDF dimension but not a netCDF variable"

// hiddenAttrs are the attributes netCDF-C keeps to itself.
var hiddenAttrs = map[string]bool{
	"CLASS": true, "NAME": true, "REFERENCE_LIST": true, "DIMENSION_LIST": true,
	"_Netcdf4Dimid": true, "_Netcdf4Coordinates": true, "_NCProperties": true,
	"_nc3_strict": true, "_IsNetcdf4": true, "_SuperblockVersion": true,
}

func openHDF5(r io.ReaderAt, size int64, name string, opts Options) (File, error) {
	h, err := openHDF5File(r, size, name, opts.MaxChunk)
	if err != nil {
		return nil, err
	}
	f := &nc4{h: h, name: name, data: map[string]*nc4Var{}}
	if err := f.load(h, strings.Trim(opts.Group, "/"), opts.Group != ""); err != nil {
		return nil, nc4Error(name, err)
	}
	return f, nil
}

// openHDF5File opens the HDF5 file under a netCDF-4 file, with this
// package's errors.
func openHDF5File(r io.ReaderAt, size int64, name string, maxChunk int64) (*hdf5.File, error) {
	h, err := hdf5.OpenWith(r, size, hdf5.Options{MaxChunk: maxChunk})
	if errors.Is(err, hdf5.ErrNoSignature) {
		// The first bytes in hex, and only 4: enough to tell a format by,
		// too few to quote a secret from a file that is not netCDF.
		var start [4]byte
		n, _ := r.ReadAt(start[:], 0)
		return nil, fmt.Errorf("netcdf: %s: not a netCDF file: it starts with the bytes % x, not the signature of netCDF-3 (CDF) or netCDF-4 (HDF5) (%w)",
			name, start[:n], ErrFormat)
	}
	if err != nil {
		return nil, nc4Error(name, err)
	}
	return h, nil
}

// nc4Error wraps an error from package hdf5 with the file name and this
// package's sentinel errors.
func nc4Error(name string, err error) error {
	switch {
	case errors.Is(err, hdf5.ErrUnsupported):
		return fmt.Errorf("netcdf: %s: %w (%w)", name, err, ErrUnsupported)
	case errors.Is(err, hdf5.ErrFormat):
		return fmt.Errorf("netcdf: %s: %w (%w)", name, err, ErrFormat)
	case errors.Is(err, hdf5.ErrTooLarge):
		return fmt.Errorf("netcdf: %s: %w (%w)", name, err, ErrTooLarge)
	}
	return fmt.Errorf("netcdf: %s: %w", name, err)
}

// dataset is an HDF5 dataset of the root group with what the mapping to
// netCDF needs.
type dataset struct {
	ds      *hdf5.Dataset
	attrs   []hdf5.Attribute
	scale   bool // a dimension scale
	dimOnly bool // a dimension without a coordinate variable
	dimID   int  // _Netcdf4Dimid, or -1
	// inherited is set for a dimension scale of an ancestor of the group
	// read as the file: a dimension its variables may use, not a variable.
	inherited bool
}

func (d *dataset) attr(name string) (hdf5.Attribute, bool) {
	for _, a := range d.attrs {
		if a.Name == name {
			return a, true
		}
	}
	return hdf5.Attribute{}, false
}

// load reads the group at path (the root when "") as the file: its
// datasets, and the dimension scales of its ancestors, which its variables
// may use as dimensions. Its phony dimensions are numbered after those
// netCDF-C makes before it reaches the group (see phonyCounter). alone
// leaves the group's sub-groups out; else (the root read as the whole
// file) a sub-group holding data is refused.
func (f *nc4) load(h *hdf5.File, path string, alone bool) error {
	g, err := h.Root()
	if err != nil {
		return err
	}
	var inherited []*dataset // the ancestors' dimension scales
	count := phonyCounter{h: h, seen: map[uint64]bool{g.Addr: true}}
	if path != "" {
		parts := strings.Split(path, "/")
		for i, name := range parts {
			sets, groups, err := members(h, g, false)
			if err != nil {
				return err
			}
			for _, d := range scales(sets) {
				d.inherited = true
				inherited = append(inherited, d)
			}
			next, ok := groups[name]
			if !ok {
				return fmt.Errorf("no group %q (groups there: %s)", strings.Join(parts[:i+1], "/"),
					strings.Join(slices.Sorted(maps.Keys(groups)), ", "))
			}
			count.seen[next.Addr] = true
			for _, other := range slices.Sorted(maps.Keys(groups)) {
				if other >= name {
					break
				}
				f.phonyBase += count.tree(groups[other], inherited) // read before the path's
			}
			g = next
		}
	}
	if err := f.loadGroup(h, g, inherited, count, alone); err != nil {
		if path != "" {
			return fmt.Errorf("group %q: %w", path, err)
		}
		return err
	}
	return nil
}

// loadGroup reads group g as the file (see load), inherited being its
// ancestors' dimension scales.
func (f *nc4) loadGroup(h *hdf5.File, g *hdf5.Object, inherited []*dataset, count phonyCounter, alone bool) error {
	sets, groups, err := members(h, g, !alone)
	if err != nil {
		return err
	}
	if alone {
		below := append(slices.Clone(inherited), scales(sets)...)
		for _, name := range slices.Sorted(maps.Keys(groups)) {
			f.phonyBase += count.tree(groups[name], below) // read before the group's own datasets
		}
	}
	if err := f.mapDims(append(inherited, sets...)); err != nil {
		return err
	}
	if f.attrs, err = nc4Attrs(g.Attrs()); err != nil {
		return fmt.Errorf("global attributes: %w", err)
	}
	return nil
}

// scales returns the dimension scales of sets.
func scales(sets []*dataset) []*dataset {
	var out []*dataset
	for _, d := range sets {
		if d.scale {
			out = append(out, d)
		}
	}
	return out
}

// phonyCounter counts the phony dimensions netCDF-C makes before it reads
// the datasets of a group: it numbers them across the file, and reads a
// group's sub-groups (in name order, depth first) before the group's own
// datasets. So the group read as the file numbers its own after those of
// every group below it and, at each ancestor, of the sub-groups before the
// one on its path (load adds them up). seen holds the groups visited
// (links can make cycles).
type phonyCounter struct {
	h    *hdf5.File
	seen map[uint64]bool
}

// tree returns how many phony dimensions g and every group below it make,
// inherited being the dimension scales of g's ancestors. A group whose
// datasets cannot be read counts none, nor do the groups below it.
func (c phonyCounter) tree(g *hdf5.Object, inherited []*dataset) int {
	if c.seen[g.Addr] || len(c.seen) > maxGroups {
		return 0
	}
	c.seen[g.Addr] = true
	sets, groups, err := members(c.h, g, false)
	if err != nil {
		return 0
	}
	_, _, n, err := resolveDims(append(slices.Clone(inherited), sets...), 0)
	if err != nil {
		n = 0
	}
	below := append(slices.Clone(inherited), scales(sets)...)
	for _, name := range slices.Sorted(maps.Keys(groups)) {
		n += c.tree(groups[name], below)
	}
	return n
}

// members returns the datasets of group g and its sub-groups by name. With
// refuseGroups (the root read as the file), a sub-group holding data is an
// error; a selected group's sub-groups are left out, as
// xarray.open_dataset(group=...) leaves them.
func members(h *hdf5.File, g *hdf5.Object, refuseGroups bool) ([]*dataset, map[string]*hdf5.Object, error) {
	links, err := g.Links()
	if err != nil {
		return nil, nil, err
	}
	var sets []*dataset
	groups := map[string]*hdf5.Object{}
	for _, l := range links {
		obj, err := h.Open(l.Name, l.Addr)
		if err != nil {
			return nil, nil, err
		}
		if obj.IsGroup() {
			groups[l.Name] = obj
			continue
		}
		if !obj.IsDataset() {
			continue // a committed datatype
		}
		ds, err := obj.Dataset()
		if err != nil {
			return nil, nil, fmt.Errorf("variable %w", err)
		}
		d := &dataset{ds: ds, dimID: -1}
		if d.attrs, err = obj.Attrs(); err != nil {
			return nil, nil, fmt.Errorf("variable %w", err)
		}
		if a, ok := d.attr("CLASS"); ok && a.Type.Class == hdf5.ClassString {
			if s, err := a.Strings(); err == nil && len(s) == 1 && s[0] == "DIMENSION_SCALE" {
				d.scale = len(ds.Dims) >= 1 // its first axis is the dimension (siglay(siglay, node) in FVCOM output)
			}
		}
		if a, ok := d.attr("NAME"); ok && d.scale {
			if s, err := a.Strings(); err == nil && len(s) == 1 && strings.HasPrefix(s[0], dimPrefix) {
				d.dimOnly = true
			}
		}
		if id, ok := intAttr(d, "_Netcdf4Dimid"); ok && len(id) == 1 {
			d.dimID = int(id[0])
		}
		sets = append(sets, d)
	}
	if refuseGroups {
		for _, name := range slices.Sorted(maps.Keys(groups)) {
			data, err := holdsData(h, groups[name], map[uint64]bool{g.Addr: true})
			if err != nil {
				return nil, nil, err
			}
			if data {
				return nil, nil, fmt.Errorf("group %q: %w (read one group as the file: Options.Group): %w", name, ErrNestedGroups, hdf5.ErrUnsupported)
			}
		}
	}
	return sets, groups, nil
}

// maxGroups bounds the groups holdsData visits.
const maxGroups = 10000

// holdsData reports whether group g, or a group below it, holds a dataset;
// seen holds the groups visited (links can make cycles).
func holdsData(h *hdf5.File, g *hdf5.Object, seen map[uint64]bool) (bool, error) {
	if seen[g.Addr] {
		return false, nil
	}
	if seen[g.Addr] = true; len(seen) > maxGroups {
		return false, fmt.Errorf("more than %d groups: %w", maxGroups, hdf5.ErrUnsupported)
	}
	links, err := g.Links()
	if err != nil {
		return false, err
	}
	for _, l := range links {
		obj, err := h.Open(l.Name, l.Addr)
		if err != nil {
			return false, err
		}
		if obj.IsDataset() {
			return true, nil
		}
		if obj.IsGroup() {
			if data, err := holdsData(h, obj, seen); data || err != nil {
				return data, err
			}
		}
	}
	return false, nil
}

// intAttr returns an integer attribute's values.
func intAttr(d *dataset, name string) ([]int64, bool) {
	a, ok := d.attr(name)
	if !ok || a.Type.Class != hdf5.ClassFixed {
		return nil, false
	}
	raw, err := a.Numbers()
	if err != nil {
		return nil, false
	}
	size := a.Type.Size
	out := make([]int64, 0, len(raw)/size)
	for i := 0; i+size <= len(raw); i += size {
		var v uint64
		for j := size - 1; j >= 0; j-- {
			v = v<<8 | uint64(raw[i+j])
		}
		if a.Type.Signed && size < 8 && v&(1<<(8*uint(size)-1)) != 0 {
			v |= ^uint64(0) << (8 * uint(size))
		}
		out = append(out, int64(v))
	}
	return out, true
}

// dimInfo is a dimension being mapped: its netCDF-C ID (or -1), the
// position it was found at, and whether an ancestor group defines it.
type dimInfo struct {
	Dim
	id        int
	order     int
	inherited bool
}

// mapDims names the dimensions of every variable: from _Netcdf4Coordinates
// where netCDF-C wrote it, else from the dimension scales in
// DIMENSION_LIST, else (for a dimension scale) the dataset itself; HDF5
// datasets without scales get netCDF-C's phony dimensions.
func (f *nc4) mapDims(sets []*dataset) error {
	dims, varDims, _, err := resolveDims(sets, f.phonyBase)
	if err != nil {
		return err
	}
	return f.addDims(sets, dims, varDims)
}

// resolveDims finds the dimensions of every dataset of sets (see mapDims),
// numbering the phony dimensions it makes from first; it returns them all,
// each dataset's, and how many phony ones it made.
func resolveDims(sets []*dataset, first int) (dims []*dimInfo, varDims [][]*dimInfo, nphony int, err error) {
	byAddr := map[uint64]*dimInfo{}
	for i, d := range sets {
		if !d.scale {
			continue
		}
		di := &dimInfo{Dim: Dim{Name: d.ds.Name, Len: int64(d.ds.Dims[0])}, id: d.dimID, order: i, inherited: d.inherited}
		di.Unlimited = d.ds.MaxDims != nil && d.ds.MaxDims[0] == hdf5.Unlimited
		byAddr[d.ds.Addr] = di
		dims = append(dims, di)
	}
	byID := map[int]*dimInfo{}
	for _, di := range dims {
		if di.id >= 0 {
			byID[di.id] = di
		}
	}
	phony := map[int64][]*dimInfo{} // phony dimensions by length
	varDims = make([][]*dimInfo, len(sets))
	for i, d := range sets {
		rank := len(d.ds.Dims)
		var vd []*dimInfo
		if ids, ok := intAttr(d, "_Netcdf4Coordinates"); ok && len(ids) == rank {
			for _, id := range ids {
				if di := byID[int(id)]; di != nil {
					vd = append(vd, di)
				}
			}
		}
		if len(vd) != rank {
			vd = vd[:0]
			if d.scale {
				vd = append(vd, byAddr[d.ds.Addr]) // a scale is its own first dimension
			}
			if a, ok := d.attr("DIMENSION_LIST"); ok {
				refs, err := a.References()
				if err != nil {
					return nil, nil, 0, fmt.Errorf("variable %q: DIMENSION_LIST: %w", d.ds.Name, err)
				}
				for _, r := range refs[min(len(vd), len(refs)):] {
					if len(r) == 0 {
						break
					}
					di := byAddr[r[0]]
					if di == nil {
						return nil, nil, 0, fmt.Errorf("variable %q: DIMENSION_LIST refers to an object that is not a dimension scale of its group or an ancestor: %w", d.ds.Name, hdf5.ErrUnsupported)
					}
					vd = append(vd, di)
				}
			}
		}
		if len(vd) != rank {
			// netCDF-C's phony dimensions: one per distinct length, and
			// another when a variable uses the same length twice.
			vd = vd[:0]
			used := map[*dimInfo]bool{}
			for k, n := range d.ds.Dims {
				unlimited := d.ds.MaxDims != nil && d.ds.MaxDims[k] == hdf5.Unlimited
				var di *dimInfo
				for _, p := range phony[int64(n)] {
					if !used[p] && p.Unlimited == unlimited {
						di = p
						break
					}
				}
				if di == nil {
					di = &dimInfo{Dim: Dim{Name: fmt.Sprintf("phony_dim_%d", first+nphony), Len: int64(n), Unlimited: unlimited}, id: -1, order: len(sets) + len(dims)}
					nphony++
					phony[int64(n)] = append(phony[int64(n)], di)
					dims = append(dims, di)
				}
				used[di] = true
				vd = append(vd, di)
			}
		}
		for k, di := range vd {
			n := int64(d.ds.Dims[k])
			if n > di.Len {
				if !di.Unlimited {
					return nil, nil, 0, fmt.Errorf("variable %q: %d values along dimension %q of length %d", d.ds.Name, n, di.Name, di.Len)
				}
				di.Len = n // an unlimited dimension is as long as its longest variable
			}
		}
		varDims[i] = vd
	}
	return dims, varDims, nphony, nil
}

// addDims records dims, the dimensions resolveDims found for sets, in the
// order netCDF-C gives them, and the variables of sets with theirs.
func (f *nc4) addDims(sets []*dataset, dims []*dimInfo, varDims [][]*dimInfo) error {
	// Dimension order: netCDF-C's dimension IDs where every dimension has
	// one, else the order they were found in.
	withIDs := true
	for _, di := range dims {
		withIDs = withIDs && di.id >= 0
	}
	slices.SortStableFunc(dims, func(a, b *dimInfo) int {
		if withIDs {
			return a.id - b.id
		}
		return a.order - b.order
	})
	used := map[*dimInfo]bool{} // by the group's own variables
	for i, d := range sets {
		for _, di := range varDims[i] {
			used[di] = used[di] || !d.inherited
		}
	}
	for _, di := range dims {
		if !di.inherited || used[di] {
			f.dims = append(f.dims, di.Dim)
		}
	}
	for i, d := range sets {
		if d.dimOnly || d.inherited {
			continue
		}
		v, err := nc4Variable(d, varDims[i])
		if err != nil {
			return fmt.Errorf("variable %q: %w", d.ds.Name, err)
		}
		f.vars = append(f.vars, v)
		f.data[v.Name] = &nc4Var{ds: d.ds, fill: fillLE(d.ds, v)}
	}
	return nil
}

// nc4Type maps an HDF5 datatype to the netCDF type it stands for.
func nc4Type(t hdf5.Datatype) (Type, error) {
	switch t.Class {
	case hdf5.ClassFixed, hdf5.ClassEnum: // an enumeration as its integer values
		return fixedType(t)
	case hdf5.ClassFloat:
		switch t.Size {
		case 4:
			return Float, nil
		case 8:
			return Double, nil
		}
	case hdf5.ClassString:
		if t.Size == 1 {
			return Char, nil
		}
		return String, nil // netCDF-C shows fixed-length strings as strings
	case hdf5.ClassVarLen:
		if t.VarString {
			return String, nil
		}
	}
	return 0, fmt.Errorf("type %s: %w", t, ErrUnsupported)
}

func fixedType(t hdf5.Datatype) (Type, error) {
	types := map[int][2]Type{1: {UByte, Byte}, 2: {UShort, Short}, 4: {UInt, Int}, 8: {UInt64, Int64}}
	pair, ok := types[t.Size]
	if !ok {
		return 0, fmt.Errorf("type %s: %w", t, ErrUnsupported)
	}
	if t.Signed {
		return pair[1], nil
	}
	return pair[0], nil
}

func nc4Variable(d *dataset, dims []*dimInfo) (Var, error) {
	typ, err := nc4Type(d.ds.Type)
	if err != nil {
		return Var{}, err
	}
	// netCDF-C stores a variable that has the name of a dimension but is
	// not its coordinate variable (y(x, y)) under this prefix.
	v := Var{Name: strings.TrimPrefix(d.ds.Name, "_nc4_non_coord_"), Type: typ}
	for _, di := range dims {
		v.Dims = append(v.Dims, di.Name)
		v.Shape = append(v.Shape, di.Len)
	}
	if v.Attrs, err = nc4Attrs(d.attrs, nil); err != nil {
		return Var{}, err
	}
	if v.Attrs, err = enumAttrs(v, d.ds.Type); err != nil {
		return Var{}, err
	}
	for _, c := range d.ds.ChunkShape() {
		v.Chunks = append(v.Chunks, int64(c))
	}
	v.NoValues = d.ds.Null
	return v, nil
}

// enumAttrs returns v's attributes with, for a variable of an enumeration,
// its members as CF flags: flag_values (the values, of v's type) and
// flag_meanings (the names, blank-separated; blanks in a name become
// underscores), as netCDF4-python users describe enums — unless v has
// either already.
func enumAttrs(v Var, t hdf5.Datatype) ([]Attr, error) {
	if t.Class != hdf5.ClassEnum || len(t.Enum) == 0 ||
		slices.ContainsFunc(v.Attrs, func(a Attr) bool { return a.Name == "flag_values" || a.Name == "flag_meanings" }) {
		return v.Attrs, nil
	}
	var raw []byte
	names := make([]string, len(t.Enum))
	for i, m := range t.Enum {
		raw = append(raw, m.Value...)
		names[i] = strings.Join(strings.Fields(m.Name), "_")
	}
	values, err := source.AttrFromRaw("flag_values", v.Type, raw)
	if err != nil {
		return nil, err
	}
	return append(slices.Clone(v.Attrs), values, Attr{Name: "flag_meanings", Type: Char, Value: strings.Join(names, " ")}), nil
}

// nc4Attrs converts HDF5 attributes to netCDF ones, leaving out those
// netCDF-C hides.
func nc4Attrs(attrs []hdf5.Attribute, err error) ([]Attr, error) {
	if err != nil {
		return nil, err
	}
	var out []Attr
	for _, a := range attrs {
		if hiddenAttrs[a.Name] {
			continue
		}
		typ := Char
		if a.Type.Class != hdf5.ClassString {
			var err error
			if typ, err = nc4Type(a.Type); err != nil {
				return nil, fmt.Errorf("attribute %q: %w", a.Name, err)
			}
		}
		var attr Attr
		switch {
		case a.Type.Class == hdf5.ClassString && a.Len() > 1:
			// netCDF-C reads several fixed-length strings as NC_STRING
			// values, each cut at its first NUL: padding spaces are kept.
			kept := a
			kept.Type.SpacePadded = false
			s, err := kept.Strings()
			if err != nil {
				return nil, err
			}
			attr = Attr{Name: a.Name, Type: String, Value: s}
		case a.Type.Class == hdf5.ClassString:
			// netCDF text: one string; netCDF-4 Python drops NULs too
			s, err := a.Strings()
			if err != nil {
				return nil, err
			}
			attr = Attr{Name: a.Name, Type: Char, Value: strings.Join(s, "")}
		case typ == String:
			s, err := a.Strings()
			if err != nil {
				return nil, err
			}
			attr = Attr{Name: a.Name, Type: String, Value: s}
		default:
			raw, err := a.Numbers()
			if err != nil {
				return nil, err
			}
			if attr, err = source.AttrFromRaw(a.Name, typ, raw); err != nil {
				return nil, err
			}
		}
		out = append(out, attr)
	}
	return out, nil
}

// fillLE is the little-endian fill value of a variable, for the elements
// beyond the extent of its dataset along an unlimited dimension.
func fillLE(ds *hdf5.Dataset, v Var) []byte {
	size := v.Type.Size()
	if ds.Fill == nil || len(ds.Fill) != size {
		return make([]byte, size)
	}
	b := append([]byte(nil), ds.Fill...)
	if ds.Type.BigEndian {
		slices.Reverse(b)
	}
	return b
}

func (f *nc4) Format() string { return "netCDF-4" }
func (f *nc4) Dims() []Dim    { return slices.Clone(f.dims) }
func (f *nc4) Attrs() []Attr  { return slices.Clone(f.attrs) }

func (f *nc4) Decoded() int64 { return f.h.Decoded() }

func (f *nc4) Vars() []Var {
	out := make([]Var, len(f.vars))
	for i, v := range f.vars {
		v.Dims, v.Shape, v.Attrs, v.Chunks = slices.Clone(v.Dims), slices.Clone(v.Shape), slices.Clone(v.Attrs), slices.Clone(v.Chunks)
		out[i] = v
	}
	return out
}

// variable returns the variable called name, checking that it is of type
// String when strs is set (and of another type when not), and that the
// hyperslab fits it.
func (f *nc4) variable(name string, strs bool, start, count []int64, dstLen int) (*Var, error) {
	var v *Var
	for i := range f.vars {
		if f.vars[i].Name == name {
			v = &f.vars[i]
		}
	}
	if v == nil {
		return nil, fmt.Errorf("netcdf: %s: no variable %q", f.name, name)
	}
	if strs != (v.Type == String) {
		if strs {
			return nil, fmt.Errorf("netcdf: %s: variable %q is of type %s, not string", f.name, name, v.Type)
		}
		return nil, fmt.Errorf("netcdf: %s: variable %q is of type string: read it with ReadStrings", f.name, name)
	}
	size := int64(max(1, v.Type.Size()))
	if err := checkSlab(v.Shape, start, count, size, dstLen); err != nil {
		return nil, fmt.Errorf("netcdf: %s: variable %q: %w", f.name, name, err)
	}
	return v, nil
}

// extent clips a hyperslab to a dataset's extent: the part of it the
// dataset holds (an unlimited dimension may be longer than some of its
// variables), whether that is all of it, and whether it is nothing.
func extent(ds *hdf5.Dataset, start, count []int64) (ustart, ucount []uint64, inside, empty bool) {
	ustart = make([]uint64, len(start))
	ucount = make([]uint64, len(start))
	inside = true
	for i := range start {
		ustart[i], ucount[i] = uint64(start[i]), uint64(count[i])
		if end := ustart[i] + ucount[i]; end > ds.Dims[i] {
			inside = false
			ucount[i] = max(0, min(end, ds.Dims[i])-min(ustart[i], ds.Dims[i]))
			if ustart[i] >= ds.Dims[i] {
				empty = true
			}
		}
	}
	return ustart, ucount, inside, empty
}

func (f *nc4) Read(name string, start, count []int64, dst []byte) error {
	v, err := f.variable(name, false, start, count, len(dst))
	if err != nil {
		return err
	}
	if len(dst) == 0 {
		return nil
	}
	size := int64(v.Type.Size())
	nv := f.data[name]
	ds := nv.ds
	// The part inside the dataset's extent is read from it; the rest (an
	// unlimited dimension that other variables made longer) is fill.
	ustart, ucount, inside, empty := extent(ds, start, count)
	if inside {
		if err := ds.Read(ustart, ucount, dst); err != nil {
			return nc4Error(f.name, fmt.Errorf("variable %w", err))
		}
		return nil
	}
	for i := 0; i < len(dst); i += len(nv.fill) {
		copy(dst[i:], nv.fill)
	}
	if empty {
		return nil
	}
	n := size
	for _, c := range ucount {
		n *= int64(c)
	}
	part := make([]byte, n)
	if err := ds.Read(ustart, ucount, part); err != nil {
		return nc4Error(f.name, fmt.Errorf("variable %w", err))
	}
	copyCorner(dst, count, part, ucount, int(size))
	return nil
}

func (f *nc4) ReadStrings(name string, start, count []int64) ([]string, error) {
	n, ok := product(count)
	if !ok {
		return nil, fmt.Errorf("netcdf: %s: variable %q: hyperslab %v is too large", f.name, name, count)
	}
	if _, err := f.variable(name, true, start, count, int(n)); err != nil {
		return nil, err
	}
	ds := f.data[name].ds
	ustart, ucount, inside, empty := extent(ds, start, count)
	if empty {
		return make([]string, n), nil
	}
	part, err := ds.ReadStrings(ustart, ucount)
	if err != nil {
		return nil, nc4Error(f.name, fmt.Errorf("variable %w", err))
	}
	if inside {
		return part, nil
	}
	out := make([]string, n)
	copyCorner(out, count, part, ucount, 1)
	return out, nil
}

// copyCorner copies src (of shape srcShape) into the corner at the origin
// of dst (of shape dstShape, at least as large along every dimension); each
// element is es items of E.
func copyCorner[E any](dst []E, dstShape []int64, src []E, srcShape []uint64, es int) {
	rank := len(srcShape)
	if rank == 0 {
		copy(dst, src[:es])
		return
	}
	row := int(srcShape[rank-1]) * es
	if row == 0 {
		return
	}
	idx := make([]int64, rank-1)
	for s := 0; s < len(src); s += row {
		d := int64(0)
		for i := 0; i < rank-1; i++ {
			d = (d + idx[i]) * dstShape[i+1]
		}
		copy(dst[int(d)*es:], src[s:s+row])
		for i := rank - 2; i >= 0; i-- {
			if idx[i]++; idx[i] < int64(srcShape[i]) {
				break
			}
			idx[i] = 0
		}
	}
}
