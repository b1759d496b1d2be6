"""Calls with a deadline, for libraries that may wait on a network without bound.

The call runs on a daemon thread: when the deadline passes, the caller gets
:class:`DeadlineExceeded` at once, and a call still stuck in the background never keeps
the process alive at exit (a ``ThreadPoolExecutor``'s threads would: they are joined).
Only for calls that release the GIL while they wait (sockets, asyncio, fsspec); ml-metadata
does not, which is why it runs in a worker process instead (see ``components/metadata/worker``).

:func:`cut_at` is the other kind: a deadline on a database connection's socket, shut down when
it passes (the registry's PostgreSQL connections, whose driver has no client-side timeout).
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["DeadlineExceeded", "Watch", "call_with_deadline", "cut_at"]

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


class Watch:
    """One armed deadline on a connection's socket (see :func:`cut_at`)."""

    __slots__ = ("cut", "done", "fd", "lock")

    def __init__(self, fd: int) -> None:
        self.fd, self.cut, self.done = fd, False, False
        self.lock = threading.Lock()

    def fire(self) -> None:
        with self.lock:
            if self.done:
                return
            self.cut = True
            try:  # shut the socket down (the descriptor stays libpq's): its wait ends at once
                with socket.socket(fileno=os.dup(self.fd)) as sock:
                    sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> bool:
        """Disarm; whether the deadline had cut the connection."""
        with self.lock:
            self.done = True
        return self.cut


class _Watchdog:
    """One thread per process for every deadline (a thread per statement would cost more than
    the statement): a heap of deadlines; a stopped watch is dropped when it comes up."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._heap: list[tuple[float, int, Watch]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, fd: int, seconds: float) -> Watch:
        watch = Watch(fd)
        with self._cv:
            heapq.heappush(self._heap, (time.monotonic() + seconds, next(self._seq), watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="zenml-notebook-registry-watchdog", daemon=True)
                self._thread.start()
            elif self._heap[0][2] is watch:
                self._cv.notify()
        return watch

    def _run(self) -> None:
        with self._cv:
            while True:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cv.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cv.wait(wait)
                    continue
                heapq.heappop(self._heap)[2].fire()


_WATCHDOG = _Watchdog()


def cut_at(fd: int, seconds: float) -> Watch:
    """Shut the socket ``fd`` down in ``seconds`` unless the returned watch is stopped first: a
    blocking read on it then ends at once. For a server that stops answering on a connection
    whose machine still acknowledges every byte (a stopped process), which no socket timeout
    notices. One thread per process serves every deadline."""
    return _WATCHDOG.arm(fd, seconds)
