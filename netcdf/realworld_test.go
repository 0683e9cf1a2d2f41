package netcdf_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/netcdf"
)

// realworldRefusals are the features of files of ../shared/realworld that
// netCDF-C reads but this package refuses (with ErrUnsupported), as the text
// of the refusal, and why. Every other file netCDF-C reads must read
// identically; a refusal no file needs any more must be taken off the list.
var realworldRefusals = []struct{ want, why string }{
	{"nested groups with data", "groups below the root: issue 19"},
	{"type compound", "compound types: issue 19"},
	{"type variable-length sequence", "netCDF-4 vlen types: issue 19"},
	{"shared datatype", "user-defined (committed) types, all compound or vlen here: issue 19"},
	{"committed (shared) datatype", "user-defined (committed) types, all compound here: issue 19"},
	{"type opaque", "opaque types: issue 19"},
	{"type array", "HDF5 array types (netCDF-C cannot read their values either)"},
	{"type reference", "HDF5 object and region references, which have no netCDF meaning"},
	{"type bitfield", "HDF5 bitfields (netCDF-C shows them as opaque)"},
	{"128-bit integer", "integers wider than 64 bits (PyTables' stand-ins for numpy's), which netCDF has no type for"},
	{"compression lzo", "PyTables' LZO filter is not implemented"},
	{"compression scaleoffset", "HDF5's lossy scale-offset filter is not implemented"},
	{"compression nbit", "HDF5's n-bit filter is not implemented"},
	{"compression blosc", "the Blosc and Blosc2 HDF5 filters are not implemented"},
	{"data in external files", "not read on purpose: an input could name any file on the machine"},
}

// readGroups reads each group of the file at path (its bytes b), as the
// file, and compares it with what netCDF-C reads of it (but for the
// numbers of phony dimensions: see phonyNames; samePhony counts the groups
// whose numbers are netCDF-C's); a group refused for a reason
// realworldRefusals lists is counted, any other refusal is an error. used
// counts the refusals by entry.
func readGroups(t *testing.T, py, path string, b []byte, groups []string, used []int) (read, refused, samePhony int) {
	t.Helper()
	for _, g := range groups {
		f, err := netcdf.OpenWith(bytes.NewReader(b), int64(len(b)), path, netcdf.Options{Group: g})
		if err != nil {
			i := slices.IndexFunc(realworldRefusals, func(r struct{ want, why string }) bool { return strings.Contains(err.Error(), r.want) })
			if i < 0 {
				t.Errorf("group %s: netCDF-C reads it, and no entry of realworldRefusals explains why we refuse it: %v", g, err)
			} else {
				used[i]++
			}
			refused++
			continue
		}
		out, err := exec.Command(py, filepath.Join("testdata", "dump.py"), "--group="+g, path).Output()
		var want dumped
		if err != nil || json.Unmarshal(out, &want) != nil {
			t.Logf("group %s: netCDF-C cannot read it (dump.py: %v); we can", g, err)
			continue
		}
		names := phonyNames(f, want)
		for _, p := range diffDump(renumbered{f, names}, want) {
			t.Errorf("group %s: %s", g, p)
		}
		read++
		if !slices.ContainsFunc(slices.Collect(maps.Keys(names)), func(d string) bool { return names[d] != d }) {
			samePhony++
		}
	}
	return read, refused, samePhony
}

// phonyNames maps the phony dimensions of f, a group read as the file, to
// the names netCDF-C gives them. Both number them across the file (reading
// sub-groups before a group's datasets), but netCDF-C also counts those of
// datasets this package cannot read, so that after such a group the
// numbers may differ.
func phonyNames(f netcdf.File, want dumped) map[string]string {
	names := map[string]string{}
	for _, v := range f.Vars() {
		w := want.Vars[v.Name].Dims
		for i, d := range v.Dims {
			if i < len(w) && strings.HasPrefix(d, "phony_dim_") && strings.HasPrefix(w[i], "phony_dim_") && names[d] == "" {
				names[d] = w[i]
			}
		}
	}
	return names
}

// renumbered is a netcdf.File with its phony dimensions renamed.
type renumbered struct {
	netcdf.File
	names map[string]string
}

func (r renumbered) name(d string) string {
	if n, ok := r.names[d]; ok {
		return n
	}
	return d
}

func (r renumbered) Dims() []netcdf.Dim {
	out := slices.Clone(r.File.Dims())
	for i := range out {
		out[i].Name = r.name(out[i].Name)
	}
	return out
}

func (r renumbered) Vars() []netcdf.Var {
	out := slices.Clone(r.File.Vars())
	for i := range out {
		out[i].Dims = slices.Clone(out[i].Dims)
		for k, d := range out[i].Dims {
			out[i].Dims[k] = r.name(d)
		}
	}
	return out
}

// realworldHidden are what netCDF-C hides but this package reads, by file:
// variables ("DS1"), global attributes ("/attr1") and variable attributes
// ("DS1/A1"). netCDF-C shows an enumeration only when a committed
// (named) type of the file equals it, as netCDF writes them; h5py's bools
// and PyTables' enums are anonymous, and netCDF-C leaves out the datasets
// and attributes that have them. This package reads every enumeration as
// its integer values, its members as CF flags.
var realworldHidden = map[string][]string{
	"HDFGroup_hdf5-json__data_hdf5_bool_attr.h5":            {"/attr1"},
	"HDFGroup_hdf5-json__data_hdf5_bool_dset.h5":            {"DS1"},
	"HDFGroup_hdf5-json__data_hdf5_enum_attr.h5":            {"DS1/A1"},
	"HDFGroup_hdf5-json__data_hdf5_enum_dset.h5":            {"DS1"},
	"PyTables_PyTables__tables_tests_smpl_enum.h5":          {"EnumTest"},
	"h5py_h5py__h5py_tests_data_files_vlen_string_s390x.h5": {"/created_on_s390x"},
}

// hiding is a netcdf.File without what names lists (see realworldHidden),
// nor the dimensions only those variables use.
type hiding struct {
	netcdf.File
	names []string
}

func (h hiding) Vars() []netcdf.Var {
	var out []netcdf.Var
	for _, v := range h.File.Vars() {
		if slices.Contains(h.names, v.Name) {
			continue
		}
		v.Attrs = slices.DeleteFunc(slices.Clone(v.Attrs), func(a netcdf.Attr) bool { return slices.Contains(h.names, v.Name+"/"+a.Name) })
		out = append(out, v)
	}
	return out
}

func (h hiding) Attrs() []netcdf.Attr {
	return slices.DeleteFunc(slices.Clone(h.File.Attrs()), func(a netcdf.Attr) bool { return slices.Contains(h.names, "/"+a.Name) })
}

func (h hiding) Dims() []netcdf.Dim {
	used := map[string]bool{}
	for _, v := range h.Vars() {
		for _, d := range v.Dims {
			used[d] = true
		}
	}
	return slices.DeleteFunc(slices.Clone(h.File.Dims()), func(d netcdf.Dim) bool {
		hidden := slices.ContainsFunc(h.File.Vars(), func(v netcdf.Var) bool { return slices.Contains(h.names, v.Name) && slices.Contains(v.Dims, d.Name) })
		return hidden && !used[d.Name]
	})
}

// realworldUndefined are variables whose values netCDF-C leaves undefined,
// by file/variable; their other properties are compared.
var realworldUndefined = map[string]string{
	"Unidata_netcdf-c__nc_test_f03tst_open_mem.nc/var2": "NC_NOFILL and never written: netCDF-C returns uninitialised memory",
}

// TestRealWorld reads every file of the real-world conformance set (files
// from the test suites of netCDF-C, netCDF4-python, HDF5, h5py and
// PyTables) and compares it with netCDF-C, through netCDF4-python.
func TestRealWorld(t *testing.T) {
	dir, files := beamtest.RealWorld(t)
	py := beamtest.RequirePython(t, "netCDF4", "numpy")
	var paths []string
	for _, f := range files {
		paths = append(paths, filepath.Join(dir, "files", f[0]))
	}
	wants := dumpAll(t, py, paths)
	used := make([]int, len(realworldRefusals))
	var read, refused, theyRefuse, hidden, groupsRead, groupsRefused, groupsPhony int
	for _, path := range paths {
		name := filepath.Base(path)
		want := wants[path]
		for v, rec := range want.Vars {
			if why, ok := realworldUndefined[name+"/"+v]; ok {
				rec.ValuesError = why
				want.Vars[v] = rec
			}
		}
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := netcdf.Open(bytes.NewReader(b), int64(len(b)), path)
			switch {
			case err == nil && want.Error != "":
				t.Logf("netCDF-C cannot open it (%s); we can", want.Error)
				theyRefuse++
			case err == nil:
				if names, ok := realworldHidden[name]; ok {
					f = hiding{f, names}
					hidden++
				}
				for _, p := range diffDump(f, want) {
					t.Error(p)
				}
				read++
			case !errors.Is(err, netcdf.ErrFormat) && !errors.Is(err, netcdf.ErrUnsupported):
				t.Errorf("error is neither ErrFormat nor ErrUnsupported: %v", err)
			case !strings.Contains(err.Error(), path):
				t.Errorf("error does not name the file: %v", err)
			case want.Error != "":
				theyRefuse++ // netCDF-C refuses it too
			case errors.Is(err, netcdf.ErrFormat):
				t.Errorf("netCDF-C reads it, but we say it is not valid: %v", err)
			default:
				i := slices.IndexFunc(realworldRefusals, func(r struct{ want, why string }) bool {
					return strings.Contains(err.Error(), r.want)
				})
				if i < 0 {
					t.Errorf("netCDF-C reads it, and no entry of realworldRefusals explains why we refuse it: %v", err)
					return
				}
				used[i]++
				refused++
				if realworldRefusals[i].want == "nested groups with data" {
					r, n, p := readGroups(t, py, path, b, want.Groups, used)
					groupsRead, groupsRefused, groupsPhony = groupsRead+r, groupsRefused+n, groupsPhony+p
				}
			}
		})
	}
	t.Logf("%d files read identically (%d of them but for what netCDF-C hides), %d refused as listed, %d refused by netCDF-C too",
		read, hidden, refused, theyRefuse)
	t.Logf("of the files refused for groups with data, %d groups read identically one at a time (Options.Group), %d refused as listed; "+
		"%d of those read name their phony dimensions as netCDF-C does", groupsRead, groupsRefused, groupsPhony)
	for i, n := range used {
		if n > 0 {
			t.Logf("refused for %q: %d", realworldRefusals[i].want, n)
		}
	}
	for i, n := range used {
		if n == 0 && !t.Failed() {
			t.Errorf("no file is refused for %q (%s): take it off realworldRefusals", realworldRefusals[i].want, realworldRefusals[i].why)
		}
	}
}

// dumpAll runs dump.py once on every path and returns what it printed, by
// path.
func dumpAll(t *testing.T, py string, paths []string) map[string]dumped {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{"testdata/dump.py"}, paths...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dump.py: %v\n%s", err, stderr.Bytes())
	}
	wants := map[string]dumped{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 256<<20)
	for sc.Scan() {
		var d dumped
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("dump.py printed %.200q: %v", sc.Bytes(), err)
		}
		wants[d.Path] = d
	}
	if len(wants) != len(paths) {
		t.Fatalf("dump.py printed %d files of %d\n%s", len(wants), len(paths), stderr.Bytes())
	}
	return wants
}

// TestRealWorldRegressions reads the files of testdata/rw, which reproduce
// real-world files that netCDF4-python cannot be the oracle for here.
func TestRealWorldRegressions(t *testing.T) {
	lat := make([]byte, 180*4)
	for i := range 180 {
		binary.LittleEndian.PutUint32(lat[4*i:], math.Float32bits(-89.5+float32(i)))
	}
	grid := make([]byte, 128*64*8)
	for i := range 128 * 64 {
		binary.LittleEndian.PutUint64(grid[8*i:], math.Float64bits(float64(i)))
	}
	tests := []struct {
		file, variable string
		want           []byte
		wantErr        string // the error of Open
	}{
		{"zstd.nc", "lat", lat, ""},   // one zstd chunk of 720 bytes, below zstd's smallest window
		{"zstd.nc", "grid", grid, ""}, // 32 KiB chunks
		{"external.nc", "", nil, `variable "ext": data in external files`},
		{"dangling.nc", "", nil, `soft link "dangling" to "/nowhere": no object at the end of the path`},
	}
	for _, tc := range tests {
		t.Run(tc.file+"/"+tc.variable, func(t *testing.T) {
			path := filepath.Join("testdata", "rw", tc.file)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := netcdf.Open(bytes.NewReader(b), int64(len(b)), path)
			if tc.wantErr != "" {
				if !errors.Is(err, netcdf.ErrUnsupported) || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("got %v, want ErrUnsupported naming %s and saying %q", err, path, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range f.Vars() {
				if v.Name != tc.variable {
					continue
				}
				got, err := readVar(f, v)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, tc.want) {
					t.Fatalf("%s: wrong values", v.Name)
				}
				return
			}
			t.Fatalf("no variable %q", tc.variable)
		})
	}
}

// TestChunkBudget reads a decompression bomb (a 64 MiB chunk of zeros in a
// 72 KB file): with a smaller budget it is refused before anything is
// allocated for it; with a larger one it reads.
func TestChunkBudget(t *testing.T) {
	path := filepath.Join("testdata", "rw", "bomb.nc")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := netcdf.OpenWith(bytes.NewReader(b), int64(len(b)), path, netcdf.Options{MaxChunk: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err = f.Read("zeros", []int64{0, 0, 0}, []int64{1, 1, 1}, make([]byte, 4))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, netcdf.ErrTooLarge) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "zeros") {
		t.Fatalf("got %v, want ErrTooLarge naming the file and the variable", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 4<<20 {
		t.Errorf("refusing the chunk allocated %d bytes", n)
	}
	if err := f.Read("small", []int64{0}, []int64{4}, make([]byte, 16)); err != nil {
		t.Errorf("the small variable: %v", err)
	}
	f, err = netcdf.OpenWith(bytes.NewReader(b), int64(len(b)), path, netcdf.Options{MaxChunk: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Read("zeros", []int64{0, 4095, 4095}, []int64{1, 1, 1}, make([]byte, 4)); err != nil {
		t.Errorf("within the budget: %v", err)
	}
	// The same file declaring chunks of (1, 65536, 65536): larger than the
	// variable, which HDF5 never writes; refused whatever the budget.
	layout := []byte("\x01\x00\x00\x00\x00\x10\x00\x00\x00\x10\x00\x00\x04\x00\x00\x00")
	huge := bytes.Replace(b, layout, []byte("\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x04\x00\x00\x00"), 1)
	if bytes.Equal(huge, b) {
		t.Fatal("the fixture's layout message has changed")
	}
	_, err = netcdf.OpenWith(bytes.NewReader(huge), int64(len(huge)), path, netcdf.Options{MaxChunk: 1 << 40})
	if !errors.Is(err, netcdf.ErrFormat) || !strings.Contains(err.Error(), "larger than the dataset's maximum shape") {
		t.Errorf("chunks larger than the variable: %v, want ErrFormat", err)
	}
}

// TestManyAttributes opens a file whose one variable has 20,000 attributes
// (dense storage: a fractal heap of many direct blocks) in bounded memory:
// each block is read once, and no attribute keeps its block alive.
func TestManyAttributes(t *testing.T) {
	py := beamtest.RequirePython(t, "h5py", "numpy")
	path := filepath.Join(t.TempDir(), "attrs.nc")
	script := `
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w", libver="latest") as f:
    d = f.create_dataset("v", data=np.arange(3, dtype="i4"))
    for i in range(20000):
        d.attrs["a%05d" % i] = np.float64(i)
`
	if out, err := exec.Command(py, "-c", script, path).CombinedOutput(); err != nil {
		t.Fatalf("h5py: %v\n%s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f, err := netcdf.Open(bytes.NewReader(b), int64(len(b)), path)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Vars()[0].Attrs); n != 20000 {
		t.Fatalf("%d attributes", n)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64*uint64(len(b))+64<<20 {
		t.Errorf("opening a %d-byte file allocated %d bytes", len(b), n)
	}
	t.Logf("a %d-byte file with 20,000 attributes: %d bytes allocated to open it", len(b), after.TotalAlloc-before.TotalAlloc)
}
