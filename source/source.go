// Package source is the seam between the readers of input formats and the
// rest of zarrforge: what a reader of one input is (its dimensions,
// variables and attributes, hyperslab and string reads, where its values
// lie for references) in terms that name no format. A format package
// (netcdf today) implements Reader and registers itself with Register, as
// image formats register with the standard library; Open sniffs an input
// and opens it with the format it is.
//
// Values cross the seam as raw little-endian bytes in C order, which is
// what a Zarr "<" dtype stores.
package source

import (
	"errors"
	"fmt"
)

// Type is the data type of a variable or attribute. The numbers are
// netCDF's external types, which the other formats map onto.
type Type int

// The data types.
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
	String Type = 12 // variable-length string
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
	Len       int64 // current length; for an unlimited dimension, the number of records
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
	// Chunks is the shape of the variable's stored chunks, each decoded
	// whole whenever any of it is read; nil when the values are stored
	// contiguously, so that any part of them reads without reading more.
	Chunks []int64
	// NoValues is set for a variable that has none to read (a netCDF-4
	// dataset with an empty dataspace: a scalar whose reads fail).
	NoValues bool
}

// Attr returns the attribute called name.
func (v Var) Attr(name string) (Attr, bool) {
	for _, a := range v.Attrs {
		if a.Name == name {
			return a, true
		}
	}
	return Attr{}, false
}

// Reader is one open input. Implementations are safe for concurrent use by
// several goroutines.
type Reader interface {
	// Format names the input's format as its users know it ("CDF-1",
	// "netCDF-4").
	Format() string
	// FileType is the file type a recipe names the format by (one of the
	// FileTypes its Format registered).
	FileType() string
	// Dims returns the dimensions in definition order.
	Dims() []Dim
	// Vars returns the variables in definition order.
	Vars() []Var
	// Attrs returns the global attributes in definition order.
	Attrs() []Attr
	// Read reads the hyperslab start[i] : start[i]+count[i] of variable name
	// into dst, as little-endian values in C order. len(dst) must be
	// product(count) * Type.Size(). For Char variables each value is one
	// byte. String variables are read with ReadStrings.
	Read(name string, start, count []int64, dst []byte) error
	// ReadStrings reads the hyperslab start[i] : start[i]+count[i] of a
	// String variable, in C order. Values never written read as "".
	ReadStrings(name string, start, count []int64) ([]string, error)
	// Layout returns where variable name's values lie in the input, as
	// stored: an error wrapping ErrUnsupported where no reference can say.
	Layout(name string) (Layout, error)
	// Decoded is how many bytes of values the reads have produced so far:
	// whole stored chunks, however little of a chunk a read wanted.
	Decoded() int64
}

// Options tune Open. The zero value reads the whole input with the
// reader's default memory limit.
type Options struct {
	// MaxChunk bounds the decoded size of one stored chunk, whatever the
	// input declares (a small file can declare a huge chunk of compressed
	// zeros); 0 means the reader's default (1 GiB).
	MaxChunk int64
	// Group, when not "", is the path of the group to read as if it were
	// the input ("sweep_0", "forecast/surface", "/" for the root alone), as
	// xarray.open_dataset(path, group=...) reads it. "" reads the root as
	// the whole input: groups below it holding data are refused
	// (ErrNestedGroups) rather than left out.
	Group string
	// Filter, for inputs holding several datasets in one file (GRIB), is
	// the one to read: the messages for which every key has its value, as
	// cfgrib's filter_by_keys selects them (keys and values as ecCodes
	// names them: {"typeOfLevel": "isobaricInhPa"}). Formats that hold one
	// dataset refuse a filter. nil: the whole input.
	Filter map[string]string
	// Fetch reads length bytes at offset of the object at url (length < 0:
	// all of it), for inputs whose bytes lie in other objects (kerchunk
	// reference sets); nil where nothing may be fetched. Whoever opens
	// inputs from storage sets it.
	Fetch func(url string, offset, length int64) ([]byte, error)
}

// The errors readers wrap, so that callers can tell them apart.
var (
	// ErrFormat: the input is not of a format a reader knows, or it is
	// corrupt or truncated.
	ErrFormat = errors.New("not a valid input")
	// ErrUnsupported: a valid input uses a feature its reader does not
	// implement.
	ErrUnsupported = errors.New("unsupported feature")
	// ErrNestedGroups, with ErrUnsupported: an input read whole whose
	// groups below the root hold data; read them one at a time
	// (Options.Group).
	ErrNestedGroups = errors.New("nested groups with data")
	// ErrTooLarge: data larger than the memory the reader may use for it
	// (Options.MaxChunk).
	ErrTooLarge = errors.New("larger than the memory budget")
)

// CheckBox checks a box of a variable of shape shape, start[i] :
// start[i]+count[i] along each dimension, as Read and ReadStrings take
// it, and returns how many values it holds. Readers call it before they
// read.
func CheckBox(shape, start, count []int64) (int64, error) {
	if len(start) != len(shape) || len(count) != len(shape) {
		return 0, fmt.Errorf("start %v and count %v do not match the variable's rank %d", start, count, len(shape))
	}
	n := int64(1)
	for i := range shape {
		if start[i] < 0 || count[i] < 0 || start[i] > shape[i]-count[i] {
			return 0, fmt.Errorf("hyperslab start %v count %v is outside the shape %v", start, count, shape)
		}
		n *= count[i]
	}
	return n, nil
}
