// Package netcdf reads netCDF files in pure Go: the classic formats (CDF-1,
// CDF-2 64-bit offset, CDF-5) and netCDF-4 (HDF5). Open sniffs the magic
// bytes and returns a File that describes the dataset and reads hyperslabs of
// its variables without reading the whole file.
//
// It implements the source package's Reader and registers itself with it,
// so that source.Open reads netCDF files once this package is imported.
// The package knows nothing of Beam or Zarr. Values are returned as raw
// little-endian bytes in C order, which is what a Zarr "<" dtype stores.
package netcdf

import (
	"fmt"
	"io"
	"strings"

	"github.com/zarrforge/zarrforge/source"
)

// The types of a netCDF file's header are the source package's, through
// which the rest of zarrforge reads every input format.
type (
	// Type is a netCDF external data type.
	Type = source.Type
	// Dim is a named dimension.
	Dim = source.Dim
	// Attr is a global or variable attribute.
	Attr = source.Attr
	// Var describes a variable.
	Var = source.Var
	// File is an open netCDF dataset.
	File = source.Reader
	// Options tune OpenWith.
	Options = source.Options
	// Layout is where a variable's values lie in its file.
	Layout = source.Layout
	// Piece is one stored piece of a variable's values.
	Piece = source.Piece
)

// The netCDF external types.
const (
	Byte   = source.Byte
	Char   = source.Char
	Short  = source.Short
	Int    = source.Int
	Float  = source.Float
	Double = source.Double
	UByte  = source.UByte
	UShort = source.UShort
	UInt   = source.UInt
	Int64  = source.Int64
	UInt64 = source.UInt64
	String = source.String
)

// sentinel is an error of this package that is also one of source's, so
// that callers of either package can tell it apart.
type sentinel struct {
	msg  string
	base error
}

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) Unwrap() error { return e.base }

// ErrFormat is wrapped by errors for input that is not a netCDF file this
// package can read, or that is corrupt or truncated.
var ErrFormat error = &sentinel{"not a valid netCDF file", source.ErrFormat}

// ErrUnsupported is wrapped by errors for valid files that use a feature this
// package does not implement.
var ErrUnsupported error = &sentinel{"unsupported netCDF feature", source.ErrUnsupported}

// ErrNestedGroups is wrapped, with ErrUnsupported, by the error for a
// netCDF-4 file read whole (Options.Group "") whose groups below the root
// hold data: read them one at a time (Options.Group, Groups lists them).
var ErrNestedGroups = source.ErrNestedGroups

// ErrTooLarge is wrapped by errors for data larger than the memory the
// reader may use for it (Options.MaxChunk).
var ErrTooLarge error = &sentinel{"larger than the memory budget", source.ErrTooLarge}

// Open reads the header of the netCDF file behind r (of the given size in
// bytes) and returns it. name is used in error messages only (a path or URL).
// The format is chosen by the magic bytes: "CDF\x01", "CDF\x02", "CDF\x05"
// for the classic formats, "\x89HDF\r\n\x1a\n" at offset 0, 512, 1024, ...
// for netCDF-4.
func Open(r io.ReaderAt, size int64, name string) (File, error) {
	return OpenWith(r, size, name, Options{})
}

// OpenWith is Open with options.
func OpenWith(r io.ReaderAt, size int64, name string, opts Options) (File, error) {
	classic, err := isClassic(r, name)
	if err != nil {
		return nil, err
	}
	if classic {
		if g := strings.Trim(opts.Group, "/"); g != "" {
			return nil, fmt.Errorf("netcdf: %s: no group %q: a netCDF-3 file has only the root group (%w)", name, g, ErrFormat)
		}
		return openClassic(r, size, name)
	}
	return openHDF5(r, size, name, opts)
}

// isClassic reports whether the file behind r starts with the magic bytes
// of netCDF-3 ("CDF"); if not, it may be netCDF-4 (HDF5).
func isClassic(r io.ReaderAt, name string) (bool, error) {
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil {
		return false, fmt.Errorf("netcdf: %s: reading magic bytes: %w (%w)", name, err, ErrFormat)
	}
	return magic[0] == 'C' && magic[1] == 'D' && magic[2] == 'F', nil
}
