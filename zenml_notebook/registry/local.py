"""The local registry backend: ``.zenml/zenml.db`` through the standard library's ``sqlite3``.

Not SQLAlchemy: importing it alone costs ~240 ms on our reference machine, the whole budget of
a cold ``zenml-notebook stack list`` (see benchmarks/). Every change is one ``BEGIN IMMEDIATE``
transaction, so concurrent kernels and CLI processes queue for the write lock (WAL mode, 60 s
busy timeout) instead of failing with "database is locked", and nothing is ever half-applied.
An older schema is migrated the first time this version opens the file.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from ..disk import disk_problem
from ..exceptions import AlreadyExistsError, RegistryError
from ..kinds import OPTIONAL_DEFAULT, TABLE
from .records import (
    KINDS,
    SCHEMA_VERSION,
    ComponentRecord,
    StackRecord,
    changed_since,
    component_from_row,
    cut,
    identity,
    now,
    stack_from_row,
)

__all__ = ["Registry", "Session"]

_BUSY_TIMEOUT_S = 60.0

# one column per component kind (kinds.py): a stack names one component of each
def _schema(kinds: tuple[str, ...]) -> str:
    columns = "".join(f"    {kind} INTEGER NOT NULL REFERENCES components(id),\n" for kind in kinds)
    return """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS components (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    flavor TEXT NOT NULL,
    config TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_by TEXT NOT NULL DEFAULT '',
    UNIQUE (kind, name)
);
CREATE TABLE IF NOT EXISTS stacks (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
{kinds}    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_by TEXT NOT NULL DEFAULT ''
);
""".replace("{kinds}", columns)


_SCHEMA = _schema(KINDS)
_FIRST_KINDS = ("metadata_store", "artifact_store", "orchestrator")  # the kinds of schemas 1 and 2


def _add_kind(kind: str) -> tuple[str, ...]:
    """A new optional kind: its column (SQLite adds a REFERENCES column only nullable) and, for
    every existing stack, the kind's default component (kinds.TABLE), made if missing."""
    spec = next(k for k in TABLE if k.name == kind)
    config = json.dumps(dict(spec.default_config)).replace("'", "''")
    return (
        f"ALTER TABLE stacks ADD COLUMN {kind} INTEGER REFERENCES components(id)",
        "INSERT INTO components (kind, name, flavor, config, created, updated, version, updated_by) "  # noqa: S608 - the kinds table's words
        f"SELECT '{kind}', '{OPTIONAL_DEFAULT}', '{spec.default_flavor}', '{config}', "
        "strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), 1, 'schema upgrade' "
        f"WHERE NOT EXISTS (SELECT 1 FROM components WHERE kind = '{kind}' AND name = '{OPTIONAL_DEFAULT}')",
        f"UPDATE stacks SET {kind} = (SELECT id FROM components WHERE kind = '{kind}' AND name = '{OPTIONAL_DEFAULT}') WHERE {kind} IS NULL",  # noqa: S608
    )


# The statements that take schema N to N+1, applied in order inside one transaction.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: tuple(
        f"ALTER TABLE {table} ADD COLUMN {column}"
        for table in ("components", "stacks")
        for column in ("version INTEGER NOT NULL DEFAULT 1", "updated_by TEXT NOT NULL DEFAULT ''")
    ),
    2: _add_kind("experiment_tracker"),
}
# the tables as schemas 1 and 2 made them (tests build an old registry with them)
SCHEMA_2 = _schema(_FIRST_KINDS)
SCHEMA_1 = SCHEMA_2.replace("    version INTEGER NOT NULL DEFAULT 1,\n    updated_by TEXT NOT NULL DEFAULT '',\n", "").replace(
    ",\n    version INTEGER NOT NULL DEFAULT 1,\n    updated_by TEXT NOT NULL DEFAULT ''\n", "\n"
)

SHARED_KEY = "shared_registry"  # meta: the shared registry this repository is connected to (JSON)


class Session:
    """Queries and changes inside one transaction (see :meth:`Registry.read`/``write``)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path

    # -- meta -------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def delete_meta(self, key: str) -> None:
        self._conn.execute("DELETE FROM meta WHERE key = ?", (key,))

    def set_meta(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- components -------------------------------------------------------
    def _component(self, row: Sequence[Any]) -> ComponentRecord:
        return component_from_row(f"registry {self._path}", row, "restore .zenml/zenml.db from a backup")

    def list_components(self, kind: str | None = None) -> list[ComponentRecord]:
        sql = "SELECT kind, name, flavor, config, created, updated, version, updated_by FROM components"
        if kind is None:
            rows = self._conn.execute(sql + " ORDER BY kind, name").fetchall()
        else:
            rows = self._conn.execute(sql + " WHERE kind = ? ORDER BY name", (kind,)).fetchall()
        return [self._component(r) for r in rows]

    def get_component(self, kind: str, name: str) -> ComponentRecord | None:
        row = self._conn.execute(
            "SELECT kind, name, flavor, config, created, updated, version, updated_by FROM components "
            "WHERE kind = ? AND name = ?",
            (kind, name),
        ).fetchone()
        return None if row is None else self._component(row)

    def add_component(self, kind: str, name: str, flavor: str, config: dict[str, Any]) -> None:
        stamp = now()
        self._insert(
            f"{kind} {name!r}",
            "INSERT INTO components (kind, name, flavor, config, created, updated, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (kind, name, flavor, json.dumps(config, sort_keys=True), stamp, stamp, identity()),
        )

    def _insert(self, what: str, sql: str, params: tuple[Any, ...]) -> None:
        try:
            self._conn.execute("SAVEPOINT insert_row")
            self._conn.execute(sql, params)
            self._conn.execute("RELEASE insert_row")
        except sqlite3.IntegrityError:
            self._conn.execute("ROLLBACK TO insert_row")
            self._conn.execute("RELEASE insert_row")
            raise AlreadyExistsError(f"{what} already exists in registry {self._path}; pick another name") from None

    def update_component(
        self, kind: str, name: str, flavor: str, config: dict[str, Any], *, expected_version: int | None = None
    ) -> None:
        sql = (
            "UPDATE components SET flavor = ?, config = ?, updated = ?, updated_by = ?, version = version + 1 "
            "WHERE kind = ? AND name = ?"
        )
        params: tuple[Any, ...] = (flavor, json.dumps(config, sort_keys=True), now(), identity(), kind, name)
        if expected_version is not None:
            sql, params = sql + " AND version = ?", (*params, expected_version)
        if self._conn.execute(sql, params).rowcount == 0 and expected_version is not None:
            from ..kinds import KIND_LABELS

            raise changed_since(f"{KIND_LABELS[kind]} {name!r}", self.get_component(kind, name))

    def delete_component(self, kind: str, name: str) -> None:
        self._conn.execute("DELETE FROM components WHERE kind = ? AND name = ?", (kind, name))

    def stacks_using(self, kind: str, name: str) -> list[str]:
        assert kind in KINDS
        rows = self._conn.execute(
            f"SELECT s.name FROM stacks s JOIN components c ON s.{kind} = c.id "  # noqa: S608
            "WHERE c.kind = ? AND c.name = ? ORDER BY s.name",
            (kind, name),
        ).fetchall()
        return [str(r[0]) for r in rows]

    # -- stacks -----------------------------------------------------------
    # LEFT JOINs: a stack whose component id dangles (a hand-edited or damaged registry) is
    # still listed, with "" for that part, and whoever uses it says which field is broken
    _STACK_SQL = (
        "SELECT s.name, " + ", ".join(f"k{i}.name" for i in range(len(KINDS))) + ", s.created, s.updated, s.version, s.updated_by FROM stacks s "  # noqa: S608
        + " ".join(f"LEFT JOIN components k{i} ON s.{kind} = k{i}.id" for i, kind in enumerate(KINDS))
    )

    _stack = staticmethod(stack_from_row)

    def list_stacks(self) -> list[StackRecord]:
        rows = self._conn.execute(self._STACK_SQL + " ORDER BY s.name").fetchall()
        return [self._stack(r) for r in rows]

    def get_stack(self, name: str) -> StackRecord | None:
        row = self._conn.execute(self._STACK_SQL + " WHERE s.name = ?", (name,)).fetchone()
        return None if row is None else self._stack(row)

    def _component_ids(self, components: dict[str, str]) -> list[int]:
        ids = []
        for kind in KINDS:
            row = self._conn.execute(
                "SELECT id FROM components WHERE kind = ? AND name = ?", (kind, components[kind])
            ).fetchone()
            if row is None:  # callers check first; this guards the invariant
                raise RegistryError(f"{kind} {components[kind]!r} vanished from the registry")
            ids.append(int(row[0]))
        return ids

    def add_stack(self, name: str, components: dict[str, str]) -> None:
        stamp = now()
        self._insert(
            f"stack {name!r}",
            f"INSERT INTO stacks (name, {', '.join(KINDS)}, created, updated, updated_by) "  # noqa: S608 - the kinds table's names
            f"VALUES (?, {', '.join('?' for _ in KINDS)}, ?, ?, ?)",
            (name, *self._component_ids(components), stamp, stamp, identity()),
        )

    def update_stack(self, name: str, components: dict[str, str], *, expected_version: int | None = None) -> None:
        sql = (
            "UPDATE stacks SET " + "".join(f"{kind} = ?, " for kind in KINDS)  # noqa: S608 - the kinds table's names
            + "updated = ?, updated_by = ?, version = version + 1 WHERE name = ?"
        )
        params: tuple[Any, ...] = (*self._component_ids(components), now(), identity(), name)
        if expected_version is not None:
            sql, params = sql + " AND version = ?", (*params, expected_version)
        if self._conn.execute(sql, params).rowcount == 0 and expected_version is not None:
            raise changed_since(f"stack {name!r}", self.get_stack(name))

    def rename_stack(self, old: str, new: str) -> None:
        self._conn.execute(
            "UPDATE stacks SET name = ?, updated = ?, updated_by = ?, version = version + 1 WHERE name = ?",
            (new, now(), identity(), old),
        )
        if self.get_meta("active_stack") == old:
            self.set_meta("active_stack", new)

    def delete_stack(self, name: str) -> None:
        self._conn.execute("DELETE FROM stacks WHERE name = ?", (name,))

    def get_active(self) -> str | None:
        return self.get_meta("active_stack")

    def set_active(self, name: str) -> None:
        self.set_meta("active_stack", name)

    def generation(self) -> int:
        """A number every change increases (what "has anything changed?" asks)."""
        value = self.get_meta("generation")
        return int(value) if value and value.isdigit() else 0

    def bump(self) -> None:
        self.set_meta("generation", str(self.generation() + 1))

    def restore(self, components: list[ComponentRecord], stacks: list[StackRecord], generation: int) -> None:
        """Make this registry an exact copy of those rows (the local copy of a shared one)."""
        self._conn.execute("DELETE FROM stacks")
        self._conn.execute("DELETE FROM components")
        for c in components:
            self._conn.execute(
                "INSERT INTO components (kind, name, flavor, config, created, updated, version, updated_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (c.kind, c.name, c.flavor, json.dumps(c.config, sort_keys=True), c.created, c.updated, c.version, c.updated_by),
            )
        for st in stacks:
            self._conn.execute(
                f"INSERT INTO stacks (name, {', '.join(KINDS)}, created, updated, version, updated_by) "  # noqa: S608 - the kinds table's names
                f"VALUES (?, {', '.join('?' for _ in KINDS)}, ?, ?, ?, ?)",
                (st.name, *self._component_ids(st.components), st.created, st.updated, st.version, st.updated_by),
            )
        self.set_meta("generation", str(generation))


class Registry:
    """One SQLite registry file, with a cached connection per process."""

    _cache: ClassVar[dict[Path, Registry]] = {}
    _cache_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._inode: int | None = None
        self._degraded = False

    @classmethod
    def open(cls, path: Path) -> Registry:
        with cls._cache_lock:
            reg = cls._cache.get(path)
            if reg is None:
                reg = cls._cache[path] = Registry(path)
            return reg

    def _fail(self, exc: sqlite3.Error) -> RegistryError:
        reason = str(exc)
        disk = disk_problem(self.path.parent, exc)
        if disk is not None:
            return RegistryError(f"cannot write the registry {self.path}: {disk} (nothing was changed)")
        if isinstance(exc, sqlite3.OperationalError) and "readonly" in reason:
            return RegistryError(
                f"registry {self.path} is read-only ({reason}); "
                "make the .zenml folder writable or work from a copy of the repository"
            )
        if isinstance(exc, sqlite3.OperationalError) and "locked" in reason:
            return RegistryError(
                f"registry {self.path} stayed locked by another process for "
                f"{_BUSY_TIMEOUT_S:.0f} s; find the process that holds it and try again"
            )
        return RegistryError(
            f"registry {self.path} is not a usable database ({reason}); move it aside and "
            "run `zenml-notebook init` to create a new one, or restore it from a backup"
        )

    def _connection(self) -> sqlite3.Connection:
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            inode = None
        if self._conn is not None and inode == self._inode and inode is not None and not self._degraded:
            return self._conn
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        conn = None
        try:
            conn = sqlite3.connect(
                self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA foreign_keys = ON")
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # WAL reads need the -shm file
            self._degraded = False
            self._migrate(conn)
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            if inode is None or disk_problem(self.path.parent, exc) is None:
                raise self._fail(exc) from None
            # A full or read-only disk: reads still work on an immutable snapshot (not cached,
            # so the next call tries again); any write fails with the disk's explanation.
            try:
                conn = sqlite3.connect(
                    self.path.resolve().as_uri() + "?mode=ro&immutable=1",
                    uri=True, isolation_level=None, check_same_thread=False,
                )
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.Error:
                raise self._fail(exc) from None
            self._degraded = True
        self._conn = conn
        self._inode = os.stat(self.path).st_ino
        return conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[Session]:
        with self._lock:
            conn = self._connection()
            for attempt in range(5):
                try:
                    conn.execute(begin)
                    break
                except sqlite3.OperationalError as exc:
                    # busy_timeout already waited; a deadlock-avoidance SQLITE_BUSY
                    # can still surface on WAL upgrades, so retry with jitter.
                    if ("locked" not in str(exc) and "busy" not in str(exc)) or attempt == 4:
                        raise self._fail(exc) from None
                    time.sleep(random.uniform(0.01, 0.1) * (attempt + 1))  # noqa: S311 - jitter, not crypto
            try:
                yield Session(conn, self.path)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise self._fail(exc) from None

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A consistent snapshot for queries."""
        try:
            with self._transaction("BEGIN") as session:
                self._check_version(session)
                yield session
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One atomic change: everything inside commits together or not at all."""
        try:
            with self._transaction("BEGIN IMMEDIATE") as session:
                self._check_version(session)
                session.bump()
                yield session
        except sqlite3.Error as exc:
            raise self._fail(exc) from None

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Bring a registry written by an older version up to this one's schema (once per file)."""
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() if conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() else None
        if row is None or not str(row[0]).isdigit() or int(row[0]) >= SCHEMA_VERSION:
            return  # new, damaged (reported by _check_version) or current
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = int(conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
            while current < SCHEMA_VERSION:
                for statement in _MIGRATIONS[current]:
                    conn.execute(statement)
                current += 1
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(current),))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def connection(self) -> dict[str, Any] | None:
        """The shared registry this repository is connected to (its settings), or None."""
        with self.read() as session:
            value = session.get_meta(SHARED_KEY)
        if not value:
            return None
        try:
            settings = json.loads(value)
        except ValueError:
            settings = None
        if not isinstance(settings, dict) or not isinstance(settings.get("url"), str):
            raise RegistryError(
                f"registry {self.path}, table 'meta', row {SHARED_KEY!r} is damaged ({cut(value)}); "
                "run `zenml-notebook registry disconnect` and connect again"
            )
        return settings

    def set_connection(self, settings: dict[str, Any] | None) -> None:
        with self.write() as session:
            if settings is None:
                session.delete_meta(SHARED_KEY)
            else:
                session.set_meta(SHARED_KEY, json.dumps(settings, sort_keys=True))

    def describe(self) -> dict[str, Any]:
        return {"kind": "local", "url": str(self.path), "stale": False}

    def _check_version(self, session: Session) -> None:
        version = session.get_meta("schema_version")
        if version is None:
            raise RegistryError(
                f"registry {self.path} has no schema version; move it aside and run "
                "`zenml-notebook init` to create a new one"
            )
        if not version.isdigit():
            raise RegistryError(
                f"registry {self.path}, table 'meta', row 'schema_version': field 'value' is {cut(version)}, not a "
                "number; restore .zenml/zenml.db from a backup, or move it aside and run `zenml-notebook init`"
            )
        if int(version) > SCHEMA_VERSION:
            raise RegistryError(
                f"registry {self.path} was written by a newer zenml-notebook (schema "
                f"{version}, this one reads {SCHEMA_VERSION}); upgrade with "
                "`pip install -U zenml-notebook`"
            )

    def create_new(self, seed: Callable[[Session], None]) -> bool:
        """Create the registry file atomically; False when another process got there first.

        The schema and ``seed`` are written to a private temporary file that is then
        hard-linked into place, so no process ever sees a registry without its schema.
        """
        if self.path.exists():
            return self.create()
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            conn = sqlite3.connect(tmp, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("BEGIN IMMEDIATE")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                session = Session(conn, tmp)
                session.set_meta("schema_version", str(SCHEMA_VERSION))
                seed(session)
                conn.execute("COMMIT")
            finally:
                conn.close()
            try:
                os.link(tmp, self.path)
                return True
            except FileExistsError:
                return False
        except sqlite3.Error as exc:
            raise self._fail(exc) from None
        except OSError as exc:
            disk = disk_problem(self.path.parent, exc)
            raise RegistryError(
                f"cannot create the registry {self.path}: "
                + (f"{disk} (nothing was created)" if disk else f"{exc.strerror}; make the .zenml folder writable")
            ) from None
        finally:
            for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
                leftover.unlink(missing_ok=True)

    def create(self, seed: Callable[[Session], None] | None = None) -> bool:
        """Create or migrate the schema; True when the registry was new.

        ``seed`` fills a new registry inside the same transaction, so two
        processes initialising at once end with exactly one set of defaults.
        """
        with self._lock:
            try:
                conn = self._connection()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    session = Session(conn, self.path)
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    version = session.get_meta("schema_version")
                    if version is not None:
                        self._check_version(session)
                    current = int(version) if version is not None and version.isdigit() else SCHEMA_VERSION
                    while current < SCHEMA_VERSION:
                        for statement in _MIGRATIONS[current]:
                            conn.execute(statement)
                        current += 1
                    session.set_meta("schema_version", str(current))
                    if version is None and seed is not None:
                        seed(session)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise self._fail(exc) from None
            return version is None
