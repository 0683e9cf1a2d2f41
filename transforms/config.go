package transforms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zarrforge/zarrforge/internal/lease"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/targetstore"
	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/storage"
)

// The stages check their configuration when they are built, as Beam's own
// IO transforms do, and panic on a mistake (as beam.ParDo does for a
// malformed DoFn): call Validate first to get it as an error.

// Validate checks the configuration of PrepareTarget: the URL (a path,
// file:// or gs://), the mode, the Zarr format, the compressor and its
// level, the chunk and shard sizes and the memory budget.
func (c TargetConfig) Validate() error {
	if err := storage.CheckWritable(c.URL); err != nil {
		return fmt.Errorf("target URL: %w", err)
	}
	if !slices.Contains([]Mode{"", ModeCreate, ModeOverwrite, ModeAppend}, c.Mode) {
		return fmt.Errorf("target %s: mode %q is not supported (use %s, %s or %s)", c.URL, c.Mode, ModeCreate, ModeOverwrite, ModeAppend)
	}
	if err := targetstore.CheckCompressor(c.compressor(), c.Level); err != nil {
		return fmt.Errorf("target %s: %w", c.URL, err)
	}
	if c.Format != 0 && c.Format != 2 && c.Format != 3 {
		return fmt.Errorf("target %s: zarr_format %d is not 2 or 3", c.URL, c.Format)
	}
	for d, n := range c.Chunks {
		if d == "" || n < 1 {
			return fmt.Errorf("target %s: chunks %q: a dimension name and a size >= 1, got %d", c.URL, d, n)
		}
	}
	if len(c.Shards) > 0 && c.Format != 3 {
		return fmt.Errorf("target %s: shards need zarr_format 3 (Zarr v2 has no shards)", c.URL)
	}
	for d, n := range c.Shards {
		if d == "" || n < 1 {
			return fmt.Errorf("target %s: shards %q: a dimension name and a size >= 1, got %d", c.URL, d, n)
		}
	}
	if c.ChunkBytes < 0 {
		return fmt.Errorf("target %s: chunk bytes %d is negative", c.URL, c.ChunkBytes)
	}
	if c.MaxMem < 0 {
		return fmt.Errorf("target %s: memory budget %d is negative", c.URL, c.MaxMem)
	}
	return nil
}

// format is the Zarr format of a store the run creates: 2 unless 3 is
// asked for.
func (c TargetConfig) format() int {
	if c.Format == 3 {
		return 3
	}
	return 2
}

// compressor is the numcodecs id of the chunks' compressor: zstd when none
// is given (the recipe's default), "" for "none".
func (c TargetConfig) compressor() string {
	switch c.Compressor {
	case "":
		return "zstd"
	case "none":
		return ""
	}
	return c.Compressor
}

// Check is Validate, and then looks at the target: in create mode a store
// that is already there (and neither this run's nor one a dead run left
// unfinished) is refused, before any input is read. A target this machine cannot list (no credentials where a job is
// only submitted) is left to PrepareTarget, which checks it again.
func (c TargetConfig) Check(ctx context.Context) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Mode != "" && c.Mode != ModeCreate {
		return nil
	}
	st, err := storage.NewStore(ctx, c.URL)
	if err != nil {
		return nil // no client here (no credentials): PrepareTarget will look
	}
	keys, err := st.List(ctx, "")
	if err != nil || len(keys) == 0 {
		return nil
	}
	m, err := lease.Read(ctx, st)
	if err != nil {
		return fmt.Errorf("target %s: %w", c.URL, err)
	}
	if err := targetstore.Claimable(m, keys, targetstore.Claim{Run: c.RunID, Self: lease.This()}, time.Now()); err != nil {
		return fmt.Errorf("target %s: %w", c.URL, err)
	}
	return nil
}

// Validate checks the configuration of DetermineSchema: the concat
// dimensions, the file type, the counts and the preprocess edits.
func (c SchemaConfig) Validate() error {
	if len(c.Concat) == 0 {
		return errors.New("schema: no dimension to concatenate along")
	}
	names := plan.ConcatNames(c.Concat)
	for i, d := range c.Concat {
		switch {
		case d.Name == "":
			return fmt.Errorf("schema: concat dimension %d has no name", i)
		case slices.Contains(names[:i], d.Name):
			return fmt.Errorf("schema: concat dimension %q is declared twice", d.Name)
		case d.NItemsPerFile < 0:
			return fmt.Errorf("schema: concat dimension %q: nitems per file %d is negative", d.Name, d.NItemsPerFile)
		case d.Values != nil && d.Keys != nil && len(d.Values) != len(d.Keys):
			return fmt.Errorf("schema: concat dimension %q: %d values for %d keys", d.Name, len(d.Values), len(d.Keys))
		}
	}
	switch {
	case c.FileType != "" && c.FileType != "auto" && !slices.Contains(source.FileTypes(), c.FileType):
		return fmt.Errorf("schema: file type %q is not supported (use auto, %s)", c.FileType, strings.Join(source.FileTypes(), ", "))
	case c.MaxMem < 0:
		return fmt.Errorf("schema: memory budget %d is negative", c.MaxMem)
	}
	return c.Preprocess.Validate(names)
}

// Validate checks the configuration of CacheInputs: its URL, when given,
// must be a place to write (a path, file:// or gs://).
func (c CacheConfig) Validate() error {
	if c.URL == "" {
		return nil
	}
	if err := storage.CheckWritable(c.URL); err != nil {
		return fmt.Errorf("cache URL: %w", err)
	}
	return nil
}

// mustValid panics with err, for a stage built with a configuration its
// Validate refuses.
func mustValid(stage string, err error) {
	if err != nil {
		panic(fmt.Errorf("%s: %w", stage, err))
	}
}
