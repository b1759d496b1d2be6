"""``config ...``: the seed's commands - show or change the active stack's components."""

from __future__ import annotations

import argparse
from typing import Any

from .. import api
from ..display import Details, Message
from ..flavors import COMMAND_OF_KIND, KIND_LABELS, flavors_of
from ._base import Handler, add, subcommands
from .components import command_aliases
from .options import OPTIONS, settings_from
from .render import component_details, stack_details, summary

__all__ = ["add_parsers"]


def _config_set(kind: str) -> Handler:
    def handler(args: argparse.Namespace) -> Message:
        if kind == "artifact_store":
            from ..uris import parse_artifact_uri

            args.path = args.location
            flavor = parse_artifact_uri(args.location).flavor
        else:
            flavor = args.flavor
        change = api.config_set(kind, flavor, settings_from(kind, args), verify=not args.no_verify)
        a, b = change.before, change.after
        head = f"active stack {change.stack!r}: {KIND_LABELS[kind]}"
        if change.action == "unchanged":
            return Message(f"{head} {b.name!r} already has these settings; nothing changed")
        return Message(
            f"{head} {a.name!r} ({a.flavor}) -> {b.name!r} ({b.flavor}: {summary(b) or 'defaults'}), "
            f"{change.action}"
        )

    return handler


def _config_get(kind: str) -> Handler:
    return lambda args: component_details(*api.get_component(kind))


def _config_list(args: argparse.Namespace) -> Details:
    return stack_details(api.describe_stack(None))


def add_parsers(sub: Any) -> None:
    config = sub.add_parser("config", help="the active stack's components (the seed's commands)", description="Show or change the active stack's components.")
    cs = subcommands(config, "target", "TARGET")
    add(cs, "list", "show the active stack's components", _config_list)
    for kind, command in COMMAND_OF_KIND.items():
        cp = cs.add_parser(command, aliases=command_aliases(kind), help=f"the active stack's {KIND_LABELS[kind]}", description=f"Get or set the active stack's {KIND_LABELS[kind]}.")
        ca = subcommands(cp, "action")
        add(ca, "get", f"show the active stack's {KIND_LABELS[kind]}", _config_get(kind))
        p = add(ca, "set", f"point the active stack at a {KIND_LABELS[kind]} with these settings", _config_set(kind))
        if kind == "artifact_store":
            p.add_argument("location", metavar="PATH_OR_URI", help="local path, file://, gs://bucket/prefix or s3://bucket/prefix")
        else:
            p.add_argument("flavor", metavar="FLAVOR", help=" or ".join(flavors_of(kind)))
        OPTIONS[kind][0](p)
        p.add_argument("--no-verify", dest="no_verify", action="store_true", help="save without reaching the store first")
