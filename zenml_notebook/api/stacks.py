"""Stacks: register (idempotent), update, activate, rename, copy, delete, export and import."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import settings
from ..constants import ENV_STACK
from ..exceptions import (
    AlreadyExistsError,
    InUseError,
    NotFoundError,
    UsageError,
    ZenMLWarning,
)
from ..flavors import KIND_LABELS, KINDS, config_model
from ..kinds import OPTIONAL_DEFAULT, TABLE
from ..registry import (
    ComponentRecord,
    Session,
    StackRecord,
    changed_since,
)
from ..validation import check_name, validate_stack

if TYPE_CHECKING:

    pass
from .components import _release_clusters
from .repositories import _writable
from .resolve import _component, _stack, describe_stack

__all__ = ['copy_stack', 'delete_stack', 'export_stack', 'import_stack', 'register_stack', 'rename_stack', 'set_active_stack', 'update_stack']

KIND_OF = {k.name: k for k in TABLE}


# -- stacks --------------------------------------------------------------------
def _resolve_parts(session: Session, components: Mapping[str, str]) -> dict[str, ComponentRecord | None]:
    return {k: _component(session, k, components[k]) if components.get(k) else None for k in KINDS}


def _with_optional(session: Session, components: Mapping[str, str | None]) -> dict[str, str]:
    """The parts of a stack, an optional kind left out (`-e` not given, an older export) filled
    with that kind's default component, which is made when missing (kinds.TABLE decides both)."""
    out = {k: v for k, v in components.items() if v}
    for kind in TABLE:
        if not kind.required and not out.get(kind.name):
            if session.get_component(kind.name, OPTIONAL_DEFAULT) is None:
                session.add_component(kind.name, OPTIONAL_DEFAULT, kind.default_flavor, dict(kind.default_config))
            out[kind.name] = OPTIONAL_DEFAULT
    return out


def register_stack(
    name: str,
    metadata_store: str,
    artifact_store: str,
    orchestrator: str,
    experiment_tracker: str | None = None,
    *,
    activate: bool = False,
    update: bool = False,
) -> tuple[StackRecord, str]:
    """Register a stack; idempotent like :func:`register_component` (the same components:
    "unchanged"; others: refused, or with ``update`` pointed at these: "updated"). Without an
    experiment tracker it gets the built-in one ('default')."""
    check_name("stack", name)
    given = {"metadata_store": metadata_store, "artifact_store": artifact_store, "orchestrator": orchestrator,
             "experiment_tracker": experiment_tracker}
    with _writable().write() as session:
        before = session.get_stack(name)
        if before is not None:  # an optional part not given keeps what the stack has (a notebook's cell run again)
            given = {k: v or (before.components.get(k) if not KIND_OF[k].required else v) for k, v in given.items()}
        wanted = _with_optional(session, given)
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
    from .._import import parse_export

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
        wanted = _with_optional(session, {k: p.name for k, p in doc.components.items()})
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

