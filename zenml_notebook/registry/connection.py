"""Where a shared registry lives: its URL (MySQL/MariaDB or PostgreSQL), parsed and checked, and
what ``.zenml/`` records of it. Light on purpose (no SQLAlchemy, no driver): a repository opens
it on every command, and a one-shot command that only reads the registry never needs more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from ..constants import PG_SYSTEM_DATABASES, SYSTEM_DATABASES
from ..exceptions import RegistryError, UsageError
from .records import SCHEMA_VERSION

__all__ = ["KINDS_OF_SERVER", "SCHEMES", "Connection", "check_schema", "missing_tables"]

# the databases a shared registry can live on: default port, longest database name, own schemas
KINDS_OF_SERVER: dict[str, tuple[int, int, frozenset[str]]] = {
    "mysql": (3306, 64, SYSTEM_DATABASES),
    "postgresql": (5432, 63, PG_SYSTEM_DATABASES),
}
SCHEMES = {
    "mysql": "mysql", "mariadb": "mysql", "mysql+pymysql": "mysql", "mariadb+pymysql": "mysql",
    "postgresql": "postgresql", "postgres": "postgresql", "postgresql+psycopg": "postgresql",
}

_DB_NAME = re.compile(r"[A-Za-z0-9_$]{1,64}")
_FIX = "give it as mysql://USER@HOST:PORT/DATABASE or postgresql://USER@HOST:PORT/DATABASE"


@dataclass(frozen=True)
class Connection:
    """Where a shared registry lives; never holds a password (only its secret reference)."""

    user: str
    host: str
    port: int
    database: str
    password: dict[str, Any] | None = None  # a secret reference (see zenml_notebook.secrets)
    connect_timeout: float = 5.0
    ssl_ca: str | None = None
    lock_timeout: float = 30.0  # how long a writer waits for the writer ahead of it
    dialect: str = "mysql"  # "mysql" (MySQL/MariaDB) or "postgresql"

    @property
    def url(self) -> str:
        return f"{self.dialect}://{self.user}@{self.host}:{self.port}/{self.database}"

    @classmethod
    def parse(cls, url: str, **options: Any) -> Connection:
        """``mysql://USER@HOST[:PORT]/DATABASE`` or ``postgresql://…``; a password in the URL is
        refused (it would be saved)."""
        try:
            parts = urlsplit(url.strip())
            explicit = parts.port
        except ValueError:
            parts, explicit = None, None
        fix = _FIX
        if parts is None or not parts.scheme:
            raise UsageError(f"{url!r} is not a registry URL; {fix}")
        kind = SCHEMES.get(parts.scheme.lower())
        if kind is None:
            raise UsageError(f"registry URL scheme {parts.scheme!r} is not supported (MySQL/MariaDB and PostgreSQL are); {fix}")
        default_port, max_name, system_databases = KINDS_OF_SERVER[kind]
        port = explicit or default_port
        if parts.password is not None:
            raise UsageError(
                "the registry URL holds a password, which would be saved in .zenml/; give the URL without it "
                "and add --passwd (prompted) or --passwd-env VAR"
            )
        if not parts.username or not parts.hostname:
            raise UsageError(f"the registry URL {url!r} needs a user and a host; {fix}")
        database = parts.path.lstrip("/")
        if not _DB_NAME.fullmatch(database) or len(database) > max_name:
            raise UsageError(f"the registry URL needs a database name of up to {max_name} letters, digits, '_' or '$' after the host; {fix}")
        if database.lower() in system_databases:
            raise UsageError(f"the registry URL names the server's own system schema {database!r}; give a database of your own")
        if parts.query or parts.fragment:
            raise UsageError(f"the registry URL takes no options after '?' or '#'; use --connect-timeout and --ssl-ca; {fix}")
        timeout = float(options.get("connect_timeout") or 5.0)
        if not 0 < timeout <= 600:
            raise UsageError(f"--connect-timeout {timeout:g} is outside 0-600 seconds")
        lock = float(options.get("lock_timeout") or 30.0)
        if not 1 <= lock <= 3600:
            raise UsageError(f"--lock-timeout {lock:g} is outside 1-3600 seconds")
        return cls(unquote(parts.username), parts.hostname, port, database, options.get("password"), timeout, options.get("ssl_ca"), lock, kind)

    def settings(self) -> dict[str, Any]:
        """What ``.zenml/`` records: safe to commit (a secret *reference* at most)."""
        data: dict[str, Any] = {"url": self.url, "connect_timeout": self.connect_timeout}
        if self.password is not None:
            data["password"] = self.password
        if self.ssl_ca:
            data["ssl_ca"] = self.ssl_ca
        if self.lock_timeout != 30.0:
            data["lock_timeout"] = self.lock_timeout
        return data

    @classmethod
    def from_settings(cls, data: Mapping[str, Any]) -> Connection:  # other keys (own_active) are the repository's
        return cls.parse(
            str(data["url"]), password=data.get("password"), connect_timeout=data.get("connect_timeout"),
            ssl_ca=data.get("ssl_ca"), lock_timeout=data.get("lock_timeout"),
        )


def check_schema(url: str, rows: Mapping[str, str]) -> int:
    """The registry's generation, once its schema version (from the ``meta`` rows) is the one this
    version reads; otherwise the one line that says which way to go."""
    version = str(rows.get("schema_version", ""))
    if not version.isdigit():
        raise RegistryError(f"shared registry {url} has no schema version; run `zenml-notebook registry connect {url}` to set it up")
    if int(version) > SCHEMA_VERSION:
        raise RegistryError(
            f"shared registry {url} has schema {version}, written by a newer zenml-notebook; "
            f"this one reads schema {SCHEMA_VERSION}: upgrade with `pip install -U zenml-notebook`"
        )
    if int(version) < SCHEMA_VERSION:
        raise RegistryError(
            f"shared registry {url} has the older schema {version} (this version uses "
            f"{SCHEMA_VERSION}); run `zenml-notebook registry connect {url}` to migrate it"
        )
    value = str(rows.get("generation", "0"))
    return int(value) if value.isdigit() else 0


def missing_tables(url: str) -> RegistryError:
    return RegistryError(
        f"shared registry {url} has no zenml-notebook tables (was the database emptied?); run "
        f"`zenml-notebook registry connect {url}` to create them again"
    )

