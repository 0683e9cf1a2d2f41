#!/usr/bin/python3
"""Writes Zarr stores for the tests that read stores as inputs, with the
tools users make them with: xarray's to_zarr (zarr-python 2, Zarr v2) from
the netCDF fixture collections. Each collection goes into OUT/NAME/ with a
collection.json like the netCDF collections' (open_kwargs engine "zarr",
so that the oracle is xarray.open_mfdataset(stores, engine="zarr")).

usage: /usr/bin/python3 testdata/make_zarr_inputs.py OUT

  zarr_daily     daily split into 3 stores, xarray's defaults (Blosc lz4,
                 consolidated)
  zarr_zstd      daily, one store per file, numcodecs Zstd, not consolidated
  zarr_text      rw_text (strings and fixed-width text), one store per file
  zarr_missing   daily in 2 stores, one chunk of sst and one of ice deleted
                 (read as the fill value, as zarr reads them)
  zarr_big4d     big4d, one store per file, chunks that cut every axis"""
import json
import os
import sys

import numcodecs
import xarray as xr

HERE = os.path.dirname(os.path.abspath(__file__))


def collection(name):
    d = os.path.join(HERE, "collections", name)
    with open(os.path.join(d, "collection.json")) as f:
        m = json.load(f)
    return [os.path.join(d, f) for f in m["files"]], m


def write(out, name, parts, m, encoding=None, consolidated=True, chunks=None):
    """Writes each dataset of parts as OUT/name/part_K.zarr and a manifest."""
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    stores = []
    for k, ds in enumerate(parts):
        if chunks:
            ds = ds.chunk({k2: v for k2, v in chunks.items() if k2 in ds.dims})
        enc = {v: dict(encoding) for v in ds.data_vars} if encoding else None
        path = "part_%02d.zarr" % k
        ds.to_zarr(os.path.join(d, path), mode="w", encoding=enc, consolidated=consolidated)
        stores.append(path)
    keys = ["%02d" % k for k in range(len(parts))]
    manifest = {"files": stores, "concat_dim": m["concat_dim"], "concat_keys": keys, "merge_dim": None, "merge_keys": [],
                "template": "part_{%s}.zarr" % m["concat_dim"], "open_kwargs": dict(m.get("open_kwargs") or {}, engine="zarr"),
                "notes": "Zarr stores written by xarray from collection %s" % m.get("template", "")}
    with open(os.path.join(d, "collection.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return d


def main():
    out = sys.argv[1]
    files, m = collection("daily")
    daily = xr.open_mfdataset(files, combine="nested", concat_dim="time").load()
    write(out, "zarr_daily", [daily.isel(time=slice(0, 3)), daily.isel(time=slice(3, 5)), daily.isel(time=slice(5, 8))], m)
    write(out, "zarr_zstd", [xr.open_dataset(f).load() for f in files], m,
          encoding={"compressor": numcodecs.Zstd(level=5)}, consolidated=False)
    d = write(out, "zarr_missing", [daily.isel(time=slice(0, 4)), daily.isel(time=slice(4, 8))], m,
              chunks={"time": 2, "lat": 4})
    os.remove(os.path.join(d, "part_00.zarr", "sst", "1.0.0"))
    os.remove(os.path.join(d, "part_01.zarr", "ice", "0.1.0"))
    files, m = collection("rw_text")
    write(out, "zarr_text", [xr.open_dataset(f).load() for f in files], m)
    files, m = collection("big4d")
    write(out, "zarr_big4d", [xr.open_dataset(f).load() for f in files], m, chunks={"time": 2, "lat": 4, "lon": 3})


if __name__ == "__main__":
    main()
