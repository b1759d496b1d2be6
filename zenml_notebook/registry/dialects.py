"""What differs between the databases a shared registry can live on: MySQL/MariaDB (PyMySQL)
and PostgreSQL (psycopg 3). :mod:`.shared` is written once against SQLAlchemy Core; each
dialect here says how to connect, how a silent server is cut off, how a writer waits for the
lock, how setup is serialised and what a driver error means.

Never hangs, on either:
* MySQL: PyMySQL's connect, read and write timeouts bound every round trip.
* PostgreSQL: libpq's connect timeout bounds connecting; every statement, commit and return to
  the pool is watched, and a server silent for longer than the deadline has the connection's
  socket shut down under it (a stopped server's kernel still acknowledges the bytes, so no TCP
  timeout would ever fire); the row-lock wait is the server's ``lock_timeout``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import sqlalchemy as sa

from ..deadline import Watch, cut_at
from ..exceptions import RegistryBusyError, StoreConnectionError, StoreUnavailableError


class Connection(Protocol):
    """Where a shared registry lives (:class:`.shared.Connection`), as the dialects read it."""

    @property
    def user(self) -> str: ...

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int: ...

    @property
    def database(self) -> str: ...

    @property
    def connect_timeout(self) -> float: ...

    @property
    def ssl_ca(self) -> str | None: ...

    @property
    def lock_timeout(self) -> float: ...

    @property
    def dialect(self) -> str: ...

    @property
    def url(self) -> str: ...


class Dialect:
    """The MySQL/MariaDB flavour (the base: the first one the registry supported)."""

    name = "mysql"
    scheme = "mysql"
    product = "MySQL"

    # -- connecting -------------------------------------------------------------------------
    def engine(self, c: Connection, password: str) -> sa.Engine:
        url = sa.URL.create("mysql+pymysql", username=c.user, password=password, host=c.host, port=c.port, database=c.database)
        engine = sa.create_engine(
            url,
            connect_args={
                "connect_timeout": c.connect_timeout, "read_timeout": c.connect_timeout,
                "write_timeout": c.connect_timeout, "charset": "utf8mb4",
                **({"ssl": {"ca": c.ssl_ca}} if c.ssl_ca else {}),
            },
            pool_size=4, max_overflow=12, pool_timeout=c.connect_timeout, pool_recycle=1800,
            hide_parameters=True,  # a failing statement's values never reach a message
        )
        wait = max(1, round(c.lock_timeout))

        def setup(dbapi_connection: Any, _record: Any) -> None:  # the server's default row-lock wait is 50 s
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET SESSION innodb_lock_wait_timeout = {wait}")

        sa.event.listen(engine, "connect", setup)
        return engine

    def preflight(self, c: Connection, password: str) -> None:
        from ..components.metadata.mysql_check import check_mysql

        check_mysql(c.host, c.port, c.user, password, c.database, timeout=c.connect_timeout, ssl_ca=c.ssl_ca, flags="the URL")

    def snapshot(self, conn: sa.Connection) -> sa.Connection:
        """The connection a read runs on: InnoDB's default REPEATABLE READ is one snapshot already."""
        return conn

    @contextmanager
    def guard(self, conn: sa.Connection, c: Connection) -> Iterator[None]:
        """Bound a round trip outside a statement (a commit, a return to the pool): PyMySQL's
        read timeout does it already."""
        yield

    @contextmanager
    def lock_wait(self, conn: sa.Connection, c: Connection) -> Iterator[None]:
        """Let the next locking read wait up to the lock timeout (on top of the read timeout that
        bounds a silent server)."""
        raw: Any = conn.connection.dbapi_connection
        saved = getattr(raw, "_read_timeout", None)
        if saved is not None:
            raw._read_timeout = saved + c.lock_timeout  # PyMySQL sets the socket's timeout from it per read
        try:
            yield
        finally:
            if saved is not None:
                raw._read_timeout = saved

    @contextmanager
    def named_lock(self, conn: sa.Connection, name: str, c: Connection) -> Iterator[None]:
        """A server-side lock by name, so two people connecting at once set the registry up once."""
        got = conn.exec_driver_sql("SELECT GET_LOCK(%s, %s)", (name, int(c.connect_timeout) + 5)).scalar()
        conn.commit()
        if got != 1:
            raise StoreUnavailableError(f"shared registry {c.url}: another client is setting it up; try again in a moment")
        try:
            yield
        finally:
            conn.rollback()
            conn.exec_driver_sql("SELECT RELEASE_LOCK(%s)", (name,)).close()
            conn.commit()

    # -- errors ---------------------------------------------------------------------------------
    @staticmethod
    def _code(error: BaseException) -> tuple[int, str]:
        orig = getattr(error, "orig", error)
        args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
        code = int(args[0]) if args and isinstance(args[0], int) else 0
        return code, str(args[1]) if len(args) > 1 else str(orig)

    def message(self, error: BaseException) -> str:
        """The server's own words for a refused change (for "refused a change (...)")."""
        return self._code(error)[1]

    def missing_tables(self, error: BaseException) -> bool:
        return self._code(error)[0] == 1146

    def lock_timed_out(self, error: BaseException) -> bool:
        return self._code(error)[0] in (1205, 3572)  # lock wait timeout / NOWAIT

    def describe(self, error: BaseException, c: Connection) -> StoreConnectionError:
        from ..components.metadata.mysql_check import describe_failure

        code, text = self._code(error)
        return describe_failure(code, text, c.host, c.port, c.user, c.database, c.connect_timeout, flags="the URL")


class PostgreSQLDialect(Dialect):
    name = "postgresql"
    scheme = "postgresql"
    product = "PostgreSQL"
    _KEY = "zn_watch"
    _EXTRA = "zn_lock_wait"

    def engine(self, c: Connection, password: str) -> sa.Engine:
        url = sa.URL.create("postgresql+psycopg", username=c.user, password=password, host=c.host, port=c.port, database=c.database)
        args: dict[str, Any] = {
            "connect_timeout": max(2, math.ceil(c.connect_timeout)), "application_name": "zenml-notebook",
            # a writer queued behind another gives up when it said it would (the server's default: never)
            "options": f"-c lock_timeout={int(c.lock_timeout * 1000)}",
        }
        if c.ssl_ca:
            args.update(sslmode="verify-ca", sslrootcert=c.ssl_ca)
        engine = sa.create_engine(
            url, connect_args=args, pool_size=4, max_overflow=12, pool_timeout=c.connect_timeout, pool_recycle=1800,
            hide_parameters=True,
        )

        def arm(conn: sa.Connection, *_: Any) -> None:
            extra = conn.info.pop(self._EXTRA, 0.0)
            watch = self._arm(conn, c.connect_timeout + extra)
            if watch is not None:
                conn.info[self._KEY] = watch

        def disarm(conn: sa.Connection, *_: Any) -> None:
            watch = conn.info.pop(self._KEY, None)
            if watch is not None:
                watch.stop()

        def failed(context: Any) -> None:
            try:
                watch = context.connection.info.pop(self._KEY, None) if context.connection is not None else None
            except Exception:  # a closed connection has no info
                watch = None
            if watch is not None and watch.stop() and context.sqlalchemy_exception is not None:
                context.sqlalchemy_exception.zn_no_answer = True
                context.is_disconnect = True

        sa.event.listen(engine, "before_cursor_execute", arm)
        sa.event.listen(engine, "after_cursor_execute", disarm)
        sa.event.listen(engine, "handle_error", failed)
        return engine

    @staticmethod
    def _arm(conn: sa.Connection, seconds: float) -> Watch | None:
        try:
            fd = conn.connection.dbapi_connection.fileno()  # type: ignore[union-attr]
        except Exception:  # already closed or invalidated: nothing to watch
            return None
        return cut_at(fd, seconds)

    def preflight(self, c: Connection, password: str) -> None:
        from ..components.metadata.pg_check import check_postgresql

        check_postgresql(c.host, c.port, c.user, password, c.database, timeout=c.connect_timeout, ssl_ca=c.ssl_ca,
                         sslmode="verify-ca" if c.ssl_ca else None, flags="the URL")

    def snapshot(self, conn: sa.Connection) -> sa.Connection:
        # READ COMMITTED (the default, right for writers: after the lock each statement sees what
        # the writer ahead committed) would let a read's queries straddle a change
        return conn.execution_options(isolation_level="REPEATABLE READ")

    @contextmanager
    def guard(self, conn: sa.Connection, c: Connection) -> Iterator[None]:
        watch = self._arm(conn, c.connect_timeout)
        try:
            yield
        except sa.exc.DBAPIError as exc:
            if watch is not None and watch.stop():
                exc.zn_no_answer = True  # type: ignore[attr-defined]
            raise
        finally:
            if watch is not None:
                watch.stop()

    @contextmanager
    def lock_wait(self, conn: sa.Connection, c: Connection) -> Iterator[None]:
        conn.info[self._EXTRA] = c.lock_timeout
        try:
            yield
        finally:
            conn.info.pop(self._EXTRA, None)

    @contextmanager
    def named_lock(self, conn: sa.Connection, name: str, c: Connection) -> Iterator[None]:
        deadline = time.monotonic() + c.connect_timeout + 5
        while not conn.exec_driver_sql("SELECT pg_try_advisory_lock(hashtext(%s))", (name,)).scalar():
            conn.commit()
            if time.monotonic() > deadline:
                raise StoreUnavailableError(f"shared registry {c.url}: another client is setting it up; try again in a moment")
            time.sleep(0.1)
        conn.commit()
        try:
            yield
        finally:
            conn.rollback()
            conn.exec_driver_sql("SELECT pg_advisory_unlock(hashtext(%s))", (name,)).close()
            conn.commit()

    @staticmethod
    def _state(error: BaseException) -> str:
        orig = getattr(error, "orig", error)
        return str(getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None) or "")

    def message(self, error: BaseException) -> str:
        orig = getattr(error, "orig", error)
        return str(getattr(getattr(orig, "diag", None), "message_primary", None) or orig).splitlines()[0]

    def missing_tables(self, error: BaseException) -> bool:
        return self._state(error) == "42P01"  # undefined_table

    def lock_timed_out(self, error: BaseException) -> bool:
        return self._state(error) == "55P03"  # lock_not_available

    def describe(self, error: BaseException, c: Connection) -> StoreConnectionError:
        from ..components.metadata.pg_check import NoAnswer, classify

        orig: Exception = NoAnswer() if getattr(error, "zn_no_answer", False) else getattr(error, "orig", None) or Exception(str(error))
        return classify(orig, c.host, c.port, c.user, c.database, c.connect_timeout, flags="the URL")


DIALECTS: dict[str, Dialect] = {"mysql": Dialect(), "postgresql": PostgreSQLDialect()}


def dialect_of(c: Connection) -> Dialect:
    return DIALECTS[c.dialect]


def busy(c: Connection, waited: float) -> RegistryBusyError:
    return RegistryBusyError(
        f"another writer holds the shared registry {c.url}; waited {waited:.0f} s for it; try again (or raise --lock-timeout)"
    )
