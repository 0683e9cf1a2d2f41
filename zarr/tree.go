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
// writes the metadata of every group — and of the ancestors of groups, not
// listed, with no attributes — each group's holding that of every group
// and array below it (consolidated, at their paths from it), as
// zarr.consolidate_metadata writes it: in v2 .zattrs, .zgroup and
// .zmetadata, in v3 zarr.json with the metadata inline; the root's last.
// As for WriteGroup, until the root's is written the store cannot be
// opened as complete.
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
			p = p[:max(strings.LastIndexByte(p, '/'), 0)]
			if _, ok := byPath[p]; !ok {
				byPath[p] = Group{Path: p}
			}
		}
	}
	// Every node's metadata documents, by store key (v3: by node path).
	docs := map[string][]byte{}
	attrs := map[string][]byte{}
	for p, g := range byPath {
		raw, err := g.Attrs.marshal(format == 3)
		if err != nil {
			return fmt.Errorf("zarr: group %q attributes: %w", p, err)
		}
		attrs[p] = raw
		prefix := within(p)
		if format == 3 {
			if p != "" {
				docs[p] = rootV3(raw, nil)
			}
		} else {
			docs[prefix+".zattrs"], docs[prefix+".zgroup"] = raw, []byte(`{"zarr_format":2}`)
		}
		for _, a := range g.Arrays {
			keys := []string{a + "/.zarray", a + "/.zattrs"}
			if format == 3 {
				keys = []string{a + "/" + v3Meta}
			}
			for _, k := range keys {
				doc, err := st.Get(ctx, prefix+k)
				if err != nil {
					return fmt.Errorf("zarr: consolidating: %w", err)
				}
				if format == 3 {
					k = a
				}
				docs[prefix+k] = doc
			}
		}
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	slices.Reverse(paths) // the root ("") last
	for _, p := range paths {
		prefix := within(p)
		below := map[string][]byte{} // the group's own and its descendants', from it
		for k, doc := range docs {
			if strings.HasPrefix(k, prefix) && k != p {
				below[k[len(prefix):]] = doc
			}
		}
		if format == 3 {
			if err := st.Put(ctx, prefix+v3Meta, rootV3(attrs[p], below)); err != nil {
				return err
			}
			continue
		}
		for _, k := range []string{".zattrs", ".zgroup", ".zmetadata"} {
			doc := below[k]
			if k == ".zmetadata" {
				doc = zmetadata(below)
			}
			if err := st.Put(ctx, prefix+k, doc); err != nil {
				return err
			}
		}
	}
	return nil
}

// within is the prefix of the keys of group p: "" for the root, "p/".
func within(p string) string {
	if p == "" {
		return ""
	}
	return p + "/"
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
