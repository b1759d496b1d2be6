"""Scale-out on a real Dask scheduler against the ideal, and the driver's cost per step of a chain
against Dask's own per-task cost (issue 27, items 3 and 4). Side by side in one run, medians.

* wide: N independent steps that each sleep D seconds, on W single-thread workers of a real
  ``dask scheduler`` + ``dask worker`` processes (127.0.0.1), after the cluster is up and warm;
  against the ideal ``ceil(N / W) * D``. Sleep-based, so the machine's core count does not matter.
* chain: a C-step chain of trivial steps on the same cluster: per step = (T(C) - T(1)) / (C - 1);
  against Dask's plain per-task cost for the same chain of plain tasks, measured two ways: one
  task at a time, each waited for (the round trip our driver makes per step), and the whole chain
  submitted at once (Dask's own pipelining); and against the SQLite durable-step floor (the best
  step-shaped ``put_execution`` plus the output file's mkdir, write, fdatasync and rename).
* driver memory: the driving process's peak RSS (VmHWM) after a run that passes an intermediate
  of M MiB from one worker to another (``--big-mib``, default 1024), against the same process
  before it.

Run: `python benchmarks/bench_scale.py [--runs N] [--duration D] [--chain C] [--big-mib M]`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A real scheduler and W one-thread worker processes on 127.0.0.1, stopped by PID."""

    def __init__(self, workers: int, root: Path) -> None:
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []
        log = open(root / f"dask-{workers}.log", "wb")
        self.procs.append(subprocess.Popen([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                            "--dashboard-address", ":0"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        self._wait_port()
        for _ in range(workers):
            self.procs.append(subprocess.Popen([str(BIN / "dask"), "worker", self.address, "--nthreads", "1", "--nworkers", "1",
                                                "--host", "127.0.0.1", "--dashboard-address", ":0", "--memory-limit", "0",
                                                "--local-directory", str(root / "dask-space")],
                                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)

    def _wait_port(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("dask scheduler did not listen within 60 s")

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def _vm_hwm_mib() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return 0.0


def _vm_rss_mib() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=1.0)
    parser.add_argument("--chain", type=int, default=1000)
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--wide", default="2:16,4:16,4:64", help="W:N pairs (workers:steps)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zn-bench-scale-"))
    os.chdir(work)
    os.environ["ZENML_NOTEBOOK_CONFIG_DIR"] = str(work / "config")
    from zenml_notebook import api, pipeline, step

    api.init(work)
    results: dict[str, object] = {}
    duration = args.duration

    @step(cache=False)
    def nap(i: int = 0, seconds: float = 1.0) -> int:
        time.sleep(seconds)
        return i

    @step(cache=False)
    def seed(salt: int = 0) -> int:
        return salt

    @step(cache=False)
    def inc(x: int) -> int:
        return x + 1

    def wide_of(n: int):  # type: ignore[no-untyped-def]
        @pipeline(name=f"wide{n}", cache=False)
        def wide(seconds: float = 1.0) -> None:
            for i in range(n):
                nap(i=i, seconds=seconds)

        return wide

    def chain_of(n: int):  # type: ignore[no-untyped-def]
        @pipeline(name=f"chain{n}", cache=False)
        def chain(salt: int = 0) -> None:
            v = seed(salt=salt)
            for _ in range(n - 1):
                v = inc(v)

        return chain

    pairs = [tuple(int(x) for x in p.split(":")) for p in args.wide.split(",")]
    by_workers: dict[int, list[int]] = {}
    for w, n in pairs:
        by_workers.setdefault(w, []).append(n)
    chain_workers = max(by_workers)
    print(f"scale-out on a real dask scheduler + single-thread workers (127.0.0.1); {args.runs} rounds, medians")
    print(f"{'figure':44} {'wall':>9} {'ideal':>8} {'x ideal':>8}")
    for workers, sizes in sorted(by_workers.items()):
        cluster = Cluster(workers, work)
        try:
            name = f"dask{workers}"
            api.register_component("orchestrator", name, "dask", {"scheduler_address": cluster.address}, update=True)
            api.register_stack(name, "default", "default", name, activate=True, update=True)
            wide_of(workers)(seconds=0.05)  # warm: the workers import what steps need
            for n in sizes:
                pipe = wide_of(n)
                walls = []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    pipe(seconds=duration)
                    walls.append(time.perf_counter() - t)
                wall = statistics.median(walls)
                ideal = math.ceil(n / workers) * duration
                label = f"{n} x {duration:g} s steps on {workers} workers"
                results[label] = {"wall_s": wall, "ideal_s": ideal, "ratio": wall / ideal}
                print(f"{label:44} {wall:8.2f}s {ideal:7.2f}s {wall / ideal:7.3f}x")
            if workers == chain_workers:
                chain_figures(cluster, chain_of, args, results)
                memory_figure(args, results, work)
        finally:
            from zenml_notebook.pipelines.clusters import _close_remote

            _close_remote()  # this process's client of the scheduler, before the scheduler goes
            cluster.stop()
    print("JSON " + json.dumps(results))
    shutil.rmtree(work, ignore_errors=True)


def chain_figures(cluster: Cluster, chain_of, args: argparse.Namespace, results: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    from distributed import Client

    from zenml_notebook import api

    n = args.chain
    one, many = chain_of(1), chain_of(n)
    one(salt=-1)
    ours, rt, bulk = [], [], []

    def plain_inc(x: int) -> int:
        return x + 1

    client = Client(cluster.address)
    try:
        client.submit(plain_inc, 0, pure=False).result()
        for r in range(args.runs):
            t = time.perf_counter()
            one(salt=r * 2)
            base = time.perf_counter() - t
            t = time.perf_counter()
            many(salt=r * 2 + 1)
            ours.append((time.perf_counter() - t - base) / (n - 1))
            t = time.perf_counter()
            x = 0
            for _ in range(n):  # one task at a time, each waited for: the round trip a driver makes
                x = client.submit(plain_inc, x, pure=False).result()
            rt.append((time.perf_counter() - t) / n)
            t = time.perf_counter()
            fut = client.submit(plain_inc, 0, pure=False)
            for _ in range(n - 1):  # the whole chain at once: Dask's own pipelining
                fut = client.submit(plain_inc, fut, pure=False)
            fut.result()
            bulk.append((time.perf_counter() - t) / n)
    finally:
        client.close()
    floor = durable_floor(args.runs)
    o, r_, b = statistics.median(ours), statistics.median(rt), statistics.median(bulk)
    results["chain"] = {"steps": n, "ours_ms": o * 1000, "dask_round_trip_ms": r_ * 1000, "dask_bulk_ms": b * 1000, "durable_floor_ms": floor * 1000,
                        "x_round_trip_plus_floor": o / (r_ + floor), "x_2_round_trip_plus_floor": o / (2 * r_ + floor)}
    print(f"{n}-step trivial chain, per step: ours {o * 1000:.2f} ms; Dask plain task {r_ * 1000:.2f} ms one at a time, "
          f"{b * 1000:.2f} ms submitted at once; SQLite durable-step floor {floor * 1000:.2f} ms")
    print(f"  ours / (Dask round trip + floor) = {o / (r_ + floor):.2f}x; ours / (2 x Dask round trip + floor) = {o / (2 * r_ + floor):.2f}x")
    api.set_active_stack(api.active_stack_name())


def durable_floor(runs: int) -> float:
    """The best step-shaped put_execution plus the output file's durable write (bench_steps)."""
    from bench_metadata import bare_recorder

    from zenml_notebook import api
    from zenml_notebook.components.metadata import open_metadata_store
    from zenml_notebook.components.metadata.mlmd import ARTIFACT, CACHE, STEP

    md = open_metadata_store(api.get_component("metadata_store", "default")[0], api.open_repository()[0])
    run = md.start_run("floor", f"floor-{time.time_ns()}", {})
    raw = md._connect()
    bare = bare_recorder(raw, md._run_context(run.id), md._type_id(ARTIFACT), md._type_id(STEP), md._type_id(CACHE))
    scratch = Path(".zenml/artifacts/floor")
    scratch.mkdir(parents=True, exist_ok=True)
    counter = iter(range(10**9))
    best = []
    for _ in range(runs):
        t = time.perf_counter()
        for _ in range(200):
            i = next(counter)
            folder = scratch / f"{time.time_ns()}-{i}"
            os.mkdir(folder)
            tmp = folder / ".output.json.partial"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.write(fd, b"%d" % i)
                os.fdatasync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, folder / "output.json")
            bare()
        best.append((time.perf_counter() - t) / 200)
    return statistics.median(best)


BIG = """
import os, sys, json
import numpy as np
from zenml_notebook import api, pipeline, step

@step(cache=False)
def make(mib: int = 1024) -> np.ndarray:
    return np.ones(mib * 1024 * 1024 // 8)

@step(cache=False)
def total(a: np.ndarray) -> float:
    return float(a.sum())

@pipeline(name="big", cache=False)
def big(mib: int = 1024):
    total(make(mib=mib))

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024

if __name__ == "__main__":
    before = status("VmHWM")
    run = big(mib=int(sys.argv[1]))
    print(json.dumps({"before_mib": before, "after_mib": status("VmHWM"), "total": run.output("total"), "state": run.state}))
"""


def memory_figure(args: argparse.Namespace, results: dict[str, object], work: Path) -> None:
    """The driver's peak memory (a fresh process) for a run passing a big intermediate between workers."""
    script = work / "big.py"
    script.write_text(BIG)
    figures = {}
    for mib in (1, args.big_mib):  # the same run with a 1 MiB intermediate: what the driver costs anyway
        out = subprocess.run([sys.executable, str(script), str(mib)], cwd=work, capture_output=True, text=True, timeout=1800,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-3000:])
        figure = json.loads(out.stdout.strip().splitlines()[-1])
        assert figure["total"] == mib * 1024 * 1024 // 8 and figure["state"] == "complete", figure
        figures[mib] = figure
    small, big = figures[1], figures[args.big_mib]
    results["driver memory"] = {"intermediate_mib": args.big_mib, "peak_mib": big["after_mib"], "peak_with_1_mib": small["after_mib"]}
    print(f"driver peak RSS with a {args.big_mib} MiB intermediate between workers: {big['after_mib']:.0f} MiB "
          f"(with a 1 MiB one: {small['after_mib']:.0f} MiB)")


if __name__ == "__main__":
    main()
