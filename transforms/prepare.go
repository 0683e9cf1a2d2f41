package transforms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/zarrforge/zarrforge/plan"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/zarr"
)

func init() {
	register.DoFn2x2[context.Context, plan.Schema, plan.Target, error](&prepareFn{})
}

// Target modes.
const (
	ModeCreate    = "create"    // fail if a store exists at the target
	ModeOverwrite = "overwrite" // replace whatever is at the target
)

// TargetConfig configures PrepareTarget.
type TargetConfig struct {
	// URL is where the Zarr store goes: a path, file:// URL, or gs://bucket/prefix.
	URL string
	// Chunks is the target chunk size per dimension; dimensions not named
	// are one chunk.
	Chunks map[string]int64
	// Compressor is the numcodecs id — "zstd", "zlib", "gzip" — or "" / "none".
	Compressor string
	// Level is the compression level; 0 means the compressor's default.
	Level int
	// Mode is ModeCreate (the default) or ModeOverwrite.
	Mode string
	// RunID tells this run's own partial writes from another run's. Left
	// empty, PrepareTarget picks a random one when the pipeline is built.
	RunID string
}

// PrepareTarget lays the schema (a singleton PCollection of plan.Schema)
// out in chunks and writes the store's array metadata and the concat
// coordinate. It returns the singleton plan.Target that StoreChunks and
// FinalizeTarget take as a side input. The store's root group and
// consolidated metadata are written only by FinalizeTarget, so a store whose
// run has not finished cannot be opened as complete.
func PrepareTarget(s beam.Scope, cfg TargetConfig, schema beam.PCollection) beam.PCollection {
	s = s.Scope("PrepareTarget")
	if cfg.RunID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.RunID = hex.EncodeToString(b[:])
	}
	return beam.ParDo(s, &prepareFn{Config: cfg}, schema)
}

// markerKey is the object recording which run owns a store and whether it
// finished. zarr-python and xarray ignore it.
const markerKey = ".zarrforge.json"

type marker struct {
	Run    string `json:"run"`
	State  string `json:"state"` // "writing" or "complete"
	Chunks int64  `json:"chunks,omitempty"`
}

func readMarker(ctx context.Context, st *storage.Store) (marker, bool, error) {
	b, err := st.Get(ctx, markerKey)
	if errors.Is(err, fs.ErrNotExist) {
		return marker{}, false, nil
	}
	if err != nil {
		return marker{}, false, err
	}
	var m marker
	if err := json.Unmarshal(b, &m); err != nil {
		return marker{}, false, fmt.Errorf("%s: %w", markerKey, err)
	}
	return m, true, nil
}

func writeMarker(ctx context.Context, st *storage.Store, m marker) error {
	b, _ := json.Marshal(m)
	return st.Put(ctx, markerKey, b)
}

type prepareFn struct {
	Config TargetConfig
}

func (f *prepareFn) ProcessElement(ctx context.Context, schema plan.Schema) (plan.Target, error) {
	if f.Config.Mode != "" && f.Config.Mode != ModeCreate && f.Config.Mode != ModeOverwrite {
		return plan.Target{}, fmt.Errorf("PrepareTarget: target %s: mode %q is not supported (use %s or %s)",
			f.Config.URL, f.Config.Mode, ModeCreate, ModeOverwrite)
	}
	if err := schema.Layout(f.Config.Chunks); err != nil {
		return plan.Target{}, fmt.Errorf("PrepareTarget: %w", err)
	}
	t := plan.Target{URL: f.Config.URL, Compressor: f.Config.Compressor, Level: f.Config.Level, Run: f.Config.RunID, Schema: schema}
	if t.Compressor == "none" {
		t.Compressor = ""
	}
	st, err := storage.NewStore(ctx, f.Config.URL)
	if err != nil {
		return plan.Target{}, fmt.Errorf("PrepareTarget: %w", err)
	}
	if err := f.claim(ctx, st); err != nil {
		return plan.Target{}, fmt.Errorf("PrepareTarget: target %s: %w", f.Config.URL, err)
	}
	for i := range schema.Vars {
		v := &schema.Vars[i]
		meta, err := t.ArrayMeta(v)
		if err != nil {
			return plan.Target{}, fmt.Errorf("PrepareTarget: %w", err)
		}
		if err := zarr.WriteArrayMeta(ctx, st, v.Name, meta, plan.ArrayAttrs(v)); err != nil {
			return plan.Target{}, fmt.Errorf("PrepareTarget: target %s: %w", f.Config.URL, err)
		}
	}
	if cv, ok := schema.CoordVar(); ok {
		meta, err := t.ArrayMeta(cv)
		if err != nil {
			return plan.Target{}, fmt.Errorf("PrepareTarget: %w", err)
		}
		enc, err := zarr.EncodeChunk(meta, schema.Coord)
		if err != nil {
			return plan.Target{}, fmt.Errorf("PrepareTarget: coordinate %q: %w", cv.Name, err)
		}
		if err := st.Put(ctx, zarr.ChunkKey(cv.Name, []int64{0}), enc); err != nil {
			return plan.Target{}, fmt.Errorf("PrepareTarget: target %s: %w", f.Config.URL, err)
		}
	}
	log.Infof(ctx, "PrepareTarget: %s: %d arrays, %d chunks to write", f.Config.URL, len(schema.Vars), schema.NumChunks())
	return t, nil
}

// claim makes the target this run's: in create mode it refuses a target
// that holds anything but this run's own partial writes (a retried bundle);
// in overwrite mode it deletes whatever another run left there.
func (f *prepareFn) claim(ctx context.Context, st *storage.Store) error {
	keys, err := st.List(ctx, "")
	if err != nil {
		return err
	}
	if len(keys) > 0 {
		m, ok, err := readMarker(ctx, st)
		if err != nil {
			return err
		}
		mine := ok && m.Run == f.Config.RunID
		switch {
		case mine:
		case f.Config.Mode == ModeOverwrite:
			if err := st.DeleteAll(ctx); err != nil {
				return err
			}
		default:
			return fmt.Errorf("a store already exists there (%d objects); set target.mode to overwrite to replace it", len(keys))
		}
	}
	return writeMarker(ctx, st, marker{Run: f.Config.RunID, State: "writing"})
}
