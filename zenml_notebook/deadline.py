"""Calls with a deadline, for libraries that may wait on a network without bound.

The call runs on a daemon thread: when the deadline passes, the caller gets
:class:`DeadlineExceeded` at once, and a call still stuck in the background never keeps
the process alive at exit (a ``ThreadPoolExecutor``'s threads would: they are joined).
Only for calls that release the GIL while they wait (sockets, asyncio, fsspec); ml-metadata
does not, which is why it runs in a worker process instead (see ``components/metadata/worker``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["DeadlineExceeded", "call_with_deadline"]

T = TypeVar("T")


class DeadlineExceeded(Exception):
    """The call did not finish in time (it may still be running in the background)."""


def call_with_deadline(fn: Callable[[], T], timeout: float, name: str = "zenml-notebook-call") -> T:
    """``fn()``, or DeadlineExceeded after ``timeout`` seconds; its exception is re-raised here."""
    done = threading.Event()
    box: list[object] = [None, None]

    def run() -> None:
        try:
            box[0] = fn()
        except BaseException as exc:
            box[1] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=name, daemon=True).start()
    if not done.wait(timeout):
        raise DeadlineExceeded
    if box[1] is not None:
        raise box[1]  # type: ignore[misc]
    return box[0]  # type: ignore[return-value]
