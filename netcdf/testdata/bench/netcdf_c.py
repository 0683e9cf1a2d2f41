#!/usr/bin/python3
"""Benchmark companion: writes the OISST-like netCDF-4 file that
BenchmarkReadNetCDF4Zlib reads (if it is not there yet) and times netCDF-C
(through netCDF4-python, auto mask/scale off) reading the same variable.

usage: /usr/bin/python3 netcdf/testdata/bench/netcdf_c.py [path] [--make-only]

The file: sst(time=1, zlev=1, lat=720, lon=1440) int16, scale_factor 0.01,
_FillValue -999 over "land", zlib level 4 with shuffle, one chunk per step:
the layout of NOAA OISST v2.1 daily files."""
import os
import sys
import tempfile
import time

import netCDF4
import numpy as np

DEFAULT = os.path.join(tempfile.gettempdir(), "zarrforge-bench", "oisst_720x1440.nc")


def make(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = np.random.default_rng(2024)
    lat = np.linspace(-89.875, 89.875, 720)
    lon = np.linspace(0.125, 359.875, 1440)
    field = 28 * np.cos(np.deg2rad(lat))[:, None] - 2 + 0.5 * np.sin(np.deg2rad(3 * lon))[None, :]
    field = field + rng.normal(0, 0.3, size=field.shape)
    sst = np.round(field / 0.01).astype("i2")
    land = (np.sin(np.deg2rad(2 * lat))[:, None] * np.cos(np.deg2rad(lon))[None, :]) > 0.6
    sst[land] = -999
    tmp = path + ".tmp"
    ds = netCDF4.Dataset(tmp, "w")
    for name, n in (("time", None), ("zlev", 1), ("lat", 720), ("lon", 1440)):
        ds.createDimension(name, n)
    v = ds.createVariable("sst", "i2", ("time", "zlev", "lat", "lon"), zlib=True, complevel=4, shuffle=True,
                          chunksizes=(1, 1, 720, 1440), fill_value=np.int16(-999))
    v.scale_factor = np.float32(0.01)
    v.set_auto_maskandscale(False)
    v[0, 0] = sst
    ds.close()
    os.replace(tmp, path)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    path = args[0] if args else DEFAULT
    if not os.path.exists(path):
        make(path)
    if "--make-only" in sys.argv:
        print(path)
        return
    ds = netCDF4.Dataset(path)
    ds.set_auto_maskandscale(False)
    v = ds["sst"]
    v.set_var_chunk_cache(size=0, nelems=0, preemption=0)  # decode every time, as a one-pass conversion does
    v[...]  # warm the page cache
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 3:
        v[...]
        n += 1
    per = (time.perf_counter() - start) / n
    mb = 720 * 1440 * 2 / 1e6
    print("netCDF-C (netCDF4-python %s, netCDF-C %s, HDF5 %s): %.2f ms per read, %.0f MB/s decoded"
          % (netCDF4.__version__, netCDF4.__netcdf4libversion__, netCDF4.__hdf5libversion__, per * 1e3, mb / per))


if __name__ == "__main__":
    main()
