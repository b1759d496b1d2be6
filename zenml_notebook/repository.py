"""Finding and creating the ``.zenml`` folder of a repository (like git)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from .exceptions import RepositoryError

__all__ = [
    "ENV_REPO",
    "REGISTRY_FILENAME",
    "REPO_DIRNAME",
    "Repository",
    "find_repository",
    "working_dir",
]

from .constants import ENV_REPO

REPO_DIRNAME = ".zenml"
REGISTRY_FILENAME = "zenml.db"


@dataclass(frozen=True)
class Repository:
    """A folder holding a ``.zenml`` directory."""

    root: Path

    @property
    def zenml_dir(self) -> Path:
        return self.root / REPO_DIRNAME

    @property
    def registry_path(self) -> Path:
        return self.zenml_dir / REGISTRY_FILENAME

    def exists(self) -> bool:
        return self.registry_path.is_file()

    def resolve_path(self, path: str) -> Path:
        """A stored local path: relative ones are relative to the repository root."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.root / p

    def store_path(self, path: str, cwd: Path | None = None) -> str:
        """How a user-given local path is stored: relative to the root when inside it."""
        p = Path(path).expanduser()
        if not p.is_absolute():
            p = (cwd or Path.cwd()) / p
        p = Path(os.path.normpath(p))
        try:
            return p.relative_to(self.root).as_posix() or "."
        except ValueError:
            return str(p)

    def create_dir(self) -> None:
        try:
            self.zenml_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RepositoryError(
                f"cannot create {self.zenml_dir}: {exc.strerror}; "
                f"run from a folder you can write to, or set {ENV_REPO}"
            ) from None


_START: ContextVar[Path | None] = ContextVar("zenml_notebook_start", default=None)


@contextmanager
def working_dir(path: Path) -> Iterator[None]:
    """Find repositories from ``path`` instead of the process's cwd (the Jupyter server
    serves many notebook folders from one process and must not ``chdir``)."""
    token = _START.set(path)
    try:
        yield
    finally:
        _START.reset(token)


def find_repository(start: Path | None = None) -> tuple[Repository, bool]:
    """Return the repository for ``start`` (default: cwd) and whether it exists yet.

    ``$ZENML_NOTEBOOK_REPO`` wins; otherwise walk up from ``start`` to the first
    folder with ``.zenml/zenml.db``. Without one, the candidate is ``start``
    itself (the caller initialises it).
    """
    env = os.environ.get(ENV_REPO)
    if env:
        root = Path(env).expanduser()
        if not root.is_dir():
            raise RepositoryError(
                f"{ENV_REPO}={env} is not a folder; create it or unset {ENV_REPO}"
            )
        repo = Repository(root.resolve())
        return repo, repo.exists()
    here = (start or _START.get() or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / REPO_DIRNAME / REGISTRY_FILENAME).is_file():
            return Repository(folder), True
    return Repository(here), False
