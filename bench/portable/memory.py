#!/usr/bin/python3
"""Measures the memory of each runner on the OISST benchmark workload (the
inputs of bench/oisst, converted with time chunks of 30): our example
program on the direct runner, on Prism embedded in it (loopback workers),
and on a standalone Prism job server with its worker started by our worker
pool (examples/workerpool) as a separate process. Prints the wall time
and the peak RSS of every process involved — the launcher, the job
server, the pool, the worker — so that what is ours (the stages, in the
worker) and what is the runner's (the job server) can be told apart, and
checks that every run wrote the same store.

usage: /usr/bin/python3 bench/portable/memory.py [N] [NLAT NLON]   (from the repository root)
Inputs are made once under $TMPDIR/zarrforge-bench/ by bench/oisst/make_inputs.py."""
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = "/usr/bin/python3"


def hwm_mb(pid):
    """The peak RSS of a live process, in MB (0 once it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
            return int(m.group(1)) / 1024 if m else 0
    except OSError:
        return 0


def children(pid):
    """The processes whose parent is pid."""
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return kids


class Peaks:
    """Samples the peak RSS of the pool's worker processes (its children)
    while a job runs: they are gone when it ends."""

    def __init__(self, pool_pid):
        self.pool_pid, self.worker, self.stop = pool_pid, 0.0, False
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        while not self.stop:
            for k in children(self.pool_pid):
                self.worker = max(self.worker, hwm_mb(k))
            time.sleep(0.05)

    def done(self):
        self.stop = True
        self.thread.join()
        return self.worker


def timed(cmd):
    """Runs cmd; returns its wall seconds and the peak RSS of its own
    process (not of the servers it talks to)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    while p.poll() is None:
        peak = max(peak, hwm_mb(p.pid))
        time.sleep(0.05)
    err = p.stderr.read()
    if p.returncode:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), err[-3000:]))
    return time.perf_counter() - t, peak


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(work):
    bins = {}
    for name, pkg, env in [("zarrforge", "./examples/dataflow", {"CGO_ENABLED": "0"}),
                           ("workerpool", "./examples/workerpool", {}),
                           ("prism", "github.com/apache/beam/sdks/v2/go/cmd/prism", {})]:
        bins[name] = os.path.join(work, name)
        subprocess.run(["go", "build", "-o", bins[name], pkg], cwd=ROOT, check=True, env={**os.environ, **env})
    return bins


def portable(bins, run, pool_args):
    """Runs the job on a standalone Prism job server with the worker pool
    (pool_args added); returns the wall time and the peak RSS of the
    launcher, the job server, the pool and the worker."""
    port = free_port()
    prism = subprocess.Popen([bins["prism"], "--job_port", str(port), "--serve_http=false", "--log_level", "warn"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pool = subprocess.Popen([bins["workerpool"], "--listen", "127.0.0.1:0"] + pool_args, stderr=subprocess.PIPE, text=True)
    addr = re.search(r"serving on (\S+)", pool.stderr.readline()).group(1)
    threading.Thread(target=pool.stderr.read, daemon=True).start()  # keep its pipe drained
    time.sleep(1)
    try:
        peaks = Peaks(pool.pid)
        wall, launcher = timed(run + ["--runner", "universal", "--endpoint", "localhost:%d" % port,
                                      "--environment_type", "EXTERNAL", "--environment_config", addr])
        return wall, launcher, hwm_mb(prism.pid), hwm_mb(pool.pid), peaks.done()
    finally:
        for p in (pool, prism):
            p.terminate()
            p.wait()


def main():
    args = sys.argv[1:]
    n = int(args[0]) if args else 60
    grid = args[1:3] if len(args) >= 3 else ["720", "1440"]
    work = os.path.join(tempfile.gettempdir(), "zarrforge-bench")
    inputs = os.path.join(work, "oisst-%d-%sx%s" % (n, grid[0], grid[1]))
    subprocess.run([PY, os.path.join(ROOT, "bench", "oisst", "make_inputs.py"), inputs, str(n)] + grid, check=True)
    bins = build(work)
    keys = sorted(f[len("oisst."):-len(".nc")] for f in os.listdir(inputs) if f.endswith(".nc"))[:n]
    recipe = os.path.join(work, "portable-recipe.yaml")
    with open(recipe, "w") as f:
        f.write("pattern:\n  template: %s/oisst.{time}.nc\n  concat_dim: {name: time, keys: [%s], nitems_per_file: 1}\n"
                "target: {url: unused, chunks: {time: 30}, compressor: \"zstd:1\", mode: overwrite}\n"
                % (inputs, ", ".join('"%s"' % k for k in keys)))
    store = os.path.join(work, "portable.zarr")
    run = [bins["zarrforge"], "--recipe", recipe, "--target", store, "--quiet"]
    print("%d files of %s x %s; worker binary %.0f MB (staged to the job server, fetched by the pool)"
          % (n, grid[0], grid[1], os.path.getsize(bins["zarrforge"]) / 1e6))
    stores = {}
    for runner in ["direct", "prism"]:
        wall, rss = timed(run + ["--runner", runner])
        print("  %-34s %6.2f s   one process: %5.0f MB" % (runner + " (workers in the process)", wall, rss))
        stores[runner] = store + "." + runner
        subprocess.run(["rm", "-rf", stores[runner]])
        os.rename(store, stores[runner])
    for label, extra in [("job server + pool (fetches binary)", []), ("job server + pool --binary", ["--binary", bins["zarrforge"]])]:
        wall, launcher, server, pool_rss, worker = portable(bins, run, extra)
        print("  %-34s %6.2f s   launcher %3.0f MB, job server %5.0f MB, pool %3.0f MB, worker %4.0f MB"
              % (label, wall, launcher, server, pool_rss, worker))
    ok = True
    for other in [stores["prism"], store]:
        diff = subprocess.run(["diff", "-rq", "-x", ".zarrforge.json", stores["direct"], other], capture_output=True, text=True)
        ok = ok and diff.returncode == 0
        if diff.returncode:
            print("  DIFFERENT from the direct runner's store:\n" + diff.stdout)
    print("  stores: " + ("all identical but for the run's marker" if ok else "NOT identical"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
