#!/usr/bin/python3
"""Writes small files that reproduce what real-world netCDF and HDF5 files
(other tools' output) made the reader get wrong, each with the tool that
makes such files in the wild:

  testdata/formats/rw_*.nc        files netCDF-C reads: compared value for value
                                  with netCDF4-python by netcdf/classic_test.go
  netcdf/testdata/rw/*.nc         files netCDF4-python here cannot be the oracle
                                  for (zstd needs a plugin Debian lacks; external
                                  storage): checked by netcdf/realworld_test.go
                                  against the values written here
  testdata/collections/rw_*/      collections that real files' oddities make hard
                                  to store, converted end to end and compared with
                                  xarray.open_mfdataset by recipes/TestCollections

Run from the repository root:  /usr/bin/python3 testdata/make_realworld_fixtures.py
Deterministic on one machine."""
import os
import struct
import sys

import h5py
import netCDF4
import numcodecs
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402

ROOT = mf.ROOT
FORMATS = os.path.join(ROOT, "testdata", "formats")
RW = os.path.join(ROOT, "netcdf", "testdata", "rw")


def fvcom(path):
    """FVCOM-style sigma layers: siglay(siglay, node) is the dimension scale
    of siglay, and y(x, y) is stored by netCDF-C as _nc4_non_coord_y."""
    ds = netCDF4.Dataset(path, "w")
    ds.createDimension("siglay", 3)
    ds.createDimension("node", 4)
    ds.createDimension("x", 2)
    ds.createDimension("y", 5)
    s = ds.createVariable("siglay", "f4", ("siglay", "node"))
    s.long_name = "Sigma Layers"
    s[:] = -np.linspace(0.1, 0.9, 12, dtype="f4").reshape(3, 4)
    y = ds.createVariable("y", "f8", ("x", "y"))
    y[:] = np.arange(10).reshape(2, 5)
    t = ds.createVariable("temp", "f4", ("siglay", "node"))
    t[:] = np.arange(12, dtype="f4").reshape(3, 4)
    ds.close()


def nul_names(path):
    """A netCDF-3 file whose names carry NUL padding inside their length, as
    old writers (netCDF-C's own nctest reference files) left them:
    dimension "pp\\0", variable "yy\\0" and attribute "plugh\\0\\0"."""
    ds = netCDF4.Dataset(path, "w", format="NETCDF3_CLASSIC")
    ds.createDimension("pp", 3)
    v = ds.createVariable("yy", "i2", ("pp",))
    v[:] = [1, 2, 3]
    ds.setncattr("plugh", np.int16([3, 4, 5]))
    ds.close()
    b = bytearray(open(path, "rb").read())
    for name, padded in [(b"pp", b"pp\0"), (b"yy", b"yy\0"), (b"plugh", b"plugh\0\0")]:
        old = struct.pack(">i", len(name)) + name + b"\0" * (-len(name) % 4)
        new = struct.pack(">i", len(padded)) + padded + b"\0" * (-len(padded) % 4)
        assert len(old) == len(new) and b.count(old) == 1, name
        b[b.index(old):b.index(old) + len(old)] = new
    open(path, "wb").write(bytes(b))


def strings(path):
    """netCDF-4 string (variable-length UTF-8) variables, as station and model
    names are stored: non-ASCII text, empty strings, two dimensions, a
    scalar, and an unlimited dimension other variables made longer."""
    ds = netCDF4.Dataset(path, "w")
    ds.createDimension("station", 4)
    ds.createDimension("time", None)
    ds.createDimension("two", 2)
    v = ds.createVariable("station_name", str, ("station",))
    v.long_name = "station name"
    v[:] = np.array(["Z\u00fcrich", "S\u00e3o Paulo", "", "Ushuaia"], dtype=object)
    g = ds.createVariable("pairs", str, ("two", "two"))
    g[:] = np.array([["a", "bc"], ["def", "\u2013"]], dtype=object)
    s = ds.createVariable("model", str, ())
    s[...] = np.array("CESM2", dtype=object)
    t = ds.createVariable("time", "f8", ("time",))
    t[:] = np.arange(3.0)
    n = ds.createVariable("note", str, ("time",))
    n[0] = "first"
    ds.close()


def huge_attr(path):
    """Attributes in dense storage (more than 8 on one object) with one too
    large for the fractal heap's blocks: HDF5 stores it as a huge object,
    found through a B-tree (EUMETSAT's ASCAT products carry such a
    history)."""
    ds = netCDF4.Dataset(path, "w")
    for i in range(12):
        ds.setncattr("attr%02d" % i, "value %d" % i)
    ds.history = "".join("step %05d: regridded and checked;\n" % i for i in range(2000))  # ~70 KB
    ds.createDimension("x", 3)
    v = ds.createVariable("v", "i2", ("x",))
    v[:] = [1, 2, 3]
    for i in range(10):
        v.setncattr("a%d" % i, np.float32(i))
    v.comment = "x" * 70000
    ds.close()


def zero_records(path):
    """A netCDF-3 file with only record variables and no records: netCDF-C
    places the second record variable beyond the end of the file."""
    ds = netCDF4.Dataset(path, "w", format="NETCDF3_64BIT_OFFSET")
    ds.createDimension("time", None)
    ds.createDimension("lat", 3)
    ds.createVariable("time", "f8", ("time",)).units = "days since 2000-01-01"
    ds.createVariable("sst", "i2", ("time", "lat"))
    ds.close()


def soft_links(path, libver, dangling=False):
    """Soft links to a dataset (followed, as netCDF-C follows them), one to a
    group, and a group that holds only an empty group; with dangling, a soft
    link to nothing (netCDF-C refuses such a file)."""
    with h5py.File(path, "w", libver=libver) as f:
        f.create_dataset("arr", data=np.arange(4, dtype="<i8"))
        f["alias"] = h5py.SoftLink("/arr")
        f.create_group("empty").create_group("inner")
        f["empty2"] = h5py.SoftLink("empty")
        f["relative"] = h5py.SoftLink("arr")
        f["empty"]["inner2"] = h5py.SoftLink("inner")
        f.attrs["title"] = "soft links"
        if dangling:
            f["dangling"] = h5py.SoftLink("/nowhere")
            f["loop"] = h5py.SoftLink("/loop")


def zstd(path):
    """HDF5's zstd filter (32015) as the HDF5 zstd plugin writes it: one
    ZSTD_compress frame per chunk, content size set. A 180-value latitude in
    one 720-byte chunk, and a 2-D variable in chunks of 32 KiB. Written with
    h5py's direct chunk writes, the chunks compressed by numcodecs (the same
    libzstd call the plugin makes)."""
    lat = np.linspace(-89.5, 89.5, 180, dtype="<f4")
    grid = np.arange(128 * 64, dtype="<f8").reshape(128, 64)
    with h5py.File(path, "w") as f:
        for name, data, chunks in [("lat", lat, (180,)), ("grid", grid, (64, 64))]:
            d = f.create_dataset(name, shape=data.shape, dtype=data.dtype, chunks=chunks,
                                 compression=32015, compression_opts=(3,), allow_unknown_filter=True)
            for start in np.ndindex(*[n // c for n, c in zip(data.shape, chunks)]):
                off = tuple(s * c for s, c in zip(start, chunks))
                sl = tuple(slice(o, o + c) for o, c in zip(off, chunks))
                d.id.write_direct_chunk(off, numcodecs.Zstd(level=3).encode(np.ascontiguousarray(data[sl])))


def external(path):
    """A dataset whose data lives in an external raw file (HDF5's External
    Data Files message)."""
    raw = os.path.join(os.path.dirname(path), "external.bin")
    np.arange(6, dtype="<i4").tofile(raw)
    with h5py.File(path, "w") as f:
        f.create_dataset("ext", shape=(6,), dtype="<i4", external=[("external.bin", 0, 24)])
        f.create_dataset("inside", data=np.arange(3, dtype="<i4"))


def rw_text():
    """netCDF-4 station data as CMIP and observation archives write it: text
    attributes beyond ASCII (an en dash in references), string variables
    (station names, static; a remark per time step, some empty), a string
    attribute list."""
    d = mf.fresh("rw_text")
    rng = np.random.default_rng(12)
    files, keys = [], []
    for i in range(3):
        fn = "rw_text_%d.nc" % i
        ds = netCDF4.Dataset(os.path.join(d, fn), "w")
        ds.title = "Stations \u2013 Z\u00fcrich and S\u00e3o Paulo"
        ds.references = "Smith, J. \u2013 Jones, K. (2019): Na\u00efve \u201cquotes\u201d \U0001F30A"
        ds.setncattr_string("keywords", ["ocean", "temp\u00e9rature"])
        ds.createDimension("time", None)
        ds.createDimension("station", 4)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "days since 2000-01-01"
        t[:] = [2 * i, 2 * i + 1]
        n = ds.createVariable("station_name", str, ("station",))
        n.long_name = "station name \u2013 official"
        n[:] = np.array(["Z\u00fcrich", "S\u00e3o Paulo", "", "Ushuaia"], dtype=object)
        r = ds.createVariable("remark", str, ("time",))
        r[:] = np.array(["step %d \u2713" % (2 * i), "" if i == 1 else "ok"], dtype=object)
        o = ds.createVariable("obs", "f4", ("time", "station"), fill_value=np.float32(np.nan))
        o.units = "\u00b0C"
        o[:] = rng.random((2, 4)).astype("f4")
        ds.close()
        files.append(fn)
        keys.append(str(i))
    mf.manifest("rw_text", files, concat_keys=keys, template="rw_text_{time}.nc", nitems_per_file=2, format="NETCDF4",
                open_kwargs={"data_vars": "minimal", "coords": "minimal", "compat": "override"},
                notes="non-ASCII attributes, string variables (static and along time), string attribute list")


def rw_fills():
    """netCDF-3 files with fill values other tools write: a packed short
    whose _FillValue is a double NaN (the xarray tutorial's ERA-Interim
    file), which masks nothing, and a char variable whose _FillValue is a
    whole string ("-9999"), which masks the strings equal to it. netCDF-C's
    own writers refuse both, so the attributes are written under another
    name and renamed in the file's bytes."""
    d = mf.fresh("rw_fills")
    files, keys = [], []
    for i in range(3):
        fn = "rw_fills_%d.nc" % i
        path = os.path.join(d, fn)
        ds = netCDF4.Dataset(path, "w", format="NETCDF3_CLASSIC")
        ds.createDimension("time", None)
        ds.createDimension("lat", 3)
        ds.createDimension("strlen", 5)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "hours since 1979-01-01"
        t[:] = [6.0 * i]
        v = ds.createVariable("t2m", "i2", ("time", "lat"))
        v.setncattr("_FillValuX", np.float64(np.nan))
        v.scale_factor = np.float64(0.002)
        v.add_offset = np.float64(260.0)
        v.set_auto_maskandscale(False)
        v[:] = np.array([[0, -32767, 100 * i]], dtype="i2")  # 0 and -32767 are data, not fill
        c = ds.createVariable("code", "S1", ("time", "strlen"))
        c.setncattr("_FillValuX", "-9999")
        c.set_auto_maskandscale(False)
        c[:] = netCDF4.stringtochar(np.array(["-9999" if i == 1 else "ab%d" % i], dtype="S5"))
        ds.close()
        b = open(path, "rb").read()
        assert b.count(b"_FillValuX") == 2
        open(path, "wb").write(b.replace(b"_FillValuX", b"_FillValue"))
        files.append(fn)
        keys.append(str(i))
    mf.manifest("rw_fills", files, concat_keys=keys, template="rw_fills_{time}.nc", nitems_per_file=1,
                format="NETCDF3_CLASSIC", notes="NaN _FillValue on a packed short; a string _FillValue on a char variable")


def rw_coords_only():
    """Inputs that hold nothing but the time coordinate."""
    d = mf.fresh("rw_coords_only")
    files, keys = [], []
    for i in range(3):
        fn = "rw_coords_only_%d.nc" % i
        ds = netCDF4.Dataset(os.path.join(d, fn), "w", format="NETCDF3_CLASSIC")
        ds.createDimension("time", None)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "days since 2000-01-01"
        t[:] = [i]
        ds.close()
        files.append(fn)
        keys.append(str(i))
    mf.manifest("rw_coords_only", files, concat_keys=keys, template="rw_coords_only_{time}.nc", nitems_per_file=1,
                format="NETCDF3_CLASSIC", notes="nothing but the time coordinate")


def rw_unwritten():
    """netCDF-4 files with chunks never written (issue 29, item 2): sst
    (zlib and shuffle) has no _FillValue attribute (netCDF-C puts its
    default fill in the HDF5 fill property), ice (zlib and fletcher32) has
    a _FillValue, and mask is contiguous and never written at all (no
    storage allocated). netCDF4-python reads the fill there; a reference
    set must read the same."""
    d = mf.fresh("rw_unwritten")
    files, keys = [], []
    for i in range(2):
        fn = "rw_unwritten_%d.nc" % i
        ds = netCDF4.Dataset(os.path.join(d, fn), "w", format="NETCDF4")
        ds.createDimension("time", 1)  # fixed: mask is contiguous along it
        ds.createDimension("lat", 4)
        ds.createDimension("lon", 6)
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "days since 2000-01-01"
        t[:] = [float(i)]
        sst = ds.createVariable("sst", "f4", ("time", "lat", "lon"), chunksizes=(1, 2, 3), zlib=True, shuffle=True)
        sst[0, 0:2, 0:3] = np.arange(6, dtype="f4").reshape(2, 3) + 10 * i  # one chunk of four
        ice = ds.createVariable("ice", "i2", ("time", "lat", "lon"), chunksizes=(1, 2, 3), fill_value=-999,
                                zlib=True, shuffle=False, fletcher32=True)
        ice[0, 2:4, 3:6] = np.arange(6, dtype="i2").reshape(2, 3) + i
        ds.createVariable("mask", "f8", ("time", "lat", "lon"), contiguous=True)
        ds.close()
        h = h5py.File(os.path.join(d, fn), "r")
        assert h["mask"].id.get_offset() is None, "mask has storage"
        h.close()
        files.append(fn)
        keys.append(str(i))
    mf.manifest("rw_unwritten", files, concat_keys=keys, template="rw_unwritten_{time}.nc", nitems_per_file=1,
                format="NETCDF4", notes="chunks never written; a contiguous variable with no storage")


def bomb(path):
    """A decompression bomb: one 64 MiB chunk of zeros in a file of 64 KiB
    (zlib, written directly), beside a small variable."""
    import zlib
    with h5py.File(path, "w") as f:
        f.create_dataset("small", data=np.arange(4, dtype="<i4"))
        d = f.create_dataset("zeros", shape=(1, 4096, 4096), dtype="<i4", chunks=(1, 4096, 4096), compression="gzip")
        z = zlib.compressobj(9)
        block = bytes(1 << 20)
        data = b"".join(z.compress(block) for _ in range(64)) + z.flush()
        d.id.write_direct_chunk((0, 0, 0), data)


def sparse(path):
    """A file of a few KiB that declares a 40000 x 40000 float variable it
    never writes."""
    ds = netCDF4.Dataset(path, "w")
    ds.createDimension("time", None)
    ds.createDimension("lat", 40000)
    ds.createDimension("lon", 40000)
    t = ds.createVariable("time", "f8", ("time",))
    t.units = "days since 2000-01-01"
    t[:] = [0.0]
    ds.createVariable("big", "f4", ("time", "lat", "lon"), chunksizes=(1, 1000, 1000))
    ds.close()


def main():
    os.makedirs(RW, exist_ok=True)
    for name, write in [("rw_fvcom.nc", fvcom), ("rw_nul_names.nc", nul_names), ("rw_strings.nc", strings), ("rw_huge_attr.nc", huge_attr), ("rw_zero_records.nc", zero_records),
                        ("rw_soft_links_old.nc", lambda p: soft_links(p, "earliest")),
                        ("rw_soft_links_new.nc", lambda p: soft_links(p, "latest"))]:
        path = os.path.join(FORMATS, name)
        if os.path.exists(path):
            os.remove(path)
        write(path)
        netCDF4.Dataset(path).close()  # netCDF-C must read it: it is the oracle
    zstd(os.path.join(RW, "zstd.nc"))
    external(os.path.join(RW, "external.nc"))
    soft_links(os.path.join(RW, "dangling.nc"), "latest", dangling=True)
    bomb(os.path.join(RW, "bomb.nc"))
    sparse(os.path.join(RW, "sparse.nc"))
    rw_text()
    rw_fills()
    rw_coords_only()
    rw_unwritten()


if __name__ == "__main__":
    main()
