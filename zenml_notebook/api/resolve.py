"""THE resolver: which components a stack uses here, after the environment overrides; and the
lookups every other api module shares (a missing component or stack, in words)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..constants import ENV_COMPONENT, ENV_STACK
from ..exceptions import (
    NotFoundError,
    RegistryError,
)
from ..flavors import COMMAND_OF_KIND, KIND_LABELS, KINDS, did_you_mean, flavors_of
from ..registry import (
    ComponentRecord,
    Session,
    StackRecord,
)

if TYPE_CHECKING:

    pass
from .repositories import DEFAULT_NAME, _registry

__all__ = ['StackDescription', 'active_stack_name', 'describe_stack', 'get_stack_record', 'list_stacks', 'resolve_stack', 'stack_components']

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

