package plan

import (
	"fmt"

	"github.com/zarrforge/zarrforge/netcdf"
	"github.com/zarrforge/zarrforge/zarr"
)

// dtypes maps netCDF types to the Zarr (numpy) dtypes that store them.
var dtypes = map[netcdf.Type]zarr.DType{
	netcdf.Byte: "|i1", netcdf.UByte: "|u1", netcdf.Char: "|S1",
	netcdf.Short: "<i2", netcdf.UShort: "<u2",
	netcdf.Int: "<i4", netcdf.UInt: "<u4",
	netcdf.Int64: "<i8", netcdf.UInt64: "<u8",
	netcdf.Float: "<f4", netcdf.Double: "<f8",
}

// ArrayMeta returns the .zarray metadata of v in the target.
func (t *Target) ArrayMeta(v *Variable) (zarr.ArrayMeta, error) {
	dt, ok := dtypes[v.Type]
	if !ok {
		return zarr.ArrayMeta{}, fmt.Errorf("variable %q: type %s has no Zarr dtype", v.Name, v.Type)
	}
	comp, err := zarr.NewCompressor(t.Compressor, t.Level)
	if err != nil {
		return zarr.ArrayMeta{}, fmt.Errorf("variable %q: %w", v.Name, err)
	}
	fill, err := v.fillValue()
	if err != nil {
		return zarr.ArrayMeta{}, err
	}
	return zarr.ArrayMeta{Shape: v.Shape, Chunks: v.Chunks, DType: dt, Compressor: comp, FillValue: fill}, nil
}

// fillAttr returns v's _FillValue attribute.
func (v *Variable) fillAttr() (netcdf.Attr, bool) {
	for _, a := range v.Attrs {
		if a.Name == "_FillValue" {
			return a, true
		}
	}
	return netcdf.Attr{}, false
}

// fillValue returns the Zarr fill_value: the _FillValue attribute, which
// xarray reads back as _FillValue, or nil (JSON null) when there is none, so
// that no value is masked that netCDF would not mask.
func (v *Variable) fillValue() (any, error) {
	a, ok := v.fillAttr()
	if !ok {
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
		if len(x) > 0 {
			return x[:1], nil
		}
		return nil, nil
	}
	return nil, fmt.Errorf("variable %q: _FillValue of type %s cannot be a Zarr fill value", v.Name, a.Type)
}

// FillBytes returns one value of the fill value as little-endian bytes of
// v's type, or nil when v has none (pad with zeros).
func (v *Variable) FillBytes() []byte {
	a, ok := v.fillAttr()
	if !ok || a.Type != v.Type {
		return nil
	}
	if s, ok := a.Value.(string); ok {
		if len(s) == 0 {
			return nil
		}
		return []byte(s[:1])
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

// ArrayAttrs returns v's .zattrs: its attributes except _FillValue (which
// becomes the Zarr fill_value), plus _ARRAY_DIMENSIONS, which xarray needs to
// name the dimensions.
func ArrayAttrs(v *Variable) zarr.Attrs {
	var out zarr.Attrs
	for _, a := range v.Attrs {
		if a.Name == "_FillValue" {
			continue
		}
		out = append(out, zarr.Attr{Key: a.Name, Value: attrJSON(a)})
	}
	dims := v.Dims
	if dims == nil {
		dims = []string{}
	}
	return append(out, zarr.Attr{Key: "_ARRAY_DIMENSIONS", Value: dims})
}

// GroupAttrs returns the root group's .zattrs: the first input's global
// attributes.
func GroupAttrs(s *Schema) zarr.Attrs {
	var out zarr.Attrs
	for _, a := range s.Attrs {
		out = append(out, zarr.Attr{Key: a.Name, Value: attrJSON(a)})
	}
	return out
}

// attrJSON turns a netCDF attribute value into what xarray writes for it:
// text stays text, a single number becomes a scalar, several a list.
func attrJSON(a netcdf.Attr) any {
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
