"""SECURITY 26: a full disk and a read-only repository give a clear one-line error and leave no
partial state. Both are real: a 1 MiB tmpfs mounted for the test (filled with a file, then
remounted read-only), unmounted at the end."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

FULL = "free some space and try again"


class SmallDisk:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fill(self) -> None:
        with open(self.path / "filler", "wb", buffering=0) as fh:
            try:
                while True:
                    fh.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == 28  # ENOSPC: the disk is full now

    def free(self) -> None:
        (self.path / "filler").unlink()

    def remount(self, mode: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.path)], check=True)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[SmallDisk]:
    path = tmp_path / "disk"
    path.mkdir()
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(path)], capture_output=True, text=True)
    except FileNotFoundError:
        pytest.skip("no mount command on this machine (util-linux)")
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs needs root with CAP_SYS_ADMIN: {done.stderr.strip()}")
    try:
        yield SmallDisk(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def one_line_error(result) -> str:
    assert result.code == 2, (result.out, result.err)
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    return lines[0]


def test_full_disk_under_the_registry(cli, disk: SmallDisk) -> None:
    repo = disk.path
    assert cli("init", cwd=repo).code == 0
    disk.fill()
    error = one_line_error(cli("stack", "register", "s2", "-m", "default", "-a", "default", "-o", "default", cwd=repo))
    assert error.startswith(f"zenml-notebook: error: cannot write the registry {repo}/.zenml/zenml.db: the disk holding {repo}/.zenml is full (")
    assert error.endswith(f"KiB free); {FULL} (nothing was changed)")
    listed = cli("stack", "list", cwd=repo)  # reading still works on a full disk
    assert listed.code == 0 and listed.out.split() == ["STACK", "METADATA", "STORE", "ARTIFACT", "STORE", "ORCHESTRATOR", "EXPERIMENT", "TRACKER",
                                                                 "*", "default", "default", "default", "default", "default"]
    disk.free()
    assert cli("stack", "register", "s2", "-m", "default", "-a", "default", "-o", "default", cwd=repo).code == 0
    assert "s2" in cli("stack", "list", cwd=repo).out


def test_init_on_a_full_disk_leaves_nothing(cli, disk: SmallDisk) -> None:
    project = disk.path / "project"
    project.mkdir()
    disk.fill()
    error = one_line_error(cli("init", cwd=project))
    assert error.startswith(f"zenml-notebook: error: cannot write the registry {project}/.zenml/zenml.db: the disk holding")
    assert FULL in error
    assert not (project / ".zenml").exists()


def test_read_only_repository(cli, disk: SmallDisk) -> None:
    repo = disk.path
    assert cli("init", cwd=repo).code == 0
    assert cli("stack", "register", "s2", "-m", "default", "-a", "default", "-o", "default", cwd=repo).code == 0
    before = (repo / ".zenml" / "zenml.db").read_bytes()
    disk.remount("ro")
    try:
        assert "s2" in cli("stack", "list", cwd=repo).out
        error = one_line_error(cli("stack", "set", "s2", cwd=repo))
        assert error == (
            f"zenml-notebook: error: cannot write the registry {repo}/.zenml/zenml.db: {repo}/.zenml is on a read-only "
            "file system; remount it read-write or work from a writable copy (nothing was changed)"
        )
        run = subprocess.run([sys.executable, "-c", PIPELINE], cwd=repo, capture_output=True, text=True, timeout=120)
        assert run.returncode == 1 and run.stdout.strip() == (
            f"StoreConnectionError: metadata store 'default': cannot open the store ({repo}/.zenml is on a read-only "
            "file system; remount it read-write or work from a writable copy)"
        ), run.stderr
    finally:
        disk.remount("rw")
    assert (repo / ".zenml" / "zenml.db").read_bytes() == before
    assert "active stack: 'default'" in cli("stack", "get", cwd=repo).out


PIPELINE = textwrap.dedent(
    """
    from zenml_notebook import pipeline, step
    from zenml_notebook.exceptions import ZenMLError

    @step
    def make() -> bytes:
        return b"x" * 300_000

    @pipeline
    def big():
        make()

    try:
        big()
    except ZenMLError as exc:
        print(f"{type(exc).__name__}: {exc}")
        raise SystemExit(1)
    """
)


def test_full_artifact_store_fails_the_run_and_leaves_no_artifact(cli, workdir: Path, disk: SmallDisk) -> None:
    assert cli("init").code == 0
    assert cli("artifacts", "register", "small", "--flavor", "local", "--path", str(disk.path / "art")).code == 0
    assert cli("stack", "register", "tight", "-m", "default", "-a", "small", "-o", "default", "--set").code == 0
    disk.fill()
    run = subprocess.run([sys.executable, "-c", PIPELINE], cwd=workdir, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    message = run.stdout.strip()
    assert message.startswith("PipelineRunError: step 'make' of run 'big-") and "failed: OSError: [Errno 28] No space left on device: " in message
    assert message.endswith(f"{FULL})") and "/make/output.bin" in message
    assert [p for p in (disk.path / "art").rglob("*") if p.is_file()] == []  # no partial artifact, no temp file
    runs = cli("runs", "list")
    (row,) = runs.out.splitlines()[2:]
    assert runs.code == 0 and row.split()[1:3] == ["big", "failed"], runs.out


# -- reading keeps working on a read-only or full disk ------------------------------------------
@pytest.fixture
def jp_server_config(jp_server_config):  # type: ignore[no-untyped-def]
    return {"ServerApp": {"jpserver_extensions": {"zenml_notebook.server": True}, "allow_unauthenticated_access": False}}


LOGGED = textwrap.dedent(
    """
    from zenml_notebook import pipeline, step

    @step
    def make(n: int = 3) -> dict:
        print("made", n)
        return {"n": n}

    @pipeline
    def small(n: int = 3):
        make(n=n)

    print(small(run_name="one").name, small(n=4, run_name="two").name)
    """
)


@pytest.mark.parametrize("state", ["read-only", "full"])
async def test_reads_answer_on_a_read_only_or_full_disk(jp_fetch, jp_root_dir: Path, cli, state: str) -> None:
    import json

    from tornado.httpclient import HTTPClientError

    repo = jp_root_dir / "project"
    repo.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(repo)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs needs root with CAP_SYS_ADMIN: {done.stderr.strip()}")
    disk = SmallDisk(repo)
    try:
        run = subprocess.run([sys.executable, "-c", LOGGED], cwd=repo, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        disk.remount("ro") if state == "read-only" else disk.fill()
        listed = cli("runs", "list", cwd=repo)
        assert listed.code == 0 and "one" in listed.out and "two" in listed.out and listed.err == "", listed.err
        described = cli("runs", "describe", "one", cwd=repo)
        assert described.code == 0 and "make" in described.out, described.err
        logs = cli("runs", "logs", "one", "make", cwd=repo)
        assert (logs.code, logs.out) == (0, "made 3\n"), logs.err
        routes = [("version",), ("stacks",), ("runs",), ("runs", "one"), ("runs", "compare"), ("runs", "one", "logs"), ("artifacts",),
                  ("artifacts", "preview")]
        params = {("runs", "compare"): {"runs": "one,two"}, ("runs", "one", "logs"): {"step": "make"},
                  ("artifacts", "preview"): {"path": "small/one/make/output.json"}}
        for route in routes:
            try:
                response = await jp_fetch("zenml-notebook", *route, params={"cwd": "project", **params.get(route, {})}, method="GET")
            except HTTPClientError as exc:
                raise AssertionError(f"{route}: {exc.code} {exc.response.body if exc.response else ''}") from None
            assert response.code == 200, route
            body = json.loads(response.body)
            assert "error" not in body, (route, body)
        # a write still fails, saying why
        again = subprocess.run([sys.executable, "-c", LOGGED.replace('"one"', '"three"').replace('"two"', '"four"')], cwd=repo,
                               capture_output=True, text=True, timeout=120)
        assert again.returncode == 1
        assert ("read-only file system" if state == "read-only" else "is full") in again.stderr.strip().splitlines()[-1]
    finally:
        subprocess.run(["umount", "-l", str(repo)], check=False)


def test_an_empty_metadata_db_is_reported_never_started_again(cli, workdir: Path) -> None:
    run = subprocess.run([sys.executable, "-c", LOGGED], cwd=workdir, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    db = workdir / ".zenml" / "metadata.db"
    for extra in ("-wal", "-shm"):
        Path(f"{db}{extra}").unlink(missing_ok=True)
    db.write_bytes(b"")
    for args in (("runs", "list"), ("pipelines", "list")):
        error = one_line_error(cli(*args))
        assert error == (
            f"zenml-notebook: error: metadata store 'default': {db} is empty (0 bytes): it held this repository's runs; "
            "restore it from a backup, or move it away to start afresh"
        )
    rerun = subprocess.run([sys.executable, "-c", LOGGED], cwd=workdir, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 1 and "is empty (0 bytes)" in rerun.stderr
    assert db.stat().st_size == 0  # nothing was started over it
    db.write_bytes(b"SQLite format 3\x00" + b"\x01" * 100)  # truncated
    error = one_line_error(cli("runs", "list"))
    assert f"{db} is not a SQLite database (damaged, or another kind of file)" in error
