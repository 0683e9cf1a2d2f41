package plan

import "fmt"

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

// Values returns the block's values as float64s (exact for every type but
// 64-bit integers beyond 2^53).
func (b *Block) Values() ([]float64, error) {
	vals, err := toFloat64(b.Var.Type, b.Data)
	if err != nil {
		return nil, fmt.Errorf("variable %q: %w", b.Var.Name, err)
	}
	return vals, nil
}

// SetValues stores vals (one per value of the block) in the block, in its
// type: integers are rounded to the nearest and clamped to the type's range.
func (b *Block) SetValues(vals []float64) error {
	raw, _ := fromFloat64(b.Var.Type, vals)
	if raw == nil || len(raw) != len(b.Data) {
		return fmt.Errorf("variable %q: %d values of type %s for a block of %d bytes", b.Var.Name, len(vals), b.Var.Type, len(b.Data))
	}
	copy(b.Data, raw)
	return nil
}
