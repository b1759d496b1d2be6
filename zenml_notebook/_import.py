"""Parsing a stack export (YAML) into a checked document; errors name the bad field."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from .exceptions import UsageError
from .kinds import KINDS, TABLE

__all__ = ["MAX_ALIASES", "MAX_BYTES", "MAX_DEPTH", "nesting_depth", "parse_export", "read_export"]

MAX_BYTES = 1 << 20  # an export is about 1 KB; a megabyte leaves room and refuses floods
MAX_ALIASES = 100  # exports use none; "billion laughs" files use them to expand exponentially
MAX_DEPTH = 64  # an export nests 4 levels; PyYAML's scanner is quadratic in depth and its composer recursive


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


def nesting_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """How deeply a YAML text nests (flow brackets, indentation levels and compact "- " entries),
    in one linear pass with no parser; stops counting once past ``limit``. Approximate where
    YAML is subtle (a bracket inside a plain scalar counts), never low for real nesting."""
    depth = flow = 0
    indents: list[int] = []
    quote = ""
    at_line_start, indent, lead = True, 0, ""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                if quote == "'" and text.startswith("''", i):
                    i += 2
                    continue
                quote = ""
            i += 1
            continue
        if at_line_start:
            if ch == " ":
                indent += 1
                i += 1
                continue
            if ch in "\n\r#":
                at_line_start = ch != "#" or at_line_start
                if ch == "#":
                    i = text.find("\n", i)
                    i = n if i < 0 else i
                    indent = 0
                    continue
                indent = 0
                i += 1
                continue
            at_line_start = False
            if not flow:
                while indents and indents[-1] >= indent:
                    indents.pop()
                indents.append(indent)
                compact = 0
                while text.startswith(("- ", "? "), i) or text[i : i + 2] in ("-\n", "?\n"):
                    compact += 1
                    i += 2
                    while i < n and text[i] == " ":
                        i += 1
                depth = max(depth, len(indents) + compact)
                if depth > limit:
                    return depth
                lead = ""
                continue
        if ch == "\n":
            at_line_start, indent, lead = True, 0, ""
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif ch in "'\"" and lead in ("", ":", ",", "[", "{", "-", "?"):
            quote = ch
        elif ch in "[{":
            flow += 1
            depth = max(depth, len(indents) + flow)
            if depth > limit:
                return depth
        elif ch in "]}":
            flow = max(flow - 1, 0)
        if ch not in " \t":
            lead = ch
        i += 1
    return depth


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


class _ComponentsBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def items(self) -> list[tuple[str, _Part]]:
        return [(k, getattr(self, k)) for k in KINDS if getattr(self, k) is not None]


# one field per component kind (kinds.py); an optional kind's may be left out (older exports)
if TYPE_CHECKING:
    _Components = _ComponentsBase
else:
    _Components = create_model("_Components", __base__=_ComponentsBase, **{k.name: (_Part, ...) if k.required else (_Part | None, None) for k in TABLE})


class _Export(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    zenml_notebook_stack: Literal[1]
    name: str
    components: _Components


def parse_export(text: str, source: str) -> _Export:
    import yaml

    if len(text) > MAX_BYTES:
        raise UsageError(f"{source} is {len(text)} characters, more than a stack export can be ({MAX_BYTES}); check the file")
    if nesting_depth(text) > MAX_DEPTH:  # before any parser sees it: PyYAML would take minutes, or recurse past the stack
        raise UsageError(f"{source} nests more than {MAX_DEPTH} levels deep; a stack export nests 4; fix the file")
    try:
        _count_aliases(text, source)
        data = yaml.safe_load(text)
    except RecursionError:
        raise UsageError(f"{source} nests too deeply to read; a stack export nests 4 levels; fix the file") from None
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
