#!/usr/bin/python3
"""Prints, as JSON, what netCDF4-python reads from netCDF files with auto
mask/scale off: dims, and per variable its type, dims, shape and raw values
(as decimal strings; floats as their IEEE-754 bit patterns, so NaN and -0.0
compare exactly; strings as themselves), and every attribute's value (text
as str, several strings as a list of str, numbers as lists of decimal
strings or float reprs). A variable of an enum type also gets the
flag_values and flag_meanings attributes the reader gives its members.

With one path it prints one JSON object; "--group=G path" prints group G
(a path, a/b) as xarray.open_dataset(path, group=G) reads it, and "groups"
lists every group's path. With several it prints one object
per line, each with its "path"; a file netCDF-C cannot open (or crashes on:
each file is read in a forked child) gives {"path": ..., "error": "..."}, and
a variable it cannot read gives "values_error" in place of "values"."""
import json
import os
import sys

import netCDF4
import numpy as np


def attr_value(a):
    if isinstance(a, str):
        return a
    if isinstance(a, bytes):
        return a.decode("utf-8", "replace")
    if isinstance(a, (list, tuple)) and all(isinstance(x, str) for x in a):
        return list(a)
    a = np.atleast_1d(a)
    if a.dtype.kind == "f":
        return [repr(float(x)) for x in a]
    if a.dtype.kind in "iub":
        return [str(int(x)) for x in a]
    return [str(x) for x in a.ravel()]


def values(v):
    a = v[...]
    if isinstance(a, str):  # a scalar string variable
        return "str", [a]
    a = np.asarray(a)
    if a.dtype.kind == "f":
        bits = a.astype(a.dtype.newbyteorder("<")).view("<u%d" % a.dtype.itemsize)
        return a.dtype.str, [str(int(x)) for x in bits.ravel()]
    if a.dtype.kind == "S":
        return a.dtype.str, [str(int(x[0])) if len(x) else "0" for x in a.ravel()]
    if a.dtype.kind in "OU":
        return "str", [str(x) for x in a.ravel()]
    if a.dtype.kind not in "iub":
        raise TypeError("values of kind %r" % a.dtype.kind)
    return a.dtype.str, [str(int(x)) for x in a.ravel()]


def group_paths(g, prefix=""):
    """The paths of every group below g."""
    out = []
    for name, sub in g.groups.items():
        out.append(prefix + name)
        out += group_paths(sub, prefix + name + "/")
    return sorted(out)


def dump(path, group=None):
    """What netCDF4-python reads of the file at path or, given group, of
    that group as xarray.open_dataset(group=...) reads it: with the
    dimensions its variables use that an ancestor defines."""
    ds = netCDF4.Dataset(path)
    ds.set_auto_maskandscale(False)
    groups = group_paths(ds)
    if group:
        ds = ds[group]
    dims = {d.name: [len(d), d.isunlimited()] for d in ds.dimensions.values()}
    for v in ds.variables.values():
        dims.update({d.name: [len(d), d.isunlimited()] for d in v.get_dims()})
    out = {"dims": dims, "vars": {}, "var_attr_values": {}, "groups": groups}
    for v in ds.variables.values():
        rec = {"dims": list(v.dimensions), "shape": list(v.shape), "attrs": sorted(v.ncattrs())}
        try:
            rec["dtype"], rec["values"] = values(v)
        except Exception as e:  # compound, vlen and other types we compare by refusal
            rec["values_error"] = "%s: %s" % (type(e).__name__, e)
        out["vars"][v.name] = rec
        try:
            out["var_attr_values"][v.name] = {k: attr_value(v.getncattr(k)) for k in v.ncattrs()}
        except Exception as e:
            rec["attrs_error"] = "%s: %s" % (type(e).__name__, e)
        if isinstance(v.datatype, netCDF4.EnumType) and not {"flag_values", "flag_meanings"} & set(v.ncattrs()):
            # The reader gives an enum's members as CF flags, in the type's order.
            members = list(v.datatype.enum_dict.items())
            rec["attrs"] = sorted(rec["attrs"] + ["flag_values", "flag_meanings"])
            out["var_attr_values"][v.name]["flag_values"] = attr_value(
                np.array([val for _, val in members], dtype=v.datatype.dtype))
            out["var_attr_values"][v.name]["flag_meanings"] = " ".join("_".join(n.split()) for n, _ in members)
    out["attrs"] = sorted(ds.ncattrs())
    try:
        out["attr_values"] = {k: attr_value(ds.getncattr(k)) for k in ds.ncattrs()}
    except Exception as e:
        out["attrs_error"] = "%s: %s" % (type(e).__name__, e)
    return out


if len(sys.argv) == 3 and sys.argv[1].startswith("--group="):
    print(json.dumps(dump(sys.argv[2], sys.argv[1][len("--group="):])))
elif len(sys.argv) == 2:
    print(json.dumps(dump(sys.argv[1])))
else:
    for p in sys.argv[1:]:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                rec = dump(p)
            except Exception as e:
                rec = {"error": "%s: %s" % (type(e).__name__, e)}
            with os.fdopen(w, "w") as out:
                out.write(json.dumps(rec))
            os._exit(0)
        os.close(w)
        with os.fdopen(r) as inp:
            text = inp.read()
        _, status = os.waitpid(pid, 0)
        rec = json.loads(text) if status == 0 and text else {"error": "netCDF4-python died (status %d)" % status}
        rec["path"] = p
        print(json.dumps(rec), flush=True)
