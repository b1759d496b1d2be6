"""The experiment tracker, a fourth (optional) component kind: every existing stack keeps the
built-in one; the mlflow flavor mirrors each run to a real ``mlflow server`` (read back through
MLflow's own client), never stalls a pipeline when the server is paused, and ``runs
sync-tracker`` mirrors later, once. Secrets go to the tracking server only."""

from __future__ import annotations

import base64
import http.server
import json
import sqlite3
import threading
import time
import warnings
from pathlib import Path
from typing import ClassVar

import pytest

from zenml_notebook import Client, api, log_metric, log_param, log_tag, pipeline, step
from zenml_notebook.exceptions import UsageError, ZenMLWarning

READ = r"""
import json, sys
from mlflow.tracking import MlflowClient
c = MlflowClient(sys.argv[1])
exp = c.get_experiment_by_name(sys.argv[2])
out = []
for r in (c.search_runs([exp.experiment_id], max_results=1000) if exp else []):
    history = {k: [[m.step, m.value] for m in c.get_metric_history(r.info.run_id, k)] for k in r.data.metrics}
    out.append({"id": r.info.run_id, "name": r.info.run_name, "status": r.info.status, "params": r.data.params,
                "tags": r.data.tags, "metrics": r.data.metrics, "history": history})
print(json.dumps(out))
"""

POINTS = 1500


@step
def train(lr: float = 0.1) -> float:
    log_param("optimizer", "sgd")
    log_tag("note", "<b>not markup</b>")
    for i in range(POINTS):
        log_metric("loss", 1.0 / (i + 1), step=i)
        log_metric("acc", i / POINTS, step=i)
        log_metric("val loss (%)", 2.0 / (i + 1), step=i)
    return 0.875


@step
def evaluate(score: float) -> float:
    return score * 2


@pipeline
def tracked(lr: float = 0.1) -> None:
    evaluate(train(lr=lr))


def _mlflow_runs(server, experiment: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return json.loads(server.python(READ, experiment))


def _tracker_stack(server, experiment: str, *extra: str, timeout: float = 5) -> None:  # type: ignore[no-untyped-def]
    api.register_component("experiment_tracker", "mlf", "mlflow",
                           {"tracking_uri": server.url, "experiment": experiment, "timeout": timeout, **dict(zip(extra[::2], extra[1::2]))})
    api.register_stack("tracked", "default", "default", "default", "mlf", activate=True)


def test_every_stack_has_the_builtin_tracker_and_an_old_registry_is_migrated(tmp_path: Path, repo: Path, cli) -> None:  # type: ignore[no-untyped-def]
    from zenml_notebook.registry.local import SCHEMA_2

    desc = api.describe_stack()
    assert (desc.components["experiment_tracker"].name, desc.components["experiment_tracker"].flavor) == ("default", "builtin")
    old = tmp_path / "old"
    (old / ".zenml").mkdir(parents=True)
    with sqlite3.connect(old / ".zenml" / "zenml.db") as conn:  # a registry as version 2 made it, with two stacks
        conn.executescript(SCHEMA_2)
        conn.execute("INSERT INTO meta VALUES ('schema_version', '2'), ('active_stack', 'old'), ('generation', '1')")
        for i, (kind, flavor, config) in enumerate((("metadata_store", "sqlite", '{"uri": ".zenml/metadata.db"}'),
                                                    ("artifact_store", "local", '{"path": ".zenml/artifacts"}'), ("orchestrator", "local", "{}")), 1):
            conn.execute("INSERT INTO components VALUES (?, ?, 'old', ?, ?, 't', 't', 1, 'x')", (i, kind, flavor, config))
        conn.execute("INSERT INTO stacks VALUES (1, 'old', 1, 2, 3, 't', 't', 1, 'x'), (2, 'other', 1, 2, 3, 't', 't', 1, 'x')")
    r = cli("stack", "list", cwd=old)
    assert r.code == 0, r.err
    assert [line.split() for line in r.out.splitlines()[1:]] == [["*", "old", "old", "old", "old", "default"], ["other", "old", "old", "old", "default"]]
    r = cli("experiment-tracker", "list", cwd=old)
    assert "default" in r.out and "builtin" in r.out and "old, other" in r.out
    with sqlite3.connect(old / ".zenml" / "zenml.db") as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("3",)
    r = cli("tracker", "delete", "default", cwd=old)  # used by both stacks
    assert r.code == 2 and "used by stack(s) old, other" in r.err and len(r.err.strip().splitlines()) == 1, r.err
    # a pipeline on a migrated stack runs as before (the built-in tracker mirrors nothing)
    r = cli("runs", "list", cwd=old)
    assert r.code == 0 and "(no runs yet)" in r.out


def test_a_run_becomes_a_parent_and_nested_step_runs_in_mlflow(repo: Path, mlflow_server) -> None:  # type: ignore[no-untyped-def]
    _tracker_stack(mlflow_server, "exact", timeout=60)  # MLflow stores ~2 000 points a second: room for 4 500 on a loaded machine
    with warnings.catch_warnings():
        warnings.simplefilter("error", ZenMLWarning)  # a reachable server: no warning at all
        run = tracked(lr=0.25)
    outcome = run.summary["tracker"]
    assert outcome["mirrored"] is True and outcome["tracker"] == "mlf" and set(outcome["steps"]) == {"train", "evaluate"}
    assert outcome["url"] == f"{mlflow_server.url}/#/experiments/{outcome['experiment_id']}/runs/{outcome['run_id']}"
    found = {r["name"]: r for r in _mlflow_runs(mlflow_server, "exact")}
    assert set(found) == {run.name, "train", "evaluate"}
    parent, tr, ev = found[run.name], found["train"], found["evaluate"]
    assert parent["id"] == outcome["run_id"] and parent["status"] == "FINISHED"
    assert parent["tags"]["zenml.run"] == run.name and parent["tags"]["zenml.pipeline"] == "tracked" and parent["tags"]["zenml.stack"] == "tracked"
    assert parent["params"] == {"train.lr": "0.25", "train.optimizer": "sgd"}
    assert parent["metrics"]["train.output"] == 0.875 and parent["metrics"]["evaluate.output"] == 1.75
    assert parent["metrics"]["train.loss"] == pytest.approx(1.0 / POINTS)
    for child in (tr, ev):
        assert child["tags"]["mlflow.parentRunId"] == parent["id"] and child["status"] == "FINISHED"
        assert child["tags"]["zenml.run"] == run.name and child["tags"]["zenml.step"] == child["name"]
        assert child["id"] == outcome["steps"][child["name"]]
    assert tr["params"] == {"lr": "0.25", "optimizer": "sgd"} and tr["tags"]["zenml.tag.note"] == "<b>not markup</b>"
    assert tr["metrics"]["output.output"] == 0.875 and ev["metrics"] == {"output.output": 1.75}
    # every point, exactly: MLflow's history against ours
    ours = {s.name: s for _, s in run.metric_series(step="train")}
    assert set(tr["history"]) == {"loss", "acc", "val loss ___", "output.output"}
    for name, key in (("loss", "loss"), ("acc", "acc"), ("val loss (%)", "val loss ___")):
        assert sorted(tuple(p) for p in tr["history"][key]) == list(zip(ours[name].steps, ours[name].values, strict=True))
    # the run card and its text name the MLflow run
    assert f"href='{outcome['url']}'" in run._repr_html_() and "rel='noopener noreferrer'" in run._repr_html_()
    assert outcome["url"] in repr(run)
    assert Client().get_run(run.name).summary["tracker"] == outcome  # recorded with the run, not only in this object


def test_a_paused_server_never_stalls_the_pipeline_and_sync_tracker_mirrors_it_once(repo: Path, mlflow_server, cli) -> None:  # type: ignore[no-untyped-def]
    _tracker_stack(mlflow_server, "paused", timeout=2)
    tracked(lr=0.5)  # the experiment exists; measure the pipeline's own time with the server up
    started = time.monotonic()
    baseline = Client().last_run()
    own = max(baseline.duration, 0.0) + 0.5
    mlflow_server.pause()
    try:
        started = time.monotonic()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run = tracked(lr=0.75)
        took = time.monotonic() - started
    finally:
        mlflow_server.resume()
    ours = [w for w in caught if issubclass(w.category, ZenMLWarning)]
    assert len(ours) == 1, [str(w.message) for w in ours]
    message = str(ours[0].message)
    assert "did not answer within" in message and f"runs sync-tracker {run.name}" in message and "\n" not in message
    assert took < own + 2 + 1.5, (took, own)
    assert run.state == "complete" and run.summary["tracker"]["mirrored"] is False
    assert Client().get_run(run.name).summary["tracker"]["mirrored"] is False
    # a server just resumed works through what queued up meanwhile: give it the usual patience
    api.update_component("experiment_tracker", "mlf", {"timeout": 60}, verify=False)
    r = cli("runs", "sync-tracker", run.name)
    assert r.code == 0 and f"run {run.name!r} is mirrored to experiment tracker 'mlf' (2 step run(s)): {mlflow_server.url}/#/" in r.out, r.err
    r = cli("runs", "sync-tracker", run.name)  # again: nothing doubled
    assert r.code == 0, r.err
    found = [m for m in _mlflow_runs(mlflow_server, "paused") if m["tags"].get("zenml.run") == run.name]
    assert sorted(m["name"] for m in found) == sorted([run.name, "train", "evaluate"])
    train_run = next(m for m in found if m["name"] == "train")
    assert len(train_run["history"]["loss"]) == POINTS and train_run["params"]["lr"] == "0.75"
    assert Client().get_run(run.name).summary["tracker"]["mirrored"] is True
    r = cli("runs", "sync-tracker", run.name, "--stack", "default")
    assert r.code == 2 and "built-in one" in r.err and len(r.err.strip().splitlines()) == 1


def test_a_stopped_server_is_one_classified_line_and_config_set_in_the_seeds_style(shell, repo: Path, mlflow_server) -> None:  # type: ignore[no-untyped-def]
    from zenml_notebook.pipelines.runs import Client as RunsClient

    shell.run_line_magic("zenml", f"config experiment_tracker set mlflow --tracking-uri {mlflow_server.url} --experiment seed")
    desc = api.describe_stack()
    tracker = desc.components["experiment_tracker"]
    assert tracker.flavor == "mlflow" and tracker.config["tracking_uri"] == mlflow_server.url and desc.stack.name == "default"
    assert desc.components["experiment_tracker"].name == "default-mlflow"
    run = tracked(lr=0.1)
    assert run.summary["tracker"]["mirrored"] is True
    # nothing listens there: refused at once, classified, one line
    api.update_component("experiment_tracker", "default-mlflow", {"tracking_uri": "http://127.0.0.1:9"}, verify=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = tracked(lr=0.2)
    (warning,) = [w for w in caught if issubclass(w.category, ZenMLWarning)]
    assert "cannot be reached" in str(warning.message) and "runs sync-tracker" in str(warning.message)
    with pytest.raises(Exception) as info:
        RunsClient().sync_tracker(run.name)
    assert "cannot be reached" in str(info.value) and type(info.value).__name__ == "StoreUnavailableError"


@pytest.mark.parametrize(("uri", "says"), [
    ("ftp://127.0.0.1:5000", "is not an http(s):// address"),
    ("http://ana:hunter2@127.0.0.1:5000", "must not carry a user name or password"),
    ("http://127.0.0.1:5000/?x=<script>", "without ?query"),
    ("127.0.0.1:5000", "is not an http(s):// address"),
])
def test_bad_tracking_uris_are_one_line(cli, repo: Path, uri: str, says: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("experiment-tracker", "register", "t", "--flavor", "mlflow", "--tracking-uri", uri, "--no-verify")
    assert r.code == 2 and says in r.err and len(r.err.strip().splitlines()) == 1, r.err
    assert "hunter2" not in r.err + r.out
    assert "Traceback" not in r.err


class _Recorder(http.server.BaseHTTPRequestHandler):
    """A real HTTP server that answers every request with a redirect elsewhere, and one that
    records every Authorization header it is sent."""

    seen: ClassVar[list[str]] = []
    target = ""

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        type(self).seen.append(self.headers.get("Authorization", ""))
        if self.target:
            self.send_response(307)
            self.send_header("Location", self.target + self.path)
            self.end_headers()
        else:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def _serve(handler: type) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_the_password_goes_to_the_tracking_server_only(cli, repo: Path, workdir: Path, mlflow_server, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    password = "s3cr3t-tracker-pw"
    monkeypatch.setenv("TRACKER_PW", password)

    class Elsewhere(_Recorder):
        seen: ClassVar[list[str]] = []

    class Redirecting(_Recorder):
        seen: ClassVar[list[str]] = []

    elsewhere = _serve(Elsewhere)
    Redirecting.target = f"http://127.0.0.1:{elsewhere.server_port}"
    redirecting = _serve(Redirecting)
    try:
        r = cli("experiment-tracker", "register", "redir", "--flavor", "mlflow", "--tracking-uri", f"http://127.0.0.1:{redirecting.server_port}",
                "--username", "ana", "--passwd-env", "TRACKER_PW")
        assert r.code == 2 and "redirect" in r.err and "not followed" in r.err and len(r.err.strip().splitlines()) == 1, r.err
        assert Redirecting.seen == ["Basic " + base64.b64encode(f"ana:{password}".encode()).decode()]
        assert Elsewhere.seen == []  # never contacted: the credentials went to the tracking server only
    finally:
        redirecting.shutdown()
        elsewhere.shutdown()
    r = cli("experiment-tracker", "register", "mlf", "--flavor", "mlflow", "--tracking-uri", mlflow_server.url, "--experiment", "secret",
            "--username", "ana", "--passwd", password)
    assert r.code == 0, r.err
    assert password not in r.out + r.err and "typed inline" in r.err
    r = cli("stack", "register", "tracked", "-m", "default", "-a", "default", "-o", "default", "-e", "mlf", "--set")
    assert r.code == 0, r.err
    run = tracked(lr=0.3)
    assert run.summary["tracker"]["mirrored"] is True
    for out in (cli("experiment-tracker", "describe", "mlf"), cli("stack", "describe"), cli("stack", "export"), cli("runs", "describe", run.name)):
        assert out.code == 0 and password not in out.out + out.err
    assert "********" in cli("experiment-tracker", "describe", "mlf").out
    for path in (workdir / ".zenml").rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path
    stored = json.dumps(_mlflow_runs(mlflow_server, "secret"))
    assert password not in stored and "ana" not in stored


def test_export_import_and_the_environment_override_know_the_tracker(cli, repo: Path, tmp_path: Path, mlflow_server) -> None:  # type: ignore[no-untyped-def]
    _tracker_stack(mlflow_server, "moved")
    text = api.export_stack("tracked")
    assert "experiment_tracker:\n    name: mlf\n    flavor: mlflow\n" in text
    other = tmp_path / "other"
    other.mkdir()
    (other / "tracked.yaml").write_text(text)
    assert cli("init", str(other)).code == 0
    r = cli("stack", "import", "tracked.yaml", "--set", cwd=other)
    assert r.code == 0, r.err
    r = cli("stack", "describe", cwd=other)
    assert "experiment tracker: mlf" in r.out and f"tracking_uri  {mlflow_server.url}" in r.out
    # a process can swap the tracker without touching the registry
    r = cli("stack", "describe", cwd=other, env={"ZENML_NOTEBOOK_EXPERIMENT_TRACKER": "default"})
    assert "experiment tracker: default (from $ZENML_NOTEBOOK_EXPERIMENT_TRACKER)" in r.out
    r = cli("stack", "describe", cwd=other, env={"ZENML_NOTEBOOK_EXPERIMENT_TRACKER": "nope"})
    assert r.code != 0 and "$ZENML_NOTEBOOK_EXPERIMENT_TRACKER=nope names no registered experiment tracker" in r.err
    api.set_active_stack("default")
    with pytest.raises(UsageError, match="nothing to mirror"):
        Client().sync_tracker("any-run")
