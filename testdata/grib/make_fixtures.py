#!/usr/bin/python3
"""Writes GRIB2 fixtures with ecCodes (Debian's python3-eccodes), from its
own samples, and what ecCodes decodes of them, for zarrforge's grib tests:

  make_fixtures.py DIR

DIR/<name>.grib2 for every packing ecCodes writes (simple, complex, complex with
spatial differencing, CCSDS, PNG; with and without a bitmap), a 36 x 19 regular lat-lon field of a temperature-
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
    "complex": ("grid_complex", False, 16),
    "complex_bitmap": ("grid_complex", True, 12),
    "complex_sd": ("grid_complex_spatial_differencing", True, 20),
    "complex_sd_gaussian": ("grid_complex_spatial_differencing", False, 24),
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


# Fields ecCodes 2.28 cannot write: it packs template 5.3 with no
# differencing (order 0) and never uses the missing value management, so
# these are packed here (as WMO's regulations for templates 5.2/5.3 and
# 7.2/7.3 say) and decoded by ecCodes: name -> (template, order of spatial
# differencing, missing value management).
HAND_PACKED = {
    "hand_sd1": (3, 1, 0),
    "hand_sd2": (3, 2, 0),
    "hand_sd2_missing2": (3, 2, 2),
    "hand_complex_missing1": (2, 0, 1),
}


def bitlen(v):
    return int(v).bit_length()


class Bits:
    def __init__(self):
        self.bits = []

    def put(self, v, n):
        self.bits += [(int(v) >> (n - 1 - i)) & 1 for i in range(n)]

    def align(self):
        self.bits += [0] * (-len(self.bits) % 8)

    def bytes(self):
        self.align()
        return np.packbits(np.array(self.bits, dtype=np.uint8)).tobytes()


def signmag(v, octets):
    return (int(v < 0) << (octets * 8 - 1)) | abs(int(v))


def hand_pack(template, order, mgmt, ints, missing):
    """Sections 5, 6 and 7 of ints (non-negative integers, R = 0, E = 0,
    D = 2) in groups of 8 and 11 values, missing[i] coded by mgmt."""
    n = len(ints)
    present = [i for i in range(n) if not missing[i]]
    packed = [0] * n
    first, minsd = [], 0
    if order:
        xs = [ints[i] for i in present]
        first = xs[:order]
        d = [xs[k] - xs[k - 1] if order == 1 else xs[k] - 2 * xs[k - 1] + xs[k - 2] for k in range(order, len(xs))]
        minsd = min(d)
        for k, i in enumerate(present):
            packed[i] = 0 if k < order else d[k - order] - minsd
    else:
        for i in present:
            packed[i] = ints[i]
    groups, at, long = [], 0, False
    while at < n:
        ln = min(11 if long else 8, n - at)
        groups.append((at, ln))
        at, long = at + ln, not long
    refs, widths, codes = [], [], []
    for at, ln in groups:
        vals = [packed[i] for i in range(at, at + ln) if not missing[i]]
        if not vals:
            refs.append(None)
            widths.append(0)
            continue
        ref = min(vals)
        width = bitlen(max(vals) - ref + mgmt)  # all ones (and all ones but one) mean missing in any group
        refs.append(ref)
        widths.append(width)
    refbits = bitlen(max(r for r in refs if r is not None) + 2)
    b = Bits()
    ospd = 4
    for v in first + ([minsd] if order else []):
        b.put(signmag(v, ospd), ospd * 8)
    for r in refs:
        b.put((1 << refbits) - 1 if r is None else r, refbits)
    b.align()
    wbits = bitlen(max(widths))
    for w in widths:
        b.put(w, wbits)
    b.align()
    lbits = 1
    for k, (_, ln) in enumerate(groups):
        b.put(0 if ln == 8 else 1, lbits)
    b.align()
    for (at, ln), r, w in zip(groups, refs, widths):
        for i in range(at, at + ln):
            if missing[i]:
                code = (1 << w) - 1 - (i % 2 if mgmt == 2 else 0)  # primary, and secondary every other one
            else:
                code = packed[i] - r
            b.put(code, w)
    sec7 = b.bytes()
    head = bytearray(49 if template == 3 else 47)
    head[5:9] = n.to_bytes(4, "big")
    head[9:11] = template.to_bytes(2, "big")
    head[11:15] = np.float32(0).astype(">f4").tobytes()
    head[17:19] = (2).to_bytes(2, "big")
    head[19] = refbits
    head[21] = 1
    head[22] = mgmt
    head[23:27] = np.float32(9999).astype(">f4").tobytes()
    head[27:31] = np.float32(9998).astype(">f4").tobytes()
    head[31:35] = len(groups).to_bytes(4, "big")
    head[35], head[36] = 0, wbits
    head[37:41] = (8).to_bytes(4, "big")
    head[41] = 3
    head[42:46] = groups[-1][1].to_bytes(4, "big")
    head[46] = lbits
    if template == 3:
        head[47], head[48] = order, ospd
    sections = [bytes(head), bytes([0, 0, 0, 6, 6, 255]), (len(sec7) + 5).to_bytes(4, "big") + b"\x07" + sec7]
    sections[0] = len(head).to_bytes(4, "big") + b"\x05" + bytes(head[5:])
    return sections


def make_hand(path, template, order, mgmt):
    """A copy of the simple fixture with sections 5 to 7 packed by hand."""
    make(path, "grid_simple", False, 16)
    with open(path, "rb") as f:
        msg = f.read()
    at, keep = 16, b""
    while msg[at:at + 4] != b"7777":
        ln, num = int.from_bytes(msg[at:at + 4], "big"), msg[at + 4]
        if num < 5:
            keep += msg[at:at + ln]
        at += ln
    n = 36 * 19
    ints = [int(27300 + 2000 * np.cos(i / 40.0) + (i * 37) % 11) for i in range(n)]
    missing = [mgmt > 0 and (i % 13 == 0 or 100 <= i < 130) for i in range(n)]
    body = keep + b"".join(hand_pack(template, order, mgmt, ints, missing)) + b"7777"
    with open(path, "wb") as f:
        f.write(msg[:8] + (16 + len(body)).to_bytes(8, "big") + body)


def decode(path):
    with open(path, "rb") as f:
        h = eccodes.codes_grib_new_from_file(f)
    vals = eccodes.codes_get_values(h)
    missing = eccodes.codes_get(h, "missingValue")
    some_missing = eccodes.codes_get(h, "numberOfMissing") > 0
    out = {
        "values": [None if v == missing and some_missing else float(v) for v in vals],
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
        make(path, packing, bitmap, nbits, gaussian=name.endswith("gaussian"))
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(decode(path), f)
    for name, args in HAND_PACKED.items():
        path = os.path.join(out, name + ".grib2")
        make_hand(path, *args)
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(decode(path), f)


if __name__ == "__main__":
    main()
