"""A progress line for long transfers to and from object stores.

Uploads and downloads of artifacts go through fsspec's ``put_file``/``get_file``, which report
bytes to a callback. A transfer that is still going after ``$ZENML_NOTEBOOK_TRANSFER_NOTICE``
seconds (default 3) starts a line on stderr - "uploading run-1/fit/model.npy: 120.0 of 256.0 MiB
(47 %)" - updated in place at most every half second and finished when it ends; a short one
prints nothing. In a notebook, stderr is the cell's output; in a step, it is also kept in the
step's logs.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from fsspec.callbacks import Callback

__all__ = ["ENV_NOTICE", "TransferProgress"]

ENV_NOTICE = "ZENML_NOTEBOOK_TRANSFER_NOTICE"


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f}"


class TransferProgress(Callback):  # type: ignore[misc]
    """fsspec's callback: counts bytes, and shows them once the transfer has taken a while."""

    def __init__(self, verb: str, what: str, size: int | None = None) -> None:
        super().__init__(size=size)
        self.verb, self.what = verb, what
        self.started = time.monotonic()
        self.after = float(os.environ.get(ENV_NOTICE, "3") or 3)
        self.shown_at = 0.0
        self.shown = False

    def call(self, *args: Any, **kwargs: Any) -> None:
        now = time.monotonic()
        if now - self.started < self.after or now - self.shown_at < 0.5:
            return
        self.shown_at, self.shown = now, True
        total = f" of {_mib(self.size)} MiB ({100 * self.value // self.size} %)" if self.size else " MiB"
        sys.stderr.write(f"\r{self.verb} {self.what}: {_mib(self.value)}{total}   ")
        sys.stderr.flush()

    def finish(self) -> None:
        """End the line (if one was shown) with the total and the time it took."""
        if self.shown:
            took = time.monotonic() - self.started
            sys.stderr.write(f"\r{self.verb} {self.what}: {_mib(self.value)} MiB in {took:.1f} s{' ' * 12}\n")
            sys.stderr.flush()
