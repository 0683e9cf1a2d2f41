package inputs_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zarrforge/zarrforge/internal/inputs"
	_ "github.com/zarrforge/zarrforge/kerchunk"
	"github.com/zarrforge/zarrforge/source"
)

// TestReferencesFetched: a reference set whose chunks are byte ranges of
// one object over HTTP opens that object once for all its chunks (one
// request a chunk, not two), and what it fetched is counted with the set.
func TestReferencesFetched(t *testing.T) {
	const chunks = 12
	data := make([]byte, 8*chunks)
	for i := range 2 * chunks {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(float32(i)))
	}
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.ServeContent(w, r, "data.bin", fixedTime, bytesReader(data))
	}))
	defer srv.Close()
	refs := map[string]any{
		".zgroup":   `{"zarr_format":2}`,
		"x/.zarray": fmt.Sprintf(`{"zarr_format":2,"shape":[%d],"chunks":[2],"dtype":"<f4","compressor":null,"fill_value":null,"filters":null,"order":"C"}`, 2*chunks),
		"x/.zattrs": `{"_ARRAY_DIMENSIONS":["t"]}`,
	}
	for i := range chunks {
		refs[fmt.Sprintf("x/%d", i)] = []any{srv.URL + "/data.bin", 8 * i, 8}
	}
	b, _ := json.Marshal(map[string]any{"version": 1, "refs": refs})
	set := filepath.Join(t.TempDir(), "set.json")
	if err := os.WriteFile(set, b, 0o666); err != nil {
		t.Fatal(err)
	}
	in, err := inputs.OpenInput(context.Background(), set, "", set, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(data))
	if err := in.Reader.Read("x", []int64{0}, []int64{2 * chunks}, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != string(data) {
		t.Errorf("read %v, want %v", got, data)
	}
	t.Logf("%d requests for %d chunks", requests.Load(), chunks)
	if n := requests.Load(); n > chunks+1 {
		t.Errorf("%d requests for %d chunks of one object", n, chunks)
	}
	if f := in.File.Fetched(); f < int64(len(data)) {
		t.Errorf("%d bytes counted as fetched, want at least the %d of the chunks", f, len(data))
	}
	if err := in.File.Close(); err != nil {
		t.Error(err)
	}
}

var fixedTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
