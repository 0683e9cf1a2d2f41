package plan

import (
	"encoding/binary"
	"fmt"

	"github.com/zarrforge/zarrforge/source"
)

// ConcatDim declares one dimension the inputs are concatenated along, as a
// file pattern does.
type ConcatDim struct {
	Name string
	// NItemsPerFile, when positive, is the length every input must have
	// along the dimension.
	NItemsPerFile int64
	// Keys are the pattern's keys along the dimension, in order. When the
	// inputs lack it (see Axis.New) they become its coordinate: strings,
	// or when Values is set these integers instead (an integer range's
	// numbers; dates as seconds since 1970-01-01, Units then saying so).
	// Without either the new dimension has no coordinate, as in
	// xarray.combine_nested.
	Keys   []string
	Values []int64
	Units  string
	// OnceIfAbsent makes inputs that lack the dimension not concatenated
	// along it: their variables are written once, from the input at
	// position 0, as open_mfdataset(data_vars="minimal",
	// compat="override") does. It is set for the groups of a nested store,
	// a group without the time dimension (a site description) beside
	// groups with it. Unset, a dimension the inputs lack is a new one.
	OnceIfAbsent bool
}

// ConcatNames returns the names of the concat dimensions.
func ConcatNames(concat []ConcatDim) []string {
	out := make([]string, len(concat))
	for i, c := range concat {
		out[i] = c.Name
	}
	return out
}

// EpochUnits are the units of dates given as ConcatDim.Values.
const EpochUnits = "seconds since 1970-01-01 00:00:00"

// keyCoord returns the coordinate variable of a new dimension, n long,
// from its keys, and records its values in a; false when a is not new or
// c has no keys.
func (a *Axis) keyCoord(c ConcatDim, n int64) (Variable, bool, error) {
	if !a.New || c.OnceIfAbsent || c.Keys == nil && c.Values == nil {
		return Variable{}, false, nil
	}
	v := Variable{Name: a.Name, Dims: []string{a.Name}, Shape: []int64{n}}
	switch {
	case c.Values != nil:
		if int64(len(c.Values)) != n {
			return Variable{}, false, fmt.Errorf("concat dimension %q: %d values for %d positions", a.Name, len(c.Values), n)
		}
		v.Type = source.Int64
		a.Coord = make([]byte, 0, 8*n)
		for _, x := range c.Values {
			a.Coord = binary.LittleEndian.AppendUint64(a.Coord, uint64(x))
		}
		if c.Units != "" {
			v.Attrs = []source.Attr{{Name: "units", Type: source.Char, Value: c.Units},
				{Name: "calendar", Type: source.Char, Value: "proleptic_gregorian"}}
		}
	default:
		if int64(len(c.Keys)) != n {
			return Variable{}, false, fmt.Errorf("concat dimension %q: %d keys for %d positions", a.Name, len(c.Keys), n)
		}
		v.Type = source.String
		a.Labels = c.Keys
	}
	return v, true, nil
}
