"""Detached runs: ``training.submit(detach=True)`` hands the whole run to a Dask cluster. The
driver itself runs there (a task that submits the steps and writes the metadata), so closing the
notebook, restarting the kernel or losing the laptop's network does not stop the run.

It needs what the cluster can reach on its own: a Dask scheduler you run (``--scheduler-address``;
a local cluster ends with this process), a shared metadata store (MySQL) and a bucket (GCS, S3).
Anything else is refused in one line that says why. The run is recorded as started here (so it
is listed at once and a mistake is raised here); then the driver claims it on the cluster.

Secrets: the stores' secrets are resolved here and travel with the driver task to the cluster
(which must write to those stores), in environment variables of the driver's process for the
run's length; they are never written anywhere, printed, or put in the run's records.

``runs cancel RUN`` (any process that reaches the scheduler) sets a Dask event the driver
watches: it starts no further step and records the run ``cancelled``.
"""

from __future__ import annotations

import os
import secrets as _random
import socket
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import NotFoundError, StoreConnectionError, UsageError, ZenMLError

if TYPE_CHECKING:
    from ..registry import ComponentRecord
    from .graph import Graph
    from .runs import Run

__all__ = ["DetachedHandle", "cancel_detached", "submit_detached"]

CLAIM_TIMEOUT = 60.0  # seconds the cluster may take to start the driver (a busy cluster queues it)
_ENV_PREFIX = "ZENML_NOTEBOOK_DETACHED_"


def cancel_event(run: str) -> str:
    return f"zenml-notebook-cancel-{run}"


def _claimed(run: str) -> str:
    return f"zenml-notebook-claimed-{run}"


@dataclass
class _Payload:
    pipeline: str
    graph: Graph
    run: Any  # RunInfo
    cache: bool
    records: dict[str, ComponentRecord]  # secrets as $env references, their values in ``env``
    env: dict[str, str]
    root: str


def _refuse(records: dict[str, ComponentRecord], stack: str) -> None:
    orchestrator, metadata, artifacts = records["orchestrator"], records["metadata_store"], records["artifact_store"]
    why = []
    if orchestrator.flavor != "dask" or not orchestrator.config.get("scheduler_address"):
        how = "a local Dask cluster (--n-workers) ends with this process" if orchestrator.flavor == "dask" else "its orchestrator runs steps here"
        why.append(f"{how}: give it a Dask scheduler you run (`orchestrator register NAME --flavor dask --scheduler-address tcp://HOST:8786`)")
    if metadata.flavor == "sqlite":
        why.append("its metadata store is a SQLite file on this machine, which the cluster cannot write: use a MySQL one "
                   "(`config metadata set mysql ...`)")
    if artifacts.flavor == "local":
        why.append("its artifact store is a folder on this machine: use a gs:// or s3:// one (`config artifacts set gs://BUCKET/PREFIX`)")
    if why:
        raise UsageError(f"a detached run goes on without this process, so it needs what the cluster can reach on its own; stack {stack!r}: "
                         + "; ".join(why) + " (or use submit() without detach: a background run in this process)")


def _detach_secrets(records: dict[str, ComponentRecord]) -> tuple[dict[str, ComponentRecord], dict[str, str]]:
    """The records with every secret reference swapped for an environment reference, and the values."""
    from ..components.configs import secret_fields
    from ..flavors import config_model
    from ..secrets import is_ref, resolve

    env: dict[str, str] = {}
    out: dict[str, ComponentRecord] = {}
    for kind, record in records.items():
        config = dict(record.config)
        for field in secret_fields(config_model(record.kind, record.flavor)):
            ref = config.get(field)
            if isinstance(ref, dict) and is_ref(ref):
                var = f"{_ENV_PREFIX}{_random.token_hex(8).upper()}"
                env[var] = resolve(ref, f"the {field} of {record.kind.replace('_', ' ')} {record.name!r}")
                config[field] = {"$env": var}
        out[kind] = replace(record, config=config)
    return out, env


def submit_detached(pipeline: str, graph: Graph, *, stack: str | None, cache: bool, run_name: str | None) -> DetachedHandle:
    from .. import api
    from .runner import start_run

    desc = api.resolve_stack(stack)
    _refuse(desc.components, desc.stack.name)
    started = start_run(pipeline, graph, stack=stack, cache=cache, run_name=run_name, background=True, quiet=True)
    ctx = started.ctx
    records, env = _detach_secrets(dict(desc.components))
    address = str(desc.components["orchestrator"].config["scheduler_address"])
    try:
        client = _client(address)
    except OSError as exc:
        ctx.md.close_run(ctx.run, "failed", {"detached": True})
        raise StoreConnectionError(f"the Dask scheduler at {address} cannot be reached ({type(exc).__name__}); run {started.name!r} did not start") from None
    payload = _Payload(pipeline, graph, ctx.run, cache, records, env, str(api.open_repository()[0].root))
    from distributed import Event, fire_and_forget

    claimed = Event(_claimed(started.name), client=client)
    future = client.submit(drive_detached, payload, key=f"zenml-notebook-driver-{started.name}", pure=False)
    fire_and_forget(future)
    deadline = time.monotonic() + CLAIM_TIMEOUT
    while not claimed.wait(0.05):  # until the driver has opened the stores on the cluster and claimed the run
        if future.status == "error" or time.monotonic() > deadline:
            problem = _classify(future, address)
            ctx.md.close_run(ctx.run, "failed", {"detached": True, "error": problem})
            client.close()
            raise StoreConnectionError(f"run {started.name!r} could not start on the cluster: {problem}")
    client.close()
    return DetachedHandle(started.name, stack)


def _client(address: str) -> Any:
    """A client of its own (closed when done; the runs' cached one is left alone)."""
    from distributed import Client

    return Client(address, timeout="10s", set_as_default=False)


def _classify(future: Any, address: str) -> str:
    if future.status != "error":
        return f"no worker of the scheduler at {address} started its driver within {CLAIM_TIMEOUT:g} s (are its workers busy or gone?)"
    exc = future.exception()
    chain: list[BaseException] = []
    seen = exc
    while seen is not None and len(chain) < 8:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    missing = next((e for e in chain if isinstance(e, ModuleNotFoundError)), None)
    if missing is not None or any("No module named" in str(e) for e in chain):
        name = getattr(missing, "name", None) or "a module it needs"
        return f"the cluster's workers cannot import {name}: install zenml-notebook (and what your steps import) where they run"
    if any("deserializ" in str(e) for e in chain):
        return (f"the cluster's workers cannot import zenml_notebook or what the run needs (the scheduler at {address} could not unpickle it): "
                "install zenml-notebook, the same version, and what your steps import where the scheduler and workers run")
    if isinstance(exc, ZenMLError):
        return f"from the cluster: {exc}"
    return " ".join(f"from the cluster: {type(exc).__name__}: {str(exc)[:300]}".split())


def drive_detached(payload: _Payload) -> str:
    """The driver, as a task on a Dask worker: claim the run, drive it, record how it ended."""
    from distributed import Event, secede

    from ..components.artifacts import open_artifact_store
    from ..components.metadata import open_metadata_store
    from ..flavors import behaviour
    from ..repository import Repository
    from .progress import Progress
    from .runner import Started, _Context, drive_run

    secede()  # this worker's thread goes back to running steps while the driver waits on them
    os.environ.update(payload.env)
    name = payload.run.name
    try:
        repo = Repository(Path(payload.root))
        records = payload.records
        md = open_metadata_store(records["metadata_store"], repo)
        store = open_artifact_store(records["artifact_store"], repo)
        run = md.claim_run(payload.run, host=socket.gethostname(), pid=os.getpid())
        orchestrator = records["orchestrator"]
        ctx = _Context(payload.pipeline, run, md, store, payload.cache, Progress(name, [n.name for n in payload.graph.order()], background=True),
                       background=True, detached=True)
        Event(_claimed(name)).set()
        stop = threading.Event()

        def watch() -> None:  # `runs cancel` from anywhere: no further step starts
            cancel = Event(cancel_event(name))
            while not stop.is_set():
                if cancel.wait(1.0):
                    ctx.cancelled.set()
                    return

        watcher = threading.Thread(target=watch, name=f"zenml-notebook-cancel-{name}", daemon=True)
        watcher.start()
        try:
            drive_run(Started(ctx, payload.graph, behaviour("orchestrator", orchestrator.flavor, "open"), orchestrator, name,
                              records.get("experiment_tracker")))
        except KeyboardInterrupt:
            return "cancelled"
        except ZenMLError:
            return "failed"  # recorded by drive_run
        finally:
            stop.set()
        return "complete"
    finally:
        for var in payload.env:
            os.environ.pop(var, None)
        for event in (_claimed(name), cancel_event(name)):
            try:
                Event(event).clear()
            except Exception:  # noqa: S110 - best effort: the scheduler may be going away
                pass


class DetachedHandle:
    """A run going on on the cluster: ``name``, ``status``, ``wait()``, ``cancel()`` (from any
    process: ``Client().get_run(name)``, ``%zenml runs cancel NAME``)."""

    def __init__(self, name: str, stack: str | None) -> None:
        self.name = name
        self._stack = stack

    def _client(self) -> Any:
        from .runs import Client

        return Client(self._stack)

    @property
    def status(self) -> str:
        from ..components.metadata.records import run_state

        client = self._client()
        return run_state(client._md.get_run(self.name))

    def done(self) -> bool:
        return self.status != "running"

    def wait(self, timeout: float | None = None, *, every: float = 0.5) -> Run:
        """The finished :class:`Run`, read from the metadata store; raises what a run in this
        process would (PipelineRunError for a failed step)."""
        from ..exceptions import PipelineRunError

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.status == "running":
            if deadline is not None and time.monotonic() > deadline:
                raise UsageError(f"run {self.name!r} is still running on the cluster after {timeout:g} s; wait() again, or cancel() it")
            time.sleep(every)
        run: Run = self._client().get_run(self.name)
        if run.state == "cancelled":
            raise UsageError(f"run {self.name!r} was cancelled; its finished steps are kept (`runs describe {self.name}`)")
        if run.state != "complete":
            failed = next((s for s in run.steps if s.state == "failed"), None)
            what = f"step {failed.name!r} of run {self.name!r} failed: {failed.error}" if failed else f"run {self.name!r} ended {run.state}"
            raise PipelineRunError(what, run)
        return run

    def cancel(self) -> None:
        cancel_detached(self.name, self._stack)

    def __repr__(self) -> str:
        return f"<detached run {self.name!r} on the cluster: {self.status}>"


def cancel_detached(name: str, stack: str | None = None) -> str:
    """Ask a detached run's driver to start no further step; what was done, in words."""
    from .runs import Client

    info = Client(stack)._md.get_run(name)
    if info.state != "running":
        raise UsageError(f"run {name!r} has ended ({info.state}); there is nothing to cancel")
    orchestrator = (info.stack or {}).get("orchestrator") or {}
    address = (orchestrator.get("config") or {}).get("scheduler_address")
    if orchestrator.get("flavor") != "dask" or not address:
        raise NotFoundError(f"run {name!r} is not a detached run on a Dask scheduler; a background run is cancelled with its handle's "
                            "cancel(), a run in a notebook with the kernel's Interrupt")
    from distributed import Event

    client = _client(address)
    try:
        Event(cancel_event(name), client=client).set()
    finally:
        client.close()
    return f"asked run {name!r} to stop: the running step(s) finish, no other starts, and it is recorded cancelled"
