"""Plain records the metadata-store interface returns (no protobuf leaks out)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "METRICS",
    "ArtifactInfo",
    "ArtifactSpec",
    "EventInfo",
    "ExecutionInfo",
    "LineageInfo",
    "RunInfo",
    "VersionInfo",
    "run_state",
]

METRICS = "metrics"  # the INTERNAL_OUTPUT event of a step's logged series (its log is "logs")


@dataclass(frozen=True)
class ArtifactSpec:
    """An output a step wrote: where, what, how, and the hash of its bytes."""

    name: str
    uri: str
    data_type: str
    materializer: str
    content_hash: str


@dataclass(frozen=True)
class ArtifactInfo:
    id: int
    name: str
    uri: str
    data_type: str
    materializer: str
    content_hash: str
    created: float
    state: str = "live"  # live | deleting (marked, file not yet removed) | deleted


@dataclass(frozen=True)
class ExecutionInfo:
    id: int
    step: str
    state: str  # running | complete | failed | cached | cancelled
    parameters: dict[str, Any]
    code_hash: str
    cache_key: str
    started: float
    ended: float
    run: str
    error: str = ""
    inputs: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, int] = field(default_factory=dict)
    logs: dict[str, int] = field(default_factory=dict)  # "logs" -> the artifact of what the step printed
    load_seconds: float = 0.0  # reading its inputs from the store (not in started..ended)
    store_seconds: float = 0.0  # writing its outputs into the store (not in started..ended)
    scalars: dict[str, Any] = field(default_factory=dict)  # output -> its value, for outputs that are a number (what tables sort by)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> last, min, max, count, step (log_metric)
    tags: dict[str, str] = field(default_factory=dict)  # log_tag


@dataclass(frozen=True)
class RunInfo:
    id: int
    name: str
    pipeline: str
    state: str  # running | complete | failed | cancelled
    started: float
    ended: float
    stack: dict[str, Any]
    host: str = ""
    pid: int = 0
    deleted: float = 0.0  # when `runs delete` removed it from every list (0: it was not)
    user: str = ""  # who ran it ("ana@laptop"); "" for runs recorded before it was kept
    # what listing and sorting runs needs without reading their steps, written when the run ends:
    # {"steps": n, "cached": n, "parameters": {"step.name": value}, "scalars": {"step.output": number}}
    summary: dict[str, Any] | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True)
class EventInfo:
    execution_id: int
    artifact_id: int
    kind: str  # INPUT | OUTPUT
    name: str


@dataclass(frozen=True)
class LineageInfo:
    artifacts: list[ArtifactInfo]
    executions: list[ExecutionInfo]
    events: list[EventInfo]


@dataclass(frozen=True)
class VersionInfo:
    """One version of a named artifact ("model" version 3): which artifact, made where."""

    name: str
    version: int
    artifact_id: int
    run: str
    step: str
    content_hash: str
    created: float
    size: int = -1  # bytes; -1 when not known
    tags: tuple[str, ...] = ()
    state: str = "live"  # the artifact's: live | deleting | deleted


def run_state(info: RunInfo) -> str:
    """'running' only while its process lives: a killed run shows as incomplete."""
    if info.state != "running":
        return info.state
    if info.host == socket.gethostname() and info.pid:
        try:
            os.kill(info.pid, 0)
        except ProcessLookupError:
            return "incomplete"
        except PermissionError:
            pass
    return "running"
