"""Pre-flight check of a PostgreSQL server with psycopg 3, before ml-metadata sees it.

Like :mod:`.mysql_check`: ml-metadata's PostgreSQL client reports failures tersely and can wait
without bound on a silent server, so we connect first with a connect timeout and a statement
timeout, and say which failure it is. A missing database is created when the user may (like
MySQL's), else the message gives the ``CREATE DATABASE`` to run. No message contains the password.
"""

from __future__ import annotations

import time
from typing import Any

from ...exceptions import (
    StoreConnectionError,
    StoreCredentialsError,
    StoreMissingError,
    StoreUnavailableError,
)
from .mysql_check import ServerCheck

__all__ = ["NoAnswer", "check_postgresql", "classify"]


class NoAnswer(Exception):
    """A connected server that did not answer a query within its deadline (it is stopped or
    overloaded): the connection was cut by our watchdog, not by the server."""


def _connect(host: str, port: int, user: str, password: str, database: str, timeout: float, sslmode: str | None, ssl_ca: str | None) -> Any:
    import psycopg

    options: dict[str, Any] = {"host": host, "port": port, "user": user, "password": password, "dbname": database,
                               "connect_timeout": max(1, round(timeout)), "application_name": "zenml-notebook"}
    if sslmode:
        options["sslmode"] = sslmode
    if ssl_ca:
        options["sslrootcert"] = ssl_ca
    return psycopg.connect(**options, autocommit=True)


def classify(exc: Exception, host: str, port: int, user: str, database: str, timeout: float, *, flags: str = "") -> StoreConnectionError:
    """A psycopg error in words (never the password); ``flags`` names where host and port are set
    (default: the component's --host and --port)."""
    where = f"{host}:{port}"
    hostport = f"{flags}'s host and port" if flags else "--host and --port"
    host_flag = f"{flags}'s host" if flags else "--host"
    user_flag = f"{flags}'s user" if flags else "--username"
    text = str(exc).replace("\n", " ").strip()
    code = getattr(getattr(exc, "diag", None), "sqlstate", None) or getattr(exc, "sqlstate", None)
    lowered = text.lower()
    if code == "28P01" or "password authentication failed" in lowered:
        return StoreCredentialsError(f"PostgreSQL server {where} refused user {user!r}: wrong user name or password; check {user_flag} and "
                                     "set the password again (--passwd with no value prompts)")
    if code == "28000" or "no pg_hba.conf entry" in lowered:
        return StoreCredentialsError(f"PostgreSQL server {where} does not let user {user!r} connect from here (pg_hba.conf); ask its admin")
    if code == "3D000" or ("does not exist" in lowered and "database" in lowered):
        return StoreMissingError(f"PostgreSQL server {where} has no database {database!r} and user {user!r} may not create it; "
                                 f"ask its admin to run `CREATE DATABASE \"{database}\" OWNER \"{user}\"`")
    if code == "53300" or "too many clients" in lowered or "remaining connection slots" in lowered:
        return StoreUnavailableError(f"PostgreSQL server {where} has too many connections open; try again, or ask its admin to raise max_connections")
    if code == "57P01" or "terminating connection due to administrator command" in lowered:
        return StoreUnavailableError(f"PostgreSQL server {where} was shut down or restarted while answering; nothing was changed; try again")
    if isinstance(exc, NoAnswer):
        return StoreUnavailableError(f"{where} accepted the connection but gave no PostgreSQL answer within {timeout:g} s (the server is "
                                     f"stopped or overloaded); check {hostport}, or raise --connect-timeout")
    if "timeout expired" in lowered or "timed out" in lowered:
        return StoreUnavailableError(f"no PostgreSQL answer from {where} within {timeout:g} s (the server is stopped or overloaded, or a "
                                     f"firewall drops the traffic); check {hostport}, or raise --connect-timeout")
    if "connection refused" in lowered:
        return StoreUnavailableError(f"nothing is listening on {where} (connection refused); start the PostgreSQL server or fix {hostport}")
    if "could not translate host name" in lowered or "name or service not known" in lowered:
        return StoreUnavailableError(f"cannot resolve host name {host!r}; check {host_flag}")
    if "server closed the connection" in lowered or "connection is lost" in lowered or "consuming input failed" in lowered:
        return StoreUnavailableError(f"PostgreSQL server {where} closed the connection (it was restarted or stopped); nothing was changed; try again")
    if "ssl" in lowered:
        return StoreConnectionError(f"PostgreSQL server {where}: SSL failed ({text[:160]}); check --sslmode and --ssl-ca")
    return StoreConnectionError(f"PostgreSQL server {where} failed: {text[:200]}")


def check_postgresql(host: str, port: int, user: str, password: str, database: str, *, timeout: float = 5.0,
                     sslmode: str | None = None, ssl_ca: str | None = None, create: bool = True, flags: str = "") -> ServerCheck:
    """Connect, read the version; create the database if it is missing and ``create``."""
    import psycopg

    started = time.perf_counter()
    created = False
    try:
        try:
            conn = _connect(host, port, user, password, database, timeout, sslmode, ssl_ca)
        except psycopg.OperationalError as exc:
            if not create or "does not exist" not in str(exc) or "database" not in str(exc):
                raise
            with _connect(host, port, user, password, "postgres", timeout, sslmode, ssl_ca) as admin:
                try:
                    admin.execute(f'CREATE DATABASE "{database}"')  # the name is checked by the config model
                    created = True
                except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):  # created by another process meanwhile
                    pass
                except psycopg.errors.InsufficientPrivilege:
                    raise StoreMissingError(
                        f"PostgreSQL server {host}:{port} has no database {database!r} and user {user!r} may not create it; "
                        f"ask its admin to run `CREATE DATABASE \"{database}\" OWNER \"{user}\"`") from None
            conn = _connect(host, port, user, password, database, timeout, sslmode, ssl_ca)
        with conn:
            conn.execute(f"SET statement_timeout = {int(timeout * 1000)}")
            version = str(conn.execute("SHOW server_version").fetchone()[0])
    except psycopg.Error as exc:
        raise classify(exc, host, port, user, database, timeout, flags=flags) from None
    return ServerCheck(f"PostgreSQL {version}", (time.perf_counter() - started) * 1000, created)
