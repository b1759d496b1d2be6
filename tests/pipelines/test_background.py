"""Background runs (`pipeline.submit`): the caller gets a handle at once and goes on; errors
come back on wait(), never elsewhere; cancel() starts no further step; two at once keep their
logs apart; in a real kernel the next cell runs while the run goes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

from zenml_notebook import Client, pipeline, step
from zenml_notebook.exceptions import PipelineRunError, UsageError

NAPPING = threading.Event()  # set when a nap step begins (the local orchestrator runs it in this process)


@step(cache=False)
def nap(seconds: float = 0.5, tag: str = "a") -> str:
    NAPPING.set()
    print(f"step says {tag}")
    time.sleep(seconds)
    return tag


@step(cache=False)
def after(x: str) -> str:
    return x + "!"


@step(cache=False)
def explode(x: str) -> str:
    raise ValueError(f"bad {x}")


@pipeline
def two_steps(seconds: float = 0.5, tag: str = "a"):
    after(nap(seconds=seconds, tag=tag))


@pipeline
def failing_later():
    explode(nap(seconds=0.2))


def test_submit_returns_at_once_and_wait_gives_the_run(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    handle = two_steps.submit(seconds=1.0, tag="x")
    took = time.perf_counter() - started
    assert took < 0.9 and handle.status == "running", took
    print("the caller goes on")
    assert Client().get_run(handle.name).state == "running"  # listed at once
    run = handle.wait(timeout=60)
    assert run.state == "complete" and run.output("after") == "x!" and handle.status == "complete" and handle.done()
    assert "step says x" in run.log("nap")  # the step's output is in its log ...
    assert "step says x" not in capsys.readouterr().out  # ... not where the caller was printing
    rows = {r["name"]: r for r in Client().table()["rows"]}
    assert rows[handle.name]["background"] is True  # the front ends announce its end wherever the user is
    foreground = two_steps(tag="fg")
    assert {r["name"]: r for r in Client().table()["rows"]}[foreground.name]["background"] is False


def test_two_runs_at_once_keep_their_logs_apart(repo: Path) -> None:
    a = two_steps.submit(seconds=0.8, tag="first")
    b = two_steps.submit(seconds=0.8, tag="second")
    print("the caller prints meanwhile")
    ra, rb = a.wait(60), b.wait(60)
    assert ra.log("nap").strip() == "step says first" and rb.log("nap").strip() == "step says second"
    assert ra.name != rb.name and ra.state == rb.state == "complete"


def test_a_failure_comes_back_on_wait(repo: Path) -> None:
    handle = failing_later.submit()
    with pytest.raises(PipelineRunError, match=r"step 'explode' of run '.*' failed: ValueError: bad a"):
        handle.wait(60)
    assert handle.status == "failed" and Client().get_run(handle.name).state == "failed"


def test_cancel_starts_no_further_step_and_records_cancelled(repo: Path) -> None:
    NAPPING.clear()
    handle = two_steps.submit(seconds=1.0)
    assert NAPPING.wait(60)  # the first step is running
    handle.cancel()
    with pytest.raises(UsageError, match="was cancelled"):
        handle.wait(60)
    run = Client().get_run(handle.name)
    assert run.state == "cancelled" and [s.name for s in run.steps] == ["nap"] and handle.status == "cancelled"


def test_wait_with_a_timeout_says_it_is_still_running(repo: Path) -> None:
    handle = two_steps.submit(seconds=1.5)
    with pytest.raises(UsageError, match=r"still running after 0\.1 s"):
        handle.wait(0.1)
    assert handle.wait(60).state == "complete"


def test_mistakes_are_raised_by_submit_itself(repo: Path) -> None:
    with pytest.raises(UsageError):
        two_steps.submit(run_name="../bad")
    with pytest.raises(Exception, match="stack 'nope'"):
        two_steps.submit(stack="nope")


def test_in_a_real_kernel_the_next_cell_runs_while_the_run_goes(repo: Path) -> None:
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(repo))
    try:
        def run(code: str, timeout: float = 60) -> tuple[float, list[dict]]:
            started = time.monotonic()
            msg_id = kc.execute(code)
            outputs = []
            while True:
                msg = kc.get_iopub_msg(timeout=timeout)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] in ("stream", "display_data", "error", "execute_result"):
                    outputs.append(msg)
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    return time.monotonic() - started, outputs

        run("import time\nfrom zenml_notebook import step, pipeline\n"
            "@step(cache=False)\ndef slow(s: float = 3.0) -> float:\n    time.sleep(s)\n    return s\n"
            "@step(cache=False)\ndef broken(x: float) -> float:\n    raise RuntimeError('no')\n"
            "@pipeline\ndef long_one(s: float = 3.0):\n    slow(s=s)\n"
            "@pipeline\ndef bad_one():\n    broken(slow(s=0.5))\n")
        took, outs = run("h = long_one.submit()\nb = bad_one.submit()")
        assert took < 2.5, took
        assert any(o["msg_type"] == "display_data" and "application/vnd.jupyter.widget-view+json" in o["content"]["data"] for o in outs)
        took, outs = run("print(1 + 1, h.status)")
        assert took < 1.5 and "2 running" in "".join(o["content"].get("text", "") for o in outs), (took, outs)
        time.sleep(1.5)  # the failing run has failed meanwhile: no error in an unrelated cell
        took, outs = run("x = 40 + 2\nprint(x)")
        assert [o["msg_type"] for o in outs] == ["stream"] and outs[0]["content"]["text"] == "42\n", outs
        took, outs = run("print(h.wait().state)")
        assert "complete" in outs[0]["content"]["text"]
        took, outs = run("b.wait()")
        assert outs and outs[-1]["msg_type"] == "error" and "RuntimeError: no" in outs[-1]["content"]["evalue"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
