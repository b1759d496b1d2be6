"""One read of a shared registry with the database driver alone (PyMySQL or psycopg), for a
command that reads once and exits (`zenml-notebook stack list` in a terminal): importing
SQLAlchemy and building its engine costs more than the whole read. The same checks as
:mod:`.shared` (schema version, damaged rows, classified failures within ``--connect-timeout``);
the registry's few rows are read in one snapshot into memory, and the session answers from them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..deadline import cut_at
from ..exceptions import RegistryError, StoreConnectionError, ZenMLError
from .connection import Connection, check_schema, missing_tables
from .records import KINDS, ComponentRecord, StackRecord, component_from_row, stack_from_row

__all__ = ["SnapshotSession", "read_once"]

_COMPONENTS = "SELECT kind, name, flavor, config, created, updated, version, updated_by FROM components ORDER BY kind, name"
# built from the kinds table (fixed identifiers), never from input
_STACKS = (
    "SELECT s.name, " + ", ".join(f"k{i}.name" for i in range(len(KINDS))) + ", s.created, s.updated, s.version, s.updated_by FROM stacks s "  # noqa: S608
    + " ".join(f"LEFT JOIN components k{i} ON s.{kind} = k{i}.id" for i, kind in enumerate(KINDS)) + " ORDER BY s.name"
)


_CHANGES = frozenset({"add_component", "update_component", "delete_component", "add_stack", "update_stack", "rename_stack",
                      "delete_stack", "set_active"})


class SnapshotSession:
    """The registry as read at one moment (read-only)."""

    def __init__(self, url: str, generation: int, components: list[ComponentRecord], stacks: list[StackRecord]) -> None:
        self._url, self._generation = url, generation
        self._components, self._stacks = components, stacks

    def generation(self) -> int:
        return self._generation

    def list_components(self, kind: str | None = None) -> list[ComponentRecord]:
        return [c for c in self._components if kind is None or c.kind == kind]

    def get_component(self, kind: str, name: str) -> ComponentRecord | None:
        return next((c for c in self._components if c.kind == kind and c.name == name), None)

    def stacks_using(self, kind: str, name: str) -> list[str]:
        return [s.name for s in self._stacks if s.components.get(kind) == name]

    def list_stacks(self) -> list[StackRecord]:
        return list(self._stacks)

    def get_stack(self, name: str) -> StackRecord | None:
        return next((s for s in self._stacks if s.name == name), None)

    def get_active(self) -> str | None:
        return None  # personal: kept by each repository (see .team)

    def __getattr__(self, name: str) -> Any:
        if name in _CHANGES:  # a change inside a read is a bug of ours, said plainly
            raise RegistryError(f"the shared registry {self._url} was opened for reading; {name} needs a write")
        raise AttributeError(name)


def read_once(c: Connection, password: str) -> SnapshotSession:
    """Connect, read the schema version, the components and the stacks in one snapshot, close."""
    reader = _read_postgresql if c.dialect == "postgresql" else _read_mysql
    return reader(c, password)


def _session(c: Connection, meta: Sequence[Sequence[Any]], components: Sequence[Sequence[Any]], stacks: Sequence[Sequence[Any]]) -> SnapshotSession:
    generation = check_schema(c.url, {str(k): str(v) for k, v in meta})
    label = f"shared registry {c.url}"
    return SnapshotSession(c.url, generation, [component_from_row(label, r, "ask whoever administers it to restore it") for r in components],
                           [stack_from_row(r) for r in stacks])


def _labelled(c: Connection, why: ZenMLError) -> ZenMLError:
    return type(why)(f"shared registry {c.url}: {why}")


def _read_mysql(c: Connection, password: str) -> SnapshotSession:
    import pymysql

    from ..components.metadata.mysql_check import describe_failure

    try:
        conn = pymysql.connect(host=c.host, port=c.port, user=c.user, password=password, database=c.database, connect_timeout=c.connect_timeout,
                               read_timeout=c.connect_timeout, write_timeout=c.connect_timeout, charset="utf8mb4",
                               **({"ssl": {"ca": c.ssl_ca}} if c.ssl_ca else {}))
        try:
            with conn.cursor() as cur:  # InnoDB: the first read of the transaction fixes its snapshot
                cur.execute("SELECT * FROM meta")
                meta = cur.fetchall()
                cur.execute(_COMPONENTS)
                components = cur.fetchall()
                cur.execute(_STACKS)
                stacks = cur.fetchall()
            conn.rollback()
        finally:
            conn.close()
    except pymysql.err.MySQLError as exc:
        code = int(exc.args[0]) if exc.args and isinstance(exc.args[0], int) else 0
        if code == 1146:
            raise missing_tables(c.url) from None
        text = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
        raise _labelled(c, describe_failure(code, text, c.host, c.port, c.user, c.database, c.connect_timeout, flags="the URL")) from None
    return _session(c, meta, components, stacks)


def _read_postgresql(c: Connection, password: str) -> SnapshotSession:
    import psycopg

    from ..components.metadata.pg_check import NoAnswer, classify

    options: dict[str, Any] = {"host": c.host, "port": c.port, "user": c.user, "password": password, "dbname": c.database,
                               "connect_timeout": max(2, math.ceil(c.connect_timeout)), "application_name": "zenml-notebook"}
    if c.ssl_ca:
        options.update(sslmode="verify-ca", sslrootcert=c.ssl_ca)
    watch = None
    try:
        conn = psycopg.connect(**options)
        # a server that stops answering after the connection is made would be waited for without
        # end (its machine still acknowledges every byte): at the deadline the socket is shut down
        watch = cut_at(conn.fileno(), c.connect_timeout)
        try:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            meta = conn.execute("SELECT * FROM meta").fetchall()
            components = conn.execute(_COMPONENTS).fetchall()
            stacks = conn.execute(_STACKS).fetchall()
            conn.rollback()
        finally:
            watch.stop()
            conn.close()
    except psycopg.Error as exc:
        if getattr(exc, "sqlstate", None) == "42P01":
            raise missing_tables(c.url) from None
        why: StoreConnectionError = classify(NoAnswer() if watch is not None and watch.cut else exc, c.host, c.port, c.user, c.database,
                                             c.connect_timeout, flags="the URL")
        raise _labelled(c, why) from None
    return _session(c, meta, components, stacks)
