"""Components: register (idempotent), list, describe, update, delete, test; stopping an
orchestrator's clusters."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import settings
from ..exceptions import (
    AlreadyExistsError,
    InUseError,
    UsageError,
    ZenMLError,
)
from ..flavors import COMMAND_OF_KIND, KIND_LABELS, KINDS, behaviour
from ..registry import (
    ComponentRecord,
    Session,
    changed_since,
)
from ..validation import check_name, validate_stack

if TYPE_CHECKING:

    pass
from .repositories import _registry, _writable, open_repository
from .resolve import _component, _resolve, _stack, resolve_stack

__all__ = ['delete_component', 'get_component', 'list_components', 'register_component', 'stop_orchestrator', 'test_component', 'update_component']

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
    settings.spec(kind, flavor)  # an unknown flavor is refused before anything is created
    repo, registry = open_repository(create=True)
    prepared = settings.prepare(repo, kind, flavor, name, dict(config or {}))
    validated, pending = prepared.config, prepared.pending

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
        prepared.verify()
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

    def plan(session: Session) -> tuple[ComponentRecord, settings.Prepared]:
        before = _component(session, kind, name)
        if expected_version is not None and before.version != expected_version:
            raise changed_since(f"{KIND_LABELS[kind]} {name!r}", before)
        new_flavor = flavor or before.flavor
        base = dict(before.config) if new_flavor == before.flavor and not replace else {}
        return before, settings.prepare(repo, kind, new_flavor, name, raw, base=base)

    if verify:  # before taking the write lock: a network check may take seconds
        with registry.read() as session:
            plan(session)[1].verify()
    with registry.write() as session:
        before, prepared = plan(session)
        new_flavor, validated, pending = prepared.spec.flavor, prepared.config, prepared.pending
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
        if kind == "experiment_tracker":
            raise UsageError(f"experiment tracker {record.name!r} is the built-in one: it keeps metrics in the stack's own stores, "
                             "so there is no server to reach (test those with `metadata test` and `artifacts test`)")
        raise UsageError(f"there is nothing to test for {KIND_LABELS[kind]}s: they run in this process")
    return (record, *check(record, repo))

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

