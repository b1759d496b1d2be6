"""Detached runs (`submit(detach=True)`): the driver runs on a real `dask scheduler` + `dask
worker`s with MariaDB and the GCS emulator; the submitting process exits right after submitting
and the run still completes, read as complete by another process with every output loadable;
`runs cancel` from another process stops it; a local stack is refused with the reason."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from zenml_notebook import Client, api, pipeline, step
from zenml_notebook.exceptions import UsageError

SUBMIT = """
import sys, time
from zenml_notebook import pipeline, step

@step(cache=False)
def numbers(n: int = 3) -> list:
    return list(range(n))

@step(cache=False)
def slow(xs: list, seconds: float = 0.0) -> list:
    time.sleep(seconds)
    return [x * 2 for x in xs]

@step(cache=False)
def total(xs: list) -> int:
    return sum(xs)

@pipeline(name="detached")
def detached(n: int = 3, seconds: float = 0.0, chain: int = 1):
    xs = numbers(n=n)
    for _ in range(chain):
        xs = slow(xs, seconds=seconds)
    total(xs)

if __name__ == "__main__":
    t = time.perf_counter()
    handle = detached.submit(n=int(sys.argv[1]), seconds=float(sys.argv[2]), chain=int(sys.argv[3]), run_name=sys.argv[4], detach=True)
    print(handle.name, f"{time.perf_counter() - t:.3f}")
"""


@pytest.fixture
def remote_stack(repo: Path, tmp_path: Path, mysql_account, gcs_server, gcs_bucket: str):  # type: ignore[no-untyped-def]
    from ..services import start_dask

    cluster = start_dask(tmp_path / "dask", workers=2)
    a = mysql_account
    api.register_component("metadata_store", "maria", "mysql", {"host": a.host, "port": a.port, "username": a.user, "password": a.password,
                                                                "database": a.database})
    api.register_component("artifact_store", "bucket", "gcs", {"path": f"gs://{gcs_bucket}/runs", "anonymous": True, "endpoint_url": gcs_server.url})
    api.register_component("orchestrator", "cluster", "dask", {"scheduler_address": cluster.address})
    api.register_stack("remote", "maria", "bucket", "cluster", activate=True)
    (repo / "submit.py").write_text(SUBMIT)
    try:
        yield cluster
    finally:
        from zenml_notebook.pipelines.clusters import _close_remote

        _close_remote()  # this process's client of the scheduler goes first
        cluster.stop()


def _submit(repo: Path, *args: str) -> tuple[str, float]:
    out = subprocess.run([sys.executable, "submit.py", *args], cwd=repo, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    name, took = out.stdout.split()
    return name, float(took)


def _wait_state(name: str, states: set[str], timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = Client()._md.get_run(name)
        state = Client().run_state(info)
        if state in states:
            return state
        time.sleep(0.3)
    raise AssertionError(f"run {name} is still {state} after {timeout} s")


def test_a_detached_run_completes_after_the_submitting_process_exited(repo: Path, remote_stack, mysql_account, cli) -> None:  # type: ignore[no-untyped-def]
    name, took = _submit(repo, "4", "1.0", "2", "detached-1")  # the process exits right after submitting
    assert name == "detached-1" and took < 30  # submit() returns once the cluster's driver has claimed the run
    r = cli("runs", "list")
    assert "detached-1" in r.out and "running" in r.out, r.out + r.err  # driven by a worker of the cluster, which lives
    assert _wait_state(name, {"complete", "failed", "incomplete", "cancelled"}) == "complete"
    run = Client().get_run(name)  # another process's view: everything recorded from the cluster
    assert [s.state for s in run.steps] == ["complete"] * 4 and run.output("total") == 24 and run.output("numbers") == [0, 1, 2, 3]
    assert run.summary.get("detached") is True
    assert run.step("total").outputs["output"].uri.startswith("gs://")
    secrets_seen = r.out + r.err + cli("runs", "describe", name).out
    assert mysql_account.password not in secrets_seen


def test_a_detached_run_is_cancelled_from_another_process(repo: Path, remote_stack, cli) -> None:  # type: ignore[no-untyped-def]
    name, _ = _submit(repo, "2", "1.0", "20", "detached-long")
    deadline = time.monotonic() + 60
    while not Client().get_run(name).steps and time.monotonic() < deadline:
        time.sleep(0.2)
    r = cli("runs", "cancel", name)
    assert r.code == 0 and f"asked run {name!r} to stop" in r.out, r.err
    assert _wait_state(name, {"cancelled", "complete", "failed"}, timeout=60) == "cancelled"
    run = Client().get_run(name)
    assert 1 <= len(run.steps) < 22 and all(s.state == "complete" for s in run.steps)
    r = cli("runs", "cancel", name)
    assert r.code == 2 and "has ended (cancelled)" in r.err


def test_a_failing_step_on_the_cluster_is_recorded_and_raised_by_wait(repo: Path, remote_stack) -> None:  # type: ignore[no-untyped-def]
    import cloudpickle

    from zenml_notebook.exceptions import PipelineRunError

    from . import steps

    cloudpickle.register_pickle_by_value(steps)  # the cluster's workers do not have the tests' modules
    handle = steps.failing_detached.submit(detach=True, run_name="detached-fails")
    with pytest.raises(PipelineRunError, match="step 'explode' of run 'detached-fails' failed: ValueError: bad"):
        handle.wait(timeout=120)
    assert handle.status == "failed"
    run = Client().get_run("detached-fails")
    assert run.step("explode").state == "failed"


@step
def one() -> int:
    return 1


@pipeline
def tiny():
    one()


def test_a_local_stack_is_refused_with_the_reason(repo: Path) -> None:
    with pytest.raises(UsageError) as info:
        tiny.submit(detach=True)
    text = str(info.value)
    assert "a detached run goes on without this process" in text and "SQLite file on this machine" in text and "folder on this machine" in text
    assert "\n" not in text
    assert Client().runs() == []  # nothing was recorded


def test_a_cluster_that_cannot_import_us_is_one_classified_line(repo: Path, tmp_path: Path, mysql_account, gcs_server, gcs_bucket: str) -> None:  # type: ignore[no-untyped-def]
    from zenml_notebook.exceptions import StoreConnectionError

    from ..services import start_dask

    fake = tmp_path / "without" / "zenml_notebook"  # first on the workers' path: as if it were not installed there
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'zenml_notebook'\", name='zenml_notebook')\n")
    cluster = start_dask(tmp_path / "dask", workers=1, env={"PYTHONPATH": str(fake.parent)})
    try:
        a = mysql_account
        api.register_component("metadata_store", "maria", "mysql", {"host": a.host, "port": a.port, "username": a.user, "password": a.password,
                                                                    "database": a.database})
        api.register_component("artifact_store", "bucket", "gcs", {"path": f"gs://{gcs_bucket}/runs", "anonymous": True, "endpoint_url": gcs_server.url})
        api.register_component("orchestrator", "bare", "dask", {"scheduler_address": cluster.address})
        api.register_stack("bare", "maria", "bucket", "bare", activate=True)
        with pytest.raises(StoreConnectionError) as info:
            tiny.submit(detach=True, run_name="never-claimed")
        text = str(info.value)
        assert text.startswith("run 'never-claimed' could not start on the cluster: the cluster's workers cannot import zenml_notebook"), text
        assert "\n" not in text and a.password not in text
        assert Client().get_run("never-claimed").state == "failed"
    finally:
        cluster.stop()


def test_runs_on_a_scheduler_share_one_client_and_record_every_step(repo: Path, remote_stack) -> None:  # type: ignore[no-untyped-def]
    """Attached runs on the same scheduler: one client for the process (not one leaked per run);
    a chain whose steps are recorded while their successors already run keeps every record."""
    import cloudpickle

    from zenml_notebook.pipelines import clusters

    from . import steps

    cloudpickle.register_pickle_by_value(steps)
    first = steps.train()
    client = clusters._REMOTE[remote_stack.address]
    second = steps.train(n=60)
    assert clusters._REMOTE[remote_stack.address] is client and len(clusters._REMOTE) == 1
    for run in (first, second):
        assert [s.state for s in run.steps] == ["complete"] * 4
        loaded = Client().get_run(run.name)
        ids = {a.id for s in loaded.steps for a in s.outputs.values()}
        assert all(i > 0 for i in ids) and all(set(s.inputs.values()) <= ids for s in loaded.steps)
    assert [s.state for s in steps.train().steps] == ["cached"] * 4  # hits recorded with their inputs' ids
