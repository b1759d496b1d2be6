"""Transfers to and from object stores: parts small enough to keep memory flat, and a progress
line for long ones.

Parts are a tenth of the object, between 5 MiB (S3's smallest multipart part) and 64 MiB, in
multiples of 256 KiB (what a GCS resumable upload takes), and only objects over 1.25 GiB have
more than one in flight: the clients hold two or three copies of a part, so a transfer holds
about a fifth to a third of the object beyond the object itself, and never more than ~200 MiB
per part in flight. Left alone, fsspec's clients read a whole object under 100 MiB in one piece
(s3fs, gcsfs), keep up to ten 50 MiB parts in flight (s3fs) or prefetch 128 MiB (gcsfs). Smaller
parts would cost a request each: on fake-gcs-server 120 MiB takes 1.2 s in one request, 2.3 s in
12 MiB parts and 3.5-5 s in 5 MiB parts.

Uploads and downloads of artifacts go through fsspec's ``put_file``/``get_file``, which report
bytes to a callback. A transfer that is still going after ``$ZENML_NOTEBOOK_TRANSFER_NOTICE``
seconds (default 3) starts a line on stderr - "uploading run-1/fit/model.npy: 120.0 of 256.0 MiB
(47 %)" - updated in place at most every half second and finished when it ends; a short one
prints nothing. In a notebook, stderr is the cell's output; in a step, it is also kept in the
step's logs.
"""

from __future__ import annotations

import inspect
import os
import sys
import time
from typing import Any

from fsspec.callbacks import Callback

__all__ = ["ENV_NOTICE", "TransferProgress", "part_options"]

ENV_NOTICE = "ZENML_NOTEBOOK_TRANSFER_NOTICE"
_MIN_PART, _MAX_PART, _ALIGN = 5 * 2**20, 64 * 2**20, 2**18


def part_options(fs: Any, flavor: str, size: int, *, upload: bool) -> dict[str, Any]:
    """``fs.put_file`` (``upload``) or ``fs.get_file`` keywords for an object of ``size`` bytes:
    only those the installed client takes (an older gcsfs would send unknown ones to GCS as
    query parameters; an older s3fs to S3 as request fields)."""
    part = min(max(size // 10, _MIN_PART), _MAX_PART)
    part += -part % _ALIGN  # round up to a multiple of 256 KiB
    in_flight = max(1, min(4, size // (20 * part)))  # parts at once: the clients hold about two copies of each
    if flavor == "s3":
        wanted = {"chunksize": part, "max_concurrency": in_flight}
        method = type(fs)._put_file if upload else type(fs)._get_file
        return {k: v for k, v in wanted.items() if k in inspect.signature(method).parameters}
    if flavor == "gcs":
        if upload:  # gcsfs uploads one part at a time
            return {"chunksize": part} if "chunksize" in inspect.signature(type(fs)._put_file).parameters else {}
        if hasattr(type(fs), "_get_file_concurrent"):  # gcsfs 2026: it takes (and removes) these
            return {"concurrency": in_flight, "chunk_size": part, "max_prefetch_size": in_flight * part}
    return {}


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
