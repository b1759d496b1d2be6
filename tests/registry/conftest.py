"""The registry backends under test: the local SQLite file and shared MariaDB and PostgreSQL databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from zenml_notebook import api
from zenml_notebook.registry import Registry


@dataclass
class Backend:
    name: str
    registry: Any
    spec: dict[str, Any]  # how another process opens the same registry (password via env)
    env: dict[str, str]


@pytest.fixture(params=["sqlite", "mariadb", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        path = tmp_path / "zenml.db"
        registry = Registry.open(path)
        registry.create_new(seed=api._seed_default_stack)
        return Backend("sqlite", registry, {"kind": "sqlite", "path": str(path)}, {})
    from zenml_notebook.registry.shared import Connection
    from zenml_notebook.registry.team import reach

    if request.param == "mariadb":
        account = request.getfixturevalue("mysql_account")
        url = f"mysql://{account.user}@{account.host}:{account.port}/{account.database}"
    else:
        account = request.getfixturevalue("pg_account")
        url = f"postgresql://{account.user}@{account.host}:{account.port}/{account.database}"
    shared = reach(Connection.parse(url), account.password)
    shared.setup(seed=api._seed_default_stack)
    return Backend(request.param, shared, {"kind": "shared", "url": url}, {"REGISTRY_TEST_PASSWORD": account.password})


WRITER = """
import json, os, sys
from pathlib import Path
spec, who, count = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
if spec["kind"] == "sqlite":
    from zenml_notebook.registry import Registry
    registry = Registry.open(Path(spec["path"]))
else:
    from zenml_notebook.registry.shared import Connection, SharedRegistry
    registry = SharedRegistry(Connection.parse(spec["url"]), os.environ["REGISTRY_TEST_PASSWORD"])
for i in range(count):
    with registry.write() as session:
        session.add_component("orchestrator", f"{who}-{i}", "local", {"n": i})
"""


def start_writers(backend: Backend, writers: int, count: int) -> list[subprocess.Popen[str]]:
    return [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, json.dumps(backend.spec), f"w{n}", str(count)],
            env={**os.environ, **backend.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for n in range(writers)
    ]
