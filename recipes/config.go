// Package recipes describes a zarrforge conversion — which files to read,
// how they fit together and where the Zarr store goes — and loads that
// description from a YAML recipe file.
//
// A recipe file looks like this (every key is described on the Go type it
// fills):
//
//	pattern:
//	  template: "file:///data/{variable}/oisst.{time}.nc"
//	  concat_dim:
//	    name: time
//	    keys: ["19810901", "19810902"]
//	    nitems_per_file: 1
//	  merge_dims:
//	    - name: variable
//	      keys: [sst, ice]
//	  file_type: auto
//	target:
//	  url: file:///out/oisst.zarr
//	  chunks: {time: 30}
//	  compressor: zstd
//	  mode: create
//	cache:
//	  url: file:///cache
//
// Unknown keys are errors, so a typo cannot silently change a run.
package recipes

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/targetstore"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/transforms"
)

// Recipe is one conversion: the input files, the target store and an
// optional cache. It mirrors the YAML recipe file key for key.
type Recipe struct {
	// Pattern names the input files ("pattern").
	Pattern Pattern `yaml:"pattern"`
	// Target describes the Zarr store to write ("target").
	Target Target `yaml:"target"`
	// Cache, when present, is where inputs are copied before they are
	// read ("cache", optional).
	Cache *Cache `yaml:"cache"`
	// Preprocess, when present, edits every input before they are
	// combined ("preprocess", optional).
	Preprocess *Preprocess `yaml:"preprocess"`
	// Source names where the recipe came from (a file path) in error
	// messages. It is not part of the YAML.
	Source string `yaml:"-"`
	// RunID names the run in the store's marker
	// (transforms.TargetConfig.RunID); empty, Build picks one. Set it to
	// release the target should the job fail (Release). It is not part of
	// the YAML.
	RunID string `yaml:"-"`
}

// Target is the "target" section of a recipe.
type Target struct {
	// URL is where the store goes: a plain path, a file:// URL or
	// gs://bucket/prefix ("url", required).
	URL string `yaml:"url"`
	// Chunks is the target chunk size per dimension; dimensions not named
	// are one chunk ("chunks", e.g. {time: 30}). Sizes must be >= 1.
	Chunks map[string]int64 `yaml:"chunks"`
	// Compressor is "zstd" (the default), "zlib", "gzip", "blosc" (lz4
	// with byte shuffle, as zarr-python and xarray default it) or "none",
	// optionally with a level: "zstd:5" (1..22), "zlib:9" or "blosc:9"
	// (1..9) ("compressor"). See CompressorAndLevel.
	Compressor string `yaml:"compressor"`
	// Mode is "create" (the default: fail if a store exists), "overwrite"
	// or "append" (extend along the concat dimension) ("mode").
	Mode string `yaml:"mode"`
	// MaxMem is the memory budget of one chunk's work: no target chunk may
	// be larger, nor any input chunk read for it larger than half of it
	// ("max_mem", a size like "256MiB", "2GB" or a number of bytes;
	// default transforms.DefaultMaxMem). See MaxMemBytes.
	MaxMem string `yaml:"max_mem"`
	// ZarrFormat is the Zarr format of the store: 2 (the default) or 3
	// ("zarr_format"). An append keeps the store's; naming another is an
	// error.
	ZarrFormat int `yaml:"zarr_format"`
	// Shards (Zarr v3 only) is the shard size per dimension: each shard
	// object holds the chunks within it, so that fine chunks do not each
	// cost an object ("shards", e.g. {time: 120}). A size must be a
	// multiple of the chunk size along its dimension; dimensions not named
	// hold one chunk per shard.
	Shards map[string]int64 `yaml:"shards"`
	// ChunkBytes picks the chunk size along the concat dimension so that
	// chunks come out near this size ("chunk_bytes", a size like "100MB";
	// instead of naming the concat dimension in chunks). See ChunkBytesN.
	ChunkBytes string `yaml:"chunk_bytes"`
	// Format is "zarr" (the default: copy the data into a Zarr store) or
	// "references": url is then a .json file of kerchunk references into
	// the inputs' bytes, and no data is copied ("format"). References
	// keep the inputs' chunks and encoding, so chunks, shards, compressor
	// and zarr_format do not apply, nor mode append.
	Format string `yaml:"format"`
}

// Target formats.
const (
	FormatZarr       = "zarr"
	FormatReferences = "references"
)

// ChunkBytesN returns a validated target's chunk_bytes in bytes (0: none).
func (t Target) ChunkBytesN() int64 {
	n, _ := parseSize(t.ChunkBytes)
	return n
}

// References reports whether the target is a reference set.
func (t Target) References() bool { return t.Format == FormatReferences }

// MaxMemBytes returns a validated target's memory budget in bytes.
func (t Target) MaxMemBytes() int64 {
	n, err := parseSize(t.MaxMem)
	if err != nil || n == 0 {
		return transforms.DefaultMaxMem
	}
	return n
}

// sizeUnits are the units of sizes ("512MiB", "2GB"), by lower-case name.
var sizeUnits = map[string]int64{"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}

// parseSize reads a size: a whole number, optionally followed by a unit.
// "" is 0.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if i < 0 {
		i = len(s)
	}
	unit, ok := sizeUnits[strings.ToLower(strings.TrimSpace(s[i:]))]
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if i == 0 || !ok || err != nil {
		return 0, fmt.Errorf("%q is not a size (a whole number of bytes, or with a unit: 512MiB, 2GB)", s)
	}
	if n > math.MaxInt64/unit {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * unit, nil
}

// Cache is the "cache" section of a recipe.
type Cache struct {
	// URL is a directory (plain path or URL) inputs are copied to before
	// they are read ("url", required in a cache section).
	URL string `yaml:"url"`
}

// The file type that sniffs each input, and the modes a recipe may name.
const (
	FileTypeAuto = "auto"

	// The modes are the transforms package's, named here for recipes.
	ModeCreate    = string(transforms.ModeCreate)
	ModeOverwrite = string(transforms.ModeOverwrite)
	ModeAppend    = string(transforms.ModeAppend)

	defaultCompressor = "zstd"
)

var (
	modes = []string{ModeCreate, ModeOverwrite, ModeAppend}
	// compressors a recipe may name (the zarr package, which checks their
	// levels, also reads lz4, to append to stores that have it).
	compressors = []string{"zstd", "zlib", "gzip", "blosc", "none"}
)

// maxRecipeSize bounds the recipe files Load reads.
const maxRecipeSize = 16 << 20

// Load reads and validates the recipe file at path. Errors start with
// "recipe <path>: ".
func Load(path string) (Recipe, error) {
	f, err := os.Open(path)
	if err != nil {
		return Recipe{}, fmt.Errorf("recipe %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecipeSize+1))
	if err != nil {
		return Recipe{}, fmt.Errorf("recipe %s: %w", path, err)
	}
	if len(data) > maxRecipeSize {
		return Recipe{}, fmt.Errorf("recipe %s: larger than %d bytes; not a recipe file", path, maxRecipeSize)
	}
	return Parse(data, path)
}

// Parse decodes a YAML recipe, fills in the defaults (file_type auto,
// compressor zstd, mode create) and validates it. source names the recipe
// in errors ("recipe <source>: ..."). Unknown keys are errors naming the
// key, its section and its line.
func Parse(data []byte, source string) (Recipe, error) {
	r := Recipe{Source: source}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		if errors.Is(err, io.EOF) {
			return Recipe{}, r.errorf("", "empty recipe")
		}
		return Recipe{}, r.errorf("", "%s", yamlMessage(err))
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Recipe{}, r.errorf("", "more than one YAML document; a recipe is one document")
	}
	if err := checkExplicitZero(data); err != nil {
		return Recipe{}, r.errorf("", "%s", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err == nil {
		if err := checkWholeNumbers(&doc, reflect.TypeFor[Recipe](), ""); err != nil {
			return Recipe{}, r.errorf("", "%s", err)
		}
	}
	if r.Pattern.FileType == "" {
		r.Pattern.FileType = FileTypeAuto
	}
	if r.Target.Compressor == "" {
		r.Target.Compressor = defaultCompressor
	}
	if r.Target.Mode == "" {
		r.Target.Mode = ModeCreate
	}
	if err := r.Validate(); err != nil {
		return Recipe{}, err
	}
	return r, nil
}

// checkExplicitZero rejects "nitems_per_file: 0", which the Recipe type
// cannot tell from an absent key.
func checkExplicitZero(data []byte) error {
	type nitems struct {
		NItemsPerFile *int64 `yaml:"nitems_per_file"`
	}
	var doc struct {
		Pattern struct {
			ConcatDim  nitems   `yaml:"concat_dim"`
			ConcatDims []nitems `yaml:"concat_dims"`
		} `yaml:"pattern"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil // Decode has reported it already
	}
	if n := doc.Pattern.ConcatDim.NItemsPerFile; n != nil && *n < 1 {
		return &fieldError{"pattern.concat_dim.nitems_per_file", fmt.Sprintf("must be >= 1 when given, got %d", *n)}
	}
	for i, d := range doc.Pattern.ConcatDims {
		if n := d.NItemsPerFile; n != nil && *n < 1 {
			return &fieldError{fmt.Sprintf("pattern.concat_dims[%d].nitems_per_file", i), fmt.Sprintf("must be >= 1 when given, got %d", *n)}
		}
	}
	return nil
}

// checkWholeNumbers refuses a number with a fraction (or an exponent)
// where the recipe type t holds an integer, which YAML decoding would
// silently truncate ("chunks: {time: 2.99}" is not 2).
func checkWholeNumbers(n *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if err := checkWholeNumbers(c, t, path); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, value := n.Content[i].Value, n.Content[i+1]
			sub := strings.TrimPrefix(path+"."+key, ".")
			switch t.Kind() {
			case reflect.Struct:
				for f := range t.Fields() {
					if name, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); name == key {
						if err := checkWholeNumbers(value, f.Type, sub); err != nil {
							return err
						}
					}
				}
			case reflect.Map:
				if err := checkWholeNumbers(value, t.Elem(), sub); err != nil {
					return err
				}
			}
		}
	case yaml.SequenceNode:
		if t.Kind() == reflect.Slice {
			for _, c := range n.Content {
				if err := checkWholeNumbers(c, t.Elem(), path); err != nil {
					return err
				}
			}
		}
	case yaml.ScalarNode:
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if n.Tag == "!!float" {
				return &fieldError{path, fmt.Sprintf("line %d: %s is not a whole number", n.Line, n.Value)}
			}
		}
	}
	return nil
}

// sections maps the Go types of the recipe to their place in the YAML, for
// messages about unknown keys.
var sections = map[string]struct {
	path string
	typ  reflect.Type
}{
	"recipes.Recipe":     {"the recipe", reflect.TypeFor[Recipe]()},
	"recipes.Pattern":    {"pattern", reflect.TypeFor[Pattern]()},
	"recipes.ConcatDim":  {"pattern.concat_dim", reflect.TypeFor[ConcatDim]()},
	"recipes.MergeDim":   {"pattern.merge_dims", reflect.TypeFor[MergeDim]()},
	"recipes.DateRange":  {"dates", reflect.TypeFor[DateRange]()},
	"recipes.IntRange":   {"range", reflect.TypeFor[IntRange]()},
	"recipes.Target":     {"target", reflect.TypeFor[Target]()},
	"recipes.Cache":      {"cache", reflect.TypeFor[Cache]()},
	"recipes.Preprocess": {"preprocess", reflect.TypeFor[Preprocess]()},
	"recipes.Slice":      {"preprocess.isel", reflect.TypeFor[Slice]()},
}

var unknownField = regexp.MustCompile(`^line (\d+): field (.+) not found in type (\S+)$`)

// yamlMessage turns a yaml.v3 error into a message in recipe terms:
// "line 3: unknown key "tmplate" in pattern (known: template, ...)".
func yamlMessage(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return strings.TrimPrefix(err.Error(), "yaml: ")
	}
	msgs := make([]string, len(te.Errors))
	for i, m := range te.Errors {
		msgs[i] = m
		g := unknownField.FindStringSubmatch(m)
		if g == nil {
			continue
		}
		sec, ok := sections[g[3]]
		if !ok {
			continue
		}
		msgs[i] = fmt.Sprintf("line %s: unknown key %q in %s (known: %s)", g[1], g[2], sec.path, strings.Join(yamlKeys(sec.typ), ", "))
	}
	return strings.Join(msgs, "; ")
}

// yamlKeys lists the YAML keys of a struct type.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			keys = append(keys, name)
		}
	}
	return keys
}

// fieldError is a problem with one field of a recipe, named by its YAML
// path ("target.chunks.time").
type fieldError struct {
	field, msg string
}

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

// errorf formats an error about r: "recipe <source>: <field>: <message>".
func (r Recipe) errorf(field, format string, args ...any) error {
	prefix := "recipe"
	if r.Source != "" {
		prefix += " " + r.Source
	}
	if field != "" {
		prefix += ": " + field
	}
	return fmt.Errorf("%s: %s", prefix, Explain(fmt.Sprintf(format, args...)))
}

// Validate checks the recipe and returns the first problem found, naming
// the offending field: "recipe oisst.yaml: target.chunks.time: chunk size
// must be >= 1, got 0". Empty file_type, compressor and mode mean their
// defaults.
func (r Recipe) Validate() error {
	e, err := r.Pattern.expand()
	if err != nil {
		return r.errorf("", "%s", err)
	}
	for _, check := range []func() error{r.validateChunks, r.validateFormat, r.validateLayout} {
		if err := check(); err != nil {
			return err
		}
	}
	if r.Cache != nil && strings.TrimSpace(r.Cache.URL) == "" {
		return r.errorf("cache.url", "missing; give a directory, or remove the cache section to read inputs where they are")
	}
	if _, err := r.Pattern.HTTP.retry(); err != nil {
		return r.errorf("", "%s", err)
	}
	if err := r.Pattern.HTTP.checkAuth(); err != nil {
		return r.errorf("", "%s", err)
	}
	if err := r.Pattern.checkS3(); err != nil {
		return r.errorf("", "%s", err)
	}
	if _, err := r.Preprocess.Edits(r.Pattern.ConcatNames()); err != nil {
		return r.errorf("", "%s", err)
	}
	return r.checkLocations(e)
}

// validateChunks checks target.url, max_mem, chunks and compressor.
func (r Recipe) validateChunks() error {
	t := r.Target
	if strings.TrimSpace(t.URL) == "" {
		return r.errorf("target.url", "missing; say where the Zarr store goes")
	}
	dims := make([]string, 0, len(t.Chunks))
	for d := range t.Chunks {
		dims = append(dims, d)
	}
	slices.Sort(dims)
	if n, err := parseSize(t.MaxMem); err != nil || n < 0 || (n > 0 && n < 1<<20) {
		if err == nil {
			err = fmt.Errorf("%s is less than 1 MiB", t.MaxMem)
		}
		return r.errorf("target.max_mem", "%s", err)
	}
	budget := t.MaxMemBytes()
	for _, d := range dims {
		if d == "" {
			return r.errorf("target.chunks", "empty dimension name")
		}
		if n := t.Chunks[d]; n < 1 {
			return r.errorf("target.chunks."+d, "chunk size must be >= 1, got %d", n)
		}
		if n := t.Chunks[d]; n > budget {
			return r.errorf("target.chunks."+d, "%d steps: a chunk would take at least %d bytes, more than target.max_mem (%d bytes)", n, n, budget)
		}
	}
	if _, _, err := t.codec(); err != nil {
		return r.errorf("target.compressor", "%s", err)
	}
	return nil
}

// validateFormat checks target.format and what each format allows.
func (r Recipe) validateFormat() error {
	t := r.Target
	switch t.Format {
	case "", FormatZarr:
	case FormatReferences:
		switch {
		case !strings.HasSuffix(t.URL, ".json"):
			return r.errorf("target.url", "a reference set is a .json file; %q is not one", t.URL)
		case t.Mode == "append":
			return r.errorf("target.mode", "append: a reference set is written whole; use create or overwrite")
		case len(t.Chunks) > 0 || len(t.Shards) > 0 || t.ZarrFormat != 0 || t.ChunkBytes != "":
			return r.errorf("target.format", "references keep the inputs' chunks and encoding: remove chunks, chunk_bytes, shards and zarr_format")
		case r.Preprocess != nil && len(r.Preprocess.Isel) > 0:
			return r.errorf("preprocess.isel", "references point at the inputs' chunks whole: they cannot select part of them")
		}
	default:
		return r.errorf("target.format", "unknown format %q (want %s or %s)", t.Format, FormatZarr, FormatReferences)
	}
	if len(r.Pattern.Groups) > 0 {
		switch {
		case t.References():
			return r.errorf("pattern.groups", "references of nested groups are not supported: convert them (target.format: zarr), or one group (pattern.group)")
		case t.Mode == "append":
			return r.errorf("target.mode", "append: appending to a store of nested groups is not supported (create or overwrite)")
		}
	}
	return nil
}

// validateLayout checks target.chunk_bytes, zarr_format, shards and mode.
func (r Recipe) validateLayout() error {
	t := r.Target
	if n, err := parseSize(t.ChunkBytes); err != nil || n < 0 || t.ChunkBytes != "" && n == 0 {
		if err == nil {
			err = fmt.Errorf("%q is not a size of at least one byte", t.ChunkBytes)
		}
		return r.errorf("target.chunk_bytes", "%s", err)
	}
	if first := r.Pattern.ConcatNames()[0]; t.Chunks[first] != 0 && t.ChunkBytes != "" {
		return r.errorf("target.chunk_bytes", "give the chunk size along %s once: in target.chunks or as chunk_bytes", first)
	}
	if t.ZarrFormat != 0 && t.ZarrFormat != 2 && t.ZarrFormat != 3 {
		return r.errorf("target.zarr_format", "%d is not 2 or 3", t.ZarrFormat)
	}
	if len(t.Shards) > 0 && t.ZarrFormat != 3 {
		return r.errorf("target.shards", "shards need target.zarr_format: 3 (Zarr v2 has no shards)")
	}
	shardDims := slices.Sorted(maps.Keys(t.Shards))
	for _, d := range shardDims {
		n := t.Shards[d]
		switch c, chunked := t.Chunks[d]; {
		case d == "":
			return r.errorf("target.shards", "empty dimension name")
		case n < 1:
			return r.errorf("target.shards."+d, "shard size must be >= 1, got %d", n)
		case chunked && n%c != 0:
			return r.errorf("target.shards."+d, "%d is not a multiple of the chunk size %d (target.chunks.%s)", n, c, d)
		}
	}
	if t.Mode != "" && !slices.Contains(modes, t.Mode) {
		return r.errorf("target.mode", "unknown mode %q (want %s)", t.Mode, strings.Join(modes, ", "))
	}
	return nil
}

// checkLocations refuses a target that holds what a run must not write
// over, or that overwrite would delete: an input, the cache, the working
// directory or a directory above it (".", "..", "/").
func (r Recipe) checkLocations(e *expanded) error {
	t := r.Target.URL
	target, err := storage.Locate(t)
	if err != nil {
		return r.errorf("target.url", "%s", err)
	}
	if target.Kind == "http" {
		return r.errorf("target.url", "%s: HTTP locations are read-only", storage.Redact(t))
	}
	if wd, err := os.Getwd(); err == nil {
		if here, err := storage.Locate(wd); err == nil && target.Contains(here) {
			return r.errorf("target.url", "%s is the working directory %s or a directory above it; "+
				"name a directory of its own for the store (e.g. %s)", t, wd, "out.zarr")
		}
	}
	if r.Cache != nil {
		cache, err := storage.Locate(r.Cache.URL)
		if err != nil {
			return r.errorf("cache.url", "%s", err)
		}
		if target.Contains(cache) || cache.Contains(target) {
			return r.errorf("cache.url", "%s and target.url %s lie inside each other; keep the cache apart from the store", r.Cache.URL, t)
		}
	}
	var loc storage.Locator
	var bad error
	e.each(0, len(e.keys[0]), func(in plan.Input) {
		if bad != nil {
			return
		}
		l, err := loc.Locate(in.URL)
		switch {
		case err != nil:
			bad = r.errorf("pattern", "input %s: %s", in.Source, err)
		case target.Contains(l):
			bad = r.errorf("target.url", "%s holds the input %s; the store must not contain its inputs", t, in.Source)
		}
	})
	return bad
}

// CompressorAndLevel returns the numcodecs id of a validated target's
// compressor ("zstd", "zlib", "gzip"; "none") and its level, 0 meaning
// the compressor's default (3 for zstd). An empty Compressor is zstd; a
// compressor Validate rejects gives ("", 0).
func (t Target) CompressorAndLevel() (id string, level int) {
	id, level, err := t.codec()
	if err != nil {
		return "", 0
	}
	return id, level
}

// codec parses Compressor: see CompressorAndLevel.
func (t Target) codec() (id string, level int, err error) {
	spec := t.Compressor
	if spec == "" {
		spec = defaultCompressor
	}
	name, levelText, hasLevel := strings.Cut(spec, ":")
	if !slices.Contains(compressors, name) {
		return "", 0, fmt.Errorf("unknown compressor %q (want zstd, zlib, gzip, blosc or none, optionally with a level as in zstd:5)", t.Compressor)
	}
	if name == "none" {
		if hasLevel {
			return "", 0, fmt.Errorf("%q: none takes no level", t.Compressor)
		}
		return "none", 0, nil
	}
	if hasLevel {
		if level, err = strconv.Atoi(levelText); err != nil || level == 0 {
			return "", 0, fmt.Errorf("%q: the level must be a whole number >= 1", t.Compressor)
		}
	}
	if err := targetstore.CheckCompressor(name, level); err != nil {
		return "", 0, fmt.Errorf("%q: %w", t.Compressor, err)
	}
	return name, level, nil
}
