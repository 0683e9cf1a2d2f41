package source

// Layout is where a variable's values lie in its input, as stored: what a
// reader that fetches the bytes itself needs (references to the input, as
// kerchunk makes them).
type Layout struct {
	// BigEndian is the stored byte order of values of more than one byte.
	BigEndian bool
	// Chunks is the shape of the stored pieces: one piece per cell of this
	// grid over the variable's shape. For a contiguous variable it is the
	// shape; for a classic netCDF record variable one record.
	Chunks []int64
	// Codecs is the pipeline every piece went through when written, in
	// that order, as numcodecs codecs.
	Codecs []Codec
	// Pieces are the cells of the grid that have bytes in the input; the
	// others hold the fill value.
	Pieces []Piece
	// Inline holds the values of a variable stored in the input's
	// metadata, as stored; nil otherwise.
	Inline []byte
	// Fill is one value, little-endian, that the cells of the grid without
	// a piece read as; nil where every cell has its piece.
	Fill []byte
	// FillChunk, set with Fill, returns one piece of the fill value as the
	// input would store it had it been written (through Codecs): what a
	// piece never written reads as, for references that must point at
	// every piece. It allocates a whole piece: check its size first.
	FillChunk func() ([]byte, error)
}

// Piece is one stored piece of a variable's values: Size bytes at Offset,
// the cell Index of the layout's grid.
type Piece struct {
	Index        []int64
	Offset, Size int64
}

// Codec is one step of a stored piece's pipeline, as numcodecs names it:
// "zlib" and "zstd" (Level), "shuffle" (ElementSize), "fletcher32".
type Codec struct {
	ID          string
	Level       int
	ElementSize int
}
