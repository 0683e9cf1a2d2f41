#!/usr/bin/python3
"""Writes the netCDF-4 (HDF5) fixtures with netCDF4-python, netCDF-C's
ncgen/nccopy and h5py:

  testdata/formats/nc4_*.nc          single files, each exercising HDF5 features
                                     (see FEATURES below), compared value for value
                                     with netCDF4-python by netcdf/classic_test.go
  testdata/collections/nc4_*/        collections for the end-to-end recipe tests
  netcdf/testdata/unsupported/       files the reader must reject with a clear error

Run from the repository root:  /usr/bin/python3 testdata/make_nc4_fixtures.py
It imports make_fixtures.py for the shared variable makers. Output is
deterministic on one machine (no timestamps; _NCProperties names the library
versions)."""
import os
import shutil
import subprocess
import sys

import h5py
import netCDF4
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402

ROOT = mf.ROOT
FORMATS = os.path.join(ROOT, "testdata", "formats")
UNSUPPORTED = os.path.join(ROOT, "netcdf", "testdata", "unsupported")

# What each file exercises (checked with h5py's low-level API when written).
FEATURES = {
    "nc4_packed.nc": "unlimited time, int16 packed (scale_factor/add_offset/_FillValue, masked), zlib+shuffle, "
                     "edge chunks, noleap f8 time + time_bnds(time, bnds), bnds without coordinate, scalar crs, "
                     "NC_STRING attributes (scalar and array), array-valued attributes",
    "nc4_types.nc": "every integer width, f4/f8, char variable, zlib without shuffle, fletcher32, big-endian, "
                    "30 attributes on one variable (dense attribute storage), 24 variables (dense links)",
    "nc4_partial.nc": "chunked variable with only some chunks written: unwritten chunks read as the fill value",
    "nc4_classic_model.nc": "NETCDF4_CLASSIC data model",
    "nc4_ncgen.nc": "written by ncgen -k nc4 from nc4_ncgen.cdl",
    "nc4_nccopy.nc": "nccopy -d 1 -s of alltypes_netcdf3_classic.nc",
    "nc4_h5py_latest.nc": "h5py libver=latest: superblock 3, object header v2, compact layout, single-chunk, "
                          "fixed-array, extensible-array and v2-B-tree chunk indexes, filtered and not, dense "
                          "attributes, vlen-string attributes, dimension scales without _Netcdf4Dimid",
    "nc4_h5py_userblock.nc": "512-byte user block before the superblock",
    "nc4_h5py_phony.nc": "no dimension scales (netCDF-C phony dimensions), paged fixed array, extensible "
                         "array with super blocks",
}


def packed(path):
    rng = np.random.default_rng(10)
    ds = netCDF4.Dataset(path, "w")
    ds.createDimension("time", None)
    ds.createDimension("bnds", 2)
    mf.grid(ds, 5, 7)
    t = ds.createVariable("time", "f8", ("time",))
    t.units = "days since 1850-01-01"
    t.calendar = "noleap"
    t.bounds = "time_bnds"
    t[:] = [0.5, 1.5, 2.5]
    tb = ds.createVariable("time_bnds", "f8", ("time", "bnds"))
    tb[:] = [[0, 1], [1, 2], [2, 3]]
    sst = ds.createVariable("sst", "i2", ("time", "lat", "lon"), zlib=True, complevel=4, shuffle=True,
                            chunksizes=(1, 3, 4), fill_value=np.int16(-999))
    sst.scale_factor = np.float32(0.01)
    sst.add_offset = np.float32(20.0)
    sst.grid_mapping = "crs"
    sst.setncattr_string("comment", "an NC_STRING attribute")
    sst.setncattr_string("flags", ["ok", "suspect", "bad"])
    sst.valid_range = np.array([-2000, 2000], "i2")
    v = rng.integers(-2000, 2000, size=(3, 5, 7)).astype("i2")
    v[:, 0, :3] = -999
    sst.set_auto_maskandscale(False)
    sst[:] = v
    crs = ds.createVariable("crs", "i4")
    crs.grid_mapping_name = "latitude_longitude"
    crs.semi_major_axis = 6378137.0
    crs.inverse_flattening = np.array([298.257223563], "f8")
    ds.title = "packed"
    ds.setncattr_string("keywords", ["sea", "surface", "temperature"])
    ds.levels = np.array([1, 2, 3, 4], "u2")
    ds.close()


def types(path):
    rng = np.random.default_rng(11)
    ds = netCDF4.Dataset(path, "w")
    ds.createDimension("x", 13)
    ds.createDimension("y", 6)
    for i, t in enumerate(["i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f4", "f8"]):
        kw = dict(chunksizes=(5, 4), zlib=i % 2 == 0, shuffle=i % 4 == 0, fletcher32=i % 3 == 0)
        if i % 4 == 1:
            kw["endian"] = "big"
        v = ds.createVariable("v_" + t, np.dtype(t).newbyteorder("=" if i % 4 != 1 else ">"), ("x", "y"), **kw)
        info = np.iinfo(t) if t[0] in "iu" else np.finfo(t)
        v[:] = rng.uniform(info.min / 2, info.max / 2, size=(13, 6)).astype(t) if t[0] == "f" else \
            rng.integers(info.min, info.max, size=(13, 6), dtype=t, endpoint=True)
    many = ds.createVariable("many", "f4", ("x",))
    many[:] = np.arange(13, dtype="f4")
    for k in range(30):
        many.setncattr("a%02d" % k, np.float32(k) / 3)
    ch = ds.createVariable("ch", "S1", ("x",))
    ch[:] = np.array(list("abcdefghijklm"), "S1")
    for k in range(12):
        w = ds.createVariable("w%02d" % k, "i2", ("y",))
        w[:] = np.arange(6, dtype="i2") * k
    ds.u64 = np.array([2 ** 64 - 1, 0], "u8")
    ds.i8 = np.array([-2 ** 63], "i8")
    ds.title = "every type"
    ds.close()


def partial(path):
    ds = netCDF4.Dataset(path, "w")
    ds.createDimension("y", 20)
    ds.createDimension("x", 30)
    v = ds.createVariable("v", "f4", ("y", "x"), zlib=True, chunksizes=(8, 8), fill_value=np.float32(-1.5))
    v[0:8, 0:8] = np.ones((8, 8), "f4")
    v[16:20, 24:30] = np.full((4, 6), 2, "f4")
    w = ds.createVariable("w", "i4", ("y", "x"), chunksizes=(5, 5))  # default fill
    w[5:10, 5:10] = np.arange(25, dtype="i4").reshape(5, 5)
    ds.close()


def classic_model(path):
    rng = np.random.default_rng(12)
    ds = netCDF4.Dataset(path, "w", format="NETCDF4_CLASSIC")
    mf.globals_(ds, 0)
    mf.grid(ds, 4, 6)
    mf.time_var(ds, [0, 1], "days since 2000-01-01")
    mf.data_vars(ds, rng, range(2))
    ds.close()


CDL = """netcdf nc4_ncgen {
dimensions:
  time = UNLIMITED ;
  station = 3 ;
  name_len = 5 ;
variables:
  double time(time) ;
    time:units = "hours since 2020-01-01" ;
  float temp(time, station) ;
    temp:_FillValue = -9999.f ;
    temp:_Storage = "chunked" ;
    temp:_ChunkSizes = 2, 3 ;
    temp:_DeflateLevel = 2 ;
    temp:_Shuffle = "true" ;
  char name(station, name_len) ;
  ushort code(station) ;
  string label ;
// global attributes:
  :title = "ncgen fixture" ;
  string :tags = "a", "bb" ;
  :ints = 1, -2, 3 ;
data:
  time = 0, 6, 12, 18 ;
  temp = 1.5, 2.5, _, 4.5, 5.5, 6.5, 7.5, _, 9.5, 10.5, 11.5, 12.5 ;
  name = "alpha", "beta", "gamma" ;
  code = 1, 65535, 3 ;
  label = "x" ;
}
"""


def ncgen(path):
    cdl = os.path.join(FORMATS, "nc4_ncgen.cdl")
    with open(cdl, "w") as f:
        f.write(CDL.replace("  string label ;\n", "").replace('  label = "x" ;\n', ""))
    subprocess.run(["ncgen", "-k", "nc4", "-o", path, cdl], check=True)


def nccopy(path):
    subprocess.run(["nccopy", "-k", "nc4", "-d", "1", "-s", os.path.join(FORMATS, "alltypes_netcdf3_classic.nc"), path],
                   check=True)


def h5py_latest(path):
    with h5py.File(path, "w", libver="latest", track_order=False) as f:
        x = f.create_dataset("x", data=np.arange(10, dtype="f8"), track_times=False)
        x.make_scale("x")
        t = f.create_dataset("t", data=np.arange(3, dtype="f8"), maxshape=(None,), chunks=(2,), track_times=False)
        t.make_scale("t")

        def var(name, data, **kw):
            d = f.create_dataset(name, data=data, **kw, track_times=False)
            for i, s in enumerate([t, x][-data.ndim:]):
                d.dims[i].attach_scale(s)
            return d
        a = np.arange(30).reshape(3, 10)
        var("single", np.arange(10, dtype="i4"), chunks=(10,), compression="gzip")
        var("fixed", a.astype("i2"), chunks=(1, 3), compression="gzip", shuffle=True)
        var("fixed_plain", a.astype("i2"), chunks=(2, 3))
        var("extensible", a.astype("f4"), chunks=(1, 2), maxshape=(None, 10), compression="gzip")
        var("extensible_plain", a.astype(">f4"), chunks=(1, 1), maxshape=(None, 10))
        var("btree2", a.astype("u2"), chunks=(1, 3), maxshape=(None, None), compression="gzip", fletcher32=True)
        var("btree2_plain", a.astype("u2"), chunks=(1, 3), maxshape=(None, None))
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_layout(h5py.h5d.COMPACT)
        dcpl.set_obj_track_times(False)
        space = h5py.h5s.create_simple((10,))
        c = h5py.h5d.create(f.id, b"compact", h5py.h5t.STD_I32BE, space, dcpl=dcpl)
        c.write(h5py.h5s.ALL, h5py.h5s.ALL, np.arange(10, dtype="i4"))
        f["compact"].dims[0].attach_scale(x)
        for k in range(25):
            f["fixed"].attrs["attr%02d" % k] = np.int32(k)
        f["fixed"].attrs["units"] = "m"
        f.attrs["title"] = "h5py file"
        f.attrs["scales"] = np.array([0.5, 0.25])


def h5py_userblock(path):
    with h5py.File(path, "w", userblock_size=512) as f:
        x = f.create_dataset("x", data=np.arange(4, dtype="f8"), track_times=False)
        x.make_scale("x")
        v = f.create_dataset("v", data=np.arange(4, dtype="i8"), track_times=False)
        v.dims[0].attach_scale(x)


def h5py_phony(path):
    with h5py.File(path, "w", libver="latest") as f:
        f.create_dataset("paged", data=np.arange(2100, dtype="i2"), chunks=(1,), track_times=False)
        f.create_dataset("grown", data=np.arange(700, dtype="i2"), chunks=(1,), maxshape=(None,), track_times=False)
        f.create_dataset("grid", data=np.arange(12, dtype="u1").reshape(3, 4), track_times=False)


def enums(path):
    """Enum types as netCDF4-python writes them: an unsigned one with a fill
    value among its members, a signed one with negative values and a name
    with blanks."""
    ds = netCDF4.Dataset(path, "w")
    ds.createDimension("x", 4)
    cloud = ds.createEnumType(np.uint8, "cloud_t", {"clear": 0, "cumulus": 1, "stratus": 2, "missing": 255})
    v = ds.createVariable("cloud", cloud, ("x",), fill_value=255)
    v.long_name = "cloud type"
    v[:] = np.array([0, 1, 2, 255], dtype="u1")
    level = ds.createEnumType(np.int16, "level_t", {"deep below": -300, "surface": 0, "high": 1000})
    ds.createVariable("level", level, ("x",))[:] = np.array([-300, 0, 1000, 0], dtype="i2")
    ds.close()


def h5py_groups(path):
    """Plain HDF5 groups with data and no dimension scales: netCDF-C gives
    their datasets phony dimensions, numbered across the file, a group's
    sub-groups (by name) before its own datasets. Not named nc4_*: its
    root cannot be read (its groups hold data), only each group."""
    with h5py.File(path, "w") as f:
        f.create_dataset("zz", data=np.arange(12, dtype="f8").reshape(3, 4), track_times=False)
        b = f.create_group("B")
        b.create_dataset("v", data=np.arange(5, dtype="i4"), track_times=False)
        a = f.create_group("A")
        a.create_dataset("w", data=np.arange(9, dtype="i2").reshape(3, 3), track_times=False)
        a.create_group("C").create_dataset("u", data=np.arange(2, dtype="u1"), track_times=False)
        a.create_dataset("a2", data=np.arange(7, dtype="f4"), track_times=False)
        f.create_dataset("aa", data=np.arange(6, dtype="i8"), track_times=False)


def h5py_null(path):
    """Null (H5S_NULL) dataspaces, which h5py writes for h5py.Empty: a
    dataset of no values that carries attributes, and an empty attribute."""
    with h5py.File(path, "w") as f:
        x = f.create_dataset("x", data=np.arange(3, dtype="f8"), track_times=False)
        x.make_scale("x")
        v = f.create_dataset("v", data=np.arange(3, dtype="i4"), track_times=False)
        v.dims[0].attach_scale(x)
        e = f.create_dataset("nothing", data=h5py.Empty("f4"), track_times=False)
        e.attrs["long_name"] = "a dataset of no values"
        f.attrs["empty"] = h5py.Empty("f8")


def unsupported():
    shutil.rmtree(UNSUPPORTED, ignore_errors=True)
    os.makedirs(UNSUPPORTED)
    ds = netCDF4.Dataset(os.path.join(UNSUPPORTED, "nested_group.nc"), "w")
    g = ds.createGroup("forecast")
    g.createDimension("n", 2)
    g.createVariable("v", "f4", ("n",))[:] = [1, 2]
    ds.close()
    ds = netCDF4.Dataset(os.path.join(UNSUPPORTED, "compound.nc"), "w")
    ds.createDimension("n", 2)
    ct = ds.createCompoundType(np.dtype([("a", "i4"), ("b", "f8")]), "pair")
    ds.createVariable("pairs", ct, ("n",))
    ds.close()
    with h5py.File(os.path.join(UNSUPPORTED, "lzf.nc"), "w") as f:
        f.create_dataset("v", data=np.arange(100, dtype="f4"), chunks=(10,), compression="lzf", track_times=False)


def collections():
    mf.simple("nc4_daily", [1] * 8, lambda i, s: "days since 2000-01-01", "NETCDF4", nlat=7, nlon=10, seed=20,
              notes="netCDF4, zlib level 4 + shuffle, chunks (1,4,6) that do not divide (7,10)")
    d = os.path.join(mf.COLL, "nc4_daily")
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".nc"):
            p = os.path.join(d, fn)
            subprocess.run(["nccopy", "-d", "4", "-s", "-c", "time/1,lat/4,lon/6", p, p + ".tmp"], check=True)
            os.replace(p + ".tmp", p)
    mf.simple("nc4_classic", [2] * 5, lambda i, s: "hours since 2001-01-01", "NETCDF4_CLASSIC", seed=21,
              values_fn=lambda i, s, n: [6 * (s + j) for j in range(n)],
              notes="NETCDF4_CLASSIC model, 2 steps per file, unlimited time chunked by netCDF-C")
    # bounds: noleap time with time_bnds, a scalar crs and a static mask
    d = mf.fresh("nc4_bounds")
    rng = np.random.default_rng(22)
    files, keys = [], []
    for i in range(6):
        key = "%02d" % i
        fn = "nc4_bounds_%s.nc" % key
        ds = netCDF4.Dataset(os.path.join(d, fn), "w")
        mf.globals_(ds, i)
        mf.grid(ds, 6, 8)
        ds.createDimension("bnds", 2)
        mf.time_var(ds, [2 * i + 0.5, 2 * i + 1.5], "days since 2001-02-27", calendar="noleap")
        ds["time"].bounds = "time_bnds"
        tb = ds.createVariable("time_bnds", "f8", ("time", "bnds"))
        tb[:] = [[2 * i, 2 * i + 1], [2 * i + 1, 2 * i + 2]]
        crs = ds.createVariable("crs", "i4")
        crs.grid_mapping_name = "latitude_longitude"
        mask = ds.createVariable("mask", "u1", ("lat", "lon"), zlib=True)
        mask[:] = (np.arange(48).reshape(6, 8) % 3 == 0).astype("u1")
        sst = ds.createVariable("sst", "i2", ("time", "lat", "lon"), zlib=True, shuffle=True, chunksizes=(1, 6, 8),
                                fill_value=np.int16(-999))
        sst.scale_factor = np.float32(0.01)
        sst.grid_mapping = "crs"
        v = rng.integers(-300, 3500, size=(2, 6, 8)).astype("i2")
        v[:, 0, :2] = -999
        sst.set_auto_maskandscale(False)
        sst[:] = v
        ds.close()
        files.append(fn)
        keys.append(key)
    mf.manifest("nc4_bounds", files, concat_keys=keys, template="nc4_bounds_{time}.nc", nitems_per_file=2,
                format="NETCDF4", open_kwargs={"data_vars": "minimal", "coords": "minimal", "compat": "override"},
                notes="noleap time with time_bnds(time, bnds), scalar crs, static uint8 mask, "
                                        "zlib+shuffle chunks of a whole time step")
    tiled()
    unstorable()
    checksummed()
    enum_collection()
    grouped()


def tiled():
    """nc4_tiled: the read-group case. Uneven files (3, 5, 2, 4 steps) split by
    variable along a merge dim, each variable stored in tiles that the test's
    target chunks cut on every axis, with tile shapes that differ between
    files (as a producer changing its settings would)."""
    d = mf.fresh("nc4_tiled")
    rng = np.random.default_rng(23)
    lengths = [3, 5, 2, 4]
    tiles = {"sst": [(2, 4, 5), (2, 4, 5), (3, 3, 5), (3, 3, 5)], "ice": [(4, 9, 4)] * 4}
    nested, keys, start = [[], []], [], 0
    for i, n in enumerate(lengths):
        key = "%02d" % i
        keys.append(key)
        for vi, name in enumerate(["sst", "ice"]):
            fn = "nc4_tiled_%s_%s.nc" % (name, key)
            ds = netCDF4.Dataset(os.path.join(d, fn), "w", format="NETCDF4")
            mf.globals_(ds, i)
            mf.grid(ds, 9, 13)
            mf.time_var(ds, [start + j for j in range(n)], "days since 2001-01-01")
            tile = tuple(min(t, n) if k == 0 else t for k, t in enumerate(tiles[name][i]))
            if name == "sst":
                v = ds.createVariable("sst", "i2", ("time", "lat", "lon"), zlib=True, shuffle=True,
                                      chunksizes=tile, fill_value=np.int16(-999))
                v.scale_factor = np.float32(0.01)
                v.set_auto_maskandscale(False)
                x = rng.integers(-300, 3500, size=(n, 9, 13)).astype("i2")
                x[:, 0, :3] = -999
                v[:] = x
            else:
                v = ds.createVariable("ice", "f4", ("time", "lat", "lon"), zlib=True, chunksizes=tile,
                                      fill_value=np.float32(np.nan))
                x = rng.random(size=(n, 9, 13)).astype("f4")
                x[:, 4, 4] = np.nan
                v[:] = x
            ds.close()
            nested[vi].append(fn)
        start += n
    mf.manifest("nc4_tiled", nested, merge_dim="variable", merge_keys=["sst", "ice"], concat_keys=keys,
                template="nc4_tiled_{variable}_{time}.nc", format="NETCDF4",
                notes="uneven files (3, 5, 2, 4 steps), merge dim, zlib tiles sst (2,4,5)/(3,3,5), ice (4,9,4) "
                      "over a 9x13 grid")


def checksummed():
    """nc4_checksummed: what references must express of HDF5 storage beyond
    zlib: big-endian values, Fletcher-32 checksums, shuffle without
    compression, and contiguous variables along a fixed (not unlimited)
    time dimension, two steps a file."""
    d = mf.fresh("nc4_checksummed")
    rng = np.random.default_rng(24)
    files, keys = [], []
    for i in range(4):
        key = "%02d" % i
        fn = "nc4_checksummed_%s.nc" % key
        ds = netCDF4.Dataset(os.path.join(d, fn), "w", format="NETCDF4")
        mf.globals_(ds, i)
        mf.grid(ds, 5, 6)
        ds.createDimension("time", 2)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "days since 2002-01-01"
        t.standard_name = "time"
        t[:] = [2 * i, 2 * i + 1]
        sst = ds.createVariable("sst", "i2", ("time", "lat", "lon"), zlib=True, shuffle=True, fletcher32=True,
                                endian="big", chunksizes=(1, 5, 3), fill_value=np.int16(-999))
        sst.scale_factor = np.float32(0.01)
        sst.set_auto_maskandscale(False)
        sst[:] = rng.integers(-300, 3500, size=(2, 5, 6)).astype("i2")
        ice = ds.createVariable("ice", "f4", ("time", "lat", "lon"), contiguous=True, endian="big")
        ice[:] = rng.random(size=(2, 5, 6)).astype("f4")
        n = ds.createVariable("count", "i4", ("time", "lat", "lon"), shuffle=True, fletcher32=True, chunksizes=(2, 5, 6))
        n[:] = rng.integers(0, 100, size=(2, 5, 6)).astype("i4")
        ds.close()
        files.append(fn)
        keys.append(key)
    mf.manifest("nc4_checksummed", files, concat_keys=keys, template="nc4_checksummed_{time}.nc", nitems_per_file=2,
                format="NETCDF4", notes="fixed time of 2 a file; sst big-endian zlib+shuffle+fletcher32 chunks (1,5,3); "
                                        "ice big-endian contiguous; count shuffle+fletcher32, no compression")


def enum_collection():
    """nc4_enums: a daily cloud-type field of an enum type, as netCDF4-python
    writes it, three files: stored as its integer values with the members as
    flag_values and flag_meanings."""
    d = mf.fresh("nc4_enums")
    rng = np.random.default_rng(23)
    files, keys = [], []
    for i in range(3):
        key = "%02d" % i
        fn = "nc4_enums_%s.nc" % key
        ds = netCDF4.Dataset(os.path.join(d, fn), "w")
        mf.globals_(ds, i)
        mf.grid(ds, 3, 4)
        mf.time_var(ds, [i], "days since 2001-01-01")
        cloud = ds.createEnumType(np.uint8, "cloud_t", {"clear": 0, "cumulus": 1, "stratus": 2, "missing": 255})
        v = ds.createVariable("cloud", cloud, ("time", "lat", "lon"), fill_value=255, zlib=True)
        v.long_name = "cloud type"
        a = rng.integers(0, 3, size=(1, 3, 4)).astype("u1")
        a[0, 0, 0] = 255
        v[:] = a
        ds.close()
        files.append(fn)
        keys.append(key)
    mf.manifest("nc4_enums", files, concat_keys=keys, template="nc4_enums_{time}.nc", nitems_per_file=1, format="NETCDF4",
                notes="an enum variable (uint8 cloud_t with a fill member)")


def grouped():
    """grouped: radar-like volumes, a file per scan of three: the root holds
    the range dimension and its coordinate and global attributes; groups
    sweep_0 and sweep_1 each hold their own time dimension (of different
    lengths), time coordinate and DBZH(time, range); sweep_1/extra holds
    ZDR(time, range) on its parent's time and the root's range; group meta
    holds no data along time. The manifest compares sweep_0; recipes
    compare the others by overriding open_kwargs.group."""
    d = mf.fresh("grouped")
    rng = np.random.default_rng(24)
    files, keys = [], []
    for i in range(3):
        key = "%02d" % i
        fn = "grouped_%s.nc" % key
        ds = netCDF4.Dataset(os.path.join(d, fn), "w")
        ds.title = "zarrforge grouped fixture"
        ds.scan = np.int32(i)
        ds.createDimension("range", 5)
        r = ds.createVariable("range", "f4", ("range",))
        r.units = "m"
        r[:] = np.arange(5) * 250.0
        for s, n in (("sweep_0", 2), ("sweep_1", 3)):
            g = ds.createGroup(s)
            g.elevation = np.float32(0.5 + int(s[-1]))
            g.createDimension("time", None)
            t = g.createVariable("time", "f8", ("time",))
            t.units = "seconds since 2020-01-01"
            t[:] = 60.0 * (i * n + np.arange(n))
            z = g.createVariable("DBZH", "f4", ("time", "range"), fill_value=np.float32(-9999), zlib=True)
            z.units = "dBZ"
            z[:] = rng.random(size=(n, 5)).astype("f4") * 60
        e = ds["sweep_1"].createGroup("extra")
        zdr = e.createVariable("ZDR", "i2", ("time", "range"), fill_value=np.int16(-1))
        zdr.scale_factor = np.float32(0.1)
        zdr.set_auto_maskandscale(False)
        zdr[:] = rng.integers(0, 100, size=(3, 5)).astype("i2")
        m = ds.createGroup("meta")
        m.createVariable("site", "i4", ())[...] = 7
        ds.close()
        files.append(fn)
        keys.append(key)
    mf.manifest("grouped", files, concat_keys=keys, template="grouped_{time}.nc", format="NETCDF4",
                open_kwargs={"group": "sweep_0"}, notes="netCDF-4 groups: one read as the dataset (pattern.group)")


def unstorable():
    """nc4_unstorable: anom is packed with a scale_factor that changes between
    files, so the collection is refused as it is; sst is fine. With
    preprocess drop_vars: [anom] it converts."""
    d = mf.fresh("nc4_unstorable")
    rng = np.random.default_rng(24)
    files, keys = [], []
    for i in range(3):
        key = "%02d" % i
        fn = "nc4_unstorable_%s.nc" % key
        ds = netCDF4.Dataset(os.path.join(d, fn), "w", format="NETCDF4")
        mf.globals_(ds, i)
        mf.grid(ds, 5, 6)
        mf.time_var(ds, [i], "days since 2001-01-01")
        sst = ds.createVariable("sst", "f4", ("time", "lat", "lon"), zlib=True, fill_value=np.float32(np.nan))
        sst[:] = rng.random(size=(1, 5, 6)).astype("f4")
        anom = ds.createVariable("anom", "i2", ("time", "lat", "lon"), zlib=True, fill_value=np.int16(-999))
        anom.scale_factor = np.float32(0.01 if i == 0 else 0.1)
        anom.set_auto_maskandscale(False)
        anom[:] = rng.integers(-300, 300, size=(1, 5, 6)).astype("i2")
        ds.close()
        files.append(fn)
        keys.append(key)
    mf.manifest("nc4_unstorable", files, concat_keys=keys, template="nc4_unstorable_{time}.nc", format="NETCDF4",
                notes="anom's scale_factor changes between files (refused unless dropped)")


def main():
    writers = {"nc4_packed.nc": packed, "nc4_types.nc": types, "nc4_partial.nc": partial,
               "nc4_classic_model.nc": classic_model, "nc4_ncgen.nc": ncgen, "nc4_nccopy.nc": nccopy,
               "nc4_h5py_latest.nc": h5py_latest, "nc4_h5py_userblock.nc": h5py_userblock,
               "nc4_h5py_phony.nc": h5py_phony, "nc4_h5py_null.nc": h5py_null, "h5py_groups.nc": h5py_groups,
               "nc4_enums.nc": enums}
    for name, write in writers.items():
        path = os.path.join(FORMATS, name)
        if os.path.exists(path):
            os.remove(path)
        write(path)
        netCDF4.Dataset(path).close()  # netCDF-C must read it: it is the oracle
    unsupported()
    collections()


if __name__ == "__main__":
    alone = {"nc4_tiled": tiled, "nc4_unstorable": unstorable, "nc4_checksummed": checksummed, "nc4_enums": enum_collection, "grouped": grouped}
    if len(sys.argv) == 2 and sys.argv[1] in alone:  # this collection alone, leaving the others as committed
        alone[sys.argv[1]]()
    else:
        main()
