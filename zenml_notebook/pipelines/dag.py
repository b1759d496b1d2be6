"""The DAG of a run as an SVG picture: no JavaScript, so it survives nbconvert and static
notebook viewers. Steps are boxes outlined in their state's colour, laid out in layers by longest
path from the sources, left to right; edges carry the artifact's name.

The run card shows it as an ``<img>`` with a data URI, not inline SVG: an untrusted notebook's
HTML is sanitised, which drops inline ``<svg>`` but keeps its text, and would print the step names
as a garbled line. An image is shown whole or not at all; it carries its own light background
and dark text, so it reads the same in light and dark themes."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

__all__ = ["layers", "run_svg"]

_H, _GAP_X, _GAP_Y, _PAD = 28, 56, 14, 8
# its own paper and ink (an image does not inherit the page's colours): >= 4.5:1 text contrast
_PAPER, _INK, _LABEL, _EDGE = "#ffffff", "#1f1f1f", "#4d4d4d", "#8a8a8a"


def layers(steps: Sequence[Any]) -> tuple[dict[str, int], list[tuple[str, str, str]]]:
    """Each step's layer (longest path from a source) and the edges (producer, consumer, artifact
    name), from the steps' input and output artifact ids."""
    producer: dict[int, tuple[str, str]] = {}
    for s in steps:
        for out_name, art in s.outputs.items():
            producer.setdefault(getattr(art, "id", art), (s.name, out_name))
    edges = []
    for s in steps:
        for art_id in s.inputs.values():
            if art_id in producer and producer[art_id][0] != s.name:
                edges.append((producer[art_id][0], s.name, producer[art_id][1]))
    layer = {s.name: 0 for s in steps}
    for _ in range(len(steps)):  # steps are recorded in an order where producers come first
        changed = False
        for a, b, _name in edges:
            if layer[b] < layer[a] + 1:
                layer[b], changed = layer[a] + 1, True
        if not changed:
            break
    return layer, edges


def run_svg(run_name: str, steps: Sequence[Any], colors: dict[str, str]) -> str:
    """``steps`` have ``name``, ``state``, ``duration``, ``inputs`` (arg -> artifact id) and
    ``outputs`` (name -> artifact or id)."""
    if not steps:
        return ""
    layer, edges = layers(steps)
    width = {s.name: min(max(60, 7 * len(s.name) + 2 * _PAD), 220) for s in steps}
    column_width = [0] * (max(layer.values()) + 1)
    rows: dict[int, int] = {}
    position: dict[str, tuple[int, int]] = {}
    for s in steps:
        column_width[layer[s.name]] = max(column_width[layer[s.name]], width[s.name])
    x_of = [sum(column_width[:i]) + i * _GAP_X + 2 for i in range(len(column_width))]
    for s in steps:
        row = rows.get(layer[s.name], 0)
        rows[layer[s.name]] = row + 1
        position[s.name] = (x_of[layer[s.name]], row * (_H + _GAP_Y) + 2)
    total_w = x_of[-1] + column_width[-1] + 4
    total_h = max(rows.values()) * (_H + _GAP_Y) + 4
    marker = "zn-arrow-" + hashlib.sha1(run_name.encode()).hexdigest()[:10]  # noqa: S324 - an id, not security
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{total_h}" viewBox="0 0 {total_w} {total_h}" '
        f'role="img" aria-label={quoteattr(f"steps of run {run_name}")} font-family="sans-serif" font-size="12">',
        f'<defs><marker id="{marker}" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto">'
        f'<path d="M0,0 L8,4 L0,8 z" fill="{_EDGE}"/></marker></defs>',
        f'<rect x="0" y="0" width="{total_w}" height="{total_h}" rx="6" fill="{_PAPER}"/>',
    ]
    for a, b, name in edges:
        (ax, ay), (bx, by) = position[a], position[b]
        x1, y1, x2, y2 = ax + width[a], ay + _H / 2, bx, by + _H / 2
        mid = (x1 + x2) / 2
        parts.append(
            f'<path d="M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}" fill="none" stroke="{_EDGE}" marker-end="url(#{marker})"/>'
            f'<text x="{mid:.0f}" y="{(y1 + y2) / 2 - 3:.0f}" text-anchor="middle" font-size="10" fill="{_LABEL}">{escape(name)}</text>'
        )
    for s in steps:
        x, y = position[s.name]
        color = colors.get(s.state, "#757575")
        label = s.name if len(s.name) * 7 <= width[s.name] - 2 * _PAD else s.name[: (width[s.name] - 2 * _PAD) // 7 - 1] + "…"
        parts.append(
            f'<g class="zn-step" data-state={quoteattr(s.state)}><title>{escape(f"{s.name}: {s.state}, {s.duration * 1000:.1f} ms")}</title>'
            f'<rect x="{x}" y="{y}" width="{width[s.name]}" height="{_H}" rx="5" fill={quoteattr(color)} fill-opacity="0.14" '
            f'stroke={quoteattr(color)} stroke-width="2"/>'
            f'<text x="{x + _PAD}" y="{y + 18}" fill="{_INK}">{escape(label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
