package plan

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/zarrforge/zarrforge/cftime"
	"github.com/zarrforge/zarrforge/source"
)

// Held is what a store holds before an append, as read back from it.
type Held struct {
	// Format is the store's Zarr format, 2 or 3.
	Format int
	// Arrays are the store's arrays by name.
	Arrays map[string]HeldArray
	// Len is the number of steps along the dimension appends extend (the
	// first concat dimension).
	Len int64
	// Coord holds its coordinate's Len values, raw in its array's dtype;
	// nil when the dataset has no coordinate along it.
	Coord []byte
	// Others are the store's coordinates along the other concat
	// dimensions, which an append does not change: Name, and Coord (raw in
	// the array's dtype) or Labels (strings). Those the store lacks are
	// left out.
	Others []Axis
}

// HeldArray is one array of a store: what its metadata says (its numpy
// dtype, shape, chunks — of its shards when sharded, Inner then the
// chunks inside them —, dimension names and fill value) and its
// attributes.
type HeldArray struct {
	DType         string
	Shape, Chunks []int64
	Inner         []int64
	Dims          []string
	FillValue     any
	Attrs         map[string]any
}

// netcdfTypes maps Zarr dtypes back to the netCDF types that have them.
var netcdfTypes = func() map[string]source.Type {
	m := map[string]source.Type{}
	for t, d := range dtypes {
		m[d] = t
	}
	return m
}()

// AppendTo turns s, the schema of the inputs, into the schema of store
// after the inputs are appended along the first concat dimension (see
// AppendDim). It checks that the inputs match the store: the same
// variables with the same dimensions, dtypes, fill values and (but for
// that dimension) shapes, and coordinate values along it that continue the
// store's, strictly increasing, once re-encoded in its units and calendar.
// The store's chunking and sharding are kept; chunks and shards may name
// sizes only where they agree with them. Afterwards s.Base is store.Len,
// every variable along the dimension is store.Len steps longer, the inputs
// sit after the stored steps, and s.Concat[0].Coord holds the whole
// coordinate. The store's arrays keep their encodings: see Target.Arrays.
func (s *Schema) AppendTo(store Held, chunks, shards map[string]int64) error {
	var names []string
	for name := range store.Arrays {
		if _, ok := s.Var(name); !ok {
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		sort.Strings(names)
		return fmt.Errorf("the store has variables the inputs lack: %s", strings.Join(names, ", "))
	}
	for i := range s.Vars {
		v := &s.Vars[i]
		a, ok := store.Arrays[v.Name]
		if !ok {
			return fmt.Errorf("variable %q is in the inputs but not in the store", v.Name)
		}
		if err := s.matchStored(v, a, store.Len, chunks, shards); err != nil {
			return err
		}
		v.Chunks, v.Inner = slices.Clone(a.Chunks), slices.Clone(a.Inner)
	}
	if err := s.appendCoord(store); err != nil {
		return err
	}
	if err := s.sameOthers(store); err != nil {
		return err
	}
	for i := range s.Vars {
		v := &s.Vars[i]
		if axis := v.ConcatAxis(s.AppendDim()); axis >= 0 {
			v.Shape[axis] += store.Len
		}
	}
	for i := range s.Dims {
		if s.Dims[i].Name == s.AppendDim() {
			s.Dims[i].Size += store.Len
		}
	}
	for i := range s.Inputs {
		s.Inputs[i].Spans = slices.Clone(s.Inputs[i].Spans)
		s.Inputs[i].Spans[0].Offset += store.Len
	}
	s.Base = store.Len
	return nil
}

// matchStored checks that variable v of the inputs matches array a of a
// store holding storeLen steps along the append dimension: dimensions,
// dtype, shape but for that dimension, fill value and packing, and the
// chunk and shard sizes chunks and shards name.
func (s *Schema) matchStored(v *Variable, a HeldArray, storeLen int64, chunks, shards map[string]int64) error {
	if !slices.Equal(a.Dims, v.Dims) {
		return fmt.Errorf("variable %q: dimensions (%s) in the inputs, (%s) in the store",
			v.Name, strings.Join(v.Dims, ", "), strings.Join(a.Dims, ", "))
	}
	dim := s.AppendDim()
	axis := v.ConcatAxis(dim)
	isCoord := v.Name == dim && v.IsDimCoord()
	if want, _ := v.DType(); want != a.DType && !isCoord {
		return fmt.Errorf("variable %q: dtype %s in the inputs, %s in the store", v.Name, want, a.DType)
	}
	for j := range v.Shape {
		if j != axis && v.Shape[j] != a.Shape[j] {
			return fmt.Errorf("variable %q: dimension %s has %d in the inputs, %d in the store",
				v.Name, v.Dims[j], v.Shape[j], a.Shape[j])
		}
	}
	if axis >= 0 && a.Shape[axis] != storeLen {
		return fmt.Errorf("variable %q: %d steps along %s in the store, its coordinate has %d",
			v.Name, a.Shape[axis], dim, storeLen)
	}
	if !isCoord {
		fill, err := v.FillValue()
		if err != nil {
			return err
		}
		if !sameFill(v, fill, a.FillValue) {
			return fmt.Errorf("variable %q: fill value %v in the inputs, %v in the store", v.Name, fill, a.FillValue)
		}
		for _, name := range packingAttrs {
			if name == "_FillValue" {
				continue // the store's fill_value, compared above
			}
			at, inInputs := v.Attr(name)
			want := "absent"
			if inInputs {
				want = fmt.Sprint(AttrJSON(at))
			}
			got := "absent"
			if x, ok := a.Attrs[name]; ok {
				got = fmt.Sprint(x)
			}
			if got != want {
				return fmt.Errorf("variable %q: attribute %s is %s in the inputs, %s in the store (values would decode differently)",
					v.Name, name, want, got)
			}
		}
	}
	inner := a.Inner
	if inner == nil {
		inner = a.Chunks
	}
	for j, d := range v.Dims {
		n, ok := chunks[d]
		if !ok || v.IsDimCoord() {
			continue
		}
		if d != dim {
			n = max(min(n, v.Shape[j]), 1)
		}
		if n != inner[j] {
			return fmt.Errorf("TargetConfig.Chunks[%q]: the store's %q has chunks of %d along %s, not %d",
				d, v.Name, inner[j], d, chunks[d])
		}
	}
	for j, d := range v.Dims {
		n, ok := shards[d]
		switch {
		case !ok || v.IsDimCoord() || v.Type == source.String:
		case a.Inner == nil:
			return fmt.Errorf("TargetConfig.Shards[%q]: the store's %q is not sharded", d, v.Name)
		case n != a.Chunks[j] && (inner[j] < v.Shape[j] || d == dim):
			return fmt.Errorf("TargetConfig.Shards[%q]: the store's %q has shards of %d along %s, not %d",
				d, v.Name, a.Chunks[j], d, n)
		}
	}
	return nil
}

// appendCoord re-encodes the inputs' coordinate along the first concat
// dimension in the store's units, calendar and dtype, checks that it
// continues the store's, and makes s.Concat[0].Coord the whole coordinate.
func (s *Schema) appendCoord(store Held) error {
	cv, ok := s.CoordVar(0)
	if !ok {
		return nil
	}
	if cv.Type == source.String {
		return fmt.Errorf("coordinate %q holds strings (the pattern's keys): appending along it is not supported", cv.Name)
	}
	a := store.Arrays[cv.Name]
	typ, ok := netcdfTypes[a.DType]
	if !ok || store.Coord == nil {
		return fmt.Errorf("coordinate %q: the store's dtype %s cannot be appended to", cv.Name, a.DType)
	}
	newVals, err := toFloat64(cv.Type, s.Concat[0].Coord)
	if err != nil {
		return fmt.Errorf("coordinate %q: %w", cv.Name, err)
	}
	units, _ := a.Attrs["units"].(string)
	calendar, _ := a.Attrs["calendar"].(string)
	from := s.Inputs[0].Spans[0]
	if !sameCalendar(from.Calendar, calendar) {
		return fmt.Errorf("coordinate %q: calendar %q in the inputs, %q in the store", cv.Name, from.Calendar, calendar)
	}
	if from.Units != units {
		newVals, err = recodeTime(newVals, from.Units, units, calendar)
		switch {
		case errors.Is(err, errNotTimeUnits):
			return fmt.Errorf("coordinate %q: units %q in the inputs, %q in the store, which are not both CF time units", cv.Name, from.Units, units)
		case err != nil:
			return fmt.Errorf("coordinate %q: re-encoding from %q to %q: %w", cv.Name, from.Units, units, err)
		}
	}
	oldVals, err := toFloat64(typ, store.Coord)
	if err != nil {
		return fmt.Errorf("coordinate %q in the store: %w", cv.Name, err)
	}
	prev, prevWhere := 0.0, ""
	if len(oldVals) > 0 {
		prev, prevWhere = oldVals[len(oldVals)-1], "the store's last value"
	}
	for i, x := range newVals {
		if prevWhere != "" && !(x > prev) {
			in := partAtExtent(s.Inputs, int64(i))
			what := "does not come after"
			if x == prev {
				what = "repeats"
			}
			return fmt.Errorf("coordinate %q: input %s: value %s %s %s, %s: appended values must be increasing and after the store's",
				cv.Name, in.Input.Source, stepName(x, units, calendar), what, prevWhere, stepName(prev, units, calendar))
		}
		prev, prevWhere = x, "the value before it"
	}
	raw, exact := fromFloat64(typ, newVals)
	if !exact {
		return fmt.Errorf("coordinate %q: the inputs' values do not fit the store's dtype %s exactly", cv.Name, a.DType)
	}
	cv.Type = typ
	// The coordinate is now in the store's units (and bounds follow it:
	// RecodeBounds).
	cv.Attrs = slices.Clone(cv.Attrs)
	for i, at := range cv.Attrs {
		if at.Name == "units" {
			cv.Attrs[i].Value = units
		}
	}
	s.Concat[0].Coord = append(slices.Clone(store.Coord), raw...)
	return nil
}

// sameOthers checks that the inputs' coordinates along the concat
// dimensions but the first are the store's, value for value (once in its
// units, for CF times): an append adds steps along the first only.
func (s *Schema) sameOthers(store Held) error {
	for k := 1; k < len(s.Concat); k++ {
		cv, ok := s.CoordVar(k)
		if !ok {
			continue
		}
		a := s.Concat[k]
		i := slices.IndexFunc(store.Others, func(o Axis) bool { return o.Name == a.Name })
		if i < 0 {
			return fmt.Errorf("coordinate %q: the store has none to compare the inputs' with", a.Name)
		}
		o := store.Others[i]
		differ := fmt.Errorf("coordinate %q: the inputs' values are not the store's (an append adds steps along %s only)", a.Name, s.AppendDim())
		if a.Labels != nil || o.Labels != nil {
			if !slices.Equal(a.Labels, o.Labels) {
				return fmt.Errorf("%w: %q vs %q", differ, a.Labels, o.Labels)
			}
			continue
		}
		typ, ok := netcdfTypes[store.Arrays[a.Name].DType]
		mine, err1 := toFloat64(cv.Type, a.Coord)
		theirs, err2 := toFloat64(typ, o.Coord)
		if !ok || err1 != nil || err2 != nil {
			return differ
		}
		if units, _ := store.Arrays[a.Name].Attrs["units"].(string); len(s.Inputs) > 0 && s.Inputs[0].Spans[k].Units != units {
			calendar, _ := store.Arrays[a.Name].Attrs["calendar"].(string)
			if mine, err1 = recodeTime(mine, s.Inputs[0].Spans[k].Units, units, calendar); err1 != nil {
				return fmt.Errorf("%w: units %q in the inputs, %q in the store", differ, s.Inputs[0].Spans[k].Units, units)
			}
		}
		if !slices.Equal(mine, theirs) {
			return fmt.Errorf("%w: %v vs %v", differ, mine, theirs)
		}
	}
	return nil
}

// partAtExtent returns the input holding new step i along the first
// concat dimension.
func partAtExtent(in []Extent, i int64) Extent {
	for _, e := range in {
		if sp := e.Spans[0]; i >= sp.Offset && i < sp.Offset+sp.Len {
			return e
		}
	}
	return in[len(in)-1]
}

// sameFill reports whether the inputs' fill value of v and the store's
// mean the same: equal, or — as xarray stores a float variable that has no
// _FillValue — none in the inputs and NaN in the store, which mask nothing
// but NaN, itself.
func sameFill(v *Variable, inputs, store any) bool {
	if fmt.Sprint(inputs) == fmt.Sprint(store) {
		return true
	}
	isFloat := v.Type == source.Float || v.Type == source.Double
	return isFloat && inputs == nil && fmt.Sprint(store) == "NaN"
}

// stepName names one value of a coordinate as a reader sees it: the date
// and the number in its units for CF time units ("1981-09-21 (20.5 days
// since 1981-09-01)"), else the number.
func stepName(v float64, units, calendar string) string {
	u, err1 := cftime.ParseUnits(units)
	cal, err2 := cftime.ParseCalendar(calendar)
	if err1 == nil && err2 == nil {
		if d, err := u.Date(v, cal); err == nil {
			return fmt.Sprintf("%s (%v %s)", d, v, units)
		}
	}
	return fmt.Sprint(v)
}

// DescribeSteps names the values raw of a coordinate whose array has
// dtype and attrs, as a reader sees them: the first and last as dates for
// CF time units ("2024-01-04 to 2024-01-06, 3 steps"), else as numbers;
// "no steps" when raw is empty. Refusals that name ranges of a store use it.
func DescribeSteps(raw []byte, dtype string, attrs map[string]any) string {
	typ, ok := netcdfTypes[dtype]
	vals, err := toFloat64(typ, raw)
	switch {
	case !ok || err != nil:
		return fmt.Sprintf("%d bytes of %s", len(raw), dtype)
	case len(vals) == 0:
		return "no steps"
	}
	units, _ := attrs["units"].(string)
	calendar, _ := attrs["calendar"].(string)
	u, err1 := cftime.ParseUnits(units)
	cal, err2 := cftime.ParseCalendar(calendar)
	name := func(v float64) string {
		if d, err := u.Date(v, cal); err1 == nil && err2 == nil && err == nil {
			return d.String()
		}
		return fmt.Sprint(v)
	}
	if len(vals) == 1 {
		return name(vals[0]) + ", 1 step"
	}
	return fmt.Sprintf("%s to %s, %d steps", name(vals[0]), name(vals[len(vals)-1]), len(vals))
}
