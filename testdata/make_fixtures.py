#!/usr/bin/python3
"""Writes the fixture collections under testdata/collections/ (netCDF-3, but tiles) and the
sample files under examples/dataflow/sample/, with netCDF4-python.

Run from the repository root:  /usr/bin/python3 testdata/make_fixtures.py
Output is deterministic (fixed seeds, no history attribute)."""
import json
import os
import sys
import shutil

import netCDF4
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLL = os.path.join(ROOT, "testdata", "collections")


def grid(ds, nlat, nlon, lat_type="f4", lon_type="f8"):
    ds.createDimension("lat", nlat)
    ds.createDimension("lon", nlon)
    lat = ds.createVariable("lat", lat_type, ("lat",))
    lat.units = "degrees_north"
    lat.standard_name = "latitude"
    lat[:] = np.linspace(-60, 60, nlat)
    lon = ds.createVariable("lon", lon_type, ("lon",))
    lon.units = "degrees_east"
    lon.standard_name = "longitude"
    lon[:] = np.linspace(0, 350, nlon)


def time_var(ds, values, units, dtype="f8", calendar="standard", values_scale=1):
    ds.createDimension("time", None)
    t = ds.createVariable("time", dtype, ("time",))
    t.units = units
    t.calendar = calendar
    t.standard_name = "time"
    t[:] = np.asarray(values, dtype=dtype) * values_scale


def globals_(ds, i):
    ds.title = "zarrforge fixture"
    ds.institution = "zarrforge tests"
    ds.version = np.int32(3)
    ds.resolution = np.float32(0.25)
    ds.bounds = np.array([-60.0, 60.0], dtype="f8")
    ds.file_index = np.int32(i)  # differs per file: the store keeps the first


def data_vars(ds, rng, t_index, dims=("time", "lat", "lon"), names=("sst", "ice", "count", "flag")):
    shape = tuple(len(ds.dimensions[d]) if d != "time" else len(t_index) for d in dims)
    if "sst" in names:
        sst = ds.createVariable("sst", "i2", dims, fill_value=np.int16(-999))
        sst.scale_factor = np.float32(0.01)
        sst.add_offset = np.float32(0.0)
        sst.units = "degC"
        sst.long_name = "sea surface temperature"
        sst.valid_range = np.array([-300, 4500], dtype="i2")
        v = rng.integers(-300, 3500, size=shape).astype("i2")
        v[..., 0, :2] = -999  # a masked region
        sst.set_auto_maskandscale(False)
        sst[:] = v
    if "ice" in names:
        ice = ds.createVariable("ice", "f4", dims, fill_value=np.float32(np.nan))
        ice.units = "1"
        v = rng.random(size=shape).astype("f4")
        v[..., 1, 1] = np.nan
        ice[:] = v
    if "count" in names:
        c = ds.createVariable("count", "i4", dims)  # no _FillValue
        c.long_name = "observations"
        c[:] = rng.integers(0, 100, size=shape).astype("i4")
    if "flag" in names:
        f = ds.createVariable("flag", "i1", dims)
        f.flag_values = np.array([0, 1, 2], dtype="i1")
        f[:] = rng.integers(0, 3, size=shape).astype("i1")


def manifest(name, files, **kw):
    m = {"files": files, "concat_dim": "time", "merge_dim": None, "merge_keys": [],
         "concat_keys": [], "template": "", "nitems_per_file": None, "format": "",
         "open_kwargs": {}, "notes": ""}
    m.update(kw)
    with open(os.path.join(COLL, name, "collection.json"), "w") as f:
        json.dump(m, f, indent=1)


def fresh(name):
    d = os.path.join(COLL, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def simple(name, lengths, units_fn, fmt, dtype="f8", calendar="standard", nlat=7, nlon=10, seed=0, notes="", values_fn=None):
    d = fresh(name)
    rng = np.random.default_rng(seed)
    files, keys, start = [], [], 0
    for i, n in enumerate(lengths):
        key = "%02d" % i
        fn = "%s_%s.nc" % (name, key)
        ds = netCDF4.Dataset(os.path.join(d, fn), "w", format=fmt)
        globals_(ds, i)
        grid(ds, nlat, nlon)
        vals = values_fn(i, start, n) if values_fn else [start + j for j in range(n)]
        time_var(ds, vals, units_fn(i, start), dtype=dtype, calendar=calendar)
        data_vars(ds, rng, range(n))
        ds.close()
        files.append(fn)
        keys.append(key)
        start += n
    nitems = lengths[0] if len(set(lengths)) == 1 else None
    manifest(name, files, concat_keys=keys, template=name + "_{time}.nc", nitems_per_file=nitems, format=fmt, notes=notes)


def bounds_units():
    """bounds_units: time with time_bnds (named by time's bounds attribute), two steps a
    file, each file counting in its own units (days or hours since its own date): both
    are re-encoded into the first file's units."""
    d = fresh("bounds_units")
    rng = np.random.default_rng(31)
    files, keys = [], []
    for i in range(4):
        key = "%02d" % i
        fn = "bounds_units_%s.nc" % key
        ds = netCDF4.Dataset(os.path.join(d, fn), "w", format="NETCDF3_64BIT_OFFSET")
        globals_(ds, i)
        grid(ds, 5, 6)
        hours = i % 2 == 1
        scale = 24 if hours else 1
        time_var(ds, [0.5 * scale, 1.5 * scale], ("hours" if hours else "days") + " since 2000-01-%02d" % (2 * i + 1))
        ds["time"].bounds = "time_bnds"
        ds.createDimension("nv", 2)
        tb = ds.createVariable("time_bnds", "f8", ("time", "nv"))
        tb[:] = np.array([[0, 1], [1, 2]], dtype="f8") * scale
        data_vars(ds, rng, range(2), names=("sst",))
        ds.close()
        files.append(fn)
        keys.append(key)
    manifest("bounds_units", files, concat_keys=keys, template="bounds_units_{time}.nc", nitems_per_file=2,
             format="NETCDF3_64BIT_OFFSET", notes="time_bnds with time units that differ per file (days, hours)")


def ensemble():
    """ensemble: three members of a run, each in three files of two days, and
    no file has a member dimension: concatenated along time and along a new
    dimension, member, whose coordinate is the members' keys. Data variables
    (time_bnds, the static mask and the scalar crs too) gain it; the
    coordinates (time, lat, lon and height, which sst's coordinates
    attribute names) do not."""
    d = fresh("ensemble")
    rng = np.random.default_rng(41)
    members, times = ["r1i1p1", "r2i1p1", "r3i1p1"], ["00", "01", "02"]
    mask = rng.integers(0, 2, size=(4, 5)).astype("i1")
    nested = []
    for ti, tk in enumerate(times):
        row = []
        for mi, mk in enumerate(members):
            fn = "ensemble_%s_%s.nc" % (mk, tk)
            ds = netCDF4.Dataset(os.path.join(d, fn), "w", format="NETCDF3_64BIT_OFFSET")
            globals_(ds, ti)
            ds.member_id = mk  # differs per member: the store keeps the first
            grid(ds, 4, 5)
            time_var(ds, [2 * ti, 2 * ti + 1], "days since 2001-01-01")
            ds["time"].bounds = "time_bnds"
            ds.createDimension("nv", 2)
            tb = ds.createVariable("time_bnds", "f8", ("time", "nv"))
            tb[:] = np.array([[2 * ti, 2 * ti + 1], [2 * ti + 1, 2 * ti + 2]], dtype="f8")
            h = ds.createVariable("height", "f8", ())
            h.units = "m"
            h[...] = 2.0
            data_vars(ds, rng, range(2), names=("sst",))
            ds["sst"].coordinates = "height"
            m = ds.createVariable("mask", "i1", ("lat", "lon"))
            m[:] = mask
            crs = ds.createVariable("crs", "i4", ())
            crs.grid_mapping_name = "latitude_longitude"
            crs[...] = mi
            ds.close()
            row.append(fn)
        nested.append(row)
    manifest("ensemble", nested, concat_keys=times, template="ensemble_{member}_{time}.nc", nitems_per_file=2,
             format="NETCDF3_64BIT_OFFSET", open_kwargs={"data_vars": "minimal", "coords": "minimal", "compat": "override"},
             concat_dims=[{"name": "time", "keys": times}, {"name": "member", "keys": members, "new": True, "coord": members}],
             notes="members without a member dimension: concat_dims time and a new member")


def tiles():
    """tiles: each day of a grid split in a western and an eastern tile of
    uneven widths (6 and 4 longitudes), chunked (1, 5, 3) in netCDF-4 files:
    concatenated along time and along lon, which the files have. depth has
    lon but not time: it is concatenated along lon from the first day."""
    d = fresh("tiles")
    rng = np.random.default_rng(43)
    lon = np.linspace(0, 350, 10)
    depth = rng.random(size=(5, 10)).astype("f4")
    times, sides, cuts = ["t0", "t1"], ["w", "e"], [(0, 6), (6, 10)]
    nested = []
    for ti, tk in enumerate(times):
        row = []
        for si, sk in enumerate(sides):
            lo, hi = cuts[si]
            fn = "tiles_%s_%s.nc" % (tk, sk)
            ds = netCDF4.Dataset(os.path.join(d, fn), "w", format="NETCDF4")
            globals_(ds, ti)
            ds.createDimension("lat", 5)
            ds.createDimension("lon", hi - lo)
            la = ds.createVariable("lat", "f4", ("lat",))
            la.units = "degrees_north"
            la[:] = np.linspace(-40, 40, 5)
            lo_ = ds.createVariable("lon", "f8", ("lon",))
            lo_.units = "degrees_east"
            lo_[:] = lon[lo:hi]
            time_var(ds, [2 * ti, 2 * ti + 1], "hours since 2002-03-01" if ti else "days since 2002-03-01",
                     values_scale=24 if ti else 1)
            sst = ds.createVariable("sst", "f4", ("time", "lat", "lon"), chunksizes=(1, 5, 3), zlib=True,
                                    fill_value=np.float32(-1e30))
            sst.units = "K"
            v = rng.random(size=(2, 5, hi - lo)).astype("f4") + 270
            v[0, 0, 0] = -1e30
            sst.set_auto_maskandscale(False)
            sst[:] = v
            dp = ds.createVariable("depth", "f4", ("lat", "lon"))
            dp[:] = depth[:, lo:hi]
            ds.close()
            row.append(fn)
        nested.append(row)
    manifest("tiles", nested, concat_keys=times, template="tiles_{time}_{lon}.nc", format="NETCDF4",
             open_kwargs={"data_vars": "minimal", "coords": "minimal", "compat": "override"},
             concat_dims=[{"name": "time", "keys": times}, {"name": "lon", "keys": sides}],
             notes="tiles of uneven width along lon, concatenated along time and lon; the second day in hours")


def main():
    os.makedirs(COLL, exist_ok=True)
    bounds_units()
    ensemble()
    tiles()
    simple("daily", [1] * 8, lambda i, s: "days since 2000-01-01", "NETCDF3_CLASSIC",
           notes="one step per file, record dim, packed int16 with fill, float with NaN fill, int without fill, byte")
    simple("daily_units", [1] * 6,
           lambda i, s: ("hours since 2000-01-%02d" % (s + 1)) if i % 2 else ("days since 2000-01-%02d" % (s + 1)),
           "NETCDF3_64BIT_OFFSET", values_fn=lambda i, s, n: [0] * n,
           notes="each file counts time from its own date, some in hours: re-encoded into the first file's units")
    simple("multistep", [3] * 5, lambda i, s: "hours since 1990-01-01 00:00:00", "NETCDF3_64BIT_DATA", dtype="i4",
           values_fn=lambda i, s, n: [6 * (s + j) for j in range(n)], notes="3 steps per file, int32 time, CDF-5")
    simple("uneven", [2, 5, 1, 3], lambda i, s: "days since 2010-06-01", "NETCDF3_CLASSIC",
           notes="files of uneven length")
    simple("noleap", [1] * 6, lambda i, s: "days since 2001-02-%02d" % (27 + s) if 27 + s <= 28 else "days since 2001-03-%02d" % (s - 1),
           "NETCDF3_64BIT_OFFSET", calendar="noleap", values_fn=lambda i, s, n: [0] * n,
           notes="noleap calendar across Feb 28 / Mar 1, per-file units")
    simple("cal360", [2] * 4, lambda i, s: "days since 2001-01-30", "NETCDF3_CLASSIC", calendar="360_day",
           notes="360_day calendar, 2 steps per file")

    # merge: variables split across files by a merge dim.
    d = fresh("merge")
    rng = np.random.default_rng(1)
    nested, keys = [[], []], []
    for i in range(4):
        key = "2001%02d" % (i + 1)
        keys.append(key)
        for vi, var in enumerate(["sst", "ice"]):
            fn = "%s_%s.nc" % (var, key)
            ds = netCDF4.Dataset(os.path.join(d, fn), "w", format="NETCDF3_64BIT_OFFSET")
            globals_(ds, i)
            grid(ds, 5, 6)
            time_var(ds, [2 * i, 2 * i + 1], "days since 2001-01-01")
            data_vars(ds, rng, range(2), names=(var,))
            ds.close()
            nested[vi].append(fn)
    manifest("merge", nested, merge_dim="variable", merge_keys=["sst", "ice"], concat_keys=keys,
             template="{variable}_{time}.nc", nitems_per_file=2, format="NETCDF3_64BIT_OFFSET",
             notes="variables split across files by the merge dim 'variable'")

    # big4d: OISST-like 4-D variables.
    d = fresh("big4d")
    rng = np.random.default_rng(2)
    files, keys = [], []
    for i in range(3):
        key = "%d" % i
        fn = "big4d_%s.nc" % key
        ds = netCDF4.Dataset(os.path.join(d, fn), "w", format="NETCDF3_64BIT_OFFSET")
        globals_(ds, i)
        grid(ds, 20, 30)
        time_var(ds, [2 * i + 1000, 2 * i + 1001], "days since 1978-01-01 12:00:00", dtype="f4")
        ds.createDimension("zlev", 1)
        z = ds.createVariable("zlev", "f4", ("zlev",))
        z.units = "meters"
        z[:] = [0.0]
        for var in ["sst", "anom", "err", "ice"]:
            v = ds.createVariable(var, "i2", ("time", "zlev", "lat", "lon"), fill_value=np.int16(-999))
            v.scale_factor = np.float32(0.01)
            v.add_offset = np.float32(0.0)
            v.set_auto_maskandscale(False)
            a = rng.integers(-500, 3000, size=(2, 1, 20, 30)).astype("i2")
            a[:, :, :3, :4] = -999
            v[:] = a
        ds.close()
        files.append(fn)
        keys.append(key)
    manifest("big4d", files, concat_keys=keys, template="big4d_{time}.nc", nitems_per_file=2,
             format="NETCDF3_64BIT_OFFSET", notes="OISST-like (time, zlev, lat, lon) int16 packed variables")

    # scalar_and_static: a variable without the time dim and a scalar.
    d = fresh("scalar_and_static")
    rng = np.random.default_rng(3)
    files, keys = [], []
    mask = rng.integers(0, 2, size=(7, 10)).astype("i1")
    for i in range(3):
        key = "%d" % i
        fn = "static_%s.nc" % key
        ds = netCDF4.Dataset(os.path.join(d, fn), "w", format="NETCDF3_CLASSIC")
        globals_(ds, i)
        grid(ds, 7, 10)
        time_var(ds, [i], "days since 2020-01-01")
        data_vars(ds, rng, range(1), names=("sst",))
        m = ds.createVariable("mask", "i1", ("lat", "lon"))
        m.long_name = "land mask"
        m[:] = mask
        crs = ds.createVariable("crs", "i4", ())
        crs.grid_mapping_name = "latitude_longitude"
        crs.semi_major_axis = 6371000.0
        crs[...] = 0
        ds.close()
        files.append(fn)
        keys.append(key)
    manifest("scalar_and_static", files, concat_keys=keys, template="static_{time}.nc", nitems_per_file=1,
             format="NETCDF3_CLASSIC", open_kwargs={"data_vars": "minimal", "coords": "minimal", "compat": "override"},
             notes="a (lat, lon) variable and a scalar, identical in every file, are written once")

    # chars: a char variable (station names) beside a time series.
    d = fresh("chars")
    files, keys = [], []
    for i in range(3):
        key = "%d" % i
        fn = "chars_%s.nc" % key
        ds = netCDF4.Dataset(os.path.join(d, fn), "w", format="NETCDF3_CLASSIC")
        ds.createDimension("time", None)
        ds.createDimension("station", 3)
        ds.createDimension("strlen", 5)
        t = ds.createVariable("time", "i4", ("time",))
        t.units = "days since 2000-01-01"
        t[:] = [i]
        n = ds.createVariable("station_name", "S1", ("station", "strlen"))
        n.long_name = "station name"
        n[:] = netCDF4.stringtochar(np.array(["ab", "cde", "fghij"], dtype="S5"))
        v = ds.createVariable("temp", "f4", ("time", "station"))
        v.coordinates = "station_name"
        v[:] = (np.arange(3) + i).reshape(1, 3)
        ds.close()
        files.append(fn)
        keys.append(key)
    manifest("chars", files, concat_keys=keys, template="chars_{time}.nc", nitems_per_file=1, format="NETCDF3_CLASSIC",
             open_kwargs={"data_vars": "minimal", "coords": "minimal", "compat": "override"},
             notes="a char (|S1) variable, decoded by xarray into strings")

    formats()
    sample()


def formats():
    """One file per classic format with every type the format has: scalar,
    char and multi-dimensional variables, attributes of every type."""
    d = os.path.join(ROOT, "testdata", "formats")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    rng = np.random.default_rng(5)
    base = ["i1", "S1", "i2", "i4", "f4", "f8"]
    cdf5 = base + ["u1", "u2", "u4", "i8", "u8"]
    for fmt, types in [("NETCDF3_CLASSIC", base), ("NETCDF3_64BIT_OFFSET", base), ("NETCDF3_64BIT_DATA", cdf5)]:
        ds = netCDF4.Dataset(os.path.join(d, "alltypes_%s.nc" % fmt.lower()), "w", format=fmt)
        ds.createDimension("rec", None)
        ds.createDimension("x", 3)
        ds.createDimension("y", 2)
        ds.createDimension("strlen", 4)
        ds.text = "all types"
        ds.empty = ""
        for t in types:
            if t == "S1":
                continue
            ds.setncattr("att_" + t, np.array([1, 2, 3], dtype=t))
            ds.setncattr("one_" + t, np.array([7], dtype=t))
        for t in types:
            if t == "S1":
                v = ds.createVariable("chars", "S1", ("x", "strlen"))
                v[:] = netCDF4.stringtochar(np.array(["ab", "cde", "fghi"], dtype="S4"))
                continue
            info = np.iinfo(t) if t[0] in "iu" else np.finfo(t)
            fixed = ds.createVariable("fixed_" + t, t, ("y", "x"))
            vals = np.array([info.min, info.max, 0, 1, 2, 3], dtype=t).reshape(2, 3)
            if t[0] == "f":
                vals[1, 2] = np.nan
                vals[1, 1] = -np.inf
            fixed[:] = vals
            rec = ds.createVariable("rec_" + t, t, ("rec", "x"))
            rec[:] = rng.integers(0, 100, size=(4, 3)).astype(t)
            ds.createVariable("scalar_" + t, t, ())[...] = np.array(5, dtype=t)
        # A lone-ish record variable of a 1-byte type among others, and one
        # with no attributes.
        ds.createVariable("rec_bytes", "i1", ("rec",))[:] = np.arange(4, dtype="i1")
        ds.close()
    # The special case: one record variable only, of a 2-byte type (no padding).
    ds = netCDF4.Dataset(os.path.join(d, "onerec_short.nc"), "w", format="NETCDF3_CLASSIC")
    ds.createDimension("t", None)
    ds.createDimension("x", 3)
    ds.createVariable("v", "i2", ("t", "x"))[:] = np.arange(15, dtype="i2").reshape(5, 3)
    ds.close()
    # An empty record dimension.
    ds = netCDF4.Dataset(os.path.join(d, "norecords.nc"), "w", format="NETCDF3_CLASSIC")
    ds.createDimension("t", None)
    ds.createVariable("v", "f4", ("t",))
    ds.close()


def sample():
    """Ten tiny OISST-like daily files for the example program."""
    d = os.path.join(ROOT, "examples", "dataflow", "sample")
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if f.endswith(".nc"):
            os.remove(os.path.join(d, f))
    rng = np.random.default_rng(4)
    land = rng.random((24, 48)) < 0.3
    for i in range(10):
        day = "198109%02d" % (i + 1)
        ds = netCDF4.Dataset(os.path.join(d, "oisst-avhrr-v02r01.%s.nc" % day), "w", format="NETCDF3_64BIT_OFFSET")
        ds.Conventions = "CF-1.6"
        ds.title = "NOAA 0.25-degree Daily Optimum Interpolation Sea Surface Temperature (OISST), Version 2.1 (zarrforge sample, coarsened and synthetic)"
        ds.source = "synthetic data shaped like OISST v2.1"
        ds.createDimension("time", None)
        ds.createDimension("zlev", 1)
        grid(ds, 24, 48, lat_type="f4", lon_type="f4")
        t = ds.createVariable("time", "f4", ("time",))
        t.long_name = "Center time of the day"
        t.units = "days since 1978-01-01 12:00:00"
        t[:] = [1339 + i]
        z = ds.createVariable("zlev", "f4", ("zlev",))
        z.long_name = "Sea surface height"
        z.units = "meters"
        z[:] = [0.0]
        specs = {"sst": ("Daily sea surface temperature", "Celsius", -300, 4500),
                 "anom": ("Daily sea surface temperature anomalies", "Celsius", -1200, 1200),
                 "err": ("Estimated error standard deviation of analysed_sst", "Celsius", 0, 1000),
                 "ice": ("Sea ice concentration", "%", 0, 100)}
        for name, (long_name, units, lo, hi) in specs.items():
            v = ds.createVariable(name, "i2", ("time", "zlev", "lat", "lon"), fill_value=np.int16(-999))
            v.long_name = long_name
            v.units = units
            v.scale_factor = np.float32(0.01)
            v.add_offset = np.float32(0.0)
            v.valid_min = np.int16(lo)
            v.valid_max = np.int16(hi)
            v.set_auto_maskandscale(False)
            a = rng.integers(lo, hi, size=(1, 1, 24, 48)).astype("i2")
            a[0, 0][land] = -999
            v[:] = a
        ds.close()


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] in ("bounds_units", "ensemble", "tiles"):  # this collection alone
        globals()[sys.argv[1]]()
    else:
        main()
