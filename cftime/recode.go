package cftime

import (
	"fmt"
	"math"
	"math/big"
	"time"
)

const nsPerDay = int64(24 * time.Hour)

// maxDays bounds the day numbers Units.Date produces (about ±750 million
// years), so that date arithmetic cannot overflow.
const maxDays = int64(1) << 38

// epochNanos returns u's reference instant, in UTC, as nanoseconds on the
// day-number scale of cal. It checks the reference date exists in cal.
func (u Units) epochNanos(cal Calendar) (*big.Int, error) {
	if err := cal.valid(); err != nil {
		return nil, err
	}
	if u.Unit.Duration() == 0 {
		return nil, fmt.Errorf("cftime: units %s: invalid unit %d", u, int(u.Unit))
	}
	ns, err := dateNanos(u.Epoch, cal)
	if err != nil {
		return nil, fmt.Errorf("cftime: units %q, calendar %s: reference date: %w", u.String(), cal, err)
	}
	return ns.Sub(ns, big.NewInt(int64(u.Offset))), nil
}

// dateNanos returns d as nanoseconds on the day-number scale of cal.
func dateNanos(d Date, cal Calendar) (*big.Int, error) {
	y, err := cal.astronomical(d.Year)
	if err != nil {
		return nil, err
	}
	day, err := cal.dayNumber(y, d.Month, d.Day)
	if err != nil {
		return nil, err
	}
	switch {
	case d.Hour < 0 || d.Hour > 23:
		return nil, fmt.Errorf("hour %d out of range 0..23", d.Hour)
	case d.Minute < 0 || d.Minute > 59:
		return nil, fmt.Errorf("minute %d out of range 0..59", d.Minute)
	case d.Second < 0 || d.Second > 59:
		return nil, fmt.Errorf("second %d out of range 0..59", d.Second)
	case d.Nanosecond < 0 || d.Nanosecond > 999_999_999:
		return nil, fmt.Errorf("nanosecond %d out of range 0..999999999", d.Nanosecond)
	}
	tod := int64(d.Hour)*int64(time.Hour) + int64(d.Minute)*int64(time.Minute) +
		int64(d.Second)*int64(time.Second) + int64(d.Nanosecond)
	ns := new(big.Int).Mul(big.NewInt(day), big.NewInt(nsPerDay))
	return ns.Add(ns, big.NewInt(tod)), nil
}

// Recode re-expresses values, offsets in units from, as offsets in units to,
// in calendar cal: each result names the same instant as its input. The
// arithmetic is exact, so every result is the float64 nearest the true
// offset; in particular integral inputs give exact results whenever those
// are representable ("days since 2000-01-02" 0 is "days since 2000-01-01"
// 1). NaN and infinite values are passed through unchanged. It fails if a
// reference date does not exist in cal or a result overflows float64.
func Recode(values []float64, from, to Units, cal Calendar) ([]float64, error) {
	fromEpoch, err := from.epochNanos(cal)
	if err != nil {
		return nil, err
	}
	toEpoch, err := to.epochNanos(cal)
	if err != nil {
		return nil, err
	}
	c := recoder{
		fromNs: int64(from.Unit.Duration()),
		toNs:   int64(to.Unit.Duration()),
		diff:   new(big.Int).Sub(fromEpoch, toEpoch),
	}
	out := make([]float64, len(values))
	for i, v := range values {
		r, ok := c.recode(v)
		if !ok {
			return nil, fmt.Errorf("cftime: value %v in %s is out of range in %s", v, from, to)
		}
		out[i] = r
	}
	return out, nil
}

// recoder computes (v×fromNs + diff) / toNs.
type recoder struct {
	fromNs, toNs int64
	diff         *big.Int
}

// maxExactInt is the largest integer below which every integer is a float64.
const maxExactInt = 1 << 53

// recode converts one value; ok is false if the result overflows.
func (c recoder) recode(v float64) (float64, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v, true
	}
	// Fast path: integral values whose arithmetic fits int64.
	if v == math.Trunc(v) && math.Abs(v) <= maxExactInt && c.diff.IsInt64() {
		n, d := int64(v), c.diff.Int64()
		limit := int64(math.MaxInt64 / 2)
		if d > -limit && d < limit && n > -limit/c.fromNs && n < limit/c.fromNs {
			num := n*c.fromNs + d
			if num%c.toNs == 0 {
				return float64(num / c.toNs), true
			}
			f, _ := new(big.Rat).SetFrac64(num, c.toNs).Float64()
			return f, true
		}
	}
	r := new(big.Rat).SetFloat64(v)
	r.Mul(r, new(big.Rat).SetInt64(c.fromNs))
	r.Add(r, new(big.Rat).SetInt(c.diff))
	r.Quo(r, new(big.Rat).SetInt64(c.toNs))
	f, _ := r.Float64()
	return f, !math.IsInf(f, 0)
}

// Date returns the calendar date that offset v in units u names, in UTC,
// rounded to the nearest nanosecond. It fails for NaN, infinities, dates
// beyond about 750 million years, and reference dates that do not exist in
// cal.
func (u Units) Date(v float64, cal Calendar) (Date, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Date{}, fmt.Errorf("cftime: value %v in %s is not a date", v, u)
	}
	epoch, err := u.epochNanos(cal)
	if err != nil {
		return Date{}, err
	}
	r := new(big.Rat).SetFloat64(v)
	r.Mul(r, new(big.Rat).SetInt64(int64(u.Unit.Duration())))
	ns := roundRat(r)
	ns.Add(ns, epoch)
	day, tod := new(big.Int).DivMod(ns, big.NewInt(nsPerDay), new(big.Int))
	if !day.IsInt64() || day.Int64() < -maxDays || day.Int64() > maxDays {
		return Date{}, fmt.Errorf("cftime: value %v in %s is out of range", v, u)
	}
	y, m, d := cal.date(day.Int64())
	t := tod.Int64()
	return Date{
		Year: cal.calendarYear(y), Month: m, Day: d,
		Hour:       int(t / int64(time.Hour)),
		Minute:     int(t % int64(time.Hour) / int64(time.Minute)),
		Second:     int(t % int64(time.Minute) / int64(time.Second)),
		Nanosecond: int(t % int64(time.Second)),
	}, nil
}

// Value returns the offset in units u of date d (in UTC) in calendar cal:
// the inverse of Date. It fails if d or the reference date does not exist
// in cal.
func (u Units) Value(d Date, cal Calendar) (float64, error) {
	epoch, err := u.epochNanos(cal)
	if err != nil {
		return 0, err
	}
	ns, err := dateNanos(d, cal)
	if err != nil {
		return 0, fmt.Errorf("cftime: date %s in the %s calendar: %w", d, cal, err)
	}
	ns.Sub(ns, epoch)
	f, _ := new(big.Rat).SetFrac(ns, big.NewInt(int64(u.Unit.Duration()))).Float64()
	return f, nil
}

// roundRat rounds r to the nearest integer, halves away from zero.
func roundRat(r *big.Rat) *big.Int {
	num := new(big.Int).Abs(r.Num())
	q, rem := new(big.Int).QuoRem(num, r.Denom(), new(big.Int))
	if rem.Lsh(rem, 1).Cmp(r.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if r.Sign() < 0 {
		q.Neg(q)
	}
	return q
}
