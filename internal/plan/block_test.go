package plan

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/zarrforge/zarrforge/source"
)

func TestBlockValues(t *testing.T) {
	for _, c := range []struct {
		typ  source.Type
		in   []float64
		want []float64
	}{
		{source.Short, []float64{1.4, 1.6, -2.5, 40000, -40000}, []float64{1, 2, -3, 32767, -32768}},
		{source.UByte, []float64{-1, 255.4, 300}, []float64{0, 255, 255}},
		{source.Float, []float64{0.5, -273.15}, []float64{0.5, float64(float32(-273.15))}},
		{source.Double, []float64{1e300}, []float64{1e300}},
	} {
		b := &Block{Var: &Variable{Name: "v", Type: c.typ}, Data: make([]byte, len(c.in)*c.typ.Size())}
		if err := b.SetValues(c.in); err != nil {
			t.Fatal(err)
		}
		got, err := b.Values()
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: %v became %v (%v), want %v", c.typ, c.in, got, err, c.want)
		}
	}
	b := &Block{Var: &Variable{Name: "s", Type: source.String}}
	if _, err := b.Values(); err == nil {
		t.Error("strings read as numbers")
	}
}

// TestBlockMissing: values equal to the variable's _FillValue or
// missing_value read as NaN, and an editor that leaves them NaN (any
// arithmetic on NaN does) leaves them missing: they are stored as the
// fill value again. An integer variable with no fill value refuses NaN.
func TestBlockMissing(t *testing.T) {
	short := func(name string, v ...int16) source.Attr {
		return source.Attr{Name: name, Type: source.Short, Value: v}
	}
	for _, c := range []struct {
		name  string
		typ   source.Type
		attrs []source.Attr
		in    []float64 // stored
		want  []float64 // stored after an editor subtracting 273.15
		err   bool
	}{
		{"short _FillValue", source.Short, []source.Attr{short("_FillValue", -999)}, []float64{300, -999, 280}, []float64{27, -999, 7}, false},
		{"short missing_value", source.Short, []source.Attr{short("missing_value", -1, -2)}, []float64{-1, -2, 300}, []float64{-1, -1, 27}, false},
		{"float _FillValue", source.Float, []source.Attr{{Name: "_FillValue", Type: source.Float, Value: []float32{-1e20}}},
			[]float64{float64(float32(-1e20)), 300}, []float64{float64(float32(-1e20)), float64(float32(300 - 273.15))}, false},
		{"float, no fill: NaN stays", source.Float, nil, []float64{math.NaN(), 300}, []float64{math.NaN(), float64(float32(300 - 273.15))}, false},
		{"int, no fill: NaN refused", source.Int, nil, []float64{1}, nil, true},
	} {
		v := &Variable{Name: "t", Type: c.typ, Attrs: c.attrs}
		raw, _ := fromFloat64(c.typ, c.in)
		b := &Block{Var: v, Data: raw}
		vals, err := b.Values()
		if err != nil {
			t.Fatal(err)
		}
		for i := range vals {
			vals[i] -= 273.15
		}
		if c.err {
			vals[0] = math.NaN()
		}
		err = b.SetValues(vals)
		if c.err != (err != nil) {
			t.Errorf("%s: SetValues: %v", c.name, err)
			continue
		}
		if c.err {
			continue
		}
		got, _ := toFloat64(c.typ, b.Data)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: stored %v, want %v", c.name, got, c.want)
		}
	}
}
