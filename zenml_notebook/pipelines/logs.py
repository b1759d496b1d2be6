"""What a step printed: stdout, stderr and ``logging`` records, captured while it runs.

The output still shows live (the notebook cell, the terminal, a Dask worker's log): streams are
teed, not replaced. The capture spools to memory and, past 1 MiB, to a temporary file, so a step
that prints 50 MB never holds it in memory; it is stored next to the step's outputs as
``logs.txt`` and linked to the execution in ml-metadata (an INTERNAL_OUTPUT event named "logs").
A step that prints nothing stores nothing.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

__all__ = ["LOG_NAME", "Capture", "capture"]

LOG_NAME = "logs"
_SPOOL = 1 << 20


class _Sink:
    """Where one running step's output goes: its capture, and (unless it runs in the background)
    the stream it would have gone to anyway."""

    def __init__(self, file: IO[str], echo: bool) -> None:
        self.file = file
        self.echo = echo


_SINKS: dict[int, _Sink] = {}  # thread id -> the capture of the step running in it
_LOCK = threading.Lock()
_ORIGINAL: list[Any] = []  # [stdout, stderr] while routers are installed


def _sink_for(thread: int | None) -> _Sink | None:
    """The capture a thread's output belongs to: its own step's; for a thread a step started
    itself (not the main thread: that is the user's other cells), the one step running."""
    sink = _SINKS.get(thread) if thread is not None else None
    if sink is None and thread != threading.main_thread().ident and len(_SINKS) == 1:
        sink = next(iter(_SINKS.values()))
    return sink


class _Router:
    """Stands in for sys.stdout/sys.stderr while steps run: text goes to the stream as always,
    and also to the capture of the step whose thread wrote it - so two runs at once (one in the
    background) never mix their logs, nor take the user's other output into them."""

    def __init__(self, original: Any) -> None:
        self._original = original

    def write(self, text: str) -> int:
        sink = _sink_for(threading.get_ident())
        if sink is not None:
            sink.file.write(text)
            if not sink.echo:
                return len(text)
        try:
            return int(self._original.write(text))
        except (ValueError, OSError):  # the original was closed: the capture still has it
            return len(text)

    def flush(self) -> None:
        try:
            self._original.flush()
        except (ValueError, OSError):
            pass

    def __getattr__(self, name: str) -> Any:  # isatty, encoding, fileno... of the original
        return getattr(self._original, name)


_FORMAT = logging.Formatter("%(levelname)s:%(name)s:%(message)s")


class _Records(logging.Handler):
    """``logging`` records of the step's threads into the capture; and, when nothing else would
    show them (no handler configured), to the original stderr as Python's last-resort handler would."""

    def __init__(self, sink: _Sink, stderr: Any, show: bool) -> None:
        super().__init__(logging.NOTSET)
        self._owner = sink
        self._sink = sink.file
        self._stderr = stderr
        self._show = show and sink.echo
        self.setFormatter(_FORMAT)

    def emit(self, record: logging.LogRecord) -> None:
        if _sink_for(record.thread) is not self._owner:
            return  # another run's, or the user's own
        try:
            line = self.format(record) + "\n"
        except Exception:
            line = f"{record.levelname}:{record.name}:{record.msg!r}\n"
        self._sink.write(line)
        if self._show and record.levelno >= logging.WARNING:
            self._stderr.write(line)


class Capture:
    """The captured text of one step (spooled; read it once, or copy it to the store)."""

    def __init__(self) -> None:
        self.file = tempfile.SpooledTemporaryFile(max_size=_SPOOL, mode="w+", encoding="utf-8", errors="replace")

    @property
    def size(self) -> int:
        return int(self.file.tell())

    def store(self, store: Any, path: str) -> tuple[str, str] | None:
        """Write it to ``path`` in the artifact store; (URI, sha256 prefix), or None when empty."""
        import hashlib

        if not self.size:
            self.file.close()
            return None
        self.file.seek(0)
        digest = hashlib.sha256()
        with store.open_write(path) as out:
            while chunk := self.file.read(1 << 16):
                data = chunk.encode("utf-8")
                digest.update(data)
                out.write(data)
        self.file.close()
        return store.full_uri(path), digest.hexdigest()[:32]


@contextmanager
def capture(*, echo: bool = True) -> Iterator[Capture]:
    """Capture what this thread (a running step) prints and logs while the block runs; with
    ``echo`` it still shows as usual (a background run's does not: it has no cell to show in)."""
    cap = Capture()
    sink = _Sink(cap.file, echo)
    me = threading.get_ident()
    with _LOCK:
        if not _SINKS or not isinstance(sys.stdout, _Router):
            _ORIGINAL[:] = [sys.stdout, sys.stderr]
            sys.stdout, sys.stderr = _Router(sys.stdout), _Router(sys.stderr)
        _SINKS[me] = sink
        err = _ORIGINAL[1]
    root = logging.getLogger()
    handler = _Records(sink, err, show=not any(not isinstance(h, _Records) for h in root.handlers))
    root.addHandler(handler)
    try:
        yield cap
    finally:
        root.removeHandler(handler)
        with _LOCK:
            _SINKS.pop(me, None)
            if not _SINKS and isinstance(sys.stdout, _Router) and _ORIGINAL:
                sys.stdout, sys.stderr = _ORIGINAL
                _ORIGINAL.clear()
