package recipes

import (
	"fmt"
	"maps"
	"slices"

	"github.com/zarrforge/zarrforge/internal/plan"
)

// Preprocess is the "preprocess" section of a recipe: edits applied to
// every input as xarray applies them to each dataset before combining, in
// this order (each optional):
//
//	preprocess:
//	  drop_vars: [err]                            # ds.drop_vars(...), or
//	  keep_vars: [sst, ice]                       # ds[[...]]: these and the coordinates they use
//	  isel: {lat: {start: 0, stop: 360, step: 1}} # ds.isel(lat=slice(0, 360, 1)); never the concat dim
//	  rename: {sst: analysed_sst, lon: longitude} # ds.rename(...): variables and dimensions
//	  attrs: {analysed_sst: {long_name: "Analysed SST", comment: null}}  # by new names; null deletes
//	  global_attrs: {title: "OISST subset", history: null}
//
// It is the YAML form of transforms.Preprocess (see Edits).
type Preprocess struct {
	DropVars    []string                  `yaml:"drop_vars"`
	KeepVars    []string                  `yaml:"keep_vars"`
	Isel        map[string]Slice          `yaml:"isel"`
	Rename      map[string]string         `yaml:"rename"`
	Attrs       map[string]map[string]any `yaml:"attrs"`
	GlobalAttrs map[string]any            `yaml:"global_attrs"`
}

// Slice is an index range of isel: start (default 0), stop (default the
// dimension's end) and step (default 1), as Python's slice.
type Slice struct {
	Start int64  `yaml:"start"`
	Stop  *int64 `yaml:"stop"`
	Step  *int64 `yaml:"step"`
}

// Edits returns the section as the schema stage takes it, validated for
// inputs concatenated along the dimensions concat. Errors name the key.
func (p *Preprocess) Edits(concat []string) (plan.Preprocess, error) {
	if p == nil {
		return plan.Preprocess{}, nil
	}
	out := plan.Preprocess{DropVars: p.DropVars, KeepVars: p.KeepVars}
	for _, dim := range slices.Sorted(maps.Keys(p.Isel)) {
		s := p.Isel[dim]
		sel := plan.Sel{Dim: dim, Start: s.Start, Step: 1}
		if s.Stop != nil {
			if *s.Stop <= s.Start {
				return plan.Preprocess{}, fmt.Errorf("preprocess.isel.%s: stop %d must be after start %d", dim, *s.Stop, s.Start)
			}
			sel.Stop = *s.Stop
		}
		if s.Step != nil {
			sel.Step = *s.Step
		}
		out.Isel = append(out.Isel, sel)
	}
	for _, from := range slices.Sorted(maps.Keys(p.Rename)) {
		out.Rename = append(out.Rename, plan.Rename{From: from, To: p.Rename[from]})
	}
	for _, v := range slices.Sorted(maps.Keys(p.Attrs)) {
		for _, name := range slices.Sorted(maps.Keys(p.Attrs[v])) {
			e, err := attrEdit(v, name, p.Attrs[v][name])
			if err != nil {
				return plan.Preprocess{}, fmt.Errorf("preprocess.attrs.%s.%s: %w", v, name, err)
			}
			out.Attrs = append(out.Attrs, e)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.GlobalAttrs)) {
		e, err := attrEdit("", name, p.GlobalAttrs[name])
		if err != nil {
			return plan.Preprocess{}, fmt.Errorf("preprocess.global_attrs.%s: %w", name, err)
		}
		out.GlobalAttrs = append(out.GlobalAttrs, e)
	}
	if err := out.Validate(concat); err != nil {
		return plan.Preprocess{}, err
	}
	return out, nil
}

// attrEdit converts a YAML attribute value: null deletes; a text, a number
// or a list of numbers sets (integers stay integers, as in Python).
func attrEdit(v, name string, value any) (plan.AttrEdit, error) {
	e := plan.AttrEdit{Var: v, Name: name}
	var list []any
	switch x := value.(type) {
	case nil:
		e.Delete = true
		return e, nil
	case string:
		e.Text = &x
		return e, nil
	case []any:
		list = x
	default:
		list = []any{x}
	}
	if len(list) == 0 {
		return e, fmt.Errorf("an empty list; give a text, a number or a list of numbers (null deletes)")
	}
	e.Integer = listOfInts(list)
	for _, item := range list {
		switch n := item.(type) {
		case int:
			e.Numbers = append(e.Numbers, float64(n))
		case float64:
			e.Numbers = append(e.Numbers, n)
		default:
			return e, fmt.Errorf("%v (%T) is not a text, a number or a list of numbers", item, item)
		}
	}
	return e, nil
}

// listOfInts reports whether every item YAML decoded is an integer.
func listOfInts(list []any) bool {
	for _, item := range list {
		if _, ok := item.(int); !ok {
			return false
		}
	}
	return true
}
