package grib

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// record is what the cube needs of one field: the keys cfgrib indexes
// it by.
type record struct {
	f         *Field
	param     Param
	level     string  // typeOfLevel
	levelVal  float64 // level, as a float
	time      int64   // reference time, seconds since 1970
	step      float64 // endStep, hours
	number    int
	ensemble  bool // number is defined (templates 4.1, 4.11)
	stepType  string
	dataType  string
	gridType  string
	keys      map[string]string // the keys a filter may name
	centre    string
	centreDes string
}

// filterKeys are the keys Options.Filter may name for GRIB inputs.
var filterKeys = []string{"centre", "cfVarName", "dataType", "discipline", "edition", "gridType", "level", "number",
	"numberOfPoints", "paramId", "parameterCategory", "parameterNumber", "productDefinitionTemplateNumber",
	"shortName", "step", "stepType", "stepUnits", "typeOfLevel"}

// dataTypes are the abbreviations of code table 1.4, ecCodes' dataType.
var dataTypes = map[int]string{0: "an", 1: "fc", 2: "af", 3: "cf", 4: "pf", 5: "cp", 6: "sa", 7: "ra", 8: "ep"}

// newRecord reads f's keys.
func newRecord(f *Field) (record, error) {
	r := record{f: f, stepType: f.Product.StepType(), gridType: "regular_ll"}
	var err error
	keys := f.conceptKeys()
	if r.param, err = f.param(keys); err != nil {
		return r, err
	}
	if r.level, err = typeOfLevel(keys); err != nil {
		return r, err
	}
	if r.centre, r.centreDes, err = f.Centre(); err != nil {
		return r, err
	}
	if r.step, err = f.Product.Step(); err != nil {
		return r, err
	}
	r.levelVal = f.Level()
	id := f.Ident
	r.time = time.Date(id.Year, time.Month(id.Month), id.Day, id.Hour, id.Minute, id.Sec, 0, time.UTC).Unix()
	r.number, r.ensemble = f.Product.Perturbation, f.Product.Template == 1 || f.Product.Template == 11
	r.dataType = dataTypes[id.TypeOfProcessedData]
	if r.dataType == "" {
		r.dataType = strconv.Itoa(id.TypeOfProcessedData)
	}
	if f.Grid.Template == 40 {
		r.gridType = "regular_gg"
	}
	r.keys = map[string]string{
		"centre": r.centre, "cfVarName": r.param.CFVarName, "dataType": r.dataType, "discipline": itoa(f.Discipline),
		"edition": "2", "gridType": r.gridType, "level": number(r.levelVal), "numberOfPoints": itoa(f.Grid.Points),
		"paramId": itoa(r.param.ID), "parameterCategory": itoa(f.Product.Category), "parameterNumber": itoa(f.Product.Number),
		"productDefinitionTemplateNumber": itoa(f.Product.Template), "shortName": r.param.ShortName,
		"step": number(r.step), "stepType": r.stepType, "stepUnits": "1", "typeOfLevel": r.level,
	}
	if r.ensemble {
		r.keys["number"] = itoa(r.number)
	}
	return r, nil
}

// number prints a float as ecCodes and YAML print numbers: 500, 0.5.
func number(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// matches reports whether r has every key of filter at its value: the
// same text, or the same number (a filter's 500.0 or 1.50 is a level of
// 500, a step of 1.5).
func (r *record) matches(filter map[string]string) bool {
	for k, v := range filter {
		if have := r.keys[k]; have != v && !sameNumber(have, v) {
			return false
		}
	}
	return true
}

func sameNumber(a, b string) bool {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	return errA == nil && errB == nil && x == y
}

// varName is the name cfgrib gives r's variable: its cfVarName, else its
// shortName, else paramId_<id>.
func (r *record) varName() string {
	switch {
	case r.param.CFVarName != "unknown" && r.param.CFVarName != "undef":
		return r.param.CFVarName
	case r.param.ShortName != "unknown":
		return r.param.ShortName
	}
	return "paramId_" + itoa(r.param.ID)
}

// headerAxis is one of a variable's header coordinates (number, time, step,
// the level): its distinct values, in cfgrib's order.
type headerAxis struct {
	name   string
	values []float64
	index  map[float64]int
}

// cubeVar is one variable of the cube: its records placed on its axes.
type cubeVar struct {
	name  string
	first *record
	axes  []headerAxis    // header axes, squeezed ones included (len 1)
	cells map[int]*record // by flat index over the axes
}

// dims returns the names and lengths of the axes that are dimensions
// (longer than one: cfgrib squeezes the others).
func (v *cubeVar) dims() ([]string, []int64) {
	var names []string
	var shape []int64
	for _, a := range v.axes {
		if len(a.values) > 1 {
			names, shape = append(names, a.name), append(shape, int64(len(a.values)))
		}
	}
	return names, shape
}

// keyOf returns the value of record r on the header axis called name.
func (v *cubeVar) keyOf(r *record, k int) float64 {
	switch k {
	case 0:
		return float64(r.number)
	case 1:
		return float64(r.time)
	case 2:
		return r.step
	}
	return r.levelVal
}

// newCubeVar places the records of one parameter on their axes: number
// (for ensembles), time, step, the level; cfgrib's unique keys must have
// one value each, a grid one shape, and a cell one record.
func newCubeVar(rs []*record, filter map[string]string, all []*record) (*cubeVar, error) {
	v := &cubeVar{name: rs[0].varName(), first: rs[0], cells: map[int]*record{}}
	if err := unique(rs, filter, all); err != nil {
		return nil, err
	}
	names := []string{"number", "time", "step", rs[0].level}
	for k, name := range names {
		if k == 0 && !rs[0].ensemble {
			continue
		}
		a := headerAxis{name: name, index: map[float64]int{}}
		for _, r := range rs {
			if x := v.keyOf(r, k); !slices.Contains(a.values, x) {
				a.values = append(a.values, x)
			}
		}
		slices.Sort(a.values)
		if name == "isobaricInhPa" || name == "isobaricInPa" { // stored_direction: decreasing
			slices.Reverse(a.values)
		}
		for i, x := range a.values {
			a.index[x] = i
		}
		v.axes = append(v.axes, a)
	}
	if err := v.checkSparse(len(rs)); err != nil {
		return nil, err
	}
	return v, v.place(rs)
}

// checkSparse refuses a cube of far more cells than messages (each
// message with other times, steps and levels): it would be written as a
// store of NaN, larger than anything the file holds.
func (v *cubeVar) checkSparse(messages int) error {
	cells, lens := 1.0, []string{} // a float: the product of hostile lengths overflows an int
	for _, a := range v.axes {
		cells *= float64(len(a.values))
		lens = append(lens, fmt.Sprintf("%d %s", len(a.values), a.name))
	}
	if cells > 1<<20 && cells > 4*float64(messages) {
		return fmt.Errorf("messages do not form one hypercube: %d messages of %s span %s, %g cells; read fewer at a time with pattern.grib.filter_by_keys",
			messages, v.name, strings.Join(lens, " x "), cells)
	}
	return nil
}

// place puts each record in its cell, refusing two in one (cfgrib keeps
// the first and drops the others without a word).
func (v *cubeVar) place(rs []*record) error {
	for _, r := range rs {
		if r.f.Grid != v.first.f.Grid {
			return fmt.Errorf("messages do not form one hypercube: %s of the messages at bytes %d and %d lies on different grids (%s); read them apart with pattern.grib.filter_by_keys",
				v.name, v.first.f.Offset(), r.f.Offset(), gridDiff(v.first.f.Grid, r.f.Grid))
		}
		at := 0
		for k, a := range v.axes {
			at = at*len(a.values) + a.index[v.keyOf(r, v.axisKind(k))]
		}
		if o, ok := v.cells[at]; ok {
			return fmt.Errorf("messages at bytes %d and %d both hold %s at %s: cfgrib would keep the first and drop the other; %s",
				o.f.Offset(), r.f.Offset(), v.name, v.cellText(r), separate(o, r))
		}
		v.cells[at] = r
	}
	return nil
}

// axisKind is the kind (0 number, 1 time, 2 step, 3 level) of axis k.
func (v *cubeVar) axisKind(k int) int {
	if v.first.ensemble {
		return k
	}
	return k + 1
}

// cellText names the cell of r: "time=..., step=6, isobaricInhPa=500".
func (v *cubeVar) cellText(r *record) string {
	var parts []string
	for k, a := range v.axes {
		x := v.keyOf(r, v.axisKind(k))
		s := number(x)
		if a.name == "time" {
			s = time.Unix(int64(x), 0).UTC().Format(time.RFC3339)
		}
		parts = append(parts, a.name+"="+s)
	}
	return strings.Join(parts, ", ")
}

// separate suggests the filter that tells two records of one cell apart,
// or says they are the same field twice.
func separate(a, b *record) string {
	for _, k := range slices.Sorted(maps.Keys(a.keys)) {
		if a.keys[k] != b.keys[k] {
			return fmt.Sprintf("they differ in %s (%s, %s): read them apart with pattern.grib.filter_by_keys {%s: %s} or {%s: %s}",
				k, a.keys[k], b.keys[k], k, a.keys[k], k, b.keys[k])
		}
	}
	return "their keys are the same: the file holds the field twice; remove one copy (grib_copy can)"
}

// uniqueKeys are the keys cfgrib wants one value of in each variable.
var uniqueKeys = []string{"paramId", "dataType", "numberOfPoints", "typeOfLevel", "stepUnits", "stepType", "gridType"}

// unique refuses a variable whose records differ in one of the unique
// keys, naming the filters that would separate them (cfgrib's
// "multiple values for unique key": its values among all the records).
func unique(rs []*record, filter map[string]string, all []*record) error {
	for _, k := range uniqueKeys {
		if vals := distinct(rs, k); len(vals) > 1 {
			return notOneCube(rs[0].varName(), k, distinct(all, k), filter)
		}
	}
	if slices.ContainsFunc(rs, func(r *record) bool { return r.ensemble != rs[0].ensemble }) {
		return fmt.Errorf("messages do not form one hypercube: %s has ensemble members and fields that are none; read them apart with pattern.grib.filter_by_keys {productDefinitionTemplateNumber: ...}", rs[0].varName())
	}
	return nil
}

func distinct(rs []*record, key string) []string {
	var out []string
	for _, r := range rs {
		if v := r.keys[key]; !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// notOneCube is the error for messages whose key differs: a filter for
// each of its values.
func notOneCube(what, key string, values []string, filter map[string]string) error {
	var filters []string
	for _, v := range values {
		f := maps.Clone(filter)
		if f == nil {
			f = map[string]string{}
		}
		f[key] = v
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(f)) {
			kv = append(kv, k+": "+f[k])
		}
		filters = append(filters, "{"+strings.Join(kv, ", ")+"}")
	}
	return fmt.Errorf("messages do not form one hypercube: %s has several %s (%s); read one at a time with pattern.grib.filter_by_keys %s",
		what, key, strings.Join(values, ", "), strings.Join(filters, " or "))
}

// gridDiff says how two grids differ.
func gridDiff(a, b Grid) string {
	return fmt.Sprintf("%d x %d points from %g,%g to %g,%g; %d x %d from %g,%g to %g,%g",
		a.Ni, a.Nj, a.Lat1, a.Lon1, a.Lat2, a.Lon2, b.Ni, b.Nj, b.Lat1, b.Lon1, b.Lat2, b.Lon2)
}

// byParam groups the records by parameter, in the order the parameters
// first appear.
func byParam(rs []*record) [][]*record {
	var out [][]*record
	at := map[int]int{}
	for _, r := range rs {
		i, ok := at[r.param.ID]
		if !ok {
			i = len(out)
			at[r.param.ID] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], r)
	}
	return out
}
