"""Metrics logged inside steps (log_metric and friends): stored exactly, summarised, cheap per
call, durable across SIGKILL, the same on Dask with GCS and S3 stores, shown (not copied) by a
cache hit, and hostile names and values refused in one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cloudpickle
import pytest

from zenml_notebook import Client, api, log_metric, pipeline, step
from zenml_notebook.exceptions import PipelineRunError, UsageError
from zenml_notebook.pipelines.metrics import FILE, Recorder, decode, downsample, read_series

from . import steps
from .steps import curves

cloudpickle.register_pickle_by_value(steps)

N = 100_000


@step(cache=False)
def big(n: int = N) -> int:
    from zenml_notebook import log_metrics

    for i in range(n):
        log_metrics({"loss": 1.0 / (i + 1), "acc": (i % 1000) / 1000.0, "spike": 1000.0 if i == 77_777 else float(i % 7)})
    return n


@pipeline(cache=False)
def big_run(n: int = N) -> None:
    big(n=n)


def test_100_000_points_of_3_metrics_are_stored_and_read_back_exactly(repo: Path) -> None:
    run = big_run()
    s = run.step("big")
    assert set(s.metric_summary) == {"loss", "acc", "spike"}
    assert s.metric_summary["loss"] == {"last": 1.0 / N, "min": 1.0 / N, "max": 1.0, "count": N, "step": N - 1}
    assert s.metric_summary["spike"]["max"] == 1000.0
    frame = run.metrics()
    assert len(frame) == 3 * N and set(frame.columns) == {"run", "step", "name", "step_index", "value", "time"}
    loss = frame[frame.name == "loss"].sort_values("step_index")
    assert loss.value.tolist() == [1.0 / (i + 1) for i in range(N)]  # exactly, not approximately
    assert loss.step_index.tolist() == list(range(N))
    assert run.step("big").metrics("acc").value.tolist()[:3] == [0.0, 0.001, 0.002]
    # one compacted file beside the outputs, no segments left
    store = api.artifact_store()
    base = f"big_run/{run.name}/big"
    assert store.exists(f"{base}/{FILE}") and not store.exists(f"{base}/metrics")
    # downsampled for a chart: few points, the true min and max kept (the single spike survives)
    (series,) = read_series(store, base, {"spike"}).values()
    d = downsample(series, 500)
    assert len(d["values"]) <= 500 and 1000.0 in d["values"] and d["max"] == 1000.0 and d["min"] == 0.0 and d["count"] == N
    # the runs table and comparisons read the summary only
    row = Client().table(limit=1)["rows"][0]
    assert row["metrics"] == {"big.loss": 1.0 / N, "big.acc": 0.999, "big.spike": float((N - 1) % 7)}


def test_a_call_is_cheap_in_the_steps_thread(tmp_path: Path) -> None:
    """A generous bound (the benchmark has the figure): appending never does I/O."""
    from zenml_notebook.components.artifacts.store import ArtifactStore

    store = ArtifactStore("local", str(tmp_path), {}, "local")
    recorder = Recorder(store, "p/r/s")
    recorder.log("warm", 0.0, None)
    n = 200_000
    t = time.perf_counter()
    for i in range(n):
        recorder.log("loss", i * 0.5, None)
    per_call = (time.perf_counter() - t) / n
    recorder.close()
    assert per_call < 20e-6, per_call


KILLED = """
import sys, time
from zenml_notebook import step, pipeline, log_metric

@step(cache=False)
def forever() -> int:
    i = 0
    while True:
        log_metric("tick", float(i))
        i += 1
        if i % 1000 == 0:
            print(f"{time.time()} {i}", file=sys.__stdout__, flush=True)
        time.sleep(0.0005)

@pipeline(cache=False)
def killed():
    forever()

if __name__ == "__main__":
    killed(run_name="killed-run")
"""


def test_sigkill_mid_step_loses_at_most_the_last_second(repo: Path) -> None:
    script = repo / "killed.py"
    script.write_text(KILLED)
    proc = subprocess.Popen([sys.executable, str(script)], cwd=repo, stdout=subprocess.PIPE, text=True, start_new_session=True)
    started = time.monotonic()
    last = (0.0, 0)
    assert proc.stdout is not None
    while time.monotonic() - started < 10:
        line = proc.stdout.readline()
        if line:
            t, i = line.split()
            last = (float(t), int(i))
    os.killpg(proc.pid, signal.SIGKILL)
    killed_at = time.time()
    proc.wait()
    assert last[1] > 1000, last
    run = Client().get_run("killed-run")
    assert run.state == "incomplete"
    store = api.artifact_store()
    segments = [e.path for e in store.list("killed/killed-run/forever/metrics", limit=1000).entries]
    assert segments and all(decode(store.read_bytes(p)) for p in segments)  # every segment whole and readable
    frame = run.metrics()  # the step was never recorded: its segments are read
    ticks = sorted(frame[frame.name == "tick"].value.tolist())
    assert ticks == [float(i) for i in range(len(ticks))]  # nothing in between is missing
    newest = frame.time.max()
    assert killed_at - newest <= 1.0 + 0.5, (killed_at, newest)  # at most the last second (and the kill's own latency)
    assert len(ticks) >= last[1] - 2500  # and what the script said it had logged a moment before is there


@pytest.fixture(autouse=True)
def _own_clusters():
    """The local Dask clusters these tests start are closed after each (other tests count them)."""
    yield
    from zenml_notebook.pipelines.runner import shutdown_clusters

    shutdown_clusters()


@pytest.fixture
def dask_gcs(repo: Path, gcs_server, gcs_bucket: str) -> str:
    api.register_component("artifact_store", "gcs", "gcs", {"path": f"gs://{gcs_bucket}/runs", "anonymous": True, "endpoint_url": gcs_server.url})
    api.register_component("orchestrator", "dask1", "dask", {"n_workers": 1})
    api.register_stack("dask-gcs", "default", "gcs", "dask1", activate=True)
    return "dask-gcs"


def test_on_a_dask_worker_with_a_gcs_store(dask_gcs: str) -> None:
    run = curves(n=3000)
    s = run.step("log_curves")
    assert s.metric_summary["loss"]["count"] == 3000 and s.metric_summary["lr"]["last"] == pytest.approx(0.1 * 0.99**2999)
    assert s.metrics_artifact is not None and s.metrics_artifact.uri.startswith("gs://")
    frame = run.metrics()
    assert len(frame) == 9000 and frame[frame.name == "acc"].value.max() == pytest.approx(2999 / 3000)


def test_with_an_s3_store(repo: Path, s3_server, s3_bucket: str) -> None:
    api.register_component("artifact_store", "s3", "s3", {"path": f"s3://{s3_bucket}/runs", "endpoint_url": s3_server.url})
    api.register_component("orchestrator", "dask1", "dask", {"n_workers": 1})
    api.register_stack("dask-s3", "default", "s3", "dask1", activate=True)
    run = curves(n=500)
    assert run.step("log_curves").metrics_artifact.uri.startswith(f"s3://{s3_bucket}/")
    assert sorted(run.metrics().name.unique()) == ["acc", "loss", "lr"]


@step
def cached_curve(n: int = 50) -> int:
    from zenml_notebook import log_param, log_tag

    for i in range(n):
        log_metric("loss", 1.0 / (i + 1))
    log_param("seen", n * 2)
    log_tag("note", "<b>first</b>")
    return n


@pipeline
def cached_pipeline(n: int = 50) -> None:
    cached_curve(n=n)


def test_a_cached_rerun_shows_the_original_metrics_and_writes_none(repo: Path) -> None:
    first = cached_pipeline()
    again = cached_pipeline()
    s = again.step("cached_curve")
    assert s.state == "cached" and s.metric_summary == first.step("cached_curve").metric_summary
    assert s.parameters == {"n": 50, "seen": 100} and s.tags == {"note": "<b>first</b>"}
    assert again.metrics().value.tolist() == first.metrics().value.tolist()
    assert not api.artifact_store().exists(f"cached_pipeline/{again.name}/cached_curve")  # no folder, no series
    code = subprocess.run([sys.executable, "-m", "zenml_notebook", "runs", "metrics", again.name], cwd=repo, capture_output=True, text=True)
    assert code.returncode == 0 and "loss" in code.stdout and "50" in code.stdout, code.stdout + code.stderr


@pytest.mark.parametrize(("name", "value", "says"), [
    ("loss", float("nan"), "not a finite number"),
    ("loss", float("inf"), "not a finite number"),
    ("loss", "abc", "is not a number"),
    ("loss", None, "is not a number"),
    ("<b>x</b>", 1.0, "not allowed"),
    ("../etc/passwd", 1.0, "not allowed"),
    ("x" * 201, 1.0, "1 to 200 characters"),
    ("", 1.0, "1 to 200 characters"),
])
def test_hostile_names_and_values_fail_the_step_in_one_line(repo: Path, name: object, value: object, says: str) -> None:
    @step(cache=False)
    def hostile() -> int:
        log_metric(name, value)  # type: ignore[arg-type]
        return 1

    @pipeline(cache=False)
    def hostile_pipeline() -> None:
        hostile()

    with pytest.raises(PipelineRunError) as info:
        hostile_pipeline()
    message = str(info.value)
    assert says in message and "\n" not in message and len(message) < 400, message


def test_outside_a_step_there_is_one_line() -> None:
    with pytest.raises(UsageError, match="inside a running @step"):
        log_metric("loss", 1.0)
    with pytest.raises(UsageError, match="inside a running @step"):
        from zenml_notebook import log_metrics

        log_metrics({"a": 1.0})
    json.dumps({})


def test_a_damaged_series_file_is_one_line(repo: Path) -> None:
    run = cached_pipeline(n=5, cache=False)
    store = api.artifact_store()
    path = f"cached_pipeline/{run.name}/cached_curve/{FILE}"
    data = store.read_bytes(path)
    for damaged in (data[:-3], b"ZNM1" + data[4:40], b"not ours at all", data[:8] + b"[" + data[9:]):
        store.write_bytes(path, damaged)
        with pytest.raises(UsageError, match="a metrics file is damaged") as info:
            Client().get_run(run.name).metrics()
        assert "\n" not in str(info.value)
    store.write_bytes(path, data)
    assert len(Client().get_run(run.name).metrics()) == 5
