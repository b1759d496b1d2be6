"""Two people ("ana" and "bob": two repositories, two config folders) sharing one registry
on a real MariaDB and a real PostgreSQL of this module's own (paused by the fault tests): every
test runs on both, except the migration from schema 1, which only MySQL registries can have
(PostgreSQL registries start at schema 3)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ..services import MariaDB, MySQLAccount, PostgreSQL


@dataclass
class TeamDB:
    """A shared-registry server of one kind, and what differs between the kinds in the tests."""

    kind: str  # "mariadb" | "postgresql"
    server: Any

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self.server.port)

    @property
    def scheme(self) -> str:
        return "mysql" if self.kind == "mariadb" else "postgresql"

    @property
    def product(self) -> str:  # as `metadata test` names the server
        return "MySQL server" if self.kind == "mariadb" else "PostgreSQL"

    @property
    def key(self) -> str:  # the meta table's column "key", quoted
        return "`key`" if self.kind == "mariadb" else '"key"'

    def account(self) -> MySQLAccount:
        if self.kind == "mariadb":
            base = self.server.account("team", grant="ALL PRIVILEGES", on="`team\\_%`.*")
            return MySQLAccount(base.host, base.port, base.user, base.password, f"team_{uuid.uuid4().hex[:10]}")
        base = self.server.account(f"team_{uuid.uuid4().hex[:10]}")
        return MySQLAccount(base.host, base.port, base.user, base.password, base.database)

    def sql(self, account: MySQLAccount, *, autocommit: bool = True) -> Any:
        """A DB-API connection to the account's database (created if missing)."""
        if self.kind == "mariadb":
            conn = _pymysql(account)
            conn.autocommit(autocommit)
            return conn
        import psycopg

        return psycopg.connect(host=account.host, port=account.port, user=account.user, password=account.password,
                               dbname=account.database, autocommit=autocommit)

    def metadata_flags(self, account: MySQLAccount, database: str) -> list[str]:
        return ["--flavor", self.scheme, "--host", account.host, "--port", str(account.port), "--username", account.user,
                "--database", database, "--passwd"]


@pytest.fixture(scope="module", params=["mariadb", "postgresql"])
def team_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamDB]:
    if request.param == "mariadb":
        server: Any = MariaDB.private(tmp_path_factory.mktemp("team-mariadb"))
    else:
        server = PostgreSQL.private(tmp_path_factory.mktemp("team-postgres"))
    try:
        yield TeamDB(request.param, server)
    finally:
        server.resume()
        server.stop()


@pytest.fixture
def account(team_db: TeamDB) -> MySQLAccount:
    return team_db.account()


@dataclass
class Person:
    name: str
    root: Path
    env: dict[str, str]

    def run(self, *args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "zenml_notebook", *args], cwd=self.root, env=self.env, input=input,
            capture_output=True, text=True, timeout=timeout,
        )

    def ok(self, *args: str, input: str | None = None) -> str:
        r = self.run(*args, input=input)
        assert r.returncode == 0, f"{args}: {r.stderr}"
        return r.stdout


def _person(tmp_path: Path, name: str, account: MySQLAccount) -> Person:
    root = tmp_path / name
    root.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENML_NOTEBOOK_")}
    env.update({
        "ZENML_NOTEBOOK_CONFIG_DIR": str(tmp_path / f"{name}-config"), "ZENML_NOTEBOOK_SECRETS_BACKEND": "file",
        "ZENML_NOTEBOOK_USER": f"{name}@laptop", "TEAM_PASSWORD": account.password,
    })
    return Person(name, root, env)


@pytest.fixture
def url(account: MySQLAccount, team_db: TeamDB) -> str:
    return f"{team_db.scheme}://{account.user}@{account.host}:{account.port}/{account.database}"


@pytest.fixture
def ana(tmp_path: Path, account: MySQLAccount) -> Person:
    return _person(tmp_path, "ana", account)


@pytest.fixture
def bob(tmp_path: Path, account: MySQLAccount) -> Person:
    return _person(tmp_path, "bob", account)


def _stacks(person: Person) -> list[str]:
    return [line.split()[-5] for line in person.ok("stack", "list").splitlines()[1:]]


def _active(person: Person) -> str:
    return person.ok("stack", "get").strip().split("'")[1]


def test_two_repositories_share_stacks_and_keep_their_own_active_stack(ana: Person, bob: Person, url: str) -> None:
    ana.ok("init")
    ana.ok("stack", "copy", "default", "solo")
    ana.ok("stack", "set", "solo")
    out = ana.ok("registry", "connect", url, "--passwd-env", "TEAM_PASSWORD")
    assert f"connected to the shared registry {url}: 1 stack(s), 4 component(s)" in out
    assert "created the registry's tables" in out
    assert "your active stack 'solo' is not in the shared registry, so the active stack is now 'default'" in out
    ana.ok("artifacts", "register", "team-art", "--path", "/tmp/team-art")
    ana.ok("stack", "register", "prod", "-m", "default", "-a", "team-art", "-o", "default", "--set")
    bob.ok("registry", "connect", url, "--passwd-env", "TEAM_PASSWORD")
    assert _stacks(bob) == ["default", "prod"]
    described = bob.ok("stack", "describe", "prod")
    assert re.match(r"stack 'prod', changed \d\d:\d\d by ana@laptop\n", described)
    assert "artifact store: team-art" in described
    assert _active(ana) == "prod" and _active(bob) == "default"  # each keeps their own
    bob.ok("stack", "set", "prod")
    bob.ok("stack", "update", "prod", "-a", "default")
    assert "artifact store: default" in ana.ok("stack", "describe", "prod")
    assert re.search(r"changed \d\d:\d\d by bob@laptop", ana.ok("stack", "describe", "prod"))
    show = ana.ok("registry", "show")
    assert "shared" in show and url in show and "reachable" in show and "(env $TEAM_PASSWORD)" in show
    # disconnecting brings back ana's own registry and active stack; the shared one is untouched for bob
    assert "disconnected" in ana.ok("registry", "disconnect")
    assert _stacks(ana) == ["default", "solo"] and _active(ana) == "solo"
    assert _stacks(bob) == ["default", "prod"]


def test_a_command_that_only_reads_needs_no_engine(ana: Person, url: str) -> None:
    """`stack list` in a terminal reads the shared registry with the driver alone: SQLAlchemy is
    not imported (its import and engine cost more than the read; see registry.snapshot)."""
    ana.ok("registry", "connect", url, "--passwd-env", "TEAM_PASSWORD")
    ana.ok("stack", "register", "prod", "-m", "default", "-a", "default", "-o", "default")
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "zenml_notebook", "stack", "list"], cwd=ana.root, env=ana.env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and [line.split()[-5] for line in r.stdout.splitlines()[1:]] == ["default", "prod"], r.stdout + r.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert "sqlalchemy" not in imported and "zenml_notebook.registry.snapshot" in imported
    assert "stack 'prod'" in ana.ok("stack", "describe", "prod")


def test_secrets_stay_with_each_person(ana: Person, bob: Person, url: str, account: MySQLAccount, team_db: TeamDB) -> None:
    for p in (ana, bob):
        p.ok("registry", "connect", url, "--passwd-env", "TEAM_PASSWORD")
    ana.ok("metadata", "register", "team-meta", *team_db.metadata_flags(account, f"{account.database}_m"), input=account.password + "\n")
    r = bob.run("metadata", "test", "team-meta")
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1] == (
        "zenml-notebook: error: metadata store 'team-meta' needs a password on this machine: "
        "`%zenml metadata update team-meta --passwd`"
    )
    bob.ok("metadata", "update", "team-meta", "--passwd", input=account.password + "\n")
    assert f"OK - {team_db.product}" in bob.ok("metadata", "test", "team-meta")
    assert f"OK - {team_db.product}" in ana.ok("metadata", "test", "team-meta")  # bob's password did not replace ana's reference
    assert re.search(r"changed\s+\d\d:\d\d by ana@laptop", bob.ok("metadata", "describe", "team-meta"))
    for p in (ana, bob):  # no password anywhere in the repositories
        for f in (p.root / ".zenml").rglob("*"):
            if f.is_file():
                assert account.password.encode() not in f.read_bytes(), f


def test_a_change_from_an_old_read_is_refused_and_nothing_half_applied(
    ana: Person, bob: Person, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zenml_notebook import api
    from zenml_notebook.exceptions import ConflictError

    ana.ok("registry", "connect", url, "--passwd-env", "TEAM_PASSWORD")
    bob.ok("registry", "connect", url, "--passwd-env", "TEAM_PASSWORD")
    ana.ok("artifacts", "register", "shared-art", "--path", "/tmp/a1")
    for key, value in ana.env.items():  # this process is ana's kernel
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(ana.root)
    seen, _ = api.get_component("artifact_store", "shared-art")
    seen_stack = api.get_stack_record("default")
    bob.ok("artifacts", "update", "shared-art", "--path", "/tmp/b1")
    bob.ok("stack", "update", "default", "-a", "shared-art")
    with pytest.raises(ConflictError, match=r"^artifact store 'shared-art' was changed by bob@laptop at \d\d:\d\d since you read it; "
                                            r"run the command again to apply it on top$"):
        api.update_component("artifact_store", "shared-art", {"path": "/tmp/a2"}, expected_version=seen.version)
    with pytest.raises(ConflictError, match=r"^stack 'default' was changed by bob@laptop"):
        api.update_stack("default", artifact_store="default", expected_version=seen_stack.version)
    now, _ = api.get_component("artifact_store", "shared-art")
    assert now.config["path"] == "/tmp/b1" and now.updated_by == "bob@laptop"
    assert api.get_stack_record("default").components["artifact_store"] == "shared-art"
    # applied on top of a fresh read, it goes through
    api.update_component("artifact_store", "shared-art", {"path": "/tmp/a2"}, expected_version=now.version)
    assert "/tmp/a2" in bob.ok("artifacts", "describe", "shared-art")


def test_copy_to_moves_everything_refuses_clashes_and_saves_no_password(
    ana: Person, bob: Person, url: str, account: MySQLAccount, team_db: TeamDB
) -> None:
    ana.ok("artifacts", "register", "mine", "--path", "/tmp/mine")
    ana.ok("orchestrator", "register", "dask2", "--flavor", "dask", "--n-workers", "2")
    ana.ok("metadata", "register", "db", *team_db.metadata_flags(account, f"{account.database}_m"), input=account.password + "\n")
    ana.ok("stack", "register", "exp", "-m", "db", "-a", "mine", "-o", "dask2")
    out = ana.ok("registry", "copy-to", url, "--passwd-env", "TEAM_PASSWORD")
    assert "copied 9 to" in out and "stack 'exp'" in out and "`%zenml metadata update db --passwd`" in out
    bob.ok("registry", "connect", url, "--passwd-env", "TEAM_PASSWORD")
    assert _stacks(bob) == ["default", "exp"]
    assert "orchestrator: dask2" in bob.ok("stack", "describe", "exp")
    again = ana.ok("registry", "copy-to", url, "--passwd-env", "TEAM_PASSWORD")
    assert "copied 0" in again and "already there, identical" in again
    bob.ok("artifacts", "update", "mine", "--path", "/tmp/theirs")
    bob.ok("stack", "update", "exp", "-a", "default")
    ana.ok("orchestrator", "register", "extra", "--flavor", "local")
    r = ana.run("registry", "copy-to", url, "--passwd-env", "TEAM_PASSWORD")
    assert r.returncode == 2
    assert re.fullmatch(
        rf"zenml-notebook: error: {re.escape(url)} already has artifact store 'mine', stack 'exp' with other settings; "
        r"nothing was copied: .*", r.stderr.strip(),
    ), r.stderr
    assert "extra" not in bob.ok("orchestrator", "list")  # all or nothing
    for f in (ana.root / ".zenml").rglob("*"):
        if f.is_file():
            assert account.password.encode() not in f.read_bytes(), f


def _pymysql(account: MySQLAccount):  # type: ignore[no-untyped-def]
    import pymysql

    conn = pymysql.connect(host=account.host, port=account.port, user=account.user, password=account.password, autocommit=True)
    conn.cursor().execute(f"CREATE DATABASE IF NOT EXISTS `{account.database}`")
    conn.select_db(account.database)
    return conn


@pytest.mark.parametrize("team_db", ["mariadb"], indirect=True)  # schema 1 existed on MySQL only
def test_an_older_schema_is_migrated_and_a_newer_one_refused(ana: Person, bob: Person, url: str, account: MySQLAccount) -> None:
    from zenml_notebook.registry.local import SCHEMA_1

    conn = _pymysql(account)  # a registry as schema 1 made it, with a stack in it
    with conn.cursor() as cur:
        for statement in SCHEMA_1.split(";"):
            if statement.strip():
                cur.execute(statement.replace("key TEXT PRIMARY KEY", "`key` VARCHAR(64) PRIMARY KEY")
                            .replace("INTEGER PRIMARY KEY", "INTEGER PRIMARY KEY AUTO_INCREMENT")
                            .replace("name TEXT NOT NULL UNIQUE", "name VARCHAR(64) NOT NULL UNIQUE")
                            .replace("kind TEXT NOT NULL,\n    name TEXT NOT NULL", "kind VARCHAR(32) NOT NULL,\n    name VARCHAR(64) NOT NULL"))
        cur.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        for i, kind in enumerate(("metadata_store", "artifact_store", "orchestrator"), 1):
            config = '{"uri": ".zenml/metadata.db"}' if i == 1 else '{"path": "old"}' if i == 2 else "{}"
            flavor = "sqlite" if i == 1 else "local"
            cur.execute("INSERT INTO components VALUES (%s, %s, 'old', %s, %s, 't', 't')", (i, kind, flavor, config))
        cur.execute("INSERT INTO stacks VALUES (1, 'old', 1, 2, 3, 't', 't')")
    out = ana.ok("registry", "connect", url, "--passwd-env", "TEAM_PASSWORD")
    assert f"migrated {url} from schema 1 to 3" in out
    assert "old" in _stacks(ana)
    described = ana.ok("stack", "describe", "old")
    assert "artifact store: old" in described and "path    old" in described
    with conn.cursor() as cur:
        cur.execute("UPDATE meta SET value = '99' WHERE `key` = 'schema_version'")
    r = ana.run("stack", "list")
    assert r.returncode == 2 and "has schema 99, written by a newer zenml-notebook; this one reads schema 3: upgrade with " \
        "`pip install -U zenml-notebook`" in r.stderr
    r = bob.run("registry", "connect", url, "--passwd-env", "TEAM_PASSWORD")
    assert r.returncode == 2 and "has schema 99" in r.stderr and "reads schema 3" in r.stderr
    assert "registry" in bob.ok("registry", "show") and "local" in bob.ok("registry", "show")  # nothing was saved


def test_a_stopped_server_is_one_line_within_the_timeout_and_reads_show_the_stale_copy(
    ana: Person, url: str, team_db: TeamDB
) -> None:
    ana.ok("registry", "connect", url, "--passwd-env", "TEAM_PASSWORD", "--connect-timeout", "2")
    ana.ok("stack", "register", "prod", "-m", "default", "-a", "default", "-o", "default")
    assert _stacks(ana) == ["default", "prod"]  # read once: the copy is saved
    where = f"{team_db.host}:{team_db.port}"
    said = (f"{where} accepted the connection but gave no MySQL answer within 2 s (the server is stopped or overloaded, or it is "
            "not a MySQL server); check the URL's port, or raise --connect-timeout") if team_db.kind == "mariadb" else (
            f"no PostgreSQL answer from {where} within 2 s (the server is stopped or overloaded, or a firewall drops the traffic); "
            "check the URL's host and port, or raise --connect-timeout")
    team_db.server.pause()
    try:
        started = time.monotonic()
        r = ana.run("stack", "register", "more", "-m", "default", "-a", "default", "-o", "default")
        took = time.monotonic() - started
        assert r.returncode == 2 and took < 2 + 1 + 0.6, took  # + the interpreter's start
        assert r.stderr.strip() == f"zenml-notebook: error: shared registry {url}: {said}"
        r = ana.run("stack", "list")
        assert r.returncode == 0 and [line.split()[-5] for line in r.stdout.splitlines()[1:]] == ["default", "prod"]
        assert re.fullmatch(rf"warning: shared registry {re.escape(url)}: {re.escape(said)}; showing this repository's copy of it "
                            r"from \d\d:\d\d, which may be stale", r.stderr.strip()), r.stderr
        assert "Traceback" not in r.stderr
    finally:
        team_db.server.resume()
    assert _stacks(ana) == ["default", "prod"]


@pytest.mark.parametrize(("given", "says"), [
    ("mysql://team:pw@127.0.0.1/db", "holds a password, which would be saved in .zenml/"),
    ("postgresql://team:pw@127.0.0.1/db", "holds a password, which would be saved in .zenml/"),
    ("sqlite://team@127.0.0.1/db", "scheme 'sqlite' is not supported (MySQL/MariaDB and PostgreSQL are)"),
    ("postgresql://team@127.0.0.1/template1", "names the server's own system schema 'template1'"),
    ("mysql://127.0.0.1/db", "needs a user and a host"),
    ("mysql://team@127.0.0.1/", "needs a database name"),
    ("mysql://team@127.0.0.1/db;drop", "needs a database name"),
    ("mysql://team@127.0.0.1:99999/db", "is not a registry URL"),
    ("<b>x</b>", "is not a registry URL"),
])
def test_bad_urls_are_one_line(ana: Person, given: str, says: str) -> None:
    ana.ok("init")
    r = ana.run("registry", "connect", given)
    assert r.returncode == 2 and says in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "pw" not in r.stderr.replace("passwd", "")


@pytest.fixture
def jp_server_config(jp_server_config):  # type: ignore[no-untyped-def]
    return {"ServerApp": {"jpserver_extensions": {"zenml_notebook.server": True}, "allow_unauthenticated_access": False}}


async def _stacks_over_http(jp_fetch) -> tuple[int, dict, float]:  # type: ignore[no-untyped-def]
    import json

    started = time.monotonic()
    response = await jp_fetch("zenml-notebook", "stacks", method="GET", request_timeout=30)
    return response.code, json.loads(response.body), time.monotonic() - started


async def test_the_sidebar_is_told_where_the_registry_lives_and_falls_back_to_the_stale_copy(
    jp_fetch, jp_root_dir: Path, workdir: Path, url: str, account: MySQLAccount, team_db: TeamDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zenml_notebook import api

    monkeypatch.setenv("TEAM_PASSWORD", account.password)
    monkeypatch.setenv("ZENML_NOTEBOOK_USER", "ana@laptop")
    monkeypatch.chdir(jp_root_dir)
    api.connect_registry(url, password={"$env": "TEAM_PASSWORD"}, connect_timeout=2)
    api.register_stack("prod", "default", "default", "default")
    code, body, _ = await _stacks_over_http(jp_fetch)
    assert code == 200 and body["registry"] == {"kind": "shared", "url": url, "stale": False}
    prod = next(s for s in body["stacks"] if s["name"] == "prod")
    assert prod["changed_by"] == "ana@laptop" and prod["changed"].endswith("+00:00")
    assert account.password not in json.dumps(body)
    team_db.server.pause()
    try:
        code, body, took = await _stacks_over_http(jp_fetch)
        assert code == 200 and body["registry"]["stale"] is True, body
        assert [s["name"] for s in body["stacks"]] == ["default", "prod"]
        assert took < 2 + 1, took
        code, body, took = await _stacks_over_http(jp_fetch)  # the next poll does not wait again
        assert code == 200 and took < 0.5, took
    finally:
        team_db.server.resume()


def test_sixteen_writers_on_one_row_queue_without_false_conflicts(
    ana: Person, bob: Person, url: str, account: MySQLAccount, team_db: TeamDB
) -> None:
    """Two people's repositories, 16 processes at once, each pointing 'prod' at its own artifact
    store: every one goes through (writers queue), none is lost, and only a stale read is refused."""
    for p in (ana, bob):
        p.ok("registry", "connect", url, "--passwd-env", "TEAM_PASSWORD")
    for i in range(16):
        ana.ok("artifacts", "register", f"art{i}", "--path", f"/tmp/art{i}")
    ana.ok("stack", "register", "prod", "-m", "default", "-a", "default", "-o", "default")
    conn = team_db.sql(account)
    with conn.cursor() as cur:
        cur.execute("SELECT version FROM stacks WHERE name = 'prod'")
        (initial,) = cur.fetchone()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "zenml_notebook", "stack", "update", "prod", "-a", f"art{i}"],
            cwd=(ana if i % 2 else bob).root, env=(ana if i % 2 else bob).env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(16)
    ]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    assert [r for r in results if r[0] != 0] == []
    with conn.cursor() as cur:
        cur.execute("SELECT s.version, c.name FROM stacks s JOIN components c ON c.id = s.artifact_store WHERE s.name = 'prod'")
        version, art = cur.fetchone()
    assert version == initial + 16 and art in {f"art{i}" for i in range(16)}

    from zenml_notebook import api
    from zenml_notebook.exceptions import ConflictError

    old = os.environ.copy()
    os.environ.update(ana.env)
    cwd = os.getcwd()
    os.chdir(ana.root)
    try:
        with pytest.raises(ConflictError, match="since you read it"):
            api.update_stack("prod", artifact_store="default", expected_version=initial)
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(old)


def test_a_writer_held_up_by_another_says_so_within_its_lock_timeout(ana: Person, url: str, account: MySQLAccount, team_db: TeamDB) -> None:
    ana.ok("registry", "connect", url, "--passwd-env", "TEAM_PASSWORD", "--lock-timeout", "2")
    ana.ok("stack", "list")
    conn = team_db.sql(account, autocommit=False)
    with conn.cursor() as cur:  # a teammate's change in flight, holding the registry's lock
        cur.execute(f"SELECT value FROM meta WHERE {team_db.key} = 'generation' FOR UPDATE")
        started = time.monotonic()
        r = ana.run("stack", "register", "more", "-m", "default", "-a", "default", "-o", "default")
        took = time.monotonic() - started
    conn.rollback()
    assert r.returncode == 2 and 2 <= took < 2 + 3, took
    assert re.fullmatch(
        rf"zenml-notebook: error: another writer holds the shared registry {re.escape(url)}; waited [23] s for it; "
        r"try again \(or raise --lock-timeout\)", r.stderr.strip(),
    ), r.stderr
    assert "more" not in _stacks(ana)
    ana.ok("stack", "register", "more", "-m", "default", "-a", "default", "-o", "default")  # free again
