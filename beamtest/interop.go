package beamtest

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Python is the interpreter that has the Debian python stack (xarray,
// zarr-python, netCDF4, numcodecs, dask) the interop tests use as oracle.
const Python = "/usr/bin/python3"

// RequirePython returns Python if it can import modules, and otherwise
// fails the test naming what is missing and how to install it (see
// MissingOracle).
func RequirePython(t testing.TB, modules ...string) string {
	t.Helper()
	if len(modules) == 0 {
		modules = []string{"xarray", "zarr", "numcodecs", "netCDF4", "dask"}
	}
	cmd := exec.Command(Python, "-c", "import "+strings.Join(modules, ", "))
	if out, err := cmd.CombinedOutput(); err != nil {
		MissingOracle(t, Python+" cannot import "+strings.Join(modules, ", ")+" ("+strings.TrimSpace(string(out))+")")
	}
	return Python
}

// SkipInterop is the environment variable that, set, says to skip the
// interop tests whose oracle is missing instead of failing them.
const SkipInterop = "ZARRFORGE_SKIP_INTEROP"

// MissingOracle ends a test whose oracle (a real client) is missing: it
// fails, in one line naming what is missing and how to install it, unless
// SkipInterop is set (and CI is not): then it skips, loudly. A missing
// oracle is never a silent pass.
func MissingOracle(t testing.TB, what string) {
	t.Helper()
	msg := "INTEROP: " + what + ": install the oracles with .ci/install-oracles (Debian, as root)"
	if os.Getenv(SkipInterop) != "" && os.Getenv("CI") == "" {
		t.Skip("INTEROP SKIPPED (" + SkipInterop + " is set): " + msg)
	}
	t.Fatal(msg + ", or set " + SkipInterop + "=1 to skip the interop tests knowingly")
}

// Comparison is what testdata/compare_store.py reports.
type Comparison struct {
	OK       bool           `json:"ok"`
	Problems []string       `json:"problems"`
	Checked  map[string]any `json:"checked"`
}

// CompareWithXarray asks xarray whether the store at storePath equals
// open_mfdataset of the collection described by manifest (a
// collection.json). files, when not nil, overrides the manifest's file list
// (a list, or a list of lists for merge collections, of absolute paths);
// chunks, when not nil, gives the chunk shape every array must have (the
// inner chunks of a sharded one). The test fails with xarray's list of
// problems if they differ. A Zarr v3 store is read by zarrita
// (ReadWithZarrita): xarray compares what zarrita read, its values,
// attributes, dimension names and chunks, decoding the _FillValue attribute
// as xarray does for v3 arrays.
func CompareWithXarray(t *testing.T, storePath, manifest string, files any, chunks map[string][]int64) Comparison {
	t.Helper()
	return compare(t, storePath, manifest, files, chunks, nil)
}

// CompareWithXarrayPreprocessed is CompareWithXarray (files as there)
// against open_mfdataset(..., preprocess=...) making the xarray calls that
// a recipe's preprocess section (given in its YAML form, which is
// marshalled to JSON: maps and lists of its keys) stands for.
func CompareWithXarrayPreprocessed(t *testing.T, storePath, manifest string, files, preprocess any) Comparison {
	t.Helper()
	return compare(t, storePath, manifest, files, nil, preprocess)
}

// CompareGroupWithXarray is CompareWithXarray (with the manifest's files)
// for one group of a store of nested groups: xarray.open_zarr(store,
// group=group) against open_mfdataset(files, group=group).
func CompareGroupWithXarray(t *testing.T, storePath, manifest, group string) Comparison {
	t.Helper()
	return compare(t, storePath, manifest, nil, nil, nil, "--group", group)
}

func compare(t *testing.T, storePath, manifest string, files any, chunks map[string][]int64, preprocess any, extra ...string) Comparison {
	t.Helper()
	py := RequirePython(t)
	args := append([]string{Testdata("compare_store.py"), "--store", storePath, "--manifest", manifest}, extra...)
	if IsV3(storePath) {
		// The xarray here reads only Zarr v2: what it compares is the
		// store as zarrita read it, rewritten as v2.
		_, dump := ReadWithZarrita(t, storePath)
		args = append(args, "--zarrita", dump)
	}
	if preprocess != nil {
		b, err := json.Marshal(preprocess)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--preprocess", string(b))
	}
	if files != nil {
		b, _ := json.Marshal(files)
		args = append(args, "--files-json", string(b))
	}
	if chunks != nil {
		b, _ := json.Marshal(chunks)
		args = append(args, "--chunks", string(b))
	}
	cmd := exec.Command(py, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("compare_store.py failed: %v\n%s", err, stderr.String())
	}
	var c Comparison
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatalf("compare_store.py printed %q: %v\n%s", out, err, stderr.String())
	}
	if !c.OK {
		t.Errorf("store %s differs from open_mfdataset of %s:\n  %s", storePath, manifest, strings.Join(c.Problems, "\n  "))
	}
	return c
}
