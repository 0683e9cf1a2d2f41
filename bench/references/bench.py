#!/usr/bin/python3
"""References benchmark: the OISST workload of bench/oisst (60 daily files
of 720 x 1440, four packed int16 variables, one zlib chunk per daily
slice) referenced (target.format: references, a kerchunk JSON file) and
converted (a Zarr copy in chunks of {time: 30}) by our example program, one
after the other in one run on this machine.

It prints wall seconds, CPU seconds and peak RSS of each, the bytes read
from the inputs (the program's counters) against the inputs' size, the
output's size, and the ratios; then it checks that xarray reads the
reference file (through fsspec's reference filesystem) as it reads the Zarr
copy: identical.

usage: /usr/bin/python3 bench/references/bench.py [N]   (from the repository root)"""
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "oisst"))
import bench as oisst  # noqa: E402  (measure, warm)

PY = "/usr/bin/python3"

SAME = """
import sys, xarray as xr
refs = xr.open_dataset("reference://", engine="zarr", backend_kwargs={
    "consolidated": False, "storage_options": {"fo": sys.argv[1]}}).load()
copy = xr.open_zarr(sys.argv[2]).load()
print("identical" if refs.identical(copy) else "DIFFERENT")
sys.exit(0 if refs.identical(copy) else 1)
"""


def size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    work, inputs, binary = oisst.prepare(n)
    keys = sorted(f[len("oisst."):-len(".nc")] for f in os.listdir(inputs) if f.endswith(".nc"))[:n]
    oisst.warm(inputs)
    in_bytes = size(inputs)
    refs, copy = os.path.join(work, "oisst-refs.json"), os.path.join(work, "oisst-copy.zarr")
    rows = []
    for name, target, out in [("references", "{url: %s, format: references, mode: overwrite}" % refs, refs),
                              ("Zarr copy {time: 30}", "{url: %s, chunks: {time: 30}, mode: overwrite}" % copy, copy)]:
        recipe = os.path.join(work, "recipe.yaml")
        with open(recipe, "w") as f:
            f.write("pattern:\n  template: %s/oisst.{time}.nc\n  concat_dim: {name: time, keys: %s, nitems_per_file: 1}\n"
                    "target: %s\n" % (inputs, json.dumps(keys), target))
        m = oisst.measure([binary, "--recipe", recipe])
        fetched = re.search(r"inputs: (\d+) bytes fetched", m["stderr"])
        rows.append((name, m, int(fetched.group(1)) if fetched else float("nan"), size(out)))
    print("inputs: %d files, %d bytes, in %s; %d cores" % (n, in_bytes, inputs, os.cpu_count()))
    print("%-22s %8s %8s %8s %14s %8s %12s" % ("", "wall s", "CPU s", "RSS MB", "bytes read", "of input", "output bytes"))
    for name, m, fetched, out in rows:
        print("%-22s %8.2f %8.2f %8.0f %14d %7.1f%% %12d" % (name, m["wall"], m["cpu"], m["rss_mb"], fetched,
                                                           100 * fetched / in_bytes, out))
    (_, a, fa, _), (_, b, fb, _) = rows
    print("references / copy: wall %.3f, CPU %.3f, RSS %.2f, bytes read %.4f" % (
        a["wall"] / b["wall"], a["cpu"] / b["cpu"], a["rss_mb"] / b["rss_mb"], fa / fb))
    same = subprocess.run([PY, "-c", SAME, refs, copy], capture_output=True, text=True)
    print("xarray reads the references as the copy:", same.stdout.strip() or same.stderr.strip()[-300:])
    sys.exit(same.returncode)


if __name__ == "__main__":
    main()
