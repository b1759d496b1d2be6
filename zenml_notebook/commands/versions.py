"""``artifacts versions|tag``: the versions of a named artifact (outputs named with
``@step(outputs=[...])``) and the tags that point at them, read from the metadata store."""

from __future__ import annotations

import argparse
from typing import Any

from ..display import Message, Table, human_size
from ..exceptions import UsageError
from ._base import ON_STACK, add, count, open_client
from .render import when

__all__ = ["add_parsers"]


def _versions(args: argparse.Namespace) -> Table:
    client = open_client(args)
    total, page = client.artifact_versions(args.name, limit=args.limit, offset=args.offset)
    if total == 0:
        raise UsageError(f"no artifact named {args.name!r} on stack {client.stack!r}; name a step's outputs with @step(outputs=[...])")
    rows = [[v.version, v.run, v.step, v.state if v.state != "live" else human_size(v.size) if v.size >= 0 else "", when(v.created), ", ".join(v.tags)]
            for v in page]
    shown = f"versions {page[0].version}-{page[-1].version} of {total}" if page else f"{total} versions"
    more = f"; older: --offset {args.offset + len(page)}" if page and page[-1].version > 1 else ""
    return Table(["VERSION", "RUN", "STEP", "SIZE", "CREATED", "TAGS"], rows, title=f"artifact {args.name!r} on stack {client.stack!r} ({shown}{more})", empty="(no versions on this page)")


def _split(ref: str) -> tuple[str, str | None]:
    name, sep, version = ref.partition(":")
    if sep and not version:
        raise UsageError(f"{ref!r}: give NAME:VERSION (a number or a tag), or NAME for the latest")
    return name, version if sep else None


def _tag(args: argparse.Namespace) -> Message:
    client = open_client(args)
    name, version = _split(args.ref)
    if args.untag:
        if version is not None:
            raise UsageError("--untag takes NAME and the tag, not NAME:VERSION (a tag is on one version at a time)")
        was = client.untag(name, args.tag)
        return Message(f"removed tag {args.tag!r} from {name!r} version {was}")
    target, before = client.tag(name, version, args.tag)
    moved = f" (moved from version {before})" if before and before != target.version else ""
    return Message(f"tagged {name!r} version {target.version} as {args.tag!r}{moved}")


def add_parsers(ks: Any) -> None:
    """Added to the ``artifacts`` command group."""
    p = add(ks, "versions", "list the versions of a named artifact (newest first) with their run, step, size and tags", _versions)
    p.add_argument("name", metavar="NAME", help="an output name given with @step(outputs=[...])")
    p.add_argument("--limit", type=count(1, 1000), default=20, help="versions per page (1-1000, default 20)")
    p.add_argument("--offset", type=count(0, 10**12), default=0, help="skip this many of the newest")
    p.add_argument("--stack", **ON_STACK)
    p = add(ks, "tag", "tag a version of a named artifact (a tag is on one version; tagging moves it)", _tag)
    p.add_argument("ref", metavar="NAME[:VERSION]", help="e.g. model:3, model:staging, or model for the latest")
    p.add_argument("tag", metavar="TAG", help="e.g. production")
    p.add_argument("--untag", action="store_true", help="remove TAG from NAME instead")
    p.add_argument("--stack", **ON_STACK)
