package plan

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/zarrforge/zarrforge/source"
)

// Merger accumulates the InputMeta of every input into a Schema, validating
// as it goes. It is the accumulator of the schema stage's combine: Add and
// Merge may run in any order on any worker, and Schema gives the same result.
//
// Only one full header is kept per merge position (the input with the lowest
// concat position, which supplies attributes); every other input is compared
// with it when added and then reduced to a Part.
type Merger struct {
	Reps  []InputMeta
	Parts []Part
	// Stored is, per variable (by name), the least common multiple of the
	// chunk shapes every input stores it in: a cut at a multiple of it,
	// counted from an input's start, splits no stored chunk of any input.
	Stored []StoredChunks
}

// StoredChunks is the stored chunk shape a Merger keeps for one variable.
type StoredChunks struct {
	Var    string
	Chunks []int64
}

// addStored folds the chunk shapes of variables into g.Stored: the least
// common multiple along each dimension (a contiguous variable counts as
// chunks of 1).
func (g *Merger) addStored(vars []StoredChunks) {
	for _, v := range vars {
		i, found := slices.BinarySearchFunc(g.Stored, v.Var, func(s StoredChunks, name string) int { return strings.Compare(s.Var, name) })
		switch {
		case !found:
			g.Stored = slices.Insert(g.Stored, i, StoredChunks{Var: v.Var, Chunks: slices.Clone(v.Chunks)})
		case len(g.Stored[i].Chunks) == len(v.Chunks):
			for d, c := range v.Chunks {
				g.Stored[i].Chunks[d] = lcm(max(g.Stored[i].Chunks[d], 1), max(c, 1))
			}
		}
	}
}

// storedOf is the stored chunk shape of the variables of m.
func storedOf(m InputMeta) []StoredChunks {
	var out []StoredChunks
	for _, v := range m.Vars {
		c := v.Chunks
		if c == nil {
			c = make([]int64, len(v.Dims))
			for i := range c {
				c[i] = 1
			}
		}
		out = append(out, StoredChunks{Var: v.Name, Chunks: c})
	}
	return out
}

// Part is what the Merger keeps of each input: what it holds along each
// concat dimension.
type Part struct {
	Input     Input
	Axes      []PartAxis
	AuxCoords []CoordSum // the input's scalar coordinates (InputMeta.AuxCoords)
}

// PartAxis is what an input holds along one concat dimension.
type PartAxis struct {
	Len       int64
	Units     string
	Calendar  string
	CoordType source.Type // 0 when there is no coordinate along it
	Coord     []byte
}

// Add validates m against the inputs seen so far and keeps what the schema
// needs of it; concat names the concat dimensions.
func (g *Merger) Add(m InputMeta, concat []string) error {
	if len(m.Input.Index.Concat) != len(concat) || len(m.Coords) != len(concat) {
		return fmt.Errorf("input %s: %d concat positions for %d concat dimensions", m.Input.Source, len(m.Input.Index.Concat), len(concat))
	}
	if err := g.addRep(m, concat); err != nil {
		return err
	}
	p := Part{Input: m.Input, Axes: make([]PartAxis, len(concat)), AuxCoords: m.AuxCoords}
	for k, name := range concat {
		a := PartAxis{Len: m.ConcatLen(name), Units: m.coordAttr(name, "units"), Calendar: m.coordAttr(name, "calendar"), Coord: m.Coords[k]}
		if v, ok := m.varByName(name); ok && a.Coord != nil {
			a.CoordType = v.Type
		}
		p.Axes[k] = a
	}
	g.Parts = append(g.Parts, p)
	g.addStored(storedOf(m))
	return nil
}

func (g *Merger) addRep(m InputMeta, concat []string) error {
	for i := range g.Reps {
		r := &g.Reps[i]
		if !slices.Equal(r.Input.Index.Merge, m.Input.Index.Merge) {
			continue
		}
		first, second := *r, m
		if slices.Compare(second.Input.Index.Concat, first.Input.Index.Concat) < 0 {
			first, second = second, first
		}
		if err := compareInputs(&first, &second, concat); err != nil {
			return err
		}
		*r = first
		return nil
	}
	g.Reps = append(g.Reps, m)
	return nil
}

// Merge folds another accumulator into g.
func (g *Merger) Merge(o Merger, concat []string) error {
	for _, r := range o.Reps {
		if err := g.addRep(r, concat); err != nil {
			return err
		}
	}
	g.Parts = append(g.Parts, o.Parts...)
	g.addStored(o.Stored)
	return nil
}

func disagree(a, b *InputMeta, format string, args ...any) error {
	return fmt.Errorf("inputs disagree: %s and %s: %s", a.Input.Source, b.Input.Source, fmt.Sprintf(format, args...))
}

// compareInputs checks that two inputs of the same merge position describe
// the same dataset apart from their extent along the concat dimensions.
func compareInputs(a, b *InputMeta, concat []string) error {
	for _, da := range a.Dims {
		db, ok := b.dim(da.Name)
		if !ok {
			return disagree(a, b, "dimension %q is missing from the second", da.Name)
		}
		if !slices.Contains(concat, da.Name) && da.Len != db.Len {
			return disagree(a, b, "dimension %q has size %d vs %d", da.Name, da.Len, db.Len)
		}
	}
	for _, db := range b.Dims {
		if _, ok := a.dim(db.Name); !ok {
			return disagree(a, b, "dimension %q is missing from the first", db.Name)
		}
	}
	for _, va := range a.Vars {
		vb, ok := b.varByName(va.Name)
		if !ok {
			return disagree(a, b, "variable %q is missing from the second", va.Name)
		}
		if err := sameVar(va, vb); err != "" {
			return disagree(a, b, "variable %q: %s", va.Name, err)
		}
	}
	for _, vb := range b.Vars {
		if _, ok := a.varByName(vb.Name); !ok {
			return disagree(a, b, "variable %q is missing from the first", vb.Name)
		}
	}
	return sameCoords(a, b)
}

// packingAttrs are the attributes that say how stored values decode: the
// store keeps one set per variable (the first input's), so inputs must
// agree on them. Inputs packed differently are refused rather than
// re-encoded: re-packing would change the values the inputs hold.
var packingAttrs = []string{"scale_factor", "add_offset", "_FillValue", "missing_value", "_Unsigned"}

func sameVar(a, b source.Var) string {
	if a.Type != b.Type {
		return fmt.Sprintf("type %s vs %s", a.Type, b.Type)
	}
	if !slices.Equal(a.Dims, b.Dims) {
		return fmt.Sprintf("dimensions %v vs %v", a.Dims, b.Dims)
	}
	for _, name := range packingAttrs {
		x, okA := a.Attr(name)
		y, okB := b.Attr(name)
		if okA != okB || okA && !sameAttr(x, y) {
			return fmt.Sprintf("attribute %s is %s vs %s (values would decode differently; convert such inputs separately)",
				name, attrText(x, okA), attrText(y, okB))
		}
	}
	return ""
}

// sameAttr reports whether two attributes have the same type and values
// (bit for bit: NaN equals NaN).
func sameAttr(a, b source.Attr) bool {
	if a.Type != b.Type {
		return false
	}
	if s, ok := a.Value.(string); ok {
		return s == b.Value
	}
	ra, errA := a.Raw()
	rb, errB := b.Raw()
	return errA == nil && errB == nil && bytes.Equal(ra, rb)
}

func attrText(a source.Attr, ok bool) string {
	if !ok {
		return "absent"
	}
	return fmt.Sprintf("%v (%s)", a.Value, a.Type)
}

func sameCoords(a, b *InputMeta) error {
	for _, ca := range a.CoordSums {
		for _, cb := range b.CoordSums {
			if ca.Name == cb.Name && ca.Sum != cb.Sum {
				return disagree(a, b, "coordinate %q has different values (to concatenate along %s, make it a concat dimension)", ca.Name, ca.Name)
			}
		}
	}
	return nil
}

// Schema finishes the merge: it checks that the inputs form a complete,
// regular collection, lays them out along the concat dimensions, and
// re-encodes the concat coordinates into the first input's units.
func (g *Merger) Schema(concat []ConcatDim) (Schema, error) {
	if len(g.Reps) == 0 {
		return Schema{}, fmt.Errorf("no inputs")
	}
	if len(concat) == 0 {
		return Schema{}, fmt.Errorf("no concat dimension")
	}
	reps := slices.Clone(g.Reps)
	sort.Slice(reps, func(i, j int) bool { return slices.Compare(reps[i].Input.Index.Merge, reps[j].Input.Index.Merge) < 0 })
	parts := slices.Clone(g.Parts)
	sort.Slice(parts, func(i, j int) bool { return lessIndex(parts[i].Input.Index, parts[j].Input.Index) })
	for _, p := range parts {
		if len(p.Axes) != len(concat) {
			return Schema{}, fmt.Errorf("input %s: described along %d concat dimensions, not %d", p.Input.Source, len(p.Axes), len(concat))
		}
	}

	// The grid: how many positions along each concat dimension.
	grid := make([]int, len(concat))
	for _, p := range parts {
		for k, c := range p.Input.Index.Concat {
			grid[k] = max(grid[k], c+1)
		}
	}
	if err := checkGrid(parts, reps, grid); err != nil {
		return Schema{}, err
	}
	s := Schema{Attrs: reps[0].Attrs, Concat: make([]Axis, len(concat))}

	totals, err := s.placeInputs(parts, concat, grid)
	if err != nil {
		return Schema{}, err
	}

	stored := map[string][]int64{}
	for _, v := range g.Stored {
		if slices.ContainsFunc(v.Chunks, func(c int64) bool { return c > 1 }) {
			stored[v.Var] = slices.Clone(v.Chunks)
		}
	}
	if err := s.mergeDimsAndVars(reps, totals, stored, concat, varied(parts)); err != nil {
		return Schema{}, err
	}
	for k := range s.Concat {
		cv, ok := s.CoordVar(k)
		if !ok {
			continue
		}
		line := lines(parts, k)
		if s.Concat[k].New { // keyed already, unless a scalar coordinate made it
			raw, promoted, err := promotedCoord(line[0], s.Concat[k].Name)
			if err != nil {
				return Schema{}, err
			}
			if promoted {
				s.Concat[k].Coord = raw
			}
			continue
		}
		coord, typ, err := concatCoord(line, k, cv.Type, cv.Name)
		if err != nil {
			return Schema{}, err
		}
		s.Concat[k].Coord, cv.Type = coord, typ
	}
	return s, nil
}

// placeInputs places each input (its part) along each concat dimension,
// in the order of the grid: every input at one position has the length of
// the first input there. It adds the inputs' extents to s and returns the
// total length along each dimension.
func (s *Schema) placeInputs(parts []Part, concat []ConcatDim, grid []int) ([]int64, error) {
	firsts := make([][]Part, len(concat))
	offsets := make([][]int64, len(concat))
	totals := make([]int64, len(concat))
	for k, c := range concat {
		s.Concat[k].Name = c.Name
		firsts[k] = make([]Part, grid[k])
		seen := make([]bool, grid[k])
		for _, p := range parts { // in order: the first at a position is the one of merge group 0, others at 0
			if at := p.Input.Index.Concat[k]; !seen[at] {
				firsts[k][at], seen[at] = p, true
			}
		}
		offsets[k] = make([]int64, grid[k]+1)
		for at, p := range firsts[k] {
			offsets[k][at+1] = offsets[k][at] + p.Axes[k].Len
		}
		totals[k] = offsets[k][grid[k]]
	}
	for _, p := range parts {
		e := Extent{Input: p.Input, Spans: make([]Span, len(concat))}
		for k, a := range p.Axes {
			at := p.Input.Index.Concat[k]
			if q := firsts[k][at]; a.Len != q.Axes[k].Len {
				return nil, fmt.Errorf("inputs disagree: %s and %s: %d vs %d steps along %q",
					q.Input.Source, p.Input.Source, q.Axes[k].Len, a.Len, concat[k].Name)
			}
			e.Spans[k] = Span{Offset: offsets[k][at], Len: a.Len, Units: a.Units, Calendar: a.Calendar}
		}
		s.Inputs = append(s.Inputs, e)
	}
	return totals, nil
}

func lessIndex(a, b Index) bool {
	if c := slices.Compare(a.Concat, b.Concat); c != 0 {
		return c < 0
	}
	return slices.Compare(a.Merge, b.Merge) < 0
}

// checkGrid checks that the sorted parts hold, for each merge position
// (those of reps), every combination of concat positions below grid once.
func checkGrid(parts []Part, reps []InputMeta, grid []int) error {
	count := make([]int, len(reps))
	last := make([]*Part, len(reps))
	for i := range parts {
		p := &parts[i]
		gi := slices.IndexFunc(reps, func(r InputMeta) bool { return slices.Equal(r.Input.Index.Merge, p.Input.Index.Merge) })
		if gi < 0 {
			return fmt.Errorf("input %s: no header recorded for its merge position", p.Input.Source)
		}
		if q := last[gi]; q != nil && slices.Equal(q.Input.Index.Concat, p.Input.Index.Concat) {
			return fmt.Errorf("inputs %s and %s have the same position %s", q.Input.Source, p.Input.Source, p.Input.Index)
		}
		if want := unravel(count[gi], grid); !slices.Equal(p.Input.Index.Concat, want) {
			return fmt.Errorf("input at concat position %s (merge position %v) is missing; next present is %s",
				positionText(want), p.Input.Index.Merge, p.Input.Source)
		}
		count[gi]++
		last[gi] = p
	}
	total := 1
	for _, n := range grid {
		total *= n
	}
	for gi := range reps {
		if count[gi] != total { // every one before the next is there
			return fmt.Errorf("input at concat position %s (merge position %v) is missing; the last present is %s",
				positionText(unravel(count[gi], grid)), reps[gi].Input.Index.Merge, last[gi].Input.Source)
		}
	}
	return nil
}

// positionText renders concat positions as "3", or "3, 0" along two
// dimensions.
func positionText(ix []int) string {
	return strings.Trim(strings.Join(strings.Fields(fmt.Sprint(ix)), ", "), "[]")
}

// unravel returns the i-th combination of positions below grid, the last
// varying fastest.
func unravel(i int, grid []int) []int {
	out := make([]int, len(grid))
	for k := len(grid) - 1; k >= 0; k-- {
		out[k] = i % max(grid[k], 1)
		i /= max(grid[k], 1)
	}
	return out
}

// lines splits the sorted parts into the runs along concat dimension k:
// the inputs that differ only in their position along k, in order. The
// first is that of merge group 0 at position 0 along the others.
func lines(parts []Part, k int) [][]Part {
	var out [][]Part
	at := map[string]int{}
	for _, p := range parts {
		others := slices.Clone(p.Input.Index.Concat)
		others[k] = 0
		key := fmt.Sprint(others, p.Input.Index.Merge)
		i, ok := at[key]
		if !ok {
			i = len(out)
			at[key] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], p)
	}
	return out
}

// mergeDimsAndVars unions the dimensions and variables of the merge groups'
// representatives, each concat dimension k totals[k] long; stored gives the
// variables' stored chunk shapes. Concat dimensions the inputs lack become
// new dimensions, in front of the data variables' own, with the pattern's
// keys as their coordinate.
//
// A scalar coordinate named as a new dimension becomes its coordinate,
// the inputs' values in order, and scalar coordinates whose values vary
// (those in varies) gain the dimension, as xarray.concat does with
// coords="different"; both only where one dimension is new.
func (s *Schema) mergeDimsAndVars(reps []InputMeta, totals []int64, stored map[string][]int64, concat []ConcatDim, varies map[string]bool) error {
	lead, leadShape, err := s.newDims(reps, totals, concat)
	if err != nil {
		return err
	}
	total := func(dim string) (int64, bool) {
		k := slices.IndexFunc(s.Concat, func(a Axis) bool { return a.Name == dim })
		if k < 0 {
			return 0, false
		}
		return totals[k], true
	}
	coords := coordNames(reps)
	owner := map[string]*InputMeta{}
	for ri := range reps {
		r := &reps[ri]
		for _, d := range r.Dims {
			size := d.Len
			if n, ok := total(d.Name); ok {
				size = n
			}
			if have, ok := s.Dim(d.Name); ok {
				if have != size {
					return disagree(owner["dim:"+d.Name], r, "dimension %q has size %d vs %d", d.Name, have, size)
				}
				continue
			}
			owner["dim:"+d.Name] = r
			s.Dims = append(s.Dims, Dim{Name: d.Name, Size: size})
		}
		for _, v := range r.Vars {
			scalar := len(v.Dims) == 0 && slices.Contains(lead, v.Name)
			aux := coords[v.Name] && (len(v.Dims) != 1 || v.Dims[0] != v.Name) // a coordinate no dimension's
			if slices.Contains(lead, v.Name) && (!scalar || len(lead) > 1) {
				return fmt.Errorf("input %s: variable %q has the name of a dimension to concatenate along that the inputs lack; "+
					"rename or drop it (preprocess)", r.Input.Source, v.Name)
			}
			if aux && varies[v.Name] && len(lead) != 1 {
				return fmt.Errorf("input %s: the coordinate %q has different values in the inputs, and no one new dimension to concatenate it along; "+
					"drop it (preprocess) or make it a concat dimension", r.Input.Source, v.Name)
			}
			if _, ok := s.Var(v.Name); ok {
				o := owner["var:"+v.Name]
				ov, _ := o.varByName(v.Name)
				if msg := sameVar(ov, v); msg != "" {
					return disagree(o, r, "variable %q: %s", v.Name, msg)
				}
				continue
			}
			owner["var:"+v.Name] = r
			nv := s.newVar(v, r, total, stored[v.Name])
			if !coords[v.Name] && !nv.IsDimCoord() && len(lead) > 0 || scalar || aux && varies[v.Name] {
				nv.prependDims(lead, leadShape)
			}
			s.Vars = append(s.Vars, nv)
		}
		for _, o := range reps[:ri] {
			if err := sameCoords(&o, r); err != nil {
				return err
			}
		}
	}
	var keyed []Variable // the new dimensions' coordinates, first
	for k := range s.Concat {
		if _, ok := s.Var(s.Concat[k].Name); ok { // a scalar coordinate made it
			continue
		}
		v, ok, err := s.Concat[k].keyCoord(concat[k], totals[k])
		if err != nil {
			return err
		}
		if ok {
			keyed = append(keyed, v)
		}
	}
	s.Vars = append(keyed, s.Vars...)
	return nil
}

// varied returns the names of the scalar coordinates whose values differ
// between the inputs.
func varied(parts []Part) map[string]bool {
	first := map[string]string{}
	out := map[string]bool{}
	for _, p := range parts {
		for _, c := range p.AuxCoords {
			if v, ok := first[c.Name]; !ok {
				first[c.Name] = c.Sum
			} else if v != c.Sum {
				out[c.Name] = true
			}
		}
	}
	return out
}

// promotedCoord is the coordinate of a new dimension a scalar coordinate
// called name made: the inputs' values along it (line), raw; false when
// the inputs have no such scalar.
func promotedCoord(line []Part, name string) ([]byte, bool, error) {
	var out []byte
	found := false
	for _, p := range line {
		for _, c := range p.AuxCoords {
			if c.Name != name {
				continue
			}
			raw, err := hex.DecodeString(c.Sum)
			if err != nil {
				return nil, false, fmt.Errorf("input %s: scalar coordinate %q: %w", p.Input.Source, name, err)
			}
			out, found = append(out, raw...), true
		}
	}
	return out, found, nil
}

// newDims marks the concat dimensions the inputs (reps, one per merge
// position) lack as new, and adds to s those that data variables gain in
// front (lead, of the sizes leadShape); an axis some inputs have and others
// lack is an error.
func (s *Schema) newDims(reps []InputMeta, totals []int64, concat []ConcatDim) (lead []string, leadShape []int64, err error) {
	for k := range s.Concat {
		a := &s.Concat[k]
		var with, without *InputMeta
		for ri := range reps {
			if _, ok := reps[ri].dim(a.Name); ok {
				with = &reps[ri]
			} else {
				without = &reps[ri]
			}
		}
		if with != nil && without != nil {
			return nil, nil, disagree(with, without, "dimension %q, to concatenate along, is missing from the second", a.Name)
		}
		if a.New = with == nil; a.New && !concat[k].OnceIfAbsent {
			lead, leadShape = append(lead, a.Name), append(leadShape, totals[k])
			s.Dims = append(s.Dims, Dim{Name: a.Name, Size: totals[k]})
		}
	}
	return lead, leadShape, nil
}

// newVar is the schema's variable for v of input r: its shape along the
// concat dimensions their totals (total), chars folded, and the input's
// stored chunks (stored) where they can be read by.
func (s *Schema) newVar(v source.Var, r *InputMeta, total func(string) (int64, bool), stored []int64) Variable {
	shape := slices.Clone(v.Shape)
	for i, d := range v.Dims {
		if n, ok := total(d); ok {
			shape[i] = n
		}
	}
	nv := Variable{Name: v.Name, Type: v.Type, Dims: slices.Clone(v.Dims), Shape: shape,
		Attrs: v.Attrs, Merge: slices.Clone(r.Input.Index.Merge)}
	nv.foldChars(s)
	if nv.Width == 0 && nv.Type != source.String {
		nv.SourceChunks = stored
	}
	return nv
}

// prependDims puts the new dimensions lead, of sizes shape, in front of v's.
func (v *Variable) prependDims(lead []string, shape []int64) {
	v.Lead = len(lead)
	v.Dims = append(slices.Clone(lead), v.Dims...)
	v.Shape = append(slices.Clone(shape), v.Shape...)
	if v.SourceChunks != nil {
		v.SourceChunks = append(slices.Repeat([]int64{1}, len(lead)), v.SourceChunks...)
	}
}

// coordNames returns the names of the variables xarray decodes as
// coordinates (not data variables) besides dimension coordinates: those a
// variable's or the dataset's "coordinates" attribute names.
func coordNames(reps []InputMeta) map[string]bool {
	out := map[string]bool{}
	add := func(attrs []source.Attr) {
		for _, a := range attrs {
			if s, ok := a.Value.(string); ok && a.Name == "coordinates" {
				for _, name := range strings.Fields(s) {
					out[name] = true
				}
			}
		}
	}
	for _, r := range reps {
		add(r.Attrs)
		for _, v := range r.Vars {
			add(v.Attrs)
		}
	}
	return out
}
