#!/usr/bin/python3
"""Zarr store input benchmark: one OISST-like store (60 x 720 x 1440, four
int16 variables, chunks {time: 1}, written once by xarray from the inputs of
bench/oisst) rechunked into {time: 60, lat: 180, lon: 360} by our example
program (one input: a template without placeholders) — as Zarr v2, and as
Zarr v3 in shards of {time: 60, lat: 360, lon: 720} (four chunks each) — and by
xarray.open_zarr(...).chunk(...).to_zarr(...) (Zarr v2: the zarr-python 2
here writes no v3; numcodecs Zstd level 1, dask threads), one after the other
in one run on this machine. Prints wall seconds, CPU seconds and peak RSS of
each, the ratios against xarray, our source_bytes_decoded / needed (1.00
when each stored chunk is decoded once), and whether the stores hold
identical data (our v3 store is compared through zarrita's reading of it by
the tests, not here: the xarray here reads only v2). Then the store is
migrated to Zarr v3 with its chunks and compressor kept — our program copies
every chunk as stored — beside cp -r of the store and xarray's re-encode.
Every program writes into a new directory (removed before it runs).

usage: /usr/bin/python3 bench/zarrstore/bench.py   (from the repository root)"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "oisst"))
import bench as oisst  # noqa: E402  (measure, warm, COMPARE)

PY = "/usr/bin/python3"
CHUNKS = {"time": 60, "lat": 180, "lon": 360}

MAKE_STORE = """
import sys, glob, numcodecs, xarray as xr
files = sorted(glob.glob(sys.argv[1] + "/*.nc"))
ds = xr.open_mfdataset(files, combine="nested", concat_dim="time").chunk({"time": 1})
for v in ds.variables.values():
    v.encoding["compressor"] = numcodecs.Zstd(level=1)
    v.encoding.pop("chunks", None); v.encoding.pop("preferred_chunks", None)
ds.to_zarr(sys.argv[2], consolidated=True, mode="w")
"""

REFERENCE = """
import sys, json, numcodecs, xarray as xr
ds = xr.open_zarr(sys.argv[1]).chunk(json.loads(sys.argv[3]))
for v in ds.variables.values():  # keep the store's packing (int16, scale_factor, _FillValue)
    v.encoding["compressor"] = numcodecs.Zstd(level=1)
    v.encoding.pop("chunks", None); v.encoding.pop("preferred_chunks", None)
ds.to_zarr(sys.argv[2], consolidated=True, mode="w")
"""


def main():
    n = 60
    work, inputs, binary = oisst.prepare(n)
    store = os.path.join(work, "oisst-%d-store.zarr" % n)
    if not os.path.exists(os.path.join(store, ".zmetadata")):
        subprocess.run([PY, "-c", MAKE_STORE, inputs, store], check=True)
    ours, ref = os.path.join(work, "ours.zarr"), os.path.join(work, "reference.zarr")
    for d, _, fs in os.walk(store):  # into the page cache, so that neither program measured first pays for the disk
        for f in fs:
            with open(os.path.join(d, f), "rb") as fh:
                fh.read()
    print("input: one store of %d x 720 x 1440 in chunks {time: 1}, %s; %d cores" % (n, store, os.cpu_count()))
    subprocess.run(["rm", "-rf", ref])  # every program writes into a new directory
    b = oisst.measure([PY, "-c", REFERENCE, store, ref, json.dumps(CHUNKS)])
    print("  %-40s %6.2f s wall  %6.1f s CPU  %5.0f MB" % ("xarray+dask (v2)", b["wall"], b["cpu"], b["rss_mb"]))
    failed = False
    for name, extra in [("zarrforge (v2)", ""), ("zarrforge (v3, shards of 60x360x720)", ", zarr_format: 3, shards: {time: 60, lat: 360, lon: 720}")]:
        recipe = os.path.join(work, "store-recipe.yaml")
        with open(recipe, "w") as f:
            f.write("pattern: {template: %s}\ntarget: {url: %s, chunks: %s, compressor: \"zstd:1\", mode: overwrite%s}\n"
                    % (store, ours, json.dumps(CHUNKS), extra))
        subprocess.run(["rm", "-rf", ours])
        a = oisst.measure([binary, "--recipe", recipe])
        m = re.search(r"(\d+) decoded for (\d+) needed", a["stderr"])
        amp = int(m.group(1)) / int(m.group(2)) if m else float("nan")
        same = "(v3: see the tests)"
        if not extra:
            out = subprocess.run([PY, "-c", oisst.COMPARE, ours, ref], capture_output=True, text=True)
            failed |= out.returncode != 0
            same = out.stdout.strip()
        print("  %-40s %6.2f s wall  %6.1f s CPU  %5.0f MB   ratio to xarray: wall %.2f, RSS %.2f; decoded/needed %.2f; %s"
              % (name, a["wall"], a["cpu"], a["rss_mb"], a["wall"] / b["wall"], a["rss_mb"] / b["rss_mb"], amp, same), flush=True)
    failed |= migrate(binary, store, work, n)
    sys.exit(1 if failed else 0)


MIGRATE_REFERENCE = """
import sys, numcodecs, xarray as xr
ds = xr.open_zarr(sys.argv[1])
for v in ds.variables.values():  # re-encoded, in the same chunks and compressor
    v.encoding["compressor"] = numcodecs.Zstd(level=1)
ds.to_zarr(sys.argv[2], consolidated=True, mode="w")
"""


def migrate(binary, store, work, n):
    """The v2 -> v3 migration of the store, its chunks and compressor kept:
    ours copies every chunk as stored; beside cp -r of the store and
    xarray's re-encode into v2 (the zarr-python here writes no v3).
    Returns whether it failed."""
    out = os.path.join(work, "migrated.zarr")
    recipe = os.path.join(work, "migrate-recipe.yaml")
    with open(recipe, "w") as f:
        f.write("pattern: {template: %s}\ntarget: {url: %s, zarr_format: 3, chunks: {time: 1}, compressor: \"zstd:1\", mode: overwrite}\n"
                % (store, out))
    subprocess.run(["rm", "-rf", out + ".cp", out])  # both into a new directory
    c = oisst.measure(["cp", "-r", store, out + ".cp"])
    a = oisst.measure([binary, "--recipe", recipe])
    subprocess.run(["rm", "-rf", os.path.join(work, "reference.zarr")])
    b = oisst.measure([PY, "-c", MIGRATE_REFERENCE, store, os.path.join(work, "reference.zarr")])
    m = re.search(r"(\d+) chunks written \(\d+ bytes\), (\d+) of them copied", a["stderr"])
    copied = "%s of %s chunks copied as stored" % (m.group(2), m.group(1)) if m else "NO chunk copied"
    print("migration of the store to Zarr v3, its chunks and compressor kept (%s):" % copied)
    print("  %-40s %6.2f s wall  %5.0f MB" % ("cp -r", c["wall"], c["rss_mb"]))
    print("  %-40s %6.2f s wall  %5.0f MB   ratio to cp -r %.2f, to xarray %.2f" % (
        "zarrforge (v3)", a["wall"], a["rss_mb"], a["wall"] / c["wall"], a["wall"] / b["wall"]))
    print("  %-40s %6.2f s wall  %5.0f MB" % ("xarray+dask re-encode (v2)", b["wall"], b["rss_mb"]), flush=True)
    return m is None


if __name__ == "__main__":
    main()
