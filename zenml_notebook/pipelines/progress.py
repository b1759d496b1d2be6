"""Live progress of a run: an updating line in a notebook, a text bar on a terminal."""

from __future__ import annotations

import html
import sys
from typing import Any

__all__ = ["Progress"]


class Progress:
    def __init__(self, run: str, steps: list[str]) -> None:
        self.run = run
        self.steps = steps
        self.states: dict[str, str] = {}
        self.state = "running"
        self._handle: Any = None
        self._tty = False
        shell = None
        if "IPython" in sys.modules:
            from IPython import get_ipython

            shell = get_ipython()
        if shell is not None and getattr(shell, "kernel", None) is not None:
            from IPython.display import display

            self._handle = display(_View(self), display_id=True)
        else:
            self._tty = sys.stderr.isatty()

    def _counts(self) -> str:
        done = sum(1 for s in self.states.values() if s == "complete")
        cached = sum(1 for s in self.states.values() if s == "cached")
        failed = [k for k, s in self.states.items() if s == "failed"]
        running = [k for k, s in self.states.items() if s == "running"]
        text = f"{done + cached}/{len(self.steps)} steps done ({cached} cached)"
        if running:
            text += f", running: {', '.join(running)}"
        if failed:
            text += f", failed: {', '.join(failed)}"
        return text

    def _render_html(self) -> str:
        from ..display import PENDING_COLOR, STATE_COLORS

        cells = "".join(
            f"<span title='{html.escape(s)}: {html.escape(self.states.get(s, 'pending'))}' style='display:inline-block;width:12px;"
            f"height:12px;margin-right:2px;background:{STATE_COLORS.get(self.states.get(s, ''), PENDING_COLOR)}'></span>"
            for s in self.steps
        )
        return f"<div class='zenml-notebook-progress'><b>{html.escape(self.run)}</b> [{html.escape(self.state)}] {cells} {html.escape(self._counts())}</div>"

    def _update(self) -> None:
        if self._handle is not None:
            self._handle.update(_View(self))
        elif self._tty:
            total = len(self.steps)
            finished = sum(1 for s in self.states.values() if s in ("complete", "cached", "failed"))
            bar = "#" * int(20 * finished / max(total, 1))
            sys.stderr.write(f"\r{self.run} [{bar:<20}] {self._counts()}\033[K")
            sys.stderr.flush()

    def start(self, step: str) -> None:
        self.states[step] = "running"
        self._update()

    def done(self, step: str, state: str) -> None:
        self.states[step] = state
        self._update()

    def close(self, state: str) -> None:
        self.state = state
        self._update()
        if self._tty and self._handle is None:
            sys.stderr.write("\n")


class _View:
    """What the notebook shows: coloured squares in HTML, a line of text elsewhere."""

    def __init__(self, progress: Progress) -> None:
        self.html = progress._render_html()
        self.text = f"{progress.run} [{progress.state}] {progress._counts()}"

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text
