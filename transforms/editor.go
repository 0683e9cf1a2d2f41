package transforms

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime"
	"github.com/zarrforge/zarrforge/internal/plan"
)

// ChunkEditor is a user's step on the values: given to StoreChunks, it
// receives every value the run writes once, in blocks (whole read groups'
// regions, at most TargetConfig.MaxMem/2), before they are cut into chunks
// and encoded — Kelvin to Celsius, a fill value fixed, a mask applied.
// Values are as stored (packed integers stay packed) and little-endian;
// see Block. Strings and fixed-width text are not given to editors.
//
// Missing values stay missing unless the editor says otherwise:
// Block.Values gives every value equal to the variable's _FillValue or
// missing_value as NaN, as xarray masks them, and Block.SetValues stores a
// NaN as the fill value again, so arithmetic on the values leaves the
// missing ones missing. An editor that fills gaps sets them to numbers;
// one that works on Block.Data directly sees the fill values as stored.
//
// An editor is a struct whose exported fields are its configuration,
// registered with beam.RegisterType (in an init function) so that workers
// can rebuild it, as Beam rebuilds DoFns: StoreChunks refuses one that is
// not, as the pipeline is built, on every runner. When a store is appended to, the
// steps it already holds are not edited again; a retried bundle starts
// again from the inputs, so an edit that depends only on its block is
// idempotent.
type ChunkEditor interface {
	EditChunk(b *plan.Block) error
}

// encodedEditor is a ChunkEditor as a DoFn carries it: its registered type
// and its exported fields as JSON.
type encodedEditor struct {
	Type beam.EncodedType
	JSON string
}

// encodeEditor prepares e to travel inside a DoFn.
func encodeEditor(e ChunkEditor) (encodedEditor, error) {
	t := reflect.TypeOf(e)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return encodedEditor{}, fmt.Errorf("StoreChunks: editor %T: an editor must be a struct (or a pointer to one) whose exported fields configure it", e)
	}
	if key, ok := runtime.TypeKey(t); !ok || !registered(key) {
		return encodedEditor{}, fmt.Errorf("StoreChunks: editor %s is not registered with Beam, so workers cannot rebuild it: "+
			"call beam.RegisterType(reflect.TypeOf(%s{})) in an init function of its package", t, t.Name())
	}
	b, err := json.Marshal(e)
	if err != nil {
		return encodedEditor{}, fmt.Errorf("StoreChunks: editor %T: %w", e, err)
	}
	return encodedEditor{Type: beam.EncodedType{T: t}, JSON: string(b)}, nil
}

// decode rebuilds the editor.
func (e encodedEditor) decode() (ChunkEditor, error) {
	v := reflect.New(e.Type.T)
	if err := json.Unmarshal([]byte(e.JSON), v.Interface()); err != nil {
		return nil, fmt.Errorf("StoreChunks: editor %s: %w", e.Type.T, err)
	}
	if ed, ok := v.Interface().(ChunkEditor); ok {
		return ed, nil
	}
	if ed, ok := v.Elem().Interface().(ChunkEditor); ok {
		return ed, nil
	}
	return nil, fmt.Errorf("StoreChunks: %s is not a ChunkEditor", e.Type.T)
}

// registered reports whether a type is in Beam's registry of types
// (beam.RegisterType).
func registered(key string) bool {
	_, ok := runtime.LookupType(key)
	return ok
}
