"""The facade every front end (magic, CLI, forms, server) calls.

Functions take and return plain data (records); front ends turn them into
display objects. Every change is one registry transaction; validation happens
before anything is written, so a refused change leaves no trace.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import settings
from .constants import ENV_COMPONENT, ENV_STACK
from .exceptions import (
    AlreadyExistsError,
    InUseError,
    NoRepositoryError,
    NotFoundError,
    RegistryError,
    UsageError,
    ZenMLError,
    ZenMLNotice,
    ZenMLWarning,
)
from .flavors import COMMAND_OF_KIND, KIND_LABELS, KINDS, behaviour, config_model, did_you_mean, flavors_of
from .registry import (
    AnyRegistry,
    ComponentRecord,
    Registry,
    Session,
    StackRecord,
    changed_since,
    open_registry,
)
from .repository import Repository, find_repository
from .validation import check_name, validate_stack

if TYPE_CHECKING:

    from .components.artifacts import ArtifactStore, Listing, Preview

__all__ = [
    "ConfigChange",
    "RegistryStatus",
    "StackDescription",
    "active_stack_name",
    "artifact_store",
    "change_token",
    "clean_artifacts",
    "config_get",
    "config_set",
    "connect_registry",
    "copy_registry_to",
    "copy_stack",
    "delete_component",
    "delete_stack",
    "describe_stack",
    "disconnect_registry",
    "ensure_repository",
    "export_stack",
    "get_component",
    "get_stack_record",
    "import_stack",
    "init",
    "list_artifacts",
    "list_components",
    "list_stacks",
    "open_repository",
    "preview_artifact",
    "register_component",
    "register_stack",
    "registry_location",
    "registry_status",
    "rename_stack",
    "resolve_stack",
    "set_active_stack",
    "stack_components",
    "stop_orchestrator",
    "test_component",
    "update_component",
    "update_stack",
]

DEFAULT_NAME = "default"


# -- repository --------------------------------------------------------------
def _seed_default_stack(session: Session) -> None:
    """The 'default' stack; its paths are relative, so in a shared registry it is each
    repository's own local stack."""
    session.add_component("metadata_store", DEFAULT_NAME, "sqlite", {"uri": ".zenml/metadata.db"})
    session.add_component("artifact_store", DEFAULT_NAME, "local", {"path": ".zenml/artifacts"})
    session.add_component("orchestrator", DEFAULT_NAME, "local", {})
    session.add_stack(DEFAULT_NAME, dict.fromkeys(KINDS, DEFAULT_NAME))


def _seed_defaults(session: Session) -> None:
    _seed_default_stack(session)
    session.set_active(DEFAULT_NAME)


def _create(repo: Repository) -> bool:
    fresh = not repo.zenml_dir.exists()
    repo.create_dir()
    try:
        return Registry.open(repo.registry_path).create_new(seed=_seed_defaults)
    except ZenMLError:
        if fresh:  # leave no half-made repository behind (e.g. a full or read-only disk)
            shutil.rmtree(repo.zenml_dir, ignore_errors=True)
        raise


def init(path: str | Path | None = None) -> tuple[Repository, bool]:
    """Create a repository at ``path`` (default: cwd); False when one was already there."""
    root = Path(path).expanduser().resolve() if path else Path.cwd().resolve()
    if not root.parent.is_dir():  # like `git init`: the folder itself may be new, not a whole chain
        raise UsageError(f"cannot create {root}: the folder {root.parent} does not exist; create it first, or pick another path")
    if root.exists() and not root.is_dir():
        raise UsageError(f"cannot create a repository in {root}: it is a file; pick a folder")
    repo = Repository(root)
    if repo.exists():
        Registry.open(repo.registry_path).create()  # migrates; validates the file
        return repo, False
    return repo, _create(repo)


def open_repository(*, create: bool = False) -> tuple[Repository, AnyRegistry]:
    """The repository of the working directory.

    Reads never write: without ``create`` a folder with no repository raises
    RepositoryError (front ends answer their empty state). Only ``init`` and the commands a
    user types (:func:`ensure_repository`) create one.
    """
    repo, exists = find_repository()
    if not exists:
        if not create:
            raise NoRepositoryError(
                f"no zenml-notebook repository in {repo.root} or any folder above it; run "
                "`%zenml init` (or any `%zenml` command) there first"
            )
        ensure_repository()
    return repo, open_registry(repo)


def ensure_repository() -> tuple[Repository, bool]:
    """Create the working directory's repository if there is none (with a one-line notice);
    called once per command a user types, and by pipeline runs, never by reads."""
    repo, exists = find_repository()
    if not exists and _create(repo):
        warnings.warn(
            f"initialised a new zenml-notebook repository in {repo.root} "
            "(stack 'default': sqlite metadata, local artifacts, local orchestrator)",
            ZenMLNotice,
            stacklevel=3,
        )
        return repo, True
    return repo, False


def _registry() -> AnyRegistry:
    """The registry, for reading: a folder without a repository raises, nothing is created."""
    return open_repository()[1]


def _writable() -> AnyRegistry:
    """The registry, for a change: a user's (or a program's) write may create the repository."""
    return open_repository(create=True)[1]


# -- lookups -------------------------------------------------------------------
def _missing_component(session: Session, kind: str, name: str) -> NotFoundError:
    names = [c.name for c in session.list_components(kind)]
    return NotFoundError(
        f"{KIND_LABELS[kind]} {name!r} does not exist{did_you_mean(name, names)}; register it "
        f"with `{COMMAND_OF_KIND[kind]} register {name} --flavor "
        f"{'|'.join(flavors_of(kind))} ...` (registered: {', '.join(names) or 'none'})"
    )


def _component(session: Session, kind: str, name: str) -> ComponentRecord:
    record = session.get_component(kind, name)
    if record is None:
        raise _missing_component(session, kind, name)
    return record


def _stack(session: Session, name: str) -> StackRecord:
    record = session.get_stack(name)
    if record is None:
        names = [s.name for s in session.list_stacks()]
        raise NotFoundError(
            f"stack {name!r} does not exist{did_you_mean(name, names)}; "
            f"registered stacks: {', '.join(names) or 'none'}"
        )
    return record


def _active(session: Session) -> str:
    return os.environ.get(ENV_STACK) or session.get_active() or DEFAULT_NAME


def active_stack_name() -> str:
    """``$ZENML_NOTEBOOK_STACK`` if set (and registered), else the registry's active stack."""
    with _registry().read() as session:
        return _resolve(session, None).stack.name


def get_stack_record(name: str | None = None) -> StackRecord:
    with _registry().read() as session:
        return _stack(session, name or _active(session))


@dataclass(frozen=True)
class StackDescription:
    """A stack as it is used here: its components after environment overrides."""

    stack: StackRecord
    components: dict[str, ComponentRecord]
    active: bool
    overrides: dict[str, str]  # kind -> the environment variable that chose its component

    def source(self, kind: str) -> str:
        """Where ``kind``'s component comes from, in words ("" when from the stack itself)."""
        return f"from ${self.overrides[kind]}" if kind in self.overrides else ""


def _resolve(session: Session, name: str | None) -> StackDescription:
    active = _active(session)
    if name is None and os.environ.get(ENV_STACK) and session.get_stack(active) is None:
        names = [s.name for s in session.list_stacks()]
        raise NotFoundError(
            f"${ENV_STACK}={active} names no stack{did_you_mean(active, names)}; registered stacks: "
            f"{', '.join(names) or 'none'} (unset it to use the registry's active stack)"
        )
    if name is None and session.get_stack(active) is None:
        names = [s.name for s in session.list_stacks()]
        raise NotFoundError(
            f"the active stack {active!r} is no longer registered (deleted or renamed - in a shared registry perhaps by "
            f"a teammate); pick one with `stack set NAME` (registered: {', '.join(names) or 'none'})"
        )
    record = _stack(session, name or active)
    components: dict[str, ComponentRecord] = {}
    overrides: dict[str, str] = {}
    for kind in KINDS:
        var = ENV_COMPONENT[kind]
        chosen = os.environ.get(var)
        if chosen:
            found = session.get_component(kind, chosen)
            if found is None:
                raise NotFoundError(f"${var}={chosen} names no registered {KIND_LABELS[kind]}; {_missing_component(session, kind, chosen)}")
            components[kind], overrides[kind] = found, var
        else:
            components[kind] = _component_of_stack(session, record, kind)
    return StackDescription(record, components, record.name == active, overrides)


def _component_of_stack(session: Session, stack: StackRecord, kind: str) -> ComponentRecord:
    record = session.get_component(kind, stack.components[kind]) if stack.components[kind] else None
    if record is None:  # a hand-edited or damaged registry: say which row and field
        raise RegistryError(
            f"registry table 'stacks', row {stack.name!r}: field '{kind}' points at no registered {KIND_LABELS[kind]}; "
            f"repair it with `stack update {stack.name} --{kind} NAME`"
        )
    return record


def resolve_stack(name: str | None = None) -> StackDescription:
    """THE answer to "which components does this stack use here?" (default: the active
    stack), after ``$ZENML_NOTEBOOK_STACK`` and the ``$ZENML_NOTEBOOK_<KIND>`` overrides.
    The runner, ``Client``, the commands, REST and the sidebar all ask this one function."""
    with _registry().read() as session:
        return _resolve(session, name)


describe_stack = resolve_stack


def stack_components(name: str | None = None) -> tuple[str, dict[str, str]]:
    """The resolved stack's name and component names."""
    desc = resolve_stack(name)
    return desc.stack.name, {k: c.name for k, c in desc.components.items()}


def list_stacks() -> tuple[list[StackRecord], str]:
    """All stacks and the name of the active one."""
    with _registry().read() as session:
        return session.list_stacks(), _active(session)


# -- components ------------------------------------------------------------------
def list_components(kind: str) -> tuple[list[ComponentRecord], dict[str, list[str]], str]:
    """Components of ``kind``, which stacks use each, and the active stack's one."""
    with _registry().read() as session:
        records = session.list_components(kind)
        usage = {r.name: session.stacks_using(kind, r.name) for r in records}
        try:
            current = _resolve(session, None).components[kind].name
        except ZenMLError:
            current = ""
        return records, usage, current


def get_component(kind: str, name: str | None = None) -> tuple[ComponentRecord, list[str]]:
    """A component (default: the one the resolved active stack uses) and the stacks that use it."""
    with _registry().read() as session:
        record = _resolve(session, None).components[kind] if name is None else _component(session, kind, name)
        return record, session.stacks_using(kind, record.name)


def register_component(
    kind: str, name: str, flavor: str, config: Mapping[str, Any] | None = None, *, verify: bool = True, update: bool = False
) -> tuple[ComponentRecord, str]:
    """Register a component; plain values of secret fields go to the secret store.

    Idempotent, so a notebook's registration cell can run again: a component that exists with
    this flavor and these settings is left as it is ("unchanged"); one with other settings is
    refused, or with ``update`` given exactly these settings ("updated"). With ``verify`` a
    store that can be reached (MySQL) is checked before anything is saved. Returns the record
    and what was done: "registered", "unchanged" or "updated".
    """
    check_name(KIND_LABELS[kind], name)
    settings.check_flavor(kind, flavor)
    repo, registry = open_repository(create=True)
    raw = settings.local_paths(kind, flavor, repo, dict(config or {}))
    validated, pending = settings.validate(kind, flavor, name, raw)

    def existing(session: Session) -> ComponentRecord | None:
        """The record if it exists; None if not; raises if it differs and may not be updated."""
        record = session.get_component(kind, name)
        if record is None or settings.same_settings(record, flavor, validated, pending) or update:
            return record
        raise AlreadyExistsError(
            f"{KIND_LABELS[kind]} {name!r} already exists with other settings "
            f"({settings.difference(record, flavor, validated, pending)}); change it with "
            f"`{COMMAND_OF_KIND[kind]} update {name} ...`, or add --update to register it with these settings"
        )

    with registry.read() as session:
        before = existing(session)
    if before is not None and settings.same_settings(before, flavor, validated, pending):
        return before, "unchanged"
    if before is not None:
        _, after = update_component(kind, name, dict(config or {}), flavor=flavor, verify=verify, replace=True)
        return after, "updated"
    if verify:
        settings.verify(repo, kind, flavor, name, validated, pending)
    with registry.write() as session:
        raced = existing(session)  # registered by someone else meanwhile
        if raced is not None:
            if settings.same_settings(raced, flavor, validated, pending):
                return raced, "unchanged"
            raise AlreadyExistsError(f"{KIND_LABELS[kind]} {name!r} was registered by someone else meanwhile; run the command again")
        with settings.stored_secrets(validated, pending) as stored:
            session.add_component(kind, name, flavor, stored)
        record = session.get_component(kind, name)
    assert record is not None
    return record, "registered"


def update_component(
    kind: str, name: str, changes: Mapping[str, Any], *, flavor: str | None = None, verify: bool = True,
    expected_version: int | None = None, replace: bool = False,
) -> tuple[ComponentRecord, ComponentRecord]:
    """Change some settings (``None`` leaves a setting as it is); returns (before, after).

    ``expected_version`` (what a form read) refuses the change if someone changed the
    component since; without it the changes apply on top of the current settings (with
    ``replace``, ``changes`` are all its settings: what it does not name goes back to defaults)."""
    repo, registry = open_repository(create=True)
    raw = {k: v for k, v in changes.items() if v is not None}

    def plan(session: Session) -> tuple[ComponentRecord, str, dict[str, Any], dict[str, str]]:
        before = _component(session, kind, name)
        if expected_version is not None and before.version != expected_version:
            raise changed_since(f"{KIND_LABELS[kind]} {name!r}", before)
        new_flavor = flavor or before.flavor
        if new_flavor != before.flavor:
            settings.check_flavor(kind, new_flavor)
        base = dict(before.config) if new_flavor == before.flavor and not replace else {}
        merged = {**base, **settings.local_paths(kind, new_flavor, repo, raw)}
        return (before, new_flavor, *settings.validate(kind, new_flavor, name, merged))

    if verify:  # before taking the write lock: a network check may take seconds
        with registry.read() as session:
            _, new_flavor, validated, pending = plan(session)
        settings.verify(repo, kind, new_flavor, name, validated, pending)
    with registry.write() as session:
        before, new_flavor, validated, pending = plan(session)
        candidate = ComponentRecord(kind, name, new_flavor, validated)
        for stack_name in session.stacks_using(kind, name):
            stack = _stack(session, stack_name)
            parts = {k: _component(session, k, stack.components[k]) for k in KINDS}
            validate_stack(stack_name, {**parts, kind: candidate})
        with settings.stored_secrets(validated, pending, keep=before.config) as stored:
            if (new_flavor, stored) != (before.flavor, before.config):  # e.g. only your own password behind a shared reference
                session.update_component(kind, name, new_flavor, stored, expected_version=before.version)
        after = _component(session, kind, name)
    settings.drop_secrets(before.config, after.config)
    return before, after


def delete_component(kind: str, name: str) -> ComponentRecord:
    with _writable().write() as session:
        record = _component(session, kind, name)
        users = session.stacks_using(kind, name)
        if users:
            raise InUseError(
                f"{KIND_LABELS[kind]} {name!r} is used by stack(s) {', '.join(users)}; point them "
                f"at another with `stack update STACK --{kind} OTHER` or delete them first"
            )
        session.delete_component(kind, name)
    settings.drop_secrets(record.config)
    return record


def test_component(kind: str, name: str | None = None) -> tuple[ComponentRecord, str, float]:
    """Reach a store now: (component, what answered, milliseconds), or a classified error."""
    repo, _ = open_repository()
    record, _ = get_component(kind, name)
    check = behaviour(kind, record.flavor, "check")
    if check is None:
        raise UsageError(f"there is nothing to test for {KIND_LABELS[kind]}s: they run in this process")
    return (record, *check(record, repo))


def artifact_store(name: str | None = None) -> ArtifactStore:
    """The artifact store of the active stack (or the named component), ready to use."""
    from .components.artifacts import open_artifact_store

    repo, _ = open_repository()
    record, _ = get_component("artifact_store", name)
    return open_artifact_store(record, repo)


def list_artifacts(path: str = "", *, offset: int = 0, limit: int = 100, store: str | None = None) -> Listing:
    """One page of a folder in an artifact store (default: the active stack's); ``path`` as for
    :func:`preview_artifact`."""
    opened = artifact_store(store)
    return opened.list(opened.path_of(path) if path else path, offset=offset, limit=limit)


def stop_orchestrator(name: str | None = None) -> str:
    """Release what this process started for an orchestrator (a local Dask cluster); in words."""
    record, _ = get_component("orchestrator", name)
    stop = behaviour("orchestrator", record.flavor, "stop")
    if stop is None:
        raise UsageError(f"orchestrator {record.name!r} ({record.flavor}) runs steps in this process; there is nothing to stop")
    message: str = stop(record)
    return message


def _release_clusters() -> None:
    """After the active stack changed: close the local Dask clusters this process started
    that it no longer uses (never a scheduler the user runs)."""
    clusters = sys.modules.get("zenml_notebook.pipelines.clusters")
    if clusters is None or not clusters.running():
        return
    try:
        keep = resolve_stack().components["orchestrator"]
    except ZenMLError:
        return
    clusters.release_unused(keep.config if behaviour("orchestrator", keep.flavor, "stop") is not None else None)


def clean_artifacts(*, store: str | None = None) -> list[str]:
    """Remove the temp files of killed writers from an artifact store; returns their paths."""
    return artifact_store(store).clean()


def preview_artifact(path: str, *, store: str | None = None) -> Preview:
    """A size-capped preview of an artifact (never deserialised): a path inside the store, or
    an artifact URI as `runs describe` prints it (refused outside the store)."""
    opened = artifact_store(store)
    return opened.preview(opened.path_of(path))


# -- stacks --------------------------------------------------------------------
def _resolve_parts(session: Session, components: Mapping[str, str]) -> dict[str, ComponentRecord | None]:
    return {k: _component(session, k, components[k]) if components.get(k) else None for k in KINDS}


def register_stack(
    name: str,
    metadata_store: str,
    artifact_store: str,
    orchestrator: str,
    *,
    activate: bool = False,
    update: bool = False,
) -> tuple[StackRecord, str]:
    """Register a stack; idempotent like :func:`register_component` (the same components:
    "unchanged"; others: refused, or with ``update`` pointed at these: "updated")."""
    check_name("stack", name)
    wanted = {"metadata_store": metadata_store, "artifact_store": artifact_store, "orchestrator": orchestrator}
    with _writable().write() as session:
        before = session.get_stack(name)
        if before is not None and before.components != wanted and not update:
            differ = ", ".join(f"{KIND_LABELS[k]} {before.components[k]!r}" for k in KINDS if before.components[k] != wanted[k])
            raise AlreadyExistsError(
                f"stack {name!r} already exists with other components (its {differ}); change it with `stack update {name} ...`, "
                "or add --update to register it with these components"
            )
        validate_stack(name, _resolve_parts(session, wanted))
        if before is None:
            session.add_stack(name, wanted)
        elif before.components != wanted:
            session.update_stack(name, wanted, expected_version=before.version)
        if activate:
            session.set_active(name)
        outcome = "registered" if before is None else "unchanged" if before.components == wanted else "updated"
        return _stack(session, name), outcome


def update_stack(name: str, *, expected_version: int | None = None, **changes: str | None) -> tuple[StackRecord, StackRecord]:
    """Point a stack at other components; ``expected_version`` as for :func:`update_component`."""
    unknown = set(changes) - set(KINDS)
    if unknown:
        raise UsageError(f"unknown stack part(s) {', '.join(sorted(unknown))}; use {', '.join(KINDS)}")
    with _writable().write() as session:
        before = _stack(session, name)
        if expected_version is not None and before.version != expected_version:
            raise changed_since(f"stack {name!r}", before)
        wanted = {**before.components, **{k: v for k, v in changes.items() if v}}
        validate_stack(name, _resolve_parts(session, wanted))
        if wanted != before.components:
            session.update_stack(name, wanted, expected_version=before.version)
        after = _stack(session, name)
    _release_clusters()
    return before, after


def set_active_stack(name: str) -> StackRecord:
    with _writable().write() as session:
        record = _stack(session, name)
        validate_stack(name, _resolve_parts(session, record.components))
        session.set_active(name)
    _release_clusters()
    override = os.environ.get(ENV_STACK)
    if override and override != name:
        warnings.warn(
            f"${ENV_STACK}={override} still overrides the active stack in this process; "
            f"unset it to use {name!r}",
            ZenMLWarning,
            stacklevel=2,
        )
    return record


def rename_stack(old: str, new: str) -> StackRecord:
    check_name("stack", new)
    with _writable().write() as session:
        _stack(session, old)
        if session.get_stack(new) is not None:
            raise AlreadyExistsError(f"stack {new!r} already exists; pick another name")
        session.rename_stack(old, new)
        return _stack(session, new)


def copy_stack(source: str, target: str) -> StackRecord:
    check_name("stack", target)
    with _writable().write() as session:
        record = _stack(session, source)
        if session.get_stack(target) is not None:
            raise AlreadyExistsError(f"stack {target!r} already exists; pick another name")
        session.add_stack(target, record.components)
        return _stack(session, target)


def delete_stack(name: str) -> StackRecord:
    with _writable().write() as session:
        record = _stack(session, name)
        if name in (session.get_active(), os.environ.get(ENV_STACK)):
            raise InUseError(
                f"stack {name!r} is the active stack; switch to another with "
                "`stack set OTHER` before deleting it"
            )
        session.delete_stack(name)
        return record


# -- export / import -------------------------------------------------------------
EXPORT_VERSION = 1


def export_stack(name: str | None = None) -> str:
    """YAML for a stack and its components; secrets stay references."""
    import yaml

    desc = describe_stack(name)
    doc = {
        "zenml_notebook_stack": EXPORT_VERSION,
        "name": desc.stack.name,
        "components": {
            kind: {"name": c.name, "flavor": c.flavor, "config": c.config}
            for kind, c in desc.components.items()
        },
    }
    text: str = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)
    return text


def import_stack(text: str, source: str, *, name: str | None = None) -> StackRecord:
    """Create a stack (and the components it needs) from an export; all or nothing."""
    from ._import import parse_export

    doc = parse_export(text, source)
    stack_name = check_name("stack", name or doc.name)
    with _writable().write() as session:
        if session.get_stack(stack_name) is not None:
            raise AlreadyExistsError(
                f"stack {stack_name!r} already exists; import under another name with --name"
            )
        for kind, part in doc.components.items():
            where = f"{source}: components.{kind}"
            existing = session.get_component(kind, part.name)
            validated, pending = _validate_config_in(where, kind, part.flavor, part.name, part.config)
            if pending:
                raise UsageError(
                    f"{where}.config holds a plain secret ({', '.join(pending)}); exports carry "
                    "references only - set the value with the component's `update` command"
                )
            if existing is None:
                session.add_component(kind, part.name, part.flavor, validated)
            elif (existing.flavor, existing.config) != (part.flavor, validated):
                raise AlreadyExistsError(
                    f"{where}: {KIND_LABELS[kind]} {part.name!r} already exists with other "
                    "settings; rename it in the file or delete the existing one"
                )
        wanted = {k: p.name for k, p in doc.components.items()}
        validate_stack(stack_name, _resolve_parts(session, wanted))
        session.add_stack(stack_name, wanted)
        return _stack(session, stack_name)


def _validate_config_in(
    where: str, kind: str, flavor: str, name: str, config: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    try:
        check_name(KIND_LABELS[kind], name)
        config_model(kind, flavor)
        return settings.validate(kind, flavor, name, config)
    except (UsageError, NotFoundError) as exc:
        raise UsageError(f"{where}: {exc}") from None


# -- the seed's `config` commands ---------------------------------------------------
@dataclass(frozen=True)
class ConfigChange:
    stack: str
    kind: str
    before: ComponentRecord
    after: ComponentRecord
    action: str  # "registered", "updated", "reused", "unchanged"


def config_get(kind: str) -> ComponentRecord:
    return get_component(kind)[0]


def config_set(kind: str, flavor: str, config: Mapping[str, Any], *, verify: bool = True) -> ConfigChange:
    """Point the active stack's ``kind`` at a component with these settings.

    Reuses an identical component; updates ``<stack>-<flavor>`` in place when only
    this stack uses it; otherwise registers a new component, so stacks that share
    the current one are never changed behind their back.
    """
    settings.check_flavor(kind, flavor)
    repo, registry = open_repository(create=True)
    raw = settings.local_paths(kind, flavor, repo, dict(config))
    stack_name = active_stack_name()
    validated, pending = settings.validate(kind, flavor, f"{stack_name}-{flavor}", raw)
    if verify:  # before taking the write lock: a network check may take seconds
        settings.verify(repo, kind, flavor, f"{stack_name}-{flavor}", validated, pending)
    with registry.write() as session:
        stack = _stack(session, _active(session))
        before = _component(session, kind, stack.components[kind])
        target: ComponentRecord | None = None
        action = "registered"
        if not pending:
            same = [c for c in session.list_components(kind) if (c.flavor, c.config) == (flavor, validated)]
            target = next((c for c in same if c.name == before.name), same[0] if same else None)
            if target is not None:
                action = "unchanged" if target.name == before.name else "reused"
        replaced: ComponentRecord | None = None
        if target is None:
            base, suffix = f"{stack.name}-{flavor}", 1
            name = base
            while (existing := session.get_component(kind, name)) is not None:
                if session.stacks_using(kind, name) in ([], [stack.name]):
                    replaced, action = existing, "updated"
                    break
                suffix += 1
                name = f"{base}-{suffix}"
            candidate = ComponentRecord(kind, name, flavor, validated)
        else:
            candidate = target
        parts = _resolve_parts(session, {k: v for k, v in stack.components.items() if k != kind})
        validate_stack(stack.name, {**parts, kind: candidate})
        if target is None:
            with settings.stored_secrets(validated, pending) as stored:
                if replaced is None:
                    session.add_component(kind, candidate.name, flavor, stored)
                else:
                    session.update_component(kind, candidate.name, flavor, stored)
        target = _component(session, kind, candidate.name)
        session.update_stack(stack.name, {**stack.components, kind: target.name})
    if replaced is not None:
        settings.drop_secrets(replaced.config, target.config)
    if kind == "orchestrator":
        _release_clusters()
    return ConfigChange(stack.name, kind, before, target, action)


# -- the shared registry ----------------------------------------------------------------
@dataclass(frozen=True)
class RegistryStatus:
    """Where a repository's stacks and components live, and whether that answers now."""

    kind: str  # "local" or "shared"
    url: str  # the file, or mysql://user@host:port/db (never a password)
    stale: bool = False  # answered from this repository's last copy (the server is down)
    password: str = ""  # how the password is given (masked), for a shared registry
    stacks: int = 0
    components: int = 0
    error: str = ""  # why the shared registry did not answer


def change_token() -> str:
    """A short string that changes when anything the sidebar shows changes: the registry
    (stacks, components, the active stack) or the active stack's runs (started, a step
    recorded, ended, deleted). Cheap: one registry read and two one-row metadata queries."""
    from .components.metadata import open_metadata_store

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
    from .secrets import describe_ref

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
    from .registry.shared import Connection
    from .registry.team import password_of
    from .secrets import is_ref, resolve

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
    """Keep this repository's stacks and components in a shared MySQL/MariaDB registry.

    The server is checked first (classified errors, nothing saved on failure); its tables are
    created (with a 'default' stack) or migrated. ``.zenml/`` records the URL and a secret
    *reference*; the active stack stays this repository's own. Returns the status and notes."""
    from . import secrets as secret_store
    from .registry.shared import Connection
    from .registry.team import reach

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
    from . import secrets as secret_store
    from .registry.team import COPY_FILENAME

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
    from .registry.shared import Connection
    from .registry.team import copy_into, reach
    from .secrets import is_ref

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
