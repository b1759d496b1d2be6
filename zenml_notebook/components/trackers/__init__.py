"""Experiment trackers beyond the built-in one: where a finished run is mirrored.

The built-in tracker is the run's own stores (metrics beside the outputs, summaries in
ml-metadata) and needs nothing here. Another flavor gets, through the flavor table,
``open(record, repo)`` -> a :class:`Tracker` whose ``mirror(run)`` copies an ended run there and
returns what the run's summary keeps of it (``{"tracker", "flavor", "mirrored", "url", ...}``),
``check`` (``experiment-tracker test``) and ``verify`` (before saving its settings).

A tracker never fails or stalls a pipeline: the runner gives ``mirror`` the tracker's timeout,
and what could not be mirrored is one classified warning and ``runs sync-tracker RUN`` later.
"""

from __future__ import annotations

import time
import warnings
from typing import TYPE_CHECKING, Any, Protocol

from ...exceptions import ZenMLError, ZenMLWarning

if TYPE_CHECKING:
    from ...registry import ComponentRecord
    from ...repository import Repository

__all__ = ["Tracker", "check_tracker", "describe_mirror", "mirror_run", "open_tracker", "verify_unsaved"]

class Tracker(Protocol):
    label: str
    timeout: float  # seconds mirroring a run may add to its end

    def mirror(self, run: Any, *, deadline: float | None) -> dict[str, Any]: ...


def open_tracker(record: ComponentRecord, repo: Repository, *, secrets: dict[str, str] | None = None) -> Tracker:
    from .mlflow import MLflowTracker

    return MLflowTracker(record, secrets=secrets)


def check_tracker(record: ComponentRecord, repo: Repository) -> tuple[str, float]:
    """`experiment-tracker test`: reach the server now; (what answered, milliseconds)."""
    from .mlflow import MLflowTracker

    return MLflowTracker(record).check()


def verify_unsaved(record: ComponentRecord, repo: Repository, secrets: dict[str, str]) -> None:
    """Before a tracker is saved: reach it with the password just typed (if any)."""
    from .mlflow import MLflowTracker

    MLflowTracker(record, secrets=secrets).check()


def mirror_run(record: ComponentRecord, md: Any, info: Any, run: Any, *, deadline: float | None = -1.0, warn: bool = True) -> dict[str, Any]:
    """Mirror an ended run to ``record`` and keep what came of it in the run's summary
    (``"tracker"``): where it is, or why not. ``deadline`` -1: now + the tracker's timeout (a
    run's end); None: each request its timeout, no total (``runs sync-tracker``). A failure is
    one warning naming the fix (``warn``) or, for sync-tracker, raised."""
    from ...flavors import behaviour

    opener = behaviour(record.kind, record.flavor, "open")
    if opener is None:
        return {"tracker": record.name, "flavor": record.flavor, "mirrored": True}
    try:
        tracker = opener(record, None)
        if deadline == -1.0:
            deadline = time.monotonic() + tracker.timeout
        outcome: dict[str, Any] = tracker.mirror(run, deadline=deadline)
    except ZenMLError as exc:
        outcome = {"tracker": record.name, "flavor": record.flavor, "mirrored": False, "error": str(exc)[:400]}
        if not warn:
            _keep(md, info, run, outcome)
            raise
        warnings.warn(f"{exc}; run {run.name!r} is not mirrored there (its metrics are kept here): mirror it later with "
                      f"`runs sync-tracker {run.name}`", ZenMLWarning, stacklevel=3)
    except (KeyError, TypeError, ValueError) as exc:  # an answer that is not what MLflow's API returns
        outcome = {"tracker": record.name, "flavor": record.flavor, "mirrored": False,
                   "error": f"the tracking server answered unexpectedly ({type(exc).__name__})"}
        if not warn:
            _keep(md, info, run, outcome)
            raise ZenMLError(f"experiment tracker {record.name!r}: {outcome['error']}; is --tracking-uri an MLflow server?") from None
        warnings.warn(f"experiment tracker {record.name!r}: {outcome['error']}; run {run.name!r} is not mirrored there: "
                      f"`runs sync-tracker {run.name}` tries again", ZenMLWarning, stacklevel=3)
    _keep(md, info, run, outcome)
    return outcome


def _keep(md: Any, info: Any, run: Any, outcome: dict[str, Any]) -> None:
    run.summary["tracker"] = outcome
    try:
        md.update_summary(info, {"tracker": outcome})
    except ZenMLError:
        pass  # the metadata store failed: the run itself is recorded; sync-tracker records it later


def describe_mirror(outcome: Any, run: str) -> tuple[str, str | None] | None:
    """What a run card and the explorer say of a run's mirror: (text, link or None); None when
    the run was not mirrored anywhere (the built-in tracker). The link is only ever an http(s)
    address (a hand-edited summary cannot smuggle a javascript: one)."""
    if not isinstance(outcome, dict) or outcome.get("flavor") in (None, "builtin"):
        return None
    from urllib.parse import urlsplit

    name = str(outcome.get("tracker", "?"))[:80]
    flavor = {"mlflow": "MLflow"}.get(str(outcome.get("flavor")), str(outcome.get("flavor"))[:40])
    if outcome.get("mirrored"):
        url = str(outcome.get("url", ""))
        safe = url if urlsplit(url).scheme in ("http", "https") else None
        return f"mirrored to {flavor} by experiment tracker {name!r}", safe
    error = str(outcome.get("error", "not mirrored"))[:300]
    return f"not mirrored to {flavor} (experiment tracker {name!r}): {error}; `runs sync-tracker {run}` tries again", None
