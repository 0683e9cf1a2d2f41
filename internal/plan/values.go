package plan

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/zarrforge/zarrforge/source"
)

// toFloat64 decodes little-endian raw values of type t.
func toFloat64(t source.Type, raw []byte) ([]float64, error) {
	n := t.Size()
	if n == 0 || t == source.Char || len(raw)%n != 0 {
		return nil, fmt.Errorf("cannot read %d bytes of type %s as numbers", len(raw), t)
	}
	out := make([]float64, len(raw)/n)
	for i := range out {
		b := raw[i*n : (i+1)*n]
		switch t {
		case source.Byte:
			out[i] = float64(int8(b[0]))
		case source.UByte:
			out[i] = float64(b[0])
		case source.Short:
			out[i] = float64(int16(binary.LittleEndian.Uint16(b)))
		case source.UShort:
			out[i] = float64(binary.LittleEndian.Uint16(b))
		case source.Int:
			out[i] = float64(int32(binary.LittleEndian.Uint32(b)))
		case source.UInt:
			out[i] = float64(binary.LittleEndian.Uint32(b))
		case source.Int64:
			out[i] = float64(int64(binary.LittleEndian.Uint64(b)))
		case source.UInt64:
			out[i] = float64(binary.LittleEndian.Uint64(b))
		case source.Float:
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		case source.Double:
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b))
		}
	}
	return out, nil
}

// fromFloat64 encodes vals as little-endian values of type t and reports
// whether every value was represented exactly. Values of an integer type
// are rounded to the nearest and clamped to the type's range.
func fromFloat64(t source.Type, vals []float64) ([]byte, bool) {
	n := t.Size()
	raw := make([]byte, len(vals)*n)
	exact := true
	for i, x := range vals {
		b := raw[i*n : (i+1)*n]
		var back float64
		v := x
		if lo, hi, ok := intRange(t); ok {
			v = math.Max(lo, math.Min(hi, math.Round(x)))
		}
		switch t {
		case source.Byte:
			b[0] = byte(int8(v))
			back = float64(int8(b[0]))
		case source.UByte:
			b[0] = uint8(v)
			back = float64(b[0])
		case source.Short:
			binary.LittleEndian.PutUint16(b, uint16(int16(v)))
			back = float64(int16(binary.LittleEndian.Uint16(b)))
		case source.UShort:
			binary.LittleEndian.PutUint16(b, uint16(v))
			back = float64(binary.LittleEndian.Uint16(b))
		case source.Int:
			binary.LittleEndian.PutUint32(b, uint32(int32(v)))
			back = float64(int32(binary.LittleEndian.Uint32(b)))
		case source.UInt:
			binary.LittleEndian.PutUint32(b, uint32(v))
			back = float64(binary.LittleEndian.Uint32(b))
		case source.Int64:
			binary.LittleEndian.PutUint64(b, uint64(int64(v)))
			back = float64(int64(binary.LittleEndian.Uint64(b)))
		case source.UInt64:
			binary.LittleEndian.PutUint64(b, uint64(v))
			back = float64(binary.LittleEndian.Uint64(b))
		case source.Float:
			binary.LittleEndian.PutUint32(b, math.Float32bits(float32(v)))
			back = float64(float32(v))
		case source.Double:
			binary.LittleEndian.PutUint64(b, math.Float64bits(v))
			back = v
		default:
			return nil, false
		}
		if back != x && !(math.IsNaN(x) && math.IsNaN(back)) {
			exact = false
		}
	}
	return raw, exact
}

// intRange is the range of integer type t (false for other types).
func intRange(t source.Type) (lo, hi float64, ok bool) {
	switch t {
	case source.Byte:
		return math.MinInt8, math.MaxInt8, true
	case source.UByte:
		return 0, math.MaxUint8, true
	case source.Short:
		return math.MinInt16, math.MaxInt16, true
	case source.UShort:
		return 0, math.MaxUint16, true
	case source.Int:
		return math.MinInt32, math.MaxInt32, true
	case source.UInt:
		return 0, math.MaxUint32, true
	case source.Int64:
		return math.MinInt64, math.MaxInt64, true
	case source.UInt64:
		return 0, math.MaxUint64, true
	}
	return 0, 0, false
}
