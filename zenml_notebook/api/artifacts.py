"""An artifact store of the active stack (or a named one): browse, preview, clean."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:

    from ..components.artifacts import ArtifactStore, Listing, Preview
from .components import get_component
from .repositories import open_repository

__all__ = ['artifact_store', 'clean_artifacts', 'list_artifacts', 'preview_artifact']

def artifact_store(name: str | None = None) -> ArtifactStore:
    """The artifact store of the active stack (or the named component), ready to use."""
    from ..components.artifacts import open_artifact_store

    repo, _ = open_repository()
    record, _ = get_component("artifact_store", name)
    return open_artifact_store(record, repo)


def list_artifacts(path: str = "", *, offset: int = 0, limit: int = 100, store: str | None = None) -> Listing:
    """One page of a folder in an artifact store (default: the active stack's); ``path`` as for
    :func:`preview_artifact`."""
    opened = artifact_store(store)
    return opened.list(opened.path_of(path) if path else path, offset=offset, limit=limit)


def clean_artifacts(*, store: str | None = None) -> list[str]:
    """Remove the temp files of killed writers from an artifact store; returns their paths."""
    return artifact_store(store).clean()


def preview_artifact(path: str, *, store: str | None = None) -> Preview:
    """A size-capped preview of an artifact (never deserialised): a path inside the store, or
    an artifact URI as `runs describe` prints it (refused outside the store)."""
    opened = artifact_store(store)
    return opened.preview(opened.path_of(path))

