// Package netcdf reads netCDF files in pure Go: the classic formats (CDF-1,
// CDF-2 64-bit offset, CDF-5) and netCDF-4 (HDF5). Open sniffs the magic
// bytes and returns a File that describes the dataset and reads hyperslabs of
// its variables without reading the whole file.
//
// The package knows nothing of Beam or Zarr. Values are returned as raw
// little-endian bytes in C order, which is what a Zarr "<" dtype stores.
package netcdf

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/zarrforge/zarrforge/hdf5"
)

// Type is a netCDF external data type.
type Type int

// The netCDF external types; the numbers are those of the file formats.
const (
	Byte   Type = 1  // int8
	Char   Type = 2  // 8-bit character
	Short  Type = 3  // int16
	Int    Type = 4  // int32
	Float  Type = 5  // float32
	Double Type = 6  // float64
	UByte  Type = 7  // uint8
	UShort Type = 8  // uint16
	UInt   Type = 9  // uint32
	Int64  Type = 10 // int64
	UInt64 Type = 11 // uint64
	String Type = 12 // variable-length string (netCDF-4 only)
)

var typeNames = map[Type]string{
	Byte: "byte", Char: "char", Short: "short", Int: "int", Float: "float",
	Double: "double", UByte: "ubyte", UShort: "ushort", UInt: "uint",
	Int64: "int64", UInt64: "uint64", String: "string",
}

// String returns the CDL name of t ("short", "double", ...).
func (t Type) String() string {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("type(%d)", int(t))
}

// Size returns the size in bytes of one value of t, or 0 for String and
// unknown types.
func (t Type) Size() int {
	switch t {
	case Byte, Char, UByte:
		return 1
	case Short, UShort:
		return 2
	case Int, UInt, Float:
		return 4
	case Double, Int64, UInt64:
		return 8
	}
	return 0
}

// Dim is a named dimension.
type Dim struct {
	Name      string
	Len       int64 // current length; for the unlimited dimension, the number of records
	Unlimited bool
}

// Attr is a global or variable attribute.
//
// Value holds, by Type: Char → string; String → []string; Byte → []int8;
// UByte → []uint8; Short → []int16; UShort → []uint16; Int → []int32;
// UInt → []uint32; Int64 → []int64; UInt64 → []uint64; Float → []float32;
// Double → []float64. Numeric attributes are always slices, even of length 1.
type Attr struct {
	Name  string
	Type  Type
	Value any
}

// Var describes a variable. Shape has one entry per dimension in Dims, in
// the same order; a scalar variable has no dims.
type Var struct {
	Name  string
	Type  Type
	Dims  []string
	Shape []int64
	Attrs []Attr
	// Chunks is the shape of the variable's stored chunks (netCDF-4), each
	// decoded whole whenever any of it is read; nil when the values are
	// stored contiguously (the classic formats, contiguous netCDF-4), so
	// that any part of them reads without reading more.
	Chunks []int64
	// NoValues is set for a variable that has none to read: a netCDF-4
	// dataset with an empty (null) dataspace, a scalar whose reads fail.
	NoValues bool
}

// Attr returns the attribute called name.
func (v Var) Attr(name string) (Attr, bool) {
	return findAttr(v.Attrs, name)
}

func findAttr(attrs []Attr, name string) (Attr, bool) {
	for _, a := range attrs {
		if a.Name == name {
			return a, true
		}
	}
	return Attr{}, false
}

// File is an open netCDF dataset. Implementations are safe for concurrent
// use by several goroutines (reads go through io.ReaderAt).
type File interface {
	// Format names the on-disk format: "CDF-1", "CDF-2", "CDF-5" or "netCDF-4".
	Format() string
	// Dims returns the dimensions in definition order.
	Dims() []Dim
	// Vars returns the variables in definition order.
	Vars() []Var
	// Attrs returns the global attributes in definition order.
	Attrs() []Attr
	// Read reads the hyperslab start[i] : start[i]+count[i] of variable name
	// into dst, as little-endian values in C order. len(dst) must be
	// product(count) * Type.Size(). For Char variables each value is one byte.
	// String variables are read with ReadStrings.
	Read(name string, start, count []int64, dst []byte) error
	// ReadStrings reads the hyperslab start[i] : start[i]+count[i] of a
	// String variable, in C order. Values never written read as "", as in
	// netCDF-C.
	ReadStrings(name string, start, count []int64) ([]string, error)
	// Layout returns where variable name's values lie in the file, as
	// stored (see Layout).
	Layout(name string) (Layout, error)
	// Decoded is how many bytes of values the file's reads have produced
	// so far: whole chunks of chunked variables, however little of a chunk
	// a read wanted; the bytes read otherwise.
	Decoded() int64
}

// ErrFormat is wrapped by errors for input that is not a netCDF file this
// package can read, or that is corrupt or truncated.
var ErrFormat = errors.New("not a valid netCDF file")

// ErrUnsupported is wrapped by errors for valid files that use a feature this
// package does not implement.
var ErrUnsupported = errors.New("unsupported netCDF feature")

// ErrNestedGroups is wrapped, with ErrUnsupported, by the error for a
// netCDF-4 file read whole (Options.Group "") whose groups below the root
// hold data: read them one at a time (Options.Group, Groups lists them).
var ErrNestedGroups = errors.New("nested groups with data")

// ErrTooLarge is wrapped by errors for data larger than the memory the
// reader may use for it (Options.MaxChunk).
var ErrTooLarge = hdf5.ErrTooLarge

// Options tune OpenWith. The zero value gives Open's defaults.
type Options struct {
	// MaxChunk bounds the decoded size of one netCDF-4 chunk, whatever the
	// file declares (a small file can declare a huge chunk of compressed
	// zeros); 0 means hdf5.DefaultMaxChunk (1 GiB). Classic files have no
	// chunks: their reads go straight into the caller's buffer.
	MaxChunk int64
	// Group, when not "", is the path of the netCDF-4 group to read as if
	// it were the file ("sweep_0", "forecast/surface", "/" for the root),
	// as xarray.open_dataset(path, group=...) reads it: its variables and
	// attributes, the dimensions they use (those defined in the group's
	// ancestors too, without their coordinate variables), and none of its
	// sub-groups. "" reads the root as the whole file: sub-groups holding
	// data are refused rather than left out. Classic files have only the
	// root group.
	Group string
}

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
