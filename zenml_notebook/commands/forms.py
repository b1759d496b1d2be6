"""``form mysql|postgresql|artifacts|tracker|stack``: the ipywidget forms (in a notebook only)."""

from __future__ import annotations

import argparse
from typing import Any

from ..exceptions import UsageError
from ._base import add

__all__ = ["add_parsers"]


def _form(args: argparse.Namespace) -> Any:
    if args.prog != "%zenml":
        raise UsageError("forms need a notebook; in a terminal use `metadata register NAME --flavor mysql ... --passwd` (it prompts)")
    from .. import widgets

    if args.which == "stack":
        return widgets.stack_form()
    if args.which == "tracker":
        return widgets.tracker_form(args.name)
    if args.which in ("mysql", "postgresql"):
        form = widgets.mysql_form(args.name)
        if args.which == "postgresql" and form.flavor.value != "postgresql" and not args.name:
            form.flavor.value = "postgresql"
        return form
    return widgets.artifacts_form(args.name)


def add_parsers(sub: Any) -> None:
    p = add(sub, "form", "a form (in a notebook): mysql or postgresql, artifacts, tracker (MLflow) or stack; secrets never go into cells", _form)
    p.add_argument("which", choices=["mysql", "postgresql", "artifacts", "tracker", "stack"], metavar="mysql|postgresql|artifacts|tracker|stack")
    p.add_argument("name", nargs="?", metavar="NAME", help="pre-fill from this registered component")


