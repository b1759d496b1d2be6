"""A repository connected to a shared registry.

Components and stacks are read from and written to the shared database; what is personal
stays in the repository's own ``.zenml/zenml.db``: the active stack, the connection (URL and
a secret *reference*, safe to commit) and - in ``.zenml/shared-copy.db`` - the last copy of
the shared registry this repository saw. When the server cannot be reached, reads answer from
that copy with a warning saying it may be stale (so a notebook still opens); changes fail with
the classified error. Secret values never enter either database.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..exceptions import StoreConnectionError, ZenMLError, ZenMLWarning
from .local import Registry
from .records import ComponentRecord, Session, StackRecord, now, when

if TYPE_CHECKING:
    from ..repository import Repository
    from .connection import Connection
    from .shared import SharedRegistry

__all__ = ["COPY_FILENAME", "TeamRegistry", "TeamSession", "shared_registry"]

COPY_FILENAME = "shared-copy.db"
_RETRY_AFTER_S = 15.0  # after a failure, reads use the copy at once for this long (no wait per poll)


def password_of(connection: Connection) -> str:
    from ..secrets import resolve

    if connection.password is None:
        return ""
    command = f"registry connect {connection.url} --passwd"
    return resolve(
        connection.password, f"the password of the shared registry {connection.url}", update=command,
        missing=f"the shared registry {connection.url} needs a password on this machine: `%zenml {command}`",
    )


def shared_registry(connection: Connection) -> SharedRegistry:
    from .shared import SharedRegistry

    return SharedRegistry(connection, password_of(connection))


class TeamSession:
    """A shared-registry transaction with this repository's own active stack."""

    def __init__(self, shared: Any, active: str | None, *, stale: bool = False) -> None:
        self._shared = shared
        self._active = active
        self.stale = stale
        self.pending_active: str | None = None

    def __getattr__(self, name: str) -> Any:  # every registry operation goes to the shared one
        return getattr(self._shared, name)

    def get_active(self) -> str | None:
        return self.pending_active or self._active

    def set_active(self, name: str) -> None:
        self.pending_active = name

    def rename_stack(self, old: str, new: str) -> None:
        self._shared.rename_stack(old, new)
        if self.get_active() == old:
            self.pending_active = new


class TeamRegistry:
    """The registry of a repository connected to a shared one (see the module's docstring)."""

    _down: ClassVar[dict[str, tuple[float, ZenMLError]]] = {}  # url -> (retry after, why)
    _copied: ClassVar[dict[Path, int]] = {}  # copy file -> the generation it holds

    def __init__(self, local: Registry, connection: Connection, repo: Repository) -> None:
        self.local = local
        self.connection = connection
        self.copy_path = repo.zenml_dir / COPY_FILENAME
        self.stale = False

    one_shot: ClassVar[bool] = False  # a process that reads once and exits (the CLI): see read()

    @classmethod
    def open(cls, local: Registry, settings: dict[str, Any], repo: Repository) -> TeamRegistry:
        from .connection import Connection

        return cls(local, Connection.from_settings(settings), repo)

    def _local_active(self) -> str | None:
        with self.local.read() as session:
            return session.get_active()

    # -- the local copy ------------------------------------------------------------------
    def _save_copy(self, session: Any) -> None:
        generation = session.generation()
        if self._copied.get(self.copy_path) == generation:
            return
        components, stacks = session.list_components(), session.list_stacks()
        copy = Registry.open(self.copy_path)

        def fill(s: Any) -> None:
            s.restore(components, stacks, generation)
            s.set_meta("copied_from", self.connection.url)
            s.set_meta("copied_at", now())

        try:
            if not copy.create_new(seed=fill):
                with copy.write() as s:
                    fill(s)
            self._copied[self.copy_path] = generation
        except ZenMLError:  # a read-only or full disk: the copy is a convenience, the read goes on
            pass

    @contextmanager
    def _from_copy(self, why: ZenMLError) -> Iterator[Session]:
        if not self.copy_path.exists():
            raise why
        copy = Registry.open(self.copy_path)
        with copy.read() as session:
            if session.get_meta("copied_from") != self.connection.url:
                raise why
            saved = session.get_meta("copied_at") or ""
            warnings.warn(
                f"{why}; showing this repository's copy of it from {when(saved)}, which may be stale",
                ZenMLWarning, stacklevel=4,
            )
            yield session

    # -- the registry protocol ----------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Session]:
        """The shared registry's state; its last copy, marked stale, if the server is down."""
        active = self._local_active()
        url = self.connection.url
        with ExitStack() as stack:
            session: Any = None
            down = self._down.get(url)
            why: ZenMLError | None = down[1] if down and down[0] > time.monotonic() else None
            if why is None:
                try:
                    session = self._read_once() if self.one_shot else stack.enter_context(shared_registry(self.connection).read())
                    self._down.pop(url, None)
                    self._save_copy(session)
                except StoreConnectionError as exc:
                    self._down[url] = (time.monotonic() + _RETRY_AFTER_S, exc)
                    why = exc
            if session is None:
                assert why is not None
                session = stack.enter_context(self._from_copy(why))
            self.stale = why is not None
            yield TeamSession(session, active, stale=self.stale)

    def _read_once(self) -> Any:
        """A one-shot process reads with the driver alone (SQLAlchemy's import and engine would
        cost more than the read); a kernel or server keeps the pooled engine (see .snapshot)."""
        from .snapshot import read_once

        return read_once(self.connection, password_of(self.connection))

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One atomic change of the shared registry (then this repository's active stack)."""
        active = self._local_active()
        with shared_registry(self.connection).write() as shared:
            session = TeamSession(shared, active)
            yield session
        self._down.pop(self.connection.url, None)
        if session.pending_active is not None:
            with self.local.write() as local:
                local.set_active(session.pending_active)

    def describe(self) -> dict[str, Any]:
        return {"kind": "shared", "url": self.connection.url, "stale": self.stale or self.connection.url in self._down}


def records_equal(a: ComponentRecord | StackRecord, b: ComponentRecord | StackRecord) -> bool:
    """Same content, whoever wrote it and when (what `registry copy-to` skips)."""
    if isinstance(a, ComponentRecord) and isinstance(b, ComponentRecord):
        return (a.kind, a.name, a.flavor, a.config) == (b.kind, b.name, b.flavor, b.config)
    if isinstance(a, StackRecord) and isinstance(b, StackRecord):
        return (a.name, a.components) == (b.name, b.components)
    return False


# -- connecting, disconnecting, copying ---------------------------------------------------------
def _label(record: ComponentRecord | StackRecord) -> str:
    from ..kinds import KIND_LABELS

    return f"{KIND_LABELS[record.kind]} {record.name!r}" if isinstance(record, ComponentRecord) else f"stack {record.name!r}"


def reach(connection: Connection, password: str) -> SharedRegistry:
    """The pre-flight (classified, within the connect timeout), then the registry."""
    from .dialects import dialect_of
    from .shared import SharedRegistry

    c = connection
    try:
        dialect_of(c).preflight(c, password)
    except StoreConnectionError as exc:
        raise type(exc)(f"shared registry {c.url}: {exc}") from None
    return SharedRegistry(connection, password)


def copy_into(target: SharedRegistry, components: list[ComponentRecord], stacks: list[StackRecord]) -> tuple[list[str], list[str]]:
    """Add the rows ``target`` lacks, all or nothing; identical ones are skipped and a name that
    exists there with other content refuses the whole copy, naming every clash. (copied, skipped)"""
    from ..exceptions import AlreadyExistsError

    copied: list[str] = []
    skipped: list[str] = []
    with target.write() as session:
        clashes: list[str] = []
        todo: list[ComponentRecord | StackRecord] = []
        records: list[ComponentRecord | StackRecord] = [*components, *stacks]
        for record in records:
            there = session.get_component(record.kind, record.name) if isinstance(record, ComponentRecord) else session.get_stack(record.name)
            if there is None:
                todo.append(record)
            elif records_equal(record, there):
                skipped.append(_label(record))
            else:
                clashes.append(_label(record))
        if clashes:
            raise AlreadyExistsError(
                f"{target.connection.url} already has {', '.join(clashes)} with other settings; nothing was copied: rename "
                "them here (e.g. `stack rename OLD NEW`) or delete them there, then copy again"
            )
        for record in todo:
            if isinstance(record, ComponentRecord):
                session.add_component(record.kind, record.name, record.flavor, record.config)
            else:
                session.add_stack(record.name, record.components)
            copied.append(_label(record))
    return copied, skipped
