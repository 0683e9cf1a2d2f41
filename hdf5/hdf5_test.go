package hdf5

import (
	"bytes"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestLookup3 checks the metadata checksum against the test vectors of
// lookup3.c's driver.
func TestLookup3(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
	}{
		{"", 0xdeadbeef},
		{"Four score and seven years ago", 0x17770551},
	}
	for _, tc := range tests {
		if got := lookup3([]byte(tc.in)); got != tc.want {
			t.Errorf("lookup3(%q) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
}

func TestNotHDF5(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("CDF\x01"), bytes.Repeat([]byte{0}, 4096), []byte(Signature)} {
		if _, err := Open(bytes.NewReader(b), int64(len(b))); err == nil {
			t.Errorf("Open(%q...) succeeded", b[:min(len(b), 8)])
		}
	}
}

// TestUnzstd decodes zstd frames of every size and kind a writer makes, and
// stops frames that hold more than the chunk at the chunk's size.
func TestUnzstd(t *testing.T) {
	data := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i * 7 / 5)
		}
		return b
	}
	oneShot := func(b []byte) []byte { // what HDF5's zstd plugin writes: content size, small window
		enc, _ := zstd.NewWriter(nil)
		defer enc.Close()
		return enc.EncodeAll(b, nil)
	}
	streamed := func(b []byte) []byte { // no content size, the encoder's own window
		var buf bytes.Buffer
		enc, _ := zstd.NewWriter(&buf, zstd.WithWindowSize(8<<20))
		enc.Write(b)
		enc.Close()
		return buf.Bytes()
	}
	tests := []struct {
		name    string
		frame   []byte
		want    int
		wantErr string
	}{
		{"one value", oneShot(data(4)), 4, ""},
		{"180 floats", oneShot(data(720)), 720, ""},
		{"1 MiB", oneShot(data(1 << 20)), 1 << 20, ""},
		{"streamed small", streamed(data(720)), 720, ""},
		{"streamed large", streamed(data(3 << 20)), 3 << 20, ""},
		{"bomb with content size", oneShot(make([]byte, 64<<20)), 100, "more than the chunk's 100"},
		{"bomb streamed", streamed(make([]byte, 64<<20)), 100, "more than the chunk's 100"},
		{"short", oneShot(data(10)), 20, ""}, // decode succeeds; decode() checks the length
		{"not zstd", []byte("hello"), 5, "magic"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := unzstd(tc.frame, uint64(tc.want))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, data(len(out))) {
				t.Fatalf("decoded %d bytes, not the ones encoded", len(out))
			}
		})
	}
}

// TestParseFill: fill value messages of every version; a version-1 message
// whose size is -1 (HDF5 1.6, in PyTables files) has no fill value.
func TestParseFill(t *testing.T) {
	f := &File{offsetSize: 8, lengthSize: 8}
	for _, tc := range []struct {
		name string
		msg  []byte
		old  bool
		want []byte
	}{
		{"v1 with a value", []byte{1, 3, 2, 1, 2, 0, 0, 0, 0xff, 0x7f}, false, []byte{0xff, 0x7f}},
		{"v1 size -1", []byte{1, 3, 2, 0, 0xff, 0xff, 0xff, 0xff}, false, nil},
		{"v2 undefined", []byte{2, 1, 0, 0}, false, nil},
		{"v3 with a value", []byte{3, 0x20, 1, 0, 0, 0, 9}, false, []byte{9}},
		{"old", []byte{2, 0, 0, 0, 1, 2}, true, []byte{1, 2}},
	} {
		got, err := f.parseFill(tc.msg, tc.old)
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := f.parseFill([]byte{1, 3, 2, 1, 0xfe, 0xff, 0xff, 0xff}, false); err == nil {
		t.Errorf("a size past the message: no error")
	}
}
