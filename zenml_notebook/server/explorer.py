"""REST routes of the full-page run explorer, each a few lines over :class:`Client`:

* ``GET  /zenml-notebook/runs/table``        ``?sort=&order=asc|desc&pipeline=&state=&q=&offset=&limit=`` one page of the runs table
* ``GET  /zenml-notebook/runs/chart``        ``?runs=A&runs=B&y=STEP.OUTPUT[&x=STEP.PARAM]`` the Vega-Lite spec of a scalar across runs
                                             (bars), or against a parameter (points)
* ``POST /zenml-notebook/runs/delete``       ``{"runs": [...], "dry_run": true, "force": false}`` what goes, or delete it
* ``GET  /zenml-notebook/runs/<name>/lineage`` where a run's inputs came from, which runs used its outputs
* ``GET  /zenml-notebook/runs/<name>/metrics``  ``?step=&name=&points=`` its series, downsampled (min and max kept)
* ``GET  /zenml-notebook/runs/metric-chart``   ``?runs=A&runs=B&metric=STEP.NAME&x=step|time&smooth=0.6&log=1`` one metric
                                             of several runs as lines (Vega-Lite)
* ``GET  /zenml-notebook/versions``          named artifacts, latest version first
* ``GET  /zenml-notebook/versions/<name>``   ``?offset=&limit=`` one page of a name's versions
* ``POST /zenml-notebook/versions/<name>/tag``   ``{"version": 3, "tag": "production"}``
* ``POST /zenml-notebook/versions/<name>/untag`` ``{"tag": "production"}``

Everything comes back as data (names, values); the front end renders it as text.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import tornado.web

from ..exceptions import UsageError
from .base import Base as _Base
from .base import has_repository as _has_repository

__all__ = ["ROUTES"]

MAX_CHART_RUNS = 5000


def _client() -> Any:
    from ..pipelines.runs import Client

    return Client()


def _table(query: dict[str, Any]) -> dict[str, Any]:
    if not _has_repository():
        return {"rows": [], "total": 0, "matched": 0, "offset": 0, "limit": query["limit"], "columns": {"parameters": [], "scalars": []},
                "pipelines": [], "sort": query["sort"], "descending": query["descending"], "stack": None}
    client = _client()
    return {**client.table(**query), "stack": client.stack}


class TableHandler(_Base):
    @tornado.web.authenticated
    async def get(self) -> None:
        order = self.get_query_argument("order", "desc")
        if order not in ("asc", "desc"):
            raise tornado.web.HTTPError(400, "order must be asc or desc")
        query = {
            "sort": self.get_query_argument("sort", "started"), "descending": order == "desc",
            "pipeline": self.get_query_argument("pipeline", "") or None, "state": self.get_query_argument("state", "") or None,
            "text": self.get_query_argument("q", ""), "offset": self._int("offset", 0), "limit": self._int("limit", 50, 1, 1000),
        }
        await self._answer(lambda: _table(query))


def _chart(names: list[str], y: str, x: str) -> dict[str, Any]:
    """The same specs the notebook's `runs compare` emits, from the runs table's rows (so a
    chart of 1 000 runs reads no step)."""
    from ..display import bar_spec, scatter_spec

    if not names:
        raise UsageError("choose the runs to chart (runs=A&runs=B)")
    if len(names) > MAX_CHART_RUNS:
        raise UsageError(f"chart at most {MAX_CHART_RUNS} runs at once")
    client = _client()
    rows = {r["name"]: r for r in client.table_rows(names)}
    missing = [n for n in names if n not in rows]
    if missing:
        raise UsageError(f"no run named {missing[0][:80]!r} on stack {client.stack!r}")
    ordered = [rows[n] for n in dict.fromkeys(names)]
    if not x:
        points = [(r["name"], r["scalars"][y]) for r in ordered if y in r["scalars"]]
        if not points:
            raise UsageError(f"{y[:80]!r} is not a scalar output of these runs")
        return {"spec": bar_spec(y, points)}
    points3 = [(r["name"], r["parameters"][x], r["scalars"][y]) for r in ordered
               if y in r["scalars"] and isinstance(r["parameters"].get(x), (int, float)) and not isinstance(r["parameters"].get(x), bool)]
    if not points3:
        raise UsageError(f"no run has both a numeric parameter {x[:80]!r} and the output {y[:80]!r}")
    return {"spec": scatter_spec(x, y, points3)}


class ChartHandler(_Base):
    @tornado.web.authenticated
    async def get(self) -> None:
        names = [n for value in self.get_query_arguments("runs") for n in value.split(",") if n]
        y, x = self.get_query_argument("y", ""), self.get_query_argument("x", "")
        await self._answer(lambda: _chart(names, y, x))


def _deletion(names: list[str], dry_run: bool, force: bool) -> dict[str, Any]:
    d = _client().delete_runs(names, dry_run=dry_run, force=force)
    return {
        "dry_run": dry_run, "runs": [r.name for r in d.runs], "bytes": d.bytes, "shared": d.shared, "tagged": d.tagged,
        "artifacts": [{"uri": a.uri, "state": a.state} for a in d.artifacts[:500]], "artifact_count": len(d.artifacts),
        "already": d.already,
    }


class DeleteHandler(_Base):
    @tornado.web.authenticated
    async def post(self) -> None:
        body = self._json_body('{"runs": ["RUN", ...], "dry_run": true}')
        if body is None:
            return
        names, dry_run, force = body.get("runs"), body.get("dry_run", True), body.get("force", False)
        if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names) and len(names) <= 1000
                and isinstance(dry_run, bool) and isinstance(force, bool)):
            raise tornado.web.HTTPError(400, 'the body must be like {"runs": ["RUN", ...], "dry_run": true, "force": false} (1 to 1000 runs)')
        await self._answer(lambda: _deletion(names, dry_run, force))


MAX_POINTS = 5000


def _metrics(name: str, step: str, metric: str, points: int) -> dict[str, Any]:
    """A run's series, each downsampled to ``points`` (the min and max of every bucket kept)."""
    from ..pipelines.metrics import downsample
    from ..validation import check_name

    if step:
        check_name("step", step)  # it may name a folder of a running step: never a path

    run = _client().get_run(name)
    out = []
    for s, series in run.metric_series(step or None, metric or None):
        d = downsample(series, points)
        out.append({"step": s, **d, "last": series.values[-1] if len(series.values) else None})
    return {"run": run.name, "series": out}


class MetricsHandler(_Base):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        step, metric = self.get_query_argument("step", ""), self.get_query_argument("name", "")
        points = self._int("points", 500, 10, MAX_POINTS)
        await self._answer(lambda: _metrics(name, step, metric, points))


def _metric_chart(names: list[str], metric: str, x: str, factor: float, log: bool, points: int) -> dict[str, Any]:
    """One metric of several runs as lines (x: step, or seconds since the run's first point)."""
    from array import array

    from ..display import lines_spec
    from ..pipelines.metrics import Series, downsample, smooth

    if not names or len(names) > 50:
        raise UsageError("overlay 1 to 50 runs (runs=A&runs=B)")
    from ..validation import check_name

    step, _, name = metric.partition(".")
    if not step or not name:
        raise UsageError(f"metric must be STEP.NAME (as the runs table's columns say), not {metric[:80]!r}")
    check_name("step", step)
    client = _client()
    rows: list[tuple[str, float, float]] = []
    found = 0
    for run_name in dict.fromkeys(names):
        run = client.get_run(run_name)
        for _, series in run.metric_series(step, name):
            found += 1
            values = smooth(series.values, factor)
            if x == "time":
                t0 = min(series.times) if len(series.times) else 0.0
                xs = array("q", range(len(series.times)))
                d = downsample(Series(name, xs, values, series.times), points)
                rows += [(run.name, series.times[int(i)] - t0, v) for i, v in zip(d["steps"], d["values"], strict=True)]
            else:
                d = downsample(Series(name, series.steps, values, series.times), points)
                rows += [(run.name, float(i), v) for i, v in zip(d["steps"], d["values"], strict=True)]
    if not found:
        raise UsageError(f"none of these runs logged {metric[:80]!r}")
    if log and any(v <= 0 for _, _, v in rows):
        raise UsageError(f"{metric[:80]!r} has values <= 0: a log scale cannot show them")
    return {"spec": lines_spec(metric, "seconds" if x == "time" else "step", rows, log=log)}


class MetricChartHandler(_Base):
    @tornado.web.authenticated
    async def get(self) -> None:
        names = [n for value in self.get_query_arguments("runs") for n in value.split(",") if n]
        metric, x = self.get_query_argument("metric", ""), self.get_query_argument("x", "step")
        if x not in ("step", "time"):
            raise tornado.web.HTTPError(400, "x must be step or time")
        try:
            factor = float(self.get_query_argument("smooth", "0"))
        except ValueError:
            factor = -1.0
        if not 0.0 <= factor < 1.0:
            raise tornado.web.HTTPError(400, "smooth must be a number from 0 to 0.99")
        log = self.get_query_argument("log", "0") in ("1", "true")
        points = self._int("points", 1000, 10, MAX_POINTS)
        await self._answer(lambda: _metric_chart(names, metric, x, factor, log, points))


class LineageHandler(_Base):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        await self._answer(lambda: _client().run_lineage(name))


def _names() -> dict[str, Any]:
    if not _has_repository():
        return {"names": []}
    return {"names": [{"name": n, "latest": v, "created": t} for n, v, t in _client().artifact_names()]}


class NamesHandler(_Base):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self._answer(_names)


def _versions(name: str, offset: int, limit: int) -> dict[str, Any]:
    client = _client()
    total, versions = client.artifact_versions(name, offset=offset, limit=limit)
    paths = client.paths_of([v.artifact_id for v in versions])
    return {"name": name, "total": total, "offset": offset, "versions": [{**asdict(v), "path": paths.get(v.artifact_id)} for v in versions]}


class VersionsHandler(_Base):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        offset, limit = self._int("offset", 0), self._int("limit", 50, 1, 1000)
        await self._answer(lambda: _versions(name, offset, limit))


def _tag(name: str, version: Any, tag: str) -> dict[str, Any]:
    found, moved_from = _client().tag(name, version, tag)
    return {"name": found.name, "version": found.version, "tag": tag, "moved_from": moved_from or None}


class TagHandler(_Base):
    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        body = self._json_body('{"version": 3, "tag": "production"}')
        if body is None:
            return
        version, tag = body.get("version"), body.get("tag")
        if not (isinstance(tag, str) and (version is None or isinstance(version, (int, str))) and not isinstance(version, bool)):
            raise tornado.web.HTTPError(400, 'the body must be like {"version": 3, "tag": "production"}')
        await self._answer(lambda: _tag(name, version, tag))


class UntagHandler(_Base):
    @tornado.web.authenticated
    async def post(self, name: str) -> None:
        body = self._json_body('{"tag": "production"}')
        if body is None:
            return
        tag = body.get("tag")
        if not isinstance(tag, str):
            raise tornado.web.HTTPError(400, 'the body must be like {"tag": "production"}')
        await self._answer(lambda: {"name": name, "tag": tag, "was_on": _client().untag(name, tag)})


ROUTES: list[tuple[tuple[str, ...], type[_Base]]] = [
    (("runs", "table"), TableHandler),
    (("runs", "chart"), ChartHandler),
    (("runs", "delete"), DeleteHandler),
    (("runs", "metric-chart"), MetricChartHandler),
    (("runs", "([^/]+)", "metrics"), MetricsHandler),
    (("runs", "([^/]+)", "lineage"), LineageHandler),
    (("versions",), NamesHandler),
    (("versions", "([^/]+)"), VersionsHandler),
    (("versions", "([^/]+)", "tag"), TagHandler),
    (("versions", "([^/]+)", "untag"), UntagHandler),
]
