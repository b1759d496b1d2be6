"""The shared registry backend: a team's MySQL/MariaDB or PostgreSQL database through SQLAlchemy 2 Core.

The same contract as :mod:`.local`. Writers are serialised by a row lock on the registry's
``generation`` (taken first, like SQLite's ``BEGIN IMMEDIATE``), so a check-then-change is never
raced; rows carry optimistic versions for changes prepared from an earlier read (a form, a
``metadata update`` that checks its server first).

Never hangs: every round trip is bounded by the connection's ``connect_timeout`` (registry
queries are tiny; how, per database, is in :mod:`.dialects`), and a stale pooled connection is
replaced once only if it failed at once (a restarted server), never after a timeout.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from ..exceptions import (
    AlreadyExistsError,
    RegistryError,
    StoreUnavailableError,
    ZenMLError,
)
from .connection import Connection, check_schema, missing_tables
from .dialects import busy, dialect_of
from .records import (
    KINDS,
    SCHEMA_VERSION,
    ComponentRecord,
    StackRecord,
    changed_since,
    component_from_row,
    identity,
    now,
    stack_from_row,
)

__all__ = ["TABLES", "Connection", "SharedRegistry", "SharedSession"]

# -- the tables ----------------------------------------------------------------------------------
_MYSQL: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
_META = sa.MetaData()
TABLES = {
    "meta": sa.Table(
        "meta", _META, sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text, nullable=False), **_MYSQL
    ),
    "components": sa.Table(
        "components", _META,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("flavor", sa.String(64), nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("created", sa.String(40), nullable=False),
        sa.Column("updated", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("updated_by", sa.String(128), nullable=False, server_default=""),
        sa.UniqueConstraint("kind", "name"),
        **_MYSQL,
    ),
}
TABLES["stacks"] = sa.Table(
    "stacks", _META,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    *(sa.Column(kind, sa.Integer, sa.ForeignKey("components.id"), nullable=False) for kind in KINDS),
    sa.Column("created", sa.String(40), nullable=False),
    sa.Column("updated", sa.String(40), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("updated_by", sa.String(128), nullable=False, server_default=""),
    **_MYSQL,
)
_M, _C, _S = TABLES["meta"], TABLES["components"], TABLES["stacks"]


def _migrate_1_to_2(conn: sa.Connection) -> None:
    """Schema 1 -> 2: per-row version and updated_by (Alembic's operations: dialect-correct DDL)."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    op = Operations(MigrationContext.configure(conn))
    for table in ("components", "stacks"):
        op.add_column(table, sa.Column("version", sa.Integer, nullable=False, server_default="1"))
        op.add_column(table, sa.Column("updated_by", sa.String(128), nullable=False, server_default=""))


def _migrate_2_to_3(conn: sa.Connection) -> None:
    """Schema 2 -> 3: the experiment_tracker kind; every existing stack gets the kind's default
    component (the built-in tracker 'default', made if missing). The added column is nullable
    (a column added to a filled table has no component to point at until the UPDATE)."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from ..kinds import OPTIONAL_DEFAULT, TABLE

    kind = next(k for k in TABLE if k.name == "experiment_tracker")
    if "experiment_tracker" not in {c["name"] for c in sa.inspect(conn).get_columns("stacks")}:  # DDL is not transactional on MySQL
        Operations(MigrationContext.configure(conn)).add_column("stacks", sa.Column(kind.name, sa.Integer, nullable=True))
    found = conn.execute(sa.select(_C.c.id).where(_C.c.kind == kind.name, _C.c.name == OPTIONAL_DEFAULT)).first()
    if found is None:
        stamp = now()
        conn.execute(sa.insert(_C).values(kind=kind.name, name=OPTIONAL_DEFAULT, flavor=kind.default_flavor, config=json.dumps(dict(kind.default_config)),
                                          created=stamp, updated=stamp, version=1, updated_by="schema upgrade"))
        found = conn.execute(sa.select(_C.c.id).where(_C.c.kind == kind.name, _C.c.name == OPTIONAL_DEFAULT)).first()
    assert found is not None
    conn.execute(sa.update(_S).where(_S.c[kind.name].is_(None)).values({kind.name: int(found[0])}))


_MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {1: _migrate_1_to_2, 2: _migrate_2_to_3}


# -- errors in words -----------------------------------------------------------------------------
def classify(error: BaseException, conn: Connection) -> ZenMLError:
    """A driver error of the shared registry, as one line naming it and the fix."""
    dialect = dialect_of(conn)
    label = f"shared registry {conn.url}"
    if dialect.missing_tables(error):
        return missing_tables(conn.url)
    if isinstance(error, sa_exc.TimeoutError):
        return StoreUnavailableError(f"{label}: no free connection within {conn.connect_timeout:g} s; try again")
    why = dialect.describe(error, conn)
    return type(why)(f"{label}: {why}")


@functools.cache
def _stack_query() -> sa.Select[Any]:
    """A stack with its components' names: one outer join per kind (built once; SQLAlchemy
    caches the compiled form per dialect)."""
    parts = {kind: _C.alias(f"k{i}") for i, kind in enumerate(KINDS)}
    joined: Any = _S
    for kind, alias in parts.items():
        joined = joined.outerjoin(alias, _S.c[kind] == alias.c.id)
    return sa.select(
        _S.c.name, *(parts[k].c.name for k in KINDS), _S.c.created, _S.c.updated, _S.c.version, _S.c.updated_by
    ).select_from(joined)


# -- a transaction ---------------------------------------------------------------------------
class SharedSession:
    """Queries and changes inside one transaction of the shared database."""

    def __init__(self, conn: sa.Connection, label: str, generation: int) -> None:
        self._conn = conn
        self._label = label
        self._generation = generation

    def generation(self) -> int:
        return self._generation

    # -- components ---------------------------------------------------------------
    _COMPONENT_COLUMNS = (_C.c.kind, _C.c.name, _C.c.flavor, _C.c.config, _C.c.created, _C.c.updated, _C.c.version, _C.c.updated_by)

    def _component(self, row: Sequence[Any]) -> ComponentRecord:
        return component_from_row(f"shared registry {self._label}", row, "ask whoever administers it to restore it")

    def list_components(self, kind: str | None = None) -> list[ComponentRecord]:
        query = sa.select(*self._COMPONENT_COLUMNS)
        query = query.order_by(_C.c.kind, _C.c.name) if kind is None else query.where(_C.c.kind == kind).order_by(_C.c.name)
        return [self._component(r) for r in self._conn.execute(query)]

    def get_component(self, kind: str, name: str) -> ComponentRecord | None:
        row = self._conn.execute(sa.select(*self._COMPONENT_COLUMNS).where(_C.c.kind == kind, _C.c.name == name)).first()
        return None if row is None else self._component(row)

    def add_component(self, kind: str, name: str, flavor: str, config: dict[str, Any]) -> None:
        stamp = now()
        self._insert(_C, f"{kind} {name!r}", kind=kind, name=name, flavor=flavor, config=json.dumps(config, sort_keys=True),
                     created=stamp, updated=stamp, version=1, updated_by=identity())

    def update_component(
        self, kind: str, name: str, flavor: str, config: dict[str, Any], *, expected_version: int | None = None
    ) -> None:
        where = [_C.c.kind == kind, _C.c.name == name]
        if expected_version is not None:
            where.append(_C.c.version == expected_version)
        result = self._conn.execute(
            sa.update(_C).where(*where).values(
                flavor=flavor, config=json.dumps(config, sort_keys=True), updated=now(), updated_by=identity(), version=_C.c.version + 1
            )
        )
        if result.rowcount == 0 and expected_version is not None:
            from ..kinds import KIND_LABELS

            raise changed_since(f"{KIND_LABELS[kind]} {name!r}", self.get_component(kind, name))

    def delete_component(self, kind: str, name: str) -> None:
        self._conn.execute(sa.delete(_C).where(_C.c.kind == kind, _C.c.name == name))

    def stacks_using(self, kind: str, name: str) -> list[str]:
        assert kind in KINDS
        query = (
            sa.select(_S.c.name).select_from(_S.join(_C, _S.c[kind] == _C.c.id))
            .where(_C.c.kind == kind, _C.c.name == name).order_by(_S.c.name)
        )
        return [str(r[0]) for r in self._conn.execute(query)]

    # -- stacks ---------------------------------------------------------------------
    def _stack_query(self) -> sa.Select[Any]:
        return _stack_query()

    _stack = staticmethod(stack_from_row)

    def list_stacks(self) -> list[StackRecord]:
        return [self._stack(r) for r in self._conn.execute(self._stack_query().order_by(_S.c.name))]

    def get_stack(self, name: str) -> StackRecord | None:
        row = self._conn.execute(self._stack_query().where(_S.c.name == name)).first()
        return None if row is None else self._stack(row)

    def _component_ids(self, components: Mapping[str, str]) -> dict[str, int]:
        ids = {}
        for kind in KINDS:
            row = self._conn.execute(sa.select(_C.c.id).where(_C.c.kind == kind, _C.c.name == components[kind])).first()
            if row is None:  # callers check first; this guards the invariant
                raise RegistryError(f"{kind} {components[kind]!r} vanished from the registry")
            ids[kind] = int(row[0])
        return ids

    def add_stack(self, name: str, components: dict[str, str]) -> None:
        stamp = now()
        self._insert(_S, f"stack {name!r}", name=name, **self._component_ids(components), created=stamp, updated=stamp,
                     version=1, updated_by=identity())

    def update_stack(self, name: str, components: dict[str, str], *, expected_version: int | None = None) -> None:
        where = [_S.c.name == name]
        if expected_version is not None:
            where.append(_S.c.version == expected_version)
        result = self._conn.execute(
            sa.update(_S).where(*where).values(
                **self._component_ids(components), updated=now(), updated_by=identity(), version=_S.c.version + 1
            )
        )
        if result.rowcount == 0 and expected_version is not None:
            raise changed_since(f"stack {name!r}", self.get_stack(name))

    def rename_stack(self, old: str, new: str) -> None:
        self._conn.execute(
            sa.update(_S).where(_S.c.name == old).values(name=new, updated=now(), updated_by=identity(), version=_S.c.version + 1)
        )

    def delete_stack(self, name: str) -> None:
        self._conn.execute(sa.delete(_S).where(_S.c.name == name))

    def get_active(self) -> str | None:
        return None  # personal: kept by each repository (see .team)

    def set_active(self, name: str) -> None:
        raise RegistryError("the active stack is kept by each repository, not in the shared registry")

    def _insert(self, table: sa.Table, what: str, **values: Any) -> None:
        try:
            with self._conn.begin_nested():
                self._conn.execute(sa.insert(table).values(**values))
        except sa_exc.IntegrityError:
            raise AlreadyExistsError(f"{what} already exists in the shared registry {self._label}; pick another name") from None


# -- the registry ------------------------------------------------------------------------------
class SharedRegistry:
    """One shared database, with a pooled engine per process and password."""

    _engines: ClassVar[dict[tuple[Any, ...], sa.Engine]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, connection: Connection, password: str) -> None:
        self.connection = connection
        c = connection
        key = (c.dialect, c.user, c.host, c.port, c.database, password, c.connect_timeout, c.ssl_ca, c.lock_timeout)
        self._dialect = dialect_of(c)
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                engine = self._engines[key] = dialect_of(c).engine(c, password)
        self._engine = engine

    @contextmanager
    def _connected(self) -> Iterator[sa.Connection]:
        """A pooled connection; driver errors inside come out classified."""
        try:
            conn = self._engine.connect()
        except sa_exc.SQLAlchemyError as exc:
            raise classify(exc, self.connection) from None
        try:
            try:
                yield conn
            finally:
                with self._dialect.guard(conn, self.connection):
                    conn.close()  # rolls back whatever was not committed
        except sa_exc.IntegrityError as exc:
            raise RegistryError(
                f"shared registry {self.connection.url} refused a change ({self._dialect.message(exc)[:200]}); nothing was changed"
            ) from None
        except (sa_exc.DBAPIError, sa_exc.TimeoutError) as exc:
            raise classify(exc, self.connection) from None

    @contextmanager
    def _transaction(self, *, lock: bool) -> Iterator[SharedSession]:
        """A transaction whose first query (schema check + generation) has answered. A stale
        pooled connection (the server restarted) is replaced once if it failed at once; a
        silent server is reported after one timeout, never retried."""
        for attempt in (0, 1):
            started = time.monotonic()
            with self._connected() as pooled:
                conn = pooled if lock else self._dialect.snapshot(pooled)
                try:
                    generation = self._head(conn, lock=lock)
                except sa_exc.DBAPIError as exc:
                    if attempt == 0 and exc.connection_invalidated and time.monotonic() - started < 1.0:
                        continue
                    raise
                yield SharedSession(conn, self.connection.url, generation)
                with self._dialect.guard(conn, self.connection):
                    conn.commit()
                return

    def _head(self, conn: sa.Connection, *, lock: bool) -> int:
        """Check the schema version and return the generation (row-locked for a writer)."""
        # A writer's first statement is the locking read: under REPEATABLE READ the first plain
        # read fixes the transaction's snapshot, and a snapshot taken before the lock was granted
        # would not see what the writer ahead in the queue committed (a false "changed since").
        query = sa.select(_M.c.key, _M.c.value).where(_M.c.key.in_(("schema_version", "generation")))
        if lock:
            rows: dict[str, str] = dict(self._locked(conn, query.with_for_update()))
        else:
            rows = dict(conn.execute(query).all())
        generation = check_schema(self.connection.url, rows)
        if lock:
            conn.execute(sa.update(_M).where(_M.c.key == "generation").values(value=str(generation + 1)))
            return generation + 1
        return generation

    def _locked(self, conn: sa.Connection, query: sa.Select[Any]) -> list[Any]:
        """Run a locking read, waiting up to the lock timeout for the writer ahead (not just the
        deadline that bounds a silent server) and saying so if it is not freed."""
        started = time.monotonic()
        try:
            with self._dialect.lock_wait(conn, self.connection):
                return list(conn.execute(query).all())
        except sa_exc.DBAPIError as exc:
            if self._dialect.lock_timed_out(exc):
                raise busy(self.connection, time.monotonic() - started) from None
            raise

    def read(self) -> AbstractContextManager[SharedSession]:
        """A consistent snapshot for queries."""
        return self._transaction(lock=False)

    def write(self) -> AbstractContextManager[SharedSession]:
        """One atomic change, serialised with every other writer of this registry."""
        return self._transaction(lock=True)

    def describe(self) -> dict[str, Any]:
        return {"kind": "shared", "url": self.connection.url, "stale": False}

    def setup(self, seed: Callable[[SharedSession], None] | None = None) -> tuple[int, int]:
        """Create the tables (seeded) or migrate older ones; (schema before, schema now).

        Under a server-side named lock, so two people connecting at once create one schema;
        MySQL's DDL is not transactional, so each migration step records its version at once
        (and commits, on PostgreSQL too).
        """
        lock_name = f"zenml_notebook.registry.{self.connection.database}"
        with self._connected() as conn, self._dialect.named_lock(conn, lock_name, self.connection):
            before = 0
            if sa.inspect(conn).has_table("meta"):
                value = conn.execute(sa.select(_M.c.value).where(_M.c.key == "schema_version")).scalar()
                before = int(value) if value is not None and str(value).isdigit() else 0
            conn.commit()
            if before > SCHEMA_VERSION:
                self._head(conn, lock=False)  # raises: a newer schema, named
            if before == 0:
                _META.create_all(conn)
                conn.execute(sa.insert(_M), [{"key": "schema_version", "value": str(SCHEMA_VERSION)}, {"key": "generation", "value": "1"}])
                if seed is not None:
                    seed(SharedSession(conn, self.connection.url, 1))
                conn.commit()
                return 0, SCHEMA_VERSION
            current = before
            while current < SCHEMA_VERSION:
                _MIGRATIONS[current](conn)
                current += 1
                conn.execute(sa.update(_M).where(_M.c.key == "schema_version").values(value=str(current)))
                if conn.execute(sa.select(_M.c.key).where(_M.c.key == "generation")).first() is None:
                    conn.execute(sa.insert(_M).values(key="generation", value="1"))
                conn.commit()
            return before, current
