package recipes

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zarrforge/zarrforge/internal/plan"
)

func in(concat int, merge []int, url string) plan.Input { return inAt([]int{concat}, merge, url) }

func inAt(concat, merge []int, url string) plan.Input {
	return plan.Input{Index: plan.Index{Concat: concat, Merge: merge}, Source: url, URL: url}
}

func TestInputs(t *testing.T) {
	tests := []struct {
		name string
		p    Pattern
		want []plan.Input
	}{
		{"no merge dims", Pattern{
			Template:  "/data/sst.{time}.nc",
			ConcatDim: ConcatDim{Name: "time", Keys: []string{"19810901", "19810902", "19810903"}},
		}, []plan.Input{
			in(0, nil, "/data/sst.19810901.nc"),
			in(1, nil, "/data/sst.19810902.nc"),
			in(2, nil, "/data/sst.19810903.nc"),
		}},
		{"one merge dim", Pattern{
			Template:  "file:///data/{variable}/oisst.{time}.nc",
			ConcatDim: ConcatDim{Name: "time", Keys: []string{"1", "2"}},
			MergeDims: []MergeDim{{Name: "variable", Keys: []string{"sst", "ice"}}},
		}, []plan.Input{
			in(0, []int{0}, "file:///data/sst/oisst.1.nc"),
			in(0, []int{1}, "file:///data/ice/oisst.1.nc"),
			in(1, []int{0}, "file:///data/sst/oisst.2.nc"),
			in(1, []int{1}, "file:///data/ice/oisst.2.nc"),
		}},
		{"two merge dims, placeholder used twice", Pattern{
			Template:  "gs://b/{run}/{var}/{t}/{var}_{t}.nc",
			ConcatDim: ConcatDim{Name: "t", Keys: []string{"a", "b"}},
			MergeDims: []MergeDim{{Name: "var", Keys: []string{"u", "v", "w"}}, {Name: "run", Range: &IntRange{Stop: ptr(int64(2))}}},
		}, []plan.Input{
			in(0, []int{0, 0}, "gs://b/0/u/a/u_a.nc"),
			in(0, []int{0, 1}, "gs://b/1/u/a/u_a.nc"),
			in(0, []int{1, 0}, "gs://b/0/v/a/v_a.nc"),
			in(0, []int{1, 1}, "gs://b/1/v/a/v_a.nc"),
			in(0, []int{2, 0}, "gs://b/0/w/a/w_a.nc"),
			in(0, []int{2, 1}, "gs://b/1/w/a/w_a.nc"),
			in(1, []int{0, 0}, "gs://b/0/u/b/u_b.nc"),
			in(1, []int{0, 1}, "gs://b/1/u/b/u_b.nc"),
			in(1, []int{1, 0}, "gs://b/0/v/b/v_b.nc"),
			in(1, []int{1, 1}, "gs://b/1/v/b/v_b.nc"),
			in(1, []int{2, 0}, "gs://b/0/w/b/w_b.nc"),
			in(1, []int{2, 1}, "gs://b/1/w/b/w_b.nc"),
		}},
		{"two concat dims and a merge dim", Pattern{
			Template:   "/e/{member}/{var}_{time}.nc",
			ConcatDims: []ConcatDim{{Name: "time", Keys: []string{"a", "b"}}, {Name: "member", Range: &IntRange{Stop: ptr(int64(2))}}},
			MergeDims:  []MergeDim{{Name: "var", Keys: []string{"u", "v"}}},
		}, []plan.Input{
			inAt([]int{0, 0}, []int{0}, "/e/0/u_a.nc"),
			inAt([]int{0, 0}, []int{1}, "/e/0/v_a.nc"),
			inAt([]int{0, 1}, []int{0}, "/e/1/u_a.nc"),
			inAt([]int{0, 1}, []int{1}, "/e/1/v_a.nc"),
			inAt([]int{1, 0}, []int{0}, "/e/0/u_b.nc"),
			inAt([]int{1, 0}, []int{1}, "/e/0/v_b.nc"),
			inAt([]int{1, 1}, []int{0}, "/e/1/u_b.nc"),
			inAt([]int{1, 1}, []int{1}, "/e/1/v_b.nc"),
		}},
		{"template is only a placeholder", Pattern{
			Template:  "{f}",
			ConcatDim: ConcatDim{Name: "f", Keys: []string{"x.nc", "file:///y.nc"}},
		}, []plan.Input{in(0, nil, "x.nc"), in(1, nil, "file:///y.nc")}},
	}
	for _, tt := range tests {
		got, err := tt.p.Inputs()
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Inputs() =\n%v\nwant\n%v", tt.name, got, tt.want)
		}
		if n := tt.p.NumInputs(); n != len(tt.want) {
			t.Errorf("%s: NumInputs() = %d, want %d", tt.name, n, len(tt.want))
		}
	}
}

func TestInputsInvalid(t *testing.T) {
	p := Pattern{Template: "/d/{tme}.nc", ConcatDim: ConcatDim{Name: "time", Keys: []string{"1"}}}
	want := "recipes: pattern.template: placeholder {tme} is not a declared dimension (declared: time)"
	if _, err := p.Inputs(); err == nil || err.Error() != want {
		t.Errorf("Inputs(): got error %v, want %s", err, want)
	}
	if n := p.NumInputs(); n != 0 {
		t.Errorf("NumInputs() = %d, want 0", n)
	}
	if got := p.Prune(1); !reflect.DeepEqual(got, p) {
		t.Errorf("Prune of an invalid pattern changed it: %+v", got)
	}
}

// TestConcatDimsInvalid: mistakes in concat_dims are refused, naming the
// field.
func TestConcatDimsInvalid(t *testing.T) {
	keys := []string{"a"}
	for _, tt := range []struct {
		p    Pattern
		want string
	}{
		{Pattern{Template: "{t}{m}", ConcatDim: ConcatDim{Name: "t", Keys: keys}, ConcatDims: []ConcatDim{{Name: "m", Keys: keys}}},
			"pattern: give concat_dim or concat_dims, not both"},
		{Pattern{Template: "{t}", ConcatDims: []ConcatDim{{Name: "t", Keys: keys}, {Name: "t", Keys: keys}}},
			`pattern.concat_dims[1].name: dimension "t" is already declared by pattern.concat_dims[0]`},
		{Pattern{Template: "{t}{m}", ConcatDims: []ConcatDim{{Name: "t", Keys: keys}, {Name: "m", Keys: keys, NItemsPerFile: -2}}},
			"pattern.concat_dims[1].nitems_per_file: must be >= 1 when given, got -2"},
		{Pattern{Template: "{t}", ConcatDims: []ConcatDim{{Name: "t", Keys: keys}, {Name: "m", Keys: keys}}},
			`pattern.template: dimension "m" (pattern.concat_dims[1]) does not appear as {m}`},
		{Pattern{Template: "{t}{m}", ConcatDims: []ConcatDim{{Name: "t", Keys: keys}, {Name: "m"}}},
			"pattern.concat_dims[1].keys: missing; give keys, dates or range"},
	} {
		if _, err := tt.p.Inputs(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: got error %v, want %s", tt.p, err, tt.want)
		}
	}
}

// TestConcatDimsKeys: the keys of each concat dimension go to the schema
// stage, which makes them the coordinate of a dimension the inputs lack:
// strings, the numbers of a range, dates as seconds since 1970.
func TestConcatDimsKeys(t *testing.T) {
	p := Pattern{Template: "{t:%Y%m%d}{m}{r}", ConcatDims: []ConcatDim{
		{Name: "t", Dates: &DateRange{Start: "1970-01-02", End: "1970-01-03", Step: "1d"}, NItemsPerFile: 1},
		{Name: "m", Keys: []string{"x", "y"}},
		{Name: "r", Range: &IntRange{Start: 5, Stop: ptr(int64(11)), Step: ptr(int64(3)), Format: "%03d"}},
	}}
	e, err := p.expand()
	if err != nil {
		t.Fatal(err)
	}
	got := e.concatDims(p)
	want := []plan.ConcatDim{
		{Name: "t", NItemsPerFile: 1, Keys: []string{"1970-01-02T00:00:00Z", "1970-01-03T00:00:00Z"}, Values: []int64{86400, 172800}, Units: plan.EpochUnits},
		{Name: "m", Keys: []string{"x", "y"}},
		{Name: "r", Keys: []string{"005", "008"}, Values: []int64{5, 8}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("concat dims\n%+v\nwant\n%+v", got, want)
	}
	if q := p.Prune(1); len(q.ConcatDims[0].Keys)+len(p.ConcatDims[0].Keys) != 0 || q.NumInputs() != 1*2*2 || p.NumInputs() != 2*2*2 {
		t.Errorf("Prune(1) of concat_dims: %+v, %d inputs", q.ConcatDims[0], q.NumInputs())
	}
}

func TestDateKeys(t *testing.T) {
	tests := []struct {
		name string
		r    DateRange
		want []string
	}{
		{"daily, end inclusive", DateRange{Start: "1981-09-01", End: "1981-09-03", Step: "1d", Layout: "20060102"},
			[]string{"19810901", "19810902", "19810903"}},
		{"one day", DateRange{Start: "1981-09-01", End: "1981-09-01", Step: "1d", Layout: "2006-01-02"}, []string{"1981-09-01"}},
		{"end between steps", DateRange{Start: "2000-02-27", End: "2000-03-02", Step: "2d", Layout: "0102"},
			[]string{"0227", "0229", "0302"}},
		{"six-hourly with times", DateRange{Start: "1999-12-31T12:00", End: "2000-01-01 06:00:00", Step: "6h", Layout: "2006010215"},
			[]string{"1999123112", "1999123118", "2000010100", "2000010106"}},
		{"monthly", DateRange{Start: "1999-11-15", End: "2000-02-14", Step: "1mo", Layout: "200601"},
			[]string{"199911", "199912", "200001"}},
		{"quarterly", DateRange{Start: "1999-01-01", End: "1999-12-31", Step: "3mo", Layout: "2006-01"},
			[]string{"1999-01", "1999-04", "1999-07", "1999-10"}},
		{"before 1970", DateRange{Start: "1900-02-27", End: "1900-03-01", Step: "1d", Layout: "2006/01/02"},
			[]string{"1900/02/27", "1900/02/28", "1900/03/01"}},
	}
	for _, tt := range tests {
		times, err := tt.r.times("dates")
		got := tt.r.keys(times)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: keys() = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestDateKeysErrors(t *testing.T) {
	ok := DateRange{Start: "1981-09-01", End: "1981-09-30", Step: "1d", Layout: "20060102"}
	with := func(f func(*DateRange)) DateRange { r := ok; f(&r); return r }
	tests := []struct {
		name string
		r    DateRange
		want string
	}{
		{"start missing", with(func(r *DateRange) { r.Start = "" }), "d.start: missing"},
		{"start not a date", with(func(r *DateRange) { r.Start = "19810901" }), `d.start: "19810901" is not a date like 1981-09-01 or 1981-09-01T06:00`},
		{"end missing", with(func(r *DateRange) { r.End = "" }), "d.end: missing"},
		{"end before start", with(func(r *DateRange) { r.End = "1981-08-31" }), "d.end: 1981-08-31 is before start 1981-09-01"},
		{"step missing", with(func(r *DateRange) { r.Step = "" }), `d.step: "": want a positive count of days, hours or months: 1d, 6h, 1mo`},
		{"step zero", with(func(r *DateRange) { r.Step = "0d" }), `d.step: "0d": want a positive count`},
		{"step minutes", with(func(r *DateRange) { r.Step = "30m" }), `d.step: "30m": want a positive count`},
		{"step huge", with(func(r *DateRange) { r.Step = "99999999999999999999d" }), `d.step: "99999999999999999999d": want a positive count`},
		{"monthly from the 31st", with(func(r *DateRange) { r.Start, r.Step = "1981-01-31", "1mo" }), "d.start: monthly steps need a start day of at most 28"},
		{"too many", with(func(r *DateRange) { r.Start, r.End, r.Step = "0001-01-01", "9999-01-01", "1h" }), "d: 87640657 keys, more than the limit of 1000000"},
	}
	for _, tt := range tests {
		_, err := tt.r.times("d")
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: got error %v, want %s", tt.name, err, tt.want)
		}
	}
	// A layout that makes wide keys is refused before they are made.
	wide := Pattern{Template: "{t}", ConcatDim: ConcatDim{Name: "t", Dates: &DateRange{Start: "2000-01-01", End: "2000-01-02", Step: "1d", Layout: strings.Repeat("x", 2000) + "20060102"}}}
	if _, err := wide.Inputs(); err == nil || !strings.Contains(err.Error(), "pattern.concat_dim.dates.layout: keys of 2008 characters, more than the limit of 1024") {
		t.Errorf("a wide layout: %v", err)
	}
	// A layout that hides the step repeats keys; the pattern rejects that.
	p := Pattern{Template: "{t}", ConcatDim: ConcatDim{Name: "t", Dates: &DateRange{Start: "2000-01-01", End: "2000-01-02", Step: "6h", Layout: "20060102"}}}
	want := `recipes: pattern.concat_dim.dates: key "20000101" is generated twice; does the layout or format show every step?`
	if _, err := p.Inputs(); err == nil || err.Error() != want {
		t.Errorf("got error %v, want %s", err, want)
	}
}

func TestRangeKeys(t *testing.T) {
	tests := []struct {
		name string
		r    IntRange
		want []string
	}{
		{"defaults", IntRange{Stop: ptr(int64(3))}, []string{"0", "1", "2"}},
		{"padded", IntRange{Start: 8, Stop: ptr(int64(11)), Format: "%03d"}, []string{"008", "009", "010"}},
		{"step", IntRange{Start: 1, Stop: ptr(int64(8)), Step: ptr(int64(3))}, []string{"1", "4", "7"}},
		{"stop on a step", IntRange{Start: 0, Stop: ptr(int64(6)), Step: ptr(int64(3))}, []string{"0", "3"}},
		{"down", IntRange{Start: 3, Stop: ptr(int64(0)), Step: ptr(int64(-1))}, []string{"3", "2", "1"}},
		{"negative", IntRange{Start: -2, Stop: ptr(int64(1)), Format: "m%+d"}, []string{"m-2", "m-1", "m+0"}},
		{"hex", IntRange{Start: 9, Stop: ptr(int64(12)), Format: "%x.nc"}, []string{"9.nc", "a.nc", "b.nc"}},
		{"extremes", IntRange{Start: -1 << 63, Stop: ptr(int64(1<<63 - 1)), Step: ptr(int64(1 << 62))},
			[]string{"-9223372036854775808", "-4611686018427387904", "0", "4611686018427387904"}},
	}
	for _, tt := range tests {
		got, _, err := tt.r.keys("range")
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: keys() = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestRangeKeysErrors(t *testing.T) {
	tests := []struct {
		name string
		r    IntRange
		want string
	}{
		{"stop missing", IntRange{}, "r.stop: missing (the range stops before it)"},
		{"step zero", IntRange{Stop: ptr(int64(3)), Step: ptr(int64(0))}, "r.step: must not be 0"},
		{"empty", IntRange{Start: 3, Stop: ptr(int64(3))}, "r: start 3, stop 3, step 1 give no keys"},
		{"wrong direction", IntRange{Start: 0, Stop: ptr(int64(3)), Step: ptr(int64(-1))}, "r: start 0, stop 3, step -1 give no keys"},
		{"no verb", IntRange{Stop: ptr(int64(3)), Format: "member"}, `r.format: "member": want a format with one integer verb, such as %03d`},
		{"string verb", IntRange{Stop: ptr(int64(3)), Format: "%s"}, `r.format: "%s": want a format`},
		{"two verbs", IntRange{Stop: ptr(int64(3)), Format: "%d%d"}, `r.format: "%d%d": want a format`},
		{"too many", IntRange{Stop: ptr(int64(2_000_000))}, "r: 2000000 keys, more than the limit of 1000000"},
		// Refused before expanding (issue 29, item 14: a fatal out-of-memory).
		{"wide keys", IntRange{Stop: ptr(int64(1_000_000)), Format: "%0100000d"}, "r.format: keys of 100000 characters, more than the limit of 1024"},
		{"keys too large together", IntRange{Stop: ptr(int64(1_000_000)), Format: "%01000d"}, "r.format: 1000000 keys of 1000 characters, more than the limit of 64 MiB of keys"},
	}
	for _, tt := range tests {
		_, _, err := tt.r.keys("r")
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: got error %v, want %s", tt.name, err, tt.want)
		}
	}
}

func TestTooManyInputs(t *testing.T) {
	p := Pattern{
		Template:  "{a}{b}{c}",
		ConcatDim: ConcatDim{Name: "a", Range: &IntRange{Stop: ptr(int64(1000))}},
		MergeDims: []MergeDim{{Name: "b", Range: &IntRange{Stop: ptr(int64(1000))}}, {Name: "c", Range: &IntRange{Stop: ptr(int64(1000))}}},
	}
	want := "recipes: pattern: names more than 10000000 inputs"
	if _, err := p.Inputs(); err == nil || err.Error() != want {
		t.Errorf("got error %v, want %s", err, want)
	}
}

func TestPrune(t *testing.T) {
	p := Pattern{
		Template:  "/d/{v}/{t}.nc",
		ConcatDim: ConcatDim{Name: "t", Dates: &DateRange{Start: "2000-01-01", End: "2000-12-31", Step: "1d", Layout: "20060102"}},
		MergeDims: []MergeDim{{Name: "v", Keys: []string{"a", "b"}}},
	}
	tests := []struct {
		n    int
		want []string
	}{
		{2, []string{"20000101", "20000102"}},
		{1, []string{"20000101"}},
		{0, []string{}},
		{-1, []string{}},
	}
	for _, tt := range tests {
		q := p.Prune(tt.n)
		in, _ := q.Inputs()
		var keys []string
		for _, x := range in {
			if x.Index.Merge[0] == 0 {
				keys = append(keys, strings.TrimSuffix(strings.TrimPrefix(x.URL, "/d/a/"), ".nc"))
			}
		}
		if !reflect.DeepEqual(keys, tt.want) && len(keys)+len(tt.want) > 0 {
			t.Errorf("Prune(%d): concat dim %+v gives keys %v, want %v", tt.n, q.ConcatDim, keys, tt.want)
		}
		if got := q.NumInputs(); got != 2*len(tt.want) {
			t.Errorf("Prune(%d).NumInputs() = %d", tt.n, got)
		}
	}
	if got := p.Prune(1000).NumInputs(); got != 2*366 {
		t.Errorf("Prune(1000) kept %d inputs, want all %d", got, 2*366)
	}
	// Pruning leaves the original alone.
	explicit := Pattern{Template: "{t}", ConcatDim: ConcatDim{Name: "t", Keys: []string{"a", "b", "c"}}}
	q := explicit.Prune(2)
	q.ConcatDim.Keys[0] = "changed"
	if explicit.ConcatDim.Keys[0] != "a" || p.ConcatDim.Dates == nil {
		t.Errorf("Prune changed its receiver")
	}
}

// TestStrftimeTemplates: placeholders of generated dates with a strftime
// format each; the template's literal digits are never rewritten (a Go
// layout in dates.layout would turn "v02r01" into "v01r09").
func TestStrftimeTemplates(t *testing.T) {
	p := Pattern{
		Template:  "https://host/{time:%Y%m}/oisst-avhrr-v02r01.{time:%Y%m%d}.nc",
		ConcatDim: ConcatDim{Name: "time", Dates: &DateRange{Start: "1981-12-31", End: "1982-01-01", Step: "1d"}},
	}
	in, err := p.Inputs()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://host/198112/oisst-avhrr-v02r01.19811231.nc", "https://host/198201/oisst-avhrr-v02r01.19820101.nc"}
	if len(in) != 2 || in[0].URL != want[0] || in[1].URL != want[1] {
		t.Errorf("inputs %+v, want %v", in, want)
	}
	if got := strftime(time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC), "%Y-%y-%m-%d %H:%M:%S %j %%"); got != "2001-01-02-03 04:05:06 034 %" {
		t.Errorf("strftime: %q", got)
	}
	for tmpl, msg := range map[string]string{
		"h/{time:%Y%q}.nc": `unsupported strftime directive "%q"`,
		"h/{time}.nc":      "give the dates a format, as {time:%Y%m%d}, or pattern.concat_dim.dates.layout",
	} {
		p := p
		p.Template = tmpl
		if _, err := p.Inputs(); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want %q", tmpl, err, msg)
		}
	}
	p.ConcatDim = ConcatDim{Name: "time", Keys: []string{"a"}}
	p.Template = "h/{time:%Y}.nc"
	if _, err := p.Inputs(); err == nil || !strings.Contains(err.Error(), "needs keys generated as dates") {
		t.Errorf("a format on keys: %v", err)
	}
}

// TestPruneDates: pruning generated dates keeps them dates, so a template
// that formats them still works.
func TestPruneDates(t *testing.T) {
	p := Pattern{
		Template:  "https://host/{time:%Y%m}/f.{time:%Y%m%d}.nc",
		ConcatDim: ConcatDim{Name: "time", Dates: &DateRange{Start: "1981-09-01", End: "1982-08-31", Step: "1d"}},
	}
	in, err := p.Prune(2).Inputs()
	if err != nil || len(in) != 2 || in[1].URL != "https://host/198109/f.19810902.nc" {
		t.Fatalf("pruned to %+v, %v", in, err)
	}
	if p.ConcatDim.Dates.End != "1982-08-31" {
		t.Error("Prune changed the pattern it was given")
	}
}
