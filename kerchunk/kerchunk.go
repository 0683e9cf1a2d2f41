// Package kerchunk writes kerchunk reference sets (version 1 JSON): a Zarr
// v2 store whose metadata is held in the file and whose chunks are byte
// ranges of other files ([url, offset, length]) or, inlined, their bytes
// ("base64:..."). fsspec's reference filesystem opens them, so that
// xarray reads the original files through Zarr without a copy. It knows
// nothing of Beam.
package kerchunk

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// Writer writes a reference set to an io.Writer as it is given, entry by
// entry, so that no more than one entry is held. Keys must not repeat.
type Writer struct {
	w     *bufio.Writer
	first bool
	err   error
}

// NewWriter starts a reference set on w.
func NewWriter(w io.Writer) *Writer {
	kw := &Writer{w: bufio.NewWriterSize(w, 1<<16), first: true}
	_, kw.err = kw.w.WriteString(`{"version":1,"refs":{`)
	return kw
}

func (k *Writer) key(key string) {
	if k.err != nil {
		return
	}
	if !k.first {
		k.w.WriteByte(',')
	}
	k.first = false
	b, _ := json.Marshal(key)
	k.w.Write(b)
	k.w.WriteByte(':')
}

// Meta adds a metadata document (".zgroup", "sst/.zarray", ...), which
// the set holds as a JSON string.
func (k *Writer) Meta(key string, doc []byte) {
	k.key(key)
	b, err := json.Marshal(string(doc))
	if err != nil && k.err == nil {
		k.err = err
	}
	k.w.Write(b)
}

// Ref adds chunk key as size bytes at offset of url.
func (k *Writer) Ref(key, url string, offset, size int64) {
	k.key(key)
	u, _ := json.Marshal(url)
	k.w.WriteByte('[')
	k.w.Write(u)
	k.w.WriteString("," + strconv.FormatInt(offset, 10) + "," + strconv.FormatInt(size, 10) + "]")
}

// Inline adds chunk key as its bytes.
func (k *Writer) Inline(key string, data []byte) {
	k.key(key)
	k.w.WriteString(`"base64:`)
	enc := base64.NewEncoder(base64.StdEncoding, k.w)
	enc.Write(data)
	enc.Close()
	k.w.WriteByte('"')
}

// Close ends the set and flushes it; it reports the first error.
func (k *Writer) Close() error {
	if k.err == nil {
		_, k.err = k.w.WriteString("}}")
	}
	if k.err == nil {
		k.err = k.w.Flush()
	}
	if k.err != nil {
		return fmt.Errorf("kerchunk: writing references: %w", k.err)
	}
	return nil
}
