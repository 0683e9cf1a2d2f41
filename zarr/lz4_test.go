package zarr

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/zarrforge/zarrforge/beamtest"
)

// TestLZ4Interop: numcodecs' LZ4 frames decode in ours and ours in
// numcodecs, compressible or not (a block of literals), small and large.
func TestLZ4Interop(t *testing.T) {
	py := beamtest.RequirePython(t, "numcodecs")
	dir := t.TempDir()
	var names []string
	for i, c := range []struct {
		n            int
		compressible bool
	}{{10, false}, {300, false}, {5000, true}, {1 << 20, false}, {3 << 20, true}} {
		raw := sample(c.n, 4, c.compressible, uint64(i))
		frame, err := lz4Encode(nil, raw)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Join(dir, string(rune('a'+i)))
		names = append(names, name)
		if err := os.WriteFile(name+".raw", raw, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name+".ours", frame, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := `
import sys, numcodecs
for name in sys.argv[1:]:
    raw = open(name + ".raw", "rb").read()
    if bytes(numcodecs.LZ4().decode(open(name + ".ours", "rb").read())) != raw:
        sys.exit(name + ": numcodecs decodes something else")
    open(name + ".theirs", "wb").write(numcodecs.LZ4().encode(raw))
`
	if out, err := exec.Command(py, append([]string{"-c", script}, names...)...).CombinedOutput(); err != nil {
		t.Fatalf("numcodecs: %v\n%s", err, out)
	}
	for _, name := range names {
		raw, _ := os.ReadFile(name + ".raw")
		frame, _ := os.ReadFile(name + ".theirs")
		got, err := lz4Decode(frame, int64(len(raw)))
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("%s: numcodecs' frame decoded to %d bytes: %v", name, len(got), err)
		}
		if len(raw) > 0 {
			if _, err := lz4Decode(frame, int64(len(raw)-1)); err == nil {
				t.Errorf("%s: decoded past the limit", name)
			}
		}
	}
}

func FuzzLZ4Decode(f *testing.F) {
	frame, _ := lz4Encode(nil, sample(5000, 4, true, 1))
	f.Add(frame)
	f.Fuzz(func(t *testing.T, frame []byte) {
		if out, err := lz4Decode(frame, 1<<20); err == nil && len(out) > 1<<20 {
			t.Fatalf("decoded %d bytes past the limit", len(out))
		}
	})
}
