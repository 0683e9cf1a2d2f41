package recipes

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/storage"
	"go.yaml.in/yaml/v3"
)

// Pattern is the "pattern" section of a recipe: a URL template whose
// {dim} placeholders are filled with the keys of each dimension. The inputs
// are every combination of one key per concat dimension and one key per
// merge dimension.
//
// Each dimension's keys are given in exactly one of three ways:
//
//	keys: ["19810901", "19810902"]          # explicit, in order
//	dates: {start: "1981-09-01", end: "1981-09-30", step: 1d, layout: "20060102"}
//	range: {start: 0, stop: 10, step: 1, format: "%03d"}
//
// See DateRange and IntRange.
type Pattern struct {
	// Template is the input URL or path with a {name} placeholder for
	// every dimension, e.g. "file:///data/{variable}/oisst.{time}.nc"
	// ("template", required). Plain paths and URLs are used as written.
	Template string `yaml:"template"`
	// ConcatDim is the dimension the inputs are concatenated along
	// ("concat_dim"; this or concat_dims is required).
	ConcatDim ConcatDim `yaml:"concat_dim"`
	// ConcatDims are several dimensions the inputs are concatenated along,
	// as xarray.combine_nested does: the inputs are every combination of
	// their keys, the first dimension varying slowest ("concat_dims",
	// instead of concat_dim). A dimension the inputs lack (ensemble
	// members) is added: each input is one step along it, its data
	// variables gain it in front of their dimensions, and its keys are its
	// coordinate (integers for a range, dates for dates, else strings).
	// Appends extend, --prune and target.chunk_bytes apply to, the first.
	ConcatDims []ConcatDim `yaml:"concat_dims"`
	// MergeDims are dimensions whose inputs hold different variables of
	// the same records, merged into one dataset ("merge_dims", optional).
	MergeDims []MergeDim `yaml:"merge_dims"`
	// FileType is "auto" (sniff the magic bytes; the default) or the
	// type of every input: "netcdf3", "netcdf4", "zarr", "references",
	// "grib2" ("file_type").
	FileType string `yaml:"file_type"`
	// Grib says which messages of GRIB2 inputs form the dataset ("grib",
	// optional).
	Grib *Grib `yaml:"grib"`
	// HTTP tunes how http(s):// inputs are read ("http", optional); its
	// timeout, attempts and deadline are those of s3:// reads too.
	HTTP *HTTP `yaml:"http"`
	// S3 says how s3:// inputs are read ("s3", optional): with the AWS
	// SDK's default credentials unless anonymous.
	S3 *S3 `yaml:"s3"`
	// Group is the netCDF-4 group of every input to convert, as
	// xarray.open_dataset(path, group=...) reads it: "sweep_0",
	// "forecast/surface" ("group", optional; the root by default). Its
	// variables and attributes, and the dimensions they use, those its
	// ancestors define included; not its sub-groups.
	Group string `yaml:"group"`
	// Groups writes several netCDF-4 groups of the inputs, each as the
	// Zarr group at its path in one store ("groups", optional; not with
	// group): a list of paths ("/" for the root group alone, "sweep_0",
	// "sweep_1/extra"), or "all" for every group of the first input
	// (Recipe.ResolveGroups lists them). Each group is converted as group
	// would convert it alone; a group without the concat dimension is
	// written once, from the first input. xarray.open_zarr(store,
	// group="sweep_0") then reads what xarray.open_dataset(file,
	// group="sweep_0") does, concatenated.
	Groups StringList `yaml:"groups"`
}

// AllGroups, as the only entry of pattern.groups, stands for every group
// of the first input.
const AllGroups = "all"

// StringList is a list of strings that a recipe may give as one string
// ("groups: all" is "groups: [all]").
type StringList []string

// UnmarshalYAML reads a scalar as a list of one.
func (l *StringList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = StringList{n.Value}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*l = list
	return nil
}

// HTTP is "pattern.http": how long reads from HTTP servers may take. A
// request that gets less than 1 KiB in Timeout is retried, up to Attempts
// tries, and given up after Deadline whatever is left: with the defaults
// (30s, 6, 5m) a dead or trickling server holds a read up for 5 minutes at
// most, and a failing input fails its stage.
type HTTP struct {
	// Timeout is how long an attempt may go without progress ("timeout",
	// a Go duration: "30s").
	Timeout string `yaml:"timeout"`
	// Attempts is how many times a request is tried ("attempts").
	Attempts int `yaml:"attempts"`
	// Deadline bounds one request with its retries ("deadline": "5m").
	Deadline string `yaml:"deadline"`
	// BasicAuth names the environment variables of the Basic auth
	// credentials ("basic_auth": {username_env: OISST_USER,
	// password_env: OISST_PASSWORD}).
	BasicAuth *BasicAuth `yaml:"basic_auth"`
	// HeadersEnv maps a header to the environment variable of its value
	// ("headers_env": {Authorization: EARTHDATA_BEARER}).
	HeadersEnv map[string]string `yaml:"headers_env"`
	// QuerySecretsEnv maps a query parameter, added to every request, to
	// the environment variable of its value ("query_secrets_env":
	// {token: OISST_TOKEN}).
	QuerySecretsEnv map[string]string `yaml:"query_secrets_env"`
}

// BasicAuth is "pattern.http.basic_auth": the names of the environment
// variables that hold the credentials. Secrets are never written in a
// recipe: they are read where the inputs are read (the workers'
// environment), and appear in no log, error, cache name, counter or store.
type BasicAuth struct {
	UsernameEnv string `yaml:"username_env"`
	PasswordEnv string `yaml:"password_env"`
}

// S3 is "pattern.s3".
type S3 struct {
	// Anonymous reads the template's bucket unsigned, with no
	// credentials: public data such as NOAA's open data ("anonymous").
	// The target and the cache, elsewhere, use the default credentials.
	Anonymous bool `yaml:"anonymous"`
}

// Grib is "pattern.grib".
type Grib struct {
	// FilterByKeys selects the messages to read as cfgrib's
	// filter_by_keys does: those whose every key (as ecCodes names it:
	// shortName, typeOfLevel, stepType, level, ...) has the value given
	// ("filter_by_keys"; numbers as YAML writes them: level: 500).
	FilterByKeys map[string]string `yaml:"filter_by_keys"`
}

// Filter returns pattern.grib.filter_by_keys as source.Options.Filter
// takes it; nil when there is none.
func (p Pattern) Filter() map[string]string {
	if p.Grib == nil || len(p.Grib.FilterByKeys) == 0 {
		return nil
	}
	return maps.Clone(p.Grib.FilterByKeys)
}

// checkGrib checks pattern.grib: keys a format filters by.
func (p Pattern) checkGrib() error {
	if err := source.CheckFilter(p.Filter()); err != nil {
		return &fieldError{"pattern.grib.filter_by_keys", err.Error()}
	}
	return nil
}

// Auth returns how a validated pattern's HTTP and S3 reads authenticate.
func (p Pattern) Auth() storage.HTTPAuth {
	var a storage.HTTPAuth
	if bucket, ok := p.s3Bucket(); ok && p.S3 != nil && p.S3.Anonymous {
		a.S3Anonymous = []string{bucket}
	}
	h := p.HTTP
	if h == nil {
		return a
	}
	a.HeadersEnv, a.QueryEnv = h.HeadersEnv, h.QuerySecretsEnv
	if h.BasicAuth != nil {
		a.UsernameEnv, a.PasswordEnv = h.BasicAuth.UsernameEnv, h.BasicAuth.PasswordEnv
	}
	return a
}

// s3Bucket is the bucket of an s3:// template, when its name holds no
// placeholder.
func (p Pattern) s3Bucket() (string, bool) {
	if !strings.HasPrefix(p.Template, "s3://") { // Locate would look at a local path's directories
		return "", false
	}
	loc, err := storage.Locate(p.Template)
	if err != nil || loc.Kind != "s3" {
		return "", false
	}
	bucket, _, _ := strings.Cut(loc.Path, "/")
	return bucket, bucket != "" && !strings.ContainsAny(bucket, "{}")
}

// checkS3 checks the s3 section against the template.
func (p Pattern) checkS3() error {
	if p.S3 == nil {
		return nil
	}
	if _, ok := p.s3Bucket(); !ok {
		return fmt.Errorf("pattern.s3: the template %q is no s3:// URL whose bucket is written out (s3://bucket/...)", p.Template)
	}
	return nil
}

// checkAuth checks the names of the section's credentials (not their
// values, which only the machines that read the inputs need).
func (h *HTTP) checkAuth() error {
	if h == nil {
		return nil
	}
	if b := h.BasicAuth; b != nil && (b.UsernameEnv == "" || b.PasswordEnv == "") {
		return fmt.Errorf("pattern.http.basic_auth: give both username_env and password_env")
	}
	for key, m := range map[string]map[string]string{"headers_env": h.HeadersEnv, "query_secrets_env": h.QuerySecretsEnv} {
		for k, v := range m {
			if k == "" || !envName.MatchString(v) {
				return fmt.Errorf("pattern.http.%s.%s: %q is not the name of an environment variable", key, k, v)
			}
		}
	}
	return nil
}

// envName is what an environment variable's name looks like.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Retry returns the retry policy of a validated pattern's HTTP reads.
func (p Pattern) Retry() storage.Retry {
	r, _ := p.HTTP.retry()
	return r
}

// retry converts the section to a policy, the defaults where it is silent.
func (h *HTTP) retry() (storage.Retry, error) {
	r := storage.DefaultRetry()
	if h == nil {
		return r, nil
	}
	for _, d := range []struct {
		key, text string
		to        *time.Duration
	}{{"timeout", h.Timeout, &r.Timeout}, {"deadline", h.Deadline, &r.Deadline}} {
		if d.text == "" {
			continue
		}
		v, err := time.ParseDuration(d.text)
		if err != nil || v <= 0 {
			return r, fmt.Errorf("pattern.http.%s: %q is not a positive duration (like 30s or 5m)", d.key, d.text)
		}
		*d.to = v
	}
	switch {
	case h.Attempts < 0 || h.Attempts > 100:
		return r, fmt.Errorf("pattern.http.attempts: %d is not from 1 to 100", h.Attempts)
	case h.Attempts > 0:
		r.Attempts = h.Attempts
	}
	return r, nil
}

// ConcatDim is "pattern.concat_dim", or one entry of "pattern.concat_dims".
type ConcatDim struct {
	// Name is the dimension's name, as in the files and the template
	// ("name", required).
	Name string `yaml:"name"`
	// Keys are the strings substituted for {Name}, in order ("keys").
	Keys []string `yaml:"keys"`
	// Dates generates the keys from a range of dates ("dates").
	Dates *DateRange `yaml:"dates"`
	// Range generates the keys from a range of integers ("range").
	Range *IntRange `yaml:"range"`
	// NItemsPerFile, when > 0, is the length of every input along the
	// dimension; 0 means each input's length is read from the file
	// ("nitems_per_file", optional, >= 1 when given).
	NItemsPerFile int64 `yaml:"nitems_per_file"`
	// New says the inputs lack the dimension: it is made along them, the
	// keys its coordinate (an ensemble's members, as xarray.combine_nested
	// adds them) ("new", optional). Check refuses a dimension the inputs
	// lack unless it says so, and one they have if it does. Inputs that
	// hold a scalar coordinate of its name (cfgrib's time) need not say
	// so: its values are the coordinate, as xarray.concat makes it.
	New bool `yaml:"new"`
}

// MergeDim is one entry of "pattern.merge_dims".
type MergeDim struct {
	// Name is the placeholder's name ("name", required).
	Name string `yaml:"name"`
	// Keys are the strings substituted for {Name} ("keys").
	Keys []string `yaml:"keys"`
	// Dates generates the keys from a range of dates ("dates").
	Dates *DateRange `yaml:"dates"`
	// Range generates the keys from a range of integers ("range").
	Range *IntRange `yaml:"range"`
}

// DateRange generates one key per date from Start to End inclusive, every
// Step, each formatted with a Go time layout:
//
//	dates: {start: "1981-09-01", end: "1981-09-30", step: 1d, layout: "20060102"}
//
// Start and End are "2006-01-02", optionally with a time "15:04" or
// "15:04:05" after a space or "T", in UTC. Step is a positive count of days
// ("1d"), hours ("6h") or months ("1mo"; the start day must then be at most
// 28). Layout is required: "20060102" gives "19810901", "2006/01/02"
// gives "1981/09/01".
type DateRange struct {
	Start  string `yaml:"start"`
	End    string `yaml:"end"`
	Step   string `yaml:"step"`
	Layout string `yaml:"layout"`
}

// IntRange generates one key per integer from Start up to but not
// including Stop, every Step (default 1; negative counts down), each
// formatted with Format, a Go fmt format with one integer verb (default
// "%d"; "%03d" gives "007"):
//
//	range: {start: 0, stop: 10, step: 1, format: "%03d"}
type IntRange struct {
	Start  int64  `yaml:"start"`
	Stop   *int64 `yaml:"stop"`
	Step   *int64 `yaml:"step"`
	Format string `yaml:"format"`
}

// Limits that keep a mistyped range from exhausting memory.
const (
	maxKeys   = 1_000_000  // per dimension
	maxInputs = 10_000_000 // per pattern
	maxKeyLen = 1024       // bytes of one generated key
	maxKeyMem = 64 << 20   // bytes of one dimension's generated keys
)

// checkKeySize refuses, before they are made, count generated keys of up to
// width bytes each that would be longer than maxKeyLen or, together, more
// than maxKeyMem (a format such as "%0100000d").
func checkKeySize(field string, width int, count int64) error {
	switch {
	case width > maxKeyLen:
		return &fieldError{field, fmt.Sprintf("keys of %d characters, more than the limit of %d", width, maxKeyLen)}
	case int64(width)*count > maxKeyMem:
		return &fieldError{field, fmt.Sprintf("%d keys of %d characters, more than the limit of %d MiB of keys", count, width, maxKeyMem>>20)}
	}
	return nil
}

// Concats returns the pattern's concat dimensions: concat_dims, or
// concat_dim alone.
func (p Pattern) Concats() []ConcatDim {
	if len(p.ConcatDims) > 0 {
		return p.ConcatDims
	}
	return []ConcatDim{p.ConcatDim}
}

// OneInput reports whether the pattern names one input to rechunk or
// re-encode, as rechunker takes one: a template without placeholders, no
// merge dimensions, and no keys along a concat dimension. Its concat
// dimension (a dimension of the input, along which one input is itself)
// is pattern.concat_dim.name when given, else what Resolve picks.
func (p Pattern) OneInput() bool {
	c := p.ConcatDim
	return len(p.ConcatDims) == 0 && len(p.MergeDims) == 0 && c.Keys == nil && c.Dates == nil && c.Range == nil &&
		!strings.ContainsAny(p.Template, "{}")
}

// expandOne is expand for a pattern of one input.
func (p Pattern) expandOne() (*expanded, error) {
	if strings.TrimSpace(p.Template) == "" {
		return nil, &fieldError{"pattern.template", "missing; give the input URL"}
	}
	if p.ConcatDim.NItemsPerFile < 0 {
		return nil, &fieldError{"pattern.concat_dim.nitems_per_file", fmt.Sprintf("must be >= 1 when given, got %d", p.ConcatDim.NItemsPerFile)}
	}
	if err := p.checkReading(); err != nil {
		return nil, err
	}
	return &expanded{concats: 1, keys: [][]string{{""}}, times: [][]time.Time{nil}, ints: [][]int64{nil},
		layout: []bool{true}, segments: []segment{{text: p.Template, dim: -1}}}, nil
}

// checkReading checks how the inputs are read: pattern.group,
// pattern.groups and pattern.file_type.
func (p Pattern) checkReading() error {
	if g := strings.Trim(p.Group, "/"); g != "" && slices.Contains(strings.Split(g, "/"), "") {
		return &fieldError{"pattern.group", fmt.Sprintf("%q: a group path names groups between slashes, as forecast/surface", p.Group)}
	}
	if err := p.checkGroups(); err != nil {
		return err
	}
	if err := p.checkGrib(); err != nil {
		return err
	}
	if types := append([]string{FileTypeAuto}, source.FileTypes()...); p.FileType != "" && !slices.Contains(types, p.FileType) {
		return &fieldError{"pattern.file_type", fmt.Sprintf("unknown file type %q (want %s)", p.FileType, strings.Join(types, ", "))}
	}
	return nil
}

// concatField is the YAML path of concat dimension k.
func (p Pattern) concatField(k int) string {
	if len(p.ConcatDims) > 0 {
		return fmt.Sprintf("pattern.concat_dims[%d]", k)
	}
	return "pattern.concat_dim"
}

// ConcatNames returns the names of the pattern's concat dimensions.
func (p Pattern) ConcatNames() []string {
	var out []string
	for _, c := range p.Concats() {
		out = append(out, c.Name)
	}
	return out
}

// Inputs returns the pattern's inputs: every combination of one key per
// concat dimension and one per merge dimension, the first concat
// dimension varying slowest and the last merge dimension fastest.
// Index.Concat is the position along each concat dimension and Index.Merge
// along each merge dimension (nil without merge dimensions); Source and URL
// are the template with the keys substituted.
func (p Pattern) Inputs() ([]plan.Input, error) {
	e, err := p.expand()
	if err != nil {
		return nil, fmt.Errorf("recipes: %w", err)
	}
	out := make([]plan.Input, 0, e.count())
	e.each(0, len(e.keys[0]), func(in plan.Input) { out = append(out, in) })
	return out, nil
}

// each calls fn with the inputs at positions lo to hi-1 along the first
// concat dimension, in order, keeping none of them: a pattern of millions
// of inputs is expanded a few at a time.
func (e *expanded) each(lo, hi int, fn func(plan.Input)) {
	rest := e.keys[1:] // the other concat dimensions, then the merge dimensions
	per := e.count() / len(e.keys[0])
	for c := lo; c < hi; c++ {
		for j := range per {
			ix := make([]int, len(rest))
			// Read j as a number whose digits are the positions along rest.
			for d, r := len(rest)-1, j; d >= 0; d-- {
				ix[d] = r % len(rest[d])
				r /= len(rest[d])
			}
			index := plan.Index{Concat: append([]int{c}, ix[:e.concats-1]...)}
			if len(ix) > e.concats-1 {
				index.Merge = ix[e.concats-1:]
			}
			url := e.fill(c, ix)
			fn(plan.Input{Index: index, Source: storage.Redact(url), URL: url})
		}
	}
}

// NumInputs returns the number of inputs the pattern names, or 0 if the
// pattern is invalid (Inputs then says why).
func (p Pattern) NumInputs() int {
	e, err := p.expand()
	if err != nil {
		return 0
	}
	return e.count()
}

// Prune returns a copy of the pattern that keeps only the first n keys of
// its first concat dimension (all of them if there are fewer), for quick
// trial runs. Generated keys are expanded into Keys. An invalid pattern is
// returned unchanged.
func (p Pattern) Prune(n int) Pattern {
	e, err := p.expand()
	if err != nil {
		return p
	}
	n = max(0, min(n, len(e.keys[0])))
	p.MergeDims = slices.Clone(p.MergeDims)
	first := &p.ConcatDim
	if len(p.ConcatDims) > 0 {
		p.ConcatDims = slices.Clone(p.ConcatDims)
		first = &p.ConcatDims[0]
	}
	if d := first.Dates; d != nil && n > 0 {
		// Dates stay dates (a template may format them): the range ends
		// at the n-th.
		pruned := *d
		pruned.End = e.times[0][n-1].Format("2006-01-02T15:04:05")
		first.Dates = &pruned
		return p
	}
	first.Keys = slices.Clone(e.keys[0][:n])
	first.Dates, first.Range = nil, nil
	return p
}

// expanded is a checked pattern: the template split at its placeholders
// and every dimension's keys (the concat dimensions first).
type expanded struct {
	segments []segment
	concats  int // how many of keys are concat dimensions'
	keys     [][]string
	times    [][]time.Time // per dimension: its generated dates, nil for other keys
	ints     [][]int64     // per dimension: its generated integers, nil for other keys
	layout   []bool        // per dimension: whether its keys can stand in the template as they are
}

// concatDims declares the pattern's concat dimensions, with their keys.
func (e *expanded) concatDims(p Pattern) []plan.ConcatDim {
	var out []plan.ConcatDim
	for k, c := range p.Concats() {
		d := plan.ConcatDim{Name: c.Name, NItemsPerFile: c.NItemsPerFile, Keys: e.keys[k], Values: e.ints[k]}
		if ts := e.times[k]; ts != nil {
			d.Values, d.Units = make([]int64, len(ts)), plan.EpochUnits
			for i, t := range ts {
				d.Values[i] = t.Unix()
			}
		}
		out = append(out, d)
	}
	return out
}

// segment is literal text (dim < 0) or the placeholder of dimension dim.
type segment struct {
	text   string
	dim    int
	format string // a strftime format for the dimension's dates ({time:%Y%m%d}); "" for its key
}

// count returns the number of inputs, or maxInputs+1 if there are more.
func (e *expanded) count() int {
	n := 1
	for _, k := range e.keys {
		n *= len(k) // both at most maxKeys, so no overflow
		if n > maxInputs {
			return maxInputs + 1
		}
	}
	return n
}

// fill substitutes key c of the first concat dimension and keys ix of the
// others, then of the merge dimensions, into the template.
func (e *expanded) fill(c int, ix []int) string {
	var b strings.Builder
	for _, s := range e.segments {
		switch {
		case s.dim < 0:
			b.WriteString(s.text)
		default:
			k := c
			if s.dim > 0 {
				k = ix[s.dim-1]
			}
			if s.format != "" {
				b.WriteString(strftime(e.times[s.dim][k], s.format))
			} else {
				b.WriteString(e.keys[s.dim][k])
			}
		}
	}
	return b.String()
}

// expand checks the pattern and generates its keys. Its errors are
// *fieldError values naming the offending field.
func (p Pattern) expand() (*expanded, error) {
	if strings.TrimSpace(p.Template) == "" {
		return nil, &fieldError{"pattern.template", "missing; give the input URL with a {placeholder} per dimension"}
	}
	if c := p.ConcatDim; len(p.ConcatDims) > 0 && (c.Name != "" || c.Keys != nil || c.Dates != nil || c.Range != nil || c.NItemsPerFile != 0) {
		return nil, &fieldError{"pattern", "give concat_dim or concat_dims, not both"}
	}
	if p.OneInput() {
		return p.expandOne()
	}
	concats := p.Concats()
	e := &expanded{concats: len(concats)}
	var names, fields []string
	var dims []MergeDim // every dimension's keys, in the form of a merge dimension's
	for k, c := range concats {
		names = append(names, c.Name)
		fields = append(fields, p.concatField(k))
		dims = append(dims, MergeDim{Name: c.Name, Keys: c.Keys, Dates: c.Dates, Range: c.Range})
		if c.NItemsPerFile < 0 {
			return nil, &fieldError{p.concatField(k) + ".nitems_per_file", fmt.Sprintf("must be >= 1 when given, got %d", c.NItemsPerFile)}
		}
	}
	for i, m := range p.MergeDims {
		names = append(names, m.Name)
		fields = append(fields, fmt.Sprintf("pattern.merge_dims[%d]", i))
		dims = append(dims, m)
	}
	for i, d := range dims {
		if err := checkDimName(d.Name, fields[i]+".name", names[:i], fields[:i]); err != nil {
			return nil, err
		}
		keys, times, ints, err := dimKeys(fields[i], d.Keys, d.Dates, d.Range)
		if err != nil {
			return nil, err
		}
		e.keys = append(e.keys, keys)
		e.times = append(e.times, times)
		e.ints = append(e.ints, ints)
		e.layout = append(e.layout, d.Dates == nil || d.Dates.Layout != "")
	}
	if e.count() > maxInputs {
		return nil, &fieldError{"pattern", fmt.Sprintf("names more than %d inputs", maxInputs)}
	}
	if err := p.checkReading(); err != nil {
		return nil, err
	}
	var err error
	if e.segments, err = parseTemplate(p.Template, names, fields); err != nil {
		return nil, err
	}
	for _, s := range e.segments {
		switch {
		case s.dim < 0:
		case s.format != "" && e.times[s.dim] == nil:
			return nil, &fieldError{"pattern.template", fmt.Sprintf("{%s:%s}: a strftime format needs keys generated as dates (%s.dates)",
				names[s.dim], s.format, fields[s.dim])}
		case s.format == "" && e.times[s.dim] != nil && !e.layout[s.dim]:
			return nil, &fieldError{"pattern.template", fmt.Sprintf("{%s}: give the dates a format, as {%s:%%Y%%m%%d}, or %s.dates.layout",
				names[s.dim], names[s.dim], fields[s.dim])}
		}
	}
	return e, nil
}

// checkDimName checks a dimension's name is usable as a placeholder and
// not declared before.
func checkDimName(name, field string, before, beforeFields []string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return &fieldError{field, "missing"}
	case strings.ContainsAny(name, "{}"):
		return &fieldError{field, fmt.Sprintf("%q: a dimension name cannot contain { or }", name)}
	}
	if j := slices.Index(before, name); j >= 0 {
		return &fieldError{field, fmt.Sprintf("dimension %q is already declared by %s", name, beforeFields[j])}
	}
	return nil
}

// parseTemplate splits the template at its {dim} placeholders. Every
// placeholder must name a declared dimension and every dimension must
// appear.
func parseTemplate(tmpl string, names, fields []string) ([]segment, error) {
	const field = "pattern.template"
	var segs []segment
	used := make([]bool, len(names))
	rest := tmpl
	for rest != "" {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			segs = append(segs, segment{text: rest, dim: -1})
			break
		}
		if rest[open] == '}' {
			return nil, &fieldError{field, fmt.Sprintf("%q: } without {", tmpl)}
		}
		if open > 0 {
			segs = append(segs, segment{text: rest[:open], dim: -1})
		}
		end := strings.IndexAny(rest[open+1:], "{}")
		if end < 0 || rest[open+1+end] != '}' {
			return nil, &fieldError{field, fmt.Sprintf("%q: { without }", tmpl)}
		}
		name, format, _ := strings.Cut(rest[open+1:open+1+end], ":")
		if err := checkStrftime(format); err != nil {
			return nil, &fieldError{field, err.Error()}
		}
		d := slices.Index(names, name)
		if d < 0 {
			return nil, &fieldError{field, fmt.Sprintf("placeholder {%s} is not a declared dimension (declared: %s)", name, strings.Join(names, ", "))}
		}
		used[d] = true
		segs = append(segs, segment{dim: d, format: format})
		rest = rest[open+1+end+1:]
	}
	for d, ok := range used {
		if !ok {
			return nil, &fieldError{field, fmt.Sprintf("dimension %q (%s) does not appear as {%s}", names[d], fields[d], names[d])}
		}
	}
	return segs, nil
}

// dimKeys returns a dimension's keys from whichever of keys, dates and rng
// is given, with the dates or integers they were generated from; field is
// the dimension's YAML path.
func dimKeys(field string, keys []string, dates *DateRange, rng *IntRange) ([]string, []time.Time, []int64, error) {
	given := 0
	for _, ok := range []bool{keys != nil, dates != nil, rng != nil} {
		if ok {
			given++
		}
	}
	switch {
	case given == 0:
		return nil, nil, nil, &fieldError{field + ".keys", "missing; give keys, dates or range"}
	case given > 1:
		return nil, nil, nil, &fieldError{field, "give only one of keys, dates and range"}
	case dates != nil:
		times, err := dates.times(field + ".dates")
		if err != nil {
			return nil, nil, nil, err
		}
		if err := checkKeySize(field+".dates.layout", dates.width(times), int64(len(times))); err != nil {
			return nil, nil, nil, err
		}
		keys, err := checkUnique(field+".dates", dates.keys(times), nil)
		return keys, times, nil, err
	case rng != nil:
		keys, ints, err := rng.keys(field + ".range")
		keys, err = checkUnique(field+".range", keys, err)
		return keys, nil, ints, err
	}
	if len(keys) == 0 {
		return nil, nil, nil, &fieldError{field + ".keys", "empty"}
	}
	if len(keys) > maxKeys {
		return nil, nil, nil, &fieldError{field + ".keys", fmt.Sprintf("%d keys, more than the limit of %d", len(keys), maxKeys)}
	}
	seen := make(map[string]int, len(keys))
	for i, k := range keys {
		if j, dup := seen[k]; dup {
			return nil, nil, nil, &fieldError{fmt.Sprintf("%s.keys[%d]", field, i), fmt.Sprintf("duplicate key %q (also keys[%d])", k, j)}
		}
		seen[k] = i
	}
	return keys, nil, nil, nil
}

// checkUnique rejects generated keys that repeat, which a layout or format
// that drops the part that changes would produce.
func checkUnique(field string, keys []string, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if seen[k] {
			return nil, &fieldError{field, fmt.Sprintf("key %q is generated twice; does the layout or format show every step?", k)}
		}
		seen[k] = true
	}
	return keys, nil
}

var dateLayouts = []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"}

// parseDateTime parses the start or end of a DateRange, in UTC.
func parseDateTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, &fieldError{field, "missing"}
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t, nil
		}
	}
	return time.Time{}, &fieldError{field, fmt.Sprintf("%q is not a date like 1981-09-01 or 1981-09-01T06:00", s)}
}

var dateStep = regexp.MustCompile(`^([0-9]+)\s*(d|h|mo)$`)

// keys generates the date keys; field is the YAML path of the range.
func (r DateRange) times(field string) ([]time.Time, error) {
	start, err := parseDateTime(field+".start", r.Start)
	if err != nil {
		return nil, err
	}
	end, err := parseDateTime(field+".end", r.End)
	if err != nil {
		return nil, err
	}
	if end.Before(start) {
		return nil, &fieldError{field + ".end", fmt.Sprintf("%s is before start %s", r.End, r.Start)}
	}
	badStep := &fieldError{field + ".step", fmt.Sprintf("%q: want a positive count of days, hours or months: 1d, 6h, 1mo", r.Step)}
	g := dateStep.FindStringSubmatch(strings.TrimSpace(r.Step))
	if g == nil {
		return nil, badStep
	}
	n, err := strconv.Atoi(g[1])
	if err != nil || n < 1 || n > maxKeys {
		return nil, badStep
	}
	var at func(i int) time.Time
	var count int64
	switch g[2] {
	case "mo":
		if start.Day() > 28 {
			return nil, &fieldError{field + ".start", "monthly steps need a start day of at most 28"}
		}
		months := int64(end.Year()-start.Year())*12 + int64(end.Month()-start.Month())
		count = months/int64(n) + 1
		at = func(i int) time.Time { return start.AddDate(0, i*n, 0) }
	default:
		step := int64(n) * 86400
		if g[2] == "h" {
			step = int64(n) * 3600
		}
		count = (end.Unix()-start.Unix())/step + 1
		at = func(i int) time.Time { return time.Unix(start.Unix()+int64(i)*step, 0).UTC() }
	}
	if count > maxKeys {
		return nil, &fieldError{field, fmt.Sprintf("%d keys, more than the limit of %d", count, maxKeys)}
	}
	times := make([]time.Time, 0, count)
	for i := range int(count) {
		t := at(i)
		if t.After(end) {
			break
		}
		times = append(times, t)
	}
	return times, nil
}

// width is about the length of the widest key of the generated dates,
// judged by the first and the last (a layout's width changes with the
// year's, and by a few characters with month and day names: close enough
// for the bounds of checkKeySize).
func (r DateRange) width(times []time.Time) int {
	if len(times) == 0 {
		return 0
	}
	return max(len(r.keys(times[:1])[0]), len(r.keys(times[len(times)-1:])[0]))
}

// keys are the keys of the generated dates: formatted with Layout, or
// without one (the template then formats them) as RFC 3339 times.
func (r DateRange) keys(times []time.Time) []string {
	layout := r.Layout
	if layout == "" {
		layout = time.RFC3339
	}
	keys := make([]string, len(times))
	for i, t := range times {
		keys[i] = t.Format(layout)
	}
	return keys
}

// keys generates the integer keys, with their values; field is the YAML
// path of the range.
func (r IntRange) keys(field string) ([]string, []int64, error) {
	if r.Stop == nil {
		return nil, nil, &fieldError{field + ".stop", "missing (the range stops before it)"}
	}
	start, stop, step := r.Start, *r.Stop, int64(1)
	if r.Step != nil {
		step = *r.Step
	}
	format := r.Format
	if format == "" {
		format = "%d"
	}
	if strings.Contains(fmt.Sprintf(format, int64(0)), "%!") {
		return nil, nil, &fieldError{field + ".format", fmt.Sprintf("%q: want a format with one integer verb, such as %%03d", r.Format)}
	}
	var count uint64
	switch {
	case step == 0:
		return nil, nil, &fieldError{field + ".step", "must not be 0"}
	case step > 0 && stop > start:
		count = (uint64(stop)-uint64(start)-1)/uint64(step) + 1
	case step < 0 && stop < start:
		count = (uint64(start)-uint64(stop)-1)/(-uint64(step)) + 1
	default:
		return nil, nil, &fieldError{field, fmt.Sprintf("start %d, stop %d, step %d give no keys", start, stop, step)}
	}
	if count > maxKeys {
		return nil, nil, &fieldError{field, fmt.Sprintf("%d keys, more than the limit of %d", count, maxKeys)}
	}
	last := start + int64(count-1)*step
	width := max(len(fmt.Sprintf(format, start)), len(fmt.Sprintf(format, last)))
	if err := checkKeySize(field+".format", width, int64(count)); err != nil {
		return nil, nil, err
	}
	keys := make([]string, 0, count)
	ints := make([]int64, 0, count)
	for v, i := start, uint64(0); i < count; i++ {
		keys, ints = append(keys, fmt.Sprintf(format, v)), append(ints, v)
		if i+1 < count {
			v += step
		}
	}
	return keys, ints, nil
}

// groupRead is the netcdf.Options.Group that reads path g of
// pattern.groups: g, and "/" for the root (alone, its groups left out).
func groupRead(g string) string {
	if strings.Trim(g, "/") == "" {
		return "/"
	}
	return g
}

// checkGroups checks pattern.groups: paths of groups, each once, or "all"
// alone; not with pattern.group.
func (p Pattern) checkGroups() error {
	if len(p.Groups) == 0 {
		return nil
	}
	if p.Group != "" {
		return &fieldError{"pattern.groups", "give one of group (one group as the dataset) and groups (groups as nested Zarr groups)"}
	}
	if slices.Contains(p.Groups, AllGroups) {
		if len(p.Groups) > 1 {
			return &fieldError{"pattern.groups", fmt.Sprintf("%q stands for every group: give it alone (a group named so is /%s)", AllGroups, AllGroups)}
		}
		return nil
	}
	seen := map[string]bool{}
	for _, g := range p.Groups {
		path := strings.Trim(g, "/")
		switch {
		case g == "":
			return &fieldError{"pattern.groups", `an empty group path (the root group is "/")`}
		case path != "" && slices.Contains(strings.Split(path, "/"), ""):
			return &fieldError{"pattern.groups", fmt.Sprintf("%q: a group path names groups between slashes, as forecast/surface", g)}
		case seen[path]:
			return &fieldError{"pattern.groups", fmt.Sprintf("%q is given twice", g)}
		}
		seen[path] = true
	}
	return nil
}
