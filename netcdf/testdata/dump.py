#!/usr/bin/python3
"""Prints, as JSON, what netCDF4-python reads from a netCDF file with auto
mask/scale off: dims, and per variable its type, dims, shape and raw values
(as decimal strings; floats as their IEEE-754 bit patterns, so NaN and -0.0
compare exactly), and every attribute's value (text as str, several strings
as a list of str, numbers as lists of decimal strings or float reprs)."""
import json
import sys

import netCDF4
import numpy as np


def attr_value(a):
    if isinstance(a, str):
        return a
    if isinstance(a, (list, tuple)) and all(isinstance(x, str) for x in a):
        return list(a)
    a = np.atleast_1d(a)
    if a.dtype.kind == "f":
        return [repr(float(x)) for x in a]
    return [str(int(x)) for x in a]


ds = netCDF4.Dataset(sys.argv[1])
ds.set_auto_maskandscale(False)
out = {"dims": {d.name: [len(d), d.isunlimited()] for d in ds.dimensions.values()}, "vars": {}, "var_attr_values": {}}
for v in ds.variables.values():
    a = np.asarray(v[...])
    if a.dtype.kind == "f":
        bits = a.astype(a.dtype.newbyteorder("<")).view("<u%d" % a.dtype.itemsize)
        vals = [str(int(x)) for x in bits.ravel()]
    elif a.dtype.kind == "S":
        vals = [str(int(x[0])) if len(x) else "0" for x in a.ravel()]
    else:
        vals = [str(int(x)) for x in a.ravel()]
    out["vars"][v.name] = {"dtype": a.dtype.str, "dims": list(v.dimensions), "shape": list(a.shape), "values": vals,
                           "attrs": sorted(v.ncattrs())}
    out["var_attr_values"][v.name] = {k: attr_value(v.getncattr(k)) for k in v.ncattrs()}
out["attrs"] = sorted(ds.ncattrs())
out["attr_values"] = {k: attr_value(ds.getncattr(k)) for k in ds.ncattrs()}
print(json.dumps(out))
