"""Long runs on the default SQLite store: each step is recorded by a writer process while this
one runs the next step (issue 27, item 5). The records, the lineage and the cache are what an
in-process record gives; a writer that dies costs nothing but time."""

from __future__ import annotations

import os
import signal
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import psutil
import pytest

from zenml_notebook import api, pipeline, step
from zenml_notebook.components.metadata import OVERLAP_FROM, open_metadata_store
from zenml_notebook.components.metadata.worker import WorkerStore
from zenml_notebook.exceptions import StoreUnavailableError

N = OVERLAP_FROM + 30
KILL_AT = "KILL_WRITER_AT"


@step
def seed(salt: int) -> int:
    return salt


@step
def inc(x: int) -> int:
    if os.environ.get(KILL_AT) == str(x):  # the writer goes away in the middle of the run
        for child in psutil.Process().children():
            if "zenml_notebook.components.metadata.serve" in " ".join(child.cmdline()):
                child.send_signal(signal.SIGKILL)
                child.wait(10)
    return x + 1


@pipeline(name="long")
def long(salt: int = 0) -> None:
    v = seed(salt=salt)
    for _ in range(N - 1):
        v = inc(v)


@pipeline(name="wide")
def wide(salt: int = 0) -> None:
    v = seed(salt=salt)
    for _ in range(N - 1):
        inc(v)


def _store() -> Any:
    return open_metadata_store(api.get_component("metadata_store")[0], api.open_repository()[0])


def _writer_up(md: Any) -> Any:
    """The first long run starts the writer; wait until it has opened the store."""
    assert md._writer is not None, "a run of OVERLAP_FROM steps or more starts a writer process"
    deadline = time.monotonic() + 30
    while not md._writer.ready():
        assert time.monotonic() < deadline, "the writer process did not open the store within 30 s"
        time.sleep(0.05)
    return md._writer


@pytest.fixture
def through_writer(repo: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The steps recorded by the writer process (the real one; only counted here)."""
    sent: list[str] = []
    real = WorkerStore.record_step_later

    def counted(self: WorkerStore, run: Any, step: str, **kwargs: Any) -> Any:
        sent.append(step)
        return real(self, run, step, **kwargs)

    monkeypatch.setattr(WorkerStore, "record_step_later", counted)
    return sent


def test_a_short_run_starts_no_writer(repo: Path) -> None:
    @pipeline(name="short")
    def short(salt: int = 0) -> None:
        v = seed(salt=salt)
        for _ in range(OVERLAP_FROM - 2):
            v = inc(v)

    assert short(salt=1).state == "complete"
    assert _store()._writer is None


def test_a_long_run_is_recorded_by_the_writer_with_its_lineage(through_writer: list[str]) -> None:
    assert long(salt=1).state == "complete"
    md = _store()
    _writer_up(md)
    through_writer.clear()
    run = long(salt=1000)
    assert run.state == "complete" and len(through_writer) == N
    steps = run.steps
    assert [s.state for s in steps] == ["complete"] * N
    assert run.output(steps[-1].name) == 1000 + N - 1
    # lineage, read back from ml-metadata itself: each step read what the one before it wrote
    executions = md.executions(md.get_run(run.name))
    assert len(executions) == N
    for before, after in pairwise(executions):
        assert after.inputs == {"x": before.outputs["output"]}
    # and a rerun is served from the cache the writer filled
    again = long(salt=1000)
    assert [s.state for s in again.steps] == ["cached"] * N


def test_records_are_pipelined_the_process_never_waits_for_each_one(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Several records under way at once (each naming the step before it, whose artifact the
    writer fills in), never more than the bound."""
    from zenml_notebook.components.metadata import worker

    long(salt=21)
    _writer_up(_store())
    most = [0]
    real = WorkerStore.call_later

    def watched(self: WorkerStore, method: str, *args: Any, **kwargs: Any) -> Any:
        answer = real(self, method, *args, **kwargs)
        most[0] = max(most[0], len(self._inflight))
        return answer

    monkeypatch.setattr(WorkerStore, "call_later", watched)
    run = long(salt=22_000)
    assert run.state == "complete" and run.output(run.steps[-1].name) == 22_000 + N - 1
    assert 2 <= most[0] <= worker.MAX_INFLIGHT


def test_two_long_background_runs_at_once_share_the_writer(through_writer: list[str]) -> None:
    long(salt=31)
    md = _store()
    _writer_up(md)
    through_writer.clear()
    a, b = long.submit(salt=33_000), long.submit(salt=34_000)
    ra, rb = a.wait(timeout=120), b.wait(timeout=120)
    for run, salt in ((ra, 33_000), (rb, 34_000)):
        assert run.state == "complete" and run.output(run.steps[-1].name) == salt + N - 1
        executions = md.executions(md.get_run(run.name))
        assert len(executions) == N
        for before, after in pairwise(executions):
            assert after.inputs == {"x": before.outputs["output"]}
    assert through_writer  # at least some of them went through it (the other run may have held it)


def test_identical_steps_of_one_run_are_cache_hits_as_without_the_writer(through_writer: list[str]) -> None:
    long(salt=2)
    _writer_up(_store())
    run = wide(salt=5000)
    states = [s.state for s in run.steps]
    # the first inc runs; every later one has its cache key, recorded a moment before by the writer
    assert states == ["complete", "complete"] + ["cached"] * (N - 2)
    assert run.output(run.steps[-1].name) == 5001


def test_the_memory_of_recorded_steps_is_bounded_without_forgetting_the_run_under_way(
        through_writer: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from zenml_notebook.components.metadata import mlmd

    monkeypatch.setattr(mlmd, "CHAINED_MAX", 5)  # far below one run: only other runs' steps may go
    long(salt=41)
    _writer_up(_store())
    run = long(salt=42_000)
    assert run.state == "complete" and run.output(run.steps[-1].name) == 42_000 + N - 1
    assert len(_store()._chained) <= N + 1


def test_a_writer_killed_mid_run_loses_nothing(through_writer: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    long(salt=3)
    md = _store()
    writer = _writer_up(md)
    before = writer._proc.pid
    monkeypatch.setenv(KILL_AT, str(7000 + 20))
    run = long(salt=7000)
    monkeypatch.delenv(KILL_AT)
    assert run.state == "complete"
    assert [s.state for s in run.steps] == ["complete"] * N
    executions = md.executions(md.get_run(run.name))
    assert len(executions) == N and len({e.step for e in executions}) == N  # none lost, none twice
    for before_, after in pairwise(executions):
        assert after.inputs == {"x": before_.outputs["output"]}
    # the next long run has a writer again (a new process)
    long(salt=8000)
    assert _writer_up(md)._proc.pid != before


def test_an_idle_writer_goes_away_and_the_next_long_run_starts_another(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zenml_notebook.components import metadata

    monkeypatch.setattr(metadata, "WRITER_IDLE", 1.0)
    long(salt=61)
    md = _store()
    writer = _writer_up(md)
    first = writer._proc.pid
    assert long(salt=62_000).state == "complete"
    deadline = time.monotonic() + 20
    while writer._proc is not None and writer._proc.poll() is None:  # it ends by itself, unasked
        assert time.monotonic() < deadline, "an idle writer process must end by itself"
        time.sleep(0.1)
    run = long(salt=63_000)  # recorded in-process until another writer is up: nothing lost
    assert [s.state for s in run.steps] == ["complete"] * N and run.output(run.steps[-1].name) == 63_000 + N - 1
    executions = md.executions(md.get_run(run.name))
    assert len(executions) == N and len({e.step for e in executions}) == N
    assert _writer_up(md)._proc.pid != first


def test_a_new_sqlite_store_has_small_pages_and_an_old_one_keeps_its_own(repo: Path, tmp_path: Path) -> None:
    """A step's record rewrites ~60 pages; 1 KiB pages make that a quarter of the bytes. A store
    made by an earlier release (4 KiB pages) is opened as it is, and keeps working."""
    import sqlite3

    from zenml_notebook.components.metadata import PAGE_SIZE
    from zenml_notebook.registry import ComponentRecord
    from zenml_notebook.repository import Repository

    long(salt=11)
    db = repo / ".zenml" / "metadata.db"

    def page_size(path: Path) -> int:  # read from the header: no second SQLite on the live file
        return int.from_bytes(path.read_bytes()[16:18], "big")

    assert page_size(db) == PAGE_SIZE == 1024
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:  # an earlier release's store: ml-metadata's default pages, rollback journal
        conn.execute("PRAGMA page_size=4096")
        conn.execute("CREATE TABLE t (x)")
    md = open_metadata_store(ComponentRecord("metadata_store", "old", "sqlite", {"uri": str(old)}), Repository(repo))
    run = md.start_run("p", "p-1", {})
    assert md.get_run("p-1").id == run.id
    assert page_size(old) == 4096


# -- records gathered by the writer: one transaction, read back as if made one by one ----------
def _spec(name: str, step_: str) -> Any:
    from zenml_notebook.components.metadata import ArtifactSpec

    return ArtifactSpec(name, f"/nowhere/{step_}/{name}", "int", "json", f"hash-{step_}")


def _call(run: Any, step_: str, key: str, inputs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return (run, step_), {"parameters": {"p": step_}, "code_hash": "c0de", "cache_key": key, "inputs": inputs,
                          "outputs": [_spec("output", step_)], "state": "complete", "started": 1.0, "ended": 2.0,
                          "log": _spec("logs", step_), "scalars": {"output": 1}, "tags": {"t": step_}}


@pytest.fixture
def puts(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """ml-metadata's write transactions, counted by kind (each is one commit, one fsync)."""
    from ml_metadata.metadata_store import metadata_store

    counted = {"put_lineage_subgraph": 0, "put_execution": 0}
    for name in counted:
        real = getattr(metadata_store.MetadataStore, name)

        def wrapped(self: Any, *args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            counted[_name] += 1
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(metadata_store.MetadataStore, name, wrapped)
    return counted


def test_records_gathered_are_one_transaction_and_read_back_as_recorded_one_by_one(repo: Path, puts: dict[str, int]) -> None:
    md = _store()
    run = md.start_run("g", "g-1", {"orchestrator": "local"})
    first = md.record_step(run, "s0", **_call(run, "s0", "a0", {})[1])
    k = ["a1", "b2", "c3"]
    calls = [_call(run, "s1", k[0], {"x": first.outputs["output"]}),
             _call(run, "s2", k[1], {"x": ["s1", "output"]}),  # named by step: an output of this same group
             _call(run, "s3", k[2], {"x": ["s2", "output"]}),
             _call(run, "s4", k[0], {"x": ["s1", "output"]})]  # s1's key again: recorded by itself, after
    puts.update(put_lineage_subgraph=0, put_execution=0)
    s1, s2, s3, s4 = md.record_steps_chained(calls)
    assert puts == {"put_lineage_subgraph": 1, "put_execution": 1}
    # what was answered is what a reader gets, field by field, and the lineage runs through the group
    by_id = {e.id: e for e in md.executions(md.get_run("g-1"))}
    assert [by_id[i.id] for i in (s1, s2, s3, s4)] == [s1, s2, s3, s4]
    assert s1.inputs == {"x": first.outputs["output"]} and s2.inputs == {"x": s1.outputs["output"]}
    assert s3.inputs == {"x": s2.outputs["output"]} and s4.inputs == {"x": s1.outputs["output"]}
    assert s1.logs["logs"] not in (s1.outputs["output"], s2.logs["logs"]) and s2.tags == {"t": "s2"}
    # the cache finds each key, the newest execution first, whichever way it was kept
    fresh = _store()
    fresh._hits.clear()
    assert fresh.find_cached(k[1]).id == s2.id and fresh.find_cached(k[2]).id == s3.id
    assert fresh.find_cached(k[0]).id == s4.id > s1.id
    assert fresh.find_cached("a0").id == first.id and fresh.find_cached("dd") is None
    # the run context is found by name, never re-written
    assert md.get_run("g-1").stack == {"orchestrator": "local"} and md.get_run("g-1").state == "running"


def test_a_key_taken_meanwhile_or_a_bad_record_costs_only_time(repo: Path, puts: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    md = _store()
    run = md.start_run("g", "g-2", {})
    (s1,) = md.record_steps_chained([_call(run, "s1", "e1", {})])
    monkeypatch.setattr(md, "_held_keys", lambda keys: set())  # as if another process took "e1" after the check
    puts.update(put_lineage_subgraph=0, put_execution=0)
    s2, s3 = md.record_steps_chained([_call(run, "s2", "e2", {"x": ["s1", "output"]}), _call(run, "s3", "e1", {"x": ["s2", "output"]})])
    # the group failed as a whole (nothing written), then each record was made by itself, in order
    assert puts == {"put_lineage_subgraph": 1, "put_execution": 2}
    assert s3.inputs == {"x": s2.outputs["output"]}
    # a record naming a step nobody recorded: its own error; the one after it is recorded
    bad, s5 = md.record_steps_chained([_call(run, "s4", "e4", {"x": ["nowhere", "output"]}), _call(run, "s5", "e5", {"x": ["s3", "output"]})])
    assert isinstance(bad, StoreUnavailableError) and "'nowhere'" in str(bad)
    assert s5.inputs == {"x": s3.outputs["output"]}
    recorded = md.executions(md.get_run("g-2"))
    assert sorted(e.step for e in recorded) == ["s1", "s2", "s3", "s5"]  # none twice, none lost
    md._hits.clear()
    assert md.find_cached("e1").id == s3.id > s1.id


def test_the_writer_gathers_the_records_sent_while_it_was_busy(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zenml_notebook.components.metadata import sqlite_writer

    log = tmp_path / "writer.log"
    monkeypatch.setenv("ZENML_NOTEBOOK_WORKER_LOG", str(log))
    record, repository = api.get_component("metadata_store")[0], api.open_repository()[0]
    md = _store()
    run = md.start_run("g", "g-3", {})
    writer = sqlite_writer(record, repository)
    try:
        writer.start_soon()
        deadline = time.monotonic() + 30
        while not writer.ready():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(writer._proc.pid, signal.SIGSTOP)  # busy: what is sent meanwhile waits for it
        try:
            answers = [writer.record_step_later(run, "s0", **_call(run, "s0", "f0", {})[1])]
            answers += [writer.record_step_later(run, f"s{i}", **_call(run, f"s{i}", f"f{i}", {"x": [f"s{i - 1}", "output"]})[1])
                        for i in range(1, 6)]
        finally:
            os.kill(writer._proc.pid, signal.SIGCONT)
        infos = [a() for a in answers]
    finally:
        writer.close()
    assert "gathered 6 records" in log.read_text()
    for before, after in pairwise(infos):
        assert after.inputs == {"x": before.outputs["output"]}
    assert sorted(e.id for e in md.executions(md.get_run("g-3"))) == [i.id for i in infos]
    assert md.find_cached("f5").id == infos[-1].id
