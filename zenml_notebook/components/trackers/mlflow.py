"""The ``mlflow`` experiment tracker: mirror an ended run to an MLflow tracking server through
its REST API (``/api/2.0/mlflow/...``) with the standard library, so neither the mlflow package
nor its imports are needed.

A pipeline run becomes a parent MLflow run (tags ``zenml.run``, ``zenml.pipeline``,
``zenml.stack``); each step a nested run (``mlflow.parentRunId``) with its parameters, every
point of its metrics (batched, 1 000 a request), its scalar outputs as ``output.NAME`` metrics,
its tags and how to find it here. Mirroring again (``runs sync-tracker``) is idempotent: the
parent is found by its tags, a step whose MLflow run is FINISHED is left alone, and a half-made
one is deleted and made again.

The credentials go to the tracking server only: redirects are refused rather than followed
(urllib would send the Authorization header on to wherever a redirect points).
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any

from ...exceptions import (
    StoreConnectionError,
    StoreCredentialsError,
    StoreMissingError,
    StoreUnavailableError,
    UsageError,
)

if TYPE_CHECKING:
    from ...registry import ComponentRecord

# a run and its steps come in as the pipelines layer's Run / StepRun objects (duck-typed: this
# layer is below that one and does not import it)
Run = Any
StepRun = Any

__all__ = ["MLflowTracker", "mlflow_key"]

DEFAULT_TIMEOUT = 10.0  # seconds mirroring a run may add to its end
_API = "/api/2.0/mlflow/"
BATCH = 1000  # MLflow's log-batch limit: 1 000 metrics, 100 params, 100 tags, 1 000 entities in all
PARAMS_PER_BATCH = 100
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 5000
_STATUS = {"complete": "FINISHED", "cached": "FINISHED", "failed": "FAILED", "cancelled": "KILLED"}
_ENDED = ("FINISHED", "FAILED", "KILLED")  # a mirror marks a run ended only after everything of it was sent
_UNSAFE_KEY = re.compile(r"[^\w.\- :]")


def mlflow_key(name: str) -> str:
    """A metric or parameter name MLflow accepts (letters, digits, ``_ - . : space``; ours may
    hold a few more characters, which become ``_``)."""
    return _UNSAFE_KEY.sub("_", name)[:250] or "_"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        return None  # urllib then raises the 3xx as an HTTPError, which _call names


_OPENER = urllib.request.build_opener(_NoRedirect)


class _Http:
    """JSON over HTTP to one tracking server, each call bounded by the time left."""

    def __init__(self, uri: str, label: str, auth: str | None, timeout: float, deadline: float | None) -> None:
        self.uri, self.label, self.auth, self.timeout, self.deadline = uri, label, auth, timeout, deadline

    def left(self) -> float:
        if self.deadline is None:
            return self.timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise StoreUnavailableError(self._out_of_time())
        return min(left, self.timeout)

    def _out_of_time(self) -> str:
        return (f"{self.label} could not take the whole run within its --timeout of {self.timeout:g} s (MLflow stores about "
                "2 000 metric points a second; raise --timeout to wait longer when runs end)")

    def _silent(self, wait: float) -> str:
        if wait < self.timeout / 2:  # the run's time ran out, the server was answering
            return self._out_of_time()
        return f"{self.label} did not answer within {wait:.2g} s (is it paused or overloaded?)"

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, *, missing_ok: bool = False) -> dict[str, Any]:
        url = self.uri + _API + path
        data = None
        if method == "GET" and body:
            url += "?" + urllib.parse.urlencode(body)
        elif body is not None:
            data = json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - an http(s) address: the config model checks the scheme
            url, data=data, method=method, headers={"Content-Type": "application/json", "Accept": "application/json"})
        if self.auth:
            request.add_unredirected_header("Authorization", self.auth)
        wait = self.left()
        try:
            with _OPENER.open(request, timeout=wait) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            payload = _error_body(exc)
            code = payload.get("error_code", "")
            if missing_ok and (exc.code == 404 or code == "RESOURCE_DOES_NOT_EXIST"):
                return {}
            if code == "RESOURCE_ALREADY_EXISTS":
                return {"already_exists": True}
            raise _classify_http(self.label, exc.code, exc.headers.get("Location", ""), payload) from None
        except TimeoutError:
            raise StoreUnavailableError(self._silent(wait)) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise StoreUnavailableError(self._silent(wait)) from None
            what = getattr(reason, "strerror", None) or str(reason)
            raise StoreUnavailableError(f"{self.label} cannot be reached: {str(what)[:160]} (is the server running at that address?)") from None
        except (ConnectionError, OSError) as exc:
            raise StoreUnavailableError(f"{self.label} dropped the connection: {type(exc).__name__} (is it restarting?)") from None
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            raise StoreConnectionError(f"{self.label} answered with something that is not MLflow's JSON; is --tracking-uri an MLflow server?") from None
        return answer if isinstance(answer, dict) else {}


def _error_body(exc: urllib.error.HTTPError) -> dict[str, Any]:
    try:
        payload = json.loads(exc.read(65536) or b"{}")
    except (ValueError, OSError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _classify_http(label: str, status: int, location: str, payload: dict[str, Any]) -> StoreConnectionError:
    said = str(payload.get("message", ""))[:200]
    said = f": {said}" if said else ""
    if status in (401, 403):
        return StoreCredentialsError(f"{label} refused the credentials (HTTP {status}); give the right ones with "
                                     "`experiment-tracker update NAME --username USER --passwd`")
    if 300 <= status < 400:
        where = urllib.parse.urlsplit(location)
        to = f" to {where.scheme}://{where.netloc}" if where.netloc else ""
        return StoreConnectionError(f"{label} answered with a redirect{to} (HTTP {status}), which is not followed so that the credentials "
                                    "go nowhere else; give the final address as --tracking-uri")
    if status == 404:
        return StoreMissingError(f"{label} has no MLflow REST API at that address (HTTP 404); is --tracking-uri the server's root?")
    return StoreConnectionError(f"{label} refused a request (HTTP {status}{said})")


class MLflowTracker:
    def __init__(self, record: ComponentRecord, *, secrets: dict[str, str] | None = None) -> None:
        c = record.config
        self.record = record
        self.uri: str = c["tracking_uri"]
        self.experiment: str | None = c.get("experiment")
        self.timeout = float(c.get("timeout") or DEFAULT_TIMEOUT)
        self.label = f"experiment tracker {record.name!r} (MLflow at {self.uri})"
        self._username: str | None = c.get("username")
        self._secrets = secrets or {}

    def _auth(self) -> str | None:
        if not self._username and not self.record.config.get("password"):
            return None
        password = self._secrets.get("password")
        ref = self.record.config.get("password")
        if password is None and isinstance(ref, dict):
            from ...secrets import is_ref, resolve

            if is_ref(ref):
                update = f"experiment-tracker update {self.record.name} --passwd"
                password = resolve(ref, f"the password of {self.label}", update=update,
                                   missing=f"{self.label} needs a password on this machine: `%zenml {update}`")
        token = base64.b64encode(f"{self._username or ''}:{password or ''}".encode()).decode()
        return f"Basic {token}"

    def _http(self, deadline: float | None) -> _Http:
        return _Http(self.uri, self.label, self._auth(), self.timeout, deadline)

    def check(self) -> tuple[str, float]:
        t0 = time.perf_counter()
        http = self._http(time.monotonic() + self.timeout)
        http.call("POST", "experiments/search", {"max_results": 1})
        return f"MLflow at {self.uri} answered", (time.perf_counter() - t0) * 1000

    # -- mirroring --------------------------------------------------------------------
    def mirror(self, run: Run, *, deadline: float | None) -> dict[str, Any]:
        """Copy an ended run to MLflow; what the run's summary keeps of it. Raises a
        StoreConnectionError (never anything else for a server's failure) when it could not."""
        http = self._http(deadline)
        experiment = self.experiment or run.pipeline
        exp_id = self._experiment_id(http, experiment)
        parent = self._find(http, exp_id, f"tags.`zenml.run` = '{run.name}' AND tags.`zenml.kind` = 'run'")
        if parent:
            parent_id = parent[0]["info"]["run_id"]
        else:
            parent_id = self._create(http, exp_id, run.name, run.started, [
                ("zenml.kind", "run"), ("zenml.run", run.name), ("zenml.pipeline", run.pipeline),
                ("zenml.stack", str(run.stack.get("name", ""))), ("zenml.find", f"%zenml runs describe {run.name}"),
            ])
        children = {r["data"]["tags_by_key"].get("zenml.step"): r for r in self._find(http, exp_id, f"tags.`mlflow.parentRunId` = '{parent_id}'")}
        steps: dict[str, str] = {}
        for step in run.steps:
            existing = children.get(step.name)
            if existing is not None and existing["info"].get("status") in _ENDED:
                steps[step.name] = existing["info"]["run_id"]
                continue
            if existing is not None:  # half-made by a mirror that was cut short
                http.call("POST", "runs/delete", {"run_id": existing["info"]["run_id"]})
            steps[step.name] = self._mirror_step(http, exp_id, parent_id, run, step)
        if not parent or parent[0]["info"].get("status") not in _ENDED:  # the run's row as tables show it: every step's parameters, scalar outputs and last metric values
            summary = run.summary
            params = [{"key": mlflow_key(k), "value": _param_text(v)} for k, v in (summary.get("parameters") or {}).items()]
            ended = int((run.ended or time.time()) * 1000)
            metrics = [{"key": mlflow_key(k), "value": float(v), "timestamp": ended, "step": 0}
                       for k, v in {**(summary.get("scalars") or {}), **(summary.get("metrics") or {})}.items()
                       if isinstance(v, (int, float)) and not isinstance(v, bool)]
            for i in range(0, max(len(params), len(metrics)), PARAMS_PER_BATCH):
                http.call("POST", "runs/log-batch", {"run_id": parent_id, "params": params[i:i + PARAMS_PER_BATCH],
                                                     "metrics": metrics[i:i + PARAMS_PER_BATCH]})
        http.call("POST", "runs/update", {"run_id": parent_id, "status": _STATUS.get(run.state, "FINISHED"),
                                          "end_time": int((run.ended or time.time()) * 1000)})
        return {"tracker": self.record.name, "flavor": "mlflow", "mirrored": True, "experiment_id": exp_id, "run_id": parent_id,
                "url": f"{self.uri}/#/experiments/{exp_id}/runs/{parent_id}", "steps": steps}

    def _experiment_id(self, http: _Http, name: str) -> str:
        found = http.call("GET", "experiments/get-by-name", {"experiment_name": name}, missing_ok=True)
        if found.get("experiment"):
            return str(found["experiment"]["experiment_id"])
        made = http.call("POST", "experiments/create", {"name": name})
        if made.get("already_exists"):  # someone made it meanwhile
            found = http.call("GET", "experiments/get-by-name", {"experiment_name": name})
            return str(found["experiment"]["experiment_id"])
        return str(made["experiment_id"])

    @staticmethod
    def _find(http: _Http, exp_id: str, query: str) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = []
        token = None
        while True:
            body: dict[str, Any] = {"experiment_ids": [exp_id], "filter": query, "max_results": 1000, "run_view_type": "ACTIVE_ONLY"}
            if token:
                body["page_token"] = token
            page = http.call("POST", "runs/search", body)
            for r in page.get("runs", []):
                r.setdefault("data", {})
                r["data"]["tags_by_key"] = {t["key"]: t.get("value", "") for t in r["data"].get("tags", [])}
                runs.append(r)
            token = page.get("next_page_token")
            if not token:
                return runs

    @staticmethod
    def _create(http: _Http, exp_id: str, name: str, started: float, tags: list[tuple[str, str]]) -> str:
        made = http.call("POST", "runs/create", {
            "experiment_id": exp_id, "run_name": name, "start_time": int((started or time.time()) * 1000),
            "tags": [{"key": k, "value": v[:MAX_TAG_VALUE]} for k, v in tags],
        })
        return str(made["run"]["info"]["run_id"])

    def _mirror_step(self, http: _Http, exp_id: str, parent_id: str, run: Run, step: StepRun) -> str:
        started = step.started or run.started
        tags = [("mlflow.parentRunId", parent_id), ("zenml.kind", "step"), ("zenml.run", run.name), ("zenml.step", step.name),
                ("zenml.state", step.state), ("zenml.find", f"%zenml runs describe {run.name}"),
                *((f"zenml.tag.{mlflow_key(k)}", str(v)) for k, v in step.tags.items())]
        if step.error:
            tags.append(("zenml.error", step.error))
        run_id = self._create(http, exp_id, step.name, started, tags)
        params = [{"key": mlflow_key(k), "value": _param_text(v)} for k, v in step.parameters.items()]
        metrics: list[dict[str, Any]] = []
        ended_ms = int(((started + step.duration) if step.started else (run.ended or time.time())) * 1000)
        for name in step.outputs:
            value = _scalar(run, step, name)
            if value is not None:
                metrics.append({"key": f"output.{mlflow_key(name)}", "value": value, "timestamp": ended_ms, "step": 0})
        for i in range(0, len(params), PARAMS_PER_BATCH):
            http.call("POST", "runs/log-batch", {"run_id": run_id, "params": params[i:i + PARAMS_PER_BATCH]})
        if step.metric_summary or step.metrics_artifact is not None:
            for _, series in run.metric_series(step=step.name):
                key = mlflow_key(series.name)
                for j in range(len(series.values)):
                    metrics.append({"key": key, "value": series.values[j], "timestamp": int(series.times[j] * 1000), "step": series.steps[j]})
                    if len(metrics) == BATCH:
                        http.call("POST", "runs/log-batch", {"run_id": run_id, "metrics": metrics})
                        metrics = []
        if metrics:
            http.call("POST", "runs/log-batch", {"run_id": run_id, "metrics": metrics})
        http.call("POST", "runs/update", {"run_id": run_id, "status": _STATUS.get(step.state, "FINISHED"), "end_time": ended_ms})
        return run_id


def _param_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=repr)
    return text if len(text) <= MAX_PARAM_VALUE else text[: MAX_PARAM_VALUE - 1] + "…"


def _scalar(run: Run, step: StepRun, name: str) -> float | None:
    """A step's output as a number, when it is one (as recorded; never read or unpickled)."""
    value = step.scalars.get(name)
    if value is None:
        value = (run.summary.get("scalars") or {}).get(f"{step.name}.{name}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def check_config(config: dict[str, Any]) -> None:
    if not config.get("tracking_uri"):
        raise UsageError("an mlflow experiment tracker needs --tracking-uri http://HOST:PORT")
