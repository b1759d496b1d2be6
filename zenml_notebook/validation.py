"""Names and the stack validator (plain data, no pydantic: it runs on every activation)."""

from __future__ import annotations

import re

from .exceptions import StackValidationError, UsageError
from .flavors import KIND_LABELS
from .registry import KINDS, ComponentRecord
from .uris import is_remote_address

__all__ = ["check_name", "validate_stack"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def check_name(what: str, name: str) -> str:
    """Refuse names that need quoting anywhere (spaces, quotes, markup, shell syntax)."""
    if not _NAME.match(name):
        raise UsageError(
            f"invalid {what} name {name!r}: use 1-63 letters, digits, '-', '_' or '.', "
            "starting with a letter or digit"
        )
    return name


def validate_stack(name: str, components: dict[str, ComponentRecord | None]) -> None:
    """Raise a StackValidationError saying why the components cannot work together."""
    for kind in KINDS:
        if components.get(kind) is None:
            raise StackValidationError(
                f"stack {name!r} has no {KIND_LABELS[kind]}; give one with "
                f"--{kind} NAME (see `{kind.split('_')[0]} list`)"
            )
    orchestrator = components["orchestrator"]
    artifacts = components["artifact_store"]
    assert orchestrator is not None and artifacts is not None
    address = orchestrator.config.get("scheduler_address")
    if orchestrator.flavor == "dask" and artifacts.flavor == "local" and is_remote_address(address):
        raise StackValidationError(
            f"stack {name!r}: orchestrator {orchestrator.name!r} runs steps on the Dask "
            f"scheduler at {address}, whose workers cannot write to the local artifact store "
            f"{artifacts.name!r}; use a gs:// or s3:// artifact store, or a local Dask "
            "cluster (--n-workers)"
        )
