"""One root exception; every subclass also inherits the matching built-in.

Every message names the object that failed and how to fix it. Messages pass
through :func:`redact` so a secret typed in this process never reaches a user
through an error.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

__all__ = [
    "AlreadyExistsError",
    "ConflictError",
    "InUseError",
    "MissingDependencyError",
    "NoRepositoryError",
    "NotFoundError",
    "PipelineRunError",
    "RegistryBusyError",
    "RegistryError",
    "RepositoryError",
    "SecretError",
    "StackValidationError",
    "StoreConnectionError",
    "StoreCredentialsError",
    "StoreMissingError",
    "StoreUnavailableError",
    "UsageError",
    "ZenMLError",
    "ZenMLNotice",
    "ZenMLWarning",
    "http_status",
    "redact",
    "remember_secret",
]

MASK = "********"
_KNOWN_SECRETS: set[str] = set()


def remember_secret(value: str) -> None:
    """Register a secret value so that any later error message masks it.

    Values shorter than 6 characters are not redacted: masking every "abc" would
    garble ordinary messages, and our messages never quote a secret on purpose.
    """
    if len(value) >= 6:
        _KNOWN_SECRETS.add(value)


def redact(text: str) -> str:
    """Replace every secret value seen in this process by ``********``."""
    for secret in sorted(_KNOWN_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class ZenMLWarning(UserWarning):
    """Something worked but the user should know (printed as one ``warning: ...`` line)."""


class ZenMLNotice(ZenMLWarning):
    """Information, not a problem (e.g. "initialised a new repository"): in a notebook a plain
    output line, not a red stderr box; in a terminal still on stderr, out of piped output."""


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None, line: str | None = None) -> None:
    """ZenMLWarnings print as one ``warning: ...`` line, not with a source location."""
    if isinstance(category, type) and issubclass(category, ZenMLNotice) and file is None and _in_kernel():
        print(message)
        return
    if isinstance(category, type) and issubclass(category, ZenMLWarning):
        print(f"warning: {message}", file=file or sys.stderr)
        return
    _show_others(message, category, filename, lineno, file, line)


def _in_kernel() -> bool:
    """True inside an IPython shell (a kernel), without importing IPython."""
    shell = sys.modules.get("IPython")
    return shell is not None and getattr(shell, "get_ipython", lambda: None)() is not None


_show_others = warnings.showwarning
warnings.showwarning = _show_warning


def bound(text: str, *, token: int = 200, total: int = 2000) -> str:
    """Cut what a user typed when a message quotes it: a 10 000-character name is shown by its
    start and length, and no message grows without bound (``repr`` of unbounded input).
    Messages are one line: the few that list several problems join them with "; "."""
    import re

    def cut(match: re.Match[str]) -> str:
        word = match.group(0)
        return f"{word[:60]}...({len(word)} characters)"

    # control and bidi-format characters a user typed are shown escaped: a message stays one
    # line, and cannot reorder what the terminal shows
    text = re.sub(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]", lambda m: repr(m.group(0))[1:-1], text)
    text = re.sub(rf"\S{{{token + 1},}}", cut, text)
    return text if len(text) <= total else f"{text[:total]}... ({len(text)} characters in all)"


class ZenMLError(Exception):
    """Root of every error zenml-notebook raises on purpose."""

    def __init__(self, message: str) -> None:
        message = bound(redact(message))
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(ZenMLError, ValueError):
    """A command line or argument the user typed is wrong."""


class NotFoundError(ZenMLError, KeyError):
    """A stack, component, flavor or secret does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class AlreadyExistsError(ZenMLError, ValueError):
    """A name is already taken."""


class InUseError(ZenMLError, ValueError):
    """An object cannot be removed because something still uses it."""


class StackValidationError(ZenMLError, ValueError):
    """A stack's components do not work together."""


class RepositoryError(ZenMLError, OSError):
    """The ``.zenml`` folder is missing, unreadable or not writable."""


class NoRepositoryError(RepositoryError):
    """There is no repository here yet (reads answer their empty state; they never create one)."""


class ConflictError(ZenMLError, RuntimeError):
    """Someone else changed a stack or component since this change read it."""


class RegistryError(ZenMLError, RuntimeError):
    """The registry database is corrupted, too new, or cannot be written."""


class RegistryBusyError(RegistryError, TimeoutError):
    """Another writer held the shared registry's lock longer than this writer's lock timeout."""


class SecretError(ZenMLError, ValueError):
    """A secret cannot be stored or resolved."""


class StoreConnectionError(ZenMLError, ConnectionError):
    """A metadata or artifact store cannot be reached or refuses us; the message says which."""


class StoreUnavailableError(StoreConnectionError):
    """The store is unreachable, refuses connections, or stopped answering within its deadline."""


class StoreCredentialsError(StoreConnectionError):
    """The store's credentials are missing here, or the store rejects them."""


class StoreMissingError(StoreConnectionError):
    """The bucket or database does not exist (and may not be created)."""


class PipelineRunError(ZenMLError, RuntimeError):
    """A step failed (or the run was cancelled); ``run`` is the recorded run."""

    def __init__(self, message: str, run: object = None) -> None:
        super().__init__(message)
        self.run = run


class MissingDependencyError(ZenMLError, ImportError):
    """An optional dependency needed by a flavor is not installed."""


# The one table from failure class to HTTP status (the CLI exits 2 and the magic raises one
# UsageError line for all of them). Most specific first. A store's credentials failing is
# 424 "Failed Dependency", not 401/403, which a browser would read as the user's own Jupyter
# login failing; a secret this process cannot resolve is the same kind of failure.
HTTP_STATUS: tuple[tuple[type[ZenMLError], int], ...] = (
    (StoreMissingError, 404),
    (StoreCredentialsError, 424),
    (SecretError, 424),
    (StoreConnectionError, 503),
    (RegistryBusyError, 503),
    (NotFoundError, 404),
    (NoRepositoryError, 404),
    (InUseError, 409),
    (ConflictError, 409),
    (AlreadyExistsError, 409),
    (StackValidationError, 400),
    (UsageError, 400),
    (PipelineRunError, 500),
    (RegistryError, 500),
)


def http_status(exc: ZenMLError) -> int:
    """The HTTP status a front end answers for ``exc``."""
    return next((code for cls, code in HTTP_STATUS if isinstance(exc, cls)), 500)
