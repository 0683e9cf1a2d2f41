#!/usr/bin/python3
"""The interop oracle: compares a Zarr store (or a kerchunk reference file,
PATH ending in .json, opened through fsspec's reference filesystem) with
xarray.open_mfdataset of the netCDF inputs it was made from.

usage: compare_store.py --store PATH --manifest collection.json
                        [--files-json JSON] [--chunks JSON] [--zarrita DUMP]

With --zarrita, the store is a Zarr v3 one, which the xarray here (with
zarr-python 2) cannot open: DUMP is what zarrita read from it
(beamtest/zarrita/dump.mjs), rewritten here as a v2 store to compare.

Prints one JSON object {"ok": bool, "problems": [...], "checked": {...}} and
exits 0; exits 2 on usage errors."""
import argparse
import base64
import functools
import json
import os
import struct
import sys
import tempfile
import traceback

import numpy as np
import xarray as xr
import zarr

ENCODING_KEYS = ("dtype", "_FillValue", "scale_factor", "add_offset", "units", "calendar")


def norm(v):
    """Attribute values as plain comparable python values."""
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, (list, tuple)):
        return [norm(x) for x in v]
    if isinstance(v, float) and np.isnan(v):
        return "NaN"
    return v


def same_value(a, b):
    a, b = norm(a), norm(b)
    if isinstance(a, float) and isinstance(b, float):
        # float32 attributes are widened exactly in JSON: compare as float32
        return a == b or np.float32(a) == np.float32(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b))
    return a == b


def compare_attrs(where, a, b, problems):
    for k in sorted(set(a) | set(b)):
        if k not in a or k not in b:
            problems.append("%s: attribute %r only in %s" % (where, k, "store" if k in a else "reference"))
        elif not same_value(a[k], b[k]):
            problems.append("%s: attribute %r: store %r vs reference %r" % (where, k, norm(a[k]), norm(b[k])))


def equal_arrays(a, b):
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    if a.dtype.kind == "O" or b.dtype.kind == "O":  # strings, with NaN where masked
        nan = lambda x: isinstance(x, float) and np.isnan(x)  # noqa: E731
        return all(x == y or nan(x) and nan(y) for x, y in zip(a.ravel(), b.ravel()))
    return bool(np.array_equal(a, b))


def same_encoding(k, g, w):
    """Whether the store's encoding value g of key k says what the
    reference's w (from the netCDF inputs) says, in the form xarray itself
    writes it to Zarr."""
    a, b = g.encoding.get(k), w.encoding.get(k)
    if k == "dtype" and isinstance(a, np.dtype) and isinstance(b, np.dtype) and a != b and a.newbyteorder("=") == b.newbyteorder("="):
        return True  # a reference file keeps the inputs' byte order (big-endian in netCDF-3)
    if k == "dtype" and b is None and a is not None and (a == w.dtype or a == np.dtype("O") and w.dtype.kind in "OU"):
        return True  # keys made a coordinate in memory (expand_dims) have no encoding: stored as they are (text as objects)
    if k == "dtype" and b is str:  # netCDF-4 strings: xarray writes object arrays
        return a == np.dtype("O")
    if k == "dtype" and "char_dim_name" in w.encoding and a is not None and a.kind == "S":
        return True  # characters as fixed-width strings, as xarray writes them (the char dim folded)
    if k == "_FillValue" and a is None and isinstance(b, float) and np.isnan(b) and w.encoding.get("dtype", np.dtype("f")).kind in "iu":
        return True  # a NaN fill on integers masks nothing; nor does no fill
    if k == "_FillValue" and b is None and isinstance(a, float) and np.isnan(a):
        return True  # as xarray's own to_zarr writes floats without one: both mask only NaN
    return same_value(a, b)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--store", required=True)
    p.add_argument("--manifest", required=True)
    p.add_argument("--files-json")
    p.add_argument("--chunks")
    p.add_argument("--zarrita", help="zarrita's dump of a v3 store (see the usage)")
    p.add_argument("--preprocess", help="a recipe's preprocess section as JSON, applied to each input by open_mfdataset")
    p.add_argument("--group", help="compare this group of a store of nested groups with this group of the inputs")
    args = p.parse_args()
    with open(args.manifest) as f:
        m = json.load(f)
    base = os.path.dirname(os.path.abspath(args.manifest))
    files = json.loads(args.files_json) if args.files_json else m["files"]

    def absolute(x):
        return [absolute(y) for y in x] if isinstance(x, list) else os.path.join(base, x)

    files = absolute(files)
    problems, checked = [], {}
    try:
        run(args, m, files, problems, checked)
    except Exception as e:  # every failure is a problem to report
        problems.append("%s: %s" % (type(e).__name__, traceback.format_exception_only(type(e), e)[-1].strip()))
    print(json.dumps({"ok": not problems, "problems": problems, "checked": checked}))


def preprocessor(spec):
    """The xarray calls a recipe's preprocess section stands for, as an
    open_mfdataset preprocess function. Names a dataset lacks are passed over
    (each input of a merge collection holds some variables)."""
    def pre(ds):
        if "drop_vars" in spec:
            ds = ds.drop_vars(spec["drop_vars"], errors="ignore")
        if "keep_vars" in spec:
            ds = ds[[v for v in spec["keep_vars"] if v in ds.variables]]
        if "isel" in spec:
            ds = ds.isel({d: slice(s.get("start", 0), s.get("stop"), s.get("step", 1))
                          for d, s in spec["isel"].items() if d in ds.dims})
        if "rename" in spec:
            ds = ds.rename({k: v for k, v in spec["rename"].items() if k in ds.variables or k in ds.dims})
        for v, attrs in spec.get("attrs", {}).items():
            if v in ds.variables:
                for k, val in attrs.items():
                    if val is None:
                        ds[v].attrs.pop(k, None)
                    else:
                        ds[v].attrs[k] = val
        for k, val in spec.get("global_attrs", {}).items():
            if val is None:
                ds.attrs.pop(k, None)
            else:
                ds.attrs[k] = val
        # Not a recipe key: what a test's own value step does, {var: [mul, add]}.
        # A missing value stays missing, as editors see it (read undecoded,
        # the cells equal to _FillValue; decoded, they are NaN already).
        for v, (mul, add) in spec.get("_values", {}).items():
            if v in ds.variables:
                data = ds[v].data * mul + add
                fill = ds[v].attrs.get("_FillValue")
                if fill is not None:
                    data = np.where(ds[v].data == fill, ds[v].data, data)
                ds[v] = ds[v].copy(data=data)
        return ds
    return pre


V3_DTYPES = {"int8": "i1", "uint8": "u1", "int16": "<i2", "uint16": "<u2", "int32": "<i4", "uint32": "<u4",
             "int64": "<i8", "uint64": "<u8", "float32": "<f4", "float64": "<f8"}


def decode_v3_fill(value, dtype):
    """The _FillValue attribute of a v3 array, decoded as xarray (2024.10 and
    later, xarray.backends.zarr.FillValueCoder) decodes it: floats as the
    base64 of a little-endian float64, bytes as base64, integers as they are."""
    if dtype.kind == "f":
        return struct.unpack("<d", base64.standard_b64decode(value))[0]
    if dtype.kind == "S":
        return base64.standard_b64decode(value)
    return int(value)


def v2_from_zarrita(dump, problems):
    """Writes what zarrita read from a v3 store as a consolidated v2 store,
    for xarray to open; returns its path."""
    with open(dump) as f:
        d = json.load(f)
    out = tempfile.mkdtemp(prefix="zarrita-v2-")
    g = zarr.open_group(out, mode="w")
    g.attrs.update(d["attributes"])
    for path, attrs in d.get("groups", {}).items():
        g.require_group(path).attrs.update(attrs)
    for name, a in d["arrays"].items():
        attrs = dict(a["attributes"])
        if a.get("dimension_names") is None:
            problems.append("%s: no dimension_names" % name)
            continue
        if "_ARRAY_DIMENSIONS" in attrs:
            problems.append("%s: _ARRAY_DIMENSIONS in a v3 array's attributes" % name)
        attrs["_ARRAY_DIMENSIONS"] = a["dimension_names"]
        shape = a["shape"]
        if a["data_type"] == "string":
            import numcodecs
            data = np.array(a["strings"], dtype=object).reshape(shape)
            arr = g.create(name, shape=shape, chunks=a["chunks"], dtype=object, object_codec=numcodecs.VLenUTF8(),
                           fill_value=None)
        else:
            dtype = np.dtype(V3_DTYPES[a["data_type"]])
            data = np.frombuffer(base64.standard_b64decode(a["base64"]), dtype=dtype).reshape(shape)
            fill = None
            if "_FillValue" in attrs:
                fill = decode_v3_fill(attrs.pop("_FillValue"), dtype)
            arr = g.create(name, shape=shape, chunks=a["chunks"], dtype=dtype, fill_value=fill)
        arr[...] = data
        arr.attrs.update(attrs)
    zarr.consolidate_metadata(out)
    return out


def expander(dims, files):
    """The preprocess step that gives each input the new concat dimensions
    (those marked "new") it lacks, as ds.expand_dims(member=[key]) does:
    in front of its data variables, with the key as their coordinate. The
    input's position along each comes from where it sits in files."""
    where = {}

    def walk(x, pos):
        if isinstance(x, list):
            for i, y in enumerate(x):
                walk(y, pos + [i])
        else:
            where[os.path.abspath(x)] = pos
    walk(files, [])

    def expand(ds):
        pos = where[os.path.abspath(ds.encoding["source"])]
        for k in reversed(range(len(dims))):  # expand_dims puts each in front
            d = dims[k]
            if d.get("new"):
                ds = ds.expand_dims({d["name"]: [d["coord"][pos[k]]]})
        return ds
    return expand


def first_file(files):
    """The first input of a (nested) list of them."""
    while isinstance(files, list):
        files = files[0]
    return files


def enum_flags(ds, files):
    """ds with the members of the first input's enum variables as CF flags
    (flag_values, flag_meanings), as zarrforge stores an enum; the xarray
    here shows an enum as its integer values only."""
    import netCDF4
    if os.path.isdir(first_file(files)):
        return ds  # Zarr stores as inputs: no enum types
    with netCDF4.Dataset(first_file(files)) as nc:
        for name, v in nc.variables.items():
            if name in ds and isinstance(v.datatype, netCDF4.EnumType) and "flag_values" not in v.ncattrs():
                members = list(v.datatype.enum_dict.items())
                ds[name].attrs["flag_values"] = np.array([x for _, x in members], dtype=v.datatype.dtype)
                ds[name].attrs["flag_meanings"] = " ".join("_".join(n.split()) for n, _ in members)
    return ds


def strings(a, b):
    """Whether dtypes a and b both hold text: object arrays of str (as Zarr
    vlen-utf8 arrays read) and numpy's fixed-width unicode (as expand_dims
    makes a coordinate of str keys) hold the same values."""
    return a.kind in "OU" and b.kind in "OU"


def register_fletcher32():
    """numcodecs 0.12 added the fletcher32 codec (HDF5's checksum, four
    bytes after the data) that reference files name; the Debian numcodecs
    here is older: a stand-in that strips the checksum, without checking
    it, lets xarray read such chunks."""
    import numcodecs
    from numcodecs.abc import Codec
    if hasattr(numcodecs, "Fletcher32"):
        return

    class Fletcher32(Codec):
        codec_id = "fletcher32"

        def encode(self, buf):
            raise NotImplementedError

        def decode(self, buf, out=None):
            data = bytes(memoryview(buf).cast("B"))[:-4]
            return numcodecs.compat.ndarray_copy(data, out) if out is not None else data

    numcodecs.register_codec(Fletcher32)


def open_store(store, **kw):
    """The store as xarray opens it: a Zarr store, or a kerchunk reference
    file (.json) through fsspec's reference filesystem."""
    if GROUP:
        kw["group"] = GROUP
    if store.endswith(".json"):
        register_fletcher32()
        return xr.open_dataset("reference://", engine="zarr", backend_kwargs={
            "consolidated": False, "storage_options": {"fo": store}}, **kw)
    return xr.open_zarr(store, **kw)


def zarr_group(store):
    if store.endswith(".json"):
        import fsspec
        return zarr.open_group(fsspec.get_mapper("reference://", fo=store), mode="r")
    g = zarr.open_consolidated(store)
    return g[GROUP] if GROUP else g


GROUP = None  # --group: the group of a store of nested groups compared


def run(args, m, files, problems, checked):
    store = args.store
    if args.zarrita:
        if not os.path.exists(os.path.join(store, "zarr.json")):
            problems.append("store has no root zarr.json")
        store = v2_from_zarrita(args.zarrita, problems)
    if not store.endswith(".json") and not os.path.exists(os.path.join(store, ".zmetadata")):
        problems.append("store has no .zmetadata")
    concat = m["concat_dim"]
    kw = dict(m.get("open_kwargs") or {})
    if args.group:
        global GROUP
        GROUP = args.group.strip("/") or None
        kw["group"] = args.group
    steps = []  # preprocess functions, applied in order
    if args.preprocess:
        steps.append(preprocessor(json.loads(args.preprocess)))
    if m.get("concat_dims"):
        dims = m["concat_dims"]
        ref_kwargs = dict(combine="nested", concat_dim=[d["name"] for d in dims], **kw)
        if any(d.get("new") for d in dims):
            steps.append(expander(dims, files))
    elif m.get("merge_dim"):
        ref_kwargs = dict(combine="nested", concat_dim=[None, concat], **kw)
    else:
        ref_kwargs = dict(combine="nested", concat_dim=concat, **kw)
    if args.group:
        # A group without the concat dimension is written once, from the
        # first input: what open_mfdataset keeps of it with these.
        with xr.open_dataset(first_file(files), group=args.group) as f0:
            if concat not in f0.dims:
                ref_kwargs.update(data_vars="minimal", coords="minimal", compat="override")
    if steps:
        ref_kwargs["preprocess"] = lambda ds: functools.reduce(lambda d, f: f(d), steps, ds)

    got = open_store(store).load()
    want = enum_flags(xr.open_mfdataset(files, **ref_kwargs).load(), files)
    checked["variables"] = sorted(got.variables)
    if sorted(got.variables) != sorted(want.variables):
        problems.append("variables: store %s vs reference %s" % (sorted(got.variables), sorted(want.variables)))
    if dict(got.sizes) != dict(want.sizes):
        problems.append("dims: store %s vs reference %s" % (dict(got.sizes), dict(want.sizes)))
    if sorted(got.coords) != sorted(want.coords):
        problems.append("coords: store %s vs reference %s" % (sorted(got.coords), sorted(want.coords)))
    # zarrforge's provenance (its version, digests of the recipe and inputs) is the store's own
    compare_attrs("global", {k: v for k, v in got.attrs.items() if not k.startswith("zarrforge_")}, want.attrs, problems)
    for name in sorted(set(got.variables) & set(want.variables)):
        g, w = got[name], want[name]
        if g.dims != w.dims:
            problems.append("%s: dims %s vs %s" % (name, g.dims, w.dims))
            continue
        if g.dtype != w.dtype and not strings(g.dtype, w.dtype):
            problems.append("%s: decoded dtype %s vs %s" % (name, g.dtype, w.dtype))
        if not equal_arrays(g.values, w.values):
            problems.append("%s: decoded values differ" % name)
        compare_attrs(name, g.attrs, w.attrs, problems)
        for k in ENCODING_KEYS:
            if k in g.encoding or k in w.encoding:
                if k == "units" and name == concat:
                    continue  # re-encoded into the first file's units; compared below
                if not same_encoding(k, g, w):
                    problems.append("%s: encoding %r: store %r vs reference %r" % (
                        name, k, norm(g.encoding.get(k)), norm(w.encoding.get(k))))

    # The concat coordinate must use the first input's units.
    with xr.open_dataset(first_file(files), decode_times=False, group=kw.get("group")) as f0:
        if concat in f0.variables and "units" in f0[concat].attrs:
            z = zarr_group(store)
            if z[concat].attrs.get("units") != f0[concat].attrs["units"]:
                problems.append("%s: units %r, want the first input's %r" % (
                    concat, z[concat].attrs.get("units"), f0[concat].attrs["units"]))

    # Raw (undecoded) values and dtypes, except the re-encoded concat coordinate and its bounds.
    raw_got = open_store(store, mask_and_scale=False, decode_times=False).load()
    raw_want = xr.open_mfdataset(files, mask_and_scale=False, decode_times=False, **ref_kwargs).load()
    bounds = raw_want[concat].attrs.get("bounds") if concat in raw_want.variables else None
    for name in sorted(set(raw_got.variables) & set(raw_want.variables)):
        if name in (concat, bounds):
            continue
        g, w = raw_got[name], raw_want[name]
        if g.dtype != w.dtype and not strings(g.dtype, w.dtype):
            problems.append("%s: raw dtype %s vs %s" % (name, g.dtype, w.dtype))
        elif g.shape == w.shape and not equal_arrays(g.values, w.values):
            problems.append("%s: raw values differ" % name)

    z = zarr_group(store)
    chunks = json.loads(args.chunks) if args.chunks else {}
    for name, want_chunks in chunks.items():
        if list(z[name].chunks) != list(want_chunks):
            problems.append("%s: chunks %s, want %s" % (name, list(z[name].chunks), want_chunks))
    for dim in got.dims:
        if dim in z and z[dim].nchunks != 1:
            problems.append("dimension coordinate %s has %d chunks, want 1" % (dim, z[dim].nchunks))
    checked["chunks"] = {k: list(v.chunks) for k, v in z.arrays()}


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(2)
    main()
