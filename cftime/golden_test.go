package cftime

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"testing"
)

// golden is testdata/golden.json, written by testdata/gen.py with the
// python cftime library.
type golden struct {
	Recode []struct {
		From, To, Calendar string
		Values, Want       []float64
		Error              bool
	}
	Dates []struct {
		Units, Calendar string
		Value           float64
		Want            []int
		Error           bool
	}
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Recode) == 0 || len(g.Dates) == 0 {
		t.Fatal("golden.json has no cases")
	}
	return g
}

func TestRecodeGolden(t *testing.T) {
	for _, c := range loadGolden(t).Recode {
		name := c.From + " -> " + c.To + " / " + c.Calendar
		from, to, cal := mustUnits(t, c.From), mustUnits(t, c.To), mustCalendar(t, c.Calendar)
		got, err := Recode(c.Values, from, to, cal)
		if c.Error {
			if err == nil {
				t.Errorf("%s: got %v, want an error (cftime rejects it)", name, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for i, v := range c.Values {
			if v == math.Trunc(v) && c.Want[i] == math.Trunc(c.Want[i]) {
				if got[i] != c.Want[i] {
					t.Errorf("%s: value %v: got %v, want exactly %v", name, v, got[i], c.Want[i])
				}
				continue
			}
			// python cftime rounds to microseconds and computes in float64;
			// this package is exact. Allow cftime's error.
			errNs := math.Abs(got[i]-c.Want[i]) * float64(to.Unit.Duration())
			tolNs := 1000 + math.Abs(v)*float64(from.Unit.Duration())*1e-15
			if errNs > tolNs {
				t.Errorf("%s: value %v: got %v, cftime %v", name, v, got[i], c.Want[i])
			}
		}
	}
}

func TestDateGolden(t *testing.T) {
	for _, c := range loadGolden(t).Dates {
		name := fmt.Sprintf("%s / %s: %v", c.Units, c.Calendar, c.Value)
		u, cal := mustUnits(t, c.Units), mustCalendar(t, c.Calendar)
		d, err := u.Date(c.Value, cal)
		if c.Error {
			if err == nil {
				t.Errorf("%s: got %v, want an error (cftime rejects it)", name, d)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got := []int{d.Year, d.Month, d.Day, d.Hour, d.Minute, d.Second, d.Nanosecond / 1000}
		if !reflect.DeepEqual(got, c.Want) || d.Nanosecond%1000 != 0 {
			t.Errorf("%s: got %v (%v), want %v", name, got, d, c.Want)
			continue
		}
		// And back: the dates above are exact, so the round trip is too.
		if v, err := u.Value(d, cal); err != nil || v != c.Value {
			t.Errorf("%s: Value(%v) = %v, %v; want %v", name, d, v, err, c.Value)
		}
	}
}

func mustUnits(t *testing.T, s string) Units {
	t.Helper()
	u, err := ParseUnits(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func mustCalendar(t *testing.T, s string) Calendar {
	t.Helper()
	c, err := ParseCalendar(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
