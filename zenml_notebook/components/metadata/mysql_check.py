"""Pre-flight check of a MySQL server with PyMySQL, before ml-metadata sees it.

ml-metadata's MySQL client reports every failure as ``mysql_real_connect failed:
errno: , error: `` and can hang for minutes (or forever on a silent server). So we
connect first with PyMySQL, with connect *and* read timeouts, and say which failure
it is. No message ever contains the password.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass
from typing import Any

from ...exceptions import (
    StoreConnectionError,
    StoreCredentialsError,
    StoreMissingError,
    StoreUnavailableError,
    UsageError,
)

__all__ = ["ServerCheck", "check_mysql", "classify", "describe_failure"]


@dataclass(frozen=True)
class ServerCheck:
    """What a pre-flight check found: the server (product and version), the round trip, and whether it made the database."""

    server_version: str
    latency_ms: float
    created_database: bool


def describe_failure(
    code: int, text: str, host: str, port: int, user: str, database: str, timeout: float, *, flags: str = ""
) -> StoreConnectionError:
    """A MySQL client error code in words; ``flags`` names where host and port are set
    (default: the component's --host and --port)."""
    where = f"{host}:{port}"
    hostport = f"{flags}'s host and port" if flags else "--host and --port"
    host_flag = f"{flags}'s host" if flags else "--host"
    user_flag = f"{flags}'s user" if flags else "--username"
    port_flag = f"{flags}'s port" if flags else "--port"
    if code == 1045:
        return StoreCredentialsError(
            f"MySQL server {where} refused user {user!r}: wrong user name or password; check "
            f"{user_flag} and set the password again (--passwd with no value prompts)"
        )
    if code == 2003 and "timed out" in text:
        return StoreUnavailableError(
            f"no answer from {where} within {timeout:g} s (host unreachable, or a firewall drops "
            f"the traffic); check {hostport}, or raise --connect-timeout"
        )
    if code == 2003 and ("Name or service not known" in text or "getaddrinfo" in text or "nodename" in text):
        return StoreUnavailableError(f"cannot resolve host name {host!r}; check {host_flag}")
    if code == 2003:
        return StoreUnavailableError(f"nothing is listening on {where} (connection refused); start the MySQL server or fix {hostport}")
    if code == 2013:
        return StoreUnavailableError(
            f"{where} accepted the connection but gave no MySQL answer within {timeout:g} s (the server "
            f"is stopped or overloaded, or it is not a MySQL server); check {port_flag}, or raise --connect-timeout"
        )
    if code == 1044:
        return StoreCredentialsError(
            f"user {user!r} may not use database {database!r} on {where} (no rights on it, or it does "
            f"not exist and may not be created); as an administrator run CREATE DATABASE IF NOT EXISTS "
            f"`{database}` and GRANT ALL ON `{database}`.* TO '{user}'@'%'"
        )
    if code == 1698:
        return StoreCredentialsError(
            f"MySQL server {where} lets user {user!r} sign in only through its local socket (unix_socket "
            f"authentication), never with a password over TCP; use an account created with a password "
            f"(CREATE USER '{user}'@'%' IDENTIFIED BY ...) and check {user_flag}"
        )
    if code == 1040:
        return StoreUnavailableError(f"MySQL server {where} has too many connections open; try again, or ask its administrator to raise max_connections")
    if code == 1205:
        return StoreUnavailableError(
            f"another client held a lock on {where} for longer than the server's lock wait timeout; nothing was changed; try again"
        )
    if code == 1049:
        return StoreMissingError(f"database {database!r} does not exist on {where}; create it, or check the database name")
    return StoreUnavailableError(f"MySQL server {where} refused the connection (error {code}); check the settings")


def classify(exc: Exception, record: Any, timeout: float, label: str) -> StoreConnectionError:
    """A PyMySQL error of a component's connection, in words."""
    code = int(exc.args[0]) if exc.args and isinstance(exc.args[0], int) else 0
    text = str(exc.args[1]) if len(exc.args) > 1 else ""
    c = record.config
    why = describe_failure(code, text, c["host"], int(c.get("port", 3306)), c["username"], c["database"], timeout)
    return type(why)(f"{label}: {why}")


def check_mysql(
    host: str,
    port: int,
    user: str,
    password: str,
    database: str,
    *,
    timeout: float = 5.0,
    ssl_ca: str | None = None,
    flags: str = "",
) -> ServerCheck:
    """Connect, read the server version, make sure ``database`` is usable (creating it
    when missing and allowed). Raises StoreConnectionError saying which failure it was."""
    import re

    import pymysql

    if not re.fullmatch(r"[A-Za-z0-9_$]{1,64}", database):  # it is quoted into CREATE DATABASE below
        raise UsageError(f"{database!r} is not a database name: use up to 64 letters, digits, '_', '$'")
    started = time.perf_counter()
    try:
        conn = pymysql.connect(
            host=host,
            port=port,
            user=user,
            password=password,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            ssl={"ca": ssl_ca} if ssl_ca else None,
        )
    except pymysql.err.OperationalError as exc:
        code = int(exc.args[0]) if exc.args and isinstance(exc.args[0], int) else 0
        text = str(exc.args[1]) if len(exc.args) > 1 else ""
        raise describe_failure(code, text, host, port, user, database, timeout, flags=flags) from None
    except (pymysql.err.Error, struct.error, IndexError, ValueError, UnicodeDecodeError) as exc:
        raise StoreUnavailableError(
            f"{host}:{port} does not speak the MySQL protocol ({type(exc).__name__}); check --port"
        ) from None
    except OSError as exc:  # TLS and other socket-level failures
        raise StoreUnavailableError(
            f"connection to {host}:{port} failed ({exc.strerror or type(exc).__name__}); check "
            "--host, --port and --ssl-ca"
        ) from None
    try:
        version = str(conn.get_server_info()).removeprefix("5.5.5-")  # MariaDB's replication prefix
        created = False
        try:
            conn.select_db(database)
        except pymysql.err.OperationalError as exc:
            if not exc.args or exc.args[0] != 1049:  # 1044: no rights (MySQL hides existence then)
                raise
            try:  # 1049: unknown database - create it, as ml-metadata would
                with conn.cursor() as cur:  # IF NOT EXISTS: another process may create it meanwhile
                    created = cur.execute(f"CREATE DATABASE IF NOT EXISTS `{database}`") == 1  # name validated
                conn.select_db(database)
            except pymysql.err.OperationalError as denied:
                if denied.args and denied.args[0] in (1044, 1227):
                    raise StoreMissingError(
                        f"database {database!r} does not exist on {host}:{port} and user {user!r} may "
                        f"not create it; as an administrator run CREATE DATABASE `{database}` and "
                        f"GRANT ALL ON `{database}`.* TO '{user}'@'%'"
                    ) from None
                raise
    except pymysql.err.OperationalError as exc:
        code = int(exc.args[0]) if exc.args and isinstance(exc.args[0], int) else 0
        raise describe_failure(code, str(exc), host, port, user, database, timeout, flags=flags) from None
    finally:
        conn.close()
    return ServerCheck(version, (time.perf_counter() - started) * 1000, created)
