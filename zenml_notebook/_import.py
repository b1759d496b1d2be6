"""Parsing a stack export (YAML) into a checked document; errors name the bad field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from .exceptions import UsageError
from .registry import KINDS

__all__ = ["MAX_ALIASES", "MAX_BYTES", "parse_export", "read_export"]

MAX_BYTES = 1 << 20  # an export is about 1 KB; a megabyte leaves room and refuses floods
MAX_ALIASES = 100  # exports use none; "billion laughs" files use them to expand exponentially


def read_export(path: str) -> str:
    """The text of an export file: a regular file of at most MAX_BYTES (never a device, a FIFO
    that would block, or a file that would fill memory)."""
    import os
    import stat

    try:
        st = os.stat(path)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}; check the path") from None
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{path} is not a regular file; give a YAML stack export made by `stack export`")
    if st.st_size > MAX_BYTES:
        raise UsageError(f"{path} is {st.st_size} bytes, more than a stack export can be ({MAX_BYTES}); check the file")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}; check the path") from None
    if len(data) > MAX_BYTES:
        raise UsageError(f"{path} grew past {MAX_BYTES} bytes while being read; check the file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a UTF-8 text file; give a YAML stack export") from None


def _count_aliases(text: str, source: str) -> None:
    import yaml

    aliases = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise UsageError(f"{source} uses more than {MAX_ALIASES} YAML aliases (*name); a stack export has none; fix the file")


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

    if len(text) > MAX_BYTES:
        raise UsageError(f"{source} is {len(text)} characters, more than a stack export can be ({MAX_BYTES}); check the file")
    try:
        _count_aliases(text, source)
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
