"""One argparse command tree for the ``%zenml`` magic and the ``zenml-notebook`` CLI.

A small router: each noun has its module, with its parsers beside its handlers (``setup``,
``stack``, ``components``, ``runs``, ``forms``, ``config``, ``registry``); each handler parses, calls one ``api``
function and returns a display object (or None). Nothing here imports IPython.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from .. import api
from ..exceptions import UsageError, ZenMLError, ZenMLNotice, ZenMLWarning
from . import components, config, forms, registry, runs, setup, stack
from ._base import HelpShown, Parser, subcommands

__all__ = ["HelpShown", "ZenMLError", "build_parser", "execute", "parse_cell", "split_line"]


def build_parser(prog: str) -> argparse.ArgumentParser:
    root = Parser(prog=prog, description="Manage zenml-notebook stacks: metadata store + artifact store + orchestrator.")
    root.set_defaults(prog=prog)
    sub = subcommands(root, "command", "COMMAND")
    for noun in (setup, stack, components, runs, forms, config, registry):  # the order `--help` lists them in
        noun.add_parsers(sub)
    return root


# -- entry points -------------------------------------------------------------------------------
_PARSERS: dict[str, argparse.ArgumentParser] = {}


def _parser(prog: str) -> argparse.ArgumentParser:
    if prog not in _PARSERS:
        _PARSERS[prog] = build_parser(prog)
    return _PARSERS[prog]


_SINGLE: dict[int, frozenset[str]] = {}


def _single_positionals(parser: argparse.ArgumentParser) -> frozenset[str]:
    """The names of one-word positional arguments anywhere in the command tree (never a list)."""
    if id(parser) not in _SINGLE:
        single: set[str] = set()
        listed: set[str] = set()
        todo = [parser]
        while todo:
            current = todo.pop()
            for action in current._actions:
                if isinstance(action, argparse._SubParsersAction):
                    todo.extend(action.choices.values())
                elif not action.option_strings and action.nargs is None:
                    single.add(action.dest)
                else:
                    listed.add(action.dest)
        _SINGLE[id(parser)] = frozenset(single - listed)
    return _SINGLE[id(parser)]


def _refuse_swallowed(args: argparse.Namespace, single: frozenset[str]) -> None:
    """Python 3.11's argparse drops a literal '--' given as a value after '--', leaving an empty
    list where one word belongs: say so instead of failing somewhere else."""
    for dest in single:
        if isinstance(getattr(args, dest, None), list):
            raise UsageError(f"{dest.upper()} is missing ('--' cannot be used as a value); give {dest.upper()} as a plain word")


def split_line(line: str) -> list[str]:
    """Split a command line like a POSIX shell would (quotes), without running one."""
    try:
        return shlex.split(line, comments=True)
    except ValueError as exc:
        raise UsageError(f"cannot read the command line: {exc}; check its quotes") from None


def parse_cell(text: str) -> list[list[str]]:
    """Commands in a ``%%zenml`` cell: one per line; ``\\`` continues a line, and a line
    starting with ``-`` continues the previous command (so the seed's blocks paste as is).
    A leading ``zenml`` or ``zenml-notebook`` word is dropped."""
    commands: list[str] = []
    joining = False
    for raw in text.splitlines():
        line = raw.strip()
        cont = bool(re.search(r"\\\s*$", line))
        line = re.sub(r"\\\s*$", "", line).strip()
        if not line or line.startswith("#"):
            joining = joining and cont
            continue
        if commands and (joining or line.startswith("-")):
            commands[-1] += " " + line
        else:
            commands.append(line)
        joining = cont
    result = []
    for command in commands:
        argv = split_line(command)
        if argv and argv[0] in ("zenml", "zenml-notebook", "%zenml"):
            argv = argv[1:]
        if argv:
            result.append(argv)
    return result


def execute(argv: Sequence[str], prog: str = "zenml-notebook", err: Any = None, out: Any = None) -> Any:
    """Run one command; warnings go to ``err`` (stderr) as ``warning: ...`` lines, notices to
    ``out`` as plain lines when given (the magic: information is not an error), else to ``err``.

    Returns the display object (or None after ``--help``); raises ZenMLError.
    """
    err = err or sys.stderr
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ZenMLWarning)
            try:
                args = _parser(prog).parse_args(list(argv))
                _refuse_swallowed(args, _single_positionals(_parser(prog)))
                if args.handler not in setup.CREATE_NOTHING:
                    api.ensure_repository()  # a user's command: the one place besides `init` that creates one
                return args.handler(args)
            except HelpShown:
                return None
    finally:
        seen: set[str] = set()
        for w in caught:
            if issubclass(w.category, ZenMLWarning):
                if str(w.message) not in seen:
                    seen.add(str(w.message))
                    if out is not None and issubclass(w.category, ZenMLNotice):
                        print(w.message, file=out)
                    else:
                        print(f"warning: {w.message}", file=err)
            else:  # not ours: hand it back to the normal warning machinery
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


