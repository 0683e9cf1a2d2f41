#!/usr/bin/python3
"""Writes the OISST-like benchmark workload with netCDF4-python:

  N daily netCDF-4 files, dims (time=1, zlev=1, lat, lon), four int16
  variables (sst, anom, err, ice) packed with scale_factor 0.01 and
  _FillValue -999, zlib level 4 in one chunk per step (1, 1, lat, lon), and a
  float32 time in "days since 1978-01-01 12:00:00" — the layout of NOAA
  OISST v2.1 daily files.

usage: /usr/bin/python3 bench/oisst/make_inputs.py [--variant V] DIR [N] [NLAT NLON]
Defaults: 60 files of 720 x 1440. Existing files are kept (it is slow).

Variants (VARIANTS below) change the data, as real archives differ: the
noise on the fields (none: smooth fields, long matches for LZ codecs; 0.2
degrees: few long matches; 0.005: a value off by one here and there, many
short matches, the slowest to compress), zlib's shuffle filter (netCDF4-python's default is off,
NOAA's files have it on), and the land mask."""
import os
import sys

import netCDF4
import numpy as np


# VARIANTS: name -> (noise in degrees, shuffle, land mask). "noisy" is the
# benchmark's original data.
VARIANTS = {
    "noisy": (0.2, False, True),
    "noisy-shuffle": (0.2, True, True),
    "smooth-shuffle": (0.0, True, True),
    "speckled-shuffle": (0.005, True, True),
    "speckled-ocean": (0.005, True, False),
}


def write(path, day, nlat, nlon, rng, variant="noisy"):
    noise, shuffle, with_land = VARIANTS[variant]
    lat = np.linspace(-89.875, 89.875, nlat, dtype="f4")
    lon = np.linspace(0.125, 359.875, nlon, dtype="f4")
    base = 28 * np.cos(np.deg2rad(lat))[:, None] - 2 + 0.5 * np.sin(np.deg2rad(3 * lon + day))[None, :]
    land = (np.sin(np.deg2rad(2 * lat))[:, None] * np.cos(np.deg2rad(lon))[None, :]) > 0.6
    tmp = path + ".tmp"
    ds = netCDF4.Dataset(tmp, "w")
    ds.createDimension("time", None)
    ds.createDimension("zlev", 1)
    ds.createDimension("lat", nlat)
    ds.createDimension("lon", nlon)
    t = ds.createVariable("time", "f4", ("time",))
    t.units = "days since 1978-01-01 12:00:00"
    t.long_name = "Center time of the day"
    t[:] = [1339.0 + day]
    z = ds.createVariable("zlev", "f4", ("zlev",))
    z.units = "meters"
    z[:] = [0.0]
    for name, values in (("lat", lat), ("lon", lon)):
        v = ds.createVariable(name, "f4", (name,))
        v.units = "degrees_north" if name == "lat" else "degrees_east"
        v[:] = values
    for name, field in (("sst", base), ("anom", base - 20), ("err", np.full_like(base, 0.3)), ("ice", np.zeros_like(base))):
        v = ds.createVariable(name, "i2", ("time", "zlev", "lat", "lon"), zlib=True, complevel=4, shuffle=shuffle,
                              chunksizes=(1, 1, nlat, nlon), fill_value=np.int16(-999))
        v.scale_factor = np.float32(0.01)
        v.add_offset = np.float32(0.0)
        v.units = "Celsius" if name != "ice" else "%"
        v.set_auto_maskandscale(False)
        packed = np.round((field + rng.normal(0, noise, size=field.shape)) / 0.01).astype("i2")
        if with_land:
            packed[land] = -999
        v[0, 0] = packed
    ds.title = "OISST-like benchmark input"
    ds.close()
    os.replace(tmp, path)


def main():
    args = sys.argv[1:]
    variant = "noisy"
    if args[:1] == ["--variant"]:
        variant, args = args[1], args[2:]
    if variant not in VARIANTS:
        sys.exit("unknown variant %r (want %s)" % (variant, ", ".join(VARIANTS)))
    out = args[0]
    n = int(args[1]) if len(args) > 1 else 60
    nlat, nlon = (int(args[2]), int(args[3])) if len(args) > 3 else (720, 1440)
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1978)
    for day in range(n):
        path = os.path.join(out, "oisst.%05d.nc" % day)
        if not os.path.exists(path):
            write(path, day, nlat, nlon, rng, variant)


if __name__ == "__main__":
    main()
