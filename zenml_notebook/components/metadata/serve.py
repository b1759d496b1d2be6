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
    while True:
        try:
            method, args, kwargs = pickle.loads(conn.recv_bytes())  # noqa: S301 - our own child (or parent) over a private socketpair
        except (EOFError, OSError):
            return
        try:
            if method == "open":
                value = None
            elif method == "check":  # the pre-flight alone: what `metadata test` reports
                value = preflight(record)
            else:
                if store is None:
                    # MySQL is what workers are for; SQLite only when benchmarks/bench_worker.py compares
                    opener = {"sqlite": open_sqlite, "postgresql": open_postgresql_here}.get(record.flavor, open_mysql_here)
                    store = opener(record, Repository(init["root"]))
                value = getattr(store, method)(*args, **kwargs)
            reply: tuple[Any, ...] = ("ok", value)
        except _exc.ZenMLError as error:
            reply = ("error", type(error).__name__, str(error))
        except (ValueError, TypeError, KeyError) as error:  # a bad argument: raised as such in the caller
            reply = ("error", type(error).__name__, str(error))
        except Exception as error:
            reply = ("error", "StoreConnectionError", f"ml-metadata failed ({type(error).__name__}: {error})")
        try:
            conn.send_bytes(pickle.dumps(reply))
        except OSError:
            return


if __name__ == "__main__":
    serve(int(sys.argv[1]))
