package zarr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// ConsolidatedShapes returns the shapes of the arrays that the store's
// consolidated metadata lists (.zmetadata in v2, the root zarr.json's
// consolidated_metadata in v3), by array path ("sst", or "g1/sst" below a
// group), and whether the store has consolidated metadata at all. An append
// compares them with the arrays' own metadata: a tool that died between
// resizing arrays and consolidating leaves them apart.
func ConsolidatedShapes(ctx context.Context, st Store, format int) (map[string][]int64, bool, error) {
	key := ".zmetadata"
	if format == 3 {
		key = v3Meta
	}
	b, err := st.Get(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var doc struct {
		Metadata     map[string]json.RawMessage `json:"metadata"` // v2
		Consolidated *struct {
			Metadata map[string]json.RawMessage `json:"metadata"`
		} `json:"consolidated_metadata"` // v3
	}
	if err := json.Unmarshal(quoteSpecialFloats(b), &doc); err != nil {
		return nil, false, fmt.Errorf("zarr: %s: %w", key, err)
	}
	shapes := map[string][]int64{}
	var entries map[string]json.RawMessage
	switch {
	case format == 3 && doc.Consolidated == nil:
		return nil, false, nil
	case format == 3:
		entries = doc.Consolidated.Metadata
	default:
		entries = doc.Metadata
	}
	for k, raw := range entries {
		name := k
		if format != 3 {
			var ok bool
			if name, ok = strings.CutSuffix(k, "/.zarray"); !ok {
				continue
			}
		}
		var node struct {
			NodeType string  `json:"node_type"`
			Shape    []int64 `json:"shape"`
		}
		if err := json.Unmarshal(raw, &node); err != nil {
			return nil, false, fmt.Errorf("zarr: %s: %s: %w", key, k, err)
		}
		if format == 3 && node.NodeType != "array" {
			continue
		}
		shapes[name] = node.Shape
	}
	return shapes, true, nil
}

// SubGroups returns the names of the groups directly below the root among
// keys, the keys of a store's objects: the first path segment of every
// metadata key (.zgroup, .zarray, .zattrs, zarr.json) that is not in a
// root array; sorted, each once.
func SubGroups(keys []string) []string {
	arrays := Arrays(keys)
	var groups []string
	for _, k := range keys {
		dir, base, ok := cutLast(k)
		if !ok {
			continue
		}
		switch base {
		case ".zgroup", ".zarray", ".zattrs", v3Meta:
		default:
			continue
		}
		first, _, _ := strings.Cut(dir, "/")
		if !slices.Contains(arrays, first) && !slices.Contains(groups, first) {
			groups = append(groups, first)
		}
	}
	slices.Sort(groups)
	return groups
}

// cutLast splits key at its last "/".
func cutLast(key string) (dir, base string, ok bool) {
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return "", key, false
	}
	return key[:i], key[i+1:], true
}
