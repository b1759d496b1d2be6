"""ml-metadata in a worker process, with a deadline on every call.

ml-metadata's C++ calls hold the GIL while they wait on a socket: a MySQL server that
stops answering freezes every thread of the calling process (the kernel, or the whole
Jupyter server), so no watchdog *inside* that process can help. A :class:`WorkerStore`
has the interface of :class:`~.mlmd.MLMDStore` and forwards each call to a child process
that owns the real store. The caller waits in ``poll()`` (the GIL released) for at most
the deadline; when it passes, the child is killed and the caller gets one classified
error. The next call starts a fresh child, so a server that comes back is used again.

The child resolves the password from the component's secret reference itself: no frame
of the caller ever holds it, so no traceback (``%xmode Verbose`` included) can show it.

Protocol: pickled ``(method, args, kwargs)`` requests over a socketpair, answered by
``("ok", value)`` or ``("error", class name, message)``.
"""

from __future__ import annotations

import atexit
import os
import pickle
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from ... import exceptions as _exc
from ... import secrets as _secrets
from ...exceptions import StoreConnectionError, StoreUnavailableError

if TYPE_CHECKING:
    from ...registry import ComponentRecord
    from ...repository import Repository
    from .records import ArtifactInfo, ExecutionInfo, LineageInfo, RunInfo, VersionInfo

__all__ = ["WorkerStore"]

MAX_INFLIGHT = 8  # calls under way at once (call_later): a bound on what a lost child takes with it
START_TIMEOUT = 20.0  # python + ml_metadata import on a loaded 2-core machine, with margin
_ALL: set[WorkerStore] = set()


def _what(method: str, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    """The call in words, for 'no reply to ... within N s'."""
    if method in ("record_step", "record_step_chained"):
        return f"'record step {args[1]}'"
    if method == "start_run":
        return f"'start run {args[1]}'"
    if method == "finish_run":
        return f"'finish run {args[0].name}'"
    if method == "get_run":
        return f"'read run {args[0]}'"
    return "'" + {"runs": "list runs", "pipelines": "list pipelines", "executions": "read a run's steps",
                  "find_cached": "look up the cache", "lineage": "read lineage", "ping": "ping the store",
                  "check": "check the server"}.get(method, method.replace("_", " ")) + "'"


class _Later:
    """A call sent to the worker whose answer is read later."""

    __slots__ = ("args", "deadline", "error", "kwargs", "method", "settled", "value")

    def __init__(self, method: str, args: Sequence[Any], kwargs: dict[str, Any], deadline: float) -> None:
        self.method, self.args, self.kwargs, self.deadline = method, args, kwargs, deadline
        self.settled = False
        self.value: Any = None
        self.error: BaseException | None = None

    def done(self, value: Any) -> None:
        self.settled, self.value = True, value

    def fail(self, error: BaseException) -> None:
        self.settled, self.error = True, error

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


class _Answer:
    """The answer to a call sent with :meth:`WorkerStore.call_later`, read when called."""

    __slots__ = ("later", "store")

    def __init__(self, store: WorkerStore, later: _Later) -> None:
        self.store, self.later = store, later

    def __call__(self) -> Any:
        return self.store._answer(self.later)

    @property
    def pending(self) -> bool:
        """Sent to the child now running and not answered yet (so the child knows of it next)."""
        return not self.later.settled


class WorkerStore:
    """The metadata store of one component, served by a child process (started on first use)."""

    def __init__(self, record: ComponentRecord, repo: Repository, *, query_timeout: float, connect_timeout: float, where: str,
                 hint: str = "check that it is running and reachable, or raise --query-timeout", idle_exit: float = 0.0) -> None:
        self.label = f"metadata store {record.name!r}"
        self.where = where  # "the MySQL server at host:port"
        self.hint = hint  # what to do when it stops answering
        self.query_timeout = query_timeout
        self.connect_timeout = connect_timeout
        self.folder = None
        # idle_exit: the child ends by itself after that many seconds without a call (0: never);
        # the next call, or ready(), starts another
        self._init = {"record": asdict(record), "root": str(repo.root), "env_owner": _secrets.ENV_OWNER.get(), "idle_exit": idle_exit}
        self._proc: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self._pending_finish: dict[int, tuple[RunInfo, str, dict[str, Any] | None]] = {}  # runs we could not close when the store failed
        self._inflight: deque[_Later] = deque()  # calls sent whose answers are read later, in order (see call_later)
        self._failed_starts = 0  # start_soon gives up after two
        _ALL.add(self)

    # -- the child ---------------------------------------------------------------------
    def _start(self, deadline: float) -> Connection:
        conn = self._spawn()
        conn.send_bytes(pickle.dumps(("open", (), {})))
        self._reply(conn, "open", (), {}, deadline)
        return conn

    def _spawn(self) -> Connection:
        """The child, started; it is sent what it serves, not waited for."""
        parent, child = socket.socketpair()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        log = os.environ.get("ZENML_NOTEBOOK_WORKER_LOG")
        err = open(log, "ab") if log else subprocess.DEVNULL
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "zenml_notebook.components.metadata.serve", str(child.fileno())],
                pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                env=env, start_new_session=True,  # Ctrl-C in the kernel interrupts us, not it
            )
        finally:
            child.close()
            if log and not isinstance(err, int):
                err.close()
        conn = Connection(parent.detach())
        self._conn = conn
        conn.send_bytes(pickle.dumps(self._init))
        return conn

    def start_soon(self) -> None:
        """Start the child and let it open the store while this process goes on; :meth:`ready`
        says when it has. Nothing happens if it is running already, or after two failed starts."""
        self._acquire()
        try:
            if self._conn is not None or self._failed_starts >= 2:
                return
            try:
                conn = self._spawn()
                conn.send_bytes(pickle.dumps(("ping", (), {})))  # opens the store: ready once answered
            except OSError:
                self._failed_starts += 1
                self._kill()
                return
            self._inflight.append(_Later("ping", (), {}, time.monotonic() + START_TIMEOUT))
        finally:
            self._lock.release()

    def ready(self) -> bool:
        """True once the child started by :meth:`start_soon` has opened its store; never waits
        (False while another thread talks to it). A child that stopped is started again."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            if not self._inflight:
                self._alive()  # one that ended since (idle, killed) is cleaned up: started again below
            later, conn = (self._inflight[0] if self._inflight else None), self._conn
            if conn is not None and (later is None or later.method != "ping"):
                return True
            if conn is not None and later is not None:
                try:
                    if not conn.poll(0):
                        if time.monotonic() < later.deadline:
                            return False
                        raise StoreUnavailableError("did not start in time")
                    self._settle(upto=later)
                    later.result()
                    return True
                except (_exc.ZenMLError, OSError):
                    self._failed_starts += 1
                    self._kill()
        finally:
            self._lock.release()
        self.start_soon()
        return False

    def _alive(self) -> Connection | None:
        """The connection to the child if it still runs (one that ended since the last call,
        killed or out of memory, is cleaned up: the next call starts a fresh one)."""
        if self._conn is not None and self._proc is not None and self._proc.poll() is not None:
            self._kill()
        return self._conn

    def _kill(self) -> None:
        while self._inflight:  # their answers are lost with the child: say so to whoever waits for them
            self._inflight.popleft().fail(StoreUnavailableError(
                f"{self.label}: its ml-metadata worker process was stopped before it answered; run the command again"))
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is not None and proc.poll() is None:
            proc.kill()
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass

    def close(self) -> None:
        """Stop the child (it also stops by itself when this process goes away)."""
        with self._lock:
            self._kill()

    # -- calls --------------------------------------------------------------------------
    def _reply(self, conn: Connection, method: str, args: Sequence[Any], kwargs: dict[str, Any], deadline: float, span: float = 0.0) -> Any:
        """The answer to the request just sent; ``span`` is the whole deadline, for the message."""
        if not conn.poll(max(deadline - time.monotonic(), 0.0)):
            if method == "open":
                raise StoreUnavailableError(f"{self.label}: its ml-metadata worker process did not start within {START_TIMEOUT:g} s; the machine may be overloaded")
            raise StoreUnavailableError(
                f"{self.label}: {self.where} stopped answering (no reply to {_what(method, args, kwargs)} "
                f"within {span or self.query_timeout:g} s); {self.hint}"
            )
        try:
            status, *payload = pickle.loads(conn.recv_bytes())  # noqa: S301 - our own child (or parent) over a private socketpair
        except (EOFError, OSError):
            code = self._proc.wait(timeout=2) if self._proc is not None else None
            how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            raise StoreUnavailableError(
                f"{self.label}: its ml-metadata worker process ended unexpectedly ({how}); run the command again"
            ) from None
        if status == "ok":
            return payload[0]
        cls_name, message = payload
        cls = getattr(_exc, cls_name, None)
        if isinstance(cls, type) and issubclass(cls, _exc.ZenMLError):
            raise cls(message)
        if cls_name in ("ValueError", "TypeError", "KeyError"):
            raise {"ValueError": ValueError, "TypeError": TypeError, "KeyError": KeyError}[cls_name](message)
        raise StoreConnectionError(f"{self.label}: {message}")

    def _acquire(self) -> None:
        if not self._lock.acquire(timeout=self.query_timeout):  # another thread waits on a silent server
            raise StoreUnavailableError(
                f"{self.label}: {self.where} stopped answering (another call has waited {self.query_timeout:g} s); {self.hint}"
            )

    def _settle(self, upto: _Later | None = None) -> None:
        """Read the answers of the calls sent earlier, in order (under the lock): all of them, or
        up to ``upto``; each is kept for whoever asks for it. If the store stopped answering, that
        is raised here too: the call that comes next must not start a fresh worker as if nothing
        had happened."""
        while self._inflight and self._conn is not None:
            later = self._inflight.popleft()
            try:
                later.done(self._reply(self._conn, later.method, later.args, later.kwargs, later.deadline, self.query_timeout))
            except _exc.ZenMLError as exc:
                later.fail(exc)
                if isinstance(exc, StoreUnavailableError):
                    self._kill()
                    raise
            except BaseException as exc:
                later.fail(StoreUnavailableError(f"{self.label}: the answer to {_what(later.method, later.args, later.kwargs)} was not read "
                                                 f"({type(exc).__name__}); run the command again"))
                self._kill()
                raise
            if later is upto:
                return

    def call_later(self, method: str, *args: Any, **kwargs: Any) -> _Answer:
        """Send a call now and read its answer when the returned function is called (or when
        a call that needs the connection comes): the store works while this process goes on.
        Up to MAX_INFLIGHT calls may be under way at once; the child answers them in order. The
        answer is due within the query timeout from now, as for any call."""
        self._acquire()
        try:
            if len(self._inflight) >= MAX_INFLIGHT:
                self._settle(upto=self._inflight[0])
            fresh = self._alive() is None
            try:
                conn = self._conn or self._start(time.monotonic() + START_TIMEOUT)
                if fresh and self._pending_finish:
                    self._flush_pending(conn)
                span = self.query_timeout + (self.connect_timeout if fresh else 0.0)
                later = _Later(method, args, kwargs, time.monotonic() + span)
                conn.send_bytes(pickle.dumps((method, args, kwargs)))
                self._inflight.append(later)
            except StoreUnavailableError:
                self._kill()
                raise
            except OSError:  # the child went away as the request was sent
                self._kill()
                raise StoreUnavailableError(f"{self.label}: its ml-metadata worker process ended unexpectedly; run the command again") from None
            except BaseException as exc:
                if not isinstance(exc, _exc.ZenMLError):
                    self._kill()
                raise
        finally:
            self._lock.release()

        return _Answer(self, later)

    def _answer(self, later: _Later) -> Any:
        if not later.settled:
            self._acquire()
            try:
                if later in self._inflight:
                    self._settle(upto=later)
            except _exc.ZenMLError:
                pass  # kept in ``later``, raised below
            finally:
                self._lock.release()
        return later.result()

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        self._acquire()
        try:
            self._settle()  # a call sent earlier is answered first (its answer is kept for its caller)
            deadline = time.monotonic() + self.query_timeout
            fresh = self._alive() is None
            try:
                conn = self._conn or self._start(time.monotonic() + START_TIMEOUT)
                span = self.query_timeout
                if fresh:  # the first call also connects (the pre-flight gives up after connect_timeout)
                    span = self.query_timeout + self.connect_timeout
                    deadline = time.monotonic() + span
                    if self._pending_finish:
                        self._flush_pending(conn)
                conn.send_bytes(pickle.dumps((method, args, kwargs)))
                return self._reply(conn, method, args, kwargs, deadline, span)
            except StoreUnavailableError:
                self._kill()
                raise
            except OSError:  # the child went away as the request was sent
                self._kill()
                raise StoreUnavailableError(f"{self.label}: its ml-metadata worker process ended unexpectedly; run the command again") from None
            except BaseException as exc:
                # Ctrl-C (or anything else) while the child works: its answer would come to the
                # next call, so it goes; a ZenMLError it raised leaves it healthy
                if not isinstance(exc, _exc.ZenMLError):
                    self._kill()
                raise
        finally:
            self._lock.release()

    def _flush_pending(self, conn: Connection) -> None:
        """Close the runs an earlier failure left 'running', now that the store answers again."""
        for run_id, (run, state, summary) in list(self._pending_finish.items()):
            conn.send_bytes(pickle.dumps(("finish_run", (run, state, summary), {})))
            self._reply(conn, "finish_run", (run, state, summary), {}, time.monotonic() + self.query_timeout + self.connect_timeout)
            del self._pending_finish[run_id]

    def close_run(self, run: RunInfo, state: str, summary: dict[str, Any] | None = None) -> None:
        """After a failure: mark the run ``state`` now if the worker is healthy, otherwise at
        the next contact with the store (a fresh worker first closes what was left open), so
        a run never stays 'running' once the server is back and we are still alive to say so."""
        self._pending_finish[run.id] = (run, state, summary)
        if self._conn is not None:
            try:
                self.finish_run(run, state, summary)
            except _exc.ZenMLError:
                pass

    # -- the MLMDStore interface ---------------------------------------------------------
    def start_run(self, pipeline: str, run: str, stack: dict[str, Any], *, host: str = "", pid: int = 0, user: str = "") -> RunInfo:
        result: RunInfo = self._call("start_run", pipeline, run, stack, host=host, pid=pid, user=user)
        return result

    def finish_run(self, run: RunInfo, state: str, summary: dict[str, Any] | None = None) -> RunInfo:
        result: RunInfo = self._call("finish_run", run, state, summary)
        self._pending_finish.pop(run.id, None)
        return result

    def claim_run(self, run: RunInfo, *, host: str, pid: int) -> RunInfo:
        result: RunInfo = self._call("claim_run", run, host=host, pid=pid)
        return result

    def update_summary(self, run: RunInfo, changes: dict[str, Any]) -> RunInfo:
        result: RunInfo = self._call("update_summary", run, changes)
        return result

    def record_step(self, run: RunInfo, step: str, **kwargs: Any) -> ExecutionInfo:
        result: ExecutionInfo = self._call("record_step", run, step, **kwargs)
        return result

    def record_step_later(self, run: RunInfo, step: str, **kwargs: Any) -> Callable[[], ExecutionInfo]:
        """:meth:`record_step`, sent now, its answer read when asked for (see :meth:`call_later`).
        Its inputs may name steps sent earlier and not answered yet (``[step, output]``): the
        child, which records in order, knows their artifacts by then."""
        answer: Callable[[], ExecutionInfo] = self.call_later("record_step_chained", run, step, **kwargs)
        return answer

    def runs(self, pipeline: str | None = None, *, deleted: bool = False) -> list[RunInfo]:
        result: list[RunInfo] = self._call("runs", pipeline, deleted=deleted)
        return result

    def runs_changed_since(self, since_ms: int = 0) -> tuple[list[RunInfo], int]:
        result: tuple[list[RunInfo], int] = self._call("runs_changed_since", since_ms)
        return result

    def newest_runs(self, limit: int, *, pipeline: str | None = None, user: str | None = None) -> list[RunInfo]:
        result: list[RunInfo] = self._call("newest_runs", limit, pipeline=pipeline, user=user)
        return result

    def pipelines(self) -> list[str]:
        result: list[str] = self._call("pipelines")
        return result

    def get_run(self, name: str, *, deleted: bool = False) -> RunInfo:
        result: RunInfo = self._call("get_run", name, deleted=deleted)
        return result

    def latest_change(self) -> str:
        result: str = self._call("latest_change")
        return result

    def mark_deleted(self, runs: Sequence[RunInfo], pipeline: str | None = None) -> None:
        self._call("mark_deleted", list(runs), pipeline)

    def set_artifact_state(self, ids: Sequence[int], state: str) -> None:
        self._call("set_artifact_state", list(ids), state)

    def artifacts_in_state(self, state: str) -> list[ArtifactInfo]:
        result: list[ArtifactInfo] = self._call("artifacts_in_state", state)
        return result

    def users(self, artifact_ids: Sequence[int]) -> dict[int, set[str]]:
        result: dict[int, set[str]] = self._call("users", list(artifact_ids))
        return result

    def producers(self, artifact_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        result: dict[int, tuple[str, str]] = self._call("producers", list(artifact_ids))
        return result

    def tagged_artifacts(self) -> dict[int, list[str]]:
        result: dict[int, list[str]] = self._call("tagged_artifacts")
        return result

    def executions(self, run: RunInfo) -> list[ExecutionInfo]:
        result: list[ExecutionInfo] = self._call("executions", run)
        return result

    def artifacts(self, run: RunInfo) -> list[ArtifactInfo]:
        result: list[ArtifactInfo] = self._call("artifacts", run)
        return result

    def artifacts_by_id(self, ids: Sequence[int]) -> list[ArtifactInfo]:
        result: list[ArtifactInfo] = self._call("artifacts_by_id", list(ids))
        return result

    def artifacts_by_uri(self, uri: str) -> list[ArtifactInfo]:
        result: list[ArtifactInfo] = self._call("artifacts_by_uri", uri)
        return result

    def find_cached(self, cache_key: str) -> ExecutionInfo | None:
        result: ExecutionInfo | None = self._call("find_cached", cache_key)
        return result

    def lineage(self, artifact_id: int, *, hops: int = 20) -> LineageInfo:
        result: LineageInfo = self._call("lineage", artifact_id, hops=hops)
        return result

    def ping(self) -> float:
        result: float = self._call("ping")
        return result

    def add_version(self, name: str, artifact_id: int, *, run: str, step: str, content_hash: str, size: int = -1) -> VersionInfo | None:
        result: VersionInfo | None = self._call("add_version", name, artifact_id, run=run, step=step, content_hash=content_hash, size=size)
        return result

    def artifact_names(self) -> list[tuple[str, int, float]]:
        result: list[tuple[str, int, float]] = self._call("artifact_names")
        return result

    def versions(self, name: str, *, limit: int = 20, offset: int = 0) -> tuple[int, list[VersionInfo]]:
        result: tuple[int, list[VersionInfo]] = self._call("versions", name, limit=limit, offset=offset)
        return result

    def get_version(self, name: str, version: int | str | None = None) -> VersionInfo:
        result: VersionInfo = self._call("get_version", name, version)
        return result

    def tag_version(self, name: str, version: int, tag: str) -> tuple[VersionInfo, int]:
        result: tuple[VersionInfo, int] = self._call("tag_version", name, version, tag)
        return result

    def untag(self, name: str, tag: str) -> int:
        result: int = self._call("untag", name, tag)
        return result


def _close_all() -> None:
    """At exit: stop every child. Runs left open by a store failure stay 'running' in the
    store, and read as 'incomplete' once this process is gone (never 'complete')."""
    for store in list(_ALL):
        store.close()


atexit.register(_close_all)
