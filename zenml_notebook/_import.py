"""Parsing a stack export (YAML) into a checked document; errors name the bad field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from .exceptions import UsageError
from .registry import KINDS

__all__ = ["parse_export"]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    flavor: str
    config: dict[str, Any] = {}


class _Components(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    metadata_store: _Part
    artifact_store: _Part
    orchestrator: _Part

    def items(self) -> list[tuple[str, _Part]]:
        return [(k, getattr(self, k)) for k in KINDS]


class _Export(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    zenml_notebook_stack: Literal[1]
    name: str
    components: _Components


def parse_export(text: str, source: str) -> _Export:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise UsageError(f"{source} is not valid YAML{where}: {problem}; fix the file") from None
    if not isinstance(data, dict):
        raise UsageError(
            f"{source} is not a stack export (expected a mapping with zenml_notebook_stack, "
            "name and components); create one with `stack export NAME FILE`"
        )
    try:
        return _Export.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = "is required" if err["type"] == "missing" else str(err["msg"]).lower()
        if err["type"] == "extra_forbidden":
            msg = "is not a known field"
        raise UsageError(f"{source}: {loc} {msg}; fix the file and import again") from None
