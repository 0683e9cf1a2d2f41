#!/usr/bin/python3
"""Prints, as JSON, what netCDF4-python reads from a netCDF file with auto
mask/scale off: dims, and per variable its type, dims, shape and raw values
(as decimal strings; floats as their IEEE-754 bit patterns, so NaN and -0.0
compare exactly)."""
import json
import sys

import netCDF4
import numpy as np

ds = netCDF4.Dataset(sys.argv[1])
ds.set_auto_maskandscale(False)
out = {"dims": {d.name: [len(d), d.isunlimited()] for d in ds.dimensions.values()}, "vars": {}}
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
out["attrs"] = sorted(ds.ncattrs())
vals = {}
for k in ds.ncattrs():
    a = ds.getncattr(k)
    if isinstance(a, str):
        vals[k] = a
    else:
        a = np.atleast_1d(a)
        if a.dtype.kind == "f":
            vals[k] = [repr(float(x)) for x in a]
        else:
            vals[k] = [str(int(x)) for x in a]
out["attr_values"] = vals
print(json.dumps(out))
