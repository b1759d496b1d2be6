"""Live progress of a run: an updating line in a notebook, a text bar on a terminal.

Redrawn at most every ``Progress.EVERY`` seconds (and always for a failure and at the end), from
counts kept as steps change: a 3 000-step run redrawn at every step cost 3.9 ms a step and sent
2.2 GB of HTML to the notebook. A run of up to ``SQUARES`` steps shows a square per step; a bigger
one a bar with a segment per state.
"""

from __future__ import annotations

import html
import sys
import time
from typing import Any

__all__ = ["Progress"]


class Progress:
    EVERY = 0.25  # seconds between redraws
    SQUARES = 200  # steps drawn one square each; above, one bar

    def __init__(self, run: str, steps: list[str], *, background: bool = False, quiet: bool = False) -> None:
        self.run = run
        self.steps = steps
        self.states: dict[str, str] = {}
        self.state = "running"
        self._count = {"complete": 0, "cached": 0, "failed": 0}
        self._running: dict[str, None] = {}  # in the order they started
        self._failed: list[str] = []
        self._drawn = 0.0
        self._handle: Any = None
        self._curves: Any = None  # the live metric curves' display (made at the first metric)
        self._widget: Any = None  # a background run's progress: a widget, updated from its thread
        self._series: dict[str, list[tuple[str, int, float, float]]] = {}  # step -> its points so far
        self._tty = False
        shell = None
        if quiet:  # a detached run: its driver is elsewhere, nothing is drawn here
            return
        if "IPython" in sys.modules:
            from IPython import get_ipython

            shell = get_ipython()
        if shell is not None and getattr(shell, "kernel", None) is not None and background:
            # the submitting cell has finished by the time the run moves on, and a notebook ignores
            # a finished cell's updates; a widget's are messages of its own and still arrive
            try:
                import ipywidgets
            except ImportError:
                return
            from IPython.display import display

            self._widget = ipywidgets.HTML(value=self._render_html())
            display(self._widget)
            self._drawn = time.monotonic()
        elif shell is not None and getattr(shell, "kernel", None) is not None:
            from IPython.display import display

            self._handle = display(_View(self), display_id=True)
            self._drawn = time.monotonic()
        elif background:
            return  # a background run in a terminal draws no bar over what the user types
        else:
            self._tty = sys.stderr.isatty()

    def _counts(self) -> str:
        done, cached = self._count["complete"], self._count["cached"]
        text = f"{done + cached}/{len(self.steps)} steps done ({cached} cached)"
        if self._running:
            names = list(self._running)
            text += f", running: {', '.join(names[:3])}{f' and {len(names) - 3} more' if len(names) > 3 else ''}"
        if self._failed:
            text += f", failed: {', '.join(self._failed)}"
        return text

    def _render_html(self) -> str:
        from ..display import PENDING_COLOR, STATE_COLORS

        if len(self.steps) <= self.SQUARES:
            cells = "".join(
                f"<span title='{html.escape(s)}: {html.escape(self.states.get(s, 'pending'))}' style='display:inline-block;width:12px;"
                f"height:12px;margin-right:2px;background:{STATE_COLORS.get(self.states.get(s, ''), PENDING_COLOR)}'></span>"
                for s in self.steps
            )
        else:  # one bar: a segment per state, in proportion
            total = len(self.steps)
            parts = [*self._count.items(), ("running", len(self._running))]
            pending = total - sum(n for _, n in parts)
            segments = "".join(
                f"<span title='{n} {state}' style='display:inline-block;height:12px;width:{100 * n / total:.3f}%;"
                f"background:{STATE_COLORS.get(state, PENDING_COLOR)}'></span>"
                for state, n in [*parts, ("pending", pending)] if n
            )
            cells = f"<span style='display:inline-flex;width:240px;vertical-align:middle'>{segments}</span>"
        return f"<div class='zenml-notebook-progress'><b>{html.escape(self.run)}</b> [{html.escape(self.state)}] {cells} {html.escape(self._counts())}</div>"

    def _update(self, *, force: bool = False) -> None:
        if self._handle is None and self._widget is None and not self._tty:
            return
        now = time.monotonic()
        if not force and now - self._drawn < self.EVERY:
            return
        self._drawn = now
        if self._widget is not None:
            self._widget.value = self._render_html()
        elif self._handle is not None:
            self._handle.update(_View(self))
        else:
            total = len(self.steps)
            finished = sum(self._count.values())
            bar = "#" * int(20 * finished / max(total, 1))
            sys.stderr.write(f"\r{self.run} [{bar:<20}] {self._counts()}\033[K")
            sys.stderr.flush()

    @property
    def live(self) -> bool:
        """Whether metric curves can be drawn as they grow (a notebook kernel)."""
        return self._handle is not None

    def metrics(self, step: str, points: list[tuple[str, int, float, float]]) -> None:
        """Redraw the live curves with a step's points so far (its recorder limits the rate)."""
        from IPython.display import display

        self._series[step] = points
        view = _Curves(self.run, self._series)
        if self._curves is None:
            self._curves = display(view, display_id=True)
        else:
            self._curves.update(view)

    def start(self, step: str) -> None:
        self.states[step] = "running"
        self._running[step] = None
        self._update()

    def done(self, step: str, state: str) -> None:
        self.states[step] = state
        self._running.pop(step, None)
        if state in self._count:
            self._count[state] += 1
        if state == "failed":
            self._failed.append(step)
        self._update(force=state == "failed")

    def close(self, state: str) -> None:
        self.state = state
        self._update(force=True)
        if self._tty and self._handle is None and self._widget is None:
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


CURVE_POINTS = 300  # per metric in a live chart: min and max per bucket, so spikes survive


class _Curves:
    """Live metric curves: a Vega-Lite line per metric (faceted), text sparklines as fallback."""

    def __init__(self, run: str, series: dict[str, list[tuple[str, int, float, float]]]) -> None:
        from .metrics import Series, downsample, sparkline

        self.run = run
        self.values: list[dict[str, Any]] = []
        self.lines: list[str] = []
        for step, points in series.items():
            by_name: dict[str, list[tuple[int, float]]] = {}
            for name, i, v, _ in points:
                by_name.setdefault(name, []).append((i, v))
            for name, pts in by_name.items():
                pts.sort()
                from array import array

                s = Series(name, array("q", [p[0] for p in pts]), array("d", [p[1] for p in pts]), array("d"))
                d = downsample(s, CURVE_POINTS)
                label = f"{step}.{name}" if len(series) > 1 else name
                self.values += [{"metric": label, "step": a, "value": b} for a, b in zip(d["steps"], d["values"], strict=True)]
                lo, hi = d["min"], d["max"]
                spark = sparkline(d["values"], 24)
                self.lines.append(f"{label}  {spark}  last={pts[-1][1]:g} min={lo:g} max={hi:g} ({d['count']} points)")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
        spec = {
            "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "description": f"metrics of run {self.run}",
            "data": {"values": self.values},
            "facet": {"field": "metric", "type": "nominal", "title": None},
            "columns": 3,
            "resolve": {"scale": {"y": "independent"}},
            "spec": {"width": 220, "height": 110, "mark": {"type": "line", "tooltip": True},
                     "encoding": {"x": {"field": "step", "type": "quantitative"}, "y": {"field": "value", "type": "quantitative", "scale": {"zero": False}}}},
        }
        return ({"application/vnd.vegalite.v5+json": spec, "text/plain": "\n".join(self.lines)},
                {"application/vnd.vegalite.v5+json": {"embed_options": {"renderer": "svg", "actions": False}}})

    def __repr__(self) -> str:
        return "\n".join(self.lines)
