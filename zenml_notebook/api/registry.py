"""Where stacks and components live: this repository's own file, or a team's shared registry
(status, change token, connect, disconnect, copy-to)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exceptions import (
    UsageError,
    ZenMLError,
)
from ..flavors import COMMAND_OF_KIND
from ..registry import (
    Registry,
)

if TYPE_CHECKING:

    pass
from .repositories import DEFAULT_NAME, _seed_default_stack, open_repository
from .resolve import _resolve

__all__ = ['RegistryStatus', 'change_token', 'connect_registry', 'copy_registry_to', 'disconnect_registry', 'registry_location', 'registry_status']

# -- the shared registry ----------------------------------------------------------------
@dataclass(frozen=True)
class RegistryStatus:
    """Where a repository's stacks and components live, and whether that answers now."""

    kind: str  # "local" or "shared"
    url: str  # the file, or mysql:// or postgresql://user@host:port/db (never a password)
    stale: bool = False  # answered from this repository's last copy (the server is down)
    password: str = ""  # how the password is given (masked), for a shared registry
    stacks: int = 0
    components: int = 0
    error: str = ""  # why the shared registry did not answer


def change_token() -> str:
    """A short string that changes when anything the sidebar shows changes: the registry
    (stacks, components, the active stack) or the active stack's runs (started, a step
    recorded, ended, deleted). Cheap: one registry read and two one-row metadata queries."""
    from ..components.metadata import open_metadata_store

    repo, registry = open_repository()
    with registry.read() as session:
        desc = _resolve(session, None)
        generation = session.generation()
    runs = open_metadata_store(desc.components["metadata_store"], repo).latest_change()
    return f"{generation}:{desc.stack.name}:{runs}"


def registry_location() -> dict[str, Any]:
    """Where the registry lives, for a front end: {"kind": "local"|"shared", "url", "stale"}
    (stale: the last read of the shared registry came from this repository's copy)."""
    return open_repository()[1].describe()


def registry_status() -> RegistryStatus:
    """The repository's registry: local or shared (and if shared, whether it answers)."""
    from ..secrets import describe_ref

    repo, registry = open_repository()
    info = registry.describe()
    error = ""
    try:
        with registry.read() as session:
            stacks, components = len(session.list_stacks()), len(session.list_components())
            stale = bool(getattr(session, "stale", False))
    except ZenMLError as exc:
        error, stacks, components, stale = str(exc), 0, 0, True
    settings_ = Registry.open(repo.registry_path).connection() or {}
    ref = settings_.get("password")
    return RegistryStatus(
        info["kind"], info["url"], stale, describe_ref(ref) if isinstance(ref, dict) else "", stacks, components, error
    )


def _password_for(url: str, password: str | dict[str, Any] | None) -> tuple[dict[str, Any] | None, str, str | None]:
    """(the reference to keep, the plain password to use now, a plain one still to store)."""
    from ..registry.shared import Connection
    from ..registry.team import password_of
    from ..secrets import is_ref, resolve

    if isinstance(password, dict):
        if not is_ref(password):
            raise UsageError("the registry password must be a value or a secret reference")
        return password, resolve(password, f"the password of the shared registry {url}"), None
    if isinstance(password, str):
        return None, password, password
    repo, _ = open_repository()
    current = Registry.open(repo.registry_path).connection()
    if current and current.get("url") == url and isinstance(current.get("password"), dict):  # connecting again
        return current["password"], password_of(Connection.from_settings(current)), None
    return None, "", None


def connect_registry(
    url: str, *, password: str | dict[str, Any] | None = None, connect_timeout: float | None = None, ssl_ca: str | None = None,
    lock_timeout: float | None = None,
) -> tuple[RegistryStatus, list[str]]:
    """Keep this repository's stacks and components in a shared MySQL/MariaDB or PostgreSQL registry.

    The server is checked first (classified errors, nothing saved on failure); its tables are
    created (with a 'default' stack) or migrated. ``.zenml/`` records the URL and a secret
    *reference*; the active stack stays this repository's own. Returns the status and notes."""
    from .. import secrets as secret_store
    from ..registry.shared import Connection
    from ..registry.team import reach

    repo, _ = open_repository(create=True)
    local = Registry.open(repo.registry_path)
    connection = Connection.parse(url, connect_timeout=connect_timeout, ssl_ca=ssl_ca, lock_timeout=lock_timeout)
    ref, plain, to_store = _password_for(connection.url, password)
    shared = reach(connection, plain)
    before, after = shared.setup(seed=_seed_default_stack)
    notes = [
        f"created the registry's tables in {connection.url} (with a 'default' stack)" if before == 0
        else f"migrated {connection.url} from schema {before} to {after}" if before != after
        else f"{connection.url} is a zenml-notebook registry (schema {after})"
    ]
    if to_store is not None:
        old = (local.connection() or {}).get("password")
        ref = secret_store.store_secret(to_store, old["$secret"] if isinstance(old, dict) and "$secret" in old else None)
    previous = local.connection()
    with local.read() as session:  # this repository's own active stack, given back by `registry disconnect`
        own_active = (previous or {}).get("own_active") or session.get_active() or DEFAULT_NAME
    local.set_connection({**dataclasses.replace(connection, password=ref).settings(), "own_active": own_active})
    if previous and isinstance(previous.get("password"), dict) and previous["password"] != ref and previous.get("url") != connection.url:
        secret_store.delete_secret(previous["password"])
    with local.read() as session:
        active = session.get_active() or DEFAULT_NAME
    with shared.read() as session:
        names = [st.name for st in session.list_stacks()]
    if active not in names:
        with local.write() as session:
            session.set_active(DEFAULT_NAME)
        notes.append(
            f"your active stack {active!r} is not in the shared registry, so the active stack is now {DEFAULT_NAME!r} "
            f"(to share yours: `registry disconnect`, then `registry copy-to {connection.url}`, then connect again)"
        )
    return registry_status(), notes


def disconnect_registry() -> str:
    """Use this repository's own registry again; returns the shared registry's URL. The shared
    registry is left as it is; this repository's copy of it and its stored password go."""
    from .. import secrets as secret_store
    from ..registry.team import COPY_FILENAME

    repo, _ = open_repository()
    local = Registry.open(repo.registry_path)
    current = local.connection()
    if current is None:
        raise UsageError("this repository uses its own registry already (not connected to a shared one)")
    local.set_connection(None)
    if isinstance(current.get("password"), dict):
        secret_store.delete_secret(current["password"])
    for suffix in ("", "-wal", "-shm"):
        (repo.zenml_dir / f"{COPY_FILENAME}{suffix}").unlink(missing_ok=True)
    with local.write() as session:  # the active stack it had before it connected, if it still has it
        own = current.get("own_active")
        if isinstance(own, str) and session.get_stack(own) is not None:
            session.set_active(own)
        elif session.get_stack(session.get_active() or DEFAULT_NAME) is None:
            session.set_active(DEFAULT_NAME)
    return str(current["url"])


def copy_registry_to(
    url: str, *, password: str | dict[str, Any] | None = None, connect_timeout: float | None = None, ssl_ca: str | None = None,
    lock_timeout: float | None = None,
) -> tuple[list[str], list[str], list[str]]:
    """Copy this repository's own stacks and components into a shared registry, all or
    nothing: identical ones are skipped, a name there with other settings refuses the copy.
    Returns (copied, skipped as identical, components whose secrets each teammate gives)."""
    from ..registry.shared import Connection
    from ..registry.team import copy_into, reach
    from ..secrets import is_ref

    repo, _ = open_repository(create=True)
    connection = Connection.parse(url, connect_timeout=connect_timeout, ssl_ca=ssl_ca, lock_timeout=lock_timeout)
    _, plain, _ = _password_for(connection.url, password)
    with Registry.open(repo.registry_path).read() as session:
        components, stacks = session.list_components(), session.list_stacks()
    target = reach(connection, plain)
    target.setup()
    copied, skipped = copy_into(target, components, stacks)
    secret_holders = [
        f"`%zenml {COMMAND_OF_KIND[c.kind]} update {c.name} --{'passwd' if k == 'password' else k}`"
        for c in components for k, v in c.config.items() if is_ref(v) and "$secret" in v
    ]
    return copied, skipped, secret_holders
