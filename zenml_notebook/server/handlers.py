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

import asyncio
import concurrent.futures
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .. import api
from ..exceptions import NotFoundError, UsageError, ZenMLError, http_status, redact
from ..repository import find_repository, working_dir
from ..secrets import ENV_OWNER, mask_config

# Our own threads: a store that stops answering holds one of them for at most its deadline,
# never the event loop, and never the default executor other extensions' handlers share.
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="zenml-notebook")


_LOGGED: dict[str, tuple[str, float]] = {}  # route -> (the failure last logged, when)
_RELOG_AFTER = 600.0  # seconds: a failure that persists is logged again this often


def _first_time(route: str, message: str) -> bool:
    """Whether to log this failure of this route: when it is new (or changed), or was last
    logged long ago. The sidebar polls every 2.5 s; its server log must not fill with copies."""
    import time

    now = time.monotonic()
    last = _LOGGED.get(route)
    if last is not None and last[0] == message and now - last[1] < _RELOG_AFTER:
        return False
    _LOGGED[route] = (message, now)
    if len(_LOGGED) > 1000:  # routes carry run names: keep the table small
        _LOGGED.clear()
    return True


class _Base(APIHandler):
    def _start_dir(self) -> Path:
        root = Path(self.settings.get("server_root_dir", ".")).expanduser().resolve()
        rel = self.get_query_argument("cwd", "")
        if not rel:
            return root
        from ..components.artifacts.paths import clean_parts

        try:
            target = root.joinpath(*clean_parts(rel)).resolve()
        except UsageError:
            target = root.parent  # '..' and friends: reported just below, in terms of cwd
        if not target.is_relative_to(root):
            raise UsageError(f"cwd {rel!r} is outside the server's root folder")
        return target if target.is_dir() else target.parent

    async def _answer(self, fn: Callable[[], Any], status: int = 200) -> None:
        """Run ``fn`` off the event loop, inside the right repository; map errors to statuses."""
        try:
            start = self._start_dir()

            def call() -> Any:
                ENV_OWNER.set("jupyter-server")  # `--passwd-env X` is read from the server's environment: say so
                with working_dir(start):
                    return fn()

            result = await asyncio.get_running_loop().run_in_executor(_POOL, call)
        except ZenMLError as exc:
            code = http_status(exc)
            if (code >= 500 or code == 424) and _first_time(self.request.path, str(exc)):
                # a store's failure: one line in the server log, no traceback - and once, not at every poll
                self.log.warning("zenml-notebook: %s %s: %s", self.request.method, self.request.path, exc)
            self.set_status(code)
            self.finish(json.dumps({"error": str(exc)}))
            return
        self.set_status(status)
        self.finish(json.dumps(result, default=str))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Every error body is ``{"error": "..."}``, like the typed ones above. Jupyter's default
        sends the traceback of an unexpected exception; ours stays in the server log only."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, tornado.web.HTTPError):
            message = (exc.log_message % exc.args) if exc.log_message else (exc.reason or f"HTTP {status_code}")
        else:
            message = "unexpected error in the zenml-notebook server extension; the Jupyter server log has the details"
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"error": redact(message)}))

    def _json_body(self, example: str) -> dict[str, Any] | None:
        """The request's JSON object, or None after answering 400 (state changes take JSON only:
        a form posted from another site cannot send it)."""
        if self.request.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            self.set_status(400)
            self.finish(json.dumps({"error": f"send a JSON body {example} with Content-Type: application/json"}))
            return None
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self.set_status(400)
            self.finish(json.dumps({"error": f"the body must be a JSON object like {example}"}))
            return None
        return body

    def _int(self, name: str, default: int, low: int = 0, high: int = 10**12) -> int:
        """An integer query argument, refused (400) outside low..high: an offset past any file or a
        huge limit is the client's mistake, never a 500 from deep inside a read."""
        raw = self.get_query_argument(name, str(default))
        try:
            value = int(raw) if len(raw) <= 20 else None
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise tornado.web.HTTPError(400, f"{name} must be an integer from {low} to {high}")
        return value


def _has_repository() -> bool:
    return find_repository()[1]


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
    """One page of runs, newest first, each with its duration, cached steps and parameters."""
    if not _has_repository():
        return {"runs": [], "total": 0, "offset": 0, "pipelines": []}
    from ..pipelines.runs import Client

    if not 1 <= limit <= 1000 or offset < 0:
        raise UsageError("offset must be >= 0 and limit between 1 and 1000")
    client = Client()
    every = client.runs(pipeline)
    out = []
    for r in every[offset : offset + limit]:
        steps = client.executions(r)
        params = {f"{e.step}.{k}": v for e in steps for k, v in e.parameters.items()}
        out.append({
            "name": r.name, "pipeline": r.pipeline, "state": client.run_state(r), "started": r.started, "ended": r.ended,
            "duration": max(r.ended - r.started, 0.0) if r.ended else None, "steps": len(steps),
            "cached": sum(e.state == "cached" for e in steps), "stack": (r.stack or {}).get("name"), "parameters": params,
        })
    return {"stack": client.stack, "runs": out, "total": len(every), "offset": offset, "pipelines": client.pipelines()}


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
                      "inputs": s.inputs, "log": s.log is not None, "load": s.load_seconds, "store": s.store_seconds})
    return {"name": run.name, "pipeline": run.pipeline, "state": run.state, "started": run.started, "ended": run.ended,
            "stack": run.stack.get("name"), "steps": steps}


class RunsHandler(_Base):
    @tornado.web.authenticated
    async def get(self) -> None:
        pipeline, limit, offset = self.get_query_argument("pipeline", None) or None, self._int("limit", 20), self._int("offset", 0)
        await self._answer(lambda: _runs(pipeline, limit, offset))


def _compare(names: list[str]) -> dict[str, Any]:
    from ..pipelines.runs import Client

    comparison = Client().compare(names)
    return {"runs": comparison.runs, "rows": [{"key": k, "values": v, "differs": len(set(v)) > 1} for k, v in comparison.rows],
            "scalars": comparison.numbers}


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
