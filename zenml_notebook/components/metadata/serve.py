"""The child side of :mod:`.worker`: a process that opens one metadata store and answers calls
over a private socket (started as ``python -m zenml_notebook.components.metadata.serve FD``).
Kept apart from the parent side so that the worker module never imports the package that
opens stores (the child does, on purpose: it is the one that opens them)."""

from __future__ import annotations

import pickle
import signal
import sys
from multiprocessing.connection import Connection
from typing import Any

from ... import exceptions as _exc
from ... import secrets as _secrets


def _die_with_parent() -> None:
    """Linux: the kernel kills us when the process that started us ends (even mid-call)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def serve(fd: int) -> None:
    """Serve one store over ``fd`` until the parent closes it."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(fd)
    init = pickle.loads(conn.recv_bytes())  # noqa: S301 - our own child (or parent) over a private socketpair
    _secrets.ENV_OWNER.set(init["env_owner"])
    from ...registry import ComponentRecord
    from ...repository import Repository
    from . import open_mysql_here, open_postgresql_here, open_sqlite, preflight

    record = ComponentRecord(**init["record"])
    store: Any = None

    def opened() -> Any:
        nonlocal store
        if store is None:
            # MySQL is what workers are for; SQLite for a long run's writer (overlap_writes) and benchmarks/bench_worker.py
            opener = {"sqlite": open_sqlite, "postgresql": open_postgresql_here}.get(record.flavor, open_mysql_here)
            store = opener(record, Repository(init["root"]))
        return store

    def answer(method: str, args: Any, kwargs: Any) -> Any:
        if method == "open":
            return None
        if method == "check":  # the pre-flight alone: what `metadata test` reports
            return preflight(record)
        return getattr(opened(), method)(*args, **kwargs)

    held: Any = None  # a call read while gathering records, answered next
    idle = float(init.get("idle_exit") or 0)
    while True:
        try:
            if held is None and idle and not conn.poll(idle):
                return  # nothing asked for that long (a long run's writer): the parent starts another when needed
            message = held or pickle.loads(conn.recv_bytes())  # noqa: S301 - our own child (or parent) over a private socketpair
        except (EOFError, OSError):
            return
        held = None
        method, args, kwargs = message
        replies: list[tuple[Any, ...]] = []
        if method == "record_step_chained" and _gathers(opened):
            # the records sent while the last ones were written: committed together (record_steps_chained)
            calls = [(args, kwargs)]
            try:
                while len(calls) < GATHER_MAX and conn.poll(0):
                    method, args, kwargs = pickle.loads(conn.recv_bytes())  # noqa: S301 - as above
                    if method != "record_step_chained":
                        held = (method, args, kwargs)
                        break
                    calls.append((args, kwargs))
            except (EOFError, OSError):
                pass  # what was read is written; the loop then ends
            if len(calls) > 1:  # into ZENML_NOTEBOOK_WORKER_LOG when set (what tests read), else nowhere
                print(f"gathered {len(calls)} records", file=sys.stderr)
            try:
                outcomes: list[Any] = opened().record_steps_chained(calls)
            except Exception as error:  # the store could not be opened: every record gets that answer
                outcomes = [error] * len(calls)
            replies = [_classified(o) if isinstance(o, Exception) else ("ok", o) for o in outcomes]
        else:
            try:
                replies = [("ok", answer(method, args, kwargs))]
            except Exception as error:
                replies = [_classified(error)]
        try:
            for reply in replies:
                conn.send_bytes(pickle.dumps(reply))
        except OSError:
            return


GATHER_MAX = 64  # records committed at once by a writer at most


def _gathers(opened: Any) -> bool:
    """Whether the store commits records together (SQLite); on the others each record is
    answered as soon as it is written, so that what the parent reads is what is written."""
    try:
        return bool(opened().keyed)
    except Exception:  # it cannot be opened: the single-call path says why
        return False


def _classified(error: Exception) -> tuple[Any, ...]:
    """An error as the parent raises it again (see worker.WorkerStore._reply)."""
    if isinstance(error, _exc.ZenMLError):
        return ("error", type(error).__name__, str(error))
    if isinstance(error, (ValueError, TypeError, KeyError)):  # a bad argument: raised as such in the caller
        return ("error", type(error).__name__, str(error))
    return ("error", "StoreConnectionError", f"ml-metadata failed ({type(error).__name__}: {error})")


if __name__ == "__main__":
    serve(int(sys.argv[1]))
