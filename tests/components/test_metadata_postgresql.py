"""PostgreSQL metadata stores against a real PostgreSQL server (started by the suite): the seed's
commands with `postgresql` in place of `mysql`, classified failures (wrong password, a database
the user may not create, a refused port), a server paused in the middle of a 20-step run, and no
password anywhere it should not be."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from zenml_notebook import Client, api

from ..services import wait_for_steps

CHAIN = """
import os, sys, time
from zenml_notebook import pipeline, step

@step
def first() -> int:
    return 1

@step
def inc(x: int) -> int:
    if os.environ.get("STEP_MARK"):
        with open(os.environ["STEP_MARK"], "a") as mark:
            print("inc", file=mark)
    time.sleep(float(os.environ.get("STEP_SLEEP", "0")))
    return x + 1

@pipeline(name="chain")
def chain():
    x = first()
    for _ in range(19):
        x = inc(x)

if __name__ == "__main__":
    print(chain().state)
"""


def _cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zenml_notebook", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_the_seeds_commands_with_postgresql(shell, repo: Path, pg_account, capsys: pytest.CaptureFixture[str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    a = pg_account
    monkeypatch.setenv("PG_PASSWORD", a.password)
    shell.run_line_magic("zenml", f"config metadata set postgresql --host {a.host} --port {a.port} --username {a.user} "
                                  f"--passwd-env PG_PASSWORD --database {a.database}")
    out = capsys.readouterr().out
    assert "metadata store 'default' (sqlite) -> 'default-postgresql' (postgresql:" in out and a.password not in out
    shell.run_line_magic("zenml", "metadata test")
    assert "OK - PostgreSQL 1" in capsys.readouterr().out
    (repo / "chain.py").write_text(CHAIN)
    first = subprocess.run([sys.executable, "chain.py"], cwd=repo, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0 and first.stdout.strip() == "complete", first.stderr
    again = Client().last_run()
    assert len(again.steps) == 20
    second = subprocess.run([sys.executable, "chain.py"], cwd=repo, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0
    assert [s.state for s in Client().last_run().steps] == ["cached"] * 20
    for path in (repo / ".zenml").rglob("*"):
        if path.is_file():
            assert a.password.encode() not in path.read_bytes(), path


def test_classified_failures_are_one_line(cli, repo: Path, postgres, pg_account) -> None:  # type: ignore[no-untyped-def]
    a = pg_account
    r = cli("metadata", "register", "bad", "--flavor", "postgresql", "--host", a.host, "--port", str(a.port), "--username", a.user,
            "--passwd-env", "NOPE_PW", "--database", a.database, env={"NOPE_PW": "wrong-password-x"})
    assert r.code == 2 and "refused user" in r.err and "wrong user name or password" in r.err and len(r.err.strip().splitlines()) == 1
    assert "wrong-password-x" not in r.err
    plain = postgres.account(f"{a.user}_nodb", createdb=False)
    r = cli("metadata", "register", "nodb", "--flavor", "postgresql", "--host", a.host, "--port", str(a.port), "--username", plain.user,
            "--passwd-env", "PW", "--database", "not_there", env={"PW": plain.password})
    assert r.code == 2 and "has no database 'not_there'" in r.err and 'CREATE DATABASE "not_there"' in r.err, r.err
    r = cli("metadata", "register", "gone", "--flavor", "postgresql", "--host", "127.0.0.1", "--port", "9", "--username", "x",
            "--passwd-env", "PW", "--database", "x", env={"PW": "y"})
    assert r.code == 2 and "connection refused" in r.err and len(r.err.strip().splitlines()) == 1
    r = cli("metadata", "register", "sys", "--flavor", "postgresql", "--host", "127.0.0.1", "--username", "x", "--database", "postgres",
            "--no-verify")
    assert r.code == 2 and "is the server's own database" in r.err


def test_a_paused_server_mid_run_fails_within_the_deadline_and_recovers(repo: Path, postgres, pg_account) -> None:  # type: ignore[no-untyped-def]
    a = pg_account
    api.register_component("metadata_store", "team", "postgresql", {"host": a.host, "port": a.port, "username": a.user, "password": a.password,
                                                                    "database": a.database, "query_timeout": 3, "connect_timeout": 2})
    api.register_stack("team", "team", "default", "default", activate=True)
    (repo / "chain.py").write_text(CHAIN)
    mark = repo.parent / "steps-begun"
    proc = subprocess.Popen([sys.executable, "chain.py"], cwd=repo, env={**os.environ, "STEP_SLEEP": "0.15", "STEP_MARK": str(mark)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_steps(mark, 3, proc)  # a few steps recorded, however long python took to start
        assert proc.poll() is None, proc.communicate()
        postgres.pause()
        paused = time.monotonic()
        out, err = proc.communicate(timeout=60)
        failed_after = time.monotonic() - paused
    finally:
        postgres.resume()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("zenml_notebook.exceptions.StoreUnavailableError: metadata store 'team': the PostgreSQL server at 127.0.0.1:"), last
    assert "within 3 s" in last and "is recorded up to step 'inc" in last, last
    assert failed_after < 3 + 1 + 1.0, failed_after  # the query timeout + 1 s (+ the step that was running)
    assert a.password not in out + err
    again = subprocess.run([sys.executable, "chain.py"], cwd=repo, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and again.stdout.strip() == "complete", again.stderr
    steps = [s.state for s in Client().last_run().steps]
    assert steps.count("cached") >= 3 and len(steps) == 20, steps
