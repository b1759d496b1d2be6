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
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

__all__ = ["LOG_NAME", "Capture", "capture"]

LOG_NAME = "logs"
_SPOOL = 1 << 20


class _Tee:
    """A text stream writing to the original stream and to the capture."""

    def __init__(self, original: Any, sink: IO[str]) -> None:
        self._original = original
        self._sink = sink

    def write(self, text: str) -> int:
        self._sink.write(text)
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
    """``logging`` records into the capture; and, when nothing else would show them (no handler
    configured), to the original stderr as Python's last-resort handler would."""

    def __init__(self, sink: IO[str], stderr: Any, show: bool) -> None:
        super().__init__(logging.NOTSET)
        self._sink = sink
        self._stderr = stderr
        self._show = show
        self.setFormatter(_FORMAT)

    def emit(self, record: logging.LogRecord) -> None:
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
def capture() -> Iterator[Capture]:
    """Tee stdout/stderr and capture ``logging`` records while the block runs."""
    cap = Capture()
    out, err = sys.stdout, sys.stderr
    root = logging.getLogger()
    handler = _Records(cap.file, err, show=not root.handlers)
    sys.stdout, sys.stderr = _Tee(out, cap.file), _Tee(err, cap.file)
    root.addHandler(handler)
    try:
        yield cap
    finally:
        root.removeHandler(handler)
        sys.stdout, sys.stderr = out, err

