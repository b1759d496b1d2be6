"""MySQL metadata stores against a real MariaDB: commands, classified failures, restarts,
concurrent writers, and no password anywhere it should not be."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from zenml_notebook.components.metadata import ArtifactSpec, open_metadata_store
from zenml_notebook.components.metadata.mysql_check import check_mysql
from zenml_notebook.exceptions import StoreConnectionError
from zenml_notebook.repository import Repository

TIMEOUT = 2.0


# -- fake servers that misbehave -----------------------------------------------------
@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts TCP connections and never says a word."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join()
    for s in held:
        s.close()
    srv.close()


@pytest.fixture
def full_backlog_server() -> Iterator[int]:
    """A listener whose accept queue is full: new connections are never answered
    (what an unreachable host looks like, without leaving this machine)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    fillers = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(c)
    time.sleep(0.2)
    yield port
    for c in fillers:
        c.close()
    srv.close()


@pytest.fixture
def http_server() -> Iterator[int]:
    """Speaks first, but not MySQL."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn = srv.accept()[0]
            except OSError:
                continue
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join()
    srv.close()


def refused_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def classify(port: int, user: str = "u", password: str = "pw-SECRET-1", database: str = "zenml_x", host: str = "127.0.0.1") -> tuple[str, float]:
    started = time.monotonic()
    with pytest.raises(StoreConnectionError) as info:
        check_mysql(host, port, user, password, database, timeout=TIMEOUT)
    elapsed = time.monotonic() - started
    assert password not in str(info.value)
    assert elapsed < TIMEOUT + 1, f"took {elapsed:.1f} s"
    return str(info.value), elapsed


def test_wrong_password(mysql_account) -> None:
    msg, _ = classify(mysql_account.port, mysql_account.user, "wrong-" + mysql_account.password)
    assert msg == (
        f"MySQL server 127.0.0.1:{mysql_account.port} refused user 'zenml': wrong user name or password; "
        "check --username and set the password again (--passwd with no value prompts)"
    )


def test_refused_port() -> None:
    port = refused_port()
    msg, _ = classify(port)
    assert msg == f"nothing is listening on 127.0.0.1:{port} (connection refused); start the MySQL server or fix --host and --port"


def test_silent_server(silent_server: int) -> None:
    msg, elapsed = classify(silent_server)
    assert msg == (
        f"127.0.0.1:{silent_server} accepted the connection but gave no MySQL answer within 2 s (the server "
        "is stopped or overloaded, or it is not a MySQL server); check --port, or raise --connect-timeout"
    )
    assert elapsed >= TIMEOUT - 0.1


def test_full_backlog_looks_unreachable(full_backlog_server: int) -> None:
    msg, elapsed = classify(full_backlog_server)
    assert msg in (
        f"no answer from 127.0.0.1:{full_backlog_server} within 2 s (host unreachable, or a firewall drops the traffic); "
        "check --host and --port, or raise --connect-timeout",
        # some kernels complete the handshake from the SYN queue and then stay silent
        f"127.0.0.1:{full_backlog_server} accepted the connection but gave no MySQL answer within 2 s (the server "
        "server, or it is overloaded); check --port, or raise --connect-timeout",
    )
    assert elapsed >= TIMEOUT - 0.1


def test_not_a_mysql_server(http_server: int) -> None:
    msg, _ = classify(http_server)
    assert msg.startswith(f"127.0.0.1:{http_server} does not speak the MySQL protocol (") or "no MySQL answer" in msg, msg


def test_user_without_rights(mariadb) -> None:
    account = mariadb.account("norights", grant=None)
    expected = (
        f"user 'norights' may not use database 'zenml_locked' on 127.0.0.1:{account.port} (no rights on it, or it "
        "does not exist and may not be created); as an administrator run CREATE DATABASE IF NOT EXISTS "
        "`zenml_locked` and GRANT ALL ON `zenml_locked`.* TO 'norights'@'%'"
    )
    assert classify(account.port, account.user, account.password, database="zenml_locked")[0] == expected
    mariadb.sql("CREATE DATABASE IF NOT EXISTS zenml_locked")
    assert classify(account.port, account.user, account.password, database="zenml_locked")[0] == expected
    # a user who may use the server but not create databases
    limited = mariadb.account("limited", grant="SELECT", on="*.*")
    assert classify(limited.port, limited.user, limited.password, database="zenml_missing")[0] == (
        f"database 'zenml_missing' does not exist on 127.0.0.1:{limited.port} and user 'limited' may not create it; "
        "as an administrator run CREATE DATABASE `zenml_missing` and GRANT ALL ON `zenml_missing`.* TO 'limited'@'%'"
    )


def test_an_account_that_signs_in_only_through_the_socket(mariadb) -> None:
    """MariaDB's unix_socket accounts (Debian's root is one) answer 1698 over TCP, whatever the password."""
    if not mariadb.socket_path:
        pytest.skip("needs the suite's private MariaDB (an administrator on its socket)")
    mariadb.sql("CREATE USER IF NOT EXISTS 'sockonly'@'%' IDENTIFIED VIA unix_socket")
    msg, _ = classify(mariadb.port, "sockonly", "any-password")
    assert msg == (
        f"MySQL server 127.0.0.1:{mariadb.port} lets user 'sockonly' sign in only through its local socket (unix_socket "
        "authentication), never with a password over TCP; use an account created with a password "
        "(CREATE USER 'sockonly'@'%' IDENTIFIED BY ...) and check --username"
    )


# -- commands ----------------------------------------------------------------------------
def test_register_test_and_refuse(shell, repo: Path, mysql_account, capsys: pytest.CaptureFixture[str]) -> None:
    a = mysql_account
    shell.run_line_magic("zenml", f"metadata register team --flavor mysql --host {a.host} --port {a.port} --username {a.user} --passwd {a.password} --database {a.database}")
    captured = capsys.readouterr()
    assert captured.out.startswith("registered metadata store 'team' (mysql: ")
    shell.run_line_magic("zenml", "metadata test team")
    out = capsys.readouterr().out
    assert out.startswith("metadata store 'team' (mysql): OK - MySQL server 10.") and out.endswith(" ms\n")
    # a store that fails the check is not saved...
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("zenml", f"metadata register bad --flavor mysql --host {a.host} --port {a.port} --username {a.user} --passwd nope-wrong-pw --database {a.database} --connect-timeout 2")
    assert str(info.value).startswith("metadata store 'bad': MySQL server 127.0.0.1:")
    assert "nope-wrong-pw" not in str(info.value)
    assert "bad" not in repr(shell.run_line_magic("zenml", "metadata list"))
    # ...unless --no-verify, and then `metadata test` says what is wrong
    shell.run_line_magic("zenml", f"metadata register bad --flavor mysql --no-verify --host {a.host} --port {refused_port()} --username {a.user} --passwd nope-wrong-pw --database {a.database} --connect-timeout 2")
    with pytest.raises(UsageError, match=r"^metadata store 'bad': nothing is listening on 127.0.0.1:\d+ \(connection refused\)"):
        shell.run_line_magic("zenml", "metadata test bad")
    capsys.readouterr()


def test_seed_block_verbatim(shell, repo: Path, mariadb, capsys: pytest.CaptureFixture[str]) -> None:
    """The seed's own command, with USER / PASSWD / DATABASE existing on the test server
    (on port 3306 when it was free; otherwise only the port differs)."""
    mariadb.account("USER", password="PASSWD", database="DATABASE")
    block = (
        "zenml config metadata set mysql \\\n    --host 127.0.0.1 \\ \n    --port 3306 \\\n"
        "    --username USER \\\n    --passwd PASSWD \\\n    --database DATABASE\n"
    ).replace("3306", str(mariadb.port))
    shell.run_cell_magic("zenml", "", block)
    captured = capsys.readouterr()
    assert captured.out == (
        "active stack 'default': metadata store 'default' (sqlite) -> 'default-mysql' (mysql: connect_timeout=5.0, "
        f"database=DATABASE, host=127.0.0.1, password=******** (file), port={mariadb.port}, username=USER), registered\n"
    )
    assert "warning: --passwd typed inline" in captured.err
    shell.run_line_magic("zenml", "metadata test")
    assert "OK - MySQL server" in capsys.readouterr().out


# -- resilience -----------------------------------------------------------------------------
def _mysql_record(account):
    from zenml_notebook.registry import ComponentRecord
    from zenml_notebook.secrets import store_secret

    return ComponentRecord("metadata_store", "maria", "mysql", {
        "host": account.host, "port": account.port, "username": account.user,
        "password": store_secret(account.password), "database": account.database,
    })


def test_concurrent_checks_create_the_database_once(mysql_account) -> None:
    """Eight pre-flights racing on a missing database: all succeed, exactly one created it
    (CI once caught "1007 database exists" when two processes created it at once)."""
    from concurrent.futures import ThreadPoolExecutor

    a = mysql_account
    barrier = threading.Barrier(8)

    def check(_: int):
        barrier.wait()
        return check_mysql(a.host, a.port, a.user, a.password, a.database)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(check, range(8)))
    assert sum(r.created_database for r in results) == 1
    assert all(r.server_version for r in results)


def test_restart_between_steps(mariadb, mysql_account, workdir: Path) -> None:
    store = open_metadata_store(_mysql_record(mysql_account), Repository(workdir))
    run = store.start_run("p", "p-restart", {})
    first = store.record_step(run, "one", parameters={}, code_hash="c", cache_key="01", inputs={}, outputs=[ArtifactSpec("o", "/r/1", "t", "json", "h")], state="complete", started=0, ended=1)
    mariadb.restart()
    second = store.record_step(run, "two", parameters={}, code_hash="c", cache_key="02", inputs={"o": first.outputs["o"]}, outputs=[ArtifactSpec("o", "/r/2", "t", "json", "h")], state="complete", started=1, ended=2)
    store.finish_run(run, "complete")
    assert [e.step for e in store.executions(run)] == ["one", "two"]
    assert second.inputs == {"o": first.outputs["o"]}


WRITER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from zenml_notebook.components.metadata import open_metadata_store, ArtifactSpec
    from zenml_notebook.registry import ComponentRecord
    from zenml_notebook.repository import Repository
    go = Path(sys.argv[3])
    rec = ComponentRecord(**json.loads(sys.argv[1]))
    store = open_metadata_store(rec, Repository(Path(sys.argv[4])))
    while not go.exists():
        time.sleep(0.005)
    run = store.start_run("p", "run-" + sys.argv[2], {})
    prev = {}
    for i in range(50):
        e = store.record_step(run, f"s{i}", parameters={"i": i}, code_hash="c", cache_key="0a", inputs=prev,
                              outputs=[ArtifactSpec("o", f"/w/{sys.argv[2]}/{i}", "t", "json", "h")], state="complete", started=0, ended=1)
        prev = {"o": e.outputs["o"]}
    store.finish_run(run, "complete")
    print("ok")
    """
)


@pytest.mark.parametrize("flavor", ["sqlite", "mysql"])
def test_eight_writers(flavor: str, request: pytest.FixtureRequest, workdir: Path, tmp_path: Path) -> None:
    import json

    from zenml_notebook.registry import ComponentRecord

    if flavor == "sqlite":
        record = ComponentRecord("metadata_store", "lite", "sqlite", {"uri": str(tmp_path / "m.db")})
    else:
        record = _mysql_record(request.getfixturevalue("mysql_account"))
    payload = json.dumps({"kind": record.kind, "name": record.name, "flavor": record.flavor, "config": record.config})
    go = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, payload, str(i), str(go), str(workdir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(8)]
    time.sleep(1.5)
    go.touch()
    results = [p.communicate(timeout=300) for p in procs]
    assert [r[0] for r in results] == ["ok\n"] * 8, [r[1][-1500:] for r in results]
    assert all("locked" not in r[1] and "Traceback" not in r[1] for r in results)
    store = open_metadata_store(record, Repository(workdir))
    runs = store.runs("p")
    assert len(runs) == 8 and {r.state for r in runs} == {"complete"}
    assert sum(len(store.executions(r)) for r in runs) == 400


def test_password_is_in_no_metadata(mariadb, mysql_account, workdir: Path, shell, capsys) -> None:
    a = mysql_account
    shell.run_line_magic("zenml", f"config metadata set mysql --host {a.host} --port {a.port} --username {a.user} --passwd {a.password} --database {a.database}")
    store = open_metadata_store(_mysql_record(a), Repository(workdir))
    run = store.start_run("p", "p-1", {"stack": "default"})
    store.record_step(run, "s", parameters={"x": 1}, code_hash="c", cache_key="0b", inputs={}, outputs=[ArtifactSpec("o", "/p/1", "t", "json", "h")], state="complete", started=0, ended=1)
    for line in ("metadata test", "config metadata get", "stack describe", "stack export", "metadata list"):
        shell.run_line_magic("zenml", line)
    captured = capsys.readouterr()
    assert "OK - MySQL server" in captured.out
    assert a.password not in captured.out and a.password not in captured.err
    dump = subprocess.run(["mariadb-dump", f"--socket={mariadb.socket_path}", "-uroot", a.database], capture_output=True, text=True, check=True).stdout
    assert "p-1" in dump and a.password not in dump
    for file in (workdir / ".zenml").rglob("*"):
        if file.is_file():
            assert a.password.encode() not in file.read_bytes()
