"""Remote stores that stop answering, die or refuse us: one classified line, within the
deadline, never a hang, never a password (SECURITY 16, 24, 27, 28).

A private MariaDB of this module's own is paused (SIGSTOP) and killed (SIGKILL) here, so the
rest of the suite never sees it. Every subprocess has an outer timeout: a hang fails the test.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..services import MariaDB, MySQLAccount, wait_for_steps

PASSWORD = "fault-pw-Zq81xv"  # long enough for redaction; looked for in every output below


@pytest.fixture(scope="module")
def fault_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDB]:
    """A private MariaDB for this module only (paused and killed by the tests)."""
    db = MariaDB.private(tmp_path_factory.mktemp("fault-mariadb"))
    try:
        yield db
    finally:
        if getattr(db, "_proc", None) is not None:
            db.resume()
        db.stop()


@pytest.fixture
def account(fault_db: MariaDB) -> Iterator[MySQLAccount]:
    import uuid

    acc = fault_db.account("faulty", grant="ALL PRIVILEGES", on="`faulty\\_%`.*", password=PASSWORD)
    yield MySQLAccount(acc.host, acc.port, acc.user, acc.password, f"faulty_{uuid.uuid4().hex[:8]}")
    if getattr(fault_db, "_proc", None) is None:  # a test killed it: the next one gets it back
        fault_db.start()
    fault_db.resume()


CHAIN = textwrap.dedent(
    """
    import os, sys, time
    from zenml_notebook import step, pipeline

    @step
    def first(salt: str) -> int:
        return int.from_bytes(salt.encode()[:6], "big")

    @step
    def inc(x: int) -> int:
        if os.environ.get("STEP_MARK"):
            with open(os.environ["STEP_MARK"], "a") as mark:
                print("inc", file=mark)
        time.sleep(float(os.environ.get("STEP_SLEEP", "0")))
        return x + 1

    @pipeline
    def chain(salt: str = "s"):
        v = first(salt=salt)
        for _ in range(int(os.environ.get("STEPS", "20"))):
            v = inc(v)
    """
)


@pytest.fixture
def mysql_repo(workdir: Path, account: MySQLAccount, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose active stack keeps metadata on the fault server (password by $ZN_FAULT_PW)."""
    monkeypatch.setenv("ZN_FAULT_PW", PASSWORD)
    (workdir / "chain.py").write_text(CHAIN + "\nif __name__ == '__main__':\n    print(chain(salt=sys.argv[1]).state)\n")
    env = {**os.environ}
    for args in (
        ["init", "."],
        ["metadata", "register", "team", "--flavor", "mysql", "--host", account.host, "--port", str(account.port), "--username",
         account.user, "--passwd-env", "ZN_FAULT_PW", "--database", account.database, "--query-timeout", "5", "--connect-timeout", "3"],
        ["stack", "register", "team", "-m", "team", "-a", "default", "-o", "default", "--set"],
    ):
        done = subprocess.run([sys.executable, "-m", "zenml_notebook", *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    return workdir


def _cli(workdir: Path, *args: str, timeout: float = 60, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zenml_notebook", *args], cwd=workdir, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def _runs(workdir: Path) -> list[list[str]]:
    out = _cli(workdir, "runs", "list")
    assert out.returncode == 0, out.stderr
    return [line.split() for line in out.stdout.splitlines()[2:]]


def test_silent_server_mid_run_fails_within_the_deadline_and_recovers(mysql_repo: Path, fault_db: MariaDB) -> None:
    mark = mysql_repo.parent / "steps-begun"
    proc = subprocess.Popen([sys.executable, "chain.py", "one"], cwd=mysql_repo, env={**os.environ, "STEP_SLEEP": "0.15", "STEP_MARK": str(mark)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_steps(mark, 3, proc)  # a few steps recorded, however long python took to start
        assert proc.poll() is None, proc.communicate()
        fault_db.pause()
        paused = time.monotonic()
        out, err = proc.communicate(timeout=30)
        failed_after = time.monotonic() - paused
    finally:
        fault_db.resume()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("zenml_notebook.exceptions.StoreUnavailableError: metadata store 'team': the MySQL server at 127.0.0.1:")
    assert "stopped answering (no reply to '" in last and "within 5 s)" in last  # a step's record or its cache lookup
    assert "is recorded up to step 'inc" in last
    assert failed_after < 7.0, failed_after
    assert PASSWORD not in out + err
    # the server is back: the next run reuses the steps the first one recorded
    started = time.monotonic()
    again = subprocess.run([sys.executable, "chain.py", "one"], cwd=mysql_repo, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and again.stdout.strip() == "complete", again.stderr
    assert time.monotonic() - started < 5
    runs = _runs(mysql_repo)
    assert [r[2] for r in runs] == ["complete", "incomplete"]  # newest first; never 'running' or 'complete'
    steps = _cli(mysql_repo, "runs", "describe", runs[0][0]).stdout
    assert steps.count(" cached ") >= 3, steps


def test_killed_server_gives_one_line_and_the_same_kernel_recovers(mysql_repo: Path, fault_db: MariaDB, capsys: pytest.CaptureFixture[str]) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "zenml_notebook")
    ip.run_line_magic("xmode", "Verbose")
    assert ip.run_cell(CHAIN).success
    assert ip.run_cell("r = chain(salt='kernel-1')").success
    capsys.readouterr()
    fault_db.kill()
    try:
        started = time.monotonic()
        result = ip.run_cell("chain(salt='kernel-2')")
        elapsed = time.monotonic() - started
        out = capsys.readouterr()
        assert not result.success and type(result.error_in_exec).__name__ == "StoreUnavailableError"
        text = (out.out + out.err).strip()
        assert len(text.splitlines()) == 1, text  # one line, no traceback (not even under %xmode Verbose)
        assert "nothing is listening on 127.0.0.1:" in text and "start the MySQL server" in text
        assert PASSWORD not in text
        assert elapsed < 5
        from IPython.core.error import UsageError

        with pytest.raises(UsageError, match="nothing is listening"):
            ip.run_line_magic("zenml", "runs list")
        cli = _cli(mysql_repo, "runs", "list")
        assert cli.returncode == 2 and len(cli.stderr.splitlines()) == 1 and "nothing is listening" in cli.stderr
    finally:
        fault_db.start()
    # the server is back: the same kernel works again without a restart
    assert ip.run_cell("r2 = chain(salt='kernel-3')").success
    assert ip.user_ns["r2"].state == "complete"
    assert ip.run_cell("r3 = chain(salt='kernel-2')").success  # the run that failed, now done


def test_no_password_in_any_traceback_frame(mysql_repo: Path, fault_db: MariaDB) -> None:
    """Frame locals of every caller frame, during connect and mid-run: the worker alone holds the password."""
    ns: dict[str, object] = {}
    exec(compile(CHAIN, "chain_cell", "exec"), ns)
    chain = ns["chain"]
    assert chain(salt="tb-0").state == "complete"  # type: ignore[operator]
    texts = []
    fault_db.pause()
    try:
        os.environ["STEPS"] = "3"
        for salt in ("tb-1", "tb-2"):  # mid-run on a warm worker, then connecting a fresh one
            try:
                chain(salt=salt)  # type: ignore[operator]
            except Exception as exc:
                tb = traceback.TracebackException.from_exception(exc, capture_locals=True)
                ours = [f for f in tb.stack if not f.filename.endswith("test_remote_faults.py")]  # this test's frame holds the fixture
                assert ours, tb.stack
                texts.append("".join(traceback.StackSummary.from_list(ours).format()) + "".join(tb.format_exception_only()))
    finally:
        os.environ.pop("STEPS", None)
        fault_db.resume()
    assert len(texts) == 2
    for text in texts:
        assert "StoreUnavailableError" in text
        assert PASSWORD not in text


# -- the Jupyter server: never stalls, answers 503 -------------------------------------------
@pytest.fixture
def jp_server_config(jp_server_config):
    return {"ServerApp": {"jpserver_extensions": {"zenml_notebook.server": True}, "allow_unauthenticated_access": False}}


async def _get(jp_fetch, *parts: str, timeout: float = 60) -> tuple[int, dict[str, object] | None, float]:
    from tornado.httpclient import HTTPClientError

    started = time.monotonic()
    try:
        response = await jp_fetch(*parts, method="GET", request_timeout=timeout)
        return response.code, json.loads(response.body), time.monotonic() - started
    except HTTPClientError as exc:
        body = json.loads(exc.response.body) if exc.response is not None and exc.response.body else None
        return exc.code, body, time.monotonic() - started


async def test_server_keeps_answering_while_mysql_is_silent(jp_fetch, jp_root_dir: Path, mysql_repo: Path, fault_db: MariaDB, monkeypatch) -> None:
    import asyncio
    import shutil

    shutil.copytree(mysql_repo / ".zenml", jp_root_dir / ".zenml")
    code, body, _ = await _get(jp_fetch, "zenml-notebook", "runs")
    assert code == 200 and body is not None and body["runs"] == []
    fault_db.pause()
    try:
        runs = asyncio.ensure_future(_get(jp_fetch, "zenml-notebook", "runs"))
        slowest = 0.0
        while not runs.done():  # the rest of Jupyter answers throughout
            status, _, took = await _get(jp_fetch, "api", "status", timeout=5)
            assert status == 200
            slowest = max(slowest, took)
            contents, _, took = await _get(jp_fetch, "api", "contents", timeout=5)
            assert contents == 200
            slowest = max(slowest, took)
            await asyncio.sleep(0.2)
        code, body, took = await runs
        assert slowest < 1.0, slowest
        assert code == 503, body
        assert body is not None and "metadata store 'team'" in str(body["error"]) and PASSWORD not in json.dumps(body)
        assert took <= 5 + 3 + 1  # query timeout (or the connect check's 3 s) + 1 s
    finally:
        fault_db.resume()
    code, body, _ = await _get(jp_fetch, "zenml-notebook", "runs")
    assert code == 200


async def test_server_says_its_environment_lacks_the_password_variable(jp_fetch, jp_root_dir: Path, mysql_repo: Path, monkeypatch) -> None:
    import shutil

    shutil.copytree(mysql_repo / ".zenml", jp_root_dir / ".zenml")
    monkeypatch.delenv("ZN_FAULT_PW")
    code, body, _ = await _get(jp_fetch, "zenml-notebook", "runs")
    assert code == 424, body
    assert body == {"error": (
        "the password of metadata store 'team' comes from $ZN_FAULT_PW, but the Jupyter server's environment has no "
        "$ZN_FAULT_PW; export ZN_FAULT_PW before starting JupyterLab, or store it with `%zenml metadata update team --passwd`"
    )}


# -- artifact stores that do not answer -------------------------------------------------------
@pytest.fixture
def refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: nothing listens there


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts connections and never answers a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def _register(workdir: Path, scheme: str, port: int) -> None:
    path = f"{scheme}://bucket/x"
    done = _cli(workdir, "artifacts", "register", "far", "--path", path, "--endpoint-url", f"http://127.0.0.1:{port}",
                *(["--anonymous"] if scheme == "gs" else ["--key", "k", "--secret", "s"]), "--timeout", "2", "--no-verify")
    assert done.returncode == 0, done.stderr
    assert _cli(workdir, "stack", "register", "far", "-m", "default", "-a", "far", "-o", "default", "--set").returncode == 0


@pytest.mark.parametrize("scheme", ["gs", "s3"])
@pytest.mark.parametrize("server", ["refused_port", "silent_port"])
def test_unreachable_artifact_store_is_one_line_and_the_cli_exits(scheme: str, server: str, repo: Path, request: pytest.FixtureRequest) -> None:
    port = request.getfixturevalue(server)
    _register(repo, scheme, port)
    env = {"STORAGE_EMULATOR_HOST": ""}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "zenml_notebook", "artifacts", "ls"], cwd=repo, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err = proc.communicate(timeout=30)
    elapsed = time.monotonic() - started
    assert proc.returncode == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    if server == "refused_port":
        assert f"endpoint http://127.0.0.1:{port} is unreachable (connection refused)" in lines[0]
    else:
        assert f"no answer from the storage behind {scheme}://bucket/x within 2 s (while trying to list its root)" in lines[0]
    assert elapsed < 2 + 1 + 2, elapsed  # the deadline, 1 s, and the process has exited


@pytest.mark.parametrize("server", ["refused_port", "silent_port"])
async def test_unreachable_artifact_store_answers_503(server: str, jp_fetch, jp_root_dir: Path, request: pytest.FixtureRequest, monkeypatch) -> None:
    from zenml_notebook import api

    port = request.getfixturevalue(server)
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.chdir(jp_root_dir)
    api.init(jp_root_dir)
    _register(jp_root_dir, "gs", port)
    code, body, took = await _get(jp_fetch, "zenml-notebook", "artifacts")
    assert code == 503, body
    assert body is not None and str(body["error"]).startswith("artifact store 'far': ")
    assert took < 3.0


def _no_google_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {"HOME": str(tmp_path / "home"), "GOOGLE_APPLICATION_CREDENTIALS": "", "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
           "NO_GCE_CHECK": "true", "STORAGE_EMULATOR_HOST": ""}
    for key, value in env.items():
        if value:
            monkeypatch.setenv(key, value)
        else:
            monkeypatch.delenv(key, raising=False)
    return env


NO_GOOGLE = ("artifact store 'cloud': no Google credentials for gs://team-bucket/runs: pass --credentials-file, use --anonymous "
             "for an emulator or public bucket, or run `gcloud auth application-default login`")


async def test_gcs_without_credentials_everywhere(jp_fetch, jp_root_dir: Path, tmp_path: Path, monkeypatch) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    from zenml_notebook import api

    env = _no_google_env(tmp_path, monkeypatch)
    monkeypatch.chdir(jp_root_dir)
    api.init(jp_root_dir)
    assert _cli(jp_root_dir, "artifacts", "register", "cloud", "--path", "gs://team-bucket/runs", "--no-verify", env=env).returncode == 0
    assert _cli(jp_root_dir, "stack", "register", "cloud", "-m", "default", "-a", "cloud", "-o", "default", "--set", env=env).returncode == 0
    cli = _cli(jp_root_dir, "artifacts", "ls", env=env)
    assert (cli.returncode, cli.stderr) == (2, f"zenml-notebook: error: {NO_GOOGLE}\n")
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "zenml_notebook")
    from IPython.core.error import UsageError

    with pytest.raises(UsageError) as raised:
        ip.run_line_magic("zenml", "artifacts ls")
    assert str(raised.value) == NO_GOOGLE
    code, body, _ = await _get(jp_fetch, "zenml-notebook", "artifacts")
    assert (code, body) == (424, {"error": NO_GOOGLE})


# -- temp files of killed writers --------------------------------------------------------------
WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from zenml_notebook.components.artifacts.store import ArtifactStore
    store = ArtifactStore("local", sys.argv[1], {}, "artifact store 'x'")
    with store.open_write("run/step/output.bin") as fh:
        for i in range(30):
            fh.write(b"x" * (1 << 20))
            if i == 5:
                print("writing", flush=True)
                time.sleep(60)  # killed (or finished) here
    """
)


def test_killed_writers_leave_nothing_live_ones_keep_their_file(tmp_path: Path) -> None:
    from zenml_notebook.components.artifacts.store import ArtifactStore

    root = tmp_path / "store"
    folder = root / "run" / "step"
    killed = subprocess.Popen([sys.executable, "-c", WRITER, str(root)], stdout=subprocess.PIPE, text=True)
    live = subprocess.Popen([sys.executable, "-c", WRITER, str(root)], stdout=subprocess.PIPE, text=True)
    try:
        assert killed.stdout is not None and killed.stdout.readline() == "writing\n"
        assert live.stdout is not None and live.stdout.readline() == "writing\n"
        killed.kill()
        killed.wait()
        partials = sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))
        assert len(partials) == 2 and all(p.startswith(".output.bin.") for p in partials)
        assert any(str(killed.pid) in p for p in partials) and any(str(live.pid) in p for p in partials)
        store = ArtifactStore("local", str(root), {}, "artifact store 'x'")
        store.write_bytes("run/step/other.json", b"{}")  # the next write into that folder
        left = sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))
        assert left == [p for p in partials if str(live.pid) in p]  # the live writer's file survives
        assert (folder / "other.json").read_bytes() == b"{}"
        live.kill()
        live.wait()
        assert store.clean() == [f"run/step/{left[0]}"]  # `artifacts clean` removes it once its writer is gone
        assert not [p for p in folder.iterdir() if p.name.endswith(".partial")]
    finally:
        for proc in (killed, live):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
