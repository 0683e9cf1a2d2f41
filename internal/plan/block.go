package plan

import (
	"fmt"
	"math"

	"github.com/zarrforge/zarrforge/source"
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

// Values returns the block's values as float64s (exact for every type but
// 64-bit integers beyond 2^53), with the missing ones as NaN: those equal
// to the variable's _FillValue or missing_value, as xarray masks them (and
// NaN itself). Packed values stay packed.
func (b *Block) Values() ([]float64, error) {
	vals, err := toFloat64(b.Var.Type, b.Data)
	if err != nil {
		return nil, fmt.Errorf("variable %q: %w", b.Var.Name, err)
	}
	missing := b.missing()
	if len(missing) == 0 {
		return vals, nil
	}
	for i, x := range vals {
		for _, m := range missing {
			if x == m {
				vals[i] = math.NaN()
				break
			}
		}
	}
	return vals, nil
}

// SetValues stores vals (one per value of the block) in the block, in its
// type: integers are rounded to the nearest and clamped to the type's range.
// A NaN is a missing value: it is stored as the variable's _FillValue (its
// missing_value when it has no _FillValue), so that what Values gave as
// missing stays missing; a float variable with neither stores NaN, and an
// integer one refuses it. vals is changed in place.
func (b *Block) SetValues(vals []float64) error {
	if err := b.fillMissing(vals); err != nil {
		return err
	}
	raw, _ := fromFloat64(b.Var.Type, vals)
	if raw == nil || len(raw) != len(b.Data) {
		return fmt.Errorf("variable %q: %d values of type %s for a block of %d bytes", b.Var.Name, len(vals), b.Var.Type, len(b.Data))
	}
	copy(b.Data, raw)
	return nil
}

// fillMissing replaces the NaNs of vals by the variable's missing value.
func (b *Block) fillMissing(vals []float64) error {
	missing := b.missing()
	isFloat := b.Var.Type == source.Float || b.Var.Type == source.Double
	if len(missing) == 0 && isFloat {
		return nil
	}
	for i, x := range vals {
		if !math.IsNaN(x) {
			continue
		}
		if len(missing) == 0 {
			return fmt.Errorf("variable %q: value %d is missing (NaN), but the variable has no _FillValue or missing_value to store it as", b.Var.Name, i)
		}
		vals[i] = missing[0]
	}
	return nil
}

// missing returns the values that mark a value of the block's variable
// missing: its _FillValue, then its missing_value(s), as float64s.
func (b *Block) missing() []float64 {
	var out []float64
	for _, name := range []string{"_FillValue", "missing_value"} {
		a, ok := b.Var.Attr(name)
		if !ok {
			continue
		}
		raw, err := a.Raw()
		if err != nil {
			continue
		}
		vals, err := toFloat64(a.Type, raw)
		if err != nil {
			continue
		}
		for _, v := range vals {
			if !math.IsNaN(v) {
				out = append(out, v)
			}
		}
	}
	return out
}
