package kerchunk

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/zarr"
)

// FileType is what a recipe names reference sets by.
const FileType = "references"

// MaxSize bounds a reference set read as an input: its JSON is read whole.
const MaxSize = 512 << 20

func init() {
	source.Register(source.Format{
		Name:      "kerchunk references",
		Signature: `a kerchunk reference set (JSON with "refs")`,
		FileTypes: []string{FileType},
		Match:     match,
		Open:      Open,
		Groups:    groups,
	})
}

// match reports whether the file behind r starts as a reference set: a
// JSON object naming "version" or "refs" near its start.
func match(r io.ReaderAt, size int64) bool {
	head := make([]byte, min(size, 4096))
	n, _ := r.ReadAt(head, 0)
	head = bytes.TrimLeft(head[:n], " \t\r\n")
	return len(head) > 0 && head[0] == '{' && (bytes.Contains(head, []byte(`"refs"`)) || bytes.Contains(head, []byte(`"version"`)))
}

// Open reads the reference set behind r (name: its URL, against which
// relative URLs in it resolve) as an input: the Zarr store it describes,
// read through its references — inline data, and byte ranges of other
// objects that opts.Fetch reads — and decoded with the filters its arrays
// name, as fsspec's reference filesystem and xarray read it.
func Open(r io.ReaderAt, size int64, name string, opts source.Options) (source.Reader, error) {
	set, err := readSet(r, size, name, opts)
	if err != nil {
		return nil, err
	}
	rd, err := zarr.OpenInput(context.Background(), set, name, opts)
	if err != nil {
		return nil, err
	}
	return refsReader{rd}, nil
}

func groups(r io.ReaderAt, size int64, name string) ([]string, error) {
	set, err := readSet(r, size, name, source.Options{})
	if err != nil {
		return nil, err
	}
	return zarr.InputGroups(context.Background(), set, name)
}

// refsReader is the Zarr reader of a reference set, named as one.
type refsReader struct{ source.Reader }

func (refsReader) FileType() string { return FileType }
func (r refsReader) Format() string { return "kerchunk references (" + r.Reader.Format() + ")" }

// ref is one entry of a set: inline bytes, or length bytes at offset of
// url (length < 0: the whole object).
type ref struct {
	inline         []byte
	url            string
	offset, length int64
}

// set is a reference set as the objects of a store.
type set struct {
	name  string
	refs  map[string]ref
	fetch func(url string, offset, length int64) ([]byte, error)
	limit int64 // the most one referenced range may be
}

// readSet parses the reference set behind r.
func readSet(r io.ReaderAt, size int64, name string, opts source.Options) (*set, error) {
	if size > MaxSize {
		return nil, fmt.Errorf("%s: a reference set of %d bytes is more than the %d read whole (%w)", name, size, MaxSize, source.ErrTooLarge)
	}
	data := make([]byte, size)
	if _, err := r.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var doc struct {
		Version   *int                       `json:"version"`
		Refs      map[string]json.RawMessage `json:"refs"`
		Templates map[string]string          `json:"templates"`
		Gen       json.RawMessage            `json:"gen"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not a reference set: %w (%w)", name, err, source.ErrFormat)
	}
	switch {
	case doc.Version == nil || *doc.Version != 1:
		return nil, fmt.Errorf("%s: only version 1 reference sets are read (kerchunk.utils.consolidate_refs or refs_to_v1 converts older ones) (%w)", name, source.ErrUnsupported)
	case len(doc.Gen) > 0 && string(doc.Gen) != "null" && string(doc.Gen) != "[]":
		return nil, fmt.Errorf(`%s: "gen" (generated references) is not read here (%w)`, name, source.ErrUnsupported)
	}
	s := &set{name: name, refs: make(map[string]ref, len(doc.Refs)), fetch: opts.Fetch, limit: opts.MaxChunk}
	if s.limit <= 0 {
		s.limit = 1 << 30
	}
	for key, raw := range doc.Refs {
		e, err := parseRef(raw, doc.Templates, path.Dir(name))
		if err != nil {
			return nil, fmt.Errorf("%s: reference %q: %w (%w)", name, key, err, source.ErrFormat)
		}
		s.refs[key] = e
	}
	return s, nil
}

// parseRef reads one reference: a string (text, or "base64:" bytes), or
// [url], [url, offset, length]; {{name}} in a URL is the template name;
// a relative URL is relative to dir, the set's own location.
func parseRef(raw json.RawMessage, templates map[string]string, dir string) (ref, error) {
	var text string
	if json.Unmarshal(raw, &text) == nil {
		if b64, ok := strings.CutPrefix(text, "base64:"); ok {
			b, err := base64.StdEncoding.DecodeString(b64)
			return ref{inline: b}, err
		}
		return ref{inline: []byte(text)}, nil
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil || (len(parts) != 1 && len(parts) != 3) {
		return ref{}, errors.New("neither text nor [url] nor [url, offset, length]")
	}
	var e ref
	if err := json.Unmarshal(parts[0], &e.url); err != nil {
		return ref{}, errors.New("the URL is not text")
	}
	for k, v := range templates {
		e.url = strings.ReplaceAll(e.url, "{{"+k+"}}", v)
	}
	if !strings.Contains(e.url, "://") && !path.IsAbs(e.url) {
		e.url = path.Join(dir, e.url)
	}
	e.length = -1
	if len(parts) == 3 {
		if json.Unmarshal(parts[1], &e.offset) != nil || json.Unmarshal(parts[2], &e.length) != nil || e.offset < 0 || e.length < 0 {
			return ref{}, errors.New("offset and length must be whole numbers >= 0")
		}
	}
	return e, nil
}

// Get returns the bytes key refers to.
func (s *set) Get(_ context.Context, key string) ([]byte, error) {
	e, ok := s.refs[key]
	switch {
	case !ok:
		return nil, fmt.Errorf("%s: no reference %q: %w", s.name, key, fs.ErrNotExist)
	case e.url == "":
		return e.inline, nil
	case e.length > s.limit:
		return nil, fmt.Errorf("%s: reference %q: %d bytes of %s, more than the %d a chunk may take (%w)",
			s.name, key, e.length, e.url, s.limit, source.ErrTooLarge)
	case s.fetch == nil:
		return nil, fmt.Errorf("%s: reference %q: nothing here reads %s", s.name, key, e.url)
	}
	b, err := s.fetch(e.url, e.offset, e.length)
	if err != nil {
		return nil, fmt.Errorf("%s: reference %q: %w", s.name, key, err)
	}
	return b, nil
}

// Open streams the object at key: its bytes, read as Get reads them.
func (s *set) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	b, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// List returns the set's keys under prefix, sorted.
func (s *set) List(_ context.Context, prefix string) ([]string, error) {
	var keys []string
	for k := range s.refs {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}
