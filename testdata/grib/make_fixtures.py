#!/usr/bin/python3
"""Writes GRIB2 fixtures with ecCodes (Debian's python3-eccodes), from its
own samples, and what ecCodes decodes of them, for zarrforge's grib tests:

  make_fixtures.py DIR

DIR/<name>.grib2 for every packing ecCodes writes (simple, CCSDS, PNG, and
simple with a bitmap), a 36 x 19 regular lat-lon field of a temperature-
like wave (and one on ecCodes' regular Gaussian grid of N = 32), and
DIR/<name>.json: ecCodes' values (NaN as null), latitudes,
longitudes and keys."""
import json
import os
import sys

import eccodes
import numpy as np

SAMPLE = "/usr/share/eccodes/samples/regular_ll_sfc_grib2.tmpl"
GAUSSIAN = "/usr/share/eccodes/samples/regular_gg_sfc_grib2.tmpl"  # N = 32: 128 x 64
CASES = {
    "simple": ("grid_simple", False, 16),
    "simple_12bits": ("grid_simple", False, 12),
    "simple_bitmap": ("grid_simple", True, 16),
    "ccsds": ("grid_ccsds", False, 16),
    "ccsds_24bits": ("grid_ccsds", False, 24),
    "ccsds_bitmap": ("grid_ccsds", True, 10),
    "png": ("grid_png", False, 16),
    "constant": ("grid_simple", False, 0),
    "gaussian": ("grid_simple", False, 16),
}
KEYS = ["discipline", "parameterCategory", "parameterNumber", "typeOfFirstFixedSurface", "level", "forecastTime",
        "dataDate", "dataTime", "Ni", "Nj", "bitsPerValue", "dataRepresentationTemplateNumber", "shortName"]


def make(path, packing, bitmap, nbits, gaussian=False):
    with open(GAUSSIAN if gaussian else SAMPLE, "rb") as f:
        h = eccodes.codes_grib_new_from_file(f)
    if not gaussian:
        for k, v in [("Ni", 36), ("Nj", 19), ("latitudeOfFirstGridPointInDegrees", 90), ("latitudeOfLastGridPointInDegrees", -90),
                     ("longitudeOfFirstGridPointInDegrees", 0), ("longitudeOfLastGridPointInDegrees", 350),
                     ("iDirectionIncrementInDegrees", 10), ("jDirectionIncrementInDegrees", 10)]:
            eccodes.codes_set(h, k, v)
    ni, nj = eccodes.codes_get(h, "Ni"), eccodes.codes_get(h, "Nj")
    vals = 273 + 20 * np.cos(np.radians(np.linspace(-90, 90, nj)))[:, None] * np.ones(ni)
    vals = vals.ravel() + np.arange(ni * nj) * 0.001
    n = ni * nj
    if nbits == 0:
        vals = np.full(n, 280.5)
    if bitmap:
        eccodes.codes_set(h, "bitmapPresent", 1)
        eccodes.codes_set(h, "missingValue", 9999)
        vals[::7] = 9999
    eccodes.codes_set(h, "bitsPerValue", max(nbits, 1))
    eccodes.codes_set_values(h, vals)
    eccodes.codes_set(h, "packingType", packing)
    if nbits:
        eccodes.codes_set(h, "bitsPerValue", nbits)
        eccodes.codes_set_values(h, vals)
    with open(path, "wb") as f:
        eccodes.codes_write(h, f)
    eccodes.codes_release(h)


def decode(path):
    with open(path, "rb") as f:
        h = eccodes.codes_grib_new_from_file(f)
    vals = eccodes.codes_get_values(h)
    missing = eccodes.codes_get(h, "missingValue")
    out = {
        "values": [None if v == missing and eccodes.codes_get(h, "bitmapPresent") else float(v) for v in vals],
        "lats": [float(v) for v in eccodes.codes_get_array(h, "distinctLatitudes")],
        "lons": [float(v) for v in eccodes.codes_get_array(h, "distinctLongitudes")],
        "keys": {k: eccodes.codes_get(h, k, ktype=str if k == "shortName" else int) for k in KEYS},
    }
    eccodes.codes_release(h)
    return out


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, (packing, bitmap, nbits) in CASES.items():
        path = os.path.join(out, name + ".grib2")
        make(path, packing, bitmap, nbits, gaussian=name == "gaussian")
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(decode(path), f)


if __name__ == "__main__":
    main()
