package transforms_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/fileio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/transforms"
)

// TestInputsFromFiles: what fileio.MatchFiles finds becomes inputs along
// one concat dimension in the order of their paths, on every runner; a
// list of URLs keeps its order and keeps secrets out of the names.
func TestInputsFromFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"sst_19810902.nc", "sst_19810901.nc", "sst_19810903.nc", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	in := func(i int, p string) transforms.Input {
		return transforms.Input{Index: transforms.Index{Concat: []int{i}}, Source: p, URL: p}
	}
	beamtest.Run(t, func(t *testing.T, s beam.Scope) {
		files := fileio.MatchFiles(s, filepath.Join(dir, "sst_*.nc"))
		passert.Equals(s, transforms.InputsFromFiles(s, files),
			in(0, filepath.Join(dir, "sst_19810901.nc")), in(1, filepath.Join(dir, "sst_19810902.nc")), in(2, filepath.Join(dir, "sst_19810903.nc")))
		secret := "https://host/b.nc?token=s3cr3t"
		passert.Equals(s, transforms.InputsFromURLs(s, []string{"https://host/a.nc", secret}),
			in(0, "https://host/a.nc"), transforms.Input{Index: transforms.Index{Concat: []int{1}}, Source: "https://host/b.nc?token=REDACTED", URL: secret})
	})
}

// Inputs from Beam's own file matching: every daily file of a directory,
// along time in the order of their names.
func ExampleInputsFromFiles() {
	_, s := beam.NewPipelineWithRoot()
	inputs := transforms.InputsFromFiles(s, fileio.MatchFiles(s, "/data/oisst/oisst-avhrr-v02r01.*.nc"))
	transforms.DetermineSchema(s, transforms.SchemaConfig{Concat: []transforms.ConcatDim{{Name: "time"}}}, inputs)
	// beamx.Run(ctx, p) runs it.
}

// Inputs from a list of URLs, in that order along one concat dimension.
func ExampleInputsFromURLs() {
	_, s := beam.NewPipelineWithRoot()
	inputs := transforms.InputsFromURLs(s, []string{
		"https://host/oisst/oisst-avhrr-v02r01.19810901.nc",
		"https://host/oisst/oisst-avhrr-v02r01.19810902.nc",
	})
	transforms.DetermineSchema(s, transforms.SchemaConfig{Concat: []transforms.ConcatDim{{Name: "time"}}}, inputs)
	// beamx.Run(ctx, p) runs it.
}
