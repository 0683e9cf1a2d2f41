package cftime

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestParseCalendar(t *testing.T) {
	tests := []struct {
		in   string
		want Calendar
	}{
		{"", Standard},
		{"standard", Standard},
		{"Gregorian", Standard},
		{" PROLEPTIC_GREGORIAN ", ProlepticGregorian},
		{"julian", Julian},
		{"noleap", NoLeap},
		{"365_day", NoLeap},
		{"all_leap", AllLeap},
		{"366_day", AllLeap},
		{"360_day", Day360},
	}
	for _, tt := range tests {
		got, err := ParseCalendar(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseCalendar(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if back, err := ParseCalendar(got.String()); err != nil || back != got {
			t.Errorf("ParseCalendar(%q) = %v, %v; want %v", got.String(), back, err, got)
		}
	}
	for _, bad := range []string{"none", "gregorian_proleptic", "360"} {
		if _, err := ParseCalendar(bad); err == nil || !strings.Contains(err.Error(), "unknown calendar") {
			t.Errorf("ParseCalendar(%q): got error %v, want unknown calendar", bad, err)
		}
	}
}

func TestParseUnits(t *testing.T) {
	date := func(y, m, d, hh, mm, ss, ns int) Date { return Date{y, m, d, hh, mm, ss, ns} }
	tests := []struct {
		in   string
		want Units
	}{
		{"days since 1978-01-01", Units{Days, date(1978, 1, 1, 0, 0, 0, 0), 0}},
		{"days since 1978-1-1", Units{Days, date(1978, 1, 1, 0, 0, 0, 0), 0}},
		{"hours since 1978-01-01 12:00:00", Units{Hours, date(1978, 1, 1, 12, 0, 0, 0), 0}},
		{"seconds since 1978-01-01T12:00:00Z", Units{Seconds, date(1978, 1, 1, 12, 0, 0, 0), 0}},
		{"minutes since 1978-01-01 12:00:00.0", Units{Minutes, date(1978, 1, 1, 12, 0, 0, 0), 0}},
		{"days since 1978-01-01 00:00:00 UTC", Units{Days, date(1978, 1, 1, 0, 0, 0, 0), 0}},
		{"days since 1900-01-01 00:00:0.0", Units{Days, date(1900, 1, 1, 0, 0, 0, 0), 0}},
		{"hours since 2000-01-01 00:00:00 +00:00", Units{Hours, date(2000, 1, 1, 0, 0, 0, 0), 0}},
		{"hours since 2000-01-01 00:00:00 -06:00", Units{Hours, date(2000, 1, 1, 0, 0, 0, 0), -6 * time.Hour}},
		{"hours since 2000-01-01T00:00:00+05:30", Units{Hours, date(2000, 1, 1, 0, 0, 0, 0), 5*time.Hour + 30*time.Minute}},
		{"hours since 2000-01-01 00:00-0600", Units{Hours, date(2000, 1, 1, 0, 0, 0, 0), -6 * time.Hour}},
		{"hours since 2000-01-01 -6", Units{Hours, date(2000, 1, 1, 0, 0, 0, 0), -6 * time.Hour}},
		{"hours since 2000-01-01 GMT", Units{Hours, date(2000, 1, 1, 0, 0, 0, 0), 0}},
		{"days since 1-1-1", Units{Days, date(1, 1, 1, 0, 0, 0, 0), 0}},
		{"days since 0000-01-01", Units{Days, date(0, 1, 1, 0, 0, 0, 0), 0}},
		{"days since -0100-03-01", Units{Days, date(-100, 3, 1, 0, 0, 0, 0), 0}},
		{"days since 0850-07-04T06", Units{Days, date(850, 7, 4, 6, 0, 0, 0), 0}},
		{"s since 2000-01-01 01:02:03.123456789123", Units{Seconds, date(2000, 1, 1, 1, 2, 3, 123456789), 0}},
		{"  Days   SINCE  2000-01-01   12:30  ", Units{Days, date(2000, 1, 1, 12, 30, 0, 0), 0}},
		{"d since 2000-01-01", Units{Days, date(2000, 1, 1, 0, 0, 0, 0), 0}},
		{"hrs since 2000-01-01", Units{Hours, date(2000, 1, 1, 0, 0, 0, 0), 0}},
		{"h since 2000-01-01", Units{Hours, date(2000, 1, 1, 0, 0, 0, 0), 0}},
		{"min since 2000-01-01", Units{Minutes, date(2000, 1, 1, 0, 0, 0, 0), 0}},
		{"sec since 2000-01-01", Units{Seconds, date(2000, 1, 1, 0, 0, 0, 0), 0}},
		{"msec since 2000-01-01", Units{Milliseconds, date(2000, 1, 1, 0, 0, 0, 0), 0}},
		{"microseconds since 2000-01-01", Units{Microseconds, date(2000, 1, 1, 0, 0, 0, 0), 0}},
		{"ns since 2000-01-01", Units{Nanoseconds, date(2000, 1, 1, 0, 0, 0, 0), 0}},
	}
	for _, tt := range tests {
		got, err := ParseUnits(tt.in)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseUnits(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			continue
		}
		// String is canonical and reads back to the same units.
		back, err := ParseUnits(got.String())
		if err != nil || !back.Equal(got) {
			t.Errorf("ParseUnits(%q) = %+v, %v; want %+v", got.String(), back, err, got)
		}
	}
}

func TestParseUnitsErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `want "<unit> since <date>"`},
		{"days", `want "<unit> since <date>"`},
		{"days since", `want "<unit> since <date>"`},
		{"days after 2000-01-01", `want "<unit> since <date>"`},
		{"days of year since 2000-01-01", `want "<unit> since <date>"`},
		{"months since 2000-01-01", "ambiguous"},
		{"years since 2000-01-01", "ambiguous"},
		{"fortnights since 2000-01-01", `unknown time unit "fortnights"`},
		{"days since 2000", "want year-month-day"},
		{"days since 2000-01", "want year-month-day"},
		{"days since 2000/01/01", "want year-month-day"},
		{"days since 2000-13-01", "month 13 out of range"},
		{"days since 2000-00-01", "month 0 out of range"},
		{"days since 2000-01-32", "day 32 out of range"},
		{"days since 2000-01-01 24:00:00", "hour 24 out of range"},
		{"days since 2000-01-01 12:60", "minute 60 out of range"},
		{"days since 2000-01-01 12:00:60", "second 60 out of range"},
		{"days since 2000-01-01 12:00:00.", "digits after the decimal point"},
		{"days since 2000-01-01 12:00:00 +24:00", "out of range"},
		{"days since 2000-01-01 12:00:00 +530", "want hh, hh:mm or hhmm"},
		{"days since 2000-01-01 noon", `unexpected "noon"`},
		{"days since 2000-01-01T", "want digits of the hour"},
		{"days since 2000-01-01TZ", "want digits of the hour"},
		{"days since 2000-01-01 UTC junk", `unexpected "junk"`},
		{"days since 1234567890-01-01", "more than 9 digits"},
		{"days since 2000-001-01", "more than 2 digits"},
	}
	for _, tt := range tests {
		_, err := ParseUnits(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseUnits(%q): got error %v, want one containing %q", tt.in, err, tt.want)
		}
	}
}

func TestUnitsString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"days since 1978-1-1", "days since 1978-01-01 00:00:00"},
		{"hrs since 1978-01-01T06:30Z", "hours since 1978-01-01 06:30:00"},
		{"s since 1978-01-01 00:00:01.250", "seconds since 1978-01-01 00:00:01.25"},
		{"d since -50-01-01 -06:00", "days since -0050-01-01 00:00:00 -06:00"},
		{"d since 2000-01-01 +0545", "days since 2000-01-01 00:00:00 +05:45"},
	}
	for _, tt := range tests {
		if got := mustUnits(t, tt.in).String(); got != tt.want {
			t.Errorf("ParseUnits(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUnitsEqual(t *testing.T) {
	a := mustUnits(t, "days since 2000-01-01")
	for _, same := range []string{"day since 2000-1-1", "d since 2000-01-01 00:00:00Z", "DAYS since 2000-01-01 00:00:00.0 +00:00"} {
		if !a.Equal(mustUnits(t, same)) {
			t.Errorf("%q and %q: want Equal", a, same)
		}
	}
	for _, other := range []string{"hours since 2000-01-01", "days since 2000-01-02", "days since 2000-01-01 00:00:00.5",
		"days since 2000-01-01 +01:00"} {
		if a.Equal(mustUnits(t, other)) {
			t.Errorf("%q and %q: want not Equal", a, other)
		}
	}
}

func TestRecode(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		cal      Calendar
		in, want []float64
	}{
		{"one day later epoch", "days since 2000-01-02", "days since 2000-01-01", Standard, []float64{0, 1, -1}, []float64{1, 2, 0}},
		{"hours to days", "hours since 1981-09-02", "days since 1981-09-01", Standard, []float64{0, 12, 24}, []float64{1, 1.5, 2}},
		{"same units", "days since 2000-01-01", "days since 2000-01-01", NoLeap, []float64{0, 0.1, -7.25}, []float64{0, 0.1, -7.25}},
		{"big epoch", "days since 0001-01-01", "days since 1970-01-01", ProlepticGregorian, []float64{719162, 719162.5}, []float64{0, 0.5}},
		{"big epoch to seconds", "days since 1970-01-01", "seconds since 0001-01-01", ProlepticGregorian,
			[]float64{0, 1}, []float64{719162 * 86400, 719163 * 86400}},
		{"nanoseconds exact", "nanoseconds since 2262-01-01", "nanoseconds since 1677-01-01", ProlepticGregorian,
			[]float64{0}, []float64{18460742400000000000}},
		{"inexact rounds to nearest", "hours since 2000-01-01", "days since 2000-01-01", Standard, []float64{1, 8}, []float64{1.0 / 24, 1.0 / 3}},
		{"zone offset applied", "hours since 2000-01-01 -06:00", "hours since 2000-01-01", Standard, []float64{0}, []float64{6}},
		{"across the gap", "days since 1582-10-04", "days since 1582-10-15", Standard, []float64{1, 0}, []float64{0, -1}},
		{"360-day year", "days since 2000-01-01", "hours since 2001-01-01", Day360, []float64{360}, []float64{0}},
		{"NaN and Inf pass", "days since 2000-01-01", "hours since 2000-01-01", Standard,
			[]float64{math.NaN(), math.Inf(-1)}, []float64{math.NaN(), math.Inf(-1)}},
		{"empty", "days since 2000-01-01", "hours since 2000-01-01", Standard, []float64{}, []float64{}},
	}
	for _, tt := range tests {
		got, err := Recode(tt.in, mustUnits(t, tt.from), mustUnits(t, tt.to), tt.cal)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] && !(math.IsNaN(got[i]) && math.IsNaN(tt.want[i])) {
				t.Errorf("%s: value %v: got %v, want %v", tt.name, tt.in[i], got[i], tt.want[i])
			}
		}
	}
}

func TestRecodeErrors(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		cal      Calendar
		in       []float64
		want     string
	}{
		{"leap day in noleap", "days since 2000-02-29", "days since 2000-01-01", NoLeap, []float64{0}, "day 29 out of range 1..28"},
		{"year 0 in julian", "days since 0000-01-01", "days since 2000-01-01", Julian, []float64{0}, "year 0 does not exist"},
		{"in the gap", "days since 2000-01-01", "days since 1582-10-10", Standard, []float64{0}, "does not exist in the standard calendar"},
		{"day 31 in 360_day", "days since 2000-01-31", "days since 2000-01-01", Day360, []float64{0}, "day 31 out of range 1..30"},
		{"bad calendar", "days since 2000-01-01", "days since 2000-01-01", Calendar(42), []float64{0}, "invalid calendar"},
		{"overflow", "days since 2000-01-01", "nanoseconds since 2000-01-01", Standard, []float64{math.MaxFloat64}, "out of range"},
		{"year too large", "days since 999999999-01-01", "days since 2000-01-01", Standard, []float64{0}, "out of range"},
	}
	for _, tt := range tests {
		_, err := Recode(tt.in, mustUnits(t, tt.from), mustUnits(t, tt.to), tt.cal)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
	if _, err := Recode([]float64{0}, Units{Unit: Unit(99)}, mustUnits(t, "days since 2000-01-01"), Standard); err == nil {
		t.Error("invalid unit: got no error")
	}
}

func TestDate(t *testing.T) {
	tests := []struct {
		units string
		cal   Calendar
		v     float64
		want  string
	}{
		{"days since 1981-09-01", Standard, 2, "1981-09-03"},
		{"hours since 1981-09-01", Standard, 36.5, "1981-09-02 12:30:00"},
		{"seconds since 1970-01-01", Standard, 0.1, "1970-01-01 00:00:00.1"},
		{"days since 1970-01-01", Standard, 1.0 / 3, "1970-01-01 08:00:00"},
		{"nanoseconds since 1970-01-01", Standard, -1, "1969-12-31 23:59:59.999999999"},
		{"days since 2000-03-01", NoLeap, -1, "2000-02-28"},
		{"days since 2000-03-01", AllLeap, -1, "2000-02-29"},
		{"days since 2000-03-01", Day360, -1, "2000-02-30"},
		{"days since 1900-03-01", Julian, -1, "1900-02-29"},
		{"days since 1900-03-01", ProlepticGregorian, -1, "1900-02-28"},
		{"days since 1582-10-15", Standard, -1, "1582-10-04"},
		{"days since 0001-01-01", Standard, -1, "-0001-12-31"},
		{"days since 0001-01-01", ProlepticGregorian, -1, "0000-12-31"},
		{"hours since 2000-01-01 00:00:00 +05:30", Standard, 0, "1999-12-31 18:30:00"},
	}
	for _, tt := range tests {
		d, err := mustUnits(t, tt.units).Date(tt.v, tt.cal)
		if err != nil || d.String() != tt.want {
			t.Errorf("%s (%s): Date(%v) = %v, %v; want %s", tt.units, tt.cal, tt.v, d, err, tt.want)
		}
	}
	u := mustUnits(t, "days since 2000-01-01")
	for _, v := range []float64{math.NaN(), math.Inf(1), 1e300} {
		if d, err := u.Date(v, Standard); err == nil {
			t.Errorf("Date(%v) = %v, want an error", v, d)
		}
	}
	if d, err := mustUnits(t, "days since 2000-02-30").Date(0, Standard); err == nil {
		t.Errorf("Date with a reference date that does not exist = %v, want an error", d)
	}
}

func TestValueErrors(t *testing.T) {
	u := mustUnits(t, "days since 2000-01-01")
	bad := []struct {
		d   Date
		cal Calendar
	}{
		{Date{Year: 2001, Month: 2, Day: 29}, Standard},
		{Date{Year: 1582, Month: 10, Day: 5}, Standard},
		{Date{Year: 0, Month: 1, Day: 1}, Julian},
		{Date{Year: 2000, Month: 1, Day: 1, Hour: 24}, NoLeap},
		{Date{Year: 2000, Month: 1, Day: 1, Minute: -1}, NoLeap},
		{Date{Year: 2000, Month: 1, Day: 1, Second: 60}, NoLeap},
		{Date{Year: 2000, Month: 1, Day: 1, Nanosecond: 1e9}, NoLeap},
		{Date{Year: 2000, Month: 0, Day: 1}, Day360},
	}
	for _, tt := range bad {
		if v, err := u.Value(tt.d, tt.cal); err == nil {
			t.Errorf("Value(%v) in %s = %v, want an error", tt.d, tt.cal, v)
		}
	}
	if _, err := u.Value(Date{Year: 2000, Month: 1, Day: 1}, Calendar(-1)); err == nil {
		t.Error("Value in an invalid calendar: want an error")
	}
}

func TestDateCompareAndString(t *testing.T) {
	dates := []Date{
		{Year: -1, Month: 12, Day: 31, Hour: 23},
		{Year: 1, Month: 1, Day: 1},
		{Year: 1, Month: 1, Day: 1, Nanosecond: 1},
		{Year: 1981, Month: 9, Day: 3},
		{Year: 1981, Month: 9, Day: 3, Second: 1},
		{Year: 1981, Month: 10, Day: 1},
	}
	for i := range dates {
		for j := range dates {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := dates[i].Compare(dates[j]); got != want {
				t.Errorf("%v.Compare(%v) = %d, want %d", dates[i], dates[j], got, want)
			}
		}
	}
	wantStrings := []string{"-0001-12-31 23:00:00", "0001-01-01", "0001-01-01 00:00:00.000000001", "1981-09-03",
		"1981-09-03 00:00:01", "1981-10-01"}
	for i, d := range dates {
		if d.String() != wantStrings[i] {
			t.Errorf("String() = %q, want %q", d.String(), wantStrings[i])
		}
	}
}

// TestDayNumbers checks every calendar's day numbering over more than a
// thousand years either side of the epochs: day n+1 is the day after day n,
// and dayNumber inverts date.
func TestDayNumbers(t *testing.T) {
	for _, cal := range []Calendar{Standard, ProlepticGregorian, Julian, NoLeap, AllLeap, Day360} {
		first := int64(-1_100_000)
		y, m, d := cal.date(first)
		for n := first; n < 1_100_000; n++ {
			if got, err := cal.dayNumber(y, m, d); err != nil || got != n {
				t.Fatalf("%s: dayNumber(%d-%d-%d) = %d, %v; want %d", cal, y, m, d, got, err, n)
			}
			// Step to the next day by hand.
			ny, nm, nd := y, m, d+1
			if nd > cal.daysInMonth(y, m) {
				nd, nm = 1, m+1
				if nm > 12 {
					nm, ny = 1, y+1
				}
			}
			if cal == Standard && y == 1582 && m == 10 && d == 4 {
				nd = 15
			}
			y, m, d = cal.date(n + 1)
			if y != ny || m != nm || d != nd {
				t.Fatalf("%s: day %d is %d-%d-%d, want %d-%d-%d", cal, n+1, y, m, d, ny, nm, nd)
			}
		}
	}
}

func TestUnitAndCalendarStrings(t *testing.T) {
	if got := Unit(99).String(); got != "Unit(99)" {
		t.Errorf("Unit(99).String() = %q", got)
	}
	if got := Unit(99).Duration(); got != 0 {
		t.Errorf("Unit(99).Duration() = %v", got)
	}
	if got := Calendar(99).String(); got != "Calendar(99)" {
		t.Errorf("Calendar(99).String() = %q", got)
	}
	if got := Days.Duration(); got != 24*time.Hour {
		t.Errorf("Days.Duration() = %v", got)
	}
}
