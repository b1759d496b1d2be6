"""Pipelines end to end on the default stack: caching, lineage (checked in MLMD directly),
materializers, failures, cancel, SIGKILL, and a stack switched mid-run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zenml_notebook import Client, api, pipeline, register_materializer, step
from zenml_notebook.exceptions import PipelineRunError

from .steps import CALLS_FILE, failing, train


@pytest.fixture
def calls(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "calls.txt"
    monkeypatch.setenv(CALLS_FILE, str(path))

    def read() -> list[str]:
        text = path.read_text() if path.exists() else ""
        path.write_text("")
        return text.split()

    return read


def test_run_cache_and_parameter_change(calls) -> None:
    first = train()
    assert first.state == "complete" and [s.name for s in first.steps] == ["load", "split", "fit", "evaluate"]
    assert [s.state for s in first.steps] == ["complete"] * 4
    assert calls() == ["load", "split", "fit", "evaluate"]
    assert first.output("evaluate") < 0.01
    assert isinstance(first.output("fit"), np.ndarray)
    assert set(first.step("split").outputs) == {"train", "test"}
    second = train()
    assert [s.state for s in second.steps] == ["cached"] * 4 and calls() == []
    assert second.output("evaluate") == first.output("evaluate")
    third = train(lr=0.05)
    assert [s.state for s in third.steps] == ["cached", "cached", "complete", "complete"]
    assert calls() == ["fit", "evaluate"]
    no_cache = train(cache=False)
    assert [s.state for s in no_cache.steps] == ["complete"] * 4 and calls() == ["load", "split", "fit", "evaluate"]


def test_deleting_an_output_forces_reexecution(calls) -> None:
    first = train()
    calls()
    store = api.artifact_store()
    store.remove(store.relative(first.step("fit").outputs["output"].uri))
    again = train()
    assert [s.state for s in again.steps] == ["cached", "cached", "complete", "cached"]
    assert calls() == ["fit"]  # same weights, same hash: evaluate's cache still holds


def test_lineage_is_in_mlmd(repo: Path) -> None:
    run = train()
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2 as pb

    config = pb.ConnectionConfig()
    config.sqlite.filename_uri = str(repo / ".zenml" / "metadata.db")
    config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
    raw = metadata_store.MetadataStore(config)
    (ctx,) = raw.get_contexts_by_type("zenml.Run")
    assert ctx.name == run.name and ctx.properties["state"].string_value == "complete"
    (pipe,) = raw.get_contexts_by_type("zenml.Pipeline")
    assert pipe.name == "train" and [c.id for c in raw.get_children_contexts_by_context(pipe.id)] == [ctx.id]
    execs = raw.get_executions_by_context(ctx.id)
    assert sorted(e.properties["step"].string_value for e in execs) == ["evaluate", "fit", "load", "split"]
    fit_exec = next(e for e in execs if e.properties["step"].string_value == "fit")
    assert '"lr": 0.1' in fit_exec.properties["parameters"].string_value
    assert fit_exec.last_known_state == pb.Execution.COMPLETE
    events = raw.get_events_by_execution_ids([fit_exec.id])
    kinds = sorted((ev.type, ev.path.steps[0].key) for ev in events)
    assert kinds == [(pb.Event.INPUT, "train"), (pb.Event.OUTPUT, "output")]
    out = raw.get_artifacts_by_id([ev.artifact_id for ev in events if ev.type == pb.Event.OUTPUT])[0]
    assert out.uri.endswith(f"train/{run.name}/fit/output.npy") and out.properties["materializer"].string_value == "numpy"
    assert len(raw.get_artifacts_by_context(ctx.id)) == 5


def test_materializers(repo: Path, caplog: pytest.LogCaptureFixture) -> None:
    class Point:
        def __init__(self, x: int) -> None:
            self.x = x

    class Opaque:
        def __init__(self) -> None:
            self.v = 7

    register_materializer("point", Point, lambda p: str(p.x).encode(), lambda b: Point(int(b)), extension=".pt.txt")

    @step(outputs=["raw", "point", "opaque", "tup"])
    def make():
        return b"\x00\x01", Point(3), Opaque(), (1, 2)

    @pipeline
    def mats():
        make()

    import logging

    with caplog.at_level(logging.WARNING, logger="zenml_notebook"):
        run = mats()
    outs = run.step("make").outputs
    assert {k: a.materializer for k, a in outs.items()} == {"raw": "bytes", "point": "point", "opaque": "pickle", "tup": "pickle"}
    assert run.output("make", "raw") == b"\x00\x01" and run.output("make", "point").x == 3
    assert run.output("make", "opaque").v == 7 and run.output("make", "tup") == (1, 2)
    assert "storing a Opaque with pickle" in caplog.text
    assert all(len(a.content_hash) == 32 for a in outs.values())


def test_failure_keeps_finished_outputs(repo: Path) -> None:
    with pytest.raises(PipelineRunError) as info:
        failing()
    msg = str(info.value)
    assert msg.startswith("step 'boom' of run 'failing-") and msg.endswith("failed: ValueError: bad value 0.5")
    run = info.value.run
    assert run.state == "failed"
    assert [(s.name, s.state) for s in run.steps] == [("load", "complete"), ("split", "complete"), ("fit", "complete"), ("boom", "failed")]
    assert run.step("boom").error == f"ValueError: bad value 0.5 (its output: `runs logs {run.name} boom`)"
    assert isinstance(run.output("fit"), np.ndarray)
    assert Client().last_run("failing").state == "failed"


def test_keyboard_interrupt_cancels(repo: Path) -> None:
    @step
    def interrupted() -> int:
        raise KeyboardInterrupt

    @pipeline
    def cancel_me():
        interrupted()

    with pytest.raises(KeyboardInterrupt):
        cancel_me()
    run = Client().last_run("cancel_me")
    assert run.state == "cancelled" and [s.state for s in run.steps] == ["cancelled"]


def test_sigkill_leaves_the_run_incomplete(repo: Path) -> None:
    code = textwrap.dedent(
        """
        import time
        from zenml_notebook import pipeline, step
        @step
        def slow() -> int:
            print("started", flush=True)
            time.sleep(60)
            return 1
        @pipeline
        def killed():
            slow()
        killed()
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=repo, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "started\n"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    client = Client()
    (info,) = client.runs("killed")
    assert info.state == "running" and client.run_state(info) == "incomplete"
    assert client.get_run(info.name).state == "incomplete"


def test_switching_the_stack_mid_run_changes_nothing(repo: Path, tmp_path: Path) -> None:
    api.register_component("artifact_store", "elsewhere", "local", {"path": str(tmp_path / "elsewhere")})
    api.register_stack("other", "default", "elsewhere", "default")

    @step
    def first() -> int:
        api.set_active_stack("other")  # as another kernel would
        return 1

    @step
    def second(x: int) -> int:
        return x + 1

    @pipeline
    def switcher():
        second(first())

    run = switcher()
    assert api.active_stack_name() == "other"
    assert run.stack["name"] == "default"
    assert all(str(repo / ".zenml" / "artifacts") in a.uri for s in run.steps for a in s.outputs.values())
    assert not (tmp_path / "elsewhere").exists()


def test_two_processes_run_pipelines_at_once(repo: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, %r)
        from tests.pipelines.steps import train
        for i in range(3):
            train(n=20 + i, cache=False)
        print("ok")
        """
    ) % str(Path(__file__).resolve().parents[2])
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [r[0] for r in results] == ["ok\n", "ok\n"], [r[1][-2000:] for r in results]
    runs = Client().runs("train")
    assert len(runs) == 6 and {r.state for r in runs} == {"complete"}
    assert sum(len(Client().executions(r)) for r in runs) == 24


def test_commands(shell, repo: Path, capsys) -> None:
    a = train()
    b = train(lr=0.05)
    table = shell.run_line_magic("zenml", "runs list train")
    assert [r[0] for r in table.rows] == [b.name, a.name] and table.rows[0][2] == "complete"
    pipes = shell.run_line_magic("zenml", "pipelines list")
    assert pipes.rows == [["train", "2", b.name, "complete"]]
    card = shell.run_line_magic("zenml", f"runs describe {a.name}")
    assert card.name == a.name and "<table" in card._repr_html_()
    cmp = shell.run_line_magic("zenml", f"runs compare {a.name} {b.name}")
    differing = [row[1] for row, d in zip(cmp.rows, cmp.differs) if d]
    assert differing == ["fit.lr", "fit -> output", "evaluate -> output"]
    lineage = shell.run_line_magic("zenml", f"lineage {a.step('fit').outputs['output'].uri}")
    steps = {row[0] for row in lineage.rows}
    assert f"{a.name}.fit" in steps and f"{a.name}.evaluate" in steps and f"{a.name}.split" in steps
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="run 'nope' does not exist"):
        shell.run_line_magic("zenml", "runs describe nope")


def test_pandas_dataframes_as_parquet(repo: Path) -> None:
    import pandas as pd

    @step
    def frame() -> pd.DataFrame:
        return pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})

    @step
    def total(df: pd.DataFrame) -> int:
        return int(df["a"].sum())

    @pipeline
    def frames():
        total(frame())

    run = frames()
    art = run.step("frame").outputs["output"]
    assert art.materializer == "pandas" and art.uri.endswith("/frame/output.parquet")
    assert run.output("frame").equals(pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}))
    assert run.output("total") == 6
    assert api.artifact_store().read_bytes(api.artifact_store().relative(art.uri))[:4] == b"PAR1"


def test_progress_redraws_a_few_times_a_second_however_many_steps() -> None:
    """A notebook's progress line is redrawn at most every Progress.EVERY seconds (a failure and
    the end at once), from running counts: 5 000 steps do not send 5 000 redraws of 5 000 squares
    (drawn at every step, a 3 000-step run sent 2.2 GB of HTML). Big runs show one bar."""
    import time

    from zenml_notebook.pipelines.progress import Progress

    class Handle:
        def __init__(self) -> None:
            self.views: list[Any] = []

        def update(self, view: Any) -> None:
            self.views.append(view)

    steps = [f"s{i}" for i in range(5000)]
    progress = Progress("big-run", steps)
    progress._handle = handle = Handle()
    started = time.monotonic()
    for i, name in enumerate(steps[:-1]):
        progress.start(name)
        progress.done(name, "cached" if i % 4 == 0 else "complete")
    elapsed = time.monotonic() - started
    assert len(handle.views) <= 1 + elapsed / Progress.EVERY + 1
    progress.start(steps[-1])
    before = len(handle.views)
    progress.done(steps[-1], "failed")  # shown at once
    assert len(handle.views) == before + 1 and "failed: s4999" in handle.views[-1].text
    progress.close("failed")
    last = handle.views[-1]
    assert "big-run [failed] 4999/5000 steps done (1250 cached), failed: s4999" == last.text
    assert len(last.html) < 2000 and "title='3749 complete'" in last.html and "title='1 failed'" in last.html

    small = Progress("small-run", ["a", "b"])
    small._handle = handle = Handle()
    small.start("a")
    small.done("a", "complete")
    small.close("complete")
    assert handle.views[-1].html.count("title='") == 2  # a square per step


def test_terminal_progress_bar(repo: Path) -> None:
    """On a terminal the run draws a text progress bar on stderr."""
    import pty

    code = textwrap.dedent(
        """
        from zenml_notebook import pipeline, step
        @step
        def a() -> int:
            return 1
        @step
        def b(x: int) -> int:
            return x + 1
        @pipeline
        def bar():
            b(a())
        bar()
        """
    )
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=repo, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    text = b"".join(chunks).decode()
    assert proc.returncode == 0
    assert "[####################] 2/2 steps done (0 cached)" in text
    assert "\r" in text  # redrawn in place


def test_a_10_000_step_chain_is_recorded_whole_and_rerun_from_cache(repo: Path) -> None:
    """Correctness at scale (its speed is measured in benchmarks/bench_steps.py, not here)."""
    from zenml_notebook import Client, pipeline, step

    @step
    def seed() -> int:
        return 0

    @step
    def inc(x: int) -> int:
        return x + 1

    @pipeline
    def long_chain() -> None:
        v = seed()
        for _ in range(9_999):
            v = inc(v)

    first = long_chain()
    assert first.state == "complete" and len(first.steps) == 10_000
    assert [s.name for s in first.steps[:3]] == ["seed", "inc", "inc_2"] and first.steps[-1].name == "inc_9999"
    assert first.output("inc_9999") == 9_999
    client = Client()
    assert len(client.executions(client.runs("long_chain")[0])) == 10_000
    again = long_chain()
    assert {s.state for s in again.steps} == {"cached"} and again.output("inc_9999") == 9_999


_HEAVY = """
@pipeline(cache=False)
def heavy(salt: int = 0):
    v = seed(salt=salt)
    for _ in range(3000):  # a few seconds at least: the kill lands mid-run
        v = grow(v)

if __name__ == "__main__":
    heavy(salt=int(sys.argv[1]))
"""

KILLED_RUN = """
import sys
from zenml_notebook import pipeline, step

@step
def seed(salt: int) -> bytes:
    open("started", "w").close()  # the test times its kill from here, not from the process's start
    return bytes([salt % 256]) * 2_000_000

@step
def grow(x: bytes) -> bytes:
    return x[:1] * 2_000_000
""" + _HEAVY

KILLED_NUMPY_RUN = """
import sys
import numpy as np
from zenml_notebook import pipeline, step

@step
def seed(salt: int) -> np.ndarray:
    open("started", "w").close()
    return np.full(250_000, float(salt))

@step
def grow(x: np.ndarray) -> np.ndarray:
    return x + 1.0
""" + _HEAVY


@pytest.mark.parametrize(("after", "kind"), [(0.8, "bytes"), (1.6, "bytes"), (2.4, "bytes"), (1.6, "numpy")])
def test_kill_9_mid_run_never_leaves_a_complete_step_without_its_output(repo: Path, after: float, kind: str) -> None:
    """SECURITY 22 with WAL: whatever the moment of the kill, every step recorded complete has
    its whole output on disk (the content hash matches), and the run is not 'complete'. Also for
    arrays, whose bytes are still being hashed while the file is synced."""
    import hashlib
    import signal
    import subprocess
    import sys
    import time

    from zenml_notebook import Client

    (repo / "heavy.py").write_text(KILLED_RUN if kind == "bytes" else KILLED_NUMPY_RUN)
    proc = subprocess.Popen([sys.executable, "heavy.py", str(int(after * 10))], cwd=repo)
    # the kill lands `after` seconds into the run: a loaded machine may take seconds to import
    deadline = time.monotonic() + 120
    while not (repo / "started").exists():
        assert proc.poll() is None, "the run ended before its first step"
        assert time.monotonic() < deadline, "the run's first step never started"
        time.sleep(0.01)
    time.sleep(after)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    client = Client()
    (info,) = client.runs("heavy")
    assert client.run_state(info) in ("incomplete", "running") and client.run_state(info) == "incomplete"
    run = client.get_run(info.name)
    complete = [s for s in run.steps if s.state == "complete"]
    assert after < 1.5 or complete, "the kill came before any step finished; the test proves nothing then"
    assert len(complete) < 3001, "the run finished before the kill"
    for s in complete:
        art = s.outputs["output"]
        data = Path(art.uri).read_bytes()
        assert len(data) == (2_000_000 if kind == "bytes" else 2_000_128), s.name
        assert hashlib.sha256(data).hexdigest()[:32] == art.content_hash, s.name
    if kind == "numpy" and complete:
        last = complete[-1]
        assert np.array_equal(run.output(last.name), np.full(250_000, 16.0 + (len(complete) - 1)))


LOGGING_STEPS = """
import logging, sys
from zenml_notebook import pipeline, step

@step
def talk(n: int = 2) -> int:
    print("hello from talk", n)
    print("to stderr", file=sys.stderr)
    logging.getLogger("mine").warning("a warning record")
    return n

@step
def quiet(x: int) -> int:
    return x

@step
def boom(x: int) -> int:
    print("about to fail")
    raise ValueError("bad value")

@step
def flood(x: int) -> int:
    line = "x" * 99 + "\\n"
    for _ in range(500_000):  # 50 MB
        sys.stdout.write(line)
    return x

@pipeline
def chatty(fail: bool = False, big: bool = False):
    v = quiet(talk())
    if big:
        flood(v)
    if fail:
        boom(v)
"""


def test_step_output_is_captured_shown_live_and_stored(repo: Path, capsys: pytest.CaptureFixture[str], cli) -> None:
    from zenml_notebook import Client
    from zenml_notebook.exceptions import PipelineRunError

    ns: dict[str, Any] = {}
    exec(compile(LOGGING_STEPS, "logging_steps", "exec"), ns)
    run = ns["chatty"]()
    live = capsys.readouterr()
    assert "hello from talk 2" in live.out and "to stderr" in live.err  # still shown live (records go to the handlers configured, here pytest's)
    assert run.log("talk") == "hello from talk 2\nto stderr\nWARNING:mine:a warning record\n"
    assert run.log("quiet") == "" and run.step("quiet").log is None  # printed nothing: nothing stored
    assert run.step("talk").outputs.keys() == {"output"}  # the log is not an output
    with pytest.raises(PipelineRunError):
        ns["chatty"](fail=True)
    failed = Client().last_run("chatty")
    assert failed.step("boom").error.endswith(f"(its output: `runs logs {failed.name} boom`)")
    text = failed.log("boom")
    assert text.startswith("about to fail\nTraceback (most recent call last):\n") and text.endswith("ValueError: bad value\n")
    assert "zenml_notebook" not in text  # the user's frames only
    out = cli("runs", "logs", failed.name, "boom")
    assert out.code == 0 and out.out.startswith("about to fail\nTraceback")
    assert cli("runs", "logs", run.name).out == "== talk (complete)\nhello from talk 2\nto stderr\nWARNING:mine:a warning record\n"


def test_a_50_mb_log_is_stored_from_disk_and_read_by_pages(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tracemalloc

    ns: dict[str, Any] = {}
    exec(compile(LOGGING_STEPS, "logging_steps", "exec"), ns)
    with open(os.devnull, "w") as sink:
        monkeypatch.setattr(sys, "stdout", sink)  # the live copy goes nowhere; what we hold is the capture
        tracemalloc.start()
        try:
            run = ns["chatty"](big=True)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        monkeypatch.undo()
    assert peak < 10_000_000, peak  # 50 MB printed, never held in memory (spooled to a file past 1 MiB)
    log = run.step("flood").log
    assert log is not None and Path(log.uri).stat().st_size == 50_000_000
    page = run.log("flood", offset=49_999_900, limit=1000)
    assert page == "x" * 99 + "\n"
    assert run.log("flood", limit=250) == ("x" * 99 + "\n") * 2 + "x" * 50


@pytest.mark.parametrize("kind", ["numpy", "pandas"])
def test_big_outputs_stream_with_the_same_bytes_and_hash(repo: Path, kind: str) -> None:
    """Streaming materializers write what dumps() would (so existing caches stay valid), hash
    while writing, and read back equal values."""
    import hashlib

    import pandas as pd

    from zenml_notebook.pipelines.materializers import load_artifact, materializer_for, store_value

    value: Any = np.arange(3_000_000, dtype=np.float64) if kind == "numpy" else pd.DataFrame({"a": range(300_000)})
    store = api.artifact_store()
    mat = materializer_for(value)
    assert mat.dump is not None and mat.load is not None
    digest = store_value(store, "big/out", value, mat)
    written = Path(store.full_uri("big/out")).read_bytes()
    assert digest == hashlib.sha256(written).hexdigest()[:32]
    if kind == "numpy":
        assert written == mat.dumps(value)
        assert np.array_equal(load_artifact(store, "big/out", mat), value)
    else:
        assert load_artifact(store, "big/out", mat).equals(value)


@pytest.mark.parametrize("value", [
    np.arange(12, dtype=np.int32).reshape(3, 4), np.array([True, False]), np.array(["2020-01-01"], dtype="M8[D]"),
    np.array([1, 2], dtype="m8[s]"), np.array(["ab", "cde"]), np.array([b"x", b"yz"]), np.array(3.5), np.zeros((0, 3)),
    np.asfortranarray(np.arange(6.0).reshape(2, 3)), np.arange(10)[::2], np.zeros([1] * 32, dtype=np.int8),
    np.array([1 + 2j]), np.array([1], dtype=">i4"), np.zeros(3, dtype=[("a", "f4")]), np.float16([1, 2]),
], ids=lambda v: f"{v.dtype}-{v.shape}-{'C' if v.flags.c_contiguous else 'F' if v.flags.f_contiguous else 'strided'}")
def test_numpy_outputs_are_the_bytes_of_np_save(tmp_path: Path, value: np.ndarray) -> None:
    """Arrays written as their own buffer (C order, plain dtypes) and through np.save (the rest)
    give exactly np.save's file: readable by numpy, and the same content hash as before."""
    import hashlib
    import io
    import warnings

    from zenml_notebook.components.artifacts.store import ArtifactStore
    from zenml_notebook.pipelines.materializers import load_artifact, materializer_for, store_value

    store = ArtifactStore("local", str(tmp_path / "store"), {}, "artifact store 't'")
    mat = materializer_for(value)
    digest = store_value(store, "a/out.npy", value, mat)
    expected = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.save(expected, value, allow_pickle=False)
    written = Path(store.full_uri("a/out.npy")).read_bytes()
    assert written == expected.getvalue()
    assert digest == hashlib.sha256(written).hexdigest()[:32]
    back = load_artifact(store, "a/out.npy", mat)
    assert back.dtype == value.dtype and back.shape == value.shape and np.array_equal(back, value)


def test_run_names_never_collide(repo: Path) -> None:
    """Generated names are drawn again when taken (hundreds of runs a second share a second);
    a name you give that is taken is refused in one line."""
    from zenml_notebook.exceptions import AlreadyExistsError

    @step(cache=False)
    def tick(i: int = 0) -> int:
        return i

    @pipeline(cache=False)
    def burst(i: int = 0) -> None:
        tick(i=i)

    names = [burst(i=i).name for i in range(300)]
    assert len(set(names)) == 300
    burst(run_name="mine")
    with pytest.raises(AlreadyExistsError, match="a run named 'mine' already exists in metadata store 'default'; pick another run_name"):
        burst(run_name="mine")


def test_storing_and_loading_outputs_shows_in_the_step_timings(repo: Path) -> None:
    """A step's duration is its function body; reading its inputs and writing its outputs (here
    an 80 MB array) are recorded beside it, and every view shows them."""

    @step
    def big() -> np.ndarray:
        return np.ones((10_000_000,), dtype=np.float64)

    @step(cache=False)
    def head(a: np.ndarray) -> float:
        return float(a[:10].sum())

    @pipeline
    def heavy() -> None:
        head(big())

    run = heavy()
    writer, reader = run.step("big"), run.step("head")
    assert writer.store_seconds > 0.01 and writer.load_seconds < 0.001  # no inputs to read
    assert reader.load_seconds < 0.005  # in one process the value is handed over in memory
    again = Client().get_run(run.name).step("big")
    assert again.store_seconds == pytest.approx(writer.store_seconds)
    second = heavy()  # `big` is a cache hit now: `head` reads the 80 MB back from the store
    assert second.step("big").state == "cached" and second.step("head").load_seconds > 0.005
    assert "store " in repr(run) and "load " in second._repr_html_()


WHO = """
from zenml_notebook import pipeline, step

@step(cache=False)
def hello() -> int:
    return 1

@pipeline(name="who", cache=False)
def who():
    hello()

if __name__ == "__main__":
    print(who().name)
"""


def test_every_run_records_who_ran_it_and_runs_list_filters_by_person(cli, repo: Path) -> None:
    import os

    (repo / "who.py").write_text(WHO)
    env = {k: v for k, v in os.environ.items() if k not in ("ZENML_NOTEBOOK_USER", "JUPYTERHUB_USER")}

    def run_as(**who: str) -> str:
        out = subprocess.run([sys.executable, "who.py"], cwd=repo, env={**env, **who}, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    by_ana = run_as(ZENML_NOTEBOOK_USER="ana")
    by_hub = run_as(JUPYTERHUB_USER="bob")  # a JupyterHub single-user server: the hub user
    both = run_as(ZENML_NOTEBOOK_USER="ana", JUPYTERHUB_USER="bob")  # the explicit setting wins
    r = cli("runs", "list", "--user", "ana")
    assert r.code == 0 and by_ana in r.out and both in r.out and by_hub not in r.out, r.out
    assert r.out.splitlines()[1].split()[-1] == "USER" and all(line.split()[-1] == "ana" for line in r.out.splitlines()[2:])
    r = cli("runs", "list", "--user", "carol")
    assert "(no runs by 'carol'; `runs list` shows everyone's)" in r.out
    assert "by bob" in repr(Client().get_run(by_hub)) and "&middot; by bob" in Client().get_run(by_hub)._repr_html_()
