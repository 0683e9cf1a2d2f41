#!/usr/bin/python3
"""Generate golden.json, the expected values of cftime's Go tests, with the
python cftime library (Debian python3-cftime / python3-netcdf4).

Run from this directory:  /usr/bin/python3 gen.py > golden.json

"recode" cases hold date2num(num2date(values, from), to) per calendar, or
"error": true when cftime rejects a reference date in that calendar.
"dates" cases hold num2date(value, units) as [y, m, d, h, mi, s, us].
"""
import json
import warnings

import cftime

warnings.simplefilter("ignore")  # CFWarning about years before 1 in real-world calendars

CALENDARS = ["standard", "proleptic_gregorian", "julian", "noleap", "all_leap", "360_day"]

RECODE = [
    ("days since 2000-01-02", "days since 2000-01-01", [0, 1, -1, 365, 366, 0.5, -0.25, 100000, 1 / 3]),
    ("hours since 1981-09-02", "days since 1981-09-01", [0, 24, 36, -48, 1.5, 0.1, 8760]),
    ("days since 0001-01-01", "days since 1970-01-01", [0, 719162, 730000, 1000000.1, -1]),
    ("days since 1970-01-01", "days since 0001-01-01 00:00:00", [0, 1, -719162, 12345.75]),
    ("seconds since 1970-01-01 00:00:00", "hours since 1900-01-01", [0, 3600, 1e9, -1e9, 0.001, 1800]),
    ("minutes since 1582-10-01", "days since 1582-10-20", [0, 1440 * 4, 1440 * 3.5, 1440 * 30, -1440 * 400]),
    ("days since 1600-02-28", "days since 1600-03-01", [0, 1, 2, 365, -366]),
    ("days since 1700-02-28", "hours since 1700-03-01", [0, 1, 2, 3, 1461]),
    ("milliseconds since 2000-02-29 12:00:00", "days since 2000-01-01", [0, 86400000, -43200000, 1.5]),
    ("hours since 2000-01-01 00:00:00 -06:00", "hours since 2000-01-01", [0, 1, -6]),
    ("hours since 2000-01-01 00:00:00 +05:30", "minutes since 2000-01-01", [0, 1, 5.5]),
    ("days since 1900-01-01 00:00:0.0", "days since 1978-1-1", [0, 28124, 28125.5]),
    ("microseconds since 2000-01-01T12:00:00Z", "seconds since 2000-01-01 UTC", [0, 1, 1500000, -43200000000]),
    ("days since -0100-01-01", "days since 0001-01-01", [0, 36524, 36525, 36890, -1]),
    ("days since 0000-01-01", "days since 0001-01-01", [0, 365, 366]),
    ("days since 2001-02-30", "days since 2001-01-01", [0, 1, 30]),
    ("hours since 1-1-1 0:0:0", "days since 1-1-1", [0, 12, 24, 8784]),
    ("hrs since 1990-6-15 6:00", "min since 1990-06-15", [0, 0.25, -6]),
    ("secs since 1999-12-31 23:59:59", "d since 2000-01-01", [1, 86401]),
]

DATES = [
    ("days since 2000-02-28", [0, 1, 2, 365, 366, -365, 0.5, -0.125, 1461]),
    ("days since 1582-10-01", [0, 3, 4, 5, 14, 15, 20, -1]),
    ("days since 0001-01-01", [-1, -366, -367, -1000, 730000, 0.75]),
    ("hours since 1900-02-28 12:00:00", [12, 36, -12, 8760]),
    ("days since 1700-02-28", [1, 2, 365, 36524]),
    ("minutes since 1970-01-01", [-1, 1.5, 525600, -525600]),
    ("days since 0100-03-01", [-1, -365, -1000]),
    ("seconds since 1981-09-01 00:00:00 -06:00", [0, 3600.25, -21600]),
    ("days since 1-1-1", [-1, -366, -367]),
]


def components(d):
    return [d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond]


def recode_cases():
    out = []
    for frm, to, values in RECODE:
        for cal in CALENDARS:
            case = {"from": frm, "to": to, "calendar": cal, "values": values}
            try:
                dates = cftime.num2date(values, frm, cal)
                case["want"] = [float(x) for x in cftime.date2num(dates, to, cal)]
            except ValueError:
                case["error"] = True
            out.append(case)
    return out


def date_cases():
    out = []
    for units, values in DATES:
        for cal in CALENDARS:
            for v in values:
                case = {"units": units, "calendar": cal, "value": v}
                try:
                    case["want"] = components(cftime.num2date(v, units, cal))
                except ValueError:
                    case["error"] = True
                out.append(case)
    return out


print(json.dumps({"cftime_version": cftime.__version__,
                  "recode": recode_cases(), "dates": date_cases()}, indent=1))
