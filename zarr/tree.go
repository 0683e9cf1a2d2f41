package zarr

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Group is one group of a store of nested groups: its path from the root
// ("" for the root, "sweep_1/extra"), its attributes and the names of its
// arrays (relative to it).
type Group struct {
	Path   string
	Attrs  Attrs
	Arrays []string
}

// WriteTree completes a store of nested groups whose arrays are written: it
// writes every group's metadata — those of groups, and the ancestors of
// groups, that are not listed with no attributes — and last the root's
// consolidated metadata, which holds that of every group and array below
// it at its path, as zarr.consolidate_metadata writes it: in v2 .zgroup and
// .zattrs in each group, then the root .zmetadata; in v3 each group's
// zarr.json, then the root zarr.json with every node's metadata inline. As
// for WriteGroup, until the root's is written the store cannot be opened
// as complete, nor can any group in it be (their group objects are
// written here, after every array).
func WriteTree(ctx context.Context, st Store, format int, groups []Group) error {
	byPath := map[string]Group{"": {}}
	listed := map[string]bool{}
	for _, g := range groups {
		if g.Path = strings.Trim(g.Path, "/"); g.Path != "" {
			for _, part := range strings.Split(g.Path, "/") {
				if err := CheckName(part); err != nil {
					return fmt.Errorf("zarr: group %q: %w", g.Path, err)
				}
			}
		}
		if listed[g.Path] {
			return fmt.Errorf("zarr: group %q is given twice", g.Path)
		}
		listed[g.Path] = true
		byPath[g.Path] = g
		for p := g.Path; p != ""; {
			i := strings.LastIndexByte(p, '/')
			p = p[:max(i, 0)]
			if _, ok := byPath[p]; !ok {
				byPath[p] = Group{Path: p}
			}
		}
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	slices.Sort(paths)          // the root ("") first
	docs := map[string][]byte{} // key within the store → document, for the consolidated metadata
	for _, p := range paths {
		g := byPath[p]
		raw, err := g.Attrs.marshal(format == 3)
		if err != nil {
			return fmt.Errorf("zarr: group %q attributes: %w", p, err)
		}
		prefix := ""
		if p != "" {
			prefix = p + "/"
		}
		if format == 3 {
			if p != "" {
				doc := rootV3(raw, nil)
				if err := st.Put(ctx, prefix+v3Meta, doc); err != nil {
					return err
				}
				docs[p] = doc
			}
			for _, a := range g.Arrays {
				doc, err := st.Get(ctx, prefix+a+"/"+v3Meta)
				if err != nil {
					return fmt.Errorf("zarr: consolidating: %w", err)
				}
				docs[prefix+a] = doc
			}
			continue
		}
		group := []byte(`{"zarr_format":2}`)
		for key, doc := range map[string][]byte{".zattrs": raw, ".zgroup": group} {
			if err := st.Put(ctx, prefix+key, doc); err != nil {
				return err
			}
			docs[prefix+key] = doc
		}
		for _, a := range g.Arrays {
			for _, key := range []string{a + "/.zarray", a + "/.zattrs"} {
				doc, err := st.Get(ctx, prefix+key)
				if err != nil {
					return fmt.Errorf("zarr: consolidating: %w", err)
				}
				docs[prefix+key] = doc
			}
		}
	}
	if format == 3 {
		raw, err := byPath[""].Attrs.marshal(true)
		if err != nil {
			return fmt.Errorf("zarr: group attributes: %w", err)
		}
		return st.Put(ctx, v3Meta, rootV3(raw, docs))
	}
	return st.Put(ctx, ".zmetadata", zmetadata(docs))
}

// zmetadata is the v2 consolidated metadata of docs (store key → document).
func zmetadata(docs map[string][]byte) []byte {
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b jsonWriter
	b.raw(`{"metadata":{`)
	for i, k := range keys {
		if i > 0 {
			b.raw(",")
		}
		b.key(k)
		b.raw(string(docs[k]))
	}
	b.raw(`},"zarr_consolidated_format":1}`)
	return b.bytes()
}
