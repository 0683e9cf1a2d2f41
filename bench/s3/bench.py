#!/usr/bin/python3
"""The overhead of reading inputs in place from S3: the OISST workload of
bench/oisst (60 daily netCDF-4 files of 720 x 1440, time chunks of 30)
converted by our example program from local disk, and from a local
S3-compatible server (versitygw, built from beamtest/versitygw and started
on loopback over a temporary directory; the files uploaded with boto3),
alternately, three times each, into a local store, in one run. Prints the
wall time and peak RSS of each run, the medians' ratio (S3 / local), the
server's own CPU time, and whether the two stores hold identical data.

usage: /usr/bin/python3 bench/s3/bench.py   (from the repository root)"""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "oisst"))
import bench as oisst  # noqa: E402  (measure, warm, COMPARE)

PY = "/usr/bin/python3"
KEY, SECRET = "bench-key", "bench-secret-0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(work):
    binary = os.path.join(work, "versitygw")
    subprocess.run(["go", "build", "-o", binary, "github.com/versity/versitygw/cmd/versitygw"],
                   cwd=os.path.join(ROOT, "beamtest", "versitygw"), check=True)
    root = tempfile.mkdtemp(prefix="s3-root-", dir=work)
    meta = tempfile.mkdtemp(prefix="s3-meta-", dir=work)
    os.mkdir(os.path.join(root, "bench"))
    port = free_port()
    proc = subprocess.Popen([binary, "--access", KEY, "--secret", SECRET, "--port", "127.0.0.1:%d" % port,
                             "posix", "--sidecar", meta, root], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(500):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.02)
    return proc, "http://127.0.0.1:%d" % port, root


def main():
    n = 60
    work, inputs, binary = oisst.prepare(n)
    proc, endpoint, root = start_server(work)
    env = dict(os.environ, AWS_ENDPOINT_URL_S3=endpoint, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET,
               AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
    os.environ.update(env)
    try:
        files = sorted(os.path.join(inputs, f) for f in os.listdir(inputs) if f.endswith(".nc"))[:n]
        subprocess.run([PY, os.path.join(ROOT, "testdata", "s3_client.py"), "upload", "bench", "oisst"] + files, check=True)
        keys = [os.path.basename(f)[len("oisst."):-len(".nc")] for f in files]
        recipes, stores = {}, {}
        for where, template in [("local disk", inputs + "/oisst.{time}.nc"), ("S3 (versitygw)", "s3://bench/oisst/oisst.{time}.nc")]:
            stores[where] = os.path.join(work, "s3bench-%s.zarr" % where.split()[0].lower())
            recipes[where] = os.path.join(work, "s3bench-%s.yaml" % where.split()[0].lower())
            with open(recipes[where], "w") as f:
                f.write("pattern:\n  template: %s\n  concat_dim: {name: time, keys: %s, nitems_per_file: 1}\n"
                        "target: {url: %s, chunks: {time: 30}, compressor: \"zstd:1\", mode: overwrite}\n"
                        % (template, json.dumps(keys), stores[where]))
        oisst.warm(inputs)
        oisst.warm(os.path.join(root, "bench", "oisst"))
        runs = {w: [] for w in recipes}
        server_cpu = []
        for _ in range(3):
            for where in recipes:
                subprocess.run(["rm", "-rf", stores[where]])
                before = server_cpu_seconds(proc.pid)
                runs[where].append(oisst.measure([binary, "--recipe", recipes[where]]))
                if where.startswith("S3"):
                    server_cpu.append(server_cpu_seconds(proc.pid) - before)
        print("input: %d files of 720 x 1440 (%s), converted in place from each, three runs alternating; %d cores"
              % (n, inputs, os.cpu_count()))
        med = {}
        for where, rs in runs.items():
            med[where] = statistics.median(r["wall"] for r in rs)
            print("  %-16s %s s wall (median %.2f)  %4.0f MB peak RSS" % (
                where, " ".join("%.2f" % r["wall"] for r in rs), med[where], max(r["rss_mb"] for r in rs)))
        print("  the S3 server's CPU per run: %s s" % " ".join("%.2f" % c for c in server_cpu))
        print("  ratio S3 / local disk (median wall): %.2f" % (med["S3 (versitygw)"] / med["local disk"]))
        same = subprocess.run([PY, "-c", oisst.COMPARE, stores["local disk"], stores["S3 (versitygw)"]])
        sys.exit(same.returncode)
    finally:
        proc.terminate()
        proc.wait()


def server_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
