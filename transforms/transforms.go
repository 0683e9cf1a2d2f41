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
	// Registers the input formats the stages read.
	_ "github.com/zarrforge/zarrforge/internal/formats"
)

// CounterNamespace is the namespace of every Beam counter the stages
// report; the Counter constants are their names.
const CounterNamespace = "zarrforge"

// Counters the stages report (namespace CounterNamespace).
const (
	CounterInputsCached     = "inputs_cached"        // CacheInputs: inputs copied to the cache
	CounterInputBytesCached = "input_bytes_cached"   // CacheInputs: bytes copied
	CounterInputsCacheHits  = "inputs_cache_hits"    // CacheInputs: inputs found in the cache
	CounterInputRetries     = "input_retries"        // every stage: retried reads of the inputs
	CounterInputsDescribed  = "inputs_described"     // DetermineSchema: input headers read
	CounterChunksWritten    = "chunks_written"       // StoreChunks: chunk objects written
	CounterChunksCopied     = "chunks_copied"        // StoreChunks: of those, written as their inputs store them, never decoded
	CounterChunkBytes       = "chunk_bytes_written"  // StoreChunks: their encoded bytes
	CounterSourceNeeded     = "source_bytes_needed"  // StoreChunks: input bytes the chunks need
	CounterSourceDecoded    = "source_bytes_decoded" // StoreChunks: input bytes decoded (whole stored chunks)
	CounterInputBytes       = "input_bytes_fetched"  // StoreChunks: bytes read from the inputs' storage
	CounterCacheMsec        = "cache_msec"           // CacheInputs: milliseconds spent in elements
	CounterDescribeMsec     = "describe_msec"        // DetermineSchema: likewise
	CounterStoreMsec        = "store_msec"           // StoreChunks: likewise
	CounterChunksReferenced = "chunks_referenced"    // WriteReferences: chunks referenced or inlined
	CounterRefBytesFetched  = "ref_bytes_fetched"    // WriteReferences: bytes read from the inputs (headers, indexes, inlined values)
	CounterReferencesMsec   = "references_msec"      // WriteReferences: milliseconds spent reading the inputs
)

// Distributions the stages report (namespace CounterNamespace): of when
// their elements start and end (Unix milliseconds), so that a stage's wall
// time is the distribution's max less its min, however many workers ran it.
const (
	SpanCacheInputs     = "cache_span_ms"
	SpanDetermineSchema = "describe_span_ms"
	SpanStoreChunks     = "store_span_ms"
	SpanWriteReferences = "references_span_ms"
)

// The stages' names, which start every line they log.
const (
	StageCacheInputs     = "CacheInputs"
	StageDetermineSchema = "DetermineSchema"
	StagePrepareTarget   = "PrepareTarget"
	StageStoreChunks     = "StoreChunks"
	StageFinalizeTarget  = "FinalizeTarget"
	StageWriteReferences = "WriteReferences"
)
