"""The ``%zenml`` line magic and ``%%zenml`` cell magic (thin: parse, run, display)."""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

__all__ = ["ZenMLMagics"]


@magics_class
class ZenMLMagics(Magics):
    """``%zenml stack list`` runs one command; a ``%%zenml`` cell runs one per line."""

    @line_cell_magic
    def zenml(self, line: str, cell: str | None = None) -> Any:
        """Manage stacks from a notebook; ``%zenml --help`` lists the commands."""
        from .commands import execute, parse_cell, split_line
        from .display import Message
        from .exceptions import ZenMLError

        try:
            if cell is None:
                result = execute(split_line(line), prog="%zenml")
                if isinstance(result, Message):
                    print(result)
                    return None
                return result
            from IPython.display import display

            for argv in parse_cell(f"{line}\n{cell}"):
                result = execute(argv, prog="%zenml")
                if isinstance(result, Message):
                    print(result)
                elif result is not None:
                    display(result)
            return None
        except ZenMLError as exc:
            raise UsageError(str(exc)) from None
