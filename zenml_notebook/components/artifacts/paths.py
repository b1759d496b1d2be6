"""The one resolver every artifact path goes through: it keeps a path inside its store.

Rules (SECURITY.md 1-7): URL-decoding is repeated until the text is stable, then
absolute paths, schemes, Windows drive and UNC forms, backslashes, control characters
and ``..`` segments are refused; local paths are resolved and compared with
``is_relative_to`` (never ``startswith``) and symlinks are not followed.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote

from ...exceptions import UsageError

__all__ = ["clean_parts", "local_target"]

MAX_PATH = 4096  # PATH_MAX; object stores allow 1024-byte keys, so this refuses nothing real
MAX_NAME = 255  # NAME_MAX: one folder or file name
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_CONTROL = re.compile(r"[\x00-\x1f]")


def clean_parts(path: str, *, remote: bool = False) -> list[str]:
    """The segments of a store-relative path, or a UsageError naming what is wrong."""
    if len(path) > MAX_PATH:
        raise UsageError(f"path {path!r} is too long ({len(path)} characters; at most {MAX_PATH}); give a shorter path inside the store")
    text = path
    for _ in range(8):  # %252e%252e -> %2e%2e -> ..
        decoded = unquote(text) if "%" in text else text
        if decoded == text:
            break
        text = decoded
    else:
        raise UsageError(f"path {path!r} is encoded too many times; give a plain path inside the store")
    if _CONTROL.search(text):
        raise UsageError(f"path {path!r} contains control characters; give a plain path inside the store")
    if "\\" in text:
        raise UsageError(f"path {path!r} contains a backslash; use '/' between folders, inside the store")
    if text.startswith("/") or _SCHEME.match(text):
        raise UsageError(f"path {path!r} is absolute or has a scheme; give a path relative to the store's root")
    if remote and any(ch in text for ch in "?#"):
        raise UsageError(f"path {path!r} contains '?' or '#'; give a plain path inside the store")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    long = next((p for p in parts if len(p.encode()) > MAX_NAME), None)
    if long is not None:
        raise UsageError(f"path {path!r} has a name of {len(long.encode())} bytes (at most {MAX_NAME}); give shorter names")
    if ".." in parts:
        raise UsageError(f"path {path!r} leaves the store ('..'); give a path inside the store")
    return parts


def local_target(root: Path, parts: list[str], *, real_root: Path | None = None) -> Path:
    """``root/parts``, refusing anything that resolves outside ``root`` or through a symlink.

    ``real_root`` is ``root`` already resolved (a store resolves it once): then only the parts
    below it are looked at, one ``lstat`` each, instead of resolving the whole path again.
    """
    shown = "/".join(parts) or "."
    if real_root is None:
        real_root = root.resolve()
        candidate = real_root.joinpath(*parts)
        resolved = Path(os.path.realpath(candidate))
        if not resolved.is_relative_to(real_root):
            raise UsageError(f"path {shown!r} resolves outside the artifact store; symlinks out of the store are not followed")
        if resolved != candidate or candidate.is_symlink():
            raise UsageError(f"path {shown!r} goes through a symlink; symlinks in the artifact store are not followed")
        return candidate
    current = str(real_root)
    for part in parts:  # clean_parts has refused '..', absolute parts and separators
        current = f"{current}/{part}" if current != "/" else f"/{part}"
        if os.path.islink(current):
            if not Path(os.path.realpath(current)).is_relative_to(real_root):
                raise UsageError(f"path {shown!r} resolves outside the artifact store; symlinks out of the store are not followed")
            raise UsageError(f"path {shown!r} goes through a symlink; symlinks in the artifact store are not followed")
    return Path(current)
