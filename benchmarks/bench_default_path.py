"""The default path against the durable-step floor, the way users run it (issue 27, item 5).

Default stack (SQLite in WAL mode + local folder), cache ON with every step a miss (a new salt
feeds the first step), output not a terminal. Side by side, each round in a rotated order:

* durable floor: the best step-shaped ml-metadata ``put_execution`` (bench_metadata's
  ``bare_recorder``) after what the durability promise needs for the step's output on a local
  disk -- a folder, a small file written under a temporary name, ``fdatasync``, renamed into
  place -- with bare ``os`` calls, in the same artifact store; 200 calls a round;
* fresh process: the wall clock of a whole ``python`` process running an N-step chain, measured
  from outside (stdout and stderr piped); per step = (N-step process - 1-step process) / (N - 1);
* warm kernel: a real IPython kernel (jupyter_client) running the same chains, timed inside the
  kernel, where the run's progress is a live display; per step the same way.
* fresh, records in-process: the fresh-process figure with the writer process turned off (every
  step recorded in the process that runs it, as before it existed): what the writer is worth.

Run: `python benchmarks/bench_default_path.py [--runs N] [--steps N] [--no-kernel]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

CHAIN = """
import sys
from zenml_notebook import pipeline, step

@step
def seed(salt: int) -> int:
    return salt

@step
def inc(x: int) -> int:
    return x + 1

def chain_of(n):
    @pipeline(name=f"chain{n}")
    def chain(salt: int = 0) -> None:
        v = seed(salt=salt)
        for _ in range(n - 1):
            v = inc(v)
    return chain
"""

FRESH = CHAIN + """
if sys.argv[3] == "in-process":  # the same run with every record made in this process, as before the writer
    import zenml_notebook.components.metadata as m
    m.OVERLAP_FROM = 10**9
run = chain_of(int(sys.argv[1]))(salt=int(sys.argv[2]))
assert all(s.state == "complete" for s in run.steps), "every step must be a miss"
"""

KERNEL_SETUP = """
import os, time
os.chdir(WORK)
os.environ["ZENML_NOTEBOOK_CONFIG_DIR"] = CONFIG
""" + CHAIN + """
def timed(n, salt):
    pipe = chain_of(n)
    t = time.perf_counter(); run = pipe(salt=salt); took = time.perf_counter() - t
    assert all(s.state == "complete" for s in run.steps), "every step must be a miss"
    return took
"""


def durable_floor(md, scratch: Path):  # type: ignore[no-untyped-def]
    """One durable step at its floor: the output file made durable, then the bare record."""
    from bench_metadata import bare_recorder

    from zenml_notebook.components.metadata.mlmd import ARTIFACT, CACHE, STEP

    run = md.start_run("floor", f"floor-{os.getpid()}", {})
    bare = bare_recorder(md._connect(), md._run_context(run.id), md._type_id(ARTIFACT), md._type_id(STEP), md._type_id(CACHE))
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

    return durable


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--no-kernel", action="store_true", help="leave out the warm-kernel figure")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zn-bench-default-"))
    env = {**os.environ, "ZENML_NOTEBOOK_CONFIG_DIR": str(work / "config")}
    os.environ.update(env)
    os.chdir(work)
    from zenml_notebook import api
    from zenml_notebook.components.metadata import open_metadata_store

    api.init(work)
    md = open_metadata_store(api.get_component("metadata_store")[0], api.open_repository()[0])
    floor = durable_floor(md, Path(api.get_component("artifact_store")[0].config["path"]) / "floor")
    # salts far apart: a chain from salt s computes s+1, s+2, ...; the next run must not meet those values
    salts = iter(range(10**6, 10**15, 10**6))

    def fresh(n: int, how: str = "default") -> float:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", FRESH, str(n), str(next(salts)), how], cwd=work, env=env, check=True,
                       capture_output=True)
        return time.perf_counter() - t

    def floor_round() -> float:
        t = time.perf_counter()
        for _ in range(200):
            floor()
        return (time.perf_counter() - t) / 200

    kernel = None if args.no_kernel else _Kernel(work)
    n = args.steps
    rows: dict[str, list[float]] = {"durable floor": [], "fresh process": [], "warm kernel": [], "fresh, records in-process": []}
    try:
        fresh(n)  # the schema, the disk cache and bytecode: what a user's second run has
        if kernel:
            kernel.timed(n, next(salts))
        figures: list[tuple[str, Callable[[], float]]] = [
            ("durable floor", floor_round),
            ("fresh process", lambda: (fresh(n) - fresh(1)) / (n - 1)),
            ("fresh, records in-process", lambda: (fresh(n, "in-process") - fresh(1, "in-process")) / (n - 1)),
        ]
        if kernel:
            figures.append(("warm kernel", lambda: (kernel.timed(n, next(salts)) - kernel.timed(1, next(salts))) / (n - 1)))
        for round_ in range(args.runs):  # each round in another order: what ran just before (a burst of fsyncs) weighs on each in turn
            for name, measure in figures[round_ % len(figures):] + figures[:round_ % len(figures)]:
                rows[name].append(measure())
    finally:
        if kernel:
            kernel.close()
    f = statistics.median(rows["durable floor"])
    print(f"the default path (SQLite WAL + local folder, cache on, every step a miss), {n}-step chain; {args.runs} rounds, alternating, medians")
    print(f"{'figure':30} {'per step':>10} {'min':>8} {'max':>8} {'x floor':>8}")
    result: dict[str, float] = {}
    for name, values in rows.items():
        if not values:
            continue
        m = statistics.median(values)
        result[name.replace(" ", "_") + "_ms"] = m * 1000
        print(f"{name:30} {m * 1000:8.2f}ms {min(values) * 1000:6.2f}ms {max(values) * 1000:6.2f}ms {m / f:7.2f}x")
    print("budget: <= 1.2x the durable floor, fresh process and warm kernel (a run of 50 steps or more records in a writer process)")
    print("JSON " + json.dumps(result))


class _Kernel:
    """A real IPython kernel, with the chains defined in it."""

    def __init__(self, work: Path) -> None:
        from jupyter_client.manager import start_new_kernel

        self.km, self.kc = start_new_kernel(kernel_name="python3", cwd=str(work))
        self.run(KERNEL_SETUP.replace("WORK", repr(str(work))).replace("CONFIG", repr(os.environ["ZENML_NOTEBOOK_CONFIG_DIR"])))

    def run(self, code: str) -> str:
        out: list[str] = []
        reply = self.kc.execute_interactive(code, timeout=600, output_hook=lambda m: out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"kernel: {reply['content'].get('ename')}: {reply['content'].get('evalue')}")
        return "".join(out)

    def timed(self, n: int, salt: int) -> float:
        return float(self.run(f"print(timed({n}, {salt}))").strip().splitlines()[-1])

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


if __name__ == "__main__":
    main()
