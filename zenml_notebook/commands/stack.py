"""``stack ...``: register, list, describe, switch, rename, copy, delete, export and import stacks."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .. import api
from ..display import Message, Table
from ..exceptions import UsageError
from ..flavors import KIND_LABELS, KINDS
from ..kinds import TABLE
from ._base import Handler, add, subcommands
from .render import stack_details

__all__ = ["add_parsers"]


def _stack_list(args: argparse.Namespace) -> Table:
    stacks, active = api.list_stacks()
    rows = [[s.name, *(s.components[k] for k in KINDS)] for s in stacks]
    idx = next((i for i, s in enumerate(stacks) if s.name == active), None)
    return Table(["STACK", *(KIND_LABELS[k].upper() for k in KINDS)], rows, active=idx)


def _stack_register(args: argparse.Namespace) -> Message:
    s, outcome = api.register_stack(
        args.name, args.metadata_store, args.artifact_store, args.orchestrator, args.experiment_tracker, activate=args.set, update=args.update
    )
    note = "; it is now the active stack" if args.set else f"; activate it with `stack set {s.name}`"
    if outcome == "unchanged":
        return Message(f"stack {s.name!r} is already registered with these components{note if args.set else ''}")
    return Message(f"{outcome} stack {s.name!r}{note}")


def _stack_update(args: argparse.Namespace) -> Message:
    before, after = api.update_stack(args.name, **{k: getattr(args, k) for k in KINDS})
    changes = [f"{KIND_LABELS[k]} {before.components[k]!r} -> {after.components[k]!r}" for k in KINDS if before.components[k] != after.components[k]]
    return Message(f"updated stack {args.name!r}: {'; '.join(changes) or 'no change'}")


def _stack_export(args: argparse.Namespace) -> Message:
    text = api.export_stack(args.name)
    if not args.file:
        return Message(text.rstrip())
    try:
        Path(args.file).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {args.file}: {exc.strerror}; pick a writable path") from None
    return Message(f"exported stack {args.name or api.active_stack_name()!r} to {args.file}")


def _stack_import(args: argparse.Namespace) -> Message:
    from .._import import read_export

    record = api.import_stack(read_export(args.file), args.file, name=args.new_name)
    if args.set:
        api.set_active_stack(record.name)
    return Message(f"imported stack {record.name!r}" + ("; it is now the active stack" if args.set else ""))


_STACK: dict[str, Handler] = {
    "list": _stack_list,
    "register": _stack_register,
    "describe": lambda a: stack_details(api.describe_stack(a.name)),
    "set": lambda a: Message(f"active stack: {api.set_active_stack(a.name).name!r}"),
    "get": lambda a: Message(f"active stack: {api.active_stack_name()!r}"),
    "update": _stack_update,
    "rename": lambda a: Message(f"renamed stack {a.old!r} to {api.rename_stack(a.old, a.new).name!r}"),
    "copy": lambda a: Message(f"copied stack {a.source!r} to {api.copy_stack(a.source, a.target).name!r}"),
    "delete": lambda a: Message(f"deleted stack {api.delete_stack(a.name).name!r}"),
    "export": _stack_export,
    "import": _stack_import,
}


def add_parsers(sub: Any) -> None:
    stack = sub.add_parser("stack", help="register, list, switch and share stacks", description="Stacks: one metadata store, artifact store and orchestrator each, and optionally an experiment tracker.")
    ss = subcommands(stack, "action")
    for name, help_ in (("register", "register a stack"), ("update", "change a stack's components")):
        p = add(ss, name, help_, _STACK[name])
        p.add_argument("name", metavar="NAME")
        required = name == "register"
        for part in TABLE:  # one option per component kind (kinds.py)
            kind, dashed = part.name, part.name.replace("_", "-")
            flags = [f for f in (part.flag, f"--{kind}", f"--{dashed}") if f]
            p.add_argument(*flags, dest=kind, required=required and part.required, metavar=dashed.upper(), help=f"name of a registered {KIND_LABELS[kind]}" + ("" if part.required else f" (default: the built-in {part.default_flavor} one)"))
        if required:
            p.add_argument("--set", action="store_true", help="also make it the active stack")
            p.add_argument("--update", action="store_true", help="if it exists with other components, point it at these")
    add(ss, "list", "list stacks (* marks the active one)", _STACK["list"], ["ls"])
    add(ss, "describe", "show a stack's components and settings", _STACK["describe"]).add_argument("name", nargs="?", metavar="NAME")
    add(ss, "set", "make a stack the active one", _STACK["set"], ["activate"]).add_argument("name", metavar="NAME")
    add(ss, "get", "print the active stack's name", _STACK["get"])
    p = add(ss, "rename", "rename a stack", _STACK["rename"])
    p.add_argument("old", metavar="OLD")
    p.add_argument("new", metavar="NEW")
    p = add(ss, "copy", "copy a stack under a new name", _STACK["copy"])
    p.add_argument("source", metavar="SOURCE")
    p.add_argument("target", metavar="TARGET")
    add(ss, "delete", "delete a stack (not the active one)", _STACK["delete"], ["rm"]).add_argument("name", metavar="NAME")
    p = add(ss, "export", "print or write a stack as YAML (secrets as references)", _STACK["export"])
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("file", nargs="?", metavar="FILE")
    p = add(ss, "import", "create a stack from a YAML export", _STACK["import"])
    p.add_argument("file", metavar="FILE")
    p.add_argument("--name", dest="new_name", help="import under this stack name")
    p.add_argument("--set", action="store_true", help="also make it the active stack")

