"""Mirroring a run to MLflow (the `mlflow` experiment tracker) against MLflow's own client doing
the same work, side by side against one real `mlflow server` (sqlite backend, 127.0.0.1).

* ours: `runs sync-tracker`'s work for a finished run of one step that logged P points of 3
  metrics (a parent run, a nested step run, its parameters, every point in batches of 1 000, the
  runs marked finished), through MLflow's REST API with the standard library;
* MLflow's client (`MlflowClient` in `.venv-mlflow`, `make bench` creates it): the same runs,
  parameters and points with `log_batch` in batches of 1 000 (its fastest path), timed inside its
  own process (imports excluded);
* what a pipeline run pays on the default (built-in) tracker for the same points: nothing at the
  run's end (the points are already stored with the step).

Run: `python benchmarks/bench_tracker.py [--points P] [--runs N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MLFLOW = ROOT / ".venv-mlflow" / "bin"

PEER = r"""
import sys, time, json
from mlflow.tracking import MlflowClient
from mlflow.entities import Metric, Param
uri, points, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = MlflowClient(uri)
exp = c.create_experiment(f"peer-{time.time_ns()}")
times = []
for r in range(runs):
    t = time.perf_counter()
    parent = c.create_run(exp, run_name=f"run-{r}").info.run_id
    child = c.create_run(exp, run_name="train", tags={"mlflow.parentRunId": parent}).info.run_id
    c.log_batch(child, params=[Param("lr", "0.1"), Param("optimizer", "sgd")])
    now = int(time.time() * 1000)
    batch = []
    for i in range(points):
        for name, value in (("loss", 1.0 / (i + 1)), ("acc", i / points), ("lr_now", 0.1)):
            batch.append(Metric(name, value, now + i, i))
            if len(batch) == 1000:
                c.log_batch(child, metrics=batch)
                batch = []
    if batch:
        c.log_batch(child, metrics=batch)
    c.set_terminated(child)
    c.set_terminated(parent)
    times.append(time.perf_counter() - t)
print("TIMES " + json.dumps(times))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=10_000, help="points per metric (3 metrics)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not (MLFLOW / "mlflow").exists():
        raise SystemExit(f"{MLFLOW / 'mlflow'} is missing: `make bench` creates .venv-mlflow")
    work = Path(tempfile.mkdtemp(prefix="zn-bench-tracker-"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(MLFLOW / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                               "--backend-store-uri", f"sqlite:///{work / 'mlflow.db'}", "--default-artifact-root", str(work / "art")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, cwd=work)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                req = urllib.request.Request(f"{url}/api/2.0/mlflow/experiments/search", data=b'{"max_results": 1}',
                                             headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        mirror = _ours(work, url, args)
        ours, peer = [], []
        for _ in range(args.runs):  # alternating, so the server's drift (its database grows) hits both
            ours.append(mirror())
            out = subprocess.run([str(MLFLOW / "python"), "-c", PEER, url, str(args.points), "1"], check=True,
                                 capture_output=True, text=True, timeout=3600).stdout
            peer += json.loads(next(line for line in out.splitlines() if line.startswith("TIMES "))[6:])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    points = 3 * args.points
    o, p = statistics.median(ours), statistics.median(peer)
    print(f"mirror a finished run (parent + 1 step, 2 params, {points} points) to a real mlflow server; {args.runs} rounds, medians")
    print(f"{'ours (REST, standard library)':40} {o:7.2f} s  {points / o:8.0f} points/s")
    print(f"{'MLflow client log_batch (its process)':40} {p:7.2f} s  {points / p:8.0f} points/s  ({o / p:.2f}x)")
    print("JSON " + json.dumps({"points": points, "ours_s": o, "mlflow_client_s": p, "ratio": o / p}))


def _ours(work: Path, url: str, args: argparse.Namespace) -> Any:
    os.chdir(work)
    os.environ["ZENML_NOTEBOOK_CONFIG_DIR"] = str(work / "config")
    from zenml_notebook import Client, api, log_metrics, log_param, pipeline, step
    from zenml_notebook.components.trackers.mlflow import MLflowTracker

    api.init(work)
    n = args.points

    @step(cache=False)
    def train(lr: float = 0.1) -> float:
        log_param("optimizer", "sgd")
        for i in range(n):
            log_metrics({"loss": 1.0 / (i + 1), "acc": i / n, "lr_now": lr}, step=i)
        return lr

    @pipeline(name="tracked", cache=False)
    def tracked(lr: float = 0.1) -> None:
        train(lr=lr)

    api.register_component("experiment_tracker", "mlf", "mlflow", {"tracking_uri": url, "experiment": "ours"}, verify=False)
    rounds = iter(range(10**6))

    def mirror() -> float:
        run = tracked(lr=0.1 + next(rounds))  # on the default stack: nothing mirrored at its end
        loaded = Client().get_run(run.name)
        tracker = MLflowTracker(api.get_component("experiment_tracker", "mlf")[0])
        t = time.perf_counter()
        outcome = tracker.mirror(loaded, deadline=None)
        took = time.perf_counter() - t
        assert outcome["mirrored"]
        return took

    return mirror


if __name__ == "__main__":
    main()
