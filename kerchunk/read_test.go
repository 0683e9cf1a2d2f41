package kerchunk_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/zarrforge/zarrforge/kerchunk"
	"github.com/zarrforge/zarrforge/source"
)

// set is a reference set of one int16 array "v" of 4 values in one chunk
// that lies at chunkRef.
func set(chunkRef string) string {
	return `{"version": 1, "templates": {"u": "https://host/data"}, "refs": {
	".zgroup": "{\"zarr_format\": 2}",
	"v/.zarray": "{\"chunks\":[4],\"compressor\":null,\"dtype\":\"<i2\",\"fill_value\":null,\"filters\":null,\"order\":\"C\",\"shape\":[4],\"zarr_format\":2}",
	"v/.zattrs": "{\"_ARRAY_DIMENSIONS\": [\"x\"]}",
	"v/0": ` + chunkRef + `}}`
}

// TestReadSet: a reference set reads through its references — inline
// bytes, and byte ranges fetched from the URLs it names (templates filled
// in, relative URLs beside the set) — and hostile or unsupported sets are
// refused naming the set and the reference.
func TestReadSet(t *testing.T) {
	var fetched []string
	fetch := func(url string, off, n int64) ([]byte, error) {
		fetched = append(fetched, url)
		return []byte{1, 0, 2, 0, 3, 0, 4, 0}, nil
	}
	for _, tc := range []struct {
		name, doc, url, want string
		is                   error
	}{
		{"inline", set(`"base64:AQACAAMABAA="`), "", "", nil},
		{"a range, by template", set(`["{{u}}/a.nc", 100, 8]`), "https://host/data/a.nc", "", nil},
		{"a range, relative", set(`["a.nc", 100, 8]`), "/refs/a.nc", "", nil},
		{"a range larger than a chunk may be", set(`["a.nc", 0, 5000000000]`), "", `reference "v/0": 5000000000 bytes`, source.ErrTooLarge},
		{"a negative offset", set(`["a.nc", -1, 8]`), "", `reference "v/0": offset and length`, source.ErrFormat},
		{"version 0", `{"refs": {}}`, "", "only version 1", source.ErrUnsupported},
		{"generated references", `{"version": 1, "refs": {}, "gen": [{"key": "x"}]}`, "", `"gen"`, source.ErrUnsupported},
		{"not JSON", `{"version": 1, "refs": {`, "", "not a reference set", source.ErrFormat},
	} {
		fetched = nil
		r, err := source.Open(bytes.NewReader([]byte(tc.doc)), int64(len(tc.doc)), "/refs/set.json",
			source.Options{Fetch: fetch, MaxChunk: 1 << 20})
		if err == nil {
			dst := make([]byte, 8)
			if err = r.Read("v", []int64{0}, []int64{4}, dst); err == nil && !bytes.Equal(dst, []byte{1, 0, 2, 0, 3, 0, 4, 0}) {
				t.Errorf("%s: read %v", tc.name, dst)
			}
			if err == nil && r.FileType() != kerchunk.FileType {
				t.Errorf("%s: file type %q", tc.name, r.FileType())
			}
		}
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "/refs/set.json") || !errors.Is(err, tc.is)):
			t.Errorf("%s: got %v, want %q (%v)", tc.name, err, tc.want, tc.is)
		case tc.url != "" && (len(fetched) != 1 || fetched[0] != tc.url):
			t.Errorf("%s: fetched %v, want %s", tc.name, fetched, tc.url)
		}
	}
}
