"""Deleting runs and pruning: what goes is decided through lineage (a cached later run keeps what
it reuses, a tag keeps its version), --dry-run changes nothing, a deletion killed half-way is
finished by the next one - on a local folder, the GCS emulator and moto's S3."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zenml_notebook import Client, api, pipeline, step
from zenml_notebook.exceptions import NotFoundError


@step(outputs=["model"])
def fit(lr: float = 0.1) -> dict:
    print("fitting", lr)
    return {"lr": lr, "weights": [lr] * 100}


@step
def score(model: dict) -> float:
    return float(sum(model["weights"]))


@pipeline
def training(lr: float = 0.1) -> None:
    score(fit(lr=lr))


def _files(client: Client) -> set[str]:
    """Every artifact file of the stack's store (its paths inside it)."""
    store = client._store
    found: set[str] = set()

    def walk(path: str) -> None:
        offset = 0
        while True:
            listing = store.list(path, offset=offset, limit=1000)
            for e in listing.entries:
                (walk if e.kind == "folder" else found.add)(e.path)
            offset += len(listing.entries)
            if offset >= listing.total or not listing.entries:
                return

    walk("")
    return found


def _consistent(client: Client) -> None:
    """Lineage and files agree: every live artifact of a remaining run is there, every deleted
    one is gone, nothing is left half-deleted."""
    md, store = client._md, client._store
    assert md.artifacts_in_state("deleting") == []
    files = _files(client)
    for run in md.runs(deleted=True):
        for e in md.executions(run):
            for art in md.artifacts_by_id([*e.outputs.values(), *e.logs.values()]):
                path = store.relative(art.uri)
                if art.state == "deleted":
                    assert path not in files, (run.name, path)
                else:
                    assert art.state == "live" and path in files, (run.name, path, art.state)
                    assert not run.deleted or md.users([art.id])[art.id] - {r.name for r in md.runs(deleted=True) if r.deleted}


def _on(request: pytest.FixtureRequest, where: str) -> None:
    if where == "gcs":
        server, bucket = request.getfixturevalue("gcs_server"), request.getfixturevalue("gcs_bucket")
        api.register_component("artifact_store", "remote", "gcs", {"path": f"gs://{bucket}/runs", "anonymous": True, "endpoint_url": server.url})
    elif where == "s3":
        server, bucket = request.getfixturevalue("s3_server"), request.getfixturevalue("s3_bucket")
        api.register_component("artifact_store", "remote", "s3", {"path": f"s3://{bucket}/runs", "endpoint_url": server.url})
    if where != "local":
        api.register_stack("remote", "default", "remote", "default", activate=True)


@pytest.mark.parametrize("where", ["local", "gcs", "s3"])
def test_delete_keeps_what_others_need_and_dry_run_changes_nothing(repo: Path, cli, where: str, request: pytest.FixtureRequest) -> None:
    _on(request, where)
    first = training(lr=0.1)
    second = training(lr=0.2)
    cached = training(lr=0.1)  # reuses `first`'s fit output from the cache
    assert cached.step("fit").state == "cached"
    client = Client()
    before = (_files(client), [r.name for r in client.runs()])
    r = cli("runs", "delete", first.name, "--dry-run")
    assert r.code == 0, r.err
    # the cached run reused fit's model and score's output: only what fit printed is first's alone
    assert f"would delete 1 run(s): {first.name}; 1 artifact(s), 12 B" in r.out and "nothing was changed (--dry-run)" in r.out
    assert "kept 2 artifact(s) that a remaining run still uses" in r.out and r.out.count("logs.txt") == 1
    assert (_files(client), [x.name for x in client.runs()]) == before
    r = cli("runs", "delete", first.name)
    assert r.code == 0 and f"deleted 1 run(s): {first.name}; 1 artifact(s)" in r.out, r.err
    assert first.name not in [x.name for x in client.runs()]
    with pytest.raises(NotFoundError, match="it was deleted"):
        client.get_run(first.name)
    gone = before[0] - _files(client)
    assert [p.split("/")[-3:] for p in gone] == [[first.name, "fit", "logs.txt"]]
    assert client.get_run(cached.name).output("fit")["lr"] == 0.1  # the reused artifact is still there
    assert client.artifact("model", version=1)["lr"] == 0.1
    r = cli("artifacts", "tag", "model:2", "production")
    r = cli("runs", "delete", second.name)
    assert "kept model:2@production: tagged (--force deletes it too)" in r.out, r.out
    assert client.artifact("model", version="production")["lr"] == 0.2
    r = cli("runs", "delete", second.name, "--force")  # re-running a deletion is fine; forced, the tag goes too
    assert r.code == 0 and "deleted tagged model:2@production" in r.out, r.out + r.err
    with pytest.raises(NotFoundError):
        client.artifact("model", version="production")
    with pytest.raises(NotFoundError, match="version 2 of 'model' was deleted"):
        client.artifact("model", version=2)
    _consistent(client)
    r = cli("pipelines", "delete", "training")
    assert r.code == 0 and "deleted pipeline 'training' from every list" in r.out, r.err
    assert client.runs() == [] and "training" not in client.pipelines()
    assert not {p for p in _files(client) if not p.endswith(".partial")}
    _consistent(client)


def test_prune_by_age_and_count(repo: Path, cli) -> None:
    runs = [training(lr=lr) for lr in (0.1, 0.2, 0.3, 0.4)]
    r = cli("artifacts", "prune")
    assert r.code == 2 and "say what to prune" in r.err
    r = cli("artifacts", "prune", "--older-than", "3x")
    assert r.code == 2 and "--older-than '3x': give a number and a unit" in r.err
    r = cli("artifacts", "prune", "--older-than", "30d")
    assert r.out.startswith("deleted 0 run(s); 0 artifact(s)"), r.out
    r = cli("artifacts", "prune", "--keep-last", "2", "--dry-run")
    assert f"would delete 2 run(s): {runs[1].name}, {runs[0].name}" in r.out
    r = cli("artifacts", "prune", "--keep-last", "2")
    assert [x.name for x in Client().runs()] == [runs[3].name, runs[2].name]
    _consistent(Client())


def test_a_deletion_killed_half_way_is_finished_by_the_next(repo: Path, cli) -> None:
    runs = [training(lr=i / 100) for i in range(1, 41)]
    again = training(lr=0.01)  # a cached re-run: keeps the first run's fit output
    names = [r.name for r in runs]
    proc = subprocess.Popen([sys.executable, "-m", "zenml_notebook", "runs", "delete", *names], cwd=repo,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    client = Client()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:  # kill it once the files start to go
        if client._md.artifacts_in_state("deleting") or client._md.artifacts_in_state("deleted"):
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL  # killed half-way, not after it finished
    assert client._md.artifacts_in_state("deleting")  # it stopped with artifacts marked, files partly removed
    r = cli("runs", "delete", *names)
    assert r.code == 0, r.err
    assert [x.name for x in client.runs()] == [again.name]
    assert client.get_run(again.name).output("fit")["lr"] == 0.01
    _consistent(client)


def test_a_run_marked_but_not_yet_deleted_is_given_back(repo: Path, cli) -> None:
    """Killed after marking the artifacts, before the runs: the next deletion makes them live again."""
    run = training(lr=0.7)
    client = Client()
    ids = [a for e in client._md.executions(client._md.get_run(run.name)) for a in e.outputs.values()]
    client._md.set_artifact_state(ids, "deleting")  # where the killed process stopped
    assert cli("artifacts", "prune", "--older-than", "30d").code == 0
    assert {a.state for a in client._md.artifacts_by_id(ids)} == {"live"}
    assert client.get_run(run.name).output("fit")["lr"] == 0.7
    again = training(lr=0.7)
    assert again.step("fit").state == "cached"


@pytest.mark.parametrize(("args", "says"), [
    (("runs", "delete", "<b>nope</b>"), "run '<b>nope</b>' does not exist"),
    (("runs", "delete", "../../x"), "run '../../x' does not exist"),
    (("pipelines", "delete", "nope"), "pipeline 'nope' does not exist"),
])
def test_bad_names_are_one_line(repo: Path, cli, args: tuple[str, ...], says: str) -> None:
    r = cli(*args)
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1 and says in r.err, r.err
