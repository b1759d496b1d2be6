"""How records read in a terminal and a notebook: component and stack details, summaries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..display import Details
from ..flavors import KIND_LABELS, KINDS
from ..registry import when as local_time
from ..secrets import mask_config

if TYPE_CHECKING:
    from ..api import StackDescription
    from ..registry import ComponentRecord, StackRecord

__all__ = ["changed", "component_details", "stack_details", "summary", "when"]


def when(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    from datetime import datetime

    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def changed(record: ComponentRecord | StackRecord) -> str:
    """Who changed a record last, and when ("14:02 by ana@laptop")."""
    return f"{local_time(record.updated)} by {record.updated_by}" if record.updated_by else local_time(record.updated)


def summary(record: ComponentRecord) -> str:
    return ", ".join(f"{k}={v}" for k, v in mask_config(record.config).items())


def component_details(record: ComponentRecord, used_by: list[str]) -> Details:
    items = [("flavor", record.flavor), *mask_config(record.config).items()]
    items += [("used by", ", ".join(used_by) or "(no stack)"), ("changed", changed(record))]
    return Details(f"{KIND_LABELS[record.kind]} {record.name!r}", [("", items)])


def stack_details(desc: StackDescription) -> Details:
    title = f"stack {desc.stack.name!r}" + (" (active)" if desc.active else "") + f", changed {changed(desc.stack)}"
    sections = []
    for kind in KINDS:
        c = desc.components[kind]
        source = f" ({desc.source(kind)})" if desc.source(kind) else ""
        sections.append((f"{KIND_LABELS[kind]}: {c.name}{source}", [("flavor", c.flavor), *mask_config(c.config).items()]))
    return Details(title, sections)


