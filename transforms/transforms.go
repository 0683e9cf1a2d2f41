// Package transforms holds zarrforge's pipeline stages as composite Beam
// transforms: CacheInputs, DetermineSchema, PrepareTarget, StoreChunks and
// FinalizeTarget. Each is built from registered structural DoFns whose
// configuration sits in exported fields, so every stage serialises to any
// runner. Stages are ordered through singleton side inputs: the prepared
// target is a side input of the chunk writers, and the combined write
// results are a side input of the finalizer.
//
// The recipes package wires them together; use these directly to compose a
// custom pipeline (for example, to add a preprocessing step).
package transforms

import (
	// Registers the Beam coders of the element types.
	_ "github.com/zarrforge/zarrforge/coders"
)

// counterNamespace is the namespace of every Beam counter the stages report.
const counterNamespace = "zarrforge"
