"""Metadata stores: a registered component becomes an :class:`MLMDStore`.

MySQL stores pass a PyMySQL pre-flight check (timeouts, classified errors) before
ml-metadata is handed the connection, once per process and settings.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

from ...exceptions import StoreConnectionError
from ...secrets import is_ref, resolve
from .records import ArtifactInfo, ArtifactSpec, EventInfo, ExecutionInfo, LineageInfo, RunInfo

if TYPE_CHECKING:
    from ...registry import ComponentRecord
    from ...repository import Repository
    from .mlmd import MLMDStore
    from .mysql_check import MySQLCheck

__all__ = [
    "ArtifactInfo",
    "ArtifactSpec",
    "EventInfo",
    "ExecutionInfo",
    "LineageInfo",
    "RunInfo",
    "check_component",
    "open_metadata_store",
]

_STORES: dict[str, MLMDStore] = {}
_LOCK = threading.Lock()


def _label(record: ComponentRecord) -> str:
    return f"metadata store {record.name!r}"


def _password(record: ComponentRecord) -> str:
    ref = record.config.get("password")
    return resolve(ref, f"the password of {_label(record)}") if is_ref(ref) else ""


def check_component(record: ComponentRecord, repo: Repository) -> tuple[str, float]:
    """Reach the store now: returns (a description, milliseconds) or raises a classified error."""
    if record.flavor == "mysql":
        result = mysql_preflight(record)
        created = ", database created" if result.created_database else ""
        return f"MySQL server {result.server_version}{created}", result.latency_ms
    store = open_metadata_store(record, repo)
    return f"ml-metadata on SQLite {sqlite_path(record, repo)}", store.ping()


def mysql_preflight(record: ComponentRecord, password: str | None = None) -> MySQLCheck:
    from .mysql_check import check_mysql

    c = record.config
    try:
        return check_mysql(
            c["host"], int(c.get("port", 3306)), c["username"], _password(record) if password is None else password,
            c["database"], timeout=float(c.get("connect_timeout", 5.0)), ssl_ca=c.get("ssl_ca"),
        )
    except StoreConnectionError as exc:
        raise StoreConnectionError(f"{_label(record)}: {exc}") from None


def sqlite_path(record: ComponentRecord, repo: Repository) -> str:
    return str(repo.resolve_path(str(record.config.get("uri", ".zenml/metadata.db"))))


def open_metadata_store(record: ComponentRecord, repo: Repository) -> MLMDStore:
    """The MLMD store of a component (cached per process and settings)."""
    key = json.dumps([record.kind, record.name, record.flavor, record.config, str(repo.root)], sort_keys=True)
    with _LOCK:
        if key in _STORES:
            return _STORES[key]
    from .mlmd import MLMDStore, mysql_config, sqlite_config

    if record.flavor == "sqlite":
        path = sqlite_path(record, repo)

        def make() -> Any:
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
            return sqlite_config(path)
    else:
        mysql_preflight(record)
        c: dict[str, Any] = record.config

        def make() -> Any:
            return mysql_config(c["host"], int(c.get("port", 3306)), c["username"], _password(record), c["database"], c.get("ssl_ca"))

    store = MLMDStore(make, _label(record))
    with _LOCK:
        return _STORES.setdefault(key, store)
