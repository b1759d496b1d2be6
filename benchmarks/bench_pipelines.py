"""Pipeline figures of PERFORMANCE.md: fresh-process 1-step and 20-step runs (cache off),
per-step overhead, a fully cached 20-step re-run (fresh and warm), and Dask fan-out.

Run: `python benchmarks/bench_pipelines.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

CHAIN = textwrap.dedent(
    """
    import sys, time
    t0 = time.perf_counter()
    from zenml_notebook import step, pipeline

    @step
    def first() -> int:
        return 1

    @step
    def inc(x: int) -> int:
        return x + 1

    @pipeline(name="chain{steps}")
    def chain():
        x = first()
        for _ in range({steps} - 1):
            x = inc(x)

    chain(cache={cache})
    """
)


def fresh(work: Path, steps: int, cache: bool) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", CHAIN.format(steps=steps, cache=cache)], cwd=work, check=True, capture_output=True)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zn-bench-pipe-"))
    os.environ["ZENML_NOTEBOOK_CONFIG_DIR"] = str(work / "cfg")
    subprocess.run([sys.executable, "-m", "zenml_notebook", "init"], cwd=work, check=True, capture_output=True)
    fresh(work, 20, True)  # warm the disk cache and create the store's schema
    rows: dict[str, list[float]] = {"1-step, fresh process, cache off": [], "20-step chain, fresh process, cache off": [], "20-step chain fully cached, fresh process": []}
    for _ in range(args.runs):  # alternate so drift hits all rows
        rows["1-step, fresh process, cache off"].append(fresh(work, 1, False))
        rows["20-step chain, fresh process, cache off"].append(fresh(work, 20, False))
        rows["20-step chain fully cached, fresh process"].append(fresh(work, 20, True))
    per_step = [(b - a) / 19 for a, b in zip(rows["1-step, fresh process, cache off"], rows["20-step chain, fresh process, cache off"], strict=True)]
    rows["per-step overhead ((20 - 1) / 19)"] = per_step
    # warm kernel: cached 20-step re-run
    os.chdir(work)
    sys.path.insert(0, str(work))
    ns: dict[str, object] = {}
    exec(CHAIN.format(steps=20, cache=True).replace("chain(cache=True)", ""), ns)
    chain = ns["chain"]
    chain()  # type: ignore[operator]
    warm = []
    for _ in range(args.runs * 3):
        t = time.perf_counter()
        chain()  # type: ignore[operator]
        warm.append(time.perf_counter() - t)
    rows["20-step chain cached, warm kernel"] = warm
    # Dask: 16 independent 0.5 s steps on 2 local workers (cluster start excluded, reported apart)
    from zenml_notebook import api, pipeline, step

    api.register_component("orchestrator", "bench-dask", "dask", {"n_workers": 2})
    api.register_stack("bench-dask", "default", "default", "bench-dask")

    @step
    def sleepy(i: int) -> int:
        time.sleep(0.5)
        return i

    @pipeline
    def fan_out():
        for i in range(16):
            sleepy(i)

    t = time.perf_counter()
    fan_out(stack="bench-dask", cache=False)
    first_dask = time.perf_counter() - t
    dask = []
    for _ in range(max(3, args.runs // 2)):
        t = time.perf_counter()
        fan_out(stack="bench-dask", cache=False)
        dask.append(time.perf_counter() - t)
    rows["Dask: 16 x 0.5 s steps, 2 workers"] = dask
    rows["  (first run, incl. starting the cluster)"] = [first_dask]
    budget = {"1-step, fresh process, cache off": 0.7, "20-step chain, fresh process, cache off": 0.9, "per-step overhead ((20 - 1) / 19)": 0.005,
              "20-step chain fully cached, fresh process": 0.7, "20-step chain cached, warm kernel": 0.1, "Dask: 16 x 0.5 s steps, 2 workers": 5.0}
    print(f"pipelines on the default stack (SQLite + local folder), {args.runs} runs each, alternating")
    print(f"{'operation':44} {'median':>9} {'min':>9} {'max':>9} {'budget':>8}")
    summary = {}
    for name, values in rows.items():
        med = statistics.median(values)
        ok = "" if name not in budget else ("ok" if med <= budget[name] else "MISS")
        print(f"{name:44} {med * 1000:7.1f}ms {min(values) * 1000:7.1f}ms {max(values) * 1000:7.1f}ms "
              f"{'' if name not in budget else f'{budget[name] * 1000:.0f}ms':>8} {ok}")
        summary[name] = {"median_s": med, "min_s": min(values), "max_s": max(values)}
    print("JSON " + json.dumps(summary))
    from zenml_notebook.pipelines.runner import shutdown_clusters

    shutdown_clusters()


if __name__ == "__main__":
    main()
