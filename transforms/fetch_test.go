package transforms_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/transforms"
)

// countingWriter counts the body bytes a handler sends.
type countingWriter struct {
	http.ResponseWriter
	n *int64
}

func (w countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	*w.n += int64(n)
	return n, err
}

// TestRemoteInputsFetchedOnce reads netCDF-4 inputs in place over HTTP
// (no cache) into target chunks that cut each stored slice into 16 tiles:
// read in groups, each input's data is served once, not once per tile —
// besides it, only the block holding its header, once to the schema stage
// and once to the chunk stage — and input_bytes_fetched counts no more
// than was served.
func TestRemoteInputsFetchedOnce(t *testing.T) {
	py := beamtest.RequirePython(t, "netCDF4", "numpy")
	dir := t.TempDir()
	script := `
import sys, numpy as np, netCDF4
rng = np.random.default_rng(5)
for i in range(4):
    ds = netCDF4.Dataset("%s/in_%d.nc" % (sys.argv[1], i), "w")
    ds.createDimension("time", None); ds.createDimension("lat", 512); ds.createDimension("lon", 1024)
    t = ds.createVariable("time", "f8", ("time",)); t.units = "days since 2000-01-01"; t[:] = [2 * i, 2 * i + 1]
    v = ds.createVariable("sst", "i2", ("time", "lat", "lon"), zlib=True, complevel=1, chunksizes=(1, 512, 1024))
    v[:] = rng.integers(-3000, 3000, size=(2, 512, 1024)).astype("i2")
    ds.close()
`
	if out, err := exec.Command(py, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("writing the inputs: %v\n%s", err, out)
	}
	var mu sync.Mutex
	served := map[string]*int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := filepath.Base(r.URL.Path)
		mu.Lock()
		if served[name] == nil {
			served[name] = new(int64)
		}
		n := served[name]
		mu.Unlock()
		http.ServeFile(countingWriter{w, n}, r, filepath.Join(dir, name))
	}))
	defer srv.Close()
	var in []plan.Input
	var size int64
	for i := range 4 {
		u := fmt.Sprintf("%s/in_%d.nc", srv.URL, i)
		in = append(in, plan.Input{Index: plan.Index{Concat: []int{i}}, Source: u, URL: u})
		st, err := os.Stat(filepath.Join(dir, fmt.Sprintf("in_%d.nc", i)))
		if err != nil {
			t.Fatal(err)
		}
		size = max(size, st.Size())
	}
	target := transforms.TargetConfig{URL: filepath.Join(t.TempDir(), "out.zarr"), Chunks: map[string]int64{"time": 2, "lat": 128, "lon": 256}, Compressor: "zstd"}
	counters, err := beamtest.RunWithMetrics(t, "direct", "zarrforge", func(t *testing.T, s beam.Scope) {
		pipeline(s, in, "", target)
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var total int64
	var report []string
	for name, n := range served {
		total += *n
		report = append(report, name+": "+strings.TrimSpace(formatRatio(*n, size)))
		const headerBlock = 512 << 10 // storage's block for small remote reads
		if *n > size+2*headerBlock {
			t.Errorf("%s: served %d bytes for a file of %d: its data more than once", name, *n, size)
		}
	}
	t.Logf("served per input (x its size): %s; counters %v", strings.Join(report, ", "), counters)
	if f := counters["input_bytes_fetched"]; f == 0 || f > total {
		t.Errorf("input_bytes_fetched %d, served %d in all (the schema stage's reads included)", f, total)
	}
	if d, n := counters["source_bytes_decoded"], counters["source_bytes_needed"]; d != n {
		t.Errorf("decoded %d bytes for %d needed: whole slices, each decoded once, are what the chunks need", d, n)
	}
}

func formatRatio(n, size int64) string { return fmt.Sprintf("%.2fx", float64(n)/float64(size)) }
