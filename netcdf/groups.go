package netcdf

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/zarrforge/zarrforge/hdf5"
)

// Groups returns the path of every group of the netCDF file behind r (of
// the given size; name is for errors only): "/" for the root first, then
// the others depth first, by name at each level ("sweep_0",
// "sweep_0/moments", "sweep_1"), each a path Options.Group takes. A classic
// file has only "/". A group linked from several places is listed once,
// where it is first reached; a file with more than 10,000 groups is
// refused (ErrUnsupported).
func Groups(r io.ReaderAt, size int64, name string) ([]string, error) {
	classic, err := isClassic(r, name)
	if err != nil {
		return nil, err
	}
	if classic {
		return []string{"/"}, nil
	}
	h, err := openHDF5File(r, size, name, 0)
	if err != nil {
		return nil, err
	}
	root, err := h.Root()
	if err != nil {
		return nil, nc4Error(name, err)
	}
	out := []string{"/"}
	seen := map[uint64]bool{root.Addr: true}
	if err := walkGroups(h, root, "", seen, &out); err != nil {
		return nil, nc4Error(name, err)
	}
	return out, nil
}

// walkGroups appends the paths of the groups below g (at path) to out,
// depth first, by name; seen holds the groups reached.
func walkGroups(h *hdf5.File, g *hdf5.Object, path string, seen map[uint64]bool, out *[]string) error {
	links, err := g.Links()
	if err != nil {
		return err
	}
	slices.SortFunc(links, func(a, b hdf5.Link) int { return strings.Compare(a.Name, b.Name) })
	for _, l := range links {
		obj, err := h.Open(l.Name, l.Addr)
		if err != nil {
			return err
		}
		if !obj.IsGroup() || seen[obj.Addr] {
			continue
		}
		if seen[obj.Addr] = true; len(seen) > maxGroups {
			return fmt.Errorf("more than %d groups: %w", maxGroups, hdf5.ErrUnsupported)
		}
		p := path + l.Name
		*out = append(*out, p)
		if err := walkGroups(h, obj, p+"/", seen, out); err != nil {
			return err
		}
	}
	return nil
}
