"""Deleting runs, and the artifacts nothing else needs any more.

What goes is decided through lineage, never by path: an artifact a deleted run wrote (an output,
or what it printed) is deleted only if no remaining run uses it - a later run that reused it
from the cache, or read it - and no tag points at it (unless forced). Runs leave every list but
keep their records, so lineage stays readable.

Crash-safe in three steps, each re-runnable: the doomed artifacts are marked ``deleting`` and
the runs ``deleted`` (metadata first), then the files go, then the artifacts are marked
``deleted``. Whatever finds artifacts still marked ``deleting`` (the next delete or prune)
finishes the job for those no remaining run uses, and gives the others back (``live``). A run
being deleted never serves a cache hit (the runner skips artifacts that are not live).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..components.metadata.records import run_state
from ..exceptions import UsageError, ZenMLError

if TYPE_CHECKING:
    from ..components.artifacts import ArtifactStore
    from ..components.metadata.records import ArtifactInfo, RunInfo

__all__ = ["Deletion", "delete", "finish_interrupted", "plan", "select_for_prune"]


@dataclass
class Deletion:
    """What a deletion removes (or, with --dry-run, would remove)."""

    runs: list[RunInfo]
    artifacts: list[ArtifactInfo]
    bytes: int
    shared: int  # artifacts of these runs kept because a remaining run uses them
    tagged: list[str] = field(default_factory=list)  # "model:3@production" kept (or, forced, deleted)
    forced: bool = False
    pipeline: str | None = None
    already: list[str] = field(default_factory=list)  # runs deleted before (their cleanup finished now)
    finished: int = 0  # leftovers of an interrupted deletion completed first


def _size(store: ArtifactStore, art: ArtifactInfo) -> int:
    try:
        return store.size(store.relative(art.uri))
    except ZenMLError:  # gone already, or written to another store
        return 0


def _remaining_users(users: dict[int, set[str]], gone: set[str]) -> dict[int, set[str]]:
    return {a: {u for u in runs if u and u not in gone} for a, runs in users.items()}


def plan(md: Any, store: ArtifactStore, runs: list[RunInfo], *, force: bool = False, pipeline: str | None = None) -> Deletion:
    """Decide what deleting ``runs`` removes; changes nothing."""
    gone = {r.name for r in md.runs(deleted=True) if r.deleted} | {r.name for r in runs}
    candidates: set[int] = set()
    for run in runs:
        for e in md.executions(run):
            candidates.update(e.outputs.values())
            candidates.update(e.logs.values())
    users = _remaining_users(md.users(sorted(candidates)), gone)
    shared = {a for a in candidates if users.get(a)}
    tags = md.tagged_artifacts()
    tagged = sorted(t for a in candidates - shared if a in tags for t in tags[a])
    doomed = sorted(a for a in candidates - shared if force or a not in tags)
    artifacts = [a for a in md.artifacts_by_id(doomed) if a.state != "deleted"]
    return Deletion(
        [r for r in runs if not r.deleted], artifacts, sum(_size(store, a) for a in artifacts), len(shared),
        tagged, force, pipeline, [r.name for r in runs if r.deleted],
    )


def _discard(md: Any, store: ArtifactStore, artifacts: list[ArtifactInfo]) -> None:
    paths = []
    for art in artifacts:
        try:
            paths.append(store.relative(art.uri))
        except UsageError:  # written to another artifact store: its record goes, its file is not ours to touch
            pass
    for i in range(0, len(paths), 1000):
        store.discard(paths[i : i + 1000])
    md.set_artifact_state([a.id for a in artifacts], "deleted")


def delete(md: Any, store: ArtifactStore, deletion: Deletion) -> Deletion:
    """Carry out a plan: metadata first (re-runnable), then files, then the final state."""
    deletion.finished = finish_interrupted(md, store)
    md.set_artifact_state([a.id for a in deletion.artifacts], "deleting")
    md.mark_deleted(deletion.runs, deletion.pipeline)
    if deletion.forced:
        for ref in deletion.tagged:
            name, tag = ref.split(":", 1)[0], ref.rsplit("@", 1)[1]
            try:
                md.untag(name, tag)
            except ZenMLError:
                pass  # moved or removed meanwhile
    _discard(md, store, deletion.artifacts)
    return deletion


def finish_interrupted(md: Any, store: ArtifactStore) -> int:
    """Complete a deletion that was cut short: artifacts still marked ``deleting`` that no
    remaining run uses (and no tag holds) are removed; the others are live again."""
    marked = md.artifacts_in_state("deleting")
    if not marked:
        return 0
    gone = {r.name for r in md.runs(deleted=True) if r.deleted}
    users = _remaining_users(md.users([a.id for a in marked]), gone)
    tags = md.tagged_artifacts()
    keep = [a for a in marked if users.get(a.id) or a.id in tags]
    doomed = [a for a in marked if a not in keep]
    if keep:
        md.set_artifact_state([a.id for a in keep], "live")
    _discard(md, store, doomed)
    return len(doomed)


def parse_age(text: str) -> float:
    """"30d", "12h", "90m", "2w" -> seconds."""
    units = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    number, unit = text[:-1], text[-1:].lower()
    if unit not in units or not number.isdigit() or not 0 < int(number) < 10**6:
        raise UsageError(f"--older-than {text!r}: give a number and a unit, e.g. 30d, 12h, 90m or 2w")
    return int(number) * units[unit]


def select_for_prune(runs: list[RunInfo], *, older_than: float | None, keep_last: int | None, now: float | None = None) -> list[RunInfo]:
    """The runs `artifacts prune` deletes: older than ``older_than`` seconds and not among the
    ``keep_last`` newest runs of their pipeline (runs still in progress are never pruned)."""
    if older_than is None and keep_last is None:
        raise UsageError("say what to prune: --older-than AGE (e.g. 30d), --keep-last N, or both")
    now = time.time() if now is None else now
    chosen: list[RunInfo] = []
    seen: dict[str, int] = {}
    for run in sorted(runs, key=lambda r: (r.started, r.id), reverse=True):
        seen[run.pipeline] = seen.get(run.pipeline, 0) + 1
        if keep_last is not None and seen[run.pipeline] <= keep_last:
            continue
        if older_than is not None and now - run.started < older_than:
            continue
        if run_state(run) == "running":
            continue
        chosen.append(run)
    return chosen
