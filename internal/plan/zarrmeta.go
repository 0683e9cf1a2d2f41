package plan

import (
	"fmt"
	"math"

	"github.com/zarrforge/zarrforge/source"
)

// stringsDType is the numpy dtype of variable-length strings (an object
// array), as Zarr stores them.
const stringsDType = "|O"

// dtypes maps the inputs' types to the numpy dtypes that store them.
var dtypes = map[source.Type]string{
	source.Byte: "|i1", source.UByte: "|u1", source.Char: "|S1",
	source.Short: "<i2", source.UShort: "<u2",
	source.Int: "<i4", source.UInt: "<u4",
	source.Int64: "<i8", source.UInt64: "<u8",
	source.Float: "<f4", source.Double: "<f8",
	source.String: stringsDType,
}

// DType returns the numpy dtype that stores v ("<f4", "|S8", "|O").
func (v *Variable) DType() (string, error) {
	dt, ok := dtypes[v.Type]
	if !ok {
		return "", fmt.Errorf("variable %q: type %s has no Zarr dtype", v.Name, v.Type)
	}
	if v.Width > 0 {
		dt = fmt.Sprintf("|S%d", v.Width)
	}
	return dt, nil
}

// fillAttr returns v's _FillValue attribute.
func (v *Variable) fillAttr() (source.Attr, bool) { return v.Attr("_FillValue") }

// FillValue returns the Zarr fill_value: the _FillValue attribute, which
// xarray reads back as _FillValue, or nil (JSON null) when there is none, so
// that no value is masked that netCDF would not mask. A float _FillValue on
// an integer variable that no integer of its type equals (NaN on a packed
// short, as some tools write) masks nothing in netCDF either: nil.
func (v *Variable) FillValue() (any, error) {
	a, ok := v.fillAttr()
	if !ok || v.Type == source.String { // xarray writes strings with a null fill_value
		return nil, nil
	}
	if f, ok := floatFill(a); ok && v.Type != source.Float && v.Type != source.Double && !fitsInteger(v.Type, f) {
		return nil, nil
	}
	switch x := a.Value.(type) {
	case []int8:
		return int64(x[0]), nil
	case []uint8:
		return uint64(x[0]), nil
	case []int16:
		return int64(x[0]), nil
	case []uint16:
		return uint64(x[0]), nil
	case []int32:
		return int64(x[0]), nil
	case []uint32:
		return uint64(x[0]), nil
	case []int64:
		return x[0], nil
	case []uint64:
		return x[0], nil
	case []float32:
		return float64(x[0]), nil
	case []float64:
		return x[0], nil
	case string:
		switch {
		case len(x) == 0:
			return nil, nil
		case v.Width > 0 && int64(len(x)) <= v.Width:
			return x, nil // a fill for whole strings, as xarray writes it
		case len(x) == 1:
			return x, nil
		}
		return nil, fmt.Errorf("variable %q: _FillValue %q is longer than its values (%d characters)", v.Name, x, max(1, v.Width))
	}
	return nil, fmt.Errorf("variable %q: _FillValue of type %s cannot be a Zarr fill value", v.Name, a.Type)
}

// floatFill returns a float attribute's first value.
func floatFill(a source.Attr) (float64, bool) {
	switch x := a.Value.(type) {
	case []float32:
		if len(x) > 0 {
			return float64(x[0]), true
		}
	case []float64:
		if len(x) > 0 {
			return x[0], true
		}
	}
	return 0, false
}

// fitsInteger reports whether f is a value of the integer type t.
func fitsInteger(t source.Type, f float64) bool {
	bits := 8 * float64(t.Size())
	lo, hi := -math.Exp2(bits-1), math.Exp2(bits-1) // [lo, hi) for signed types
	switch t {
	case source.UByte, source.UShort, source.UInt, source.UInt64, source.Char:
		lo, hi = 0, math.Exp2(bits)
	}
	return f == math.Trunc(f) && f >= lo && f < hi
}

// FillBytes returns one value of the fill value as little-endian bytes of
// v's type, or nil when v has none (pad with zeros).
func (v *Variable) FillBytes() []byte {
	a, ok := v.fillAttr()
	if !ok || a.Type != v.Type || v.Type == source.String {
		return nil
	}
	if s, ok := a.Value.(string); ok {
		if len(s) == 0 || int(v.Width) < len(s) && len(s) > 1 {
			return nil
		}
		b := make([]byte, v.ItemSize()) // a shorter fill is padded with NULs, as numpy pads it
		copy(b, s)
		return b
	}
	raw, err := a.Raw()
	if err != nil || len(raw) < v.ItemSize() {
		return nil
	}
	return raw[:v.ItemSize()]
}

// Covers reports whether a region of the given count fills v's whole chunk
// shape (no padding needed).
func Covers(v *Variable, count []int64) bool {
	for i := range count {
		if count[i] != v.Chunks[i] {
			return false
		}
	}
	return true
}

// AttrJSON turns a netCDF attribute value into what xarray writes for it:
// text stays text, a single number becomes a scalar, several a list.
func AttrJSON(a source.Attr) any {
	switch x := a.Value.(type) {
	case string:
		return x
	case []string:
		if len(x) == 1 {
			return x[0]
		}
		return x
	case []int8:
		return scalarOrList(x)
	case []uint8:
		return scalarOrList(x)
	case []int16:
		return scalarOrList(x)
	case []uint16:
		return scalarOrList(x)
	case []int32:
		return scalarOrList(x)
	case []uint32:
		return scalarOrList(x)
	case []int64:
		return scalarOrList(x)
	case []uint64:
		return scalarOrList(x)
	case []float32:
		// Widened exactly, as numpy's float32.item() does when xarray
		// writes attributes, so the value read back is the same float32.
		f := make([]float64, len(x))
		for i, v := range x {
			f[i] = float64(v)
		}
		return scalarOrList(f)
	case []float64:
		return scalarOrList(x)
	}
	return a.Value
}

func scalarOrList[T any](x []T) any {
	if len(x) == 1 {
		return x[0]
	}
	return x
}
