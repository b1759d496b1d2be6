"""The registry: which components and stacks exist, and which stack is active.

One contract, two backends (``tests/registry/test_contract.py`` runs the same suite on both):

* :mod:`.local` - ``.zenml/zenml.db`` through the standard library's ``sqlite3`` (importing
  SQLAlchemy alone would spend the whole budget of a cold ``stack list``);
* :mod:`.shared` - a team's MySQL/MariaDB or PostgreSQL database through SQLAlchemy 2 Core.
* :mod:`.dialects` - what differs between those databases (connecting, deadlines, locks, errors).

A repository connected to a shared registry (:mod:`.team`) reads and writes its components
and stacks there, and keeps locally what is personal: the active stack, secret values, and
the last copy of the shared registry it saw (shown, marked stale, when the server is down).

Every row carries an optimistic ``version`` and who changed it last (``updated_by``), so a
change based on an old read is refused instead of silently undoing someone else's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .local import Registry
from .records import (
    ENV_USER,
    KINDS,
    SCHEMA_VERSION,
    AnyRegistry,
    ComponentRecord,
    Session,
    StackRecord,
    changed_since,
    identity,
    when,
)
from .records import (
    component_from_row as component_from_row,
)
from .records import (
    cut as cut,
)
from .records import (
    now as now,
)

if TYPE_CHECKING:
    from ..repository import Repository

__all__ = [
    "ENV_USER",
    "KINDS",
    "SCHEMA_VERSION",
    "AnyRegistry",
    "ComponentRecord",
    "Registry",
    "Session",
    "StackRecord",
    "changed_since",
    "identity",
    "open_registry",
    "when",
]


def open_registry(repo: Repository) -> AnyRegistry:
    """The registry a repository uses: its own file, or the shared one it is connected to."""
    local = Registry.open(repo.registry_path)
    connection = local.connection()
    if connection is None:
        return local
    from .team import TeamRegistry

    return TeamRegistry.open(local, connection, repo)
