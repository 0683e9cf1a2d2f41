#!/usr/bin/python3
"""Rechunking benchmark: the OISST workload of bench/oisst (60 daily files of
720 x 1440, four int16 variables, one zlib chunk per daily slice) written
into the target chunkings of issue 14, by our example program and by
xarray.open_mfdataset(...).chunk(...).to_zarr(...) (numcodecs Zstd level 1,
dask threads), one after the other in one run on this machine.

For each row it prints wall seconds, CPU seconds (user + system) and peak RSS
of both, the ratios, our CPU against the {time: 30} row's, our
source_bytes_decoded / source_bytes_needed (1.00 when every stored chunk is
decoded once), and whether the two stores hold identical data.

usage: /usr/bin/python3 bench/rechunk/bench.py   (from the repository root)"""
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

ROWS = [
    ("{time: 30}", {"time": 30}, None),
    ("{time: 60, lat: 180, lon: 360}", {"time": 60, "lat": 180, "lon": 360}, None),
    ("{time: 60, lat: 90, lon: 180}", {"time": 60, "lat": 90, "lon": 180}, None),
    ("16 tiles, max_mem 128MiB: halved", {"time": 60, "lat": 180, "lon": 360}, "128MiB"),
]

REFERENCE = """
import sys, glob, json, numcodecs, xarray as xr
files = sorted(glob.glob(sys.argv[1] + "/*.nc"))
ds = xr.open_mfdataset(files, combine="nested", concat_dim="time").chunk(json.loads(sys.argv[3]))
for v in ds.variables.values():  # keep the inputs' packing (int16, scale_factor, _FillValue)
    v.encoding["compressor"] = numcodecs.Zstd(level=1)
    v.encoding.pop("chunks", None); v.encoding.pop("preferred_chunks", None)
ds.to_zarr(sys.argv[2], consolidated=True, mode="w")
"""


def main():
    n = 60
    work, inputs, binary = oisst.prepare(n)
    keys = sorted(f[len("oisst."):-len(".nc")] for f in os.listdir(inputs) if f.endswith(".nc"))[:n]
    ours, ref = os.path.join(work, "ours.zarr"), os.path.join(work, "reference.zarr")
    oisst.warm(inputs)
    print("inputs: %d files of 720 x 1440 in %s; %d cores" % (n, inputs, os.cpu_count()))
    print("%-34s %22s %22s %13s %8s %8s  %s" % ("target chunks", "zarrforge wall/CPU/RSS", "xarray wall/CPU/RSS",
                                                "ratio wall/CPU", "CPU/row1", "decoded/", "data"))
    print("%-34s %22s %22s %13s %8s %8s" % ("", "s / s / MB", "s / s / MB", "", "", "needed"))
    first_cpu, failed = None, False
    for name, chunks, max_mem in ROWS:
        recipe = os.path.join(work, "recipe.yaml")
        target = "{url: %s, chunks: %s, compressor: \"zstd:1\", mode: overwrite%s}" % (
            ours, json.dumps(chunks), ", max_mem: " + max_mem if max_mem else "")
        with open(recipe, "w") as f:
            f.write("pattern:\n  template: %s/oisst.{time}.nc\n  concat_dim: {name: time, keys: %s, nitems_per_file: 1}\n"
                    "target: %s\n" % (inputs, json.dumps(keys), target))
        a = oisst.measure([binary, "--recipe", recipe])
        b = oisst.measure([PY, "-c", REFERENCE, inputs, ref, json.dumps(chunks)])
        m = re.search(r"(\d+) decoded for (\d+) needed", a["stderr"])
        amp = int(m.group(1)) / int(m.group(2)) if m else float("nan")
        first_cpu = first_cpu or a["cpu"]
        same = subprocess.run([PY, "-c", oisst.COMPARE, ours, ref], capture_output=True, text=True)
        failed |= same.returncode != 0
        print("%-34s %6.2f / %5.1f / %5.0f %6.2f / %5.1f / %5.0f   %5.2f / %5.2f %8.2f %8.2f  %s" % (
            name, a["wall"], a["cpu"], a["rss_mb"], b["wall"], b["cpu"], b["rss_mb"],
            a["wall"] / b["wall"], a["cpu"] / b["cpu"], a["cpu"] / first_cpu, amp, same.stdout.strip()), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
