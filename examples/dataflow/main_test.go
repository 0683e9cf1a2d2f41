package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/zarrforge/zarrforge/beamtest"
)

func TestMain(m *testing.M) { ptest.Main(m) }

// TestSampleRecipe runs the program as `go run ./examples/dataflow` does,
// with --target pointing into a temporary directory, and asks xarray whether
// the store matches the sample files.
func TestSampleRecipe(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sample.zarr")
	*targetURL = out
	defer func() { *targetURL = "" }()
	if err := run(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(beamtest.Root(), "examples", "dataflow", "sample", "*.nc"))
	if err != nil || len(files) != 10 {
		t.Fatalf("sample files: %v %v", files, err)
	}
	manifest := filepath.Join(t.TempDir(), "collection.json")
	if err := os.WriteFile(manifest, []byte(`{"concat_dim": "time", "files": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	beamtest.CompareWithXarray(t, out, manifest, files, map[string][]int64{"sst": {5, 1, 24, 48}})
}

func TestRootCause(t *testing.T) {
	err := errString("bundle inst001 failed: while executing Process for Plan[stage-002]:\n1: DataSource\n" +
		"caused by:\nDetermineSchema: input /data/x.nc: netcdf: /data/x.nc: not a valid netCDF file\n\tmore runner text")
	if got := rootCause(err); got != "DetermineSchema: input /data/x.nc: netcdf: /data/x.nc: not a valid netCDF file" {
		t.Errorf("rootCause = %q", got)
	}
	if got := rootCause(errString("plain failure\nwith detail")); !strings.HasPrefix(got, "plain failure") || strings.Contains(got, "\n") {
		t.Errorf("rootCause = %q", got)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
