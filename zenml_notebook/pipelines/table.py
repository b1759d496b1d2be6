"""The runs table: every run of a metadata store as one row - state, times, steps, who ran it,
each parameter and each scalar output - sorted, filtered and paged in memory.

A run's row comes from its record alone: the runner writes a *summary* (parameters, scalar
outputs, step counts; :func:`summarize`) into the run when it ends, so listing 100 000 runs
never reads a step. Runs recorded before summaries existed, and runs still going, are
summarised from their steps. A long-lived process (the Jupyter server) keeps one index per
store and brings it up to date by increments: when the store's change token moves, only the
runs whose records changed since the last look are read again.
"""

from __future__ import annotations

import json
import math
import threading
import weakref
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..components.metadata.records import run_state
from ..exceptions import UsageError, ZenMLError

if TYPE_CHECKING:
    from ..components.artifacts import ArtifactStore
    from ..components.metadata.mlmd import MLMDStore
    from ..components.metadata.records import ExecutionInfo, RunInfo

__all__ = ["COLUMNS", "MAX_VALUE_CHARS", "query_runs", "rows_named", "summarize"]

MAX_VALUE_CHARS = 200  # a parameter longer than this (as JSON) is kept as its beginning, for the table
COLUMNS = ("name", "pipeline", "state", "started", "duration", "steps", "cached", "stack", "user")
STATES = ("running", "complete", "failed", "cancelled", "incomplete")
MAX_TEXT = 200  # a search longer than this is a mistake


def _short(value: Any) -> Any:
    text = json.dumps(value, sort_keys=True, default=repr)
    return value if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def summarize(executions: Sequence[ExecutionInfo]) -> dict[str, Any]:
    """What a run's row shows, from its steps: THE one place it is worked out (the runner
    writes it into the run when it ends; the table works it out for older runs)."""
    params: dict[str, Any] = {}
    scalars: dict[str, Any] = {}
    metrics: dict[str, float] = {}
    for e in executions:
        for k, v in e.parameters.items():
            params[f"{e.step}.{k}"] = _short(v)
        for k, v in e.scalars.items():
            scalars[f"{e.step}.{k}"] = v
        for k, m in e.metrics.items():
            metrics[f"{e.step}.{k}"] = m["last"]
    return {"steps": len(executions), "cached": sum(e.state == "cached" for e in executions), "parameters": params, "scalars": scalars,
            "metrics": metrics}


def _older_scalars(store: ArtifactStore | None, md: MLMDStore, executions: Sequence[ExecutionInfo]) -> dict[str, Any]:
    """Scalar outputs of steps recorded before executions kept them: small JSON files, read
    (never unpickled) once per run and process."""
    if store is None:
        return {}
    out: dict[str, Any] = {}
    ids = [a for e in executions if not e.scalars for a in e.outputs.values()]
    try:
        arts = {a.id: a for a in md.artifacts_by_id(ids)} if ids else {}
    except ZenMLError:
        return {}
    for e in executions:
        for name, art_id in e.outputs.items():
            art = arts.get(art_id)
            if art is None or art.materializer != "json" or art.state != "live":
                continue
            try:
                raw = store.read_bytes(store.relative(art.uri), 65)
                value = json.loads(raw) if len(raw) <= 64 else None
            except (ZenMLError, ValueError):
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                out[f"{e.step}.{name}"] = value
    return out


class _Index:
    """Every run of one store as a row, current as of ``token``."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, Any]] = {}
        self.token: str | None = None
        self.since = 0  # the newest record update seen (ms)
        self.live: set[int] = set()  # runs still going: their steps are read again at each change
        self.params: Counter[str] = Counter()  # column -> how many rows have it
        self.scalars: Counter[str] = Counter()
        self.metrics: Counter[str] = Counter()
        self.pipeline_count: Counter[str] = Counter()
        self.newest_first: list[dict[str, Any]] = []  # every row, newest first: the default order, and ties' order
        self.sorted: dict[tuple[Any, ...], list[dict[str, Any]]] = {}  # (sort, order, filters) -> rows, for this token
        self.lock = threading.Lock()
        self.building: threading.Thread | None = None  # the first reading of every run, in the background

    @property
    def columns(self) -> dict[str, list[str]]:
        # the most common first: what most runs have is what a table shows by default
        return {"parameters": [k for k, n in self.params.most_common() if n], "scalars": [k for k, n in self.scalars.most_common() if n],
                "metrics": [k for k, n in self.metrics.most_common() if n]}

    @property
    def pipelines(self) -> list[str]:
        return sorted(k for k, n in self.pipeline_count.items() if n)

    def _put(self, run_id: int, row: dict[str, Any] | None) -> None:
        old = self.rows.pop(run_id, None)
        if old is not None:
            self.params.subtract(old["parameters"].keys())
            self.scalars.subtract(old["scalars"].keys())
            self.metrics.subtract(old["metrics"].keys())
            self.pipeline_count[old["pipeline"]] -= 1
        if row is not None:
            self.rows[run_id] = row
            self.params.update(row["parameters"].keys())
            self.scalars.update(row["scalars"].keys())
            self.metrics.update(row["metrics"].keys())
            self.pipeline_count[row["pipeline"]] += 1

    def refresh(self, md: MLMDStore, store: ArtifactStore | None) -> None:
        token = md.latest_change()
        if token == self.token:
            return
        changed, newest = md.runs_changed_since(self.since)
        for run in changed:
            self._put(run.id, None if run.deleted else self._row(md, store, run))
            if run.deleted:
                self.live.discard(run.id)
        for run_id in list(self.live - {r.id for r in changed}):
            row = self.rows.get(run_id)
            if row is not None:
                self._put(run_id, self._row(md, store, row["_info"]))
        self.since = newest
        self.newest_first = sorted(self.rows.values(), key=_started, reverse=True)
        self.sorted.clear()
        self.token = token

    def _row(self, md: MLMDStore, store: ArtifactStore | None, run: RunInfo) -> dict[str, Any]:
        summary = run.summary
        if summary is None:  # still going, or recorded before runs kept a summary
            try:
                steps = md.executions(run)
            except ZenMLError:
                steps = []
            summary = summarize(steps)
            if run.state != "running":
                summary["scalars"] = {**_older_scalars(store, md, steps), **summary["scalars"]}
        if run.state == "running":
            self.live.add(run.id)
        else:
            self.live.discard(run.id)
        params, scalars, metrics = summary.get("parameters", {}), summary.get("scalars", {}), summary.get("metrics", {})
        text = " ".join([run.name, run.pipeline, *(f"{k}={v}" for k, v in params.items())]).lower()
        return {
            "name": run.name, "pipeline": run.pipeline, "state": run.state, "started": run.started, "ended": run.ended or None,
            "duration": max(run.ended - run.started, 0.0) if run.ended else None, "steps": summary.get("steps", 0),
            "cached": summary.get("cached", 0), "stack": (run.stack or {}).get("name"), "user": run.user or None,
            "parameters": params, "scalars": scalars, "metrics": metrics, "background": bool(summary.get("background")),
            "_text": text, "_info": run,
        }


_INDEXES: weakref.WeakKeyDictionary[Any, _Index] = weakref.WeakKeyDictionary()
_INDEXES_LOCK = threading.Lock()


def _index_of(md: MLMDStore) -> _Index:
    with _INDEXES_LOCK:
        index = _INDEXES.get(md)
        if index is None:
            index = _INDEXES[md] = _Index()
        return index


def _started(row: dict[str, Any]) -> tuple[float, int]:
    return row["started"], row["_info"].id


def _sort_key(sort: str) -> Any:
    """The value a row sorts by, or None when it has none (those go last either way)."""
    if sort.startswith("param:"):
        key = sort[6:]
        return lambda row: row["parameters"].get(key)
    if sort.startswith("scalar:"):
        key = sort[7:]
        return lambda row: row["scalars"].get(key)
    if sort.startswith("metric:"):
        key = sort[7:]
        return lambda row: row["metrics"].get(key)
    if sort not in COLUMNS:
        raise UsageError(f"cannot sort by {sort[:80]!r}; sort by one of {', '.join(COLUMNS)}, param:STEP.NAME, scalar:STEP.OUTPUT or metric:STEP.METRIC")
    return lambda row: row[sort]


def _ordered(rows: list[dict[str, Any]], sort: str, descending: bool) -> list[dict[str, Any]]:
    """``rows`` (newest first) by ``sort``: numbers, then text, then rows without a value; equal
    values keep the newest first (sorts are stable, also reversed)."""
    if sort == "started":
        return rows if descending else rows[::-1]
    values = list(map(_sort_key(sort), rows))
    kinds = list(map(type, values))
    numbers = [i for i, k in enumerate(kinds) if k is float or k is int]
    words = [i for i, k in enumerate(kinds) if not (k is float or k is int or k is type(None))]
    missing = [rows[i] for i, k in enumerate(kinds) if k is type(None)]
    numbers.sort(key=values.__getitem__, reverse=descending)
    if words:
        texts = {i: values[i] if kinds[i] is str else json.dumps(values[i], sort_keys=True) for i in words}
        words.sort(key=texts.__getitem__, reverse=descending)
    return [rows[i] for i in numbers] + [rows[i] for i in words] + missing


def query_runs(
    md: MLMDStore, store: ArtifactStore | None = None, *, sort: str = "started", descending: bool = True, pipeline: str | None = None,
    state: str | None = None, text: str = "", offset: int = 0, limit: int = 50,
) -> dict[str, Any]:
    """One page of the runs table, and what the table needs around it (the columns there are,
    the pipelines, how many runs match)."""
    if not 1 <= limit <= 1000 or offset < 0:
        raise UsageError("offset must be >= 0 and limit between 1 and 1000")
    if state and state not in STATES:
        raise UsageError(f"state must be one of {', '.join(STATES)}, not {state[:40]!r}")
    if len(text) > MAX_TEXT:
        raise UsageError(f"the search text is longer than {MAX_TEXT} characters")
    _sort_key(sort)  # refuse an unknown column before any work
    index = _index_of(md)
    if index.token is None and sort == "started" and descending and not (pipeline or state or text) and offset + limit <= 200:
        # the very first look at a store: when it is big, its newest runs now (one indexed
        # query) while every run is read in the background for sorting, filtering and counting
        if index.lock.acquire(blocking=False):
            try:
                if index.token is None and index.building is None:
                    page = _first_page(md, store, offset, limit)
                    if page is not None:
                        index.building = threading.Thread(target=_build, args=(index, md, store), name="zenml-notebook-runs-index", daemon=True)
                        index.building.start()
                        return page
            finally:
                index.lock.release()
        elif index.building is not None:  # being read: the newest runs again, without waiting
            page = _first_page(md, store, offset, limit)
            if page is not None:
                return page
    with index.lock:
        if index.building is not None:  # another thread reads every run: wait for it, then catch up
            index.lock.release()
            try:
                index.building.join()
            finally:
                index.lock.acquire()
        index.refresh(md, store)
        key = (sort, descending, pipeline, state, text.lower())
        rows = index.sorted.get(key)
        if rows is None:
            needle = text.lower().strip()
            chosen = index.newest_first
            if pipeline or needle:
                chosen = [r for r in chosen if (not pipeline or r["pipeline"] == pipeline) and (not needle or needle in r["_text"])]
            if state:  # "running" is checked against the process that runs it: a killed run is "incomplete"
                chosen = [r for r in chosen if (run_state(r["_info"]) if r["state"] == "running" else r["state"]) == state]
            rows = _ordered(chosen, sort, descending)
            if len(index.sorted) > 16:
                index.sorted.clear()
            index.sorted[key] = rows
        shown = rows[offset : offset + limit]
        out = [{k: v for k, v in r.items() if not k.startswith("_")} for r in shown]
        for row, r in zip(out, shown, strict=True):
            if row["state"] == "running":
                row["state"] = run_state(r["_info"])
        return {"rows": out, "total": len(index.rows), "matched": len(rows), "offset": offset, "limit": limit,
                "columns": index.columns, "pipelines": index.pipelines, "sort": sort, "descending": descending}


def _build(index: _Index, md: MLMDStore, store: ArtifactStore | None) -> None:
    with index.lock:
        try:
            index.refresh(md, store)
        except ZenMLError:
            pass  # the next query reads again, and says what failed
        finally:
            index.building = None


BIG = 2000  # runs: a store with more has its first page served before every run is read


def _first_page(md: MLMDStore, store: ArtifactStore | None, offset: int, limit: int) -> dict[str, Any] | None:
    """The newest runs before the index is ready (``total`` not known yet: None); None when
    the store is small enough to read every run at once."""
    found = md.newest_runs(BIG)
    if len(found) < BIG:
        return None
    newest = [r for r in found[: offset + limit + 200] if not r.deleted][offset : offset + limit]
    scratch = _Index()
    rows = [scratch._row(md, store, r) for r in newest]
    out = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    for row, r in zip(out, rows, strict=True):
        if row["state"] == "running":
            row["state"] = run_state(r["_info"])
    columns: dict[str, list[str]] = {"parameters": list(dict.fromkeys(k for r in out for k in r["parameters"])),
                                     "scalars": list(dict.fromkeys(k for r in out for k in r["scalars"])),
                                     "metrics": list(dict.fromkeys(k for r in out for k in r["metrics"]))}
    return {"rows": out, "total": None, "matched": None, "offset": offset, "limit": limit, "columns": columns,
            "pipelines": sorted({r["pipeline"] for r in out}), "sort": "started", "descending": True, "counting": True}


def rows_named(md: MLMDStore, store: ArtifactStore | None, names: Sequence[str]) -> list[dict[str, Any]]:
    """The table rows of these runs, in this order (unknown names are left out)."""
    index = _index_of(md)
    with index.lock:
        index.refresh(md, store)
        by_name = {r["name"]: r for r in index.rows.values()}
        return [{k: v for k, v in by_name[n].items() if not k.startswith("_")} for n in dict.fromkeys(names) if n in by_name]
