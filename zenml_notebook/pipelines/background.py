"""Background runs: ``training.submit(lr=0.1)`` returns a :class:`RunHandle` at once and the run
goes on in a thread of this process, so the notebook's next cells run meanwhile.

What happens before the first step (checking the stack, recording the run as started) happens
in the caller, so a mistake is raised right there and the run is listed at once. The steps run
in a thread (with the local orchestrator, in this process: they see its globals as they are
while they run; with Dask, the thread only drives the cluster). A step's output goes to its log
only; the cell that submitted shows its progress in a widget. An error never surfaces in another
cell: ``wait()`` raises it, and the sidebar notifies when a run ends while its notebook is not in
front. ``cancel()`` lets the running step finish and starts no other; the run is recorded
``cancelled``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ..exceptions import UsageError

if TYPE_CHECKING:
    from .runner import Started
    from .runs import Run

__all__ = ["RunHandle", "submit"]


class RunHandle:
    """A run going on in the background: ``name``, ``status``, ``wait()``, ``cancel()``."""

    def __init__(self, started: Started) -> None:
        from .runner import BACKGROUND_THREAD

        self._started = started
        self.name = started.name
        self._done = threading.Event()
        self._result: Run | None = None
        self._error: BaseException | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=self._main, name=f"{BACKGROUND_THREAD}-{self.name}", daemon=False)
        self._thread.start()

    def _main(self) -> None:
        from .runner import drive_run

        try:
            self._result = drive_run(self._started)
        except BaseException as exc:  # kept for wait(): it must not surface in another cell
            self._error = exc
        finally:
            self._done.set()

    @property
    def status(self) -> str:
        """running, complete, failed or cancelled."""
        if not self._done.is_set():
            return "running"
        if self._result is not None:
            return "complete"
        return "cancelled" if isinstance(self._error, KeyboardInterrupt) else "failed"

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> Run:
        """The finished :class:`Run`; raises what the run raised (PipelineRunError for a failed
        step), or UsageError when ``timeout`` seconds pass first (the run goes on)."""
        if not self._done.wait(timeout):
            raise UsageError(f"run {self.name!r} is still running after {timeout:g} s; wait() again, or cancel() it")
        if isinstance(self._error, KeyboardInterrupt):
            raise UsageError(f"run {self.name!r} was cancelled; its finished steps are kept (`runs describe {self.name}`)")
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def cancel(self) -> None:
        """Start no further step; the step running now finishes, and the run is recorded cancelled."""
        self._cancelled = True
        self._started.ctx.cancelled.set()

    def __repr__(self) -> str:
        return f"RunHandle({self.name!r}, status={self.status!r})"


def submit(pipeline: str, graph: Any, *, stack: str | None = None, cache: bool = True, run_name: str | None = None) -> RunHandle:
    from .runner import start_run

    return RunHandle(start_run(pipeline, graph, stack=stack, cache=cache, run_name=run_name, background=True))
