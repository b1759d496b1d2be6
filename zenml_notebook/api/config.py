"""The seed's `config ... set/get`: point the active stack's component at these settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import settings
from ..registry import (
    ComponentRecord,
)
from ..validation import validate_stack

if TYPE_CHECKING:

    pass
from .components import _release_clusters, get_component
from .repositories import open_repository
from .resolve import _active, _component, _stack, active_stack_name
from .stacks import _resolve_parts

__all__ = ['ConfigChange', 'config_get', 'config_set']

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
    settings.spec(kind, flavor)  # an unknown flavor is refused before anything is created
    repo, registry = open_repository(create=True)
    stack_name = active_stack_name()
    prepared = settings.prepare(repo, kind, flavor, f"{stack_name}-{flavor}", dict(config))  # one trip to the flavor table
    validated, pending = prepared.config, prepared.pending
    if verify:  # before taking the write lock: a network check may take seconds
        prepared.verify()
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

