"""The registry's contract: its records, the Session every backend offers, and the helpers
every backend shares (who changes it, when, a row checked as it is read). Backends import this,
never the package, so the package can pick among them."""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

from ..exceptions import ConflictError, NotFoundError, RegistryError
from ..kinds import COMMAND_OF_KIND
from ..kinds import KINDS as _KINDS

if TYPE_CHECKING:
    pass

__all__ = [
    "ENV_USER",
    "KINDS",
    "SCHEMA_VERSION",
    "AnyRegistry",
    "ComponentRecord",
    "Session",
    "StackRecord",
    "changed_since",
    "identity",
    "when",
]

KINDS = _KINDS  # the kinds table (see kinds.py) decides
# 1: components, stacks, meta.  2: per-row optimistic version and updated_by; a write generation.
# 3: the experiment_tracker kind (every existing stack gets the built-in tracker 'default').
SCHEMA_VERSION = 3
ENV_USER = "ZENML_NOTEBOOK_USER"  # who a change is recorded as (default: OS user @ host name)


def identity() -> str:
    """Who is changing the registry or running a pipeline: ``$ZENML_NOTEBOOK_USER``, else the
    JupyterHub user of this single-user server (``$JUPYTERHUB_USER``), else ``user@host``."""
    for var in (ENV_USER, "JUPYTERHUB_USER"):
        env = os.environ.get(var, "").strip()
        if env:
            return env[:120]
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"[:120]


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def when(stamp: str) -> str:
    """A stored UTC time in the reader's local time: "14:02" today, else "2026-11-28 14:02"."""
    try:
        moment = datetime.fromisoformat(stamp).astimezone()
    except (TypeError, ValueError):
        return stamp or "an unknown time"
    today = datetime.now().astimezone().date()
    return moment.strftime("%H:%M" if moment.date() == today else "%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class ComponentRecord:
    """A stored component: its config is plain JSON, secrets only as references."""

    kind: str
    name: str
    flavor: str
    config: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    updated: str = ""
    version: int = 0
    updated_by: str = ""


@dataclass(frozen=True)
class StackRecord:
    """A stored stack: one component name per kind."""

    name: str
    components: dict[str, str]
    created: str = ""
    updated: str = ""
    version: int = 0
    updated_by: str = ""


def cut(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def stack_from_row(row: Sequence[Any]) -> StackRecord:
    """A row (name, one component name per kind, created, updated, version, updated_by)."""
    n = len(KINDS)
    return StackRecord(row[0], {k: v or "" for k, v in zip(KINDS, row[1:1 + n], strict=True)}, row[n + 1], row[n + 2], int(row[n + 3]), str(row[n + 4]))


def component_from_row(registry: str, row: Sequence[Any], fix: str) -> ComponentRecord:
    """A row (kind, name, flavor, config, created, updated, version, updated_by), checked at the
    boundary: a damaged one names its registry, table, row and field."""
    kind, name = row[0], row[1]
    where = f"{registry}, table 'components', row {kind}/{name}"
    try:
        config = json.loads(row[3])
    except (TypeError, ValueError, RecursionError):  # RecursionError: nested past the parser's stack
        config = None
    if not isinstance(config, dict):
        noun = COMMAND_OF_KIND.get(kind, "artifacts" if kind == "artifact_store" else str(kind).split("_")[0])
        raise RegistryError(
            f"{where}: field 'config' is not a JSON object ({cut(row[3])}); fix it with "
            f"`{noun} delete {name}` and register it again, or {fix}"
        )
    if kind not in KINDS or not isinstance(name, str) or not isinstance(row[2], str):
        raise RegistryError(f"{where}: field 'kind' must be one of {', '.join(KINDS)}; {fix}")
    return ComponentRecord(kind, name, row[2], config, str(row[4]), str(row[5]), int(row[6]), str(row[7]))


def changed_since(what: str, current: ComponentRecord | StackRecord | None) -> ConflictError | NotFoundError:
    """The refusal of a change based on an old read of ``what`` (e.g. "stack 'prod'")."""
    if current is None:
        return NotFoundError(f"{what} was deleted since you read it; nothing was changed")
    by = current.updated_by or "someone"
    return ConflictError(
        f"{what} was changed by {by} at {when(current.updated)} since you read it; "
        "run the command again to apply it on top"
    )


class Session(Protocol):
    """What a transaction of either backend offers (the contract the api is written against).

    ``update_*`` with ``expected_version`` changes the row only if nobody changed it since that
    version was read, else raises :func:`changed_since`'s error; every change records
    :func:`identity` and the time, and bumps the row's version and the registry's generation.
    """

    def generation(self) -> int: ...
    def list_components(self, kind: str | None = None) -> list[ComponentRecord]: ...
    def get_component(self, kind: str, name: str) -> ComponentRecord | None: ...
    def add_component(self, kind: str, name: str, flavor: str, config: dict[str, Any]) -> None: ...
    def update_component(
        self, kind: str, name: str, flavor: str, config: dict[str, Any], *, expected_version: int | None = None
    ) -> None: ...
    def delete_component(self, kind: str, name: str) -> None: ...
    def stacks_using(self, kind: str, name: str) -> list[str]: ...
    def list_stacks(self) -> list[StackRecord]: ...
    def get_stack(self, name: str) -> StackRecord | None: ...
    def add_stack(self, name: str, components: dict[str, str]) -> None: ...
    def update_stack(self, name: str, components: dict[str, str], *, expected_version: int | None = None) -> None: ...
    def rename_stack(self, old: str, new: str) -> None: ...
    def delete_stack(self, name: str) -> None: ...
    def get_active(self) -> str | None: ...
    def set_active(self, name: str) -> None: ...


class AnyRegistry(Protocol):
    """A registry a repository reads and changes: local, or shared through :mod:`.team`."""

    def read(self) -> AbstractContextManager[Session]: ...
    def write(self) -> AbstractContextManager[Session]: ...
    def describe(self) -> dict[str, Any]: ...


