"""The ``%zenml`` line magic and ``%%zenml`` cell magic (thin: parse, run, display)."""

from __future__ import annotations

import sys
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

__all__ = ["ZenMLMagics", "show_one_line"]


def show_one_line(shell: Any, etype: type[BaseException], value: BaseException, tb: Any, tb_offset: int | None = None) -> None:
    """A store failure, a missing secret or a bad argument raised from Python code in a cell
    (a pipeline run, ``Client()``) shows as one red line, like a magic's ``UsageError``: the
    message already says what failed and how to fix it, and no frame (``%xmode Verbose``
    shows their locals) is printed. A step's own failure keeps its traceback."""
    from .exceptions import PipelineRunError

    if isinstance(value, PipelineRunError):
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return
    # an error output (ipykernel) / a red line (terminal IPython) holding just the message
    shell._showtraceback(etype, value, [f"\x1b[0;31m{etype.__name__}\x1b[0m: {value}"])


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
                result = execute(split_line(line), prog="%zenml", out=sys.stdout)
                if isinstance(result, Message):
                    print(result)
                    return None
                return result
            from IPython.display import display

            for argv in parse_cell(f"{line}\n{cell}"):
                result = execute(argv, prog="%zenml", out=sys.stdout)
                if isinstance(result, Message):
                    print(result)
                elif result is not None:
                    display(result)
            return None
        except ZenMLError as exc:
            raise UsageError(str(exc)) from None
