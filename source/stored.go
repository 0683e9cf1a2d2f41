package source

import "io"

// StoredChunks is implemented by readers of inputs that store each chunk
// of a variable as one object a Zarr store can hold as it is (Zarr
// stores): where a target array's values, chunk shape and compressor are
// the input's, its chunks are copied without being decoded (a migration
// from Zarr v2 to v3, stores concatenated in the target's chunking).
type StoredChunks interface {
	// StoredEncoding is how variable name's chunks are stored; ok is
	// false when a store could not hold them as they are (shards,
	// filters, big-endian values, strings).
	StoredEncoding(name string) (enc Encoding, ok bool)
	// OpenStoredChunk streams chunk idx of variable name as stored: an
	// error wrapping fs.ErrNotExist when it was never written.
	OpenStoredChunk(name string, idx []int64) (io.ReadCloser, error)
}

// Encoding is how an input stores a variable's chunks: the numpy dtype of
// its values ("<f4"), the chunk shape, and the compressor as
// zarr.Compressor.Spec names it ("zstd:3", "blosc:lz4:5:1", "none").
type Encoding struct {
	DType      string
	Chunks     []int64
	Compressor string
}
