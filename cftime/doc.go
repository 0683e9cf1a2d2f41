// Package cftime reads CF-conventions time coordinates — values that are
// offsets in "<unit> since <reference date>" units, interpreted in one of
// the CF calendars — and converts them exactly.
//
// The calendars are standard (alias gregorian: Julian before 1582-10-15,
// Gregorian from then), proleptic_gregorian, julian, noleap (365_day),
// all_leap (366_day) and 360_day. Units run from nanoseconds to days;
// "months since" and "years since" are rejected as ambiguous. Years are
// numbered as the python cftime library numbers them by default: the
// standard and julian calendars have no year 0, the others do.
//
// Conversions never go through float64 time arithmetic: reference dates are
// turned into integer day numbers and nanoseconds, and values are combined
// with them as exact rationals, so large epochs such as "days since
// 0001-01-01" lose no precision.
package cftime
