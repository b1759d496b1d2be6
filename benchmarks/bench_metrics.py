"""Experiment tracking: what `log_metric` costs in the step's thread (ours, and MLflow's on a
local SQLite backend, measured in the same run), and reading + downsampling a million points
for a chart; prints a table and one JSON line.

Run: `make bench` (or `python benchmarks/bench_metrics.py`). Ours: a step on the default stack
(SQLite metadata, local folder) calls `log_metric` N times and times the loop inside the step
(perf_counter), median of 5 steps; the step's end (compacting, writing the summary) is not in
the per-call figure and is reported on its own. MLflow: `mlflow.log_metric` in an active run,
tracking URI `sqlite:///…` (MLflow 3.17 in `.venv-mlflow`, which `make bench` creates), median of
5 loops of 2 000 calls; skipped with a note when that venv is missing. Reading: the route's own
work (`Run.metric_series` + `downsample` to 1 000 points) for a step that logged 1 000 000 points.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
MLFLOW = Path(__file__).resolve().parents[1] / ".venv-mlflow" / "bin" / "python"
BUDGET = {"log_metric per call (ours)": 2e-6, "1 000 000 points read + downsampled": 0.5}

MLFLOW_SCRIPT = """
import statistics, sys, tempfile, time, os, logging
logging.disable(logging.WARNING)
import mlflow
d = tempfile.mkdtemp()
mlflow.set_tracking_uri(f"sqlite:///{d}/mlflow.db")
times = []
with mlflow.start_run():
    mlflow.log_metric("warm", 0.0)
    for _ in range(5):
        t = time.perf_counter()
        for i in range(2000):
            mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
        times.append((time.perf_counter() - t) / 2000)
print(statistics.median(times))
"""


def main() -> None:
    n = 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        from zenml_notebook import api, log_metric, pipeline, step
        from zenml_notebook.pipelines.metrics import downsample

        api.init()
        per_call: list[float] = []

        @step(cache=False)
        def loop(n: int = n) -> float:
            t = time.perf_counter()
            for i in range(n):
                log_metric("loss", 1.0 / (i + 1))
            took = (time.perf_counter() - t) / n
            per_call.append(took)
            return took

        @pipeline(cache=False)
        def logging_run(n: int = n) -> None:
            loop(n=n)

        ends = []
        for _ in range(5):
            t = time.perf_counter()
            run = logging_run(n=200_000)
            ends.append(time.perf_counter() - t - per_call[-1] * 200_000)
        ours = statistics.median(per_call)
        big = logging_run(n=n)
        reads = []
        for _ in range(5):
            t = time.perf_counter()
            ((_, series),) = big.metric_series("loop", "loss")
            d = downsample(series, 1000)
            reads.append(time.perf_counter() - t)
        assert d["count"] == n and len(d["values"]) <= 1000
        read = statistics.median(reads)
        del run
    mlflow: float | None = None
    if MLFLOW.exists():
        out = subprocess.run([str(MLFLOW), "-c", MLFLOW_SCRIPT], capture_output=True, text=True, timeout=600, cwd=tempfile.gettempdir())
        mlflow = float(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else None
    print("experiment tracking (median of 5)")
    print(f"  {'log_metric per call (ours)':<44} {ours * 1e6:9.2f} µs   (budget 2 µs)")
    if mlflow is not None:
        print(f"  {'mlflow.log_metric per call (sqlite backend)':<44} {mlflow * 1e6:9.1f} µs   ({mlflow / ours:,.0f}x ours)")
    else:
        print(f"  {'mlflow.log_metric per call':<44} {'n/a':>9}      (no .venv-mlflow: `make .venv-mlflow/.installed`)")
    print(f"  {'step end with 200 000 points (compact, record)':<44} {statistics.median(ends) * 1000:9.1f} ms")
    print(f"  {'1 000 000 points read + downsampled':<44} {read * 1000:9.1f} ms   (budget 500 ms)")
    print(json.dumps({"bench": "metrics", "log_metric_us": round(ours * 1e6, 3), "mlflow_log_metric_us": round(mlflow * 1e6, 1) if mlflow else None,
                      "step_end_200k_ms": round(statistics.median(ends) * 1000, 1), "read_1m_ms": round(read * 1000, 1)}))


if __name__ == "__main__":
    main()
