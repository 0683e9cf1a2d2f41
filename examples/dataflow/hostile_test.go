package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
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

// treeSum is a digest of every file (path, mode, contents) and directory
// below root.
func treeSum(t *testing.T, root string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %v\n", p, fi.Mode())
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestHostileTargets runs recipes that would lose data or write outside
// their target: each must exit 1 naming the problem, and leave every byte
// of the tree it runs in as it was.
func TestHostileTargets(t *testing.T) {
	bin := buildProgram(t)
	work := t.TempDir()
	inputs := filepath.Join(work, "inputs")
	other := filepath.Join(work, "other")
	for _, d := range []string{inputs, other, filepath.Join(work, "run"), filepath.Join(work, "a", "b")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		b, err := os.ReadFile(beamtest.Testdata("collections", "daily", fmt.Sprintf("daily_%02d.nc", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(inputs, fmt.Sprintf("d%d.nc", i)), b, 0o644); err != nil {
			t.Fatal(err)
		}
		// The same file with its variable "count" renamed "../..".
		name := []byte("\x00\x00\x00\x05count\x00\x00\x00")
		if bytes.Count(b, name) != 1 {
			t.Fatal("the fixture has changed")
		}
		evil := bytes.Replace(b, name, []byte("\x00\x00\x00\x05../..\x00\x00\x00"), 1)
		if err := os.WriteFile(filepath.Join(inputs, fmt.Sprintf("evil%d.nc", i)), evil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	sparse, err := os.ReadFile(filepath.Join("..", "..", "netcdf", "testdata", "rw", "sparse.nc"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := os.WriteFile(filepath.Join(inputs, fmt.Sprintf("sparse%d.nc", i)), sparse, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, template, target, extra, want string
	}{
		{"overwrite the inputs", "d{time}.nc", inputs, "", "holds the input"},
		{"overwrite the working directory", "d{time}.nc", ".", "", "is the working directory"},
		{"overwrite above it", "d{time}.nc", "..", "", "is the working directory"},
		{"overwrite the root", "d{time}.nc", "/", "", "is the working directory"},
		{"overwrite a directory of other files", "d{time}.nc", other, "", "is not a Zarr store"},
		{"cache in the target", "d{time}.nc", filepath.Join(work, "a", "out.zarr"), "cache: {url: " + filepath.Join(work, "a", "out.zarr", "cache") + "}\n", "lie inside each other"},
		{"a variable named ../..", "evil{time}.nc", filepath.Join(work, "a", "b", "out.zarr"), "", `variable "../.." cannot be stored`},
		// Memory: a 14 KB file declaring a 40000 x 40000 variable, and recipe numbers that overflow.
		{"a sparse huge variable", "sparse{time}.nc", filepath.Join(work, "a", "out.zarr"), "",
			`variable "big": a chunk of [2 40000 40000] would take 12800000000 bytes, more than the memory budget of 1073741824 bytes (target.max_mem); set target.chunks (e.g. {lat: 10000, lon: 10000})`},
		{"chunks of 2^63-1 steps", "d{time}.nc", filepath.Join(work, "a", "out.zarr"), "  chunks: {time: 9223372036854775807}\n", "more than target.max_mem"},
		{"chunks of 2^62 steps", "d{time}.nc", filepath.Join(work, "a", "out.zarr"), "  chunks: {time: 4611686018427387904}\n", "more than target.max_mem"},
		{"a budget too small", "d{time}.nc", filepath.Join(work, "a", "out.zarr"), "  max_mem: 10kB\n", "less than 1 MiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recipe := filepath.Join(t.TempDir(), "recipe.yaml")
			text := fmt.Sprintf("pattern:\n  template: %q\n  concat_dim: {name: time, keys: [\"0\", \"1\"]}\ntarget:\n  url: %q\n  mode: overwrite\n%s",
				filepath.Join(inputs, tc.template), tc.target, tc.extra)
			if err := os.WriteFile(recipe, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			before := treeSum(t, work)
			code, stderr := runProgram(t, bin, filepath.Join(work, "run"), "--recipe", recipe)
			last := lastLine(stderr)
			if code != 1 || !strings.Contains(last, tc.want) {
				t.Errorf("exit %d, last line %q: want 1 and an error saying %q", code, last, tc.want)
			}
			if treeSum(t, work) != before {
				t.Error("the run changed files outside its target")
			}
		})
	}
}

// TestNoSecrets runs recipes whose input URLs carry secrets (a token in the
// query, a password in the user info), with a cache and --verbose, against
// a server that also fails some requests: no secret may appear in what the
// program prints nor in the cache's file names.
func TestNoSecrets(t *testing.T) {
	bin := buildProgram(t)
	const secret = "S3CRET-t0ken"
	files := map[string][]byte{}
	for i := range 2 {
		b, err := os.ReadFile(beamtest.Testdata("collections", "daily", fmt.Sprintf("daily_%02d.nc", i)))
		if err != nil {
			t.Fatal(err)
		}
		files[fmt.Sprintf("/d%d.nc", i)] = b
	}
	flaky := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != secret {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		if flaky++; flaky%3 == 0 {
			http.Error(w, "busy", http.StatusServiceUnavailable) // retried, and logged with --verbose
			return
		}
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, r.URL.Path, time.Time{}, bytes.NewReader(b))
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct{ name, template string }{
		{"token in the query", srv.URL + "/d{time}.nc?token=" + secret},
		{"missing file", srv.URL + "/missing{time}.nc?token=" + secret},
		{"password", "http://user:" + secret + "@" + host + "/d{time}.nc?token=" + secret},
		{"refused", srv.URL + "/d{time}.nc?token=" + secret + "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cache := filepath.Join(dir, "cache")
			recipe := filepath.Join(dir, "recipe.yaml")
			text := fmt.Sprintf("pattern:\n  template: %q\n  concat_dim: {name: time, keys: [\"0\", \"1\"]}\ntarget: {url: %q}\ncache: {url: %q}\n",
				tc.template, filepath.Join(dir, "out.zarr"), cache)
			if err := os.WriteFile(recipe, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "--recipe", recipe, "--verbose")
			out, _ := cmd.CombinedOutput() // stdout too: the summary lines
			if strings.Contains(string(out), secret) {
				t.Errorf("the output shows the secret:\n%s", out)
			}
			entries, _ := os.ReadDir(cache)
			for _, e := range entries {
				if strings.Contains(e.Name(), secret) {
					t.Errorf("cache file %s names the secret", e.Name())
				}
			}
		})
	}
}
