"""Parsing artifact-store locations: local paths, ``file://``, ``gs://``, ``s3://``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .exceptions import UsageError

__all__ = ["ArtifactURI", "is_remote_address", "parse_artifact_uri"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_WINDOWS = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")
_FLAVOR_BY_SCHEME = {"gs": "gcs", "s3": "s3"}
_FIX = "use a local path, file:///abs/path, gs://bucket/prefix or s3://bucket/prefix"


@dataclass(frozen=True)
class ArtifactURI:
    """A parsed location: ``flavor`` is ``local``, ``gcs`` or ``s3``."""

    flavor: str
    bucket: str  # empty for local
    prefix: str  # the local path, or the key prefix inside the bucket (no slashes at ends)

    def __str__(self) -> str:
        if self.flavor == "local":
            return self.prefix
        scheme = "gs" if self.flavor == "gcs" else "s3"
        return f"{scheme}://{self.bucket}/{self.prefix}".rstrip("/")


def parse_artifact_uri(uri: str) -> ArtifactURI:
    """Validate and normalise an artifact store location, or raise a one-line UsageError."""
    uri = uri.strip()
    if not uri:
        raise UsageError(f"empty artifact store path; {_FIX}")
    if any(ch in uri for ch in "\x00\n\r"):
        raise UsageError(f"artifact store path {uri!r} contains control characters; {_FIX}")
    if _WINDOWS.match(uri):
        raise UsageError(f"Windows-style path {uri!r} is not supported; {_FIX}")
    match = _SCHEME.match(uri)
    if match is None:
        return ArtifactURI("local", "", uri)
    scheme = match.group(1).lower()
    rest = uri[match.end() :]
    if scheme == "file":
        if not rest.startswith("/"):
            raise UsageError(f"{uri!r} is not an absolute file:// URI; write file:///abs/path")
        return ArtifactURI("local", "", rest)
    if scheme not in _FLAVOR_BY_SCHEME:
        raise UsageError(f"unsupported artifact store URI scheme {scheme!r} in {uri!r}; {_FIX}")
    if any(ch in rest for ch in "?#\\"):
        raise UsageError(f"{uri!r} contains '?', '#' or '\\'; {_FIX}")
    bucket, _, prefix = rest.partition("/")
    if not _BUCKET.match(bucket):
        raise UsageError(
            f"invalid bucket name {bucket!r} in {uri!r}: use 3-222 lowercase letters, digits, "
            "'-', '_' or '.'"
        )
    parts = [p for p in prefix.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise UsageError(f"{uri!r} contains '.' or '..' segments; write the prefix out in full")
    return ArtifactURI(_FLAVOR_BY_SCHEME[scheme], bucket, "/".join(parts))


def is_remote_address(address: str | None) -> bool:
    """True when a ``tcp://host:port`` address points off this machine (not loopback)."""
    if not address:
        return False
    host = urlsplit(address).hostname or ""
    return not (host in ("localhost", "::1") or host.startswith("127."))
