"""ml-metadata behind a small interface: the only module that imports ``ml_metadata``.

Model: a ``zenml.Pipeline`` context per pipeline, a ``zenml.Run`` context per run, one
``zenml.Step`` execution per step (parameters, code hash, cache key, start/end,
state), ``zenml.Artifact`` artifacts (URI, data type, materializer, content hash) and
INPUT/OUTPUT events between them. A completed step is found by its cache key: on a keyed store
(SQLite) the key is the execution's external id, which lets several steps share one transaction
(``record_steps_chained``); otherwise, and when an earlier execution holds the key, a
``zenml.CacheKey`` context named by it.

Resilience: a lost MySQL connection is retried once on a fresh connection; SQLite's
"Concurrent writes aborted"/"database is locked" are retried with jittered back-off.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from ml_metadata import errors as mlmd_errors
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb

from ...disk import disk_problem
from ...exceptions import (
    AlreadyExistsError,
    NotFoundError,
    StoreConnectionError,
    StoreUnavailableError,
    ZenMLError,
)
from .records import (
    METRICS,
    ArtifactInfo,
    ArtifactSpec,
    EventInfo,
    ExecutionInfo,
    LineageInfo,
    RunInfo,
    VersionInfo,
)

__all__ = ["MLMDStore", "mysql_config", "sqlite_config"]

T = TypeVar("T")
PIPELINE, RUN, STEP, ARTIFACT = "zenml.Pipeline", "zenml.Run", "zenml.Step", "zenml.Artifact"
CACHE = "zenml.CacheKey"  # a context per cache key: an indexed lookup instead of a property scan
# A context per version of a named artifact, named "NAME:N": contexts' names are unique per type,
# so creating "model:4" is an atomic claim of version 4 (two processes never get the same one).
VERSION = "zenml.ArtifactVersion"
TAG = "zenml.ArtifactTag"  # a context per tag of a name, "NAME@TAG", pointing at a version (0: none)
S, D = pb.STRING, pb.DOUBLE
_TYPES: dict[str, dict[str, int]] = {
    PIPELINE: {"deleted": D},
    CACHE: {},
    RUN: {"pipeline": S, "state": S, "started": D, "ended": D, "stack": S, "host": S, "pid": pb.INT, "deleted": D,
          "user": S, "summary": S},
    STEP: {"step": S, "parameters": S, "code_hash": S, "cache_key": S, "started": D, "ended": D, "run": S, "error": S,
           "load_seconds": D, "store_seconds": D, "scalars": S,
           "metrics": S, "logged": S, "tags": S},
    ARTIFACT: {"name": S, "data_type": S, "materializer": S, "content_hash": S},
    VERSION: {"artifact_name": S, "version": pb.INT, "artifact": pb.INT, "run": S, "step": S, "content_hash": S, "created": D, "size": pb.INT},
    TAG: {"artifact_name": S, "version": pb.INT},
}
_STATE_TO_PB = {
    "running": pb.Execution.RUNNING,
    "complete": pb.Execution.COMPLETE,
    "failed": pb.Execution.FAILED,
    "cached": pb.Execution.CACHED,
    "cancelled": pb.Execution.CANCELED,
}
_PB_TO_STATE = {v: k for k, v in _STATE_TO_PB.items()}
_ARTIFACT_STATES = {"live": pb.Artifact.LIVE, "deleting": pb.Artifact.MARKED_FOR_DELETION, "deleted": pb.Artifact.DELETED}
_STATE_OF_ARTIFACT = {v: k for k, v in _ARTIFACT_STATES.items()}
_LOST = ("Lost connection", "gone away", "Broken pipe", "Connection reset", "Can't connect")
_TAKEN = ("UNIQUE constraint failed", "Duplicate entry")  # the race past MLMD's own existence check
_BUSY = ("Concurrent writes aborted", "database is locked", "database table is locked")


def sqlite_config(path: str, *, read_only: bool = False) -> pb.ConnectionConfig:
    """A SQLite store's connection; ``read_only`` for a file this process cannot write (a read-only
    mount, no write permission): opened as an immutable file, which SQLite reads without the
    locks and WAL index it would have to create next to it."""
    from urllib.parse import quote

    config = pb.ConnectionConfig()
    if read_only:
        config.sqlite.filename_uri = f"file:{quote(path)}?immutable=1"
        config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READONLY
    else:
        config.sqlite.filename_uri = path
        config.sqlite.connection_mode = pb.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    return config


def mysql_config(host: str, port: int, user: str, password: str, database: str, ssl_ca: str | None) -> pb.ConnectionConfig:
    config = pb.ConnectionConfig()
    config.mysql.host = host
    config.mysql.port = port
    config.mysql.user = user
    config.mysql.password = password
    config.mysql.database = database
    if ssl_ca:
        config.mysql.ssl_options.ca = ssl_ca
    return config


def postgresql_config(host: str, port: int, user: str, password: str, database: str, sslmode: str | None, ssl_ca: str | None) -> pb.ConnectionConfig:
    config = pb.ConnectionConfig()
    pg = config.postgresql
    pg.host, pg.port, pg.user, pg.password, pg.dbname = host, str(port), user, password, database
    pg.skip_db_creation = True  # the pre-flight created it (or said how)
    if sslmode:
        pg.ssloption.sslmode = sslmode
    if ssl_ca:
        pg.ssloption.sslrootcert = ssl_ca
    return config


def _str(props: Any, key: str) -> str:
    return str(props[key].string_value) if key in props else ""


def _num(props: Any, key: str) -> float:
    return float(props[key].double_value) if key in props else 0.0


@contextmanager
def _no_basic_config() -> Iterator[None]:
    """ml-metadata logs through absl, whose ``log()`` calls ``logging.basicConfig()`` when the
    root logger has no handler: from then on every library's INFO records (Dask's scheduler,
    for one) would print in the user's process. A NullHandler stands in while it connects."""
    root = logging.getLogger()
    if root.handlers:
        yield
        return
    root.addHandler(_STAND_IN)
    try:
        yield
    finally:
        root.removeHandler(_STAND_IN)


_STAND_IN = logging.NullHandler()


# ml-metadata warns through absl about calls it failed (we retry or report them ourselves, in
# words): those lines must not reach the user's terminal, nor the Jupyter server's log.
_ABSL = logging.getLogger("absl")
if not _ABSL.handlers:
    _ABSL.addHandler(logging.NullHandler())
_ABSL.propagate = False


class MLMDStore:
    """One metadata store; connections are made on first use and remade after a loss."""

    def __init__(
        self,
        make_config: Callable[[], pb.ConnectionConfig],
        label: str,
        init_guard: Callable[[], AbstractContextManager[object]] | None = None,
        folder: Path | None = None,
        path: Path | None = None,
        *,
        read_only: Callable[[], pb.ConnectionConfig] | None = None,
        writer: Callable[[], Any] | None = None,
        keyed_executions: bool = False,
    ) -> None:
        self.folder = folder  # the SQLite file's folder: failures there may be a full/read-only disk
        self.path = path  # the SQLite file itself
        self._make_config = make_config
        self._init_guard = init_guard or nullcontext
        self.label = label
        self._store: metadata_store.MetadataStore | None = None
        self._read_only = read_only  # a connection that only reads, when the disk allows no other
        self._expires: float | None = None  # a read-only connection is remade now and then: the disk may be writable again
        self._type_ids: dict[str, int] = {}
        self._contexts: dict[tuple[str, str], pb.Context] = {}
        self._run_contexts: dict[int, pb.Context] = {}
        self._hits: dict[str, ExecutionInfo] = {}  # completed executions never change
        self._lock = threading.RLock()
        self._make_writer = writer  # the writer process started for this store, if any (overlap_writes)
        self._keyed = keyed_executions  # cache keys may be executions' external ids (record_steps_chained: SQLite's writer)
        self._writer: Any = None
        self._chained: dict[tuple[int, str], dict[str, int]] = {}  # (run id, step) -> its output artifacts (record_step_chained)
        self._unread: dict[tuple[int, str], tuple[Any, Callable[[], ExecutionInfo]]] = {}  # sent to the writer, answer not read

    # -- plumbing -----------------------------------------------------------
    def _connect(self) -> metadata_store.MetadataStore:
        if self._store is not None and self._expires is not None and time.monotonic() > self._expires:
            self._store = self._expires = None
        if self._store is None:
            try:
                # ml-metadata creates its schema on first open; processes opening a new
                # store at once would race on CREATE TABLE, so the first open is guarded
                config = self._make_config()  # MySQL: the classified pre-flight runs here, first
                with self._init_guard(), _no_basic_config():
                    self._store = metadata_store.MetadataStore(config)
            except ZenMLError:  # the pre-flight's (or the secret's) own classified message
                raise
            except (mlmd_errors.StatusError, RuntimeError) as exc:  # RuntimeError: SQLite cannot create its tables
                disk = disk_problem(self.folder) if self.folder is not None else None
                if (disk or "readonly" in _reason(exc)) and self._open_read_only():
                    return self._connect()
                raise StoreConnectionError(f"{self.label}: ml-metadata cannot open the store ({disk or self._explain(exc)})") from None
            except OSError as exc:  # the SQLite store's lock file: a read-only or full disk, or no permission
                disk = disk_problem(Path(exc.filename).parent if exc.filename else self.folder or ".", exc)
                if (disk or isinstance(exc, PermissionError)) and self._open_read_only():
                    return self._connect()
                raise StoreConnectionError(f"{self.label}: cannot open the store ({disk or exc.strerror})") from None
        return self._store

    def _open_read_only(self) -> bool:
        """Open the store for reading only (listing and describing runs keep working where nothing
        can be written); True if that worked. A write then fails with the disk's own message."""
        if self._read_only is None:
            return False
        try:
            config = self._read_only()
            with _no_basic_config():
                self._store = metadata_store.MetadataStore(config)
        except ZenMLError:
            raise
        except (mlmd_errors.StatusError, RuntimeError, OSError):
            return False
        self._expires = time.monotonic() + 5.0
        return True

    def _explain(self, exc: Exception) -> str:
        """Why a SQLite file cannot be opened, with the fix (ml-metadata's own words are SQL)."""
        reason = _reason(exc)
        if self.path is not None and self.path.is_dir():
            return f"{self.path} is a folder, not a SQLite file; move it aside and run again to start an empty store"
        if "file is not a database" in reason or "malformed" in reason:
            return (f"{self.path} is not a SQLite database (damaged, or another kind of file); move it aside and run again "
                    "to start an empty store, or restore it from a backup")
        return reason

    def _call(self, fn: Callable[[metadata_store.MetadataStore], T]) -> T:
        """Run ``fn`` with retries: once after a lost connection, with back-off when busy."""
        lost_retried = False
        for attempt in range(12):
            with self._lock, _no_basic_config():
                store = self._connect()
                try:
                    return fn(store)
                except mlmd_errors.StatusError as exc:
                    reason = _reason(exc)
                    if any(s in reason for s in _LOST) and not lost_retried:
                        lost_retried = True
                        self._store = None
                        continue
                    if not (isinstance(exc, mlmd_errors.AbortedError) or any(s in reason for s in _BUSY)) or attempt == 11:
                        disk = disk_problem(self.folder) if self.folder is not None else None
                        raise StoreConnectionError(f"{self.label}: ml-metadata failed ({disk or reason})") from None
            time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))  # noqa: S311 - jitter
        raise AssertionError("unreachable")

    def _type_id(self, name: str) -> int:
        """Get-or-create a type; safe when several processes do it at once."""
        if name in self._type_ids:
            return self._type_ids[name]
        kind = pb.ContextType if name in (PIPELINE, RUN, CACHE, VERSION, TAG) else pb.ExecutionType if name == STEP else pb.ArtifactType
        put = {pb.ContextType: "put_context_type", pb.ExecutionType: "put_execution_type", pb.ArtifactType: "put_artifact_type"}[kind]
        proto = kind(name=name)
        for key, value in _TYPES[name].items():
            proto.properties[key] = value

        def ensure(store: metadata_store.MetadataStore) -> int:
            for _ in range(5):
                try:
                    return int(getattr(store, put)(proto, can_add_fields=True))
                except mlmd_errors.AlreadyExistsError:  # another process won the race
                    time.sleep(0.01)
            return int(getattr(store, put)(proto, can_add_fields=True))

        self._type_ids[name] = self._call(ensure)
        return self._type_ids[name]

    # -- writing ------------------------------------------------------------
    def start_run(self, pipeline: str, run: str, stack: dict[str, Any], *, host: str = "", pid: int = 0, user: str = "") -> RunInfo:
        """Create the pipeline context (if new) and the run context, state running."""
        pipeline_ctx = self._context(PIPELINE, pipeline)
        ctx = pb.Context(type_id=self._type_id(RUN), name=run)
        now = time.time()
        ctx.properties["pipeline"].string_value = pipeline
        ctx.properties["state"].string_value = "running"
        ctx.properties["started"].double_value = now
        ctx.properties["stack"].string_value = json.dumps(stack, sort_keys=True)
        ctx.properties["host"].string_value = host
        ctx.properties["pid"].int_value = pid
        if user:
            ctx.properties["user"].string_value = user

        def put(store: metadata_store.MetadataStore) -> int:
            try:
                (ctx_id,) = store.put_contexts([ctx])
            except mlmd_errors.StatusError as exc:
                if isinstance(exc, mlmd_errors.AlreadyExistsError) or any(s in _reason(exc) for s in _TAKEN):
                    return 0
                raise
            store.put_parent_contexts([pb.ParentContext(child_id=ctx_id, parent_id=pipeline_ctx.id)])
            return int(ctx_id)

        ctx.id = self._call(put)
        if not ctx.id:
            raise AlreadyExistsError(f"a run named {run!r} already exists in {self.label}; pick another run_name")
        self._run_contexts[ctx.id] = ctx
        return _run(ctx)

    def _run_context(self, run_id: int) -> pb.Context:
        """The full run context (put_execution rewrites the contexts it is given)."""
        if run_id not in self._run_contexts:
            (ctx,) = self._call(lambda s: s.get_contexts_by_id([run_id]))
            self._run_contexts[run_id] = ctx
        return self._run_contexts[run_id]

    def _context(self, type_name: str, name: str) -> pb.Context:
        if (type_name, name) in self._contexts:
            return self._contexts[(type_name, name)]
        type_id = self._type_id(type_name)

        def get_or_put(store: metadata_store.MetadataStore) -> pb.Context:
            found = store.get_context_by_type_and_name(type_name, name)
            if found is not None:
                return found
            try:
                (ctx_id,) = store.put_contexts([pb.Context(type_id=type_id, name=name)])
            except mlmd_errors.AlreadyExistsError:
                return store.get_context_by_type_and_name(type_name, name)
            return pb.Context(id=ctx_id, type_id=type_id, name=name)

        self._contexts[(type_name, name)] = self._call(get_or_put)
        return self._contexts[(type_name, name)]

    def finish_run(self, run: RunInfo, state: str, summary: dict[str, Any] | None = None) -> RunInfo:
        """Mark a run complete, failed or cancelled; ``summary`` is what run tables list and sort by."""
        def put(store: metadata_store.MetadataStore) -> pb.Context:
            (ctx,) = store.get_contexts_by_id([run.id])
            ctx.properties["state"].string_value = state
            ctx.properties["ended"].double_value = time.time()
            if summary is not None:
                ctx.properties["summary"].string_value = json.dumps(summary, sort_keys=True, default=repr)
            store.put_contexts([ctx])
            return ctx

        ctx = self._call(put)
        self._run_contexts.pop(run.id, None)
        return _run(ctx)

    def claim_run(self, run: RunInfo, *, host: str, pid: int) -> RunInfo:
        """A started run's driver is now this process (a detached run's, on the cluster): its
        host and pid are what tells a live run from one whose driver died."""
        def put(store: metadata_store.MetadataStore) -> pb.Context:
            (ctx,) = store.get_contexts_by_id([run.id])
            ctx.properties["host"].string_value = host
            ctx.properties["pid"].int_value = pid
            store.put_contexts([ctx])
            return ctx

        self._run_contexts.pop(run.id, None)
        return _run(self._call(put))

    def update_summary(self, run: RunInfo, changes: dict[str, Any]) -> RunInfo:
        """Add ``changes`` to an ended run's summary (what its experiment tracker made of it),
        leaving its state and times as they are."""
        def put(store: metadata_store.MetadataStore) -> pb.Context:
            (ctx,) = store.get_contexts_by_id([run.id])
            try:
                summary = json.loads(ctx.properties["summary"].string_value or "{}")
            except ValueError:
                summary = {}
            summary = {**(summary if isinstance(summary, dict) else {}), **changes}
            ctx.properties["summary"].string_value = json.dumps(summary, sort_keys=True, default=repr)
            store.put_contexts([ctx])
            return ctx

        return _run(self._call(put))

    def close_run(self, run: RunInfo, state: str, summary: dict[str, Any] | None = None) -> None:
        """Best effort after a failure: mark the run ``state`` unless the store itself fails."""
        try:
            self.finish_run(run, state, summary)
        except ZenMLError:
            pass  # the store is what failed; a dead owner's run reads as incomplete

    def record_step_later(self, run: RunInfo, step: str, **kwargs: Any) -> Callable[[], ExecutionInfo]:
        """:meth:`record_step`, through the writer process once one is up (see
        ``overlap_writes``; its answer read when asked for), otherwise here and now.

        Its inputs may name steps of the run recorded this way whose answers were not read yet,
        as ``[step, output]`` (the runner stages outputs before they are recorded): the writer,
        which records in order, fills their artifacts in itself, so this process never waits for
        one record before sending the next; here, their answers are read first."""
        if self._writer is None and self._make_writer is not None:
            self._writer = self._make_writer()  # None until a long run has started one
        if self._writer is not None and self._writer.ready():
            kwargs["inputs"] = self._resolve(run, kwargs["inputs"], writer=True)
            try:
                answer: Callable[[], ExecutionInfo] = self._writer.record_step_later(run, step, **kwargs)
            except StoreUnavailableError:
                answer = _gone
            settle = _Once(lambda: self._settled(answer, run, step, kwargs))
            self._unread[(run.id, step)] = (answer, settle)
            return settle
        kwargs["inputs"] = self._resolve(run, kwargs["inputs"], writer=False)
        (made,) = self.record_steps_chained([((run, step), kwargs)])  # keyed by external id where it can: the cheaper record
        if isinstance(made, Exception):
            raise made
        return lambda: made

    def record_step_chained(self, run: RunInfo, step: str, **kwargs: Any) -> ExecutionInfo:
        """:meth:`record_step`, whose inputs may name (``[step, output]``) steps of the same run
        recorded this way before, by this process: what a writer process is sent."""
        inputs = {}
        for arg, ref in kwargs["inputs"].items():
            if isinstance(ref, (list, tuple)):
                known = self._chained.get((run.id, ref[0]))
                if known is None:  # recorded elsewhere (before a restart of this writer): the caller records it itself
                    raise StoreUnavailableError(f"{self.label}: step {ref[0]!r} of run {run.name!r} was not recorded by this process")
                ref = known[ref[1]]
            inputs[arg] = ref
        info = self.record_step(run, step, **{**kwargs, "inputs": inputs})
        self._remember(run, step, info)
        return info

    def _remember(self, run: RunInfo, step: str, info: ExecutionInfo) -> None:
        if len(self._chained) > CHAINED_MAX:  # a bound over runs: this run's steps may still be named
            self._chained = {k: v for k, v in self._chained.items() if k[0] == run.id}
        self._chained[(run.id, step)] = dict(info.outputs)

    def _resolve(self, run: RunInfo, inputs: dict[str, Any], *, writer: bool) -> dict[str, Any]:
        """Inputs by artifact id; for the writer, those it has yet to record stay by name."""
        out: dict[str, Any] = {}
        for arg, ref in inputs.items():
            if isinstance(ref, (list, tuple)):
                known = self._chained.get((run.id, ref[0]))
                if known is not None:
                    ref = known[ref[1]]
                else:
                    unread = self._unread.get((run.id, ref[0]))
                    if unread is None:
                        raise ValueError(f"input {arg!r} names step {ref[0]!r}, which was not recorded")
                    answer, settle = unread
                    ref = list(ref) if writer and getattr(answer, "pending", False) else settle().outputs[ref[1]]
            out[arg] = ref
        return out

    def _settled(self, answer: Callable[[], ExecutionInfo], run: RunInfo, step: str, kwargs: dict[str, Any]) -> ExecutionInfo:
        """The writer's answer; if it went away (killed, stuck), the record is looked for here
        and made here if it is not there: the writer saves time, it is never a new way to fail."""
        try:
            info = answer()
        except StoreUnavailableError:
            name = f"{run.name}.{step}"
            found = self._call(lambda s: s.get_executions_by_context(run.id))
            done = [e for e in found if e.name == name]
            if done:
                info = self._with_events(done)[0]
            else:
                info = self.record_step(run, step, **{**kwargs, "inputs": self._resolve(run, kwargs["inputs"], writer=False)})
        self._remember(run, step, info)
        self._unread.pop((run.id, step), None)
        return info

    def record_step(self, run: RunInfo, step: str, **kwargs: Any) -> ExecutionInfo:
        """One execution with its INPUT/OUTPUT events, in one MLMD transaction (the arguments
        are :meth:`_step_record`'s). ``outputs`` are new artifacts (specs), or for a cache hit the
        ids of the artifacts being reused."""
        record = self._step_record(run, step, **kwargs)
        # the run context by id only, never re-written (force_reuse_context); a cache-key context by
        # name, created by the first execution that completes with that key
        contexts = [pb.Context(id=run.id)]
        if record.info.state == "complete" and record.info.cache_key:
            contexts.append(pb.Context(type_id=self._type_id(CACHE), name=record.info.cache_key))

        def put(store: metadata_store.MetadataStore) -> tuple[int, list[int]]:
            exec_id, artifact_ids, _ = store.put_execution(record.execution, record.pairs, contexts, reuse_context_if_already_exist=True,
                                                           force_reuse_context=True)
            return int(exec_id), [int(a) for a in artifact_ids]

        return record.recorded(*self._call(put))

    def record_steps_chained(self, calls: Sequence[tuple[Sequence[Any], dict[str, Any]]]) -> list[ExecutionInfo | Exception]:
        """Several :meth:`record_step_chained` calls at once (what a writer process found waiting
        for it), in order, each answered with its ExecutionInfo or its error, as if made one by one.

        The completed steps of one run whose cache keys no execution holds yet are committed in
        one ``put_lineage_subgraph`` (one transaction, one fsync for them all), each keyed for the
        cache by its execution's external id (unique: an indexed lookup, as the cache-key context
        is). The rest -- a key held already, a step that did not complete -- are recorded one by
        one as :meth:`record_step` does, and so is a whole group that fails, so that each error is
        its own record's."""
        results: list[ExecutionInfo | Exception] = []
        if not self._keyed:  # a store whose find_cached does not look at external ids (MySQL, PostgreSQL)
            return [self._one_chained(args, kwargs) for args, kwargs in calls]
        keys = [kw.get("cache_key") or "" for _, kw in calls]
        held = self._held_keys([k for k in keys if k and _HEX.fullmatch(k)])
        group: list[int] = []

        def one(n: int) -> ExecutionInfo | Exception:
            return self._one_chained(*calls[n])

        def flush() -> None:
            if not group:
                return
            done = None
            try:
                done = self._record_group(calls[group[0]][0][0], [(calls[n][0][1], calls[n][1]) for n in group])
            except Exception:  # noqa: S110 - the records are made one by one below, each with its own error
                pass
            results.extend(done if done is not None else [one(n) for n in group])
            group.clear()

        for n, (args, kwargs) in enumerate(calls):
            if group and calls[group[0]][0][0].id != args[0].id:
                flush()
            if len(args) != 2 or kwargs.get("state") != "complete" or not keys[n] or keys[n] in held or not _HEX.fullmatch(keys[n]):
                flush()
                results.append(one(n))
                continue
            held.add(keys[n])  # a second step with the same key after this one is recorded by itself
            group.append(n)
        flush()
        return results

    @property
    def keyed(self) -> bool:
        """Whether completed steps may be found by their execution's external id (and so be
        committed together: :meth:`record_steps_chained`)."""
        return self._keyed

    def _one_chained(self, args: Sequence[Any], kwargs: dict[str, Any]) -> ExecutionInfo | Exception:
        try:
            return self.record_step_chained(*args, **kwargs)
        except Exception as exc:  # answered as this record's error; the next ones go on
            return exc

    def _held_keys(self, keys: list[str]) -> set[str]:
        """The cache keys among ``keys`` that an execution holds as its external id."""
        if not keys:
            return set()
        return {e.external_id for e in self._call(lambda s: _keyed(s, keys))}

    def _record_group(self, run: RunInfo, items: list[tuple[str, dict[str, Any]]]) -> list[ExecutionInfo] | None:
        """Completed steps of one run in one transaction (see :meth:`record_steps_chained`); None
        if one of their keys was taken meanwhile (nothing is written then)."""
        pending: dict[str, dict[str, int]] = {}  # a step of this group -> its outputs' indexes in ``artifacts``
        records: list[_StepRecord] = []
        executions: list[pb.Execution] = []
        artifacts: list[pb.Artifact] = []
        edges: list[tuple[int, int | None, pb.Event]] = []
        slots: list[list[int]] = []  # per record: its events' artifacts, an id (>= 0) or ~index in ``artifacts``
        for index, (step, kwargs) in enumerate(items):
            refs: dict[str, int] = {}  # input -> its artifact's id (> 0), or ~its index in ``artifacts`` (< 0)
            for arg, ref in kwargs["inputs"].items():
                if isinstance(ref, (list, tuple)):
                    known = pending.get(ref[0]) or self._chained.get((run.id, ref[0]))
                    if known is None:  # recorded elsewhere (before a restart of this writer): the caller records it itself
                        raise StoreUnavailableError(f"{self.label}: step {ref[0]!r} of run {run.name!r} was not recorded by this process")
                    ref = known[ref[1]]
                refs[arg] = ref
            record = self._step_record(run, step, **{**kwargs, "inputs": {arg: max(ref, 0) for arg, ref in refs.items()}})
            record.execution.external_id = kwargs["cache_key"]
            mine: list[int] = []
            for artifact, event in record.pairs:
                if artifact is not None:
                    slot = ~len(artifacts)
                    artifacts.append(artifact)
                elif event.type == pb.Event.INPUT and refs[event.path.steps[0].key] < 0:  # an output of this group
                    slot = refs[event.path.steps[0].key]
                    event.ClearField("artifact_id")
                else:
                    slot = event.artifact_id
                edges.append((index, ~slot if slot < 0 else None, event))
                mine.append(slot)
            pending[step] = {event.path.steps[0].key: slot for (_, event), slot in zip(record.pairs, mine, strict=True)
                             if event.type == pb.Event.OUTPUT}
            records.append(record)
            executions.append(record.execution)
            slots.append(mine)
        context = pb.Context(type_id=self._type_id(RUN), name=run.name)  # found by name and reused: never re-written

        def put(store: metadata_store.MetadataStore) -> tuple[list[int], list[int]] | None:
            try:
                exec_ids, artifact_ids, _ = store.put_lineage_subgraph(executions, artifacts, [context], edges,
                                                                       reuse_context_if_already_exist=True)
            except mlmd_errors.AlreadyExistsError:  # a key taken since _held_keys: each is recorded by itself
                return None
            return [int(e) for e in exec_ids], [int(a) for a in artifact_ids]

        ids = self._call(put)
        if ids is None:
            return None
        exec_ids, artifact_ids = ids
        done = []
        for (step, _), record, exec_id, mine in zip(items, records, exec_ids, slots, strict=True):
            info = record.recorded(exec_id, [a if a >= 0 else artifact_ids[~a] for a in mine])
            self._remember(run, step, info)
            done.append(info)
        return done

    def _step_record(
        self,
        run: RunInfo,
        step: str,
        *,
        parameters: dict[str, Any],
        code_hash: str,
        cache_key: str,
        inputs: dict[str, int],
        outputs: Sequence[ArtifactSpec] | dict[str, int],
        state: str,
        started: float,
        ended: float,
        error: str = "",
        log: ArtifactSpec | None = None,
        load_seconds: float = 0.0,
        store_seconds: float = 0.0,
        scalars: dict[str, Any] | None = None,
        metrics: ArtifactSpec | int | None = None,
        metric_summary: dict[str, dict[str, float]] | None = None,
        logged: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
    ) -> _StepRecord:
        """A step's execution and its events, as ml-metadata takes them; what is recorded is
        read back from it by :meth:`_StepRecord.recorded` once the store gave the ids."""
        execution = pb.Execution(type_id=self._type_id(STEP), name=f"{run.name}.{step}", last_known_state=_STATE_TO_PB[state])
        props = execution.properties
        props["step"].string_value = step
        props["parameters"].string_value = json.dumps(parameters, sort_keys=True, default=repr)
        props["code_hash"].string_value = code_hash
        props["cache_key"].string_value = cache_key
        props["started"].double_value = started
        props["ended"].double_value = ended
        props["run"].string_value = run.name
        if error:
            props["error"].string_value = error[:2000]
        if load_seconds + store_seconds >= 0.001:  # the time outside the function body (reading inputs, writing outputs), when it counts
            props["load_seconds"].double_value = load_seconds
            props["store_seconds"].double_value = store_seconds
        else:  # what is returned is what a reader will get
            load_seconds = store_seconds = 0.0
        if scalars:
            props["scalars"].string_value = json.dumps(scalars, sort_keys=True)
        if metric_summary:  # what lists and comparisons show, without reading a series
            props["metrics"].string_value = json.dumps(metric_summary, sort_keys=True)
        if logged:  # parameters known only inside the step (log_param): never part of the cache key
            props["logged"].string_value = json.dumps(logged, sort_keys=True, default=repr)
        if tags:
            props["tags"].string_value = json.dumps(tags, sort_keys=True)
        artifact_type = self._type_id(ARTIFACT)
        # artifacts that exist already (inputs, a cache hit's outputs) go by id in their event only:
        # put_execution would otherwise rewrite each of them, and could undo a concurrent deletion
        pairs: list[tuple[pb.Artifact | None, pb.Event]] = []
        for name, artifact_id in inputs.items():
            pairs.append((None, _event(pb.Event.INPUT, name, artifact_id)))
        if isinstance(outputs, dict):
            for name, artifact_id in outputs.items():
                pairs.append((None, _event(pb.Event.OUTPUT, name, artifact_id)))
        else:
            pairs += [(_new_artifact(artifact_type, spec), _event(pb.Event.OUTPUT, spec.name)) for spec in outputs]
        if log is not None:  # what the step printed: linked, but not one of its outputs
            pairs.append((_new_artifact(artifact_type, log), _event(pb.Event.INTERNAL_OUTPUT, log.name)))
        if isinstance(metrics, int):  # a cache hit shows the metrics of the execution it reuses
            pairs.append((None, _event(pb.Event.INTERNAL_OUTPUT, METRICS, metrics)))
        elif metrics is not None:  # the step's logged series: linked like its log, never a cache key
            pairs.append((_new_artifact(artifact_type, metrics), _event(pb.Event.INTERNAL_OUTPUT, METRICS)))
        info = ExecutionInfo(0, step, state, {**parameters, **(logged or {})}, code_hash, cache_key, started, ended, run.name, error,
                             {}, {}, {}, load_seconds, store_seconds, dict(scalars or {}), dict(metric_summary or {}), dict(tags or {}))
        return _StepRecord(execution, pairs, info)

    # -- reading ------------------------------------------------------------
    def runs(self, pipeline: str | None = None, *, deleted: bool = False) -> list[RunInfo]:
        """Runs, newest first (of one pipeline, or all); deleted ones only with ``deleted``."""
        self._type_id(RUN)
        contexts = self._call(lambda s: s.get_contexts_by_type(RUN))
        found = [r for r in map(_run, contexts) if deleted or not r.deleted]
        if pipeline is not None:
            found = [r for r in found if r.pipeline == pipeline]
        return sorted(found, key=lambda r: (r.started, r.id), reverse=True)

    def runs_changed_since(self, since_ms: int = 0) -> tuple[list[RunInfo], int]:
        """Every run (deleted ones too) whose record changed at or after ``since_ms`` (MLMD's
        update time, ms; 0: all), and the newest update time seen: what keeps a run table
        current by increments. (The time filter alone uses MLMD's index; adding the type to it
        makes SQLite scan every context, so other kinds are left out here.)"""
        run_type = self._type_id(RUN)
        if since_ms:
            query = f"last_update_time_since_epoch >= {int(since_ms)}"
            contexts = [c for c in self._call(lambda s: s.get_contexts(list_options=metadata_store.ListOptions(filter_query=query)))
                        if c.type_id == run_type]
        else:
            contexts = self._call(lambda s: s.get_contexts_by_type(RUN))
        newest = max((int(c.last_update_time_since_epoch) for c in contexts), default=int(since_ms))
        return [_run(c) for c in contexts], newest

    def newest_runs(self, limit: int, *, pipeline: str | None = None, user: str | None = None) -> list[RunInfo]:
        """The ``limit`` runs created last (deleted ones too), newest first: one indexed query
        (of one pipeline's, one person's: filtered by the store when the name can be quoted)."""
        self._type_id(RUN)
        where = [f"type = '{RUN}'"]
        for prop, value in (("pipeline", pipeline), ("user", user)):
            if value is not None and _QUOTABLE.fullmatch(value):
                where.append(f"properties.{prop}.string_value = '{value}'")
        options = metadata_store.ListOptions(limit=limit, order_by=metadata_store.OrderByField.ID, is_asc=False, filter_query=" AND ".join(where))
        found = [_run(c) for c in self._call(lambda s: s.get_contexts(list_options=options))]
        return [r for r in found if (pipeline is None or r.pipeline == pipeline) and (user is None or r.user == user)]

    def pipelines(self) -> list[str]:
        self._type_id(PIPELINE)
        contexts = self._call(lambda s: s.get_contexts_by_type(PIPELINE))
        return sorted(c.name for c in contexts if not _num(c.properties, "deleted"))

    def get_run(self, name: str, *, deleted: bool = False) -> RunInfo:
        self._type_id(RUN)
        ctx = self._call(lambda s: s.get_context_by_type_and_name(RUN, name))
        if ctx is None or (_run(ctx).deleted and not deleted):
            gone = " (it was deleted)" if ctx is not None else ""
            raise NotFoundError(f"run {name!r} does not exist in {self.label}{gone}; see `runs list`")
        return _run(ctx)

    def latest_change(self) -> str:
        """Changes whenever a run starts, records a step, ends or is deleted: two indexed
        one-row queries (what the sidebar asks every few seconds)."""
        self._type_id(RUN)

        def read(store: metadata_store.MetadataStore) -> str:
            # the newest change to any context (runs end and are deleted by updating theirs; tags
            # and versions are contexts too) and the newest step: two indexed one-row queries
            newest = store.get_contexts(list_options=metadata_store.ListOptions(
                limit=1, order_by=metadata_store.OrderByField.UPDATE_TIME, is_asc=False))
            newest_step = store.get_executions(list_options=metadata_store.ListOptions(
                limit=1, order_by=metadata_store.OrderByField.ID, is_asc=False))
            run = f"{newest[0].id}.{newest[0].last_update_time_since_epoch}" if newest else "0"
            return f"{run}:{newest_step[0].id if newest_step else 0}"

        token: str = self._call(read)
        return token

    # -- deleting -----------------------------------------------------------------
    def mark_deleted(self, runs: Sequence[RunInfo], pipeline: str | None = None) -> None:
        """Take runs (and a pipeline) out of every list; their records stay for lineage."""
        now = time.time()

        def put(store: metadata_store.MetadataStore) -> None:
            ids = [r.id for r in runs]
            contexts = store.get_contexts_by_id(ids) if ids else []
            if pipeline is not None:
                found = store.get_context_by_type_and_name(PIPELINE, pipeline)
                if found is not None:
                    contexts.append(found)
            for ctx in contexts:
                if not _num(ctx.properties, "deleted"):
                    ctx.properties["deleted"].double_value = now
            for i in range(0, len(contexts), 500):
                store.put_contexts(contexts[i : i + 500])

        self._type_id(PIPELINE)
        self._type_id(RUN)
        self._call(put)
        for r in runs:
            self._run_contexts.pop(r.id, None)

    def set_artifact_state(self, ids: Sequence[int], state: str) -> None:
        """live | deleting | deleted, for many artifacts at once."""
        value = _ARTIFACT_STATES[state]

        def put(store: metadata_store.MetadataStore) -> None:
            for i in range(0, len(ids), 500):
                chunk = store.get_artifacts_by_id(list(ids[i : i + 500]))
                for art in chunk:
                    art.state = value
                store.put_artifacts(chunk)

        self._call(put)

    def artifacts_in_state(self, state: str) -> list[ArtifactInfo]:
        options = metadata_store.ListOptions(filter_query=f"state = {pb.Artifact.State.Name(_ARTIFACT_STATES[state])}")
        return [_artifact(a) for a in self._call(lambda s: s.get_artifacts(list_options=options))]

    def users(self, artifact_ids: Sequence[int]) -> dict[int, set[str]]:
        """Which runs' executions use each artifact (read it, wrote it, or reused it from the cache)."""
        if not artifact_ids:
            return {}
        events = self._call(lambda s: s.get_events_by_artifact_ids(list(artifact_ids)))
        exec_ids = sorted({e.execution_id for e in events})

        def run_of(store: metadata_store.MetadataStore) -> dict[int, str]:
            found: dict[int, str] = {}
            for i in range(0, len(exec_ids), 1000):
                for e in store.get_executions_by_id(exec_ids[i : i + 1000]):
                    found[e.id] = _str(e.properties, "run")
            return found

        runs = self._call(run_of)
        out: dict[int, set[str]] = {int(a): set() for a in artifact_ids}
        for e in events:
            out[e.artifact_id].add(runs.get(e.execution_id, ""))
        return out

    def producers(self, artifact_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """Which run and step first wrote each artifact (a cache hit's reuse is not a writing)."""
        if not artifact_ids:
            return {}
        events = self._call(lambda s: s.get_events_by_artifact_ids(list(artifact_ids)))
        first: dict[int, int] = {}
        for e in events:
            if e.type == pb.Event.OUTPUT and (e.artifact_id not in first or e.execution_id < first[e.artifact_id]):
                first[e.artifact_id] = e.execution_id
        found = self._call(lambda s: s.get_executions_by_id(sorted(set(first.values())))) if first else []
        by_id = {e.id: (_str(e.properties, "run"), _str(e.properties, "step")) for e in found}
        return {a: by_id[x] for a, x in first.items() if x in by_id}

    def tagged_artifacts(self) -> dict[int, list[str]]:
        """Artifacts a tag points at, with "name:version@tag" for each tag."""
        self._type_id(TAG)
        self._type_id(VERSION)
        def read(store: metadata_store.MetadataStore) -> dict[int, list[str]]:
            out: dict[int, list[str]] = {}
            for c in store.get_contexts_by_type(TAG):
                number = int(c.properties["version"].int_value)
                if number <= 0:
                    continue
                name, tag = c.name.split("@", 1)
                found = store.get_context_by_type_and_name(VERSION, f"{name}:{number}")
                if found is not None:
                    out.setdefault(int(found.properties["artifact"].int_value), []).append(f"{name}:{number}@{tag}")
            return out

        tagged: dict[int, list[str]] = self._call(read)
        return tagged

    def executions(self, run: RunInfo) -> list[ExecutionInfo]:
        """The run's step executions in the order they were recorded, with their events."""
        executions = self._call(lambda s: s.get_executions_by_context(run.id))
        return self._with_events(sorted(executions, key=lambda e: e.id))

    def _with_events(self, executions: Sequence[pb.Execution]) -> list[ExecutionInfo]:
        ids = [e.id for e in executions]
        events = self._call(lambda s: s.get_events_by_execution_ids(ids)) if ids else []
        by_exec: dict[int, tuple[dict[str, int], dict[str, int], dict[str, int]]] = {i: ({}, {}, {}) for i in ids}
        slots = {pb.Event.INPUT: 0, pb.Event.OUTPUT: 1, pb.Event.INTERNAL_OUTPUT: 2}
        for ev in events:
            key = ev.path.steps[0].key if ev.path.steps else ""
            if ev.type in slots:
                by_exec[ev.execution_id][slots[ev.type]][key] = ev.artifact_id
        return [_execution(e, *by_exec[e.id]) for e in executions]

    def artifacts(self, run: RunInfo) -> list[ArtifactInfo]:
        """Every artifact the run's executions read or wrote."""
        ids = sorted({a for e in self.executions(run) for a in (*e.inputs.values(), *e.outputs.values())})
        return self.artifacts_by_id(ids)

    def artifacts_by_id(self, ids: Sequence[int]) -> list[ArtifactInfo]:
        """As stored now (another process may have deleted some since this one cached them)."""
        if not ids:
            return []
        found = self._call(lambda s: s.get_artifacts_by_id(list(ids)))
        by_id = {a.id: a for a in found}
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise NotFoundError(f"artifact(s) {unknown} do not exist in {self.label}")
        return [_artifact(by_id[i]) for i in dict.fromkeys(ids)]

    def artifacts_by_uri(self, uri: str) -> list[ArtifactInfo]:
        return [_artifact(a) for a in self._call(lambda s: s.get_artifacts_by_uri(uri))]

    def find_cached(self, cache_key: str) -> ExecutionInfo | None:
        """The newest completed execution with this cache key, or None."""
        self._type_id(STEP)
        if not _HEX.fullmatch(cache_key):
            raise ValueError("cache keys are hex digests")
        if cache_key in self._hits:
            return self._hits[cache_key]
        self._type_id(CACHE)

        def lookup(store: metadata_store.MetadataStore) -> list[pb.Execution]:
            # only completed executions hold a key (as external id: record_steps_chained) or join a
            # cache-key context: the newest of them is the answer
            found = [e for e in _keyed(store, [cache_key]) if e.last_known_state == pb.Execution.COMPLETE] if self._keyed else []
            ctx = store.get_context_by_type_and_name(CACHE, cache_key)
            if ctx is not None:
                newest = metadata_store.ListOptions(limit=1, order_by=metadata_store.OrderByField.ID, is_asc=False)
                found += [e for e in store.get_executions_by_context(ctx.id, list_options=newest) if e.last_known_state == pb.Execution.COMPLETE]
            return sorted(found, key=lambda e: e.id)[-1:]

        found = self._call(lookup)
        if not found:
            return None
        hit = self._with_events(found)[0]
        self._hits[cache_key] = hit
        return hit

    def lineage(self, artifact_id: int, *, hops: int = 20) -> LineageInfo:
        """Everything up- and downstream of an artifact."""
        if not self._call(lambda s: s.get_artifacts_by_id([int(artifact_id)])):
            raise NotFoundError(f"artifact {artifact_id} does not exist in {self.label}")
        options = pb.LineageSubgraphQueryOptions(max_num_hops=hops)
        options.starting_artifacts.filter_query = f"id = {int(artifact_id)}"
        graph = self._call(lambda s: s.get_lineage_subgraph(options))
        events = [
            EventInfo(e.execution_id, e.artifact_id, "INPUT" if e.type == pb.Event.INPUT else "OUTPUT", e.path.steps[0].key if e.path.steps else "")
            for e in graph.events
        ]
        return LineageInfo(
            [_artifact(a) for a in graph.artifacts],
            self._with_events(list(graph.executions)),
            events,
        )

    # -- named artifact versions ------------------------------------------------
    def _version_query(self, name: str, extra: str = "", *, limit: int | None = None) -> list[pb.Context]:
        self._type_id(VERSION)
        where = f"type = '{VERSION}' AND properties.artifact_name.string_value = '{name}'{extra}"  # name: checked (no quotes)
        options = metadata_store.ListOptions(order_by=metadata_store.OrderByField.ID, is_asc=False, filter_query=where, limit=limit)
        found: list[pb.Context] = self._call(lambda s: s.get_contexts(list_options=options))
        return found

    def artifact_names(self) -> list[tuple[str, int, float]]:
        """Every named artifact: (name, its latest version number, when that was made), by name."""
        self._type_id(VERSION)
        found = self._call(lambda s: s.get_contexts_by_type(VERSION))
        latest: dict[str, tuple[int, float]] = {}
        for c in found:
            p = c.properties
            name, number = _str(p, "artifact_name"), int(p["version"].int_value)
            if number > latest.get(name, (0, 0.0))[0]:
                latest[name] = (number, _num(p, "created"))
        return [(name, n, when) for name, (n, when) in sorted(latest.items())]

    def _tags(self, name: str) -> dict[str, int]:
        self._type_id(TAG)
        where = f"type = '{TAG}' AND properties.artifact_name.string_value = '{name}'"
        found = self._call(lambda s: s.get_contexts(list_options=metadata_store.ListOptions(filter_query=where)))
        return {c.name.split("@", 1)[1]: int(c.properties["version"].int_value) for c in found if c.properties["version"].int_value > 0}

    def add_version(self, name: str, artifact_id: int, *, run: str, step: str, content_hash: str, size: int = -1) -> VersionInfo | None:
        """Make ``artifact_id`` the next version of ``name``; None when the latest version
        already has this content (a re-run that made the same bytes mints nothing)."""
        latest = self._version_query(name, limit=1)
        if latest and latest[0].properties["content_hash"].string_value == content_hash:
            return None
        number = int(latest[0].properties["version"].int_value) + 1 if latest else 1
        type_id = self._type_id(VERSION)
        while True:
            ctx = pb.Context(type_id=type_id, name=f"{name}:{number}")
            p = ctx.properties
            p["artifact_name"].string_value, p["version"].int_value, p["artifact"].int_value = name, number, artifact_id
            p["run"].string_value, p["step"].string_value, p["content_hash"].string_value = run, step, content_hash
            p["created"].double_value = time.time()
            p["size"].int_value = size

            def claim(store: metadata_store.MetadataStore, c: pb.Context = ctx) -> bool:
                try:
                    store.put_contexts([c])
                    return True
                except mlmd_errors.StatusError as exc:  # another process claimed it a moment ago
                    if isinstance(exc, mlmd_errors.AlreadyExistsError) or any(s in _reason(exc) for s in _TAKEN):
                        return False
                    raise

            if self._call(claim):
                return _version(ctx, {})
            number += 1

    def versions(self, name: str, *, limit: int = 20, offset: int = 0) -> tuple[int, list[VersionInfo]]:
        """How many versions ``name`` has, and one page of them, newest first."""
        latest = self._version_query(name, limit=1)
        if not latest:
            return 0, []
        total = int(latest[0].properties["version"].int_value)
        high, low = total - offset, max(1, total - offset - limit + 1)
        if high < 1:
            return total, []
        page = self._version_query(name, f" AND properties.version.int_value >= {low} AND properties.version.int_value <= {high}")
        tags = self._tags(name)
        states = self._states([int(c.properties["artifact"].int_value) for c in page])
        return total, sorted((_version(c, tags, states) for c in page), key=lambda v: -v.version)

    def _states(self, ids: Sequence[int]) -> dict[int, str]:
        """Artifacts' states as stored now (a deletion may come from another process)."""
        found = self._call(lambda s: s.get_artifacts_by_id(list(ids))) if ids else []
        return {a.id: _STATE_OF_ARTIFACT.get(a.state, "live") for a in found}

    def get_version(self, name: str, version: int | str | None = None) -> VersionInfo:
        """A version by number, by tag (e.g. "production"), or the latest."""
        tags = self._tags(name)
        if isinstance(version, str) and not version.isdigit():
            if version not in tags:
                known = ", ".join(sorted(tags)) or "none"
                raise NotFoundError(f"artifact {name!r} has no tag {version!r} (tags: {known}); see `artifacts versions {name}`")
            version = tags[version]
        if version is None:
            found = self._version_query(name, limit=1)
        else:
            self._type_id(VERSION)
            one = self._call(lambda s: s.get_context_by_type_and_name(VERSION, f"{name}:{int(version)}"))
            found = [one] if one is not None else []
        if not found:
            total = self.versions(name, limit=0)[0]
            if total == 0:
                raise NotFoundError(f"no artifact named {name!r} in {self.label}; name a step's outputs with @step(outputs=[...])")
            raise NotFoundError(f"artifact {name!r} has no version {version} (versions 1-{total})")
        return _version(found[0], tags, self._states([int(found[0].properties["artifact"].int_value)]))

    def tag_version(self, name: str, version: int, tag: str) -> tuple[VersionInfo, int]:
        """Point ``tag`` at a version (moving it); returns the version and where the tag was (0: new)."""
        target = self.get_version(name, version)
        type_id = self._type_id(TAG)

        def put(store: metadata_store.MetadataStore) -> int:
            ctx = store.get_context_by_type_and_name(TAG, f"{name}@{tag}")
            if ctx is None:
                ctx = pb.Context(type_id=type_id, name=f"{name}@{tag}")
                ctx.properties["artifact_name"].string_value = name
            before = int(ctx.properties["version"].int_value)
            ctx.properties["version"].int_value = target.version
            store.put_contexts([ctx])
            return before

        before = self._call(put)
        return self.get_version(name, target.version), before

    def untag(self, name: str, tag: str) -> int:
        """Remove a tag; returns the version it was on."""
        self._type_id(TAG)

        def put(store: metadata_store.MetadataStore) -> int:
            ctx = store.get_context_by_type_and_name(TAG, f"{name}@{tag}")
            if ctx is None or ctx.properties["version"].int_value == 0:
                return 0
            before = int(ctx.properties["version"].int_value)
            ctx.properties["version"].int_value = 0
            store.put_contexts([ctx])
            return before

        before = self._call(put)
        if not before:
            raise NotFoundError(f"artifact {name!r} has no tag {tag!r}; see `artifacts versions {name}`")
        return before

    def ping(self) -> float:
        """Open the store and run a trivial query; returns milliseconds."""
        started = time.perf_counter()
        self._type_id(RUN)
        self._call(lambda s: s.get_context_types())
        return (time.perf_counter() - started) * 1000


_HEX = re.compile(r"[0-9a-f]*")
CHAINED_MAX = 100_000  # steps whose artifacts record_step_chained remembers, beyond those of the run being recorded


def _gone() -> ExecutionInfo:
    raise StoreUnavailableError("the writer process is gone")


class _Once:
    """A deferred answer, read once (the runner and a later record may both ask for it)."""

    __slots__ = ("done", "error", "fn", "value")

    def __init__(self, fn: Callable[[], ExecutionInfo]) -> None:
        self.fn, self.done = fn, False
        self.value: ExecutionInfo | None = None
        self.error: Exception | None = None

    def __call__(self) -> ExecutionInfo:
        if not self.done:
            try:
                self.value = self.fn()
            except Exception as exc:  # kept: whoever asks next gets it too (Ctrl-C is not kept)
                self.error = exc
            self.done = True
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value


class _StepRecord:
    """One step's execution and events, before the store gave them ids (MLMDStore._step_record)."""

    __slots__ = ("execution", "info", "pairs")

    def __init__(self, execution: pb.Execution, pairs: list[tuple[pb.Artifact | None, pb.Event]], info: ExecutionInfo) -> None:
        self.execution, self.pairs, self.info = execution, pairs, info

    def recorded(self, exec_id: int, artifact_ids: list[int]) -> ExecutionInfo:
        """What was recorded, given the ids of the execution and of its events' artifacts (in order)."""
        by_kind: dict[int, dict[str, int]] = {pb.Event.INPUT: {}, pb.Event.OUTPUT: {}, pb.Event.INTERNAL_OUTPUT: {}}
        for (_, event), artifact_id in zip(self.pairs, artifact_ids, strict=True):
            by_kind[event.type][event.path.steps[0].key] = artifact_id
        return dataclasses.replace(self.info, id=exec_id, inputs=by_kind[pb.Event.INPUT], outputs=by_kind[pb.Event.OUTPUT],
                                   logs=by_kind[pb.Event.INTERNAL_OUTPUT])


def _keyed(store: metadata_store.MetadataStore, keys: list[str]) -> list[pb.Execution]:
    """The executions holding these external ids (ml-metadata says NotFound for none)."""
    try:
        found: list[pb.Execution] = store.get_executions_by_external_ids(keys)
    except mlmd_errors.NotFoundError:
        return []
    return found


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "message", "") or exc).strip() or type(exc).__name__


def _new_artifact(type_id: int, spec: ArtifactSpec) -> pb.Artifact:
    art = pb.Artifact(type_id=type_id, uri=spec.uri, state=pb.Artifact.LIVE)
    for key in ("name", "data_type", "materializer", "content_hash"):
        art.properties[key].string_value = getattr(spec, key)
    return art


def _event(kind: int, name: str, artifact_id: int | None = None) -> pb.Event:
    event = pb.Event(type=kind) if artifact_id is None else pb.Event(type=kind, artifact_id=artifact_id)
    event.path.steps.add().key = name
    return event


@functools.lru_cache(maxsize=256)
def _stack_of(text: str) -> dict[str, Any]:
    """A run's stack snapshot, parsed once per distinct text: the runs of a store share a few
    stacks, and reading 100 000 runs parsed the same JSON 100 000 times. (Read-only: shared.)"""
    parsed: dict[str, Any] = json.loads(text)
    return parsed


_QUOTABLE = re.compile(r"[^'\\\x00-\x1f]{1,256}")  # a name that goes into a filter query as a literal as it is


def _run(ctx: pb.Context) -> RunInfo:
    p = ctx.properties
    stack = _stack_of(p["stack"].string_value) if "stack" in p and p["stack"].string_value else {}
    summary = None
    if "summary" in p and p["summary"].string_value:
        try:
            summary = json.loads(p["summary"].string_value)
        except ValueError:
            summary = None
    return RunInfo(ctx.id, ctx.name, _str(p, "pipeline"), _str(p, "state"), _num(p, "started"), _num(p, "ended"), stack, _str(p, "host"),
                   int(p["pid"].int_value) if "pid" in p else 0, _num(p, "deleted"), _str(p, "user"), summary)


def _execution(e: pb.Execution, inputs: dict[str, int], outputs: dict[str, int], logs: dict[str, int] | None = None) -> ExecutionInfo:
    p = e.properties
    params = json.loads(p["parameters"].string_value) if "parameters" in p and p["parameters"].string_value else {}
    if "logged" in p and p["logged"].string_value:
        params = {**params, **json.loads(p["logged"].string_value)}
    return ExecutionInfo(
        e.id, _str(p, "step"), _PB_TO_STATE.get(e.last_known_state, "unknown"), params, _str(p, "code_hash"),
        _str(p, "cache_key"), _num(p, "started"), _num(p, "ended"), _str(p, "run"), _str(p, "error"), inputs, outputs, logs or {},
        _num(p, "load_seconds"), _num(p, "store_seconds"),
        json.loads(p["scalars"].string_value) if "scalars" in p and p["scalars"].string_value else {},
        json.loads(p["metrics"].string_value) if "metrics" in p and p["metrics"].string_value else {},
        json.loads(p["tags"].string_value) if "tags" in p and p["tags"].string_value else {},
    )


def _artifact(a: pb.Artifact) -> ArtifactInfo:
    p = a.properties
    state = _STATE_OF_ARTIFACT.get(a.state, "live")
    return ArtifactInfo(a.id, _str(p, "name"), a.uri, _str(p, "data_type"), _str(p, "materializer"), _str(p, "content_hash"), a.create_time_since_epoch / 1000, state)


def _version(ctx: pb.Context, tags: dict[str, int], states: dict[int, str] | None = None) -> VersionInfo:
    p = ctx.properties
    number = int(p["version"].int_value)
    artifact = int(p["artifact"].int_value)
    return VersionInfo(
        _str(p, "artifact_name"), number, int(p["artifact"].int_value), _str(p, "run"), _str(p, "step"),
        _str(p, "content_hash"), _num(p, "created"), int(p["size"].int_value) if "size" in p else -1,
        tuple(sorted(t for t, v in tags.items() if v == number)), (states or {}).get(artifact, "live"),
    )
