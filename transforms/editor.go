package transforms

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/zarrforge/zarrforge/internal/plan"
)

// ChunkEditor is a user's step on the values: given to StoreChunks, it
// receives every value the run writes once, in blocks (whole read groups'
// regions, at most target.max_mem/2), before they are cut into chunks and
// encoded — Kelvin to Celsius, a fill value fixed, a mask applied. Values
// are as stored (packed integers stay packed) and little-endian; see
// Block. Strings and fixed-width text are not given to editors.
//
// An editor is a struct whose exported fields are its configuration,
// registered with beam.RegisterType (in an init function) so that workers
// can rebuild it, as Beam rebuilds DoFns. When a store is appended to, the
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
