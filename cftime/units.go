package cftime

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Unit is the length of one step of a CF time coordinate.
type Unit int

// The supported units, shortest first. CF "months" and "years" are not
// here: udunits defines them as fractions of a tropical year, which nobody
// means, so ParseUnits rejects them.
const (
	Nanoseconds Unit = iota
	Microseconds
	Milliseconds
	Seconds
	Minutes
	Hours
	Days
)

var unitInfo = [...]struct {
	name string
	dur  time.Duration
}{
	Nanoseconds:  {"nanoseconds", time.Nanosecond},
	Microseconds: {"microseconds", time.Microsecond},
	Milliseconds: {"milliseconds", time.Millisecond},
	Seconds:      {"seconds", time.Second},
	Minutes:      {"minutes", time.Minute},
	Hours:        {"hours", time.Hour},
	Days:         {"days", 24 * time.Hour},
}

// unitNames holds the CF/udunits spellings of each unit, lower case.
var unitNames = map[string]Unit{
	"nanoseconds": Nanoseconds, "nanosecond": Nanoseconds, "nanosec": Nanoseconds, "nanosecs": Nanoseconds,
	"nsec": Nanoseconds, "nsecs": Nanoseconds, "ns": Nanoseconds,
	"microseconds": Microseconds, "microsecond": Microseconds, "microsec": Microseconds, "microsecs": Microseconds,
	"usec": Microseconds, "usecs": Microseconds, "us": Microseconds,
	"milliseconds": Milliseconds, "millisecond": Milliseconds, "millisec": Milliseconds, "millisecs": Milliseconds,
	"msec": Milliseconds, "msecs": Milliseconds, "ms": Milliseconds,
	"seconds": Seconds, "second": Seconds, "sec": Seconds, "secs": Seconds, "s": Seconds,
	"minutes": Minutes, "minute": Minutes, "min": Minutes, "mins": Minutes,
	"hours": Hours, "hour": Hours, "hr": Hours, "hrs": Hours, "h": Hours,
	"days": Days, "day": Days, "d": Days,
}

// ambiguousUnits are calendar units CF allows but whose length varies.
var ambiguousUnits = map[string]bool{
	"months": true, "month": true, "mon": true, "mons": true,
	"years": true, "year": true, "yr": true, "yrs": true, "a": true,
	"common_years": true, "common_year": true,
}

// String returns the unit's plural name ("days").
func (u Unit) String() string {
	if u < Nanoseconds || u > Days {
		return fmt.Sprintf("Unit(%d)", int(u))
	}
	return unitInfo[u].name
}

// Duration returns the length of one unit.
func (u Unit) Duration() time.Duration {
	if u < Nanoseconds || u > Days {
		return 0
	}
	return unitInfo[u].dur
}

// Date is a date and time of day in some calendar. Year is numbered as the
// calendar numbers it: in the standard and julian calendars there is no year
// 0 (year -1 precedes year 1); the other calendars have a year 0.
type Date struct {
	Year, Month, Day     int
	Hour, Minute, Second int
	Nanosecond           int
}

// String formats d as "1981-09-03" when it is midnight and as
// "1981-09-03 12:30:00" (with a fraction of a second if any) otherwise.
func (d Date) String() string {
	if d.Hour == 0 && d.Minute == 0 && d.Second == 0 && d.Nanosecond == 0 {
		return d.day()
	}
	return d.full()
}

// day formats the date part.
func (d Date) day() string {
	y := d.Year
	sign := ""
	if y < 0 {
		sign, y = "-", -y
	}
	return fmt.Sprintf("%s%04d-%02d-%02d", sign, y, d.Month, d.Day)
}

// full formats date and time, always with the time of day.
func (d Date) full() string {
	s := fmt.Sprintf("%s %02d:%02d:%02d", d.day(), d.Hour, d.Minute, d.Second)
	if d.Nanosecond != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%09d", d.Nanosecond), "0")
	}
	return s
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e. It
// compares field by field, which orders dates of one calendar correctly.
func (d Date) Compare(e Date) int {
	a := [...]int{d.Year, d.Month, d.Day, d.Hour, d.Minute, d.Second, d.Nanosecond}
	b := [...]int{e.Year, e.Month, e.Day, e.Hour, e.Minute, e.Second, e.Nanosecond}
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// Units are CF time units, "<unit> since <reference date>": a value v
// stands for the instant Epoch + v×Unit. Epoch is local time in a zone
// Offset east of UTC ("-06:00" is Offset -6h), so the reference instant in
// UTC is Epoch − Offset.
type Units struct {
	Unit   Unit
	Epoch  Date
	Offset time.Duration
}

// Equal reports whether u and v are the same units written the same way:
// the same step, reference date and time zone. Units that name one instant
// differently (say "hours since 2000-01-01 06:00" and "hours since
// 2000-01-01 -06:00") are not Equal; Recode converts between them.
func (u Units) Equal(v Units) bool {
	return u == v
}

// String formats u in a canonical form ParseUnits reads back:
// "days since 1981-09-01 00:00:00", with " -06:00" appended when Offset is
// not zero.
func (u Units) String() string {
	s := u.Unit.String() + " since " + u.Epoch.full()
	if u.Offset != 0 {
		off := u.Offset
		sign := "+"
		if off < 0 {
			sign, off = "-", -off
		}
		s += fmt.Sprintf(" %s%02d:%02d", sign, int(off/time.Hour), int(off%time.Hour/time.Minute))
	}
	return s
}

// ParseUnits parses CF time units such as "days since 1978-01-01",
// "hours since 1900-01-01 00:00:0.0", "seconds since 1970-01-01T00:00:00Z"
// or "minutes since 2000-1-1 12:00:00 -06:00". Unit names follow udunits
// ("days", "day", "d", "hours", "hrs", "h", "sec", "s", "msec", ...) and,
// like "since", are matched ignoring case. The reference date is year-month-
// day (one or more digits each, an optional leading "-" on the year), then
// optionally a time of day ("12", "12:30", "12:30:00", "12:30:00.25") after
// a space or "T", then optionally a zone: "Z", "UTC", "GMT", or an offset
// "+05:30", "-06", "-0600". Whether the date exists (February 29, year 0,
// the 1582 Gregorian gap) depends on the calendar and is checked by the
// functions that take one.
func ParseUnits(s string) (Units, error) {
	fields := strings.Fields(s)
	since := -1
	for i, f := range fields {
		if strings.EqualFold(f, "since") {
			since = i
			break
		}
	}
	if since != 1 || len(fields) < 3 {
		return Units{}, fmt.Errorf("cftime: units %q: want \"<unit> since <date>\"", s)
	}
	name := strings.ToLower(fields[0])
	unit, ok := unitNames[name]
	if !ok {
		if ambiguousUnits[name] {
			return Units{}, fmt.Errorf("cftime: units %q: %q since is ambiguous (months and years have no fixed length); use days or a shorter unit", s, fields[0])
		}
		return Units{}, fmt.Errorf("cftime: units %q: unknown time unit %q (want days, hours, minutes, seconds, milliseconds, microseconds or nanoseconds)", s, fields[0])
	}
	epoch, offset, err := parseDate(strings.Join(fields[2:], " "))
	if err != nil {
		return Units{}, fmt.Errorf("cftime: units %q: reference date: %w", s, err)
	}
	return Units{Unit: unit, Epoch: epoch, Offset: offset}, nil
}

// dateScanner reads a reference date from left to right.
type dateScanner struct {
	s   string
	pos int
}

func (p *dateScanner) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// accept consumes c if it is next.
func (p *dateScanner) accept(c byte) bool {
	if p.peek() == c {
		p.pos++
		return true
	}
	return false
}

// number reads 1..maxDigits decimal digits.
func (p *dateScanner) number(what string, maxDigits int) (int, error) {
	start := p.pos
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	digits := p.s[start:p.pos]
	if digits == "" {
		return 0, fmt.Errorf("want digits of the %s at %q", what, p.s[start:])
	}
	if len(digits) > maxDigits {
		return 0, fmt.Errorf("%s %q has more than %d digits", what, digits, maxDigits)
	}
	n, err := strconv.Atoi(digits)
	if err != nil {
		return 0, fmt.Errorf("%s %q: %w", what, digits, err)
	}
	return n, nil
}

func (p *dateScanner) skipSpace() {
	for p.accept(' ') {
	}
}

// parseDate parses a reference date (see ParseUnits) into the local date
// and its zone's offset east of UTC.
func parseDate(s string) (Date, time.Duration, error) {
	p := &dateScanner{s: strings.TrimSpace(s)}
	var d Date
	var err error
	neg := p.accept('-')
	if !neg {
		p.accept('+')
	}
	if d.Year, err = p.number("year", 9); err != nil {
		return Date{}, 0, err
	}
	if neg {
		d.Year = -d.Year
	}
	if !p.accept('-') {
		return Date{}, 0, fmt.Errorf("%q: want year-month-day", s)
	}
	if d.Month, err = p.number("month", 2); err != nil {
		return Date{}, 0, err
	}
	if !p.accept('-') {
		return Date{}, 0, fmt.Errorf("%q: want year-month-day", s)
	}
	if d.Day, err = p.number("day", 2); err != nil {
		return Date{}, 0, err
	}
	if d.Month < 1 || d.Month > 12 {
		return Date{}, 0, fmt.Errorf("%q: month %d out of range 1..12", s, d.Month)
	}
	if d.Day < 1 || d.Day > 31 {
		return Date{}, 0, fmt.Errorf("%q: day %d out of range 1..31", s, d.Day)
	}
	hasT := p.accept('T')
	if !hasT {
		p.skipSpace()
	}
	if c := p.peek(); hasT || (c >= '0' && c <= '9') {
		if err := p.timeOfDay(&d); err != nil {
			return Date{}, 0, fmt.Errorf("%q: %w", s, err)
		}
		p.skipSpace()
	}
	offset, err := p.zone()
	if err != nil {
		return Date{}, 0, fmt.Errorf("%q: %w", s, err)
	}
	p.skipSpace()
	if p.pos != len(p.s) {
		return Date{}, 0, fmt.Errorf("%q: unexpected %q", s, p.s[p.pos:])
	}
	return d, offset, nil
}

// timeOfDay reads "hh[:mm[:ss[.fff]]]".
func (p *dateScanner) timeOfDay(d *Date) error {
	var err error
	if d.Hour, err = p.number("hour", 2); err != nil {
		return err
	}
	if p.accept(':') {
		if d.Minute, err = p.number("minute", 2); err != nil {
			return err
		}
		if p.accept(':') {
			if d.Second, err = p.number("second", 2); err != nil {
				return err
			}
			if p.accept('.') {
				if d.Nanosecond, err = p.fraction(); err != nil {
					return err
				}
			}
		}
	}
	switch {
	case d.Hour > 23:
		return fmt.Errorf("hour %d out of range 0..23", d.Hour)
	case d.Minute > 59:
		return fmt.Errorf("minute %d out of range 0..59", d.Minute)
	case d.Second > 59:
		return fmt.Errorf("second %d out of range 0..59", d.Second)
	}
	return nil
}

// fraction reads the digits after a decimal point as nanoseconds; digits
// beyond the ninth are dropped.
func (p *dateScanner) fraction() (int, error) {
	ns, scale, n := 0, 100_000_000, 0
	for c := p.peek(); c >= '0' && c <= '9'; c = p.peek() {
		ns += int(c-'0') * scale
		scale /= 10
		p.pos++
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("want digits after the decimal point")
	}
	return ns, nil
}

// zone reads an optional time zone: "Z", "UTC", "GMT" or "±hh[[:]mm]".
func (p *dateScanner) zone() (time.Duration, error) {
	rest := p.s[p.pos:]
	for _, name := range []string{"UTC", "GMT", "Z"} {
		if len(rest) >= len(name) && strings.EqualFold(rest[:len(name)], name) {
			p.pos += len(name)
			return 0, nil
		}
	}
	sign := time.Duration(1)
	switch {
	case p.accept('+'):
	case p.accept('-'):
		sign = -1
	default:
		return 0, nil
	}
	start := p.pos
	h, err := p.number("zone offset", 4)
	if err != nil {
		return 0, err
	}
	m := 0
	switch digits := p.pos - start; {
	case digits == 4:
		h, m = h/100, h%100
	case digits == 3:
		return 0, fmt.Errorf("zone offset %q: want hh, hh:mm or hhmm", p.s[start:p.pos])
	case p.accept(':'):
		if m, err = p.number("zone offset minutes", 2); err != nil {
			return 0, err
		}
	}
	if h > 23 || m > 59 {
		return 0, fmt.Errorf("zone offset %+03d:%02d out of range", h, m)
	}
	return sign * (time.Duration(h)*time.Hour + time.Duration(m)*time.Minute), nil
}
