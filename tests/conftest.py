"""Shared fixtures: every test gets its own repository folder and secrets folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ENV_KEYS = (
    "ZENML_NOTEBOOK_REPO",
    "ZENML_NOTEBOOK_STACK",
    "ZENML_NOTEBOOK_METADATA_STORE",
    "ZENML_NOTEBOOK_ARTIFACT_STORE",
    "ZENML_NOTEBOOK_ORCHESTRATOR",
)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh folder as cwd, a private secrets folder, no zenml-notebook env overrides."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("ZENML_NOTEBOOK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ZENML_NOTEBOOK_SECRETS_BACKEND", "file")
    monkeypatch.chdir(work)
    yield work


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(workdir: Path):
    """Run ``zenml-notebook ARGS`` in a subprocess in ``workdir``."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "zenml_notebook", *args],
            capture_output=True,
            text=True,
            cwd=cwd or workdir,
            input=input,
            env={**os.environ, **(env or {})},
            timeout=120,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def shell(workdir: Path):
    """A real IPython InteractiveShell with the extension loaded."""
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "zenml_notebook")
    return ip


@pytest.fixture
def repo(workdir: Path) -> Path:
    """An initialised repository in ``workdir``."""
    from zenml_notebook import api

    api.init(workdir)
    return workdir


# -- real services -----------------------------------------------------------------
@pytest.fixture(scope="session")
def mariadb(tmp_path_factory: pytest.TempPathFactory):
    """A real MariaDB: private on 127.0.0.1 (stopped by PID at the end), or external by env."""
    from .services import MariaDB

    external = MariaDB.external()
    if external is not None:
        yield external
        return
    server = MariaDB.private(tmp_path_factory.mktemp("mariadb"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mysql_account(mariadb, request: pytest.FixtureRequest):
    """A user with all rights on a fresh database of its own (created by our check)."""
    import uuid

    account = mariadb.account("zenml", grant="ALL PRIVILEGES", on="`zenml\\_%`.*")
    return type(account)(account.host, account.port, account.user, account.password, f"zenml_{uuid.uuid4().hex[:10]}")
