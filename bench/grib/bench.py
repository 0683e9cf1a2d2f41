#!/usr/bin/python3
"""Decode benchmark: zarrforge's GRIB2 decoder beside ecCodes'
(python3-eccodes' codes_get_values, which hands back a numpy array), on
one 0.25-degree global field (1440 x 721 points) per packing, one core
each, best of N runs. Prints milliseconds per field and the ratio ours /
ecCodes (that the values are equal is the grib tests' business).

  /usr/bin/python3 bench/grib/bench.py [N]
"""
import os
import subprocess
import sys
import tempfile
import time

import eccodes
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLE = "/usr/share/eccodes/samples/regular_ll_sfc_grib2.tmpl"
PACKINGS = [("simple, 16 bits", "grid_simple", 16, False), ("simple, bitmap", "grid_simple", 16, True),
            ("complex (5.2)", "grid_complex", 16, False), ("CCSDS (5.42)", "grid_ccsds", 16, False),
            ("CCSDS, 24 bits", "grid_ccsds", 24, False), ("PNG (5.41)", "grid_png", 16, False)]


def make(path, packing, bits, bitmap):
    with open(SAMPLE, "rb") as f:
        h = eccodes.codes_grib_new_from_file(f)
    for k, v in [("Ni", 1440), ("Nj", 721), ("latitudeOfFirstGridPointInDegrees", 90), ("latitudeOfLastGridPointInDegrees", -90),
                 ("longitudeOfFirstGridPointInDegrees", 0), ("longitudeOfLastGridPointInDegrees", 359.75),
                 ("iDirectionIncrementInDegrees", 0.25), ("jDirectionIncrementInDegrees", 0.25)]:
        eccodes.codes_set(h, k, v)
    lat = np.linspace(90, -90, 721)[:, None]
    lon = np.linspace(0, 359.75, 1440)[None, :]
    rng = np.random.default_rng(1)
    vals = (273 + 30 * np.cos(np.radians(lat)) + 5 * np.sin(np.radians(3 * lon)) + rng.normal(0, 0.3, (721, 1440))).ravel()
    if bitmap:
        eccodes.codes_set(h, "bitmapPresent", 1)
        eccodes.codes_set(h, "missingValue", 9999)
        vals[(np.arange(vals.size) // 1440) % 5 == 0] = 9999
    eccodes.codes_set_values(h, vals)
    eccodes.codes_set(h, "packingType", packing)
    eccodes.codes_set(h, "bitsPerValue", bits)
    eccodes.codes_set_values(h, vals)
    with open(path, "wb") as f:
        eccodes.codes_write(h, f)
    eccodes.codes_release(h)


def eccodes_time(path, n):
    best = float("inf")
    with open(path, "rb") as f:
        data = f.read()
    for _ in range(n):
        start = time.perf_counter()
        h = eccodes.codes_new_from_message(data)
        vals = eccodes.codes_get_values(h)
        eccodes.codes_release(h)
        best = min(best, time.perf_counter() - start)
    return best, vals


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    env = dict(os.environ, GOMAXPROCS="1")
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "decode")
        subprocess.run(["go", "build", "-o", exe, "./bench/grib/decode"], cwd=ROOT, check=True)
        paths = []
        for i, (_, packing, bits, bitmap) in enumerate(PACKINGS):
            paths.append(os.path.join(tmp, "f%d.grib2" % i))
            make(paths[-1], packing, bits, bitmap)
        ours = dict(line.split() for line in subprocess.run([exe, "-n", str(n)] + paths, env=env, check=True,
                                                              capture_output=True, text=True).stdout.splitlines())
        print("1440 x 721 points a field, best of %d, one core" % n)
        for (name, *_), path in zip(PACKINGS, paths):
            theirs, _ = eccodes_time(path, n)
            mine = float(ours[path])
            size = os.path.getsize(path) / 1e6
            print("%-16s %5.2f MB   ecCodes %7.2f ms   zarrforge %7.2f ms   ratio %.2f" % (name, size, theirs * 1e3, mine * 1e3, mine / theirs))


if __name__ == "__main__":
    main()
