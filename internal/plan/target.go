package plan

import (
	"strings"

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
	// Compressor is the numcodecs id ("zstd", "zlib", "gzip", "blosc") or
	// "" for none.
	Compressor string
	Level      int
	// Arrays, when appending, holds the metadata of the store's arrays as
	// the store has it: their chunks are encoded and decoded as it says
	// (compressor, shards, fill), whatever Compressor says. nil when the
	// run creates the store.
	Arrays map[string]zarr.ArrayMeta
	// Run identifies the run that owns the store while it is written.
	Run string
	// RecipeHash is the SHA-256 of the recipe that made the store, hex,
	// recorded in its root attributes (see Provenance); "" for none.
	RecipeHash string
	// MaxMem is the memory budget of one chunk's work, in bytes: no chunk
	// of the target, nor any input chunk read for one, may be larger.
	MaxMem int64
	Schema Schema
}

// GroupURL is where the schema's arrays go: URL, or its group Group in it.
func (t *Target) GroupURL() string { return GroupURL(t.URL, t.Group) }

// GroupURL is where the group at path group ("" the root) of the store at
// url is.
func GroupURL(url, group string) string {
	if group == "" {
		return url
	}
	return strings.TrimSuffix(url, "/") + "/" + group
}

// ReadGroupMem is how many bytes the region of one read group may take: half
// of MaxMem, the other half being for the chunks cut from it, their
// encoders and the reads' decoding.
func (t *Target) ReadGroupMem() int64 { return t.MaxMem / 2 }

// WriteResult reports one chunk object written.
type WriteResult struct {
	Key   ChunkKey
	Bytes int64 // encoded size
}

// Totals sums the write results of a run.
type Totals struct {
	Chunks int64
	Bytes  int64
}

// Add folds one result into t.
func (t Totals) Add(r WriteResult) Totals {
	return Totals{Chunks: t.Chunks + 1, Bytes: t.Bytes + r.Bytes}
}

// Merge sums two totals.
func (t Totals) Merge(o Totals) Totals {
	return Totals{Chunks: t.Chunks + o.Chunks, Bytes: t.Bytes + o.Bytes}
}

// Summary is what a finished recipe reports.
type Summary struct {
	URL    string
	Arrays int
	Chunks int64
	Bytes  int64
}
