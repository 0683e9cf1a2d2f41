package plan

import (
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
