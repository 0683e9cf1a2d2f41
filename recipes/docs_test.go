package recipes_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/recipes"
)

// The README and the guides under docs/ show recipes and Go code; none of
// it may drift from what works. Every YAML block is a recipe that parses
// and validates; every Go block is code of a test file of the module (line
// for line, comments and blank lines aside), so it compiles, and runs where
// that test does.

var fence = regexp.MustCompile("(?s)```(\\w+)\\n(.*?)```")

// docs returns the README and the guides, by path.
func docs(t *testing.T) map[string]string {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(beamtest.Root(), "docs", "*.md"))
	paths = append(paths, filepath.Join(beamtest.Root(), "README.md"))
	out := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p] = string(b)
	}
	if len(out) < 2 {
		t.Fatalf("no guides under docs/")
	}
	return out
}

func TestDocRecipes(t *testing.T) {
	n := 0
	for path, text := range docs(t) {
		for _, m := range fence.FindAllStringSubmatch(text, -1) {
			if m[1] != "yaml" {
				continue
			}
			n++
			r, err := recipes.Parse([]byte(m[2]), filepath.Base(path))
			if err == nil {
				err = r.Validate()
			}
			if err != nil {
				t.Errorf("%s: a recipe that does not validate: %v\n%s", path, err, m[2])
			}
		}
	}
	if n == 0 {
		t.Error("no recipe in the README or the guides")
	}
}

func TestDocGo(t *testing.T) {
	var sources []string
	err := filepath.WalkDir(beamtest.Root(), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, "_test.go") {
			b, rerr := os.ReadFile(p)
			sources = append(sources, strings.Join(codeLines(string(b)), "\n"))
			return rerr
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for path, text := range docs(t) {
		for _, m := range fence.FindAllStringSubmatch(text, -1) {
			if m[1] != "go" {
				continue
			}
			block := strings.Join(codeLines(m[2]), "\n")
			found := false
			for _, src := range sources {
				if strings.Contains(src, block) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s: this Go is in no test file of the module:\n%s", path, m[2])
			}
		}
	}
}

// codeLines is Go source line by line, trimmed, without comments (whole or
// trailing) and blank lines.
func codeLines(src string) []string {
	var out []string
	for _, l := range strings.Split(src, "\n") {
		if i := strings.Index(l, " // "); i >= 0 {
			l = l[:i]
		}
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "//") {
			continue
		}
		out = append(out, l)
	}
	return out
}
