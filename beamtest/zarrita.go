package beamtest

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RequireZarrita returns the path of the zarrita dump script
// (beamtest/zarrita/dump.mjs) when node and the script's npm packages are
// installed (.ci/install-oracles runs npm ci there), and otherwise fails
// the test naming what is missing (see MissingOracle).
func RequireZarrita(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(Root(), "beamtest", "zarrita")
	_, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(dir, "node_modules", "zarrita", "package.json"))
	if nodeErr != nil || modErr != nil {
		MissingOracle(t, "zarrita, the Zarr v3 oracle, is not installed (nodejs, npm ci --prefix beamtest/zarrita)")
	}
	return filepath.Join(dir, "dump.mjs")
}

// ZarritaArray is one array of a store as zarrita reads it.
type ZarritaArray struct {
	Shape      []int64        `json:"shape"`
	DataType   string         `json:"data_type"`
	Chunks     []int64        `json:"chunks"`
	Dims       []string       `json:"dimension_names"`
	Attributes map[string]any `json:"attributes"`
	FillValue  any            `json:"fill_value"`
	// Base64 holds a numeric array's values, little-endian; Strings a
	// string array's.
	Base64  []byte   `json:"base64"`
	Strings []string `json:"strings"`
}

// ZarritaStore is a store as zarrita reads it.
type ZarritaStore struct {
	Attributes map[string]any          `json:"attributes"`
	Arrays     map[string]ZarritaArray `json:"arrays"`
}

// ReadWithZarrita reads the store at storePath, through its consolidated
// metadata, with zarrita, and returns what it read and the path of the
// JSON dump it read it from (which testdata/compare_store.py takes as
// --zarrita). The test fails when zarrita cannot read the store.
func ReadWithZarrita(t *testing.T, storePath string) (ZarritaStore, string) {
	t.Helper()
	script := RequireZarrita(t)
	cmd := exec.Command("node", script, storePath)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zarrita cannot read %s: %v\n%s", storePath, err, stderr.String())
	}
	var s ZarritaStore
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("zarrita's dump of %s: %v", storePath, err)
	}
	dump := filepath.Join(t.TempDir(), "zarrita.json")
	if err := os.WriteFile(dump, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return s, dump
}

// IsV3 reports whether the store at storePath is a Zarr v3 store (its root
// holds a zarr.json).
func IsV3(storePath string) bool {
	_, err := os.Stat(filepath.Join(storePath, "zarr.json"))
	return err == nil
}
