"""Results that render as aligned text (``__repr__``) and as HTML (``_repr_html_``).

Everything user-supplied is escaped in HTML: names may come from hand-edited
registries or imports even though commands refuse markup in names.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any

# State colours for markers (dots, bars, progress cells), never for text: text keeps the
# theme's colour, so it reads in light and dark themes alike. Plain hex, because JupyterLab's
# sanitizer drops `var(...)` from saved (untrusted) outputs; each has at least 3:1 contrast
# (the WCAG bar for graphics) on white and on the dark theme's #111 / #212121.
STATE_COLORS = {
    "complete": "#388e3c", "cached": "#1976d2", "failed": "#e53935", "running": "#e65100",
    "cancelled": "#757575", "incomplete": "#e65100",
}
PENDING_COLOR = "#8a8a8a"


def state_html(state: str) -> str:
    """A state as a coloured dot and the word in the theme's text colour."""
    color = STATE_COLORS.get(state, "#757575")
    return f"<span style='color:{color}' aria-hidden='true'>&#9679;</span>&nbsp;{html.escape(state)}"

__all__ = ["Details", "Message", "Table"]

_CSS = "border-collapse:collapse;font-family:var(--jp-code-font-family,monospace);font-size:12px"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


class Message:
    """A line (or a few) of plain text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and other.text == self.text

    __hash__ = None  # type: ignore[assignment]


class Table:
    """Rows under a header; ``active`` marks one row with ``*`` / bold."""

    def __init__(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        title: str = "",
        active: int | None = None,
        empty: str = "(none)",
    ) -> None:
        self.columns = list(columns)
        self.rows = [[_cell(v) for v in row] for row in rows]
        self.title = title
        self.active = active
        self.empty = empty

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        lines = [self.title] if self.title else []
        if not self.rows:
            return "\n".join([*lines, self.empty])
        header = ["", *self.columns]
        body = [["*" if i == self.active else "", *row] for i, row in enumerate(self.rows)]
        widths = [max(len(r[c]) for r in [header, *body]) for c in range(len(header))]
        for row in [header, *body]:
            lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        parts = []
        if self.title:
            parts.append(f"<div style='font-weight:bold;margin:4px 0'>{esc(self.title)}</div>")
        if not self.rows:
            parts.append(f"<div><i>{esc(self.empty)}</i></div>")
            return "".join(parts)
        parts.append(f"<table class='zenml-notebook' style='{_CSS}'><thead><tr><th></th>")
        parts.extend(f"<th style='text-align:left'>{esc(c)}</th>" for c in self.columns)
        parts.append("</tr></thead><tbody>")
        for i, row in enumerate(self.rows):
            active = i == self.active
            style = " style='font-weight:bold'" if active else ""
            mark = "<span title='active'>&#9679;</span>" if active else ""
            parts.append(f"<tr{style}><td>{mark}</td>")
            parts.extend(f"<td style='text-align:left'>{esc(v)}</td>" for v in row)
            parts.append("</tr>")
        parts.append("</tbody></table>")
        return "".join(parts)


class Details:
    """A titled list of ``key: value`` lines, optionally in sections."""

    def __init__(self, title: str, sections: Sequence[tuple[str, Sequence[tuple[str, Any]]]]):
        self.title = title
        self.sections = [(name, [(k, _cell(v)) for k, v in items]) for name, items in sections]

    def __repr__(self) -> str:
        lines = [self.title]
        for name, items in self.sections:
            indent = "  "
            if name:
                lines.append(f"  {name}")
                indent = "    "
            width = max((len(k) for k, _ in items), default=0)
            lines.extend(f"{indent}{k.ljust(width)}  {v}".rstrip() for k, v in items)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        parts = [f"<div class='zenml-notebook' style='{_CSS}'><b>{esc(self.title)}</b>"]
        for name, items in self.sections:
            if name:
                parts.append(f"<div style='margin-top:4px'><i>{esc(name)}</i></div>")
            parts.append("<table style='margin-left:12px'>")
            parts.extend(
                f"<tr><td style='text-align:left;padding-right:12px'>{esc(k)}</td>"
                f"<td style='text-align:left'>{esc(v)}</td></tr>"
                for k, v in items
            )
            parts.append("</table>")
        parts.append("</div>")
        return "".join(parts)


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


class ArtifactPreview:
    """A preview: text/JSON in a <pre>, CSV as a table, images inline, metadata otherwise."""

    def __init__(self, title: str, kind: str, meta: Sequence[tuple[str, Any]], *, text: str | None = None,
                 rows: Sequence[Sequence[str]] = (), mime: str | None = None, data_base64: str | None = None, note: str = "") -> None:
        self.title, self.kind, self.meta = title, kind, [(k, _cell(v)) for k, v in meta]
        self.text, self.rows, self.mime, self.data_base64, self.note = text, [list(r) for r in rows], mime, data_base64, note

    def __repr__(self) -> str:
        lines = [self.title, *(f"  {k}: {v}" for k, v in self.meta)]
        if self.note:
            lines.append(f"  ({self.note})")
        if self.text is not None:
            lines += ["", self.text.rstrip("\n")]
        if self.rows:
            lines += ["", repr(Table(self.rows[0], self.rows[1:])).replace("\n   ", "\n") if len(self.rows) > 1 else ", ".join(self.rows[0])]
        if self.data_base64 is not None:
            lines.append(f"  ({self.mime} image; shown in a notebook)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        parts = [f"<div class='zenml-notebook' style='{_CSS}'><b>{esc(self.title)}</b><div>"]
        parts.append(" &middot; ".join(f"{esc(k)}: {esc(v)}" for k, v in self.meta))
        parts.append("</div>")
        if self.note:
            parts.append(f"<div><i>{esc(self.note)}</i></div>")
        if self.text is not None:
            parts.append(f"<pre style='max-height:30em;overflow:auto'>{esc(self.text)}</pre>")
        if self.rows:
            parts.append(Table(self.rows[0], self.rows[1:])._repr_html_() if len(self.rows) > 1 else esc(", ".join(self.rows[0])))
        if self.data_base64 is not None and self.mime in ("image/png", "image/jpeg", "image/gif", "image/webp"):
            parts.append(f"<img style='max-width:100%' src='data:{self.mime};base64,{esc(self.data_base64)}'/>")
        parts.append("</div>")
        return "".join(parts)


class Comparison(Table):
    """Runs side by side: one row per parameter/output, differing rows marked ``≠``."""

    def __init__(
        self, runs: Sequence[str], rows: Sequence[tuple[str, Sequence[str]]], title: str = "",
        chart: tuple[str, Sequence[tuple[str, float]]] | None = None,
    ) -> None:
        self.differs = [len(set(values)) > 1 for _, values in rows]
        super().__init__(["", *runs], [["≠" if d else "", key, *values] for (key, values), d in zip(rows, self.differs, strict=True)], title=title)
        self.columns = ["", "", *runs]
        self.chart = chart  # (what is charted, [(run, value), ...])

    def _table_text(self) -> str:
        lines = [self.title] if self.title else []
        widths = [max(len(str(r[c])) for r in [self.columns, *self.rows]) for c in range(len(self.columns))]
        for row in [self.columns, *self.rows]:
            lines.append("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        return "\n".join(lines)

    def _chart_text(self) -> str:
        """The chart's text fallback: one bar per run."""
        if not self.chart:
            return ""
        what, points = self.chart
        top = max((abs(v) for _, v in points), default=0.0) or 1.0
        name_w = max(len(r) for r, _ in points)
        return "\n".join([f"{what}:"] + [f"  {r.ljust(name_w)}  {'█' * max(1, round(30 * abs(v) / top))} {v:g}" for r, v in points])

    def __repr__(self) -> str:
        chart = self._chart_text()
        return self._table_text() + (f"\n\n{chart}" if chart else "")

    def vega_lite(self) -> dict[str, Any] | None:
        """The chart as a Vega-Lite v5 spec (JupyterLab renders it natively), or None."""
        if not self.chart:
            return None
        return bar_spec(*self.chart)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The table (HTML, text with the chart's bars) as one bundle."""
        return {"text/plain": repr(self), "text/html": self._repr_html_()}

    def chart_output(self) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The chart as its own output: (data, metadata), Vega-Lite first with the text bars as
        fallback, drawn as SVG (its marks are in the page). None without a chart."""
        spec = self.vega_lite()
        if spec is None:
            return None
        return ({"application/vnd.vegalite.v5+json": spec, "text/plain": self._chart_text()},
                {"application/vnd.vegalite.v5+json": {"embed_options": {"renderer": "svg", "actions": False}}})

    def _ipython_display_(self) -> None:
        """In a notebook, two outputs: the chart, then the table. (One bundle holding both would
        be drawn as the table alone: JupyterLab prefers HTML over Vega-Lite in the same output.)"""
        from IPython.display import display

        chart = self.chart_output()
        if chart is not None:
            display(chart[0], metadata=chart[1], raw=True)
        display({"text/plain": self._table_text(), "text/html": self._repr_html_()}, raw=True)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th style='text-align:left'>{esc(c)}</th>" for c in self.columns)
        body = []
        for row, differs in zip(self.rows, self.differs, strict=True):
            # text keeps the theme's own colour (readable in light and dark); a bar and bold mark the row
            style = " style='font-weight:bold;box-shadow:inset 3px 0 #e65100'" if differs else ""
            body.append(f"<tr{style}>" + "".join(f"<td style='text-align:left'>{esc(str(v))}</td>" for v in row) + "</tr>")
        title = f"<div style='font-weight:bold'>{esc(self.title)}</div>" if self.title else ""
        return f"{title}<table class='zenml-notebook' style='{_CSS}'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


VEGA_LITE = "https://vega.github.io/schema/vega-lite/v5.json"


def bar_spec(what: str, points: Sequence[tuple[str, float]]) -> dict[str, Any]:
    """One scalar across runs as horizontal bars (run names are long, and read level beside
    their bars): the spec the notebook's `runs compare` and the explorer's compare page share."""
    return {
        "$schema": VEGA_LITE,
        "title": what,
        "description": f"{what} across {len(points)} runs",
        "data": {"values": [{"run": r, "value": v} for r, v in points]},
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "y": {"field": "run", "type": "nominal", "sort": None, "title": None, "axis": {"labelLimit": 320}},
            "x": {"field": "value", "type": "quantitative", "title": what},
        },
    }


def scatter_spec(x: str, y: str, points: Sequence[tuple[str, float, float]]) -> dict[str, Any]:
    """A parameter against an output, a point per run (e.g. learning rate vs score)."""
    return {
        "$schema": VEGA_LITE,
        "title": f"{y} by {x}",
        "description": f"{y} against {x} for {len(points)} runs",
        "data": {"values": [{"run": r, "x": a, "y": b} for r, a, b in points]},
        "mark": {"type": "point", "filled": True, "size": 70, "tooltip": {"content": "data"}},
        "encoding": {
            "x": {"field": "x", "type": "quantitative", "title": x, "scale": {"zero": False}},
            "y": {"field": "y", "type": "quantitative", "title": y, "scale": {"zero": False}},
        },
    }


def lines_spec(metric: str, x: str, points: Sequence[tuple[str, float, float]], *, log: bool = False) -> dict[str, Any]:
    """One metric over ``x`` (step, or seconds since the run's first point), a line per run:
    the explorer's overlay of runs and a run's own curves share it."""
    return {
        "$schema": VEGA_LITE,
        "title": metric,
        "description": f"{metric} by {x} for {len({r for r, _, _ in points})} run(s)",
        "data": {"values": [{"run": r, "x": a, "value": b} for r, a, b in points]},
        "mark": {"type": "line", "tooltip": True, "strokeWidth": 1.5},
        "width": 560,
        "height": 260,
        "encoding": {
            "x": {"field": "x", "type": "quantitative", "title": x},
            "y": {"field": "value", "type": "quantitative", "title": metric, "scale": {"type": "log" if log else "linear", "zero": False}},
            "color": {"field": "run", "type": "nominal", "title": None, "legend": {"labelLimit": 320}},
        },
    }
