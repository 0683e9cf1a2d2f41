package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zarrforge/zarrforge/beamtest"
)

// buildProgram builds this program into a temporary directory.
func buildProgram(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "zarrforge")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runProgram runs the program in dir with args, within a minute, and
// returns its exit code and what it printed on stderr.
func runProgram(t *testing.T, bin, dir string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatal("the program hung")
	}
	if err == nil {
		return 0, stderr.String()
	}
	ee, isExit := err.(*exec.ExitError)
	if !isExit {
		t.Fatal(err)
	}
	return ee.ExitCode(), stderr.String()
}

// lastLine is the last line of text.
func lastLine(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	return lines[len(lines)-1]
}

// TestBadInputs runs the program itself on inputs that are damaged, not
// netCDF or missing, on both local runners: it must exit 1 within a minute,
// and the last line it prints must be the root cause, naming the input; no
// runner log lines, and no store that looks complete.
func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	bin := buildProgram(t)
	good := func(name string) []byte {
		b, err := os.ReadFile(beamtest.Testdata("collections", "nc4_daily", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ok := write("ok.nc", good("nc4_daily_00.nc"))
	second := good("nc4_daily_01.nc")
	corruptHeader := append([]byte(nil), second...)
	copy(corruptHeader[40:], "\xff\xff\xff\xff\xff\xff\xff\xff") // inside the superblock
	// Damage every zlib stream (the chunks' data) but keep the header.
	corruptData := append([]byte(nil), second...)
	for i := 0; i+8 < len(corruptData); i++ {
		if corruptData[i] == 0x78 && (corruptData[i+1] == 0x01 || corruptData[i+1] == 0x5e || corruptData[i+1] == 0x9c || corruptData[i+1] == 0xda) {
			corruptData[i+4] ^= 0x5a
		}
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()

	for _, c := range []struct {
		name, second, want string
		recipe             string // the recipe's text after its pattern and target, if any
	}{
		{"truncated", write("truncated.nc", second[:len(second)/3]), "truncated", ""},
		{"corrupt header", write("corrupt.nc", corruptHeader), "not a valid netCDF file", ""},
		{"corrupt data", write("corrupt-data.nc", corruptData), "corrupt deflate stream", ""},
		{"not netCDF", write("text.nc", []byte("date,sst\n1981-09-01,28.1\n")), "not an input zarrforge reads", ""},
		{"missing file", filepath.Join(dir, "missing.nc"), "no such file", ""},
		{"404", srv.URL + "/missing.nc", "404", ""},
		// Inputs that disagree: the schema stage's own message, without
		// the combiner Beam names before it (issue 29, item 17).
		{"other grid", beamtest.Testdata("collections", "tiles", "tiles_t0_e.nc"), `inputs disagree: ` + ok, ""},
		// A recipe mistake: the library's own message, whole.
		{"typo", ok, `typo.yaml: line 5: unknown key "cahce" in the recipe (known: pattern, target, cache, preprocess)`, "cahce: {url: /tmp}\n"},
	} {
		for _, runner := range []string{"direct", "prism"} {
			t.Run(c.name+"/"+runner, func(t *testing.T) {
				target := filepath.Join(t.TempDir(), "out.zarr")
				recipe := write(strings.ReplaceAll(c.name, " ", "_")+".yaml", []byte(fmt.Sprintf(
					"pattern:\n  template: \"{time}\"\n  concat_dim: {name: time, keys: [%q, %q]}\ntarget: {url: %q, chunks: {time: 2}}\n%s",
					ok, c.second, target, c.recipe)))
				code, stderr := runProgram(t, bin, "", "--recipe", recipe, "--runner", runner)
				if code != 1 {
					t.Fatalf("exit status %d, want 1\n%s", code, stderr)
				}
				lines := strings.Split(strings.TrimSpace(stderr), "\n")
				last := lines[len(lines)-1]
				names := c.second // the input at fault, or the recipe
				if c.recipe != "" {
					names = recipe
				}
				if !strings.HasPrefix(last, "zarrforge: error: ") || !strings.Contains(last, names) || !strings.Contains(last, c.want) ||
					strings.Contains(last, "invoking") {
					t.Errorf("last line %q: want the root cause naming %s and saying %q", last, names, c.want)
				}
				if len(lines) > 2 || strings.Contains(stderr, "level=") {
					t.Errorf("more than our two lines on stderr:\n%s", stderr)
				}
				if _, err := os.Stat(filepath.Join(target, ".zmetadata")); err == nil {
					t.Error("the failed run left a store that looks complete")
				}
			})
		}
	}
}
