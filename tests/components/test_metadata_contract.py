"""One contract for the metadata-store interface, run against SQLite, a real MariaDB and a real PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from zenml_notebook.components.metadata import ArtifactSpec, open_metadata_store
from zenml_notebook.exceptions import NotFoundError
from zenml_notebook.registry import ComponentRecord
from zenml_notebook.repository import Repository


@pytest.fixture(params=["sqlite", "mysql", "postgresql"])
def store_record(request: pytest.FixtureRequest, tmp_path: Path, workdir: Path) -> ComponentRecord:
    if request.param == "sqlite":
        return ComponentRecord("metadata_store", "lite", "sqlite", {"uri": str(tmp_path / "meta.db")})
    if request.param == "postgresql":
        pg = request.getfixturevalue("pg_account")
        from zenml_notebook.secrets import store_secret

        return ComponentRecord("metadata_store", "pg", "postgresql", {"host": pg.host, "port": pg.port, "username": pg.user,
                                                                        "password": store_secret(pg.password), "database": pg.database})
    account = request.getfixturevalue("mysql_account")
    from zenml_notebook.secrets import store_secret

    return ComponentRecord(
        "metadata_store", "maria", "mysql",
        {"host": account.host, "port": account.port, "username": account.user, "password": store_secret(account.password), "database": account.database},
    )


@pytest.fixture
def store(store_record: ComponentRecord, workdir: Path):
    return open_metadata_store(store_record, Repository(workdir))


def spec(name: str, uri: str, h: str = "h") -> ArtifactSpec:
    return ArtifactSpec(name, uri, "builtins.int", "json", h)


def test_record_and_query_a_run(store) -> None:
    run = store.start_run("train", "train-1", {"name": "default", "metadata_store": "x"}, host="h1", pid=42)
    assert (run.name, run.pipeline, run.state, run.host, run.pid) == ("train-1", "train", "running", "h1", 42)
    load = store.record_step(run, "load", parameters={"n": 3}, code_hash="c1", cache_key="aa", inputs={}, outputs=[spec("data", "/a/data")], state="complete", started=1.0, ended=2.0)
    fit = store.record_step(run, "fit", parameters={"lr": 0.1}, code_hash="c2", cache_key="bb", inputs={"data": load.outputs["data"]},
                            outputs=[spec("model", "/a/model", "h2"), spec("score", "/a/score", "h3")], state="complete", started=2.0, ended=3.5)
    done = store.finish_run(run, "complete")
    assert done.state == "complete" and done.ended >= done.started
    execs = store.executions(run)
    assert [(e.step, e.state, e.parameters, e.code_hash) for e in execs] == [("load", "complete", {"n": 3}, "c1"), ("fit", "complete", {"lr": 0.1}, "c2")]
    assert execs[1].inputs == {"data": load.outputs["data"]}
    assert set(execs[1].outputs) == {"model", "score"}
    arts = {a.name: a for a in store.artifacts(run)}
    assert set(arts) == {"data", "model", "score"}
    assert (arts["model"].uri, arts["model"].content_hash, arts["model"].materializer) == ("/a/model", "h2", "json")
    assert arts["data"].uri == "/a/data"  # inputs are not rewritten by later steps
    assert store.get_run("train-1").stack == {"name": "default", "metadata_store": "x"}
    assert fit.ended - fit.started == 1.5


def test_runs_newest_first_and_pipelines(store) -> None:
    for i in range(3):
        run = store.start_run("p", f"p-{i}", {})
        store.finish_run(run, "complete" if i != 1 else "failed")
    other = store.start_run("q", "q-0", {})
    assert [r.name for r in store.runs("p")] == ["p-2", "p-1", "p-0"]
    assert [r.state for r in store.runs("p")] == ["complete", "failed", "complete"]
    assert store.runs("q") == [store.get_run("q-0")] and other.state == "running"
    assert store.pipelines() == ["p", "q"]
    with pytest.raises(NotFoundError, match="run 'nope' does not exist"):
        store.get_run("nope")


def test_cache_lookup_only_finds_completed(store) -> None:
    run = store.start_run("p", "p-1", {})
    assert store.find_cached("abcdef") is None
    store.record_step(run, "a", parameters={}, code_hash="c", cache_key="abcdef", inputs={}, outputs=[spec("o", "/x/1")], state="failed", started=0, ended=1, error="boom")
    assert store.find_cached("abcdef") is None
    ok = store.record_step(run, "b", parameters={}, code_hash="c", cache_key="abcdef", inputs={}, outputs=[spec("o", "/x/2")], state="complete", started=0, ended=1)
    hit = store.find_cached("abcdef")
    assert hit is not None and hit.id == ok.id and hit.outputs == ok.outputs
    with pytest.raises(ValueError):
        store.find_cached("x' OR '1'='1")
    # a cache hit is itself recorded and points at the same artifacts
    run2 = store.start_run("p", "p-2", {})
    cached = store.record_step(run2, "b", parameters={}, code_hash="c", cache_key="abcdef", inputs={}, outputs=dict(hit.outputs), state="cached", started=5, ended=5)
    assert cached.state == "cached" and cached.outputs == ok.outputs
    assert [e.state for e in store.executions(run2)] == ["cached"]
    assert store.artifacts_by_id(list(ok.outputs.values()))[0].uri == "/x/2"


def test_lineage_up_and_downstream(store) -> None:
    run = store.start_run("p", "p-1", {})
    a = store.record_step(run, "a", parameters={}, code_hash="1", cache_key="01", inputs={}, outputs=[spec("raw", "/l/raw")], state="complete", started=0, ended=1)
    b = store.record_step(run, "b", parameters={}, code_hash="2", cache_key="02", inputs={"raw": a.outputs["raw"]}, outputs=[spec("clean", "/l/clean")], state="complete", started=1, ended=2)
    c = store.record_step(run, "c", parameters={}, code_hash="3", cache_key="03", inputs={"clean": b.outputs["clean"]}, outputs=[spec("model", "/l/model")], state="complete", started=2, ended=3)
    lineage = store.lineage(b.outputs["clean"])
    assert {e.step for e in lineage.executions} == {"a", "b", "c"}
    assert {x.uri for x in lineage.artifacts} == {"/l/raw", "/l/clean", "/l/model"}
    assert {(ev.kind, ev.name) for ev in lineage.events} == {("OUTPUT", "raw"), ("INPUT", "raw"), ("OUTPUT", "clean"), ("INPUT", "clean"), ("OUTPUT", "model")}
    assert store.artifacts_by_uri("/l/model")[0].id == c.outputs["model"]
    with pytest.raises(NotFoundError):
        store.lineage(999999)


def test_types_get_or_create_from_several_processes(store_record: ComponentRecord, workdir: Path, tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import json, sys, time
        from pathlib import Path
        from zenml_notebook.components.metadata import open_metadata_store, ArtifactSpec
        from zenml_notebook.registry import ComponentRecord
        from zenml_notebook.repository import Repository
        go = Path({str(tmp_path / 'go')!r})
        while not go.exists():
            time.sleep(0.005)
        rec = ComponentRecord(**json.loads(sys.argv[1]))
        store = open_metadata_store(rec, Repository(Path({str(workdir)!r})))
        run = store.start_run("p", "run-" + sys.argv[2], {{}})
        store.record_step(run, "s", parameters={{}}, code_hash="c", cache_key="aa", inputs={{}}, outputs=[ArtifactSpec("o", "/o/" + sys.argv[2], "t", "json", "h")], state="complete", started=0, ended=1)
        print("ok")
        """
    )
    payload = json.dumps({"kind": store_record.kind, "name": store_record.name, "flavor": store_record.flavor, "config": store_record.config})
    procs = [subprocess.Popen([sys.executable, "-c", code, payload, str(i)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(4)]
    import time

    time.sleep(1.0)
    (tmp_path / "go").touch()
    results = [p.communicate(timeout=120) for p in procs]
    assert [r[0] for r in results] == ["ok\n"] * 4, [r[1][-2000:] for r in results]
    store = open_metadata_store(store_record, Repository(workdir))
    assert sorted(r.name for r in store.runs("p")) == [f"run-{i}" for i in range(4)]


def test_named_versions_and_tags(store) -> None:
    run = store.start_run("p", "run-v", {})
    ids = []
    for i in range(3):
        info = store.record_step(run, f"s{i}", parameters={}, code_hash="c", cache_key=f"0{i}", inputs={},
                                 outputs=[spec("model", f"/v/{i}", f"h{i}")], state="complete", started=0, ended=1)
        ids.append(info.outputs["model"])
        made = store.add_version("model", ids[-1], run="run-v", step=f"s{i}", content_hash=f"h{i}", size=10 + i)
        assert made is not None and made.version == i + 1
    assert store.add_version("model", ids[-1], run="run-v", step="s2", content_hash="h2") is None  # same bytes: no version
    total, page = store.versions("model", limit=2)
    assert total == 3 and [(v.version, v.artifact_id, v.size) for v in page] == [(3, ids[2], 12), (2, ids[1], 11)]
    assert [v.version for v in store.versions("model", limit=2, offset=2)[1]] == [1]
    assert store.get_version("model").version == 3 and store.get_version("model", 1).artifact_id == ids[0]
    tagged, before = store.tag_version("model", 1, "production")
    assert (tagged.tags, before) == (("production",), 0)
    tagged, before = store.tag_version("model", 2, "production")  # a tag moves
    assert (tagged.version, before) == (2, 1)
    assert store.get_version("model", "production").artifact_id == ids[1]
    assert store.get_version("model", 1).tags == ()
    assert store.untag("model", "production") == 2
    with pytest.raises(NotFoundError, match="has no tag 'production'"):
        store.get_version("model", "production")
    with pytest.raises(NotFoundError, match=r"has no version 7 \(versions 1-3\)"):
        store.get_version("model", 7)
    with pytest.raises(NotFoundError, match="no artifact named 'other'"):
        store.get_version("other")
    assert store.versions("other") == (0, [])


def test_two_processes_minting_versions_at_once_get_distinct_ones(store_record: ComponentRecord, workdir: Path, tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import json, sys, time
        from pathlib import Path
        from zenml_notebook.components.metadata import open_metadata_store
        from zenml_notebook.registry import ComponentRecord
        from zenml_notebook.repository import Repository
        go = Path({str(tmp_path / 'go')!r})
        rec = ComponentRecord(**json.loads(sys.argv[1]))
        store = open_metadata_store(rec, Repository(Path({str(workdir)!r})))
        store.versions("model")  # types created before the start line
        while not go.exists():
            time.sleep(0.005)
        got = [store.add_version("model", 1000 + i, run="r" + sys.argv[2], step="s", content_hash=sys.argv[2] + str(i)).version for i in range(15)]
        print(json.dumps(got))
        """
    )
    payload = json.dumps({"kind": store_record.kind, "name": store_record.name, "flavor": store_record.flavor, "config": store_record.config})
    procs = [subprocess.Popen([sys.executable, "-c", code, payload, str(i)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(2)]
    import time

    time.sleep(1.0)
    (tmp_path / "go").touch()
    results = [p.communicate(timeout=120) for p in procs]
    got = [json.loads(out) for out, _ in results if out]
    assert len(got) == 2, [err[-2000:] for _, err in results]
    assert sorted(got[0] + got[1]) == list(range(1, 31))  # distinct, none skipped
    store = open_metadata_store(store_record, Repository(workdir))
    total, page = store.versions("model", limit=30)
    assert total == 30 and sorted(v.run for v in page) == ["r0"] * 15 + ["r1"] * 15


def test_a_summary_is_added_to_without_touching_state_or_times(store) -> None:
    run = store.start_run("train", "train-s", {"name": "default"})
    store.finish_run(run, "failed", {"steps": 1, "parameters": {"fit.lr": 0.1}})
    done = store.get_run("train-s")
    later = store.update_summary(run, {"tracker": {"tracker": "mlf", "mirrored": False, "error": "<b>down</b>"}})
    assert (later.state, later.ended) == ("failed", done.ended)
    assert later.summary == {"steps": 1, "parameters": {"fit.lr": 0.1}, "tracker": {"tracker": "mlf", "mirrored": False, "error": "<b>down</b>"}}
    store.update_summary(run, {"tracker": {"tracker": "mlf", "mirrored": True}})
    assert store.get_run("train-s").summary["tracker"] == {"tracker": "mlf", "mirrored": True}
