"""``init`` and ``version``: setting a repository up."""

from __future__ import annotations

import argparse
from typing import Any

from .. import api
from ..display import Message
from ._base import add

__all__ = ["CREATE_NOTHING", "add_parsers"]


def _init(args: argparse.Namespace) -> Message:
    repo, created = api.init(args.path)
    if created:
        return Message(f"initialised zenml-notebook repository in {repo.root} with stack 'default' (sqlite metadata, local artifacts, local orchestrator)")
    return Message(f"{repo.root} is already a zenml-notebook repository; nothing changed")


def _version(args: argparse.Namespace) -> Message:
    from .._version import __version__

    return Message(f"zenml-notebook {__version__}")


def add_parsers(sub: Any) -> None:
    add(sub, "init", "create a .zenml repository here (or in PATH)", _init).add_argument("path", nargs="?")
    add(sub, "version", "print the version", _version)


CREATE_NOTHING = (_init, _version)  # the commands that do not create a repository first
