"""Per-step cost against the floor, and how it grows: side by side in one process (medians).

* floor: a bare ml-metadata ``put_execution`` shaped like a step (7 properties, an existing
  input artifact by id, a new output artifact, the run context by id, a new cache-key context),
  on a SQLite file of the same kind (WAL) as the default store's.
* floor with its output: the same call after what the durability promise needs for a step's
  output on a local disk -- a folder for the step, a small file written under a temporary name,
  ``fdatasync``, renamed into place -- done with bare ``os`` calls in the same artifact store.
* per step, warm process, cache off: (N-step chain - 1-step chain) / (N - 1), for N = 20, 100,
  1000 (and 10 000 with --long); the output of each step is a small JSON artifact written (and
  fsynced) to the local artifact store, as in real runs.
* a 1 000-wide fan-out (one source, 1 000 independent steps) per step.
* peak memory (VmHWM) after each size, to see it grow at most linearly.
* with --kernel: the same chains in a real IPython kernel (jupyter_client), where the run's
  progress line is a live display, timed inside the kernel.

Run: `python benchmarks/bench_steps.py [--runs N] [--long] [--kernel]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _vm_hwm_mb() -> float:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--long", action="store_true", help="also 10 000 steps (about a minute)")
    parser.add_argument("--kernel", action="store_true", help="also per step in a real IPython kernel")
    args = parser.parse_args()
    if args.kernel:
        in_kernel(args.runs)
    work = Path(tempfile.mkdtemp(prefix="zn-bench-steps-"))
    os.chdir(work)
    os.environ["ZENML_NOTEBOOK_CONFIG_DIR"] = str(work / "config")
    from bench_metadata import bare_recorder

    from zenml_notebook import api, pipeline, step
    from zenml_notebook.components.metadata import open_metadata_store
    from zenml_notebook.components.metadata.mlmd import ARTIFACT, CACHE, STEP

    api.init(work)
    md = open_metadata_store(api.get_component("metadata_store")[0], api.open_repository()[0])
    run = md.start_run("floor", "floor-1", {})
    raw = md._connect()
    bare = bare_recorder(raw, md._run_context(run.id), md._type_id(ARTIFACT), md._type_id(STEP), md._type_id(CACHE))

    @step
    def seed(salt: int) -> int:
        return salt

    @step
    def inc(x: int) -> int:
        return x + 1

    def chain_of(n: int):  # type: ignore[no-untyped-def]
        @pipeline(name=f"chain{n}", cache=False)
        def chain(salt: int = 0) -> None:
            v = seed(salt=salt)
            for _ in range(n - 1):
                v = inc(v)

        return chain

    def fan_of(n: int):  # type: ignore[no-untyped-def]
        @pipeline(name=f"fan{n}", cache=False)
        def fan(salt: int = 0) -> None:
            v = seed(salt=salt)
            for _ in range(n):
                inc(v)

        return fan

    sizes = [20, 100, 1000] + ([10_000] if args.long else [])
    one = chain_of(1)
    salt = iter(range(10**9))
    floor: list[float] = []
    durable_floor: list[float] = []
    scratch = Path(api.get_component("artifact_store")[0].config["path"]) / "floor"
    scratch.mkdir(parents=True, exist_ok=True)
    written = iter(range(10**9))

    def durable() -> None:
        i = next(written)
        folder = scratch / str(i)
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
    per_step: dict[str, list[float]] = {}
    memory: dict[str, float] = {}
    for _ in range(args.runs):
        t = time.perf_counter()
        for _ in range(200):
            bare()
        floor.append((time.perf_counter() - t) / 200)
        t = time.perf_counter()
        for _ in range(200):
            durable()
        durable_floor.append((time.perf_counter() - t) / 200)
        for label, make, n in [*((f"chain {n}", chain_of, n) for n in sizes), ("fan-out 1000", fan_of, 1000)]:
            if label.endswith("10000") and len(per_step.get(label, [])) >= 1:
                continue  # one 10 000-step round is enough
            pipe = make(n)
            t = time.perf_counter()
            one(salt=next(salt))
            base = time.perf_counter() - t
            t = time.perf_counter()
            pipe(salt=next(salt))
            per_step.setdefault(label, []).append((time.perf_counter() - t - base) / (n if make is fan_of else n - 1))
            memory.setdefault(label, _vm_hwm_mb())  # the high-water mark after its first round
    f = statistics.median(floor)
    fd = statistics.median(durable_floor)
    print(f"per-step cost, warm process, cache off, default stack (SQLite WAL + local folder); {args.runs} rounds, medians")
    print(f"{'figure':36} {'per step':>10} {'x floor':>8} {'x floor+file':>13} {'peak RSS':>9}")
    print(f"{'floor: shaped put_execution':36} {f * 1000:8.2f}ms {1:7.2f}x")
    print(f"{'floor + its durable output file':36} {fd * 1000:8.2f}ms {fd / f:7.2f}x {1:12.2f}x")
    for label, values in per_step.items():
        m = statistics.median(values)
        print(f"{label:36} {m * 1000:8.2f}ms {m / f:7.2f}x {m / fd:12.2f}x {memory[label]:7.0f}MB")
    print("JSON " + json.dumps({"floor_ms": f * 1000, "floor_with_file_ms": fd * 1000, **{k: statistics.median(v) * 1000 for k, v in per_step.items()}, "peak_mb": memory}))


KERNEL_SETUP = """
import os, time, statistics
os.chdir({work!r})
os.environ["ZENML_NOTEBOOK_CONFIG_DIR"] = {config!r}
from zenml_notebook import api, pipeline, step
api.init(".")

@step
def seed(salt: int) -> int:
    return salt

@step
def inc(x: int) -> int:
    return x + 1

def chain_of(n):
    @pipeline(name=f"chain{{n}}", cache=False)
    def chain(salt: int = 0) -> None:
        v = seed(salt=salt)
        for _ in range(n - 1):
            v = inc(v)
    return chain

salts = iter(range(10**9))
def per_step(n):
    one, many = chain_of(1), chain_of(n)
    t = time.perf_counter(); one(salt=next(salts)); base = time.perf_counter() - t
    t = time.perf_counter(); many(salt=next(salts)); return (time.perf_counter() - t - base) / (n - 1)
"""


def in_kernel(runs: int) -> None:
    """Per step in a real IPython kernel: the run's progress is a live display there."""
    from jupyter_client.manager import start_new_kernel

    work = Path(tempfile.mkdtemp(prefix="zn-bench-kernel-"))
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(work))
    try:
        def run(code: str) -> str:
            out: list[str] = []
            reply = kc.execute_interactive(code, timeout=600, output_hook=lambda m: out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"kernel: {reply['content'].get('ename')}: {reply['content'].get('evalue')}")
            return "".join(out)

        run(KERNEL_SETUP.format(work=str(work), config=str(work / "config")))
        print(f"per step in a real IPython kernel (progress displayed), cache off; {runs} rounds, medians")
        results = {}
        for n in (20, 100, 1000):
            text = run(f"print(statistics.median(per_step({n}) for _ in range({runs})))")
            results[f"kernel chain {n}"] = float(text.strip()) * 1000
            print(f"{'chain ' + str(n):36} {results[f'kernel chain {n}']:8.2f}ms")
        print("JSON " + json.dumps(results))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
