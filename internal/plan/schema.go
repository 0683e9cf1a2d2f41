package plan

import (
	"slices"

	"github.com/zarrforge/zarrforge/source"
)

// Dim is a dimension of the target dataset.
type Dim struct {
	Name string
	Size int64
}

// Variable is one array of the target dataset.
type Variable struct {
	Name  string
	Type  source.Type
	Dims  []string
	Shape []int64
	// Attrs are the variable's attributes as the first input holding it has them.
	Attrs []source.Attr
	// Merge is the merge position of the inputs that hold this variable.
	Merge []int
	// Chunks is the shape of the target's chunk objects, set by
	// Schema.Layout: of its shards when the variable is sharded
	// (Schema.Shard), whose chunks have the shape Inner (nil when not
	// sharded). The chunk stage writes an object, chunk or shard, whole.
	Chunks []int64
	Inner  []int64
	// SourceChunks is the shape of the chunks the inputs store the
	// variable in (as the first input holding it has them), each decoded
	// whole when any of it is read; nil when stored contiguously (any part
	// reads alone) or unknown. Read groups are cut at its boundaries.
	SourceChunks []int64
	// InputName is the variable's name in the inputs (set by the schema
	// stage; "" means Name), and Sel, when a preprocess isel
	// selects part of its dimensions, where its values start in the inputs
	// and the step between them, per dimension (nil: all of them). See
	// Read.
	InputName string
	Sel       []Step
	// Lead is how many of Dims, in front, the inputs lack: new concat
	// dimensions (see Axis.New). Reads from the inputs leave them out.
	Lead int
	// Width, when not 0, is the length of a Char variable's last netCDF
	// dimension, folded into its values: it is stored as xarray writes it,
	// as fixed-width strings ("|S<Width>") over its other dimensions, which
	// are Dims and Shape. Set for char variables whose _FillValue is a whole
	// string (see foldChars).
	Width int64
}

// Extent is where one input sits in the target dataset: its span along
// each concat dimension (in the order of Schema.Concat).
type Extent struct {
	Input Input
	Spans []Span
}

// Span is where an input sits along one concat dimension, with the
// encoding of its coordinate along it.
type Span struct {
	Offset   int64 // first index along the dimension
	Len      int64 // number of steps along it (1 along a new dimension)
	Units    string
	Calendar string
}

// Axis is one dimension the inputs are concatenated along.
type Axis struct {
	Name string
	// New reports that the inputs lack the dimension: each input is one
	// step along it, labelled by its key, and every data variable (but
	// not the coordinates) gains it in front of its dimensions, as
	// ds.expand_dims(name=[key]) on every input before xarray combines
	// them would; unless the pattern declared it ConcatDim.OnceIfAbsent:
	// then no variable has it, and each is read from the input at
	// position 0.
	New bool
	// Coord holds the values of the dimension's coordinate variable,
	// little-endian in its Type, encoded in the first input's units and
	// calendar; nil when it has none or holds strings. Labels are the
	// values of a coordinate of strings (a new dimension's keys).
	Coord  []byte
	Labels []string
}

// Schema is the merged, validated description of the target dataset:
// everything the later stages need, without any array data except the values
// of the concat coordinates.
type Schema struct {
	// Concat are the dimensions the inputs are concatenated along, in the
	// pattern's order (at least one). Appends extend the first, which
	// target.chunk_bytes sizes.
	Concat []Axis
	Dims   []Dim
	Attrs  []source.Attr // global attributes of the first input
	Vars   []Variable
	// Inputs lists every input in pattern order (concat positions, then
	// merge position).
	Inputs []Extent
	// Base is the number of steps along the first concat dimension that
	// the store already holds when appending (see AppendTo), 0 otherwise.
	// The inputs come after them.
	Base int64
	// Group is the netCDF-4 group of the inputs read as the dataset
	// (source.Options.Group); "" for the root.
	Group string
	// Filter selects the messages of the inputs read as the dataset
	// (source.Options.Filter); nil for all.
	Filter map[string]string
}

// AppendDim is the concat dimension appends extend: the first.
func (s *Schema) AppendDim() string { return s.Concat[0].Name }

// ConcatNames returns the names of the concat dimensions.
func (s *Schema) ConcatNames() []string {
	out := make([]string, len(s.Concat))
	for k, a := range s.Concat {
		out[k] = a.Name
	}
	return out
}

// IsConcat reports whether dim is one of the concat dimensions.
func (s *Schema) IsConcat(dim string) bool {
	return slices.ContainsFunc(s.Concat, func(a Axis) bool { return a.Name == dim })
}

// Var returns the variable called name.
func (s *Schema) Var(name string) (*Variable, bool) {
	for i := range s.Vars {
		if s.Vars[i].Name == name {
			return &s.Vars[i], true
		}
	}
	return nil, false
}

// SetAttr sets the dataset's attribute a.Name to a: it replaces the one
// of that name (there is one of each, as in netCDF and Zarr), or is added
// last. A schema step sets a title this way.
func (s *Schema) SetAttr(a source.Attr) { s.Attrs = setAttr(s.Attrs, a) }

// SetAttr sets the variable's attribute a.Name to a, as Schema.SetAttr.
func (v *Variable) SetAttr(a source.Attr) { v.Attrs = setAttr(v.Attrs, a) }

// setAttr returns attrs with a in place of the attribute of its name, or
// added last; attrs is copied, not changed (a schema may share it).
func setAttr(attrs []source.Attr, a source.Attr) []source.Attr {
	out := slices.Clone(attrs)
	if i := slices.IndexFunc(out, func(b source.Attr) bool { return b.Name == a.Name }); i >= 0 {
		out[i] = a
		return out
	}
	return append(out, a)
}

// Dim returns the size of the dimension called name.
func (s *Schema) Dim(name string) (int64, bool) {
	for _, d := range s.Dims {
		if d.Name == name {
			return d.Size, true
		}
	}
	return 0, false
}

// CoordVar returns the coordinate variable of concat dimension k, if it
// has one.
func (s *Schema) CoordVar(k int) (*Variable, bool) {
	v, ok := s.Var(s.Concat[k].Name)
	if !ok || !v.IsDimCoord() {
		return nil, false
	}
	return v, true
}

// IsConcatCoord reports whether v is the coordinate of a concat
// dimension, which the prepare stage writes whole.
func (s *Schema) IsConcatCoord(v *Variable) bool {
	return v.IsDimCoord() && s.IsConcat(v.Name)
}

// ConcatAxis returns the axis of the concat dimension in v, or -1.
func (v *Variable) ConcatAxis(concatDim string) int {
	for i, d := range v.Dims {
		if d == concatDim {
			return i
		}
	}
	return -1
}

// IsDimCoord reports whether v is a dimension coordinate (a 1-D variable
// named after its dimension).
func (v *Variable) IsDimCoord() bool {
	return len(v.Dims) == 1 && v.Dims[0] == v.Name
}

// Attr returns v's attribute called name.
func (v *Variable) Attr(name string) (source.Attr, bool) {
	i := slices.IndexFunc(v.Attrs, func(a source.Attr) bool { return a.Name == name })
	if i < 0 {
		return source.Attr{}, false
	}
	return v.Attrs[i], true
}

// ReadOptions are the options s's inputs are read with under a memory
// budget (resolved: not 0): their stored chunks decoded only up to half of
// it, the group the schema was read from.
func (s *Schema) ReadOptions(budget int64) source.Options {
	return source.Options{MaxChunk: budget / 2, Group: s.Group, Filter: s.Filter}
}

// BoxBytes is how many bytes the values of v in a box of shape count take
// (ItemSize each).
func (v *Variable) BoxBytes(count []int64) int64 {
	n := int64(v.ItemSize())
	for _, c := range count {
		n *= c
	}
	return n
}

// ItemSize returns the size in bytes of one value.
func (v *Variable) ItemSize() int {
	if v.Width > 0 {
		return int(v.Width)
	}
	return v.Type.Size()
}

// foldChars makes v, a variable as an input holds it, fixed-width strings
// when it is a Char variable whose _FillValue has more than one character:
// such a fill stands for whole strings, as xarray reads it (it masks the
// strings equal to it), which an array of single characters cannot express.
// Its last dimension, which must not be a concat dimension, becomes the
// strings' width.
func (v *Variable) foldChars(s *Schema) {
	a, ok := v.fillAttr()
	if fill, _ := a.Value.(string); !ok || v.Type != source.Char || len(fill) < 2 || len(v.Dims) == 0 || s.IsConcat(v.Dims[len(v.Dims)-1]) {
		return
	}
	last := len(v.Dims) - 1
	v.Width, v.Dims, v.Shape = v.Shape[last], v.Dims[:last], v.Shape[:last]
}

// Clone returns a copy of s that shares nothing that Layout or AppendTo
// change, so that a stage can lay out a schema it was given as an element.
func (s Schema) Clone() Schema {
	c := s
	c.Dims = slices.Clone(s.Dims)
	c.Vars = slices.Clone(s.Vars)
	for i := range c.Vars {
		c.Vars[i].Shape = slices.Clone(s.Vars[i].Shape)
		c.Vars[i].Chunks = slices.Clone(s.Vars[i].Chunks)
		c.Vars[i].Inner = slices.Clone(s.Vars[i].Inner)
		c.Vars[i].SourceChunks = slices.Clone(s.Vars[i].SourceChunks)
		c.Vars[i].Sel = slices.Clone(s.Vars[i].Sel)
	}
	c.Inputs = slices.Clone(s.Inputs)
	for i := range c.Inputs {
		c.Inputs[i].Spans = slices.Clone(s.Inputs[i].Spans)
	}
	c.Concat = slices.Clone(s.Concat)
	for i := range c.Concat {
		c.Concat[i].Coord = slices.Clone(s.Concat[i].Coord)
	}
	return c
}
