package plan

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/zarrforge/zarrforge/cftime"
	"github.com/zarrforge/zarrforge/source"
)

// concatCoord joins the values of the coordinate of concat dimension k
// (called concatDim) of the inputs, in order, re-encoding each input's
// values into the first input's units when they differ (CF time "<unit>
// since <date>" in the first input's calendar). Each of groups is a line of
// inputs along the dimension (see lines): every line must give the values
// of the first. It returns the raw values and their type: the first
// input's type when every value is exactly representable in it, float64
// otherwise.
func concatCoord(groups [][]Part, k int, typ source.Type, concatDim string) ([]byte, source.Type, error) {
	var joined [][]float64
	recoded := false
	for gi, g := range groups {
		var vals []float64
		for _, p := range g {
			v, did, err := partValues(g[0], p, k, concatDim)
			if err != nil {
				return nil, 0, err
			}
			recoded = recoded || did
			vals = append(vals, v...)
		}
		if gi > 0 {
			for i := range vals {
				if vals[i] != joined[0][i] && !(vals[i] != vals[i] && joined[0][i] != joined[0][i]) {
					p0, p := partAt(groups[0], k, int64(i)), partAt(g, k, int64(i))
					return nil, 0, fmt.Errorf("inputs disagree: %s and %s: coordinate %q values differ (%v vs %v)",
						p0.Input.Source, p.Input.Source, concatDim, joined[0][i], vals[i])
				}
			}
		}
		joined = append(joined, vals)
	}
	if !recoded {
		var buf bytes.Buffer
		for _, p := range groups[0] {
			if a := p.Axes[k]; a.CoordType != typ {
				return nil, 0, fmt.Errorf("inputs disagree: %s and %s: coordinate %q has type %s vs %s",
					groups[0][0].Input.Source, p.Input.Source, concatDim, typ, a.CoordType)
			}
			buf.Write(p.Axes[k].Coord)
		}
		return buf.Bytes(), typ, nil
	}
	if raw, ok := fromFloat64(typ, joined[0]); ok {
		return raw, typ, nil
	}
	raw, _ := fromFloat64(source.Double, joined[0])
	return raw, source.Double, nil
}

// partAt returns the part of line g holding index i along concat
// dimension k.
func partAt(g []Part, k int, i int64) Part {
	for _, p := range g {
		if i < p.Axes[k].Len {
			return p
		}
		i -= p.Axes[k].Len
	}
	return g[len(g)-1]
}

func sameCalendar(a, b string) bool {
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" || s == "gregorian" {
			return "standard"
		}
		if s == "365_day" {
			return "noleap"
		}
		if s == "366_day" {
			return "all_leap"
		}
		return s
	}
	return norm(a) == norm(b)
}

// partValues returns p's values of the coordinate of concat dimension k
// in the units of first, and whether they had to be re-encoded.
func partValues(first, p Part, k int, concatDim string) ([]float64, bool, error) {
	pa, fa := p.Axes[k], first.Axes[k]
	vals, err := toFloat64(pa.CoordType, pa.Coord)
	if err != nil {
		return nil, false, fmt.Errorf("input %s: coordinate %q: %w", p.Input.Source, concatDim, err)
	}
	if !sameCalendar(pa.Calendar, fa.Calendar) {
		return nil, false, fmt.Errorf("inputs disagree: %s and %s: coordinate %q calendar %q vs %q",
			first.Input.Source, p.Input.Source, concatDim, fa.Calendar, pa.Calendar)
	}
	if pa.Units == fa.Units {
		return vals, false, nil
	}
	out, err := recodeTime(vals, pa.Units, fa.Units, fa.Calendar)
	switch {
	case errors.Is(err, errNotTimeUnits):
		return nil, false, fmt.Errorf("inputs disagree: %s and %s: coordinate %q units %q vs %q, which are not both CF time units",
			first.Input.Source, p.Input.Source, concatDim, fa.Units, pa.Units)
	case err != nil:
		return nil, false, fmt.Errorf("input %s: re-encoding coordinate %q from %q to %q: %w",
			p.Input.Source, concatDim, pa.Units, fa.Units, err)
	}
	return out, true, nil
}

// errNotTimeUnits is recodeTime's error for units that are not CF time
// units: values in other units cannot be re-encoded.
var errNotTimeUnits = errors.New("not CF time units")

// recodeTime re-encodes CF time values ("<unit> since <date>") from units
// from to units to, in calendar.
func recodeTime(vals []float64, from, to, calendar string) ([]float64, error) {
	fu, err1 := cftime.ParseUnits(from)
	tu, err2 := cftime.ParseUnits(to)
	if err1 != nil || err2 != nil {
		return nil, errNotTimeUnits
	}
	cal, err := cftime.ParseCalendar(calendar)
	if err != nil {
		return nil, err
	}
	return cftime.Recode(vals, fu, tu, cal)
}

// BoundsVar returns the variable the coordinate of concat dimension k
// names in its bounds attribute (time_bnds), when it has that dimension.
func (s *Schema) BoundsVar(k int) (*Variable, bool) {
	cv, ok := s.CoordVar(k)
	if !ok {
		return nil, false
	}
	a, ok := cv.Attr("bounds")
	name, _ := a.Value.(string)
	if !ok || name == "" {
		return nil, false
	}
	v, ok := s.Var(name)
	if !ok || v.ConcatAxis(s.Concat[k].Name) < 0 || v.Type == source.String || v.Type == source.Char {
		return nil, false
	}
	return v, true
}

// CoordUnits returns the units and calendar the target holds the
// coordinate of concat dimension k in: the first input's, or when
// appending the store's.
func (s *Schema) CoordUnits(k int) (units, calendar string) {
	cv, ok := s.CoordVar(k)
	if !ok {
		return "", ""
	}
	u, _ := cv.Attr("units")
	c, _ := cv.Attr("calendar")
	units, _ = u.Value.(string)
	calendar, _ = c.Value.(string)
	return units, calendar
}

// BoundsDiffer reports whether some input's bounds (see BoundsVar) are in
// other units than the target's coordinate, so that RecodeBounds changes
// them.
func (s *Schema) BoundsDiffer() bool {
	for k := range s.Concat {
		if _, ok := s.BoundsVar(k); !ok {
			continue
		}
		units, _ := s.CoordUnits(k)
		if slices.ContainsFunc(s.Inputs, func(e Extent) bool { return e.Spans[k].Units != units }) {
			return true
		}
	}
	return false
}

// IsBoundsVar reports whether v bounds a concat coordinate, whose values
// are re-encoded as the coordinate is (RecodeBounds).
func (s *Schema) IsBoundsVar(v *Variable) bool {
	for k := range s.Concat {
		if bv, ok := s.BoundsVar(k); ok && bv.Name == v.Name {
			return true
		}
	}
	return false
}

// RecodeBounds re-encodes, in place, values of v read from input in
// (little-endian, of v's type) into the units the target holds the
// coordinate they bound in, as the coordinate itself is re-encoded. It does
// nothing unless v is the bounds variable of a concat coordinate and in's
// units differ.
func (s *Schema) RecodeBounds(v *Variable, in Input, data []byte) error {
	for k := range s.Concat {
		bv, ok := s.BoundsVar(k)
		if !ok || bv.Name != v.Name {
			continue
		}
		i := slices.IndexFunc(s.Inputs, func(e Extent) bool {
			return slices.Equal(e.Input.Index.Concat, in.Index.Concat) && slices.Equal(e.Input.Index.Merge, in.Index.Merge)
		})
		units, calendar := s.CoordUnits(k)
		if i < 0 || s.Inputs[i].Spans[k].Units == units {
			return nil
		}
		from := s.Inputs[i].Spans[k].Units
		vals, err := toFloat64(v.Type, data)
		if err != nil {
			return fmt.Errorf("bounds %q: %w", v.Name, err)
		}
		out, err := recodeTime(vals, from, units, calendar)
		if err != nil {
			return fmt.Errorf("input %s: re-encoding bounds %q from %q to %q: %w", in.Source, v.Name, from, units, err)
		}
		raw, exact := fromFloat64(v.Type, out)
		if !exact {
			return fmt.Errorf("input %s: bounds %q in %q do not fit %s exactly", in.Source, v.Name, units, v.Type)
		}
		copy(data, raw)
		return nil
	}
	return nil
}
