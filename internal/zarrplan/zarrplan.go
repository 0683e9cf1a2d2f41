// Package zarrplan is the Zarr side of the plan: the prepared target (the
// dataset laid out in chunks, and how each of its arrays is stored) and
// what the store's metadata says of the dataset (array metadata,
// attributes, provenance). The plan package knows nothing of Zarr; this
// one joins the two.
package zarrplan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/zarr"
)

// Target is the prepared store: where it is, how its chunks are compressed,
// and the dataset laid out in chunks.
type Target struct {
	URL string
	// Group is the path of the Zarr group the schema is written to in the
	// store at URL, in a store of nested groups ("sweep_1/extra"); "" when
	// the store holds one dataset at its root. The store's owner marker is
	// at URL's root either way.
	Group string
	// Format is the Zarr format of the store, 2 or 3 (0 means 2).
	Format int
	// Arrays holds the metadata of every array, by name, computed once
	// when the target is prepared (Resolve): when appending, as the store
	// has it (its chunks are encoded and decoded as it says: compressor,
	// shards, fill), else as the run makes it.
	Arrays map[string]zarr.ArrayMeta
	// Run identifies the run that owns the store while it is written.
	Run string
	// RecipeHash is the SHA-256 of the recipe that made the store, hex,
	// recorded in its root attributes (see Provenance); "" for none.
	RecipeHash string
	// MaxMem is the memory budget of one chunk's work, in bytes: no chunk
	// of the target, nor any input chunk read for one, may be larger.
	MaxMem int64
	Schema plan.Schema
}

// GroupURL is where the schema's arrays go: URL, or its group Group in it.
func (t *Target) GroupURL() string { return plan.GroupURL(t.URL, t.Group) }

// ReadGroupMem is how many bytes the region of one read group may take: half
// of MaxMem, the other half being for the chunks cut from it, their
// encoders and the reads' decoding.
func (t *Target) ReadGroupMem() int64 { return t.MaxMem / 2 }

// Resolve gives the target the metadata of every array it does not hold
// yet (an append's come from its store): as a store of the target's format
// makes it, chunks compressed by the numcodecs compressor id at level
// (0: its default; "" or "none": uncompressed), parsed here once. The
// stages carry the result; nothing rebuilds it.
func Resolve(t *Target, id string, level int) error {
	comp, err := zarr.NewCompressor(id, level)
	if err != nil {
		return err
	}
	if t.Arrays == nil {
		t.Arrays = map[string]zarr.ArrayMeta{}
	}
	for i := range t.Schema.Vars {
		v := &t.Schema.Vars[i]
		if _, ok := t.Arrays[v.Name]; ok {
			continue
		}
		dt, err := v.DType()
		if err != nil {
			return err
		}
		fill, err := v.FillValue()
		if err != nil {
			return err
		}
		dims := v.Dims
		if dims == nil {
			dims = []string{}
		}
		t.Arrays[v.Name] = zarr.ArrayMeta{Format: t.Format, Shape: v.Shape, Chunks: v.Chunks, Inner: v.Inner, DType: zarr.DType(dt),
			Compressor: comp, FillValue: fill, Dims: dims}
	}
	return nil
}

// ArrayMeta returns the metadata of v in the target (see Resolve), with
// v's shape.
func (t *Target) ArrayMeta(v *plan.Variable) (zarr.ArrayMeta, error) {
	m, ok := t.Arrays[v.Name]
	if !ok {
		return zarr.ArrayMeta{}, fmt.Errorf("variable %q: the target has no metadata for it", v.Name)
	}
	m.Shape = slices.Clone(v.Shape)
	return m, nil
}

// ArrayAttrs returns v's attributes as the store keeps them: all but
// _FillValue, which is part of the array's metadata (ArrayMeta).
func ArrayAttrs(v *plan.Variable) zarr.Attrs {
	var out zarr.Attrs
	for _, a := range v.Attrs {
		if a.Name == "_FillValue" {
			continue
		}
		out = append(out, zarr.Attr{Key: a.Name, Value: plan.AttrJSON(a)})
	}
	return out
}

// GroupAttrs returns the root group's .zattrs: the first input's global
// attributes.
func GroupAttrs(s *plan.Schema) zarr.Attrs {
	var out zarr.Attrs
	for _, a := range s.Attrs {
		out = append(out, zarr.Attr{Key: a.Name, Value: plan.AttrJSON(a)})
	}
	return out
}

// Provenance returns the root attributes that say what made a store: the
// zarrforge version, and SHA-256 digests of the recipe (recipeHash, when
// not "") and of the list of inputs (their sources, in pattern order).
// They are deterministic: a re-run of the same recipe writes the same
// bytes.
func Provenance(s *plan.Schema, version, recipeHash string) zarr.Attrs {
	h := sha256.New()
	for _, e := range s.Inputs {
		h.Write([]byte(e.Input.Source))
		h.Write([]byte{'\n'})
	}
	out := zarr.Attrs{{Key: "zarrforge_version", Value: version}}
	if recipeHash != "" {
		out = append(out, zarr.Attr{Key: "zarrforge_recipe_sha256", Value: recipeHash})
	}
	return append(out, zarr.Attr{Key: "zarrforge_inputs_sha256", Value: hex.EncodeToString(h.Sum(nil))})
}

// CheckNames checks that the name of every variable of the input, once
// edited, is the name of an array Zarr can store (zarr.CheckName). A
// recipe's Check and the schema stage check it alike.
func CheckNames(m *plan.InputMeta) error {
	for _, v := range m.Vars {
		if err := zarr.CheckName(v.Name); err != nil {
			return fmt.Errorf("input %s: variable %q cannot be stored: %w", m.Input.Source, v.Name, err)
		}
	}
	return nil
}
