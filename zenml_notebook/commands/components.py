"""``metadata ...``, ``artifacts ...``, ``orchestrator ...``: one command group per component
kind (register, list, describe, update, delete, test; browsing for artifact stores)."""

from __future__ import annotations

import argparse
from typing import Any

from .. import api
from ..display import ArtifactPreview, Message, Table, human_size
from ..exceptions import UsageError
from ..flavors import COMMAND_OF_KIND, KIND_LABELS, flavors_of
from ..kinds import TABLE
from . import cleanup, versions
from ._base import Handler, add, count, subcommands
from .options import OPTIONS, settings_from
from .render import component_details, summary, when

__all__ = ["add_parsers"]

KIND_OF = {k.name: k for k in TABLE}


def command_aliases(kind: str) -> list[str]:
    """Other words for a kind's command group: `metadata-store`, `experiment_tracker`, `tracker`."""
    command = COMMAND_OF_KIND[kind]
    wanted = (kind.replace("_", "-"), kind, "tracker")
    return [a for a in dict.fromkeys((*KIND_OF[kind].aliases, kind)) if a != command and a in wanted and (a != kind or "-" in command)]


def _component_handlers(kind: str) -> dict[str, Handler]:
    label = KIND_LABELS[kind]

    def _flavor(args: argparse.Namespace) -> str | None:
        """``--flavor``, or for artifact stores the flavor the ``--path`` implies."""
        if kind == "artifact_store" and args.path is not None and args.flavor is None:
            from ..uris import parse_artifact_uri

            return parse_artifact_uri(args.path).flavor
        return str(args.flavor) if args.flavor else None

    def list_(args: argparse.Namespace) -> Table:
        records, usage, active = api.list_components(kind)
        rows = [[r.name, r.flavor, summary(r), ", ".join(usage[r.name])] for r in records]
        idx = next((i for i, r in enumerate(records) if r.name == active), None)
        return Table([label.upper(), "FLAVOR", "SETTINGS", "STACKS"], rows, active=idx)

    def register(args: argparse.Namespace) -> Message:
        flavor = _flavor(args)
        if not flavor:
            raise UsageError(f"give --flavor for the {label} {args.name!r}")
        record, outcome = api.register_component(
            kind, args.name, flavor, settings_from(kind, args), verify=not args.no_verify, update=args.update
        )
        if outcome == "unchanged":
            return Message(f"{label} {record.name!r} is already registered with these settings; nothing changed")
        return Message(f"{outcome} {label} {record.name!r} ({record.flavor}: {summary(record) or 'defaults'})")

    def update(args: argparse.Namespace) -> Message:
        _, after = api.update_component(kind, args.name, settings_from(kind, args), flavor=_flavor(args), verify=not args.no_verify)
        return Message(f"updated {label} {after.name!r} ({after.flavor}: {summary(after) or 'defaults'})")

    def ls(args: argparse.Namespace) -> Table:
        listing = api.list_artifacts(args.path or "", offset=args.offset, limit=args.limit, store=args.store)
        rows = [[e.name + ("/" if e.kind == "folder" else ""), e.kind, human_size(e.size), when(e.modified)] for e in listing.entries]
        where = f"{listing.store.rstrip('/')}/{listing.path}".rstrip("/")
        first, last = listing.offset + 1, listing.offset + len(listing.entries)
        span = f"entries {first}-{last} of {listing.total}" if listing.entries else f"{listing.total} entries"
        more = f"; next page: --offset {last}" if last < listing.total else ""
        return Table(["NAME", "KIND", "SIZE", "MODIFIED"], rows, title=f"{where} ({span}{more})", empty="(empty folder)")

    def preview(args: argparse.Namespace) -> ArtifactPreview:
        p = api.preview_artifact(args.path, store=args.store)
        meta = [("kind", p.kind), ("size", human_size(p.size)), ("modified", when(p.modified))]
        note = p.note or ("truncated" if p.truncated else "")
        return ArtifactPreview(p.path, p.kind, meta, text=p.text, rows=p.rows, mime=p.mime, data_base64=p.data_base64, note=note)

    def clean(args: argparse.Namespace) -> Message:
        removed = api.clean_artifacts(store=args.store)
        return Message(f"removed {len(removed)} temp file(s) left by killed writers" + "".join(f"\n  {p}" for p in removed))

    def test(args: argparse.Namespace) -> Message:
        record, what, ms = api.test_component(kind, args.name)
        return Message(f"{label} {record.name!r} ({record.flavor}): OK - {what}, {ms:.1f} ms")

    return {
        "ls": ls,
        "preview": preview,
        "clean": clean,
        "test": test,
        "list": list_,
        "register": register,
        "describe": lambda a: component_details(*api.get_component(kind, a.name)),
        "update": update,
        "delete": lambda a: Message(f"deleted {label} {api.delete_component(kind, a.name).name!r}"),
    }


def add_parsers(sub: Any) -> None:
    for kind, command in COMMAND_OF_KIND.items():
        label = KIND_LABELS[kind]
        handlers = _component_handlers(kind)
        aliases = command_aliases(kind)
        kp = sub.add_parser(command, aliases=aliases, help=f"manage {label}s", description=f"Register, list, describe, update and delete {label}s.")
        ks = subcommands(kp, "action")
        add_options = OPTIONS[kind][0]
        for action in ("register", "update"):
            p = add(ks, action, f"{action} a {label}", handlers[action])
            p.add_argument("name", metavar="NAME")
            p.add_argument("--flavor", "-f", required=(action == "register" and kind != "artifact_store"), help=f"one of: {', '.join(flavors_of(kind))}")
            if kind == "artifact_store":
                p.add_argument("--path", "--uri", dest="path", required=action == "register", help="local path, file://, gs://bucket/prefix or s3://bucket/prefix")
            add_options(p)
            p.add_argument("--no-verify", dest="no_verify", action="store_true", help="save without reaching the store first")
            if action == "register":
                p.add_argument("--update", action="store_true", help="if it exists with other settings, give it these")
        if kind == "orchestrator":
            add(ks, "stop", "stop the local Dask cluster this process started for it (never a scheduler you run)",
                lambda a: Message(api.stop_orchestrator(a.name))).add_argument("name", nargs="?", metavar="NAME")
        if kind not in ("orchestrator",):
            add(ks, "test", "reach the store now (default: the active stack's)", handlers["test"]).add_argument("name", nargs="?", metavar="NAME")
        if kind == "artifact_store":
            p = add(ks, "ls", "list a folder of the artifact store (default: the active stack's)", handlers["ls"])
            p.add_argument("path", nargs="?", metavar="PATH", help="folder inside the store (default: its root)")
            p.add_argument("--limit", type=count(1, 1000), default=100, help="entries per page (1-1000, default 100)")
            p.add_argument("--offset", type=count(0, 10**9), default=0, help="skip this many entries")
            p.add_argument("--store", help="an artifact store by name instead of the active stack's")
            p = add(ks, "preview", "show the start of an artifact (text, JSON, CSV, images; never unpickled)", handlers["preview"])
            p.add_argument("path", metavar="PATH")
            p.add_argument("--store", help="an artifact store by name instead of the active stack's")
            p = add(ks, "clean", "remove temp files that killed writers left behind (never a live writer's)", handlers["clean"])
            p.add_argument("--store", help="an artifact store by name instead of the active stack's")
            versions.add_parsers(ks)
            cleanup.add_artifact_parsers(ks)
        add(ks, "list", f"list {label}s (* marks the active stack's)", handlers["list"], ["ls"] if kind != "artifact_store" else [])
        add(ks, "describe", f"show a {label}'s settings (default: the active stack's)", handlers["describe"]).add_argument("name", nargs="?", metavar="NAME")
        add(ks, "delete", f"delete a {label} no stack uses", handlers["delete"], ["rm"]).add_argument("name", metavar="NAME")

