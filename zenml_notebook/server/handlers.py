"""REST handlers, each a few lines over the API; errors map to HTTP status in one place.

Routes (all need Jupyter's token or login cookie; state changes need POST/PUT + JSON):

* ``GET  /zenml-notebook/stacks``            stacks, components (secrets masked), the active one
* ``POST /zenml-notebook/stacks/active``      ``{"name": ...}`` switches the active stack
* ``GET  /zenml-notebook/artifacts``          ``?path=&offset=&limit=&store=`` one page of a folder
* ``GET  /zenml-notebook/artifacts/preview``  ``?path=&store=`` a size-capped preview
* ``GET  /zenml-notebook/runs``               ``?pipeline=&limit=`` recent runs
* ``GET  /zenml-notebook/runs/<name>``        one run's steps and output artifacts
* ``GET  /zenml-notebook/runs/<name>/logs``   ``?step=&offset=&limit=`` a page of what a step printed

``?cwd=`` (a folder relative to the server root, e.g. the notebook's) picks the repository by
walking up from it; without it the server's root folder is used.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import tornado.web
from jupyter_server.utils import url_path_join

from .. import api
from ..exceptions import NotFoundError, UsageError, ZenMLError
from ..repository import find_repository
from ..secrets import mask_config
from .base import Base, has_repository

_Base = Base
_has_repository = has_repository


def _stacks() -> dict[str, Any]:
    repo, exists = find_repository()
    if not exists:
        return {"repository": None, "active": None, "stacks": []}
    stacks, active = api.list_stacks()
    registry = api.registry_location()  # after the read: says whether it came from the stale copy
    out = []
    for stack in stacks:
        desc = api.describe_stack(stack.name)
        out.append({
            "name": stack.name,
            "active": stack.name == active,
            "changed": stack.updated,
            "changed_by": stack.updated_by,
            "components": {k: {"name": c.name, "flavor": c.flavor, "config": mask_config(c.config), "source": desc.source(k)}
                           for k, c in desc.components.items()},
        })
    return {"repository": str(repo.root), "active": active, "stacks": out, "registry": registry}


class StacksHandler(_Base):
    @tornado.web.authenticated
    async def get(self) -> None:
        await self._answer(_stacks)


class ActiveStackHandler(_Base):
    @tornado.web.authenticated
    async def post(self) -> None:
        body = self._json_body('{"name": "STACK"}')
        if body is None:
            return
        name = body.get("name")
        if not isinstance(name, str):
            self.set_status(400)
            self.finish(json.dumps({"error": 'the body must be JSON like {"name": "STACK"}'}))
            return

        def switch() -> dict[str, Any]:
            if not _has_repository():
                raise NotFoundError("no zenml-notebook repository here; run `%zenml init` in a notebook first")
            return {"active": api.set_active_stack(name).name}

        await self._answer(switch)

    put = post


class ArtifactsHandler(_Base):
    @tornado.web.authenticated
    async def get(self) -> None:
        path, store = self.get_query_argument("path", ""), self.get_query_argument("store", None)
        offset, limit = self._int("offset", 0), self._int("limit", 100)

        def listing() -> dict[str, Any]:
            if not _has_repository():
                return {"store": None, "path": path, "entries": [], "total": 0, "offset": offset, "limit": limit}
            return asdict(api.list_artifacts(path, offset=offset, limit=limit, store=store))

        await self._answer(listing)


class PreviewHandler(_Base):
    @tornado.web.authenticated
    async def get(self) -> None:
        path, store = self.get_query_argument("path", ""), self.get_query_argument("store", None)
        await self._answer(lambda: _preview(path, store))


def _preview(path: str, store: str | None) -> dict[str, Any]:
    opened = api.artifact_store(store)
    found = asdict(api.preview_artifact(path, store=store))
    found["uri"] = opened.full_uri(found["path"])  # for "copy URI"
    return found


def _runs(pipeline: str | None, limit: int, offset: int = 0) -> dict[str, Any]:
    """One page of runs, newest first, each with its duration, cached steps and parameters
    (the sidebar's list: the runs table's rows, so no step is read)."""
    if not _has_repository():
        return {"runs": [], "total": 0, "offset": 0, "pipelines": []}
    from ..pipelines.runs import Client

    client = Client()
    page = client.table(pipeline=pipeline, limit=limit, offset=offset)
    if page["matched"] is None:  # the first look at a big store: counted by the next poll
        page["matched"] = offset + len(page["rows"])
    return {"stack": client.stack, "runs": page["rows"], "total": page["matched"], "offset": offset, "pipelines": page["pipelines"]}


def _scalar(store: Any, path: str | None, materializer: str) -> dict[str, Any]:
    """{"value": x} for a small JSON output that is a number, a boolean or a short string (shown
    inline); parsed as JSON from our own store, never deserialised otherwise."""
    if path is None or materializer != "json":
        return {}
    try:
        raw = store.read_bytes(path, 201)
    except ZenMLError:
        return {}
    if len(raw) > 200:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    if isinstance(value, (bool, int, float)) or (isinstance(value, str) and len(value) <= 80):
        return {"value": value}
    return {}


def _run(name: str) -> dict[str, Any]:
    from ..pipelines.runs import Client

    client = Client()
    store = api.artifact_store()
    run = client.get_run(name)
    steps = []
    for s in run.steps:
        outputs = []
        for out, art in s.outputs.items():
            try:
                rel = store.relative(art.uri)
            except UsageError:
                rel = None
            outputs.append({"id": art.id, "name": out, "uri": art.uri, "path": rel, "materializer": art.materializer, "hash": art.content_hash,
                            **_scalar(store, rel, art.materializer)})
        steps.append({"name": s.name, "state": s.state, "duration": s.duration, "parameters": s.parameters, "error": s.error, "outputs": outputs,
                      "inputs": s.inputs, "log": s.log is not None, "load": s.load_seconds, "store": s.store_seconds,
                      "metrics": s.metric_summary, "tags": s.tags})
    from ..components.trackers import describe_mirror

    mirror = describe_mirror(run.summary.get("tracker"), run.name)
    return {"name": run.name, "pipeline": run.pipeline, "state": run.state, "started": run.started, "ended": run.ended,
            "stack": run.stack.get("name"), "user": run.user or None, "steps": steps,
            "tracker": None if mirror is None else {"text": mirror[0], "url": mirror[1], "mirrored": bool(run.summary["tracker"].get("mirrored"))}}


class RunsHandler(_Base):
    @tornado.web.authenticated
    async def get(self) -> None:
        pipeline, limit, offset = self.get_query_argument("pipeline", None) or None, self._int("limit", 20), self._int("offset", 0)
        await self._answer(lambda: _runs(pipeline, limit, offset))


def _compare(names: list[str]) -> dict[str, Any]:
    from ..pipelines.runs import Client

    client = Client()
    comparison = client.compare(names)
    metrics = sorted({k for row in client.table_rows(comparison.runs) for k in row.get("metrics", {})})
    return {"runs": comparison.runs, "rows": [{"key": k, "values": v, "differs": len(set(v)) > 1} for k, v in comparison.rows],
            "scalars": comparison.numbers, "metrics": metrics}


class CompareHandler(_Base):
    """``GET /zenml-notebook/runs/compare?runs=A&runs=B``: parameters and outputs side by side."""

    @tornado.web.authenticated
    async def get(self) -> None:
        names = [n for value in self.get_query_arguments("runs") for n in value.split(",") if n]
        await self._answer(lambda: _compare(names))


class RunHandler(_Base):
    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        await self._answer(lambda: _run(name))


def _logs(name: str, step: str, offset: int, limit: int) -> dict[str, Any]:
    from ..pipelines.runs import Client

    run = Client().get_run(name)
    page = run.log_page(run.step(step).name, offset=offset, limit=limit)
    return {"run": run.name, "step": step, "offset": page.offset, "text": page.text, "size": page.size, "next": page.next}


class LogsHandler(_Base):
    """``GET /zenml-notebook/runs/<name>/logs?step=&offset=&limit=``: a page of a step's output."""

    @tornado.web.authenticated
    async def get(self, name: str) -> None:
        step = self.get_query_argument("step", "")
        offset, limit = self._int("offset", 0), self._int("limit", 65536, 1, 1_000_000)
        await self._answer(lambda: _logs(name, step, offset, limit))


def _version() -> dict[str, Any]:
    if not _has_repository():
        return {"token": "no-repository"}
    return {"token": api.change_token()}


class VersionHandler(_Base):
    """``GET /zenml-notebook/version``: a token that changes when the stacks or the active stack's
    runs change - what the sidebar polls (only while it is visible) before fetching anything."""

    @tornado.web.authenticated
    async def get(self) -> None:
        await self._answer(_version)


class MissingHandler(_Base):
    """Anything else under /zenml-notebook/ answers a JSON 404 (after authentication)."""

    @tornado.web.authenticated
    def get(self) -> None:
        raise tornado.web.HTTPError(404, f"no such zenml-notebook endpoint: {self.request.path}")

    post = put = delete = patch = get


def setup_handlers(web_app: Any) -> None:
    from .explorer import ROUTES

    base = url_path_join(web_app.settings["base_url"], "zenml-notebook")
    web_app.add_handlers(".*$", [
        *[(url_path_join(base, *parts), handler) for parts, handler in ROUTES],
        (url_path_join(base, "version"), VersionHandler),
        (url_path_join(base, "stacks"), StacksHandler),
        (url_path_join(base, "stacks", "active"), ActiveStackHandler),
        (url_path_join(base, "artifacts"), ArtifactsHandler),
        (url_path_join(base, "artifacts", "preview"), PreviewHandler),
        (url_path_join(base, "runs"), RunsHandler),
        (url_path_join(base, "runs", "compare"), CompareHandler),
        (url_path_join(base, "runs", "([^/]+)"), RunHandler),
        (url_path_join(base, "runs", "([^/]+)", "logs"), LogsHandler),
        (url_path_join(base, ".*"), MissingHandler),
    ])
