"""Running a pipeline graph on a stack: caching, artifacts, lineage, local or Dask.

The stack is resolved once when the run starts (a snapshot); switching the active
stack mid-run changes nothing for it. Workers only compute and write artifacts; the
driver alone writes metadata, so a SQLite metadata store works with Dask too.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets as _random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from ..exceptions import AlreadyExistsError, PipelineRunError, StoreConnectionError, UsageError, ZenMLError
from .graph import Graph, Node
from .materializers import (
    _USER,
    Materializer,
    load_artifact,
    materializer_for,
    materializer_named,
    store_value,
)

if TYPE_CHECKING:
    from ..components.artifacts import ArtifactStore
    from ..components.metadata.mlmd import MLMDStore
    from ..components.metadata.records import ExecutionInfo, RunInfo

__all__ = ["run_graph", "shutdown_clusters"]


@dataclass
class Produced:
    """An output artifact as downstream steps and the cache need it."""

    artifact_id: int  # -1 while its step is staged (finished, not recorded yet: see run_dask)
    content_hash: str
    uri: str
    materializer: str


@dataclass
class StepTask:
    """Everything a worker needs to run one step and write its outputs."""

    node: str
    fn: Callable[..., Any]
    output_names: list[str]
    params: dict[str, Any]
    inputs: dict[str, tuple[str, str]]  # argument -> (store-relative path, materializer)
    base: str
    store: ArtifactStore
    user_materializers: list[Materializer] = field(default_factory=list)


@dataclass
class StepResult:
    specs: list[Any]
    started: float
    ended: float
    values: dict[str, Any] | None = None
    log: Any = None  # ArtifactSpec of the captured output, or None
    load_seconds: float = 0.0  # reading the inputs back from the store, before the function ran
    store_seconds: float = 0.0  # writing the outputs (and the log) into the store, after it returned
    scalars: dict[str, Any] = field(default_factory=dict)  # outputs that are a finite number (run tables sort by them)
    metrics: Any = None  # ArtifactSpec of the series the step logged (log_metric), or None
    metric_summary: dict[str, dict[str, float]] = field(default_factory=dict)
    logged: dict[str, Any] = field(default_factory=dict)  # log_param
    tags: dict[str, str] = field(default_factory=dict)  # log_tag


def execute_step(task: StepTask, known: dict[str, Any] | None = None) -> StepResult:
    """Load inputs, call the function, store every output atomically (runs on workers too)."""
    from ..components.metadata.records import ArtifactSpec

    for mat in task.user_materializers:  # a worker process does not have them registered
        if all(m.name != mat.name for m in _USER):
            _USER.append(mat)
    kwargs = dict(task.params)
    loading = time.perf_counter()
    for arg, (path, mat_name) in task.inputs.items():
        kwargs[arg] = known[arg] if known and arg in known else load_artifact(task.store, path, materializer_named(mat_name))
    load_seconds = time.perf_counter() - loading
    from .logs import capture

    log_path = f"{task.base}/logs.txt"
    from .metrics import Recorder, activate

    live = LIVE[-1] if LIVE and known is not None else None  # a notebook draws this run's curves as they grow
    recorder = Recorder(task.store, task.base, on_live=None if live is None else partial(live, task.node))
    previous = activate(recorder)
    # a background run's step shows nothing where the user is typing: its output is in its log
    with capture(echo=not threading.current_thread().name.startswith(BACKGROUND_THREAD)) as cap:
        started = time.time()
        try:
            result = task.fn(**kwargs)
        except BaseException as exc:
            activate(previous)
            cap.file.write(_user_traceback(exc))
            exc.__dict__["zenml_log"] = _store_log(cap, task.store, log_path)  # travels back from Dask workers too
            exc.__dict__["zenml_metrics"] = _store_metrics(recorder)  # what it logged before failing is kept
            raise
        finally:
            activate(previous)
        ended = time.time()
    storing = time.perf_counter()
    log = _store_log(cap, task.store, log_path)
    names = task.output_names
    if not names:
        outputs: list[Any] = []
    elif len(names) == 1:
        outputs = [result]
    else:
        if not isinstance(result, (tuple, list)) or len(result) != len(names):
            got = len(result) if isinstance(result, (tuple, list)) else 1
            raise UsageError(f"step {task.node!r} returned {got} value(s) but declares {len(names)} outputs ({', '.join(names)})")
        outputs = list(result)
    specs = []
    scalars = {name: value for name, value in zip(names, outputs, strict=True) if _is_scalar(value)}
    for name, value in zip(names, outputs, strict=True):
        mat = materializer_for(value)
        path = f"{task.base}/{name}{mat.extension}"
        content_hash = store_value(task.store, path, value, mat)
        data_type = f"{type(value).__module__}.{type(value).__qualname__}"
        specs.append(ArtifactSpec(name, task.store.full_uri(path), data_type, mat.name, content_hash))
    metrics, summary = _store_metrics(recorder)
    return StepResult(specs, started, ended, dict(zip(names, outputs, strict=True)) if known is not None else None, log,
                      load_seconds, time.perf_counter() - storing, scalars, metrics, summary, recorder.params, recorder.tags)


BACKGROUND_THREAD = "zenml-notebook-run"
MAX_UNSETTLED = 8  # step records under way at once (record_later); the worker takes as many  # the name prefix of a background run's thread

# the notebook's live curves: called with (step, every point so far), at most 4 times a second; in-process runs only
LIVE: list[Callable[[str, list[tuple[str, int, float, float]]], None]] = []


def _store_metrics(recorder: Any) -> tuple[Any, dict[str, dict[str, float]]]:
    """The step's logged series, compacted: (ArtifactSpec or None, summary per metric)."""
    from ..components.metadata.records import ArtifactSpec
    from .metrics import FILE

    if not recorder.names and not recorder.queue:
        return None, {}
    try:
        path, summary = recorder.close()
    except (OSError, ZenMLError):  # the segments stay readable; the step's result is not hidden by this
        return None, {}
    if path is None:
        return None, {}
    return ArtifactSpec("metrics", recorder.store.full_uri(path), "metrics", FILE.rsplit(".", 1)[-1], recorder.digest), summary


def _is_scalar(value: Any) -> bool:
    """A number worth a column in the runs table (bools and NaN/inf are not)."""
    return type(value) in (int, float) and math.isfinite(value) and abs(value) < 2**63


def _user_traceback(exc: BaseException) -> str:
    """The step's traceback from the user's own code on (our frames above it say nothing)."""
    import traceback

    tb = traceback.TracebackException.from_exception(exc)
    here = os.path.dirname(__file__)
    tb.stack = traceback.StackSummary.from_list([f for f in tb.stack if not f.filename.startswith(here)])
    return "".join(tb.format())


def _store_log(cap: Any, store: ArtifactStore, path: str) -> Any:
    """The step's captured output as an artifact spec (None when it printed nothing)."""
    from ..components.metadata.records import ArtifactSpec
    from .logs import LOG_NAME

    try:
        stored = cap.store(store, path)
    except (OSError, ZenMLError):  # the log is a courtesy: it never hides the step's own result or error
        return None
    return None if stored is None else ArtifactSpec(LOG_NAME, stored[0], "text", "text", stored[1])


def cache_key(node: Node, inputs: dict[str, Produced]) -> str:
    payload = json.dumps(
        [node.step.name, node.step.code_hash, node.step.output_names, node.params,
         sorted((arg, p.content_hash, p.materializer, materializer_named(p.materializer).version) for arg, p in inputs.items())],
        sort_keys=True, default=repr,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class _Context:
    pipeline: str
    run: RunInfo
    md: MLMDStore
    store: ArtifactStore
    cache: bool
    progress: Any
    produced: dict[tuple[str, str], Produced] = field(default_factory=dict)
    recorded: list[str] = field(default_factory=list)  # steps recorded complete or cached, in order
    executions: list[ExecutionInfo] = field(default_factory=list)  # every step recorded: the run's summary at its end
    # records sent whose answers are not read yet, in order, with their cache keys (a step with the
    # same key waits for them: a hit, as if recorded at once)
    _unsettled: list[tuple[Node, StepResult, Callable[[], ExecutionInfo], str]] = field(default_factory=list)
    cancelled: threading.Event = field(default_factory=threading.Event)  # a background run's cancel(): no further step starts
    background: bool = False  # submitted with submit(): the front ends say when it ends, wherever the user is
    detached: bool = False  # submit(detach=True): driven by a task on the Dask cluster

    def check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise KeyboardInterrupt  # recorded as "cancelled", like Ctrl-C
    def params_of(self, node: Node) -> dict[str, Any]:
        """The node's parameters as recorded (JSON values), worked out once when it was added."""
        return node.recorded

    def inputs_of(self, node: Node) -> dict[str, Produced]:
        return {arg: self.produced[(ref.node, ref.name)] for arg, ref in node.inputs.items()}

    def try_cache(self, node: Node, key: str) -> ExecutionInfo | None:
        """Reuse a completed execution whose outputs still exist in this artifact store."""
        found = self.cached(node, key)
        return None if found is None else self.use_cached(node, key, *found)

    def cached(self, node: Node, key: str) -> tuple[ExecutionInfo, list[Any]] | None:
        """The completed execution a cache hit would reuse, and its artifacts (reads only)."""
        if not (self.cache and node.step.cache):
            return None
        if any(k == key for *_, k in self._unsettled):
            self.settle()  # the same step on the same data, recorded a moment ago: reused, as if recorded at once
        hit = self.md.find_cached(key)
        if hit is None or sorted(hit.outputs) != sorted(node.step.output_names):
            return None
        artifacts = self.md.artifacts_by_id(list(hit.outputs.values()))
        if any(a.state != "live" for a in artifacts):  # deleted, or being deleted right now
            return None
        for art in artifacts:
            try:
                if not self.store.exists(self.store.relative(art.uri)):
                    return None
            except UsageError:  # written to another artifact store
                return None
        return hit, artifacts

    def use_cached(self, node: Node, key: str, hit: ExecutionInfo, artifacts: list[Any]) -> ExecutionInfo:
        """Record a cache hit: the step, reusing ``hit``'s outputs (its inputs must be recorded)."""
        self.settle()  # the steps before: their artifact ids are this one's inputs
        now = time.time()
        info = self.md.record_step(self.run, node.name, parameters=self.params_of(node), code_hash=node.step.code_hash, cache_key=key,
                                   inputs={a: p.artifact_id for a, p in self.inputs_of(node).items()}, outputs=dict(hit.outputs),
                                   state="cached", started=now, ended=now, scalars=hit.scalars, metrics=hit.logs.get("metrics"),
                                   metric_summary=hit.metrics, tags=hit.tags,
                                   logged={k: v for k, v in hit.parameters.items() if k not in self.params_of(node)})
        self.executions.append(info)
        by_id = {a.id: a for a in artifacts}
        for name, art_id in hit.outputs.items():
            a = by_id[art_id]
            self.produced[(node.name, name)] = Produced(art_id, a.content_hash, a.uri, a.materializer)
        self.recorded.append(node.name)
        return info

    def stage(self, node: Node, result: StepResult) -> None:
        """A finished step's outputs, known to the steps after it before it is recorded."""
        for spec in result.specs:
            self.produced[(node.name, spec.name)] = Produced(-1, spec.content_hash, spec.uri, spec.materializer)

    def task(self, node: Node) -> StepTask:
        inputs = {arg: (self.store.relative(p.uri), p.materializer) for arg, p in self.inputs_of(node).items()}
        return StepTask(node.name, node.step.fn, node.step.output_names, node.params, inputs,
                        f"{self.pipeline}/{self.run.name}/{node.name}", self.store, list(_USER))

    def _record_kwargs(self, node: Node, key: str, result: StepResult, *, staged: bool = False) -> dict[str, Any]:
        """What the store records for a completed step; with ``staged``, an input whose step's
        record is under way is named ``[step, output]`` (the store fills its artifact in)."""
        inputs: dict[str, Any] = {a: p.artifact_id for a, p in self.inputs_of(node).items()}
        if staged:
            inputs = {a: i if i >= 0 else [node.inputs[a].node, node.inputs[a].name] for a, i in inputs.items()}
        return {"parameters": self.params_of(node), "code_hash": node.step.code_hash, "cache_key": key,
                "inputs": inputs, "outputs": result.specs,
                "state": "complete", "started": result.started, "ended": result.ended, "log": result.log,
                "load_seconds": result.load_seconds, "store_seconds": result.store_seconds, "scalars": result.scalars,
                "metrics": result.metrics, "metric_summary": result.metric_summary, "logged": result.logged, "tags": result.tags}

    def record(self, node: Node, key: str, result: StepResult) -> ExecutionInfo:
        self.settle()
        return self._recorded(node, result, self.md.record_step(self.run, node.name, **self._record_kwargs(node, key, result)))

    def record_later(self, node: Node, key: str, result: StepResult) -> None:
        """Send the step's record now and take the store's answer when it is needed (a cache
        hit, a failure, the run's end, or MAX_UNSETTLED records later): a worker process writes
        while the next steps run. Until then the outputs are staged (downstream steps read them
        by URI, and name them to the store by step)."""
        if len(self._unsettled) >= MAX_UNSETTLED:
            self._settle_one()
        answer = self.md.record_step_later(self.run, node.name, **self._record_kwargs(node, key, result, staged=True))
        self.stage(node, result)
        self._unsettled.append((node, result, answer, key))
        self.progress.done(node.name, "complete")  # ran and stored; a store that then fails fails the run

    def settle(self) -> None:
        """The answers to the records under way, in order (a store failure is raised here)."""
        while self._unsettled:
            self._settle_one()

    def salvage(self) -> None:
        """After a store failure: the records written before it (answers not read yet) count
        as recorded; the first that failed, and every one after it, do not."""
        while self._unsettled:
            try:
                self._settle_one()
            except Exception:  # the failure itself is what the caller reports
                self._unsettled.clear()

    def _settle_one(self) -> None:
        node, result, answer, _ = self._unsettled.pop(0)
        self._recorded(node, result, answer())

    def _recorded(self, node: Node, result: StepResult, info: ExecutionInfo) -> ExecutionInfo:
        self.executions.append(info)
        for spec in result.specs:
            self.produced[(node.name, spec.name)] = Produced(info.outputs[spec.name], spec.content_hash, spec.uri, spec.materializer)
            if node.step.versioned:  # a cache hit reuses its artifacts and mints no version (try_cache)
                size = self.store.size(self.store.relative(spec.uri))
                self.md.add_version(spec.name, info.outputs[spec.name], run=self.run.name, step=node.name,
                                    content_hash=spec.content_hash, size=size)
        self.recorded.append(node.name)
        return info

    def record_failure(self, node: Node, key: str, state: str, started: float, error: str, exc: BaseException | None = None) -> None:
        self.settle()
        log = getattr(exc, "zenml_log", None) if exc is not None else None
        metrics, summary = getattr(exc, "zenml_metrics", None) or (None, {})
        if log is not None:
            error += f" (its output: `runs logs {self.run.name} {node.name}`)"
        info = self.md.record_step(self.run, node.name, parameters=self.params_of(node), code_hash=node.step.code_hash, cache_key=key,
                                   inputs={a: p.artifact_id for a, p in self.inputs_of(node).items()}, outputs=[],
                                   state=state, started=started, ended=time.time(), error=error, log=log, metrics=metrics,
                                   metric_summary=summary)
        self.executions.append(info)

    def summary(self) -> dict[str, Any]:
        from .table import summarize

        summary = summarize(self.executions)
        if self.background:
            summary["background"] = True
        if self.detached:
            summary["detached"] = True
        return summary


def explain(exc: BaseException) -> str:
    """One line for a step's failure; a write that hit a full or read-only disk says so."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, OSError) and exc.filename:
        from pathlib import Path

        from ..disk import disk_problem

        disk = disk_problem(Path(exc.filename).parent, exc)
        if disk:
            text += f" ({disk})"
    return text


def run_local(ctx: _Context, graph: Graph, config: dict[str, Any]) -> None:
    """The local orchestrator: steps in order, in this process."""
    values: dict[tuple[str, str], Any] = {}
    for node in graph.order():
        ctx.check_cancelled()
        key = cache_key(node, ctx.inputs_of(node))
        ctx.progress.start(node.name)
        if ctx.try_cache(node, key) is not None:
            ctx.progress.done(node.name, "cached")
            continue
        known = {arg: values[(ref.node, ref.name)] for arg, ref in node.inputs.items() if (ref.node, ref.name) in values}
        started = time.time()
        try:
            result = execute_step(ctx.task(node), known)
        except KeyboardInterrupt:
            ctx.record_failure(node, key, "cancelled", started, "KeyboardInterrupt")
            raise
        except Exception as exc:
            ctx.record_failure(node, key, "failed", started, explain(exc), exc)
            ctx.progress.done(node.name, "failed")
            raise _StepFailed(node.name, exc) from exc
        ctx.record_later(node, key, result)  # answered at the next record, a failure or the end
        for name, value in (result.values or {}).items():
            values[(node.name, name)] = value
    ctx.settle()


class _StepFailed(Exception):
    def __init__(self, step: str, error: BaseException) -> None:
        super().__init__(step)
        self.step = step
        self.error = error


def shutdown_clusters() -> None:
    """Close the local Dask clusters this process started (also done at exit)."""
    from .clusters import shutdown_all

    shutdown_all()


def run_dask(ctx: _Context, graph: Graph, config: dict[str, Any]) -> None:
    """The Dask orchestrator: ready steps submitted to the cluster, metadata written here."""
    from distributed import as_completed

    from .clusters import client_for

    client = client_for(config)
    order = graph.order()
    done: set[str] = set()
    submitted: dict[Any, tuple[Node, str, float]] = {}
    waiting = list(order)
    futures = as_completed(loop=client.loop)

    pending: list[tuple[Node, str, StepResult]] = []  # a finished step, staged, recorded once its successors are submitted

    def flush() -> None:
        while pending:
            node, key, result = pending.pop()
            ctx.record(node, key, result)
            ctx.progress.done(node.name, "complete")

    def submit_ready() -> None:
        ctx.check_cancelled()
        for node in list(waiting):
            if not node.upstream <= done:
                continue
            waiting.remove(node)
            key = cache_key(node, ctx.inputs_of(node))
            ctx.progress.start(node.name)
            hit = ctx.cached(node, key)
            if hit is not None:
                flush()  # a cache hit is recorded with its inputs' ids
                ctx.use_cached(node, key, *hit)
                ctx.progress.done(node.name, "cached")
                done.add(node.name)
                submit_ready()
                return
            fut = client.submit(execute_step, ctx.task(node), None, key=f"{ctx.run.name}-{node.name}-{_random.token_hex(4)}", pure=False)
            submitted[fut] = (node, key, time.time())
            futures.add(fut)

    submit_ready()
    try:
        for fut in futures:
            node, key, started = submitted.pop(fut)
            try:
                result = fut.result()
            except Exception as exc:
                ctx.record_failure(node, key, "failed", started, explain(exc), exc)
                ctx.progress.done(node.name, "failed")
                for other, (o_node, o_key, o_started) in list(submitted.items()):
                    other.cancel()
                    ctx.record_failure(o_node, o_key, "cancelled", o_started, f"cancelled: step {node.name!r} failed")
                raise _StepFailed(node.name, exc) from exc
            # the steps that waited for it go to the cluster first; it is recorded while they run
            ctx.stage(node, result)
            pending.append((node, key, result))
            done.add(node.name)
            try:
                submit_ready()
            finally:
                flush()
    except KeyboardInterrupt:
        for other, (node, key, started) in list(submitted.items()):
            other.cancel()
            ctx.record_failure(node, key, "cancelled", started, "KeyboardInterrupt")
        raise
    if waiting:
        raise UsageError(f"steps {', '.join(n.name for n in waiting)} never became ready")


@dataclass
class Started:
    """A run recorded as started, with everything driving it needs."""

    ctx: _Context
    graph: Graph
    orchestrate: Callable[..., None]
    orchestrator: Any  # its ComponentRecord
    name: str
    tracker: Any = None  # the experiment tracker's ComponentRecord (None or builtin: nothing to mirror)


def run_graph(pipeline: str, graph: Graph, *, stack: str | None = None, cache: bool = True, run_name: str | None = None) -> Any:
    """Run ``graph`` on a stack snapshot; returns the :class:`Run`, or raises PipelineRunError."""
    return drive_run(start_run(pipeline, graph, stack=stack, cache=cache, run_name=run_name))


def start_run(pipeline: str, graph: Graph, *, stack: str | None = None, cache: bool = True, run_name: str | None = None,
              background: bool = False, quiet: bool = False) -> Started:
    """Check the stack, open its stores and record the run as started (what happens before its
    first step, in the caller's thread, also for a background run)."""
    from .. import api
    from ..components.artifacts import open_artifact_store
    from ..components.metadata import open_metadata_store, overlap_writes
    from ..flavors import behaviour
    from ..registry.records import identity
    from ..secrets import mask_config
    from ..validation import check_name, validate_stack
    from .progress import Progress

    if run_name is not None:  # it becomes a folder in the store and a name in every list and route
        check_name("run", run_name)
    repo, _ = api.open_repository(create=True)  # a run is a write: a fresh folder gets its repository
    desc = api.resolve_stack(stack)
    stack_name, records = desc.stack.name, desc.components
    validate_stack(stack_name, dict(records))
    snapshot = {"name": stack_name, **{k: {"name": r.name, "flavor": r.flavor, "config": mask_config(r.config)} for k, r in records.items()}}
    orchestrate = behaviour("orchestrator", records["orchestrator"].flavor, "open")  # an unknown flavor is refused, never run locally
    if orchestrate is run_local:  # it records each step while running the next: a long run may start a writer process now
        overlap_writes(records["metadata_store"], repo, len(graph.nodes))
    md = open_metadata_store(records["metadata_store"], repo)
    store = open_artifact_store(records["artifact_store"], repo)
    for attempt in range(8):
        name = run_name or f"{pipeline}-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{_random.token_hex(2)}"
        try:
            run = md.start_run(pipeline, name, snapshot, host=socket.gethostname(), pid=os.getpid(), user=identity())
            break
        except AlreadyExistsError:  # a generated name taken in the same second (many runs a second): draw again
            if run_name or attempt == 7:
                raise
    progress = Progress(name, [] if quiet else [n.name for n in graph.order()], background=background, quiet=quiet)
    return Started(_Context(pipeline, run, md, store, cache, progress, background=background), graph, orchestrate, records["orchestrator"], name,
                   records.get("experiment_tracker"))


def drive_run(started: Started) -> Any:
    """Run the steps of a started run and record how it ended; returns the :class:`Run`, or
    raises PipelineRunError (a background run does this in its own thread)."""
    from ..flavors import DAMAGE, check_stored
    from .runs import Run

    ctx, graph, orchestrator, name = started.ctx, started.graph, started.orchestrator, started.name
    md, store, run, progress = ctx.md, ctx.store, ctx.run, ctx.progress
    if progress.live:
        LIVE.append(progress.metrics)
    try:
        try:
            started.orchestrate(ctx, graph, orchestrator.config)
        finally:
            if progress.live:
                LIVE.remove(progress.metrics)
    except KeyboardInterrupt:
        md.close_run(run, "cancelled", ctx.summary())
        progress.close("cancelled")
        raise
    except _StepFailed as failed:
        md.finish_run(run, "failed", ctx.summary())
        progress.close("failed")
        result = _mirrored(started, Run.load(md, name, store))
        raise PipelineRunError(
            f"step {failed.step!r} of run {name!r} failed: {explain(failed.error)}", result
        ) from failed.error
    except StoreConnectionError as exc:  # a store failed: say so in one line, and how far the run got
        ctx.salvage()
        md.close_run(run, "failed")
        progress.close("failed")
        where = f"is recorded up to step {ctx.recorded[-1]!r}" if ctx.recorded else "has no recorded step"
        raise type(exc)(f"{exc}; run {name!r} {where}") from None
    except BaseException as exc:  # our own failure: never leave it "running"
        md.close_run(run, "failed", ctx.summary())
        progress.close("failed")
        if isinstance(exc, DAMAGE):
            check_stored(orchestrator)  # a damaged orchestrator row is named; a sound one re-raises below
        raise
    md.finish_run(run, "complete", ctx.summary())
    progress.close("complete")
    return _mirrored(started, Run.load(md, name, store))


def _mirrored(started: Started, result: Any) -> Any:
    """The ended run, mirrored to the stack's experiment tracker when it has one besides the
    built-in (bounded by the tracker's timeout; a failure is a warning, never the run's)."""
    tracker = started.tracker
    if tracker is None or tracker.flavor == "builtin":  # the default path: nothing imported, nothing to do
        return result
    from ..components.trackers import mirror_run

    mirror_run(tracker, started.ctx.md, started.ctx.run, result)
    return result
