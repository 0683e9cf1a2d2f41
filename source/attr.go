package source

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Raw returns a numeric attribute's values as little-endian bytes, the form
// Read returns variable data in. Char and String attributes are an error.
func (a Attr) Raw() ([]byte, error) {
	var out []byte
	le := binary.LittleEndian
	switch v := a.Value.(type) {
	case []int8:
		for _, x := range v {
			out = append(out, byte(x))
		}
	case []uint8:
		out = append(out, v...)
	case []int16:
		for _, x := range v {
			out = le.AppendUint16(out, uint16(x))
		}
	case []uint16:
		for _, x := range v {
			out = le.AppendUint16(out, x)
		}
	case []int32:
		for _, x := range v {
			out = le.AppendUint32(out, uint32(x))
		}
	case []uint32:
		for _, x := range v {
			out = le.AppendUint32(out, x)
		}
	case []int64:
		for _, x := range v {
			out = le.AppendUint64(out, uint64(x))
		}
	case []uint64:
		for _, x := range v {
			out = le.AppendUint64(out, x)
		}
	case []float32:
		for _, x := range v {
			out = le.AppendUint32(out, math.Float32bits(x))
		}
	case []float64:
		for _, x := range v {
			out = le.AppendUint64(out, math.Float64bits(x))
		}
	default:
		return nil, fmt.Errorf("source: attribute %q: %T is not a numeric value", a.Name, a.Value)
	}
	return out, nil
}

// AttrFromRaw builds a numeric attribute of type t from little-endian bytes,
// the inverse of Attr.Raw.
func AttrFromRaw(name string, t Type, raw []byte) (Attr, error) {
	size := t.Size()
	if size == 0 || t == Char || len(raw)%size != 0 {
		return Attr{}, fmt.Errorf("source: attribute %q: %d bytes are not values of type %s", name, len(raw), t)
	}
	n := len(raw) / size
	le := binary.LittleEndian
	a := Attr{Name: name, Type: t}
	switch t {
	case Byte:
		v := make([]int8, n)
		for i := range v {
			v[i] = int8(raw[i])
		}
		a.Value = v
	case UByte:
		a.Value = append([]uint8{}, raw...)
	case Short:
		v := make([]int16, n)
		for i := range v {
			v[i] = int16(le.Uint16(raw[2*i:]))
		}
		a.Value = v
	case UShort:
		v := make([]uint16, n)
		for i := range v {
			v[i] = le.Uint16(raw[2*i:])
		}
		a.Value = v
	case Int:
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(le.Uint32(raw[4*i:]))
		}
		a.Value = v
	case UInt:
		v := make([]uint32, n)
		for i := range v {
			v[i] = le.Uint32(raw[4*i:])
		}
		a.Value = v
	case Int64:
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(le.Uint64(raw[8*i:]))
		}
		a.Value = v
	case UInt64:
		v := make([]uint64, n)
		for i := range v {
			v[i] = le.Uint64(raw[8*i:])
		}
		a.Value = v
	case Float:
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
		a.Value = v
	case Double:
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
		a.Value = v
	}
	return a, nil
}
