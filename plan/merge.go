package plan

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/zarrforge/zarrforge/netcdf"
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

// Part is what the Merger keeps of each input.
type Part struct {
	Input     Input
	Len       int64
	Units     string
	Calendar  string
	CoordType netcdf.Type // 0 when there is no concat coordinate
	Coord     []byte
}

// Add validates m against the inputs seen so far and keeps what the schema
// needs of it.
func (g *Merger) Add(m InputMeta, concatDim string) error {
	if err := g.addRep(m, concatDim); err != nil {
		return err
	}
	p := Part{
		Input:    m.Input,
		Len:      m.ConcatLen(concatDim),
		Units:    m.coordAttr(concatDim, "units"),
		Calendar: m.coordAttr(concatDim, "calendar"),
		Coord:    m.Coord,
	}
	if v, ok := m.varByName(concatDim); ok && m.Coord != nil {
		p.CoordType = v.Type
	}
	g.Parts = append(g.Parts, p)
	g.addStored(storedOf(m))
	return nil
}

func (g *Merger) addRep(m InputMeta, concatDim string) error {
	for i := range g.Reps {
		r := &g.Reps[i]
		if !slices.Equal(r.Input.Index.Merge, m.Input.Index.Merge) {
			continue
		}
		first, second := *r, m
		if second.Input.Index.Concat < first.Input.Index.Concat {
			first, second = second, first
		}
		if err := compareInputs(&first, &second, concatDim); err != nil {
			return err
		}
		*r = first
		return nil
	}
	g.Reps = append(g.Reps, m)
	return nil
}

// Merge folds another accumulator into g.
func (g *Merger) Merge(o Merger, concatDim string) error {
	for _, r := range o.Reps {
		if err := g.addRep(r, concatDim); err != nil {
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
// the same dataset apart from their extent along the concat dimension.
func compareInputs(a, b *InputMeta, concatDim string) error {
	for _, da := range a.Dims {
		db, ok := b.dim(da.Name)
		if !ok {
			return disagree(a, b, "dimension %q is missing from the second", da.Name)
		}
		if da.Name != concatDim && da.Len != db.Len {
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

func sameVar(a, b netcdf.Var) string {
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
func sameAttr(a, b netcdf.Attr) bool {
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

func attrText(a netcdf.Attr, ok bool) string {
	if !ok {
		return "absent"
	}
	return fmt.Sprintf("%v (%s)", a.Value, a.Type)
}

func sameCoords(a, b *InputMeta) error {
	for _, ca := range a.CoordSums {
		for _, cb := range b.CoordSums {
			if ca.Name == cb.Name && ca.Sum != cb.Sum {
				return disagree(a, b, "coordinate %q has different values", ca.Name)
			}
		}
	}
	return nil
}

// Schema finishes the merge: it checks that the inputs form a complete,
// regular collection, lays them out along the concat dimension, and
// re-encodes the concat coordinate into the first input's units.
func (g *Merger) Schema(concatDim string) (Schema, error) {
	if len(g.Reps) == 0 {
		return Schema{}, fmt.Errorf("no inputs")
	}
	reps := slices.Clone(g.Reps)
	sort.Slice(reps, func(i, j int) bool { return slices.Compare(reps[i].Input.Index.Merge, reps[j].Input.Index.Merge) < 0 })
	parts := slices.Clone(g.Parts)
	sort.Slice(parts, func(i, j int) bool { return lessIndex(parts[i].Input.Index, parts[j].Input.Index) })

	groups, err := groupParts(parts, reps)
	if err != nil {
		return Schema{}, err
	}
	first := &reps[0]
	s := Schema{ConcatDim: concatDim, Attrs: first.Attrs}

	// Offsets along the concat dimension, from the first merge group.
	offsets := make([]int64, len(groups[0])+1)
	for i, p := range groups[0] {
		offsets[i+1] = offsets[i] + p.Len
	}
	total := offsets[len(groups[0])]
	for gi := 1; gi < len(groups); gi++ {
		for i, p := range groups[gi] {
			if q := groups[0][i]; p.Len != q.Len {
				return Schema{}, fmt.Errorf("inputs disagree: %s and %s: %d vs %d steps along %q",
					q.Input.Source, p.Input.Source, q.Len, p.Len, concatDim)
			}
		}
	}
	for _, p := range parts {
		s.Inputs = append(s.Inputs, Extent{Input: p.Input, Offset: offsets[p.Input.Index.Concat], Len: p.Len,
			Units: p.Units, Calendar: p.Calendar})
	}

	stored := map[string][]int64{}
	for _, v := range g.Stored {
		if slices.ContainsFunc(v.Chunks, func(c int64) bool { return c > 1 }) {
			stored[v.Var] = slices.Clone(v.Chunks)
		}
	}
	if err := s.mergeDimsAndVars(reps, total, stored); err != nil {
		return Schema{}, err
	}
	if cv, ok := s.CoordVar(); ok {
		coord, typ, err := concatCoord(groups, cv.Type, concatDim)
		if err != nil {
			return Schema{}, err
		}
		s.Coord, cv.Type = coord, typ
	}
	return s, nil
}

func lessIndex(a, b Index) bool {
	if a.Concat != b.Concat {
		return a.Concat < b.Concat
	}
	return slices.Compare(a.Merge, b.Merge) < 0
}

// groupParts splits the sorted parts by merge position (in the order of
// reps) and checks each group holds exactly concat positions 0..n-1, the
// same n for every group.
func groupParts(parts []Part, reps []InputMeta) ([][]Part, error) {
	groups := make([][]Part, len(reps))
	for _, p := range parts {
		gi := slices.IndexFunc(reps, func(r InputMeta) bool { return slices.Equal(r.Input.Index.Merge, p.Input.Index.Merge) })
		if gi < 0 {
			return nil, fmt.Errorf("input %s: no header recorded for its merge position", p.Input.Source)
		}
		g := groups[gi]
		if n := len(g); n > 0 && g[n-1].Input.Index.Concat == p.Input.Index.Concat {
			return nil, fmt.Errorf("inputs %s and %s have the same position %s", g[n-1].Input.Source, p.Input.Source, p.Input.Index)
		}
		if want := len(g); p.Input.Index.Concat != want {
			return nil, fmt.Errorf("input at concat position %d (merge position %v) is missing; next present is %s",
				want, p.Input.Index.Merge, p.Input.Source)
		}
		groups[gi] = append(g, p)
	}
	for gi := 1; gi < len(groups); gi++ {
		if len(groups[gi]) != len(groups[0]) {
			return nil, fmt.Errorf("merge position %v has %d inputs but merge position %v has %d",
				reps[gi].Input.Index.Merge, len(groups[gi]), reps[0].Input.Index.Merge, len(groups[0]))
		}
	}
	return groups, nil
}

// mergeDimsAndVars unions the dimensions and variables of the merge groups'
// representatives; stored gives the variables' stored chunk shapes.
func (s *Schema) mergeDimsAndVars(reps []InputMeta, total int64, stored map[string][]int64) error {
	owner := map[string]*InputMeta{}
	for ri := range reps {
		r := &reps[ri]
		for _, d := range r.Dims {
			size := d.Len
			if d.Name == s.ConcatDim {
				size = total
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
			if _, ok := s.Var(v.Name); ok {
				o := owner["var:"+v.Name]
				ov, _ := o.varByName(v.Name)
				if msg := sameVar(ov, v); msg != "" {
					return disagree(o, r, "variable %q: %s", v.Name, msg)
				}
				continue
			}
			owner["var:"+v.Name] = r
			shape := slices.Clone(v.Shape)
			for i, d := range v.Dims {
				if d == s.ConcatDim {
					shape[i] = total
				}
			}
			nv := Variable{Name: v.Name, Type: v.Type, Dims: slices.Clone(v.Dims), Shape: shape,
				Attrs: v.Attrs, Merge: slices.Clone(r.Input.Index.Merge)}
			nv.foldChars(s.ConcatDim)
			if nv.Width == 0 && nv.Type != netcdf.String {
				nv.SourceChunks = stored[v.Name]
			}
			s.Vars = append(s.Vars, nv)
		}
		for _, o := range reps[:ri] {
			if err := sameCoords(&o, r); err != nil {
				return err
			}
		}
	}
	return nil
}
