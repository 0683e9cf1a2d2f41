package netcdf_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/netcdf"
)

func nc4Fixtures(t testing.TB) []string {
	files, err := filepath.Glob(beamtest.Testdata("formats", "nc4_*.nc"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no netCDF-4 fixtures: %v", err)
	}
	return files
}

// readVar reads a whole variable.
func readVar(f netcdf.File, v netcdf.Var) ([]byte, error) {
	n := int64(v.Type.Size())
	for _, s := range v.Shape {
		n *= s
	}
	dst := make([]byte, n)
	return dst, f.Read(v.Name, make([]int64, len(v.Shape)), v.Shape, dst)
}

func TestNetCDF4Unsupported(t *testing.T) {
	tests := []struct {
		file     string
		open     bool // Open succeeds, reading the variable fails
		variable string
		want     string
	}{
		{"nested_group.nc", false, "", `group "forecast": nested groups with data`},
		{"compound.nc", false, "", `variable "pairs": type compound {a: little-endian signed 32-bit integer, b: little-endian 64-bit float}`},
		{"lzf.nc", false, "", `variable "v": compression lzf (filter 32000)`},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "unsupported", tc.file)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := netcdf.Open(bytes.NewReader(b), int64(len(b)), path)
			if tc.open {
				if err != nil {
					t.Fatal(err)
				}
				err = f.Read(tc.variable, []int64{0}, []int64{1}, make([]byte, 1))
			}
			if err == nil || !errors.Is(err, netcdf.ErrUnsupported) || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), path) {
				t.Fatalf("got %v, want ErrUnsupported naming %s and saying %q", err, path, tc.want)
			}
		})
	}
}

// TestNetCDF4Hyperslabs compares random hyperslabs of every variable with
// the same elements of a whole read: chunked reads crossing chunk edges,
// contiguous runs and compact data.
func TestNetCDF4Hyperslabs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, path := range nc4Fixtures(t) {
		f := open(t, path)
		for _, v := range f.Vars() {
			if len(v.Shape) == 0 {
				continue
			}
			full, err := readVar(f, v)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			es := int64(v.Type.Size())
			for range 20 {
				start := make([]int64, len(v.Shape))
				count := make([]int64, len(v.Shape))
				n := es
				for i, s := range v.Shape {
					if s == 0 {
						continue
					}
					start[i] = rng.Int64N(s)
					count[i] = 1 + rng.Int64N(s-start[i])
					n *= count[i]
				}
				got := make([]byte, n)
				if err := f.Read(v.Name, start, count, got); err != nil {
					t.Fatalf("%s: %s %v+%v: %v", path, v.Name, start, count, err)
				}
				if want := slab(full, v.Shape, start, count, es); !bytes.Equal(got, want) {
					t.Fatalf("%s: %s %v+%v: wrong values", path, v.Name, start, count)
				}
			}
		}
	}
}

// slab cuts a hyperslab out of a whole C-order array.
func slab(full []byte, shape, start, count []int64, es int64) []byte {
	var out []byte
	idx := make([]int64, len(shape))
	for {
		off := int64(0)
		for i := range shape {
			off = off*shape[i] + start[i] + idx[i]
		}
		out = append(out, full[off*es:(off+1)*es]...)
		i := len(shape) - 1
		for ; i >= 0; i-- {
			if idx[i]++; idx[i] < count[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return out
		}
	}
}

// TestNetCDF4Truncated opens netCDF-4 files cut short at many lengths:
// every failure wraps ErrFormat and names the file; nothing panics.
func TestNetCDF4Truncated(t *testing.T) {
	for _, name := range []string{"nc4_packed.nc", "nc4_h5py_latest.nc"} {
		whole, err := os.ReadFile(beamtest.Testdata("formats", name))
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(whole); n += 1 + n/512 {
			f, err := netcdf.Open(bytes.NewReader(whole[:n]), int64(n), "cut.nc")
			if err != nil {
				if !errors.Is(err, netcdf.ErrFormat) || !strings.Contains(err.Error(), "cut.nc") {
					t.Fatalf("%s cut at %d: %v, want ErrFormat naming the file", name, n, err)
				}
				continue
			}
			for _, v := range f.Vars() {
				if _, err := readVar(f, v); err != nil && (!errors.Is(err, netcdf.ErrFormat) || !strings.Contains(err.Error(), "cut.nc")) {
					t.Fatalf("%s cut at %d: reading %s: %v, want ErrFormat naming the file", name, n, v.Name, err)
				}
			}
		}
	}
}

// TestNetCDF4Corrupt flips bytes all over netCDF-4 files: opening and
// reading must fail cleanly or succeed, never panic or hang.
func TestNetCDF4Corrupt(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, path := range nc4Fixtures(t) {
		whole, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for range 300 {
			b := bytes.Clone(whole)
			for range 1 + rng.IntN(4) {
				b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
			}
			openAndReadAll(t, b)
		}
	}
}

// TestFletcher32 corrupts one data byte of a chunk protected by a
// Fletcher-32 checksum (and not compressed): the read must fail.
func TestFletcher32(t *testing.T) {
	path := beamtest.Testdata("formats", "nc4_types.nc")
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := open(t, path)
	var v netcdf.Var
	for _, x := range f.Vars() {
		if x.Name == "v_u2" { // fletcher32 only, chunks (5, 4)
			v = x
		}
	}
	row := make([]byte, 8) // the first chunk's first row: 4 values
	if err := f.Read("v_u2", []int64{0, 0}, []int64{1, 4}, row); err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(whole, row)
	if at < 0 || bytes.Count(whole, row) != 1 {
		t.Fatalf("cannot find the chunk's bytes in the file")
	}
	whole[at+1] ^= 0x40
	bad, err := netcdf.Open(bytes.NewReader(whole), int64(len(whole)), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readVar(bad, v); err == nil || !strings.Contains(err.Error(), "fletcher32 checksum mismatch") {
		t.Fatalf("got %v, want a checksum error", err)
	}
}

func openAndReadAll(t *testing.T, data []byte) {
	t.Helper()
	nc, err := netcdf.Open(bytes.NewReader(data), int64(len(data)), "fuzz.nc")
	if err != nil && !strings.Contains(err.Error(), "fuzz.nc") {
		t.Fatalf("error does not name the file: %v", err)
	}
	if err == nil {
		readAll(nc)
	}
	// Every group, each read alone as the file (the first few).
	groups, err := netcdf.Groups(bytes.NewReader(data), int64(len(data)), "fuzz.nc")
	if err != nil {
		if !strings.Contains(err.Error(), "fuzz.nc") {
			t.Fatalf("error does not name the file: %v", err)
		}
		return
	}
	for _, g := range groups[:min(len(groups), 8)] {
		if nc, err := netcdf.OpenWith(bytes.NewReader(data), int64(len(data)), "fuzz.nc", netcdf.Options{Group: g}); err == nil {
			readAll(nc)
		}
	}
}

// readAll reads every variable of nc whose shape is not absurd, for the
// fuzzers: what it reads does not matter, that it returns does.
func readAll(nc netcdf.File) {
	for _, v := range nc.Vars() {
		size := int64(max(1, v.Type.Size()))
		for _, s := range v.Shape {
			size *= s
		}
		if size > 64<<20 || size < 0 {
			continue // a corrupt shape; reading it is the caller's choice
		}
		if v.Type == netcdf.String {
			_, _ = nc.ReadStrings(v.Name, make([]int64, len(v.Shape)), v.Shape)
			continue
		}
		_ = nc.Read(v.Name, make([]int64, len(v.Shape)), v.Shape, make([]byte, size))
	}
}

func FuzzOpenNetCDF4(f *testing.F) {
	rw, _ := filepath.Glob(filepath.Join("testdata", "rw", "*.nc"))
	more, _ := filepath.Glob(beamtest.Testdata("formats", "rw_*.nc"))
	refused, _ := filepath.Glob(filepath.Join("testdata", "unsupported", "*.nc")) // groups, compounds
	grouped := []string{beamtest.Testdata("formats", "h5py_groups.nc"), beamtest.Testdata("collections", "grouped", "grouped_00.nc")}
	for _, path := range slices.Concat(nc4Fixtures(f), rw, more, refused, grouped) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(openAndReadAll)
}

// TestNullDataspace: a dataset with an empty (null) dataspace, as h5py
// writes h5py.Empty, is a scalar variable with its attributes, whose values
// cannot be read (netCDF-C cannot read them either); an empty attribute has
// no values.
func TestNullDataspace(t *testing.T) {
	path := beamtest.Testdata("formats", "nc4_h5py_null.nc")
	f := open(t, path)
	var v netcdf.Var
	for _, x := range f.Vars() {
		if x.Name == "nothing" {
			v = x
		}
	}
	if v.Name == "" || v.Type != netcdf.Float || len(v.Dims) != 0 || len(v.Attrs) != 1 || fmt.Sprint(v.Attrs[0].Value) != "[a dataset of no values]" {
		t.Fatalf("variable nothing: %+v", v)
	}
	err := f.Read("nothing", nil, nil, make([]byte, 4))
	if !errors.Is(err, netcdf.ErrUnsupported) || !strings.Contains(err.Error(), "null") || !strings.Contains(err.Error(), path) {
		t.Errorf("reading it: %v", err)
	}
	if a := f.Attrs(); len(a) != 1 || a[0].Name != "empty" {
		t.Errorf("global attributes %+v", a)
	}
}

// TestGroupView: a group read as the file (Options.Group) has its own
// variables and attributes and the dimensions they use, those its
// ancestors define included, but not their coordinate variables nor its
// sub-groups.
func TestGroupView(t *testing.T) {
	path := beamtest.Testdata("collections", "grouped", "grouped_00.nc")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		group, vars, dims, attrs string
	}{
		{"sweep_1", "time DBZH", "range=5 time=3", "elevation"},
		{"/sweep_1/extra/", "ZDR", "range=5 time=3", ""},
		{"meta", "site", "", ""},
	} {
		f := openGroup(t, path, tc.group)
		var vars, dims, attrs []string
		for _, v := range f.Vars() {
			vars = append(vars, v.Name)
		}
		for _, d := range f.Dims() {
			dims = append(dims, fmt.Sprintf("%s=%d", d.Name, d.Len))
		}
		for _, a := range f.Attrs() {
			attrs = append(attrs, a.Name)
		}
		slices.Sort(dims)
		if got := [3]string{strings.Join(vars, " "), strings.Join(dims, " "), strings.Join(attrs, " ")}; got != [3]string{tc.vars, tc.dims, tc.attrs} {
			t.Errorf("group %s: vars, dims, attrs %q, want %q", tc.group, got, [3]string{tc.vars, tc.dims, tc.attrs})
		}
	}
	for group, want := range map[string]string{
		"":             `group "meta": nested groups with data`,
		"sweep_1/nope": `no group "sweep_1/nope" (groups there: extra)`,
	} {
		_, err := netcdf.OpenWith(bytes.NewReader(b), int64(len(b)), path, netcdf.Options{Group: group})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("group %q: %v, want %q", group, err, want)
		}
	}
	classic := beamtest.Testdata("collections", "daily", "daily_00.nc")
	c, _ := os.ReadFile(classic)
	if _, err := netcdf.OpenWith(bytes.NewReader(c), int64(len(c)), classic, netcdf.Options{Group: "g"}); err == nil || !strings.Contains(err.Error(), "only the root group") {
		t.Errorf("a group of a netCDF-3 file: %v", err)
	}
}

// TestGroups lists a file's groups (netcdf.Groups), and reads the root
// alone ("/"), its sub-groups left out, where the whole file ("") is
// refused for them.
func TestGroups(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{beamtest.Testdata("collections", "grouped", "grouped_00.nc"), "/ meta sweep_0 sweep_1 sweep_1/extra"},
		{beamtest.Testdata("formats", "h5py_groups.nc"), ""},
		{beamtest.Testdata("collections", "daily", "daily_00.nc"), "/"},
	} {
		b, err := os.ReadFile(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := netcdf.Groups(bytes.NewReader(b), int64(len(b)), tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if tc.want != "" && strings.Join(got, " ") != tc.want {
			t.Errorf("%s: groups %q, want %q", tc.path, got, tc.want)
		}
		t.Logf("%s: %q", tc.path, got)
	}
	root := openGroup(t, beamtest.Testdata("collections", "grouped", "grouped_00.nc"), "/")
	if v := root.Vars(); len(v) != 1 || v[0].Name != "range" {
		t.Errorf("the root alone: variables %v, want range", v)
	}
	if _, err := netcdf.Groups(bytes.NewReader([]byte("nope")), 4, "x.nc"); !errors.Is(err, netcdf.ErrFormat) {
		t.Errorf("not netCDF: %v", err)
	}
}
