package netcdf_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/netcdf"
)

func open(t testing.TB, path string) netcdf.File { return openGroup(t, path, "") }

// openGroup opens the file at path, reading group as the file ("": the
// root).
func openGroup(t testing.TB, path, group string) netcdf.File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := netcdf.OpenWith(bytes.NewReader(b), int64(len(b)), path, netcdf.Options{Group: group})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func fixtures(t testing.TB) []string {
	files, err := filepath.Glob(beamtest.Testdata("collections", "*", "*.nc"))
	formats, _ := filepath.Glob(beamtest.Testdata("formats", "*.nc"))
	files = append(files, formats...)
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	return files
}

func bits(typ netcdf.Type, raw []byte) []uint64 {
	size := typ.Size()
	out := make([]uint64, len(raw)/size)
	for i := range out {
		b := raw[i*size:]
		switch typ {
		case netcdf.Byte:
			out[i] = uint64(int64(int8(b[0])))
		case netcdf.UByte, netcdf.Char:
			out[i] = uint64(b[0])
		case netcdf.Short:
			out[i] = uint64(int64(int16(binary.LittleEndian.Uint16(b))))
		case netcdf.UShort:
			out[i] = uint64(binary.LittleEndian.Uint16(b))
		case netcdf.Int:
			out[i] = uint64(int64(int32(binary.LittleEndian.Uint32(b))))
		case netcdf.UInt, netcdf.Float:
			out[i] = uint64(binary.LittleEndian.Uint32(b))
		default:
			out[i] = binary.LittleEndian.Uint64(b)
		}
	}
	return out
}

// TestAgainstNetCDF4Python compares every fixture file, variable by
// variable, with what netCDF-C (through netCDF4-python) reads.
func TestAgainstNetCDF4Python(t *testing.T) {
	py := beamtest.RequirePython(t, "netCDF4", "numpy")
	for _, path := range fixtures(t) {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			out, err := exec.Command(py, "testdata/dump.py", path).Output()
			if err != nil {
				t.Fatal(err)
			}
			var want dumped
			if err := json.Unmarshal(out, &want); err != nil {
				t.Fatal(err)
			}
			if len(want.Groups) > 0 {
				// Groups are read one at a time (Options.Group): compare each.
				for _, g := range want.Groups {
					compareGroup(t, py, path, g)
				}
				return
			}
			for _, p := range diffDump(open(t, path), want) {
				t.Error(p)
			}
		})
	}
}

// compareGroup compares group g of the file at path, read as the file,
// with what netCDF-C reads of it.
func compareGroup(t *testing.T, py, path, g string) {
	t.Helper()
	out, err := exec.Command(py, "testdata/dump.py", "--group="+g, path).Output()
	if err != nil {
		t.Fatal(err)
	}
	var want dumped
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for _, p := range diffDump(openGroup(t, path, g), want) {
		t.Errorf("group %s: %s", g, p)
	}
}

// dumped is what testdata/dump.py prints for one file.
type dumped struct {
	Path  string
	Error string // netCDF-C could not open the file
	Dims  map[string][2]any
	Vars  map[string]struct {
		Dims        []string
		Shape       []int64
		Dtype       string
		Values      []string
		ValuesError string `json:"values_error"`
		Attrs       []string
		AttrsError  string `json:"attrs_error"`
	}
	Groups        []string
	Attrs         []string
	AttrsError    string                    `json:"attrs_error"`
	AttrValues    map[string]any            `json:"attr_values"`
	VarAttrValues map[string]map[string]any `json:"var_attr_values"`
}

// diffDump lists how f differs from what netCDF-C read of the same file:
// dimensions, variables, attribute names and values, and every value of
// every variable. Errors reading a variable are differences too.
func diffDump(f netcdf.File, want dumped) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if len(f.Dims()) != len(want.Dims) {
		bad("dims %v, want %v", f.Dims(), want.Dims)
	}
	for _, d := range f.Dims() {
		w, ok := want.Dims[d.Name]
		if !ok || float64(d.Len) != w[0].(float64) || d.Unlimited != w[1].(bool) {
			bad("dim %+v, want %v", d, w)
		}
	}
	var gattrs []string
	for _, a := range f.Attrs() {
		gattrs = append(gattrs, a.Name)
		if want.AttrsError != "" {
			continue
		}
		if got, want := attrText(a), fmt.Sprint(want.AttrValues[a.Name]); got != want {
			bad("attribute %q = %s, want %s", a.Name, got, want)
		}
	}
	slices.Sort(gattrs)
	if !slices.Equal(gattrs, want.Attrs) {
		bad("global attrs %q, want %q", gattrs, want.Attrs)
	}
	if len(f.Vars()) != len(want.Vars) {
		var names []string
		for _, v := range f.Vars() {
			names = append(names, v.Name)
		}
		bad("variables %q, want %d: %v", names, len(want.Vars), slices.Sorted(maps.Keys(want.Vars)))
	}
	for _, v := range f.Vars() {
		w, ok := want.Vars[v.Name]
		if !ok {
			bad("unexpected variable %q", v.Name)
			continue
		}
		var names []string
		for _, a := range v.Attrs {
			names = append(names, a.Name)
			if w.AttrsError != "" {
				continue
			}
			if got, want := attrText(a), fmt.Sprint(want.VarAttrValues[v.Name][a.Name]); got != want {
				bad("%s: attribute %q = %q, want %q", v.Name, a.Name, got, want)
			}
		}
		slices.Sort(names)
		if !slices.Equal(names, w.Attrs) {
			bad("%s: attributes %q, want %q", v.Name, names, w.Attrs)
		}
		if !slices.Equal(v.Dims, w.Dims) || !slices.Equal(v.Shape, w.Shape) {
			bad("%s: dims %v shape %v, want %v %v", v.Name, v.Dims, v.Shape, w.Dims, w.Shape)
			continue
		}
		if w.ValuesError != "" {
			continue // netCDF4-python could not show them either
		}
		got, err := valueTexts(f, v)
		if err != nil {
			bad("%s: %v", v.Name, err)
			continue
		}
		if len(got) != len(w.Values) {
			bad("%s: %d values, want %d", v.Name, len(got), len(w.Values))
			continue
		}
		for i := range got {
			if got[i] != w.Values[i] {
				bad("%s: value %d is %q, want %q", v.Name, i, got[i], w.Values[i])
				break
			}
		}
	}
	return problems
}

// valueTexts reads a whole variable and renders its values as dump.py does.
func valueTexts(f netcdf.File, v netcdf.Var) ([]string, error) {
	n := int64(1)
	for _, s := range v.Shape {
		n *= s
	}
	if v.Type == netcdf.String {
		return f.ReadStrings(v.Name, make([]int64, len(v.Shape)), v.Shape)
	}
	dst := make([]byte, n*int64(v.Type.Size()))
	if err := f.Read(v.Name, make([]int64, len(v.Shape)), v.Shape, dst); err != nil {
		return nil, err
	}
	var out []string
	for _, b := range bits(v.Type, dst) {
		out = append(out, valueText(v.Type, b))
	}
	return out, nil
}

// valueText renders a value the way dump.py does: signed integers in
// decimal, unsigned integers, chars and float bit patterns unsigned.
func valueText(t netcdf.Type, b uint64) string {
	switch t {
	case netcdf.Byte, netcdf.Short, netcdf.Int, netcdf.Int64:
		return strconv.FormatInt(int64(b), 10)
	}
	return strconv.FormatUint(b, 10)
}

// attrText renders an attribute the way dump.py does: text as is, numbers
// as a list of decimal strings (floats as Python's repr).
func attrText(a netcdf.Attr) string {
	if s, ok := a.Value.(string); ok {
		return pyDecode(s)
	}
	if s, ok := a.Value.([]string); ok { // netCDF-4 strings: netCDF4-python gives a str for one
		if len(s) == 1 {
			return s[0]
		}
		return "[" + strings.Join(s, " ") + "]"
	}
	raw, err := a.Raw()
	if err != nil {
		return err.Error()
	}
	var parts []string
	for _, b := range bits(a.Type, raw) {
		switch a.Type {
		case netcdf.Float:
			parts = append(parts, pyRepr(float64(math.Float32frombits(uint32(b)))))
		case netcdf.Double:
			parts = append(parts, pyRepr(math.Float64frombits(b)))
		case netcdf.UByte, netcdf.UShort, netcdf.UInt, netcdf.UInt64:
			parts = append(parts, strconv.FormatUint(b, 10))
		default:
			parts = append(parts, strconv.FormatInt(int64(b), 10))
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// pyDecode renders text as netCDF4-python does: decoded as UTF-8, each byte
// that is not replaced by U+FFFD.
func pyDecode(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r) // ranging over a string gives U+FFFD for each invalid byte
	}
	return b.String()
}

func pyRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	// Python's repr: the shortest digits, positional for exponents in
	// [-4, 16), scientific otherwise.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// TestHyperslabs checks partial reads against slices of full reads.
func TestHyperslabs(t *testing.T) {
	f := open(t, beamtest.Testdata("collections", "multistep", "multistep_00.nc"))
	vars := map[string]netcdf.Var{}
	for _, v := range f.Vars() {
		vars[v.Name] = v
	}
	sst := vars["sst"] // (time=3, lat=7, lon=10), a record variable among several
	full := make([]byte, 3*7*10*2)
	if err := f.Read("sst", []int64{0, 0, 0}, []int64{3, 7, 10}, full); err != nil {
		t.Fatal(err)
	}
	at := func(ti, la, lo int64) []byte { o := ((ti*7+la)*10 + lo) * 2; return full[o : o+2] }
	tests := []struct{ start, count []int64 }{
		{[]int64{1, 2, 3}, []int64{1, 1, 1}},
		{[]int64{0, 0, 0}, []int64{3, 1, 10}},
		{[]int64{1, 3, 0}, []int64{2, 4, 10}},
		{[]int64{2, 6, 9}, []int64{1, 1, 1}},
		{[]int64{0, 1, 2}, []int64{3, 5, 7}},
	}
	for _, tc := range tests {
		got := make([]byte, tc.count[0]*tc.count[1]*tc.count[2]*2)
		if err := f.Read(sst.Name, tc.start, tc.count, got); err != nil {
			t.Fatal(err)
		}
		var want []byte
		for i := int64(0); i < tc.count[0]; i++ {
			for j := int64(0); j < tc.count[1]; j++ {
				for k := int64(0); k < tc.count[2]; k++ {
					want = append(want, at(tc.start[0]+i, tc.start[1]+j, tc.start[2]+k)...)
				}
			}
		}
		if !bytes.Equal(got, want) {
			t.Errorf("start %v count %v: wrong values", tc.start, tc.count)
		}
	}
	lat := make([]byte, 4*2)
	if err := f.Read("lat", []int64{3}, []int64{2}, lat); err != nil {
		t.Fatal(err)
	}
	if v := math.Float32frombits(binary.LittleEndian.Uint32(lat)); v != 0 {
		t.Errorf("lat[3] = %v, want 0", v)
	}
}

func TestReadErrors(t *testing.T) {
	f := open(t, beamtest.Testdata("collections", "daily", "daily_00.nc"))
	tests := []struct {
		name         string
		start, count []int64
		dst          int
		want         string
	}{
		{"no such variable", nil, nil, 0, "no variable"},
		{"sst", []int64{0, 0}, []int64{1, 1}, 2, "rank"},
		{"sst", []int64{0, 0, 8}, []int64{1, 1, 3}, 6, "outside the shape"},
		{"sst", []int64{0, 0, 0}, []int64{1, 1, 3}, 5, "destination has 5 bytes"},
	}
	for _, tc := range tests {
		err := f.Read(tc.name, tc.start, tc.count, make([]byte, tc.dst))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "daily_00.nc") {
			t.Errorf("Read(%s, %v, %v) = %v, want an error naming the file and %q", tc.name, tc.start, tc.count, err, tc.want)
		}
	}
}

// TestTruncated cuts a file at every length: opening fails with ErrFormat,
// or reads fail with an error — never a panic, never zeros.
func TestTruncated(t *testing.T) {
	whole, err := os.ReadFile(beamtest.Testdata("collections", "merge", "sst_200101.nc"))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(whole); n++ {
		f, err := netcdf.Open(bytes.NewReader(whole[:n]), int64(n), "cut.nc")
		if err != nil {
			if !errors.Is(err, netcdf.ErrFormat) || !strings.Contains(err.Error(), "cut.nc") {
				t.Fatalf("cut at %d: %v, want ErrFormat naming the file", n, err)
			}
			continue
		}
		for _, v := range f.Vars() {
			size := int64(v.Type.Size())
			for _, s := range v.Shape {
				size *= s
			}
			_ = f.Read(v.Name, make([]int64, len(v.Shape)), v.Shape, make([]byte, size))
		}
	}
}

func TestNotNetCDF(t *testing.T) {
	for _, data := range []string{"", "CD", "CDF\x07rest", "hello world, not netcdf", "\x89HDF\r\n\x1a\n"} {
		_, err := netcdf.Open(strings.NewReader(data), int64(len(data)), "x.bin")
		if !errors.Is(err, netcdf.ErrFormat) || !strings.Contains(err.Error(), "x.bin") {
			t.Errorf("Open(%q) = %v, want ErrFormat naming the file", data, err)
		}
	}
}

func FuzzOpenClassic(f *testing.F) {
	for _, path := range fixtures(f) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("CDF")) {
			continue // netCDF-4 seeds are FuzzOpenNetCDF4's
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		nc, err := netcdf.Open(bytes.NewReader(data), int64(len(data)), "fuzz.nc")
		if err != nil {
			return
		}
		for _, v := range nc.Vars() {
			size := int64(v.Type.Size())
			for _, s := range v.Shape {
				size *= s
			}
			if size > int64(len(data)) {
				t.Fatalf("variable %q claims %d bytes in a %d-byte file", v.Name, size, len(data))
			}
			_ = nc.Read(v.Name, make([]int64, len(v.Shape)), v.Shape, make([]byte, size))
		}
	})
}

// TestHugeCounts opens classic headers that declare huge counts and sizes
// in a few bytes: each is refused as not valid, and nothing near the
// declared size is allocated.
func TestHugeCounts(t *testing.T) {
	be := func(v ...uint32) []byte {
		b := []byte("CDF\x01\x00\x00\x00\x00") // no records
		for _, x := range v {
			b = binary.BigEndian.AppendUint32(b, x)
		}
		return b
	}
	const dims, attrs, vars = 0x0a, 0x0c, 0x0b
	tests := []struct {
		name string
		data []byte
	}{
		{"2^31 dimensions", be(dims, 0x7fffffff)},
		{"a 2^31-byte dimension name", be(dims, 1, 0x7fffffff)},
		{"2^31 global attributes", be(0, 0, attrs, 0x7fffffff)},
		{"an attribute of 2^31 values", be(0, 0, attrs, 1, 1, 'a'<<24, 6, 0x7fffffff)},
		{"2^31 variables", be(0, 0, 0, 0, vars, 0x7fffffff)},
		{"a variable of rank 2^31", be(dims, 1, 1, 'x'<<24, 5, 0, 0, vars, 1, 1, 'v'<<24, 0x7fffffff)},
	}
	for _, tc := range tests {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := netcdf.Open(bytes.NewReader(tc.data), int64(len(tc.data)), "huge.nc")
		runtime.ReadMemStats(&after)
		if !errors.Is(err, netcdf.ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", tc.name, err)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("%s: allocated %d bytes", tc.name, n)
		}
	}
}

// TestDuplicateNames refuses a header with two variables of one name (here
// "count" renamed "flag\0", which names "flag" as netCDF-C reads it).
func TestDuplicateNames(t *testing.T) {
	b, err := os.ReadFile(beamtest.Testdata("collections", "daily", "daily_00.nc"))
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("\x00\x00\x00\x05count"), []byte("\x00\x00\x00\x05flag\x00"), 1)
	_, err = netcdf.Open(bytes.NewReader(b), int64(len(b)), "dup.nc")
	if !errors.Is(err, netcdf.ErrFormat) || !strings.Contains(err.Error(), `two variables are named "flag"`) || !strings.Contains(err.Error(), "dup.nc") {
		t.Fatalf("got %v, want ErrFormat naming the file and the name", err)
	}
}
