"""Metadata stores: a registered component becomes an :class:`MLMDStore`.

SQLite stores run in this process (a local file cannot hang on a network). MySQL stores run
in a worker process with a deadline on every call (:mod:`.worker`): ml-metadata blocks with
the GIL held on a silent server. There, every connect first passes a PyMySQL pre-flight
check (timeouts, classified errors) before ml-metadata is handed the connection.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...exceptions import StoreConnectionError
from ...secrets import ENV_OWNER, is_ref, resolve
from .records import ArtifactInfo, ArtifactSpec, EventInfo, ExecutionInfo, LineageInfo, RunInfo

if TYPE_CHECKING:
    from ...registry import ComponentRecord
    from ...repository import Repository
    from .mlmd import MLMDStore
    from .mysql_check import ServerCheck

__all__ = [
    "ArtifactInfo",
    "ArtifactSpec",
    "EventInfo",
    "ExecutionInfo",
    "LineageInfo",
    "RunInfo",
    "check_in_worker",
    "check_sqlite",
    "open_in_worker",
    "open_metadata_store",
    "open_mysql_here",
    "open_postgresql_here",
    "open_sqlite",
    "overlap_writes",
    "sqlite_writer",
    "verify_sqlite",
    "verify_unsaved",
]

_STORES: dict[str, MLMDStore] = {}
_WRITERS: dict[str, Any] = {}  # store key -> its writer process (a WorkerStore), see overlap_writes
OVERLAP_FROM = 50  # steps in a run from which a SQLite store records them in a writer process
WRITER_IDLE = 600.0  # seconds without a record after which that writer process ends (the next long run starts another)
_LOCK = threading.Lock()


def _label(record: ComponentRecord) -> str:
    return f"metadata store {record.name!r}"


def _password(record: ComponentRecord) -> str:
    ref = record.config.get("password")
    if isinstance(ref, dict) and is_ref(ref):
        update = f"metadata update {record.name} --passwd"
        return resolve(ref, f"the password of {_label(record)}", update=update,
                       missing=f"{_label(record)} needs a password on this machine: `%zenml {update}`")
    return ""


def check_in_worker(record: ComponentRecord, repo: Repository) -> tuple[str, float]:
    """`metadata test` of a MySQL store: the pre-flight, run in the store's worker (which
    resolves the password itself); (what answered, milliseconds) or a classified error."""
    store: Any = open_metadata_store(record, repo)  # a WorkerStore
    result = store._call("check")
    created = ", database created" if result.created_database else ""
    what = result.server_version if record.flavor == "postgresql" else f"MySQL server {result.server_version}"
    return f"{what}{created}", float(result.latency_ms)


def check_sqlite(record: ComponentRecord, repo: Repository) -> tuple[str, float]:
    """`metadata test` of a SQLite store: open it and run a trivial query."""
    return f"ml-metadata on SQLite {sqlite_path(record, repo)}", open_metadata_store(record, repo).ping()


def verify_sqlite(record: ComponentRecord, repo: Repository, secrets: dict[str, str]) -> None:
    """Before a SQLite store is saved: its file can be there (nothing is created now): the path is
    not a folder, and its nearest existing parent is a folder, not a file (``/proc/version/x.db``)."""
    from ...exceptions import UsageError

    path = Path(sqlite_path(record, repo))
    if path.is_dir():
        raise UsageError(f"{_label(record)}: {path} is a folder; give --uri a file name inside it, such as {path / 'metadata.db'}")
    if path.exists() and not path.is_file():
        raise UsageError(f"{_label(record)}: {path} is not a regular file; give --uri a path for a SQLite file")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise UsageError(f"{_label(record)}: {path} cannot be created: {parent} is a file, not a folder; give --uri another path")


def verify_unsaved(record: ComponentRecord, repo: Repository, secrets: dict[str, str]) -> None:
    """Before a MySQL or PostgreSQL store is saved: the pre-flight with the password just typed (if any)."""
    preflight(record, password=secrets.get("password"))


def preflight(record: ComponentRecord, password: str | None = None) -> ServerCheck:
    """The server's pre-flight for a MySQL or PostgreSQL store (classified errors)."""
    return postgresql_preflight(record, password) if record.flavor == "postgresql" else mysql_preflight(record, password)


def postgresql_preflight(record: ComponentRecord, password: str | None = None) -> ServerCheck:
    from .pg_check import check_postgresql

    c = record.config
    try:
        return check_postgresql(c["host"], int(c.get("port", 5432)), c["username"], _password(record) if password is None else password,
                                c["database"], timeout=float(c.get("connect_timeout", 5.0)), sslmode=c.get("sslmode"), ssl_ca=c.get("ssl_ca"))
    except StoreConnectionError as exc:
        raise type(exc)(f"{_label(record)}: {exc}") from None


def mysql_preflight(record: ComponentRecord, password: str | None = None) -> ServerCheck:
    from .mysql_check import check_mysql

    c = record.config
    try:
        return check_mysql(
            c["host"], int(c.get("port", 3306)), c["username"], _password(record) if password is None else password,
            c["database"], timeout=float(c.get("connect_timeout", 5.0)), ssl_ca=c.get("ssl_ca"),
        )
    except StoreConnectionError as exc:
        raise type(exc)(f"{_label(record)}: {exc}") from None


@contextmanager
def _file_lock(path: Path) -> Iterator[object]:
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield None
    finally:
        os.close(fd)


@contextmanager
def _mysql_lock(record: ComponentRecord) -> Iterator[object]:
    """A server-side named lock (GET_LOCK) held while ml-metadata creates its schema."""
    import pymysql

    c = record.config
    timeout = float(c.get("connect_timeout", 5.0))
    try:
        conn = pymysql.connect(
            host=c["host"], port=int(c.get("port", 3306)), user=c["username"], password=_password(record),
            connect_timeout=timeout, read_timeout=float(c.get("query_timeout") or 30.0), ssl={"ca": c["ssl_ca"]} if c.get("ssl_ca") else None,
        )
    except pymysql.err.Error as exc:  # it answered the pre-flight a moment ago: say what it says now
        from .mysql_check import classify

        raise classify(exc, record, timeout, _label(record)) from None
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT GET_LOCK(%s, 60)", (f"zenml_notebook.init.{c['database']}",))
        yield None
    finally:
        conn.close()  # releases the lock


def sqlite_path(record: ComponentRecord, repo: Repository) -> str:
    return str(repo.resolve_path(str(record.config.get("uri", ".zenml/metadata.db"))))


def store_key(record: ComponentRecord, repo: Repository) -> str:
    """What one cached store (and one worker) stands for. The worker resolves secrets in the
    environment of whoever asks (a kernel, or the Jupyter server), so that is part of it."""
    return json.dumps([record.kind, record.name, record.flavor, record.config, str(repo.root), ENV_OWNER.get()], sort_keys=True)


def open_metadata_store(record: ComponentRecord, repo: Repository) -> MLMDStore:
    """The store of a component, cached per process and settings; how it is opened is the
    flavor's (the flavor table's "open"): in this process for SQLite, behind a worker process
    with deadlines for MySQL."""
    from ...flavors import DAMAGE, behaviour, check_stored

    key = store_key(record, repo)
    with _LOCK:
        if key in _STORES:
            return _STORES[key]
    try:
        store = behaviour("metadata_store", record.flavor, "open")(record, repo)
    except DAMAGE:
        check_stored(record)  # names the damaged setting; a sound one re-raises below
        raise
    with _LOCK:
        return _STORES.setdefault(key, store)


def open_in_worker(record: ComponentRecord, repo: Repository) -> Any:
    """A MySQL store: ml-metadata in a worker process, every call with a deadline."""
    from .worker import WorkerStore

    c = record.config
    kind, port = ("PostgreSQL", 5432) if record.flavor == "postgresql" else ("MySQL", 3306)
    return WorkerStore(
        record, repo, query_timeout=float(c.get("query_timeout") or 30.0), connect_timeout=float(c.get("connect_timeout", 5.0)),
        where=f"the {kind} server at {c['host']}:{c.get('port', port)}",
    )


def open_sqlite(record: ComponentRecord, repo: Repository) -> MLMDStore:
    """A SQLite store, in this process (a local file cannot go silent on a network)."""
    from .mlmd import MLMDStore, sqlite_config

    path = sqlite_path(record, repo)
    lock = Path(path + ".lock")

    def make() -> Any:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with _file_lock(lock):  # another process creating this store is never seen half-made
            _refuse_empty(record, Path(path))
            _use_wal(path)
        return sqlite_config(path)

    def read_only() -> Any:  # reading keeps working on a read-only or full disk
        if not Path(path).is_file():
            raise FileNotFoundError(path)
        _refuse_empty(record, Path(path))
        return sqlite_config(path, read_only=True)

    key = store_key(record, repo)
    return MLMDStore(make, _label(record), lambda: _file_lock(lock), Path(path).parent, Path(path), read_only=read_only,
                     writer=lambda: _WRITERS.get(key), keyed_executions=True)


def overlap_writes(record: ComponentRecord, repo: Repository, steps: int) -> None:
    """A run of ``steps`` steps is about to record them one by one in this process. From
    OVERLAP_FROM steps on, a store that can (the flavor table's "writer": SQLite) starts a
    writer process now, once per process and store, which opens the store while this process
    opens its own and runs the first steps; once it is up, the store's ``record_step_later``
    hands it each record. ml-metadata holds the GIL through a whole write, fsync included, so
    only another process can write step N while this one runs step N + 1. Shorter runs would
    not win back its start (~0.3 s of the other core); they record here, as do all runs when
    no writer can be made. Called before the store is opened: its import alone takes 0.1 s."""
    from ...flavors import behaviour

    if steps < OVERLAP_FROM:
        return
    make = behaviour("metadata_store", record.flavor, "writer")
    if make is None:
        return
    key = store_key(record, repo)
    with _LOCK:
        writer = _WRITERS.get(key) or _WRITERS.setdefault(key, make(record, repo))
    writer.start_soon()


def sqlite_writer(record: ComponentRecord, repo: Repository) -> Any:
    """The writer process of a SQLite store: the same file, written while this process runs the next step."""
    from .worker import WorkerStore

    return WorkerStore(record, repo, query_timeout=120.0, connect_timeout=0.0, idle_exit=WRITER_IDLE,
                       where=f"the SQLite file {sqlite_path(record, repo)} (its writer process)",
                       hint="the disk may be failing or overloaded; check it, then run the pipeline again")


def _refuse_empty(record: ComponentRecord, path: Path) -> None:
    """An existing but empty store file held this repository's runs until something emptied it
    (a full disk, a bad copy): say so, never start an empty store over it."""
    try:
        empty = path.stat().st_size == 0
    except OSError:
        return
    if empty:
        raise StoreConnectionError(
            f"{_label(record)}: {path} is empty (0 bytes): it held this repository's runs; restore it from a "
            "backup, or move it away to start afresh"
        )


# A step's record touches ~60 pages (a dozen tables and their indexes), each written whole to the
# WAL and checksummed at every commit: with 1 KiB pages instead of SQLite's 4 KiB a step writes a
# quarter of the bytes and its record costs 25 % less; reads are within 6 % (benchmarks/RESULTS.md)
PAGE_SIZE = 1024


def _use_wal(path: str) -> None:
    """Put the SQLite file in WAL mode before ml-metadata opens it (a property of the file, so
    ml-metadata's own connections use it): one fsync per commit instead of a rollback journal's
    four, readers never wait for a writer. Durability is unchanged (synchronous stays FULL).
    A new file also gets PAGE_SIZE pages (an existing store keeps its own).
    Best effort: on a read-only or full disk ml-metadata's own open says what is wrong.

    A file already in WAL mode is recognised from its header, without opening it: ml-metadata
    links its own copy of SQLite, and closing a connection of Python's copy on the same file
    drops the POSIX locks of ml-metadata's connections in this process (SQLite's "two copies in
    one process" hazard) - their next read can fail with "database disk image is malformed"."""
    import sqlite3

    try:
        with open(path, "rb") as fh:
            header = fh.read(20)
        if len(header) == 20 and header[:16] == b"SQLite format 3\x00" and header[18] == 2:  # 2: WAL
            return
    except OSError:
        pass  # new: created below
    try:
        with closing(sqlite3.connect(path, timeout=30)) as conn:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute(f"PRAGMA page_size={PAGE_SIZE}")  # takes only on a new, empty file
                conn.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error:
        pass


@contextmanager
def _postgresql_lock(record: ComponentRecord) -> Iterator[object]:
    """A server-side advisory lock held while ml-metadata creates its schema."""
    from .pg_check import _connect, classify

    c = record.config
    host, port, timeout = c["host"], int(c.get("port", 5432)), float(c.get("connect_timeout", 5.0))
    try:
        conn = _connect(host, port, c["username"], _password(record), c["database"], timeout, c.get("sslmode"), c.get("ssl_ca"))
    except Exception as exc:  # psycopg's: it answered the pre-flight a moment ago, say what it says now
        raise classify(exc, host, port, c["username"], c["database"], timeout) from None
    try:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"zenml_notebook.init.{c['database']}",))
        yield None
    finally:
        conn.close()  # releases the lock


def open_postgresql_here(record: ComponentRecord, repo: Repository) -> MLMDStore:
    """A PostgreSQL store in *this* process: what the worker serves (never call it elsewhere)."""
    from .mlmd import MLMDStore, postgresql_config

    c: dict[str, Any] = record.config

    def make() -> Any:  # every (re)connect: a classified answer before ml-metadata tries
        postgresql_preflight(record)
        return postgresql_config(c["host"], int(c.get("port", 5432)), c["username"], _password(record), c["database"],
                                 c.get("sslmode"), c.get("ssl_ca"))

    return MLMDStore(make, _label(record), lambda: _postgresql_lock(record))


def open_mysql_here(record: ComponentRecord, repo: Repository) -> MLMDStore:
    """A MySQL store in *this* process: what the worker serves (never call it elsewhere)."""
    from .mlmd import MLMDStore, mysql_config

    c: dict[str, Any] = record.config

    def make() -> Any:  # every (re)connect: a classified answer before ml-metadata tries
        mysql_preflight(record)
        return mysql_config(c["host"], int(c.get("port", 3306)), c["username"], _password(record), c["database"], c.get("ssl_ca"))

    return MLMDStore(make, _label(record), lambda: _mysql_lock(record))
