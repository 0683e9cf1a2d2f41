#!/usr/bin/python3
"""Runs the OISST benchmark in one go on this machine: our example program
(default runner) and the reference xarray.open_mfdataset(...).chunk({"time": 30})
.to_zarr(...) with numcodecs Zstd(level=1) on dask threads, over the same
inputs. Prints wall time and peak RSS of both and their ratio, and checks
that the two stores hold identical data.

usage: /usr/bin/python3 bench/oisst/bench.py [--ours-only] [--variant V | --variants] [N] [NLAT NLON]
(from the repository root)
--ours-only runs only our program and reports the time per input (for many
tiny inputs, where the reference would take very long).
--variant V runs it on inputs of variant V of make_inputs.py (default
noisy); --variants on each, one line each. Beside both programs it prints
the codec floor (bench/oisst/floor: decoding every input chunk and encoding
every output chunk with our libraries on every core, nothing else) and our
time over it.
Inputs are made once under $TMPDIR/zarrforge-bench/ by make_inputs.py, and
read once before measuring so that both programs read them from the page
cache."""
import json
import os
import subprocess
import sys
import tempfile

# The variants of bench/oisst/make_inputs.py.
VARIANTS = ["noisy", "noisy-shuffle", "smooth-shuffle", "speckled-shuffle", "speckled-ocean"]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = "/usr/bin/python3"

# Measures one command: wall and CPU seconds (user + system) and the peak
# RSS of its process tree, and what it printed on stderr.
MEASURE = """
import resource, subprocess, sys, time, json
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - t
if p.returncode:
    sys.exit(p.stderr[-3000:])
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": u.ru_utime + u.ru_stime, "rss_mb": u.ru_maxrss / 1024, "stderr": p.stderr}))
"""

REFERENCE = """
import sys, glob, numcodecs, xarray as xr
files = sorted(glob.glob(sys.argv[1] + "/*.nc"))
ds = xr.open_mfdataset(files, combine="nested", concat_dim="time").chunk({"time": 30})
for v in ds.variables.values():  # keep the inputs' packing (int16, scale_factor, _FillValue)
    v.encoding["compressor"] = numcodecs.Zstd(level=1)
ds.to_zarr(sys.argv[2], consolidated=True, mode="w")
"""

COMPARE = """
import sys, xarray as xr
a = xr.open_zarr(sys.argv[1], mask_and_scale=False, decode_times=False).load()
b = xr.open_zarr(sys.argv[2], mask_and_scale=False, decode_times=False).load()
bad = [v for v in b.variables if v not in a.variables or not a[v].equals(b[v])]
bad += [v for v in a.variables if v not in b.variables]
print("identical data" if not bad else "DIFFERENT: " + ", ".join(sorted(set(bad))))
sys.exit(1 if bad else 0)
"""


def prepare(n):
    """Makes the OISST inputs of n days (once) and builds our example
    program; returns the work directory, the inputs' directory and the
    program's path. The other bench scripts start from here."""
    work = os.path.join(tempfile.gettempdir(), "zarrforge-bench")
    inputs = os.path.join(work, "oisst-%d-720x1440" % n)
    subprocess.run([PY, os.path.join(ROOT, "bench", "oisst", "make_inputs.py"), inputs, str(n)], check=True)
    binary = os.path.join(work, "zarrforge")
    subprocess.run(["go", "build", "-o", binary, "./examples/dataflow"], cwd=ROOT, check=True)
    return work, inputs, binary


def measure(cmd):
    out = subprocess.run([PY, "-c", MEASURE] + cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), out.stderr))
    return json.loads(out.stdout)


def warm(directory):
    """Reads every input once, so that neither program measured first pays
    for reading them from a cold disk."""
    for f in os.listdir(directory):
        with open(os.path.join(directory, f), "rb") as fh:
            while fh.read(1 << 20):
                pass


def run(variant, n, grid, ours_only):
    """Runs the benchmark on inputs of one variant; returns whether the two
    stores hold identical data."""
    work = os.path.join(tempfile.gettempdir(), "zarrforge-bench")
    name = "oisst-%d-%sx%s" % (n, grid[0], grid[1])
    if variant != "noisy":  # the original inputs keep their directory
        name = "oisst-%s-%d-%sx%s" % (variant, n, grid[0], grid[1])
    inputs = os.path.join(work, name)
    subprocess.run([PY, os.path.join(ROOT, "bench", "oisst", "make_inputs.py"), "--variant", variant, inputs, str(n)] + grid,
                   check=True)
    binary, floor = os.path.join(work, "zarrforge"), os.path.join(work, "floor")
    subprocess.run(["go", "build", "-o", binary, "./examples/dataflow"], cwd=ROOT, check=True)
    subprocess.run(["go", "build", "-o", floor, "./bench/oisst/floor"], cwd=ROOT, check=True)
    keys = sorted(f[len("oisst."):-len(".nc")] for f in os.listdir(inputs) if f.endswith(".nc"))[:n]
    ours, ref = os.path.join(work, "ours.zarr"), os.path.join(work, "reference.zarr")
    recipe = os.path.join(work, "recipe.yaml")
    with open(recipe, "w") as f:
        f.write("pattern:\n  template: %s/oisst.{time}.nc\n  concat_dim: {name: time, keys: %s, nitems_per_file: 1}\n"
                "target: {url: %s, chunks: {time: 30}, compressor: \"zstd:1\", mode: overwrite}\n"
                % (inputs, json.dumps(keys), ours))
    warm(inputs)
    a = measure([binary, "--recipe", recipe])
    print("variant %s: %d files of %s x %s in %s" % (variant, n, grid[0], grid[1], inputs))
    if ours_only:
        print("  zarrforge:   %6.2f s  %7.0f MB peak RSS  %.2f ms per input" % (a["wall"], a["rss_mb"], 1000 * a["wall"] / n))
        return True
    c = measure([floor, "-chunk", "30"] + [os.path.join(inputs, "oisst.%s.nc" % k) for k in keys])
    b = measure([PY, "-c", REFERENCE, inputs, ref])
    print("  zarrforge:   %6.2f s  %7.0f MB peak RSS" % (a["wall"], a["rss_mb"]))
    print("  xarray+dask: %6.2f s  %7.0f MB peak RSS" % (b["wall"], b["rss_mb"]))
    print("  codec floor: %6.2f s  (decode every input chunk, encode every output chunk; no pipeline)" % c["wall"])
    print("  ratio: zarrforge / xarray wall %.2f, RSS %.2f; zarrforge / floor %.2f"
          % (a["wall"] / b["wall"], a["rss_mb"] / b["rss_mb"], a["wall"] / c["wall"]))
    return subprocess.run([PY, "-c", COMPARE, ours, ref]).returncode == 0


def main():
    args = sys.argv[1:]
    ours_only = "--ours-only" in args
    variants = ["noisy"]
    if "--variants" in args:
        variants = VARIANTS
    if "--variant" in args:
        i = args.index("--variant")
        variants, args = [args[i + 1]], args[:i] + args[i + 2:]
    args = [a for a in args if a not in ("--ours-only", "--variants")]
    n = int(args[0]) if args else 60
    grid = args[1:3] if len(args) >= 3 else ["720", "1440"]
    ok = [run(v, n, grid, ours_only) for v in variants]
    sys.exit(0 if all(ok) else 1)


if __name__ == "__main__":
    main()
