"""The local Dask clusters a process starts for its pipelines, and their life.

A stack whose orchestrator is ``dask --n-workers N`` gets a LocalCluster the first time a
pipeline runs on it; it is kept for the next runs (starting one costs seconds) and closed
when the active stack stops using it, after ``$ZENML_NOTEBOOK_DASK_IDLE`` seconds without a
run (default 600), on ``orchestrator stop``, or at exit. A scheduler the user runs
(``--scheduler-address``) is never stopped by us.
"""

from __future__ import annotations

import ast
import atexit
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any

from ..exceptions import UsageError

__all__ = ["IDLE_ENV", "client_for", "release_unused", "running", "shutdown_all", "stop"]

IDLE_ENV = "ZENML_NOTEBOOK_DASK_IDLE"


@dataclass
class _Local:
    client: Any
    timer: threading.Timer | None = None


_CLUSTERS: dict[int, _Local] = {}
_REMOTE: dict[str, Any] = {}  # scheduler address -> this process's client of a scheduler the user runs


def _close_remote() -> None:
    with _LOCK:
        clients = list(_REMOTE.values())
        _REMOTE.clear()
    for client in clients:
        try:
            client.close(timeout=2)
        except Exception:  # noqa: S110 - at exit: the scheduler may be gone already
            pass
_LOCK = threading.RLock()


def _workers(config: dict[str, Any]) -> int:
    return int(config.get("n_workers") or 2)


def _idle_seconds() -> float:
    try:
        return max(float(os.environ.get(IDLE_ENV, "600")), 0.1)
    except ValueError:
        return 600.0


def _touch(workers: int) -> None:
    """A run used this cluster: the idle countdown starts again."""
    local = _CLUSTERS[workers]
    if local.timer is not None:
        local.timer.cancel()
    local.timer = threading.Timer(_idle_seconds(), _close, args=(workers,))
    local.timer.daemon = True
    local.timer.start()


def _close(workers: int) -> bool:
    with _LOCK:
        local = _CLUSTERS.pop(workers, None)
    if local is None:
        return False
    if local.timer is not None:
        local.timer.cancel()
    cluster = local.client.cluster
    local.client.close()
    if cluster is not None:
        cluster.close()
    return True


def _check_main_guard() -> None:
    """Dask starts local workers by importing the main script again (spawn): a script that runs
    its pipeline at module level would run it in every worker. Say what to add, in one line."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path or not str(path).endswith(".py") or hasattr(sys, "ps1") or "IPython" in sys.modules:
        return  # a notebook, a shell, `python -c`, `python -m`: nothing is re-imported
    try:
        tree = ast.parse(open(path, encoding="utf-8").read())
    except (OSError, SyntaxError, ValueError):
        return
    for node in tree.body:
        if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test) and "__main__" in ast.unparse(node.test):
            return
    raise UsageError(
        f"{os.path.basename(path)} runs a pipeline on a local Dask cluster, whose workers import the script again: put "
        "the pipeline call under `if __name__ == \"__main__\":`, or give the orchestrator a --scheduler-address"
    )


def client_for(config: dict[str, Any]) -> Any:
    """A Dask client for an orchestrator's settings (starting a local cluster when needed)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("the dask orchestrator needs distributed; run `pip install 'zenml-notebook[dask]'`") from None
    address = config.get("scheduler_address")
    if address:  # one client per scheduler and process, kept for the next runs (a new one per run leaked a connection each)
        with _LOCK:
            client = _REMOTE.get(address)
            if client is None or client.status not in ("running", "connecting"):
                client = _REMOTE[address] = Client(address, timeout="10s", set_as_default=False)
                if len(_REMOTE) == 1:
                    atexit.register(_close_remote)
            return client
    workers = _workers(config)
    with _LOCK:
        if workers not in _CLUSTERS:
            _check_main_guard()
            # the scheduler's HTTP server starts anyway: a free loopback port, so two kernels never clash on :8787
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0", host="127.0.0.1")
            _CLUSTERS[workers] = _Local(Client(cluster, set_as_default=False))
            atexit.register(shutdown_all)
        _touch(workers)
        return _CLUSTERS[workers].client


def running() -> dict[int, str]:
    """The local clusters this process runs: workers -> scheduler address."""
    with _LOCK:
        return {n: str(local.client.scheduler.address) for n, local in _CLUSTERS.items()}


def release_unused(keep: dict[str, Any] | None) -> list[int]:
    """Close the local clusters that the orchestrator settings ``keep`` (the active stack's)
    do not use; returns their worker counts."""
    wanted = None if keep is None or keep.get("scheduler_address") else _workers(keep)
    closed = []
    for workers in list(_CLUSTERS):
        if workers != wanted and _close(workers):
            closed.append(workers)
    return closed


def stop(config: dict[str, Any]) -> bool:
    """Close the local cluster of these orchestrator settings; False when none runs here."""
    if config.get("scheduler_address"):
        return False
    return _close(_workers(config))


def shutdown_all() -> None:
    """Close every local cluster this process started (also done at exit)."""
    for workers in list(_CLUSTERS):
        _close(workers)


def stop_component(record: Any) -> str:
    """``orchestrator stop NAME``: what was done, in words."""
    label = f"orchestrator {record.name!r}"
    address = record.config.get("scheduler_address")
    if address:
        raise UsageError(f"{label} uses the scheduler at {address}, which you run; zenml-notebook never stops a scheduler it did not start")
    workers = _workers(record.config)
    if not stop(record.config):
        return f"{label} has no local Dask cluster running in this process; nothing to stop"
    return f"stopped the local Dask cluster of {label} ({workers} workers)"
