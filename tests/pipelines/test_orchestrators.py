"""Dask (a real LocalCluster), remote stacks (MariaDB + GCS emulator + Dask; S3 on moto),
and steps defined in notebook cells run through nbclient in a real kernel."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import cloudpickle
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from zenml_notebook import Client, api

from . import steps
from .steps import fan_out, train

cloudpickle.register_pickle_by_value(steps)  # workers need not import the tests package


@pytest.fixture
def dask_stack(repo: Path) -> str:
    api.register_component("orchestrator", "dask2", "dask", {"n_workers": 2})
    api.register_stack("dask", "default", "default", "dask2", activate=True)
    return "dask"


def test_dask_runs_the_pipeline_and_caches(dask_stack: str) -> None:
    first = train()
    assert first.state == "complete" and [s.state for s in first.steps] == ["complete"] * 4
    assert first.output("evaluate") < 0.01
    assert first.stack["orchestrator"]["flavor"] == "dask"
    again = train()
    assert [s.state for s in again.steps] == ["cached"] * 4
    changed = train(lr=0.05)
    assert [s.state for s in changed.steps] == ["cached", "cached", "complete", "complete"]


def test_dask_runs_independent_steps_in_parallel(dask_stack: str) -> None:
    run = fan_out(k=8, seconds=0.3, cache=False)
    assert run.state == "complete" and len(run.steps) == 8
    pids = {run.output(s.name) for s in run.steps}
    assert len(pids) == 2  # both workers computed
    client = Client()
    execs = client.executions(client.runs("fan_out")[0])
    spans = sorted((e.started, e.ended) for e in execs)
    assert any(b[0] < a[1] for a, b in itertools.pairwise(spans))  # some steps overlapped in time


def test_dask_failure_is_recorded(dask_stack: str) -> None:
    from zenml_notebook.exceptions import PipelineRunError

    from .steps import failing

    with pytest.raises(PipelineRunError, match=r"step 'boom' of run 'failing-.*' failed: ValueError: bad value 0.5"):
        failing()
    run = Client().last_run("failing")
    assert run.state == "failed" and run.step("boom").state == "failed"
    # independent steps ran at once: the others finished or were cancelled, none left "running"
    assert {s.state for s in run.steps if s.name != "boom"} <= {"complete", "cancelled"}


def test_all_remote_stack(repo: Path, mysql_account, gcs_server, gcs_bucket: str, capsys) -> None:
    a = mysql_account
    api.register_component("metadata_store", "maria", "mysql", {"host": a.host, "port": a.port, "username": a.user, "password": a.password, "database": a.database})
    api.register_component("artifact_store", "gcs", "gcs", {"path": f"gs://{gcs_bucket}/runs", "anonymous": True, "endpoint_url": gcs_server.url})
    api.register_component("orchestrator", "dask2", "dask", {"n_workers": 2})
    api.register_stack("remote", "maria", "gcs", "dask2", activate=True)
    run = train()
    assert run.state == "complete" and run.output("evaluate") < 0.01
    uri = run.step("fit").outputs["output"].uri
    assert uri == f"gs://{gcs_bucket}/runs/train/{run.name}/fit/output.npy"
    assert [s.state for s in train().steps] == ["cached"] * 4
    assert Client().get_run(run.name).stack["metadata_store"]["config"]["password"].startswith("********")


def test_s3_with_the_local_orchestrator(repo: Path, s3_server, s3_bucket: str) -> None:
    api.register_component("artifact_store", "s3", "s3", {"path": f"s3://{s3_bucket}/runs", "endpoint_url": s3_server.url})
    api.register_stack("s3", "default", "s3", "default", activate=True)
    run = train()
    assert run.step("load").outputs["output"].uri.startswith(f"s3://{s3_bucket}/runs/train/")
    assert run.output("split", "test")["x"]


NOTEBOOK_CELLS = [
    "%load_ext zenml_notebook\nfrom zenml_notebook import step, pipeline, api",
    "@step\ndef numbers(n: int = 5) -> list:\n    return list(range(n))\n\n@step\ndef total(xs: list) -> int:\n    return sum(xs)\n\n"
    "@pipeline\ndef summing(n: int = 5):\n    total(numbers(n=n))",
    "r1 = summing()\nprint([s.state for s in r1.steps], r1.output('total'))",
    "@step\ndef total(xs: list) -> int:\n    return sum(xs) * 10\n\n@pipeline\ndef summing(n: int = 5):\n    total(numbers(n=n))",
    "r2 = summing()\nprint([s.state for s in r2.steps], r2.output('total'))",
    "%zenml orchestrator register cells-dask --flavor dask --n-workers 2\n%zenml stack register cells -m default -a default -o cells-dask --set",
    "r3 = summing(n=6)\nprint([s.state for s in r3.steps], r3.output('total'), r3.stack['orchestrator']['flavor'])",
]


def test_steps_defined_in_notebook_cells(workdir: Path) -> None:
    nb = new_notebook(cells=[new_code_cell(c) for c in NOTEBOOK_CELLS], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    out = ["".join(o.get("text", "") for o in c.outputs if o.output_type == "stream" and o.name == "stdout") for c in nb.cells]
    notice, result = out[2].splitlines(keepends=True)
    assert notice.startswith("initialised a new zenml-notebook repository in")  # the first run created it: information, on stdout
    assert result == "['complete', 'complete'] 10\n"
    assert out[4] == "['cached', 'complete'] 100\n"  # the redefined step re-runs; the unchanged one is cached
    assert out[6] == "['complete', 'complete'] 150 dask\n"
    assert all(o.output_type != "error" for c in nb.cells for o in c.outputs)
    progress = [o for o in nb.cells[2].outputs if o.output_type == "display_data"]
    assert progress and "zenml-notebook-progress" in progress[0]["data"]["text/html"]
    assert "[complete]" in progress[0]["data"]["text/html"] or "complete" in progress[0]["data"]["text/html"]


QUIET = """
import logging
from zenml_notebook import pipeline, step
from zenml_notebook.pipelines.clusters import _CLUSTERS

@step
def one() -> int:
    return 1

@pipeline
def quiet():
    one()

quiet()
(local,) = _CLUSTERS.values()
print(len(logging.getLogger().handlers), local.client.cluster.scheduler.http_server.port)
"""


def test_a_dask_run_prints_no_library_logs_and_leaves_port_8787_free(cli, workdir: Path) -> None:
    """ml-metadata's absl logging used to call logging.basicConfig(), after which Dask's INFO
    records flooded the process's stderr; the scheduler's HTTP server took the fixed :8787."""
    import subprocess
    import sys

    assert cli("init").code == 0
    assert cli("orchestrator", "register", "dk", "--flavor", "dask", "--n-workers", "1").code == 0
    assert cli("stack", "register", "d", "-m", "default", "-a", "default", "-o", "dk", "--set").code == 0
    done = subprocess.run([sys.executable, "-c", QUIET], cwd=workdir, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    handlers, port = done.stdout.split()
    assert handlers == "0" and int(port) != 8787
    assert "INFO" not in done.stderr and "distributed" not in done.stderr, done.stderr


# -- the life of local clusters ---------------------------------------------------------------
def _answers(address: str) -> bool:
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address)
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((parts.hostname or "127.0.0.1", parts.port or 0)) == 0


def _wait_closed(address: str, seconds: float = 20) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _answers(address):
            return True
        time.sleep(0.2)
    return False


def test_switching_away_closes_the_local_cluster(dask_stack: str, shell) -> None:
    from zenml_notebook.pipelines import clusters

    assert train().state == "complete"
    (address,) = clusters.running().values()
    assert _answers(address)
    shell.run_line_magic("zenml", "stack set default")
    assert clusters.running() == {} and _wait_closed(address)
    assert train().state == "complete" and clusters.running() == {}  # the default stack runs in-process


def test_an_idle_cluster_closes_and_stop_closes_one_on_request(dask_stack: str, shell, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from zenml_notebook.pipelines import clusters

    monkeypatch.setenv(clusters.IDLE_ENV, "1.5")
    assert fan_out(k=2, seconds=0.0, cache=False).state == "complete"
    (address,) = clusters.running().values()
    assert _wait_closed(address, 15) and clusters.running() == {}
    monkeypatch.setenv(clusters.IDLE_ENV, "600")
    assert fan_out(k=2, seconds=0.0, cache=False).state == "complete"
    (address,) = clusters.running().values()
    capsys.readouterr()
    shell.run_line_magic("zenml", "orchestrator stop")
    assert capsys.readouterr().out == "stopped the local Dask cluster of orchestrator 'dask2' (2 workers)\n"
    assert _wait_closed(address) and clusters.running() == {}
    shell.run_line_magic("zenml", "orchestrator stop dask2")
    assert capsys.readouterr().out == "orchestrator 'dask2' has no local Dask cluster running in this process; nothing to stop\n"
    api.register_component("orchestrator", "theirs", "dask", {"scheduler_address": "tcp://127.0.0.1:8786"})
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match=r"uses the scheduler at tcp://127\.0\.0\.1:8786, which you run; zenml-notebook never stops"):
        shell.run_line_magic("zenml", "orchestrator stop theirs")
    with pytest.raises(UsageError, match="runs steps in this process; there is nothing to stop"):
        shell.run_line_magic("zenml", "orchestrator stop default")


def test_a_script_without_a_main_guard_gets_one_line(cli, repo: Path) -> None:
    import subprocess
    import sys

    assert cli("orchestrator", "register", "dk", "--flavor", "dask", "--n-workers", "1").code == 0
    assert cli("stack", "register", "dk", "-m", "default", "-a", "default", "-o", "dk", "--set").code == 0
    (repo / "unguarded.py").write_text(
        "from zenml_notebook import step, pipeline\n@step\ndef one() -> int:\n    return 1\n@pipeline\ndef p():\n    one()\np()\n")
    done = subprocess.run([sys.executable, "unguarded.py"], cwd=repo, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.endswith("unguarded.py runs a pipeline on a local Dask cluster, whose workers import the script again: put the "
                         "pipeline call under `if __name__ == \"__main__\":`, or give the orchestrator a --scheduler-address")
    assert "Nanny failed" not in done.stderr


def test_a_dask_worker_step_output_is_captured(dask_stack: str) -> None:
    from .steps import shouting

    run = shouting(n=3, cache=False)
    text = run.log("shout")
    pid = run.output("shout") and text.split("pid ")[1].split()[0]
    assert text.startswith("printed on a worker, pid ") and "WARNING:worker:a record on a worker" in text
    assert int(pid) != os.getpid()  # it ran in a worker process, and its output came back as the step's log
