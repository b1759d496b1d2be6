"""What every command module shares: the parser that raises instead of exiting, the
``add`` helper that puts a parser beside its handler, and argument types."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from ..exceptions import UsageError
from ..flavors import did_you_mean

__all__ = ["ON_STACK", "PROMPT", "Handler", "HelpShown", "Parser", "add", "count", "open_client", "subcommands"]

Handler = Callable[[argparse.Namespace], Any]
PROMPT = object()  # `--passwd` given without a value: ask with getpass


class HelpShown(Exception):
    """``--help`` was printed; nothing else to do."""


class Parser(argparse.ArgumentParser):
    """Raises instead of exiting, so a mistake never kills the kernel."""

    def error(self, message: str) -> NoReturn:
        match = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if match:
            choices = re.findall(r"'([^']*)'", match.group(2))
            message = (
                f"unknown command {match.group(1)!r}{did_you_mean(match.group(1), choices)}; "
                f"choose from {', '.join(choices)}"
            )
        # the front end says who is speaking ("zenml-notebook: error: ..." / UsageError); the
        # sub-command's own name tells where, without repeating the program's
        where = self.prog.split(" ", 1)[1] + ": " if " " in self.prog else ""
        raise UsageError(f"{where}{message} (see `{self.prog} --help`)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            raise UsageError(message.strip())
        raise HelpShown()


def count(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}-{high}")
        return value

    parse.__name__ = "number"
    return parse


def add(sub: Any, name: str, help_: str, handler: Handler, aliases: Sequence[str] = ()) -> argparse.ArgumentParser:
    """A sub-command parser whose handler is ``handler``."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help_, description=help_, aliases=list(aliases))
    p.set_defaults(handler=handler)
    return p


def subcommands(parser: argparse.ArgumentParser, dest: str, metavar: str = "ACTION") -> Any:
    """The sub-parsers of a command group (every level raises instead of exiting)."""
    return parser.add_subparsers(dest=dest, metavar=metavar, parser_class=Parser, required=True)


# -- the run commands' stack option and client (runs, cleanup, versions) --------------------
ON_STACK: dict[str, Any] = {"help": "another stack than the active one", "metavar": "STACK"}


def open_client(args: argparse.Namespace) -> Any:
    from ..pipelines.runs import Client

    return Client(getattr(args, "stack", None))
