"""Nothing unbounded reaches a user: run names are checked like every other name, parameters have
a size limit, and a log is shown a page at a time unless more is asked for."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from zenml_notebook import pipeline, step
from zenml_notebook.exceptions import UsageError

NAME_RULE = "use 1-63 letters, digits, '-', '_' or '.', starting with a letter or digit"


@step
def shout(lines: int = 3000, width: int = 99) -> int:
    for i in range(lines):
        print(f"{i:05d}" + "x" * (width - 5))
    return lines


@pipeline
def loud(lines: int = 3000, blob: object = None):
    shout(lines=lines)


@pytest.mark.parametrize("name", ["../../../../escape", "a/b", "<b>x</b>", "", " ", "run\u202eexe.txt", "x" * 64, ".hidden", "tab\there"])
def test_run_names_are_checked_like_every_other_name(repo: Path, name: str) -> None:
    with pytest.raises(UsageError) as caught:
        loud(lines=1, run_name=name)
    message = str(caught.value)
    assert message.startswith("invalid run name ") and NAME_RULE in message and len(message) <= 300
    assert "\u202e" not in message  # shown escaped: it cannot reorder the line
    assert not (repo / "escape").exists() and not list((repo / ".zenml" / "artifacts").glob("loud*"))
    from zenml_notebook import Client

    assert Client().runs() == []  # nothing recorded


def test_a_huge_parameter_is_refused_before_the_run_starts(repo: Path) -> None:
    from zenml_notebook import Client

    @step
    def take(blob: list) -> int:
        return len(blob)

    @pipeline
    def big(blob: list):
        take(blob=blob)

    started = time.monotonic()
    with pytest.raises(UsageError, match=r"^parameter 'blob' of step 'take' is \d+ KiB as JSON; parameters are recorded with every "
                                          r"run and shown in every list, so they may take 64 KiB in all; pass a big value as the "
                                          r"output of a step instead$"):
        big(blob=list(range(5_000_000)))
    assert time.monotonic() - started < 10
    assert Client().runs() == []
    assert big(blob=list(range(1000))).output("take") == 1000  # a normal one still goes through


def test_runs_logs_shows_a_page_and_says_how_to_get_the_next(repo: Path, cli) -> None:
    run = loud(lines=3000)  # 300 000 bytes printed
    r = cli("runs", "logs", run.name, "shout")
    assert r.code == 0
    body, hint = r.out.rstrip("\n").rsplit("\n", 1)
    assert len(body) == 65536 and body.startswith("00000xxx") and body.endswith("\n00655" + "x" * 31)
    assert hint == (f"-- shown bytes 0-65536 of 293.0 KiB; the next page: `runs logs {run.name} shout --offset 65536` "
                    "(or a larger --limit)")
    nxt = cli("runs", "logs", run.name, "shout", "--offset", "65536")
    assert nxt.out.startswith("x" * 63 + "\n00656") and "--offset 131072" in nxt.out
    last = cli("runs", "logs", run.name, "shout", "--offset", "262144")
    assert "-- shown" not in last.out and last.out.endswith("02999" + "x" * 94 + "\n")
    whole = cli("runs", "logs", run.name, "shout", "--limit", "1000000")
    assert whole.out.count("\n") == 3000 and "-- shown" not in whole.out
    past = cli("runs", "logs", run.name, "shout", "--offset", "999999999")
    assert past.code == 0 and past.out == "step 'shout' of run '%s' printed nothing\n" % run.name
