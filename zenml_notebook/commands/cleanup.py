"""``runs delete``, ``pipelines delete``, ``artifacts prune``: removing runs and the artifacts
nothing else needs (decided through lineage; see :mod:`zenml_notebook.pipelines.cleanup`)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..display import Message, human_size
from ._base import ON_STACK, add, count, open_client

if TYPE_CHECKING:
    from ..pipelines.cleanup import Deletion

__all__ = ["add_artifact_parsers", "add_pipeline_parsers", "add_run_parsers"]

SHOWN = 200  # artifacts listed by --dry-run before "... and N more"


def report(d: Deletion, dry_run: bool) -> Message:
    verb = "would delete" if dry_run else "deleted"
    names = ", ".join(r.name for r in d.runs[:10]) + (f" and {len(d.runs) - 10} more" if len(d.runs) > 10 else "")
    lines = [f"{verb} {len(d.runs)} run(s){': ' + names if d.runs else ''}; {len(d.artifacts)} artifact(s), {human_size(d.bytes)}"]
    if d.pipeline:
        lines.append(f"{verb} pipeline {d.pipeline!r} from every list")
    if d.already:
        lines.append(f"already deleted before: {', '.join(d.already[:10])} (their cleanup is complete)")
    if d.finished:
        lines.append(f"finished a deletion that was cut short: {d.finished} more artifact(s) removed")
    if d.shared:
        lines.append(f"kept {d.shared} artifact(s) that a remaining run still uses (reused from the cache, or read)")
    if d.tagged:
        lines.append(f"{verb} tagged {', '.join(d.tagged)}" if d.forced else f"kept {', '.join(d.tagged)}: tagged (--force deletes it too)")
    if dry_run:
        lines += [f"  {a.uri}  {a.state if a.state != 'live' else ''}".rstrip() for a in d.artifacts[:SHOWN]]
        if len(d.artifacts) > SHOWN:
            lines.append(f"  ... and {len(d.artifacts) - SHOWN} more")
        lines.append("nothing was changed (--dry-run)")
    return Message("\n".join(lines))


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", dest="dry_run", action="store_true", help="show exactly what would go, and how many bytes; change nothing")
    p.add_argument("--force", action="store_true", help="delete tagged versions too (and their tags)")
    p.add_argument("--stack", **ON_STACK)


def _runs_delete(args: argparse.Namespace) -> Message:
    return report(open_client(args).delete_runs(args.runs, dry_run=args.dry_run, force=args.force), args.dry_run)


def _pipelines_delete(args: argparse.Namespace) -> Message:
    return report(open_client(args).delete_pipeline(args.name, dry_run=args.dry_run, force=args.force), args.dry_run)


def _prune(args: argparse.Namespace) -> Message:
    from ..pipelines.cleanup import parse_age

    older = parse_age(args.older_than) if args.older_than else None
    deletion = open_client(args).prune(older_than=older, keep_last=args.keep_last, dry_run=args.dry_run, force=args.force)
    return report(deletion, args.dry_run)


def add_run_parsers(rs: Any) -> None:
    p = add(rs, "delete", "delete runs and the artifacts no remaining run, tag or cache hit needs", _runs_delete, ["rm"])
    p.add_argument("runs", nargs="+", metavar="RUN")
    _options(p)


def add_pipeline_parsers(ps: Any) -> None:
    p = add(ps, "delete", "delete every run of a pipeline (as `runs delete`) and the pipeline", _pipelines_delete, ["rm"])
    p.add_argument("name", metavar="NAME")
    _options(p)


def add_artifact_parsers(ks: Any) -> None:
    p = add(ks, "prune", "delete old runs and what only they needed (finishes an interrupted deletion first)", _prune)
    p.add_argument("--older-than", dest="older_than", metavar="AGE", help="runs started longer ago than AGE: 30d, 12h, 90m, 2w")
    p.add_argument("--keep-last", dest="keep_last", type=count(0, 10**9), metavar="N", help="keep the N newest runs of each pipeline")
    _options(p)
