package netcdf_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/netcdf"
)

// realworldRefusals are the files of ../shared/realworld that netCDF-C reads
// but this package refuses, each with the text its error must contain and
// why. Every other file netCDF-C reads must read identically; a file listed
// here that starts to read must be taken off the list.
var realworldRefusals = map[string]struct{ want, why string }{}

// TestRealWorld reads every file of the real-world conformance set (files
// from the test suites of netCDF-C, netCDF4-python, HDF5, h5py and
// PyTables) and compares it with netCDF-C, through netCDF4-python.
func TestRealWorld(t *testing.T) {
	dir := filepath.Join(beamtest.Root(), "..", "shared", "realworld")
	manifest, err := os.ReadFile(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		msg := "REAL-WORLD CONFORMANCE SKIPPED: no " + dir + " (it is beside the repository in CI): " + err.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	py := beamtest.RequirePython(t, "netCDF4", "numpy")
	var paths []string
	for i, line := range strings.Split(strings.TrimSpace(string(manifest)), "\n") {
		if i > 0 {
			paths = append(paths, filepath.Join(dir, "files", strings.SplitN(line, "\t", 2)[0]))
		}
	}
	wants := dumpAll(t, py, paths)
	seen := map[string]bool{}
	for _, path := range paths {
		name := filepath.Base(path)
		want := wants[path]
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			refusal, listed := realworldRefusals[name]
			seen[name] = true
			f, err := netcdf.Open(bytes.NewReader(b), int64(len(b)), path)
			var problems []string
			if err == nil {
				if want.Error != "" {
					t.Logf("netCDF-C cannot open it (%s); we can", want.Error)
					return
				}
				problems = diffDump(f, want)
			} else {
				if !errors.Is(err, netcdf.ErrFormat) && !errors.Is(err, netcdf.ErrUnsupported) {
					t.Fatalf("error is neither ErrFormat nor ErrUnsupported: %v", err)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error does not name the file: %v", err)
				}
				if want.Error != "" {
					return // netCDF-C refuses it too
				}
				problems = []string{err.Error()}
			}
			switch {
			case listed && len(problems) == 0:
				t.Errorf("reads identically now: take it off realworldRefusals (%s)", refusal.why)
			case listed && !strings.Contains(strings.Join(problems, "\n"), refusal.want):
				t.Errorf("refused (%s), but not with %q:\n%s", refusal.why, refusal.want, strings.Join(problems, "\n"))
			case !listed:
				for _, p := range problems {
					t.Error(p)
				}
			}
		})
	}
	for name := range realworldRefusals {
		if !seen[name] {
			t.Errorf("realworldRefusals lists %s, which is not in the set", name)
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
