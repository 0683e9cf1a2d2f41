package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zarrforge/zarrforge/cftime"
	"github.com/zarrforge/zarrforge/source"
)

// Preprocess is the edits a recipe's preprocess section makes to every
// input, as xarray makes them to each dataset before combining
// (open_mfdataset(..., preprocess=...)), in this order: drop (or keep)
// variables, select index ranges, rename, set attributes. The inputs are
// never changed: the schema records, for each variable, where its values
// are in the inputs (Variable.InputName, Variable.Sel).
type Preprocess struct {
	// DropVars are dropped, as ds.drop_vars(...); names an input lacks are
	// passed over (each input of a merge collection holds some variables).
	DropVars []string
	// KeepVars, instead, keeps only these variables and the coordinates
	// whose dimensions they all use, as ds[[...]].
	KeepVars []string
	// Isel selects index ranges of dimensions other than the concat
	// dimension (by their names in the inputs), as ds.isel(dim=slice(...)).
	Isel []Sel
	// Rename renames variables and dimensions, as ds.rename(...).
	Rename []Rename
	// Attrs sets or deletes variables' attributes (by their new names), and
	// GlobalAttrs the dataset's.
	Attrs, GlobalAttrs []AttrEdit
}

// Sel is one dimension's index slice: start, stop (0 for the dimension's
// end) and step, as Python's slice(start, stop, step).
type Sel struct {
	Dim               string
	Start, Stop, Step int64
}

// Rename renames a variable or dimension (or both, when they share the
// name: a dimension coordinate).
type Rename struct{ From, To string }

// AttrEdit sets an attribute to a text or numbers, or deletes it. (Values
// are plain fields, not an interface, so that the stage configs holding
// them serialise.)
type AttrEdit struct {
	Var     string // the variable, "" for a global attribute
	Name    string
	Delete  bool
	Text    *string   // a text value
	Numbers []float64 // else numbers
	Integer bool      // the numbers are integers (stored as int64, as Python ints are)
}

// packing names the attributes that say how stored values decode: editing
// them would change what the values mean without changing the values.
var packing = []string{"scale_factor", "add_offset", "_FillValue", "missing_value", "_Unsigned"}

// IsZero reports whether p edits nothing.
func (p Preprocess) IsZero() bool {
	return len(p.DropVars) == 0 && len(p.KeepVars) == 0 && len(p.Isel) == 0 && len(p.Rename) == 0 &&
		len(p.Attrs) == 0 && len(p.GlobalAttrs) == 0
}

// Validate checks p on its own, for inputs concatenated along the
// dimensions concat.
// Errors name the recipe key: "preprocess.isel.time: ...".
func (p Preprocess) Validate(concat []string) error {
	if len(p.DropVars) > 0 && len(p.KeepVars) > 0 {
		return fmt.Errorf("preprocess: drop_vars and keep_vars together; give one")
	}
	for _, s := range p.Isel {
		key := fmt.Sprintf("Preprocess.Isel[%q]", s.Dim)
		switch {
		case slices.Contains(concat, s.Dim):
			return fmt.Errorf("%s: %s is a dimension inputs are concatenated along; select inputs with the pattern instead", key, s.Dim)
		case s.Start < 0 || s.Stop < 0:
			return fmt.Errorf("%s: start and stop must be >= 0 (count from the start), got %d:%d", key, s.Start, s.Stop)
		case s.Stop != 0 && s.Stop <= s.Start:
			return fmt.Errorf("%s: stop %d must be after start %d", key, s.Stop, s.Start)
		case s.Step < 1:
			return fmt.Errorf("%s: step must be >= 1, got %d", key, s.Step)
		}
	}
	to := map[string]string{}
	for _, r := range p.Rename {
		key := fmt.Sprintf("Preprocess.Rename[%q]", r.From)
		switch {
		case slices.Contains(concat, r.From):
			return fmt.Errorf("%s: %s is a dimension inputs are concatenated along (SchemaConfig.Concat); it keeps its name", key, r.From)
		case r.To == "" || r.To == r.From:
			return fmt.Errorf("%s: rename to a new, non-empty name", key)
		case to[r.To] != "":
			return fmt.Errorf("%s: %s and %s are both renamed to %s", key, to[r.To], r.From, r.To)
		}
		to[r.To] = r.From
	}
	for _, e := range append(slices.Clone(p.Attrs), p.GlobalAttrs...) {
		key := fmt.Sprintf("Preprocess.GlobalAttrs[%q]", e.Name)
		if e.Var != "" {
			key = fmt.Sprintf("Preprocess.Attrs[%q][%q]", e.Var, e.Name)
		}
		switch {
		case e.Name == "":
			return fmt.Errorf("%s: an attribute needs a name", key)
		case slices.Contains(packing, e.Name) && e.Var != "":
			return fmt.Errorf("%s: %s says how the stored values decode; changing it would change what they mean (values are not re-packed)", key, e.Name)
		case !e.Delete && e.Text == nil && len(e.Numbers) == 0:
			return fmt.Errorf("%s: give a text, a number or a list of numbers (null deletes)", key)
		}
	}
	return nil
}

// renamed returns name after p's renames.
func (p Preprocess) renamed(name string) string {
	for _, r := range p.Rename {
		if r.From == name {
			return r.To
		}
	}
	return name
}

// original returns the name in the inputs of what p's renames call name.
func (p Preprocess) original(name string) string {
	for _, r := range p.Rename {
		if r.To == name {
			return r.From
		}
	}
	return name
}

// sel returns the slice p selects of the inputs' dimension dim of size n:
// its start, step and length.
func (p Preprocess) sel(dim string, n int64) (start, step, length int64, ok bool) {
	for _, s := range p.Isel {
		if s.Dim != dim {
			continue
		}
		stop := s.Stop
		if stop == 0 || stop > n {
			stop = n
		}
		if s.Start >= stop {
			return s.Start, s.Step, 0, true
		}
		return s.Start, s.Step, (stop - s.Start + s.Step - 1) / s.Step, true
	}
	return 0, 1, n, false
}

// Apply edits the header of one input (its dimensions, variables and
// attributes) as p says. Names the input lacks are passed over; a slice
// past the end of a dimension is an error.
func (p Preprocess) Apply(m *InputMeta) error {
	if p.IsZero() {
		return nil
	}
	// 1. drop_vars / keep_vars
	switch {
	case len(p.DropVars) > 0:
		m.Vars = slices.DeleteFunc(m.Vars, func(v source.Var) bool { return slices.Contains(p.DropVars, v.Name) })
	case len(p.KeepVars) > 0:
		m.Vars = keep(m.Vars, p.KeepVars)
	}
	// 2. isel
	for _, s := range p.Isel {
		i := slices.IndexFunc(m.Dims, func(d source.Dim) bool { return d.Name == s.Dim })
		if i < 0 {
			continue
		}
		n := m.Dims[i].Len
		if s.Start >= n || s.Stop > n {
			return fmt.Errorf("Preprocess.Isel[%q]: the slice %d:%d is past the end of dimension %q (size %d) in input %s",
				s.Dim, s.Start, s.Stop, s.Dim, n, m.Input.Source)
		}
		_, _, length, _ := p.sel(s.Dim, n)
		m.Dims[i].Len = length
		for vi := range m.Vars {
			v := &m.Vars[vi]
			if k := slices.Index(v.Dims, s.Dim); k >= 0 {
				v.Shape = slices.Clone(v.Shape)
				v.Shape[k] = length
				v.Chunks = nil // stored chunks no longer line up with the selection
			}
		}
	}
	// 3. rename
	for i := range m.Dims {
		m.Dims[i].Name = p.renamed(m.Dims[i].Name)
	}
	for vi := range m.Vars {
		v := &m.Vars[vi]
		v.Name = p.renamed(v.Name)
		v.Dims = slices.Clone(v.Dims)
		for k := range v.Dims {
			v.Dims[k] = p.renamed(v.Dims[k])
		}
	}
	if err := p.checkRenamed(m); err != nil {
		return err
	}
	// 4. attributes
	for _, e := range p.Attrs {
		if vi := slices.IndexFunc(m.Vars, func(v source.Var) bool { return v.Name == e.Var }); vi >= 0 {
			if err := e.checkTimes(m.Vars[vi]); err != nil {
				return err
			}
			m.Vars[vi].Attrs = e.apply(m.Vars[vi].Attrs)
		}
	}
	for _, e := range p.GlobalAttrs {
		m.Attrs = e.apply(m.Attrs)
	}
	return nil
}

// checkRenamed refuses renames that left input m with two variables or
// two dimensions of one name, naming the rename (the schema would else
// report a confusing disagreement between inputs).
func (p Preprocess) checkRenamed(m *InputMeta) error {
	seen := map[string]bool{}
	for _, d := range m.Dims {
		if seen["d/"+d.Name] {
			return p.collision(m, d.Name)
		}
		seen["d/"+d.Name] = true
	}
	for _, v := range m.Vars {
		if seen["v/"+v.Name] {
			return p.collision(m, v.Name)
		}
		seen["v/"+v.Name] = true
	}
	return nil
}

// collision is the error for a rename onto name, which input m has.
func (p Preprocess) collision(m *InputMeta, name string) error {
	from := p.original(name)
	return fmt.Errorf("Preprocess.Rename[%q]: input %s already has a variable or dimension %q; renaming %q to it would make "+
		"two of one name (xarray refuses it too): drop or rename that one first", from, m.Input.Source, name, from)
}

// keep returns the variables named in names and the coordinates (dimension
// coordinates and variables a kept one names in its coordinates attribute)
// whose dimensions the named ones use, as xarray's ds[names] does.
func keep(vars []source.Var, names []string) []source.Var {
	dims := map[string]bool{}
	coords := map[string]bool{}
	for _, v := range vars {
		if len(v.Dims) == 1 && v.Dims[0] == v.Name {
			coords[v.Name] = true
		}
		if a, ok := v.Attr("coordinates"); ok {
			if s, ok := a.Value.(string); ok {
				for _, c := range strings.Fields(s) {
					coords[c] = true
				}
			}
		}
		if slices.Contains(names, v.Name) {
			for _, d := range v.Dims {
				dims[d] = true
			}
		}
	}
	return slices.DeleteFunc(slices.Clone(vars), func(v source.Var) bool {
		if slices.Contains(names, v.Name) {
			return false
		}
		if !coords[v.Name] {
			return true
		}
		for _, d := range v.Dims {
			if !dims[d] {
				return true
			}
		}
		return false
	})
}

// checkTimes refuses an edit of units or calendar that would change which
// dates variable v's stored numbers mean (as xarray refuses to overwrite
// them on a decoded time): where v holds CF times ("days since ..."), or
// where the new units would make its numbers times. Values are never
// re-encoded, so the dates would shift silently.
func (e AttrEdit) checkTimes(v source.Var) error {
	if e.Name != "units" && e.Name != "calendar" {
		return nil
	}
	isTime := func(s string) bool { _, err := cftime.ParseUnits(s); return err == nil }
	now := ""
	if a, ok := v.Attr("units"); ok {
		now, _ = a.Value.(string)
	}
	key := fmt.Sprintf("Preprocess.Attrs[%q][%q]", e.Var, e.Name)
	switch {
	case isTime(now):
		return fmt.Errorf("%s: %q holds CF times (units %q); editing its %s would change the dates its stored numbers mean "+
			"without changing the numbers (values are not re-encoded; xarray refuses it too)", key, e.Var, now, e.Name)
	case e.Name == "units" && e.Text != nil && isTime(*e.Text):
		return fmt.Errorf("%s: %q would make %q's stored numbers CF times (values are not re-encoded; xarray refuses it too)", key, *e.Text, e.Var)
	}
	return nil
}

// apply sets or deletes e's attribute in attrs.
func (e AttrEdit) apply(attrs []source.Attr) []source.Attr {
	attrs = slices.DeleteFunc(slices.Clone(attrs), func(a source.Attr) bool { return a.Name == e.Name && e.Delete })
	if e.Delete {
		return attrs
	}
	a := source.Attr{Name: e.Name}
	switch {
	case e.Text != nil:
		a.Type, a.Value = source.Char, *e.Text
	case e.Integer:
		ints := make([]int64, len(e.Numbers))
		for i, x := range e.Numbers {
			ints[i] = int64(x)
		}
		a.Type, a.Value = source.Int64, ints
	default:
		a.Type, a.Value = source.Double, slices.Clone(e.Numbers)
	}
	if i := slices.IndexFunc(attrs, func(x source.Attr) bool { return x.Name == e.Name }); i >= 0 {
		attrs[i] = a
		return attrs
	}
	return append(attrs, a)
}

// CheckNames checks that every variable and dimension p names is in one of
// the inputs described by metas (headers before p), naming the key of the
// first that is not.
func (p Preprocess) CheckNames(metas []InputMeta) error {
	has := func(name string, dim bool) bool {
		for _, m := range metas {
			if _, ok := m.varByName(name); ok && !dim {
				return true
			}
			if _, ok := m.dim(name); ok {
				return true
			}
		}
		return false
	}
	for _, n := range p.DropVars {
		if !has(n, false) {
			return fmt.Errorf("Preprocess.DropVars: no input has a variable %q", n)
		}
	}
	for _, n := range p.KeepVars {
		if !has(n, false) {
			return fmt.Errorf("Preprocess.KeepVars: no input has a variable %q", n)
		}
	}
	for _, s := range p.Isel {
		if !has(s.Dim, true) {
			return fmt.Errorf("Preprocess.Isel[%q]: no input has a dimension %q", s.Dim, s.Dim)
		}
	}
	for _, r := range p.Rename {
		if !has(r.From, false) {
			return fmt.Errorf("Preprocess.Rename[%q]: no input has a variable or dimension %q", r.From, r.From)
		}
		renamedAway := slices.ContainsFunc(p.Rename, func(o Rename) bool { return o.From == r.To })
		if has(r.To, false) && !renamedAway {
			return fmt.Errorf("Preprocess.Rename[%q]: the inputs already have a variable or dimension %q; renaming %q to it would "+
				"make two of one name (xarray refuses it too): drop or rename that one first", r.From, r.To, r.From)
		}
	}
	for _, e := range p.Attrs {
		if !has(p.original(e.Var), false) {
			return fmt.Errorf("Preprocess.Attrs[%q]: no variable %q (after renames)", e.Var, e.Var)
		}
	}
	return nil
}

// Step is where a dimension's values start in the inputs and the step
// between them.
type Step struct{ Start, Step int64 }

// Bind records in every variable of s where its values are in the inputs
// once p has edited them: its name there (always, so that a user's step
// on the schema may rename it) and, per dimension, its start and step.
func (s *Schema) Bind(p Preprocess) {
	for i := range s.Vars {
		v := &s.Vars[i]
		v.InputName = p.original(v.Name)
		v.Sel = nil
		for k, d := range v.Dims {
			start, step, _, ok := p.sel(p.original(d), 1<<62)
			if !ok {
				continue
			}
			if v.Sel == nil {
				v.Sel = make([]Step, len(v.Dims))
				for j := range v.Sel {
					v.Sel[j].Step = 1
				}
			}
			v.Sel[k] = Step{Start: start, Step: step}
		}
	}
}

// Read is what to read from an input for the region start/count of v:
// the variable's name there, the hyperslab and, per dimension, the step
// between the values wanted (all 1 unless a preprocess isel strides). The
// hyperslab is in the input's dimensions: without v's Lead dimensions,
// which the inputs lack (start and count must be 0 and 1 along them).
func (v *Variable) Read(start, count []int64) (name string, inStart, inCount, step []int64) {
	name = v.Name
	if v.InputName != "" {
		name = v.InputName
	}
	inStart, inCount = slices.Clone(start), slices.Clone(count)
	step = make([]int64, len(start))
	for k := range step {
		step[k] = 1
		if k < len(v.Sel) {
			s := v.Sel[k]
			inStart[k] = s.Start + start[k]*s.Step
			if count[k] > 0 {
				inCount[k] = (count[k]-1)*s.Step + 1
			}
			step[k] = s.Step
		}
	}
	inStart, inCount, step = inStart[v.Lead:], inCount[v.Lead:], step[v.Lead:]
	if v.Width > 0 { // a folded char dimension is read whole
		inStart, inCount, step = append(inStart, 0), append(inCount, v.Width), append(step, 1)
	}
	return name, inStart, inCount, step
}
