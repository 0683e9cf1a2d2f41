package cftime

import (
	"fmt"
	"strings"
)

// Calendar is a CF-conventions calendar: the rule that maps dates to days.
// The zero value is Standard.
type Calendar int

// The CF calendars. Aliases ("gregorian", "365_day", "366_day") parse to the
// same values.
const (
	// Standard is the mixed Julian/Gregorian calendar: Julian up to
	// 1582-10-04, Gregorian from 1582-10-15; the ten days between do not
	// exist. It has no year 0 (year -1 precedes year 1).
	Standard Calendar = iota
	// ProlepticGregorian extends the Gregorian calendar backwards. Like
	// ISO 8601 it has a year 0, which is a leap year.
	ProlepticGregorian
	// Julian is the Julian calendar: every fourth year is a leap year. It
	// has no year 0.
	Julian
	// NoLeap has 365 days in every year ("noleap", "365_day"). Year 0 exists.
	NoLeap
	// AllLeap has 366 days in every year ("all_leap", "366_day"). Year 0
	// exists.
	AllLeap
	// Day360 has twelve 30-day months ("360_day"). Year 0 exists.
	Day360
)

var calendarNames = map[string]Calendar{
	"standard":            Standard,
	"gregorian":           Standard,
	"proleptic_gregorian": ProlepticGregorian,
	"julian":              Julian,
	"noleap":              NoLeap,
	"365_day":             NoLeap,
	"all_leap":            AllLeap,
	"366_day":             AllLeap,
	"360_day":             Day360,
}

// ParseCalendar parses a CF calendar attribute, ignoring case and
// surrounding space. The empty string is Standard, the CF default.
func ParseCalendar(s string) (Calendar, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if name == "" {
		return Standard, nil
	}
	if c, ok := calendarNames[name]; ok {
		return c, nil
	}
	return 0, fmt.Errorf("cftime: unknown calendar %q (want standard, gregorian, proleptic_gregorian, julian, noleap, 365_day, all_leap, 366_day or 360_day)", s)
}

// String returns the calendar's canonical CF name.
func (c Calendar) String() string {
	switch c {
	case Standard:
		return "standard"
	case ProlepticGregorian:
		return "proleptic_gregorian"
	case Julian:
		return "julian"
	case NoLeap:
		return "noleap"
	case AllLeap:
		return "all_leap"
	case Day360:
		return "360_day"
	}
	return fmt.Sprintf("Calendar(%d)", int(c))
}

// hasYearZero reports whether year 0 exists in c (following cftime's
// defaults: not in the Julian and mixed calendars, which number years as
// historians do).
func (c Calendar) hasYearZero() bool {
	return c != Standard && c != Julian
}

// valid reports an error for a calendar value outside the constants.
func (c Calendar) valid() error {
	if c < Standard || c > Day360 {
		return fmt.Errorf("cftime: invalid calendar %d", int(c))
	}
	return nil
}

// maxYear bounds the years this package handles so that day numbers and
// their arithmetic stay far from int64 overflow.
const maxYear = 100_000_000

// Cumulative days before each month in 365- and 366-day years.
var (
	cumNoLeap = [13]int64{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365}
	cumLeap   = [13]int64{0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366}
)

// astronomical converts a calendar year to astronomical numbering (year 0 is
// 1 BC) and checks it exists in c.
func (c Calendar) astronomical(year int) (int64, error) {
	if year > maxYear || year < -maxYear {
		return 0, fmt.Errorf("year %d out of range (|year| <= %d)", year, maxYear)
	}
	y := int64(year)
	if !c.hasYearZero() {
		if y == 0 {
			return 0, fmt.Errorf("year 0 does not exist in the %s calendar", c)
		}
		if y < 0 {
			y++
		}
	}
	return y, nil
}

// calendarYear converts an astronomical year back to c's numbering.
func (c Calendar) calendarYear(y int64) int {
	if !c.hasYearZero() && y <= 0 {
		y--
	}
	return int(y)
}

// daysInMonth returns the length of month m (1..12) of astronomical year y.
func (c Calendar) daysInMonth(y int64, m int) int {
	switch c {
	case Day360:
		return 30
	case NoLeap:
		return int(cumNoLeap[m] - cumNoLeap[m-1])
	case AllLeap:
		return int(cumLeap[m] - cumLeap[m-1])
	}
	leap := y%4 == 0
	if c == ProlepticGregorian || (c == Standard && y >= 1582) {
		leap = leap && (y%100 != 0 || y%400 == 0)
	}
	if leap {
		return int(cumLeap[m] - cumLeap[m-1])
	}
	return int(cumNoLeap[m] - cumNoLeap[m-1])
}

// dayNumber returns the day number of date (y, m, d) in c, where y is
// astronomical. Day numbers count days on a scale fixed per calendar (for
// the real-world calendars, 0 is Gregorian 1970-01-01); only differences
// are meaningful. It checks the date exists in c.
func (c Calendar) dayNumber(y int64, m, d int) (int64, error) {
	if m < 1 || m > 12 {
		return 0, fmt.Errorf("month %d out of range 1..12", m)
	}
	if n := c.daysInMonth(y, m); d < 1 || d > n {
		return 0, fmt.Errorf("day %d out of range 1..%d for month %d of year %d in the %s calendar", d, n, m, c.calendarYear(y), c)
	}
	switch c {
	case Day360:
		return y*360 + int64(m-1)*30 + int64(d-1), nil
	case NoLeap:
		return y*365 + cumNoLeap[m-1] + int64(d-1), nil
	case AllLeap:
		return y*366 + cumLeap[m-1] + int64(d-1), nil
	case ProlepticGregorian:
		return gregorianDays(y, m, d), nil
	case Julian:
		return julianDays(y, m, d), nil
	}
	// Standard.
	switch {
	case y > 1582 || (y == 1582 && (m > 10 || (m == 10 && d >= 15))):
		return gregorianDays(y, m, d), nil
	case y < 1582 || (y == 1582 && (m < 10 || d <= 4)):
		return julianDays(y, m, d), nil
	}
	return 0, fmt.Errorf("1582-10-%02d does not exist in the standard calendar (the Gregorian reform skipped 1582-10-05 to 1582-10-14)", d)
}

// date is the inverse of dayNumber: the astronomical year, month and day of
// day number n in c.
func (c Calendar) date(n int64) (y int64, m, d int) {
	switch c {
	case Day360:
		y = floorDiv(n, 360)
		doy := n - y*360
		return y, int(doy/30) + 1, int(doy%30) + 1
	case NoLeap:
		y = floorDiv(n, 365)
		m, d = monthDay(&cumNoLeap, n-y*365)
		return y, m, d
	case AllLeap:
		y = floorDiv(n, 366)
		m, d = monthDay(&cumLeap, n-y*366)
		return y, m, d
	case ProlepticGregorian:
		return gregorianDate(n)
	case Julian:
		return julianDate(n)
	}
	if n >= gregorianReform {
		return gregorianDate(n)
	}
	return julianDate(n)
}

// monthDay finds the month and day of day-of-year doy (0-based).
func monthDay(cum *[13]int64, doy int64) (int, int) {
	m := 1
	for m < 12 && doy >= cum[m] {
		m++
	}
	return m, int(doy-cum[m-1]) + 1
}

// The Gregorian and Julian day counts below work on years that start in
// March, so that the leap day is the last day of the year; mp is the month
// counted from March (March = 0, February = 11) and (153*mp+2)/5 is the
// number of days from March 1 to the first day of month mp.

// gregorianDays returns the days from 1970-01-01 to Gregorian date (y, m, d).
func gregorianDays(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400 // year of the 400-year era, 0..399
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d-1)
	doe := yoe*365 + yoe/4 - yoe/100 + doy // day of the era, 0..146096
	return era*146097 + doe - 719468       // 719468 days from 0000-03-01 to 1970-01-01
}

// gregorianDate is the inverse of gregorianDays.
func gregorianDate(n int64) (int64, int, int) {
	n += 719468
	era := floorDiv(n, 146097)
	doe := n - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (yoe*365 + yoe/4 - yoe/100)
	return fromMarchYear(yoe+era*400, doy)
}

// julianDays returns the day number of Julian date (y, m, d) on the same
// scale as gregorianDays.
func julianDays(y int64, m, d int) int64 {
	return julianRaw(y, m, d) + julianShift
}

// julianRaw counts Julian days from Julian 0000-03-01.
func julianRaw(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	cycle := floorDiv(y, 4)
	yoc := y - cycle*4 // year of the 4-year cycle; year 3 ends with a leap day
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d-1)
	return cycle*1461 + yoc*365 + doy
}

// julianDate is the inverse of julianDays.
func julianDate(n int64) (int64, int, int) {
	n -= julianShift
	cycle := floorDiv(n, 1461)
	doc := n - cycle*1461
	yoc := (doc - doc/1460) / 365
	return fromMarchYear(yoc+cycle*4, doc-yoc*365)
}

// fromMarchYear turns a March-based year and its 0-based day into a
// calendar year, month and day.
func fromMarchYear(y, doy int64) (int64, int, int) {
	mp := (5*doy + 2) / 153
	d := int(doy-(153*mp+2)/5) + 1
	m := int(mp) + 3
	if m > 12 {
		m -= 12
		y++
	}
	return y, m, d
}

var (
	// julianShift aligns the Julian count with the Gregorian one: Julian
	// 1582-10-05 is Gregorian 1582-10-15.
	julianShift = gregorianDays(1582, 10, 15) - julianRaw(1582, 10, 5)
	// gregorianReform is the day number of 1582-10-15, the first day of
	// the Gregorian part of the standard calendar.
	gregorianReform = gregorianDays(1582, 10, 15)
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
