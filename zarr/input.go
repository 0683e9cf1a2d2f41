package zarr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/zarrforge/zarrforge/source"
)

// FileType is what a recipe names Zarr store inputs by.
const FileType = "zarr"

func init() {
	source.RegisterStore(source.StoreFormat{
		Name:      "Zarr",
		Signature: "Zarr v2 (.zgroup, .zarray, .zmetadata) or v3 (zarr.json)",
		FileTypes: []string{FileType},
		Match:     matchStore,
		Open:      OpenInput,
		Groups:    InputGroups,
	})
}

// matchStore reports whether o has a Zarr group or array at its root.
func matchStore(ctx context.Context, o source.Objects) bool {
	for _, key := range []string{".zgroup", ".zmetadata", ".zarray", v3Meta} {
		if _, err := o.Get(ctx, key); err == nil {
			return true
		}
	}
	return false
}

// input is a Zarr store (one group of it) read as an input, as
// xarray.open_zarr reads it: arrays are variables, their dimension names
// (_ARRAY_DIMENSIONS in v2, dimension_names in v3) the dimensions, the
// fill value xarray's _FillValue (v2's fill_value, v3's _FillValue
// attribute), chunks never written the array's fill.
type input struct {
	ctx    context.Context
	st     readOnly
	name   string // the store's URL, for messages
	format int
	dims   []source.Dim
	vars   []source.Var
	attrs  []source.Attr
	arrays map[string]ArrayMeta // by variable name; keys hold the group's prefix
	prefix string               // the group's path, "" or "g/"
	// consolidated: the metadata read is the consolidated metadata's
	consolidated bool
	limit        int64 // the most a stored chunk (or shard) may decode to
	decoded      atomic.Int64
}

// OpenInput opens the Zarr store o (name is its URL, for messages) as an
// input, as xarray.open_zarr(name, group=opts.Group) reads it. Its
// consolidated metadata is used when it has some, after checking it
// against each array's own; without, the store is listed. Reads use ctx.
func OpenInput(ctx context.Context, o source.Objects, name string, opts source.Options) (source.Reader, error) {
	st, keys, format, err := storeKeys(ctx, o, name)
	if err != nil {
		return nil, err
	}
	prefix, err := groupPrefix(opts.Group)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	in := &input{ctx: ctx, st: st, name: name, format: format, prefix: prefix, arrays: map[string]ArrayMeta{},
		limit: opts.MaxChunk, consolidated: st.docs != nil}
	if in.limit <= 0 {
		in.limit = 1 << 30
	}
	below := trimKeys(keys, prefix)
	arrays, groups := children(ctx, st, prefix, below)
	if sub := in.groupsWithArrays(below, groups); len(sub) > 0 && opts.Group == "" {
		return nil, fmt.Errorf("%s: groups below the root (%s) hold data: read one at a time (pattern.group) (%w, %w)",
			name, strings.Join(sub, ", "), source.ErrNestedGroups, source.ErrUnsupported)
	}
	if err := in.readGroupAttrs(); err != nil {
		return nil, err
	}
	for _, a := range arrays {
		if err := in.addArray(a, o); err != nil {
			return nil, err
		}
	}
	if len(in.vars) == 0 {
		return nil, fmt.Errorf("%s: the store holds no arrays%s (%w)", name, groupNote(opts.Group), source.ErrFormat)
	}
	return in, nil
}

// groupsWithArrays returns those of groups, directly below the one read
// (keys are its keys, without its prefix), that hold arrays at any depth.
// Empty groups are passed over, as xarray passes over every group below
// the one it opens.
func (in *input) groupsWithArrays(keys, groups []string) []string {
	var out []string
	for _, g := range groups {
		for _, k := range trimKeys(keys, g+"/") {
			if isArrayMeta(in.ctx, in.st, in.prefix+g+"/"+k) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// children returns the arrays and the groups directly below the group at
// prefix of st (keys are its keys, without the prefix): a v2 node is told
// by its .zarray, a v3 node by its zarr.json's node_type.
func children(ctx context.Context, st readOnly, prefix string, keys []string) (arrays, groups []string) {
	groups = SubGroups(keys)
	for _, name := range Arrays(keys) {
		key := name + "/.zarray"
		if !slices.Contains(keys, key) {
			key = name + "/" + v3Meta
		}
		if isArrayMeta(ctx, st, prefix+key) {
			arrays = append(arrays, name)
		} else {
			groups = append(groups, name)
		}
	}
	slices.Sort(groups)
	return arrays, groups
}

// isArrayMeta reports whether key of st is the metadata of an array (a
// zarr.json that cannot be read is taken for one, and refused as one).
func isArrayMeta(ctx context.Context, st readOnly, key string) bool {
	switch {
	case strings.HasSuffix(key, "/.zarray"):
		return true
	case !strings.HasSuffix(key, "/"+v3Meta):
		return false
	}
	b, err := st.Get(ctx, key)
	var node struct {
		NodeType string `json:"node_type"`
	}
	return err != nil || json.Unmarshal(quoteSpecialFloats(b), &node) != nil || node.NodeType != "group"
}

// InputGroups lists the groups of the Zarr store o: "/" first, then the
// others depth first.
func InputGroups(ctx context.Context, o source.Objects, name string) ([]string, error) {
	st, keys, _, err := storeKeys(ctx, o, name)
	if err != nil {
		return nil, err
	}
	out := []string{"/"}
	var walk func(prefix string, keys []string)
	walk = func(prefix string, keys []string) {
		_, groups := children(ctx, st, prefix, keys)
		for _, g := range groups {
			out = append(out, prefix+g)
			walk(prefix+g+"/", trimKeys(keys, g+"/"))
		}
	}
	walk("", keys)
	return out, nil
}

// storeKeys returns the keys of o's metadata, and a Store that reads it:
// from the consolidated metadata where there is some (served from memory),
// else by listing the store.
func storeKeys(ctx context.Context, o source.Objects, name string) (readOnly, []string, int, error) {
	docs, format, err := consolidatedDocs(ctx, o)
	if err != nil {
		return readOnly{}, nil, 0, fmt.Errorf("%s: %w (%w)", name, err, source.ErrFormat)
	}
	st := readOnly{o: o}
	if docs != nil {
		st.docs = docs
		return st, slices.Sorted(maps.Keys(docs)), format, nil
	}
	keys, err := o.List(ctx, "")
	if err != nil {
		return readOnly{}, nil, 0, fmt.Errorf("%s: no consolidated metadata, and the store cannot be listed: %w", name, err)
	}
	return st, keys, FormatOf(keys), nil
}

// consolidatedDocs returns the metadata documents a store's consolidated
// metadata holds, by key, and the store's format; nil when it has none.
func consolidatedDocs(ctx context.Context, o source.Objects) (map[string][]byte, int, error) {
	if b, err := o.Get(ctx, ".zmetadata"); err == nil {
		var doc struct {
			Metadata map[string]json.RawMessage `json:"metadata"`
		}
		if err := json.Unmarshal(quoteSpecialFloats(b), &doc); err != nil {
			return nil, 0, fmt.Errorf(".zmetadata: %w", err)
		}
		docs := map[string][]byte{}
		for k, v := range doc.Metadata {
			docs[k] = v
		}
		return docs, 2, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, 0, err
	}
	b, err := o.Get(ctx, v3Meta)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var root struct {
		Consolidated *struct {
			Metadata map[string]json.RawMessage `json:"metadata"`
		} `json:"consolidated_metadata"`
	}
	if err := json.Unmarshal(quoteSpecialFloats(b), &root); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", v3Meta, err)
	}
	if root.Consolidated == nil {
		return nil, 0, nil
	}
	docs := map[string][]byte{v3Meta: b}
	for k, v := range root.Consolidated.Metadata {
		docs[k+"/"+v3Meta] = v
	}
	return docs, 3, nil
}

// readOnly is a store's objects as a Store for this package's readers,
// metadata served from docs where the consolidated metadata has it.
type readOnly struct {
	o    source.Objects
	docs map[string][]byte
}

func (r readOnly) Get(ctx context.Context, key string) ([]byte, error) {
	if b, ok := r.docs[key]; ok {
		return b, nil
	}
	return r.o.Get(ctx, key)
}

func (readOnly) Put(context.Context, string, []byte) error {
	return errors.New("zarr: an input store is read only")
}

// groupPrefix is the key prefix of group ("", "/": the root).
func groupPrefix(group string) (string, error) {
	g := strings.Trim(group, "/")
	if g == "" {
		return "", nil
	}
	for _, part := range strings.Split(g, "/") {
		if err := CheckName(part); err != nil {
			return "", fmt.Errorf("group %q: %w", group, err)
		}
	}
	return g + "/", nil
}

func groupNote(group string) string {
	if strings.Trim(group, "/") == "" {
		return ""
	}
	return " in group " + group
}

// trimKeys returns the keys under prefix, without it.
func trimKeys(keys []string, prefix string) []string {
	var out []string
	for _, k := range keys {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			out = append(out, rest)
		}
	}
	return out
}
