package plan

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/zarrforge/zarrforge/netcdf"
)

// Block is part of a variable's values as the chunk stage holds them
// before they are encoded: the box of extent Shape at index Start of
// variable Var, as C-ordered little-endian values of its type (the values
// as stored: packed integers stay packed) in Data.
type Block struct {
	Var   *Variable
	Start []int64
	Shape []int64
	Data  []byte
}

// Len is the number of values in the block.
func (b *Block) Len() int { return len(b.Data) / max(b.Var.ItemSize(), 1) }

// Values returns the block's values as float64s (exact for every type but
// 64-bit integers beyond 2^53).
func (b *Block) Values() ([]float64, error) {
	out := make([]float64, b.Len())
	size := b.Var.Type.Size()
	for i := range out {
		p := b.Data[i*size:]
		switch b.Var.Type {
		case netcdf.Byte:
			out[i] = float64(int8(p[0]))
		case netcdf.UByte, netcdf.Char:
			out[i] = float64(p[0])
		case netcdf.Short:
			out[i] = float64(int16(binary.LittleEndian.Uint16(p)))
		case netcdf.UShort:
			out[i] = float64(binary.LittleEndian.Uint16(p))
		case netcdf.Int:
			out[i] = float64(int32(binary.LittleEndian.Uint32(p)))
		case netcdf.UInt:
			out[i] = float64(binary.LittleEndian.Uint32(p))
		case netcdf.Int64:
			out[i] = float64(int64(binary.LittleEndian.Uint64(p)))
		case netcdf.UInt64:
			out[i] = float64(binary.LittleEndian.Uint64(p))
		case netcdf.Float:
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(p)))
		case netcdf.Double:
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(p))
		default:
			return nil, fmt.Errorf("variable %q: %s values are not numbers", b.Var.Name, b.Var.Type)
		}
	}
	return out, nil
}

// SetValues stores vals (one per value of the block) in the block, in its
// type: integers are rounded to the nearest and clamped to the type's range.
func (b *Block) SetValues(vals []float64) error {
	if len(vals) != b.Len() {
		return fmt.Errorf("variable %q: %d values for a block of %d", b.Var.Name, len(vals), b.Len())
	}
	size := b.Var.Type.Size()
	clamp := func(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, math.Round(x))) }
	for i, x := range vals {
		p := b.Data[i*size:]
		switch b.Var.Type {
		case netcdf.Byte:
			p[0] = byte(int8(clamp(x, math.MinInt8, math.MaxInt8)))
		case netcdf.UByte, netcdf.Char:
			p[0] = byte(clamp(x, 0, math.MaxUint8))
		case netcdf.Short:
			binary.LittleEndian.PutUint16(p, uint16(int16(clamp(x, math.MinInt16, math.MaxInt16))))
		case netcdf.UShort:
			binary.LittleEndian.PutUint16(p, uint16(clamp(x, 0, math.MaxUint16)))
		case netcdf.Int:
			binary.LittleEndian.PutUint32(p, uint32(int32(clamp(x, math.MinInt32, math.MaxInt32))))
		case netcdf.UInt:
			binary.LittleEndian.PutUint32(p, uint32(clamp(x, 0, math.MaxUint32)))
		case netcdf.Int64:
			binary.LittleEndian.PutUint64(p, uint64(int64(clamp(x, math.MinInt64, math.MaxInt64))))
		case netcdf.UInt64:
			binary.LittleEndian.PutUint64(p, uint64(clamp(x, 0, math.MaxUint64)))
		case netcdf.Float:
			binary.LittleEndian.PutUint32(p, math.Float32bits(float32(x)))
		case netcdf.Double:
			binary.LittleEndian.PutUint64(p, math.Float64bits(x))
		default:
			return fmt.Errorf("variable %q: %s values are not numbers", b.Var.Name, b.Var.Type)
		}
	}
	return nil
}
