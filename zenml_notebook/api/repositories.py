"""Where a repository is: finding, creating and opening it (only `init`, a typed command or a
write creates one; reads never do)."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from ..exceptions import (
    NoRepositoryError,
    UsageError,
    ZenMLError,
    ZenMLNotice,
)
from ..flavors import KINDS
from ..kinds import TABLE
from ..registry import (
    AnyRegistry,
    Registry,
    Session,
    open_registry,
)
from ..repository import Repository, find_repository

if TYPE_CHECKING:

    pass

__all__ = ['ensure_repository', 'init', 'open_repository']

DEFAULT_NAME = "default"


# -- repository --------------------------------------------------------------
def _seed_default_stack(session: Session) -> None:
    """The 'default' stack, from the kinds table's defaults; its paths are relative, so in a
    shared registry it is each repository's own local stack."""
    for kind in TABLE:
        session.add_component(kind.name, DEFAULT_NAME, kind.default_flavor, dict(kind.default_config))
    session.add_stack(DEFAULT_NAME, dict.fromkeys(KINDS, DEFAULT_NAME))


def _seed_defaults(session: Session) -> None:
    _seed_default_stack(session)
    session.set_active(DEFAULT_NAME)


def _create(repo: Repository) -> bool:
    fresh = not repo.zenml_dir.exists()
    repo.create_dir()
    try:
        return Registry.open(repo.registry_path).create_new(seed=_seed_defaults)
    except ZenMLError:
        if fresh:  # leave no half-made repository behind (e.g. a full or read-only disk)
            shutil.rmtree(repo.zenml_dir, ignore_errors=True)
        raise


def init(path: str | Path | None = None) -> tuple[Repository, bool]:
    """Create a repository at ``path`` (default: cwd); False when one was already there."""
    root = Path(path).expanduser().resolve() if path else Path.cwd().resolve()
    if not root.parent.is_dir():  # like `git init`: the folder itself may be new, not a whole chain
        raise UsageError(f"cannot create {root}: the folder {root.parent} does not exist; create it first, or pick another path")
    if root.exists() and not root.is_dir():
        raise UsageError(f"cannot create a repository in {root}: it is a file; pick a folder")
    repo = Repository(root)
    if repo.exists():
        Registry.open(repo.registry_path).create()  # migrates; validates the file
        return repo, False
    return repo, _create(repo)


def open_repository(*, create: bool = False) -> tuple[Repository, AnyRegistry]:
    """The repository of the working directory.

    Reads never write: without ``create`` a folder with no repository raises
    RepositoryError (front ends answer their empty state). Only ``init`` and the commands a
    user types (:func:`ensure_repository`) create one.
    """
    repo, exists = find_repository()
    if not exists:
        if not create:
            raise NoRepositoryError(
                f"no zenml-notebook repository in {repo.root} or any folder above it; run "
                "`%zenml init` (or any `%zenml` command) there first"
            )
        ensure_repository()
    return repo, open_registry(repo)


def ensure_repository() -> tuple[Repository, bool]:
    """Create the working directory's repository if there is none (with a one-line notice);
    called once per command a user types, and by pipeline runs, never by reads."""
    repo, exists = find_repository()
    if not exists and _create(repo):
        warnings.warn(
            f"initialised a new zenml-notebook repository in {repo.root} "
            "(stack 'default': sqlite metadata, local artifacts, local orchestrator)",
            ZenMLNotice,
            stacklevel=3,
        )
        return repo, True
    return repo, False


def _registry() -> AnyRegistry:
    """The registry, for reading: a folder without a repository raises, nothing is created."""
    return open_repository()[1]


def _writable() -> AnyRegistry:
    """The registry, for a change: a user's (or a program's) write may create the repository."""
    return open_repository(create=True)[1]

