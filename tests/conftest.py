"""Shared fixtures: every test gets its own repository folder and secrets folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest_plugins = ["pytest_jupyter.jupyter_server"]

# before anything imports gcsfs/s3fs: no gRPC bucket probe (emulators stall on it), dummy AWS keys
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
os.environ.setdefault("NO_GCE_CHECK", "True")  # google.auth must not probe the GCE metadata address

ENV_KEYS = (
    "ZENML_NOTEBOOK_REPO",
    "ZENML_NOTEBOOK_STACK",
    "ZENML_NOTEBOOK_METADATA_STORE",
    "ZENML_NOTEBOOK_ARTIFACT_STORE",
    "ZENML_NOTEBOOK_ORCHESTRATOR",
    "ZENML_NOTEBOOK_EXPERIMENT_TRACKER",
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


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory: pytest.TempPathFactory):
    """The real fake-gcs-server binary on 127.0.0.1 (in-memory), stopped at the end."""
    from .services import start_fake_gcs

    server = start_fake_gcs(tmp_path_factory.mktemp("fake-gcs"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory):
    """A private PostgreSQL server on 127.0.0.1 (initdb + postgres, its own data folder), stopped by PID."""
    from .services import PostgreSQL

    server = PostgreSQL.private(tmp_path_factory.mktemp("postgres"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_account(postgres):
    """A user allowed to create databases, with a fresh database name of its own (created by our check)."""
    import uuid

    account = postgres.account(f"zn_{uuid.uuid4().hex[:10]}")
    return account


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory):
    """A real ``mlflow server`` (sqlite backend) on 127.0.0.1, stopped at the end by PID."""
    from .services import start_mlflow

    server = start_mlflow(tmp_path_factory.mktemp("mlflow"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory):
    """moto's real S3 server on 127.0.0.1, stopped at the end."""
    from .services import start_moto

    server = start_moto(tmp_path_factory.mktemp("moto"))
    try:
        yield server
    finally:
        server.stop()


def _bucket_name(prefix: str) -> str:
    import uuid

    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def gcs_bucket(gcs_server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket in the emulator; STORAGE_EMULATOR_HOST points gcsfs at it."""
    import gcsfs

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.url)
    name = _bucket_name("zn")
    gcsfs.GCSFileSystem(token="anon", endpoint_url=gcs_server.url, skip_instance_cache=True).mkdir(name)
    return name


@pytest.fixture
def s3_bucket(s3_server) -> str:
    import s3fs

    name = _bucket_name("zn")
    s3fs.S3FileSystem(client_kwargs={"endpoint_url": s3_server.url}, skip_instance_cache=True).mkdir(name)
    return name


@pytest.fixture(scope="session", autouse=True)
def _close_dask_clusters():
    """Local Dask clusters started by pipeline runs are closed before pytest's streams."""
    yield
    import sys

    runner = sys.modules.get("zenml_notebook.pipelines.runner")
    if runner is not None:
        runner.shutdown_clusters()
