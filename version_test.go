package zarrforge

import (
	"os"
	"regexp"
	"testing"
)

// TestVersionInChangelog: the version stores record is the CHANGELOG's
// newest section, so a store says which list of changes made it.
func TestVersionInChangelog(t *testing.T) {
	b, err := os.ReadFile("CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^## (\S+)`).FindSubmatch(b)
	if m == nil || string(m[1]) != Version {
		t.Fatalf("the CHANGELOG's newest section is %q, Version is %q", m, Version)
	}
}
