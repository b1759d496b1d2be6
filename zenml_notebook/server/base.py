"""What every zenml-notebook REST handler shares: authentication, running the work off the
event loop inside the right repository, and mapping errors to one JSON shape and status."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.base.handlers import APIHandler

from ..exceptions import UsageError, ZenMLError, http_status, redact
from ..repository import find_repository, working_dir
from ..secrets import ENV_OWNER

__all__ = ["Base", "has_repository"]


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


class Base(APIHandler):
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


def has_repository() -> bool:
    return find_repository()[1]
