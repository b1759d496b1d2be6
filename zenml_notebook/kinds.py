"""The component kinds a stack is made of, as data: one table that the registry's schema, the
flavor table, the commands, the forms, REST, the environment overrides and the export format
read. Adding a kind is a row here (plus its flavors in :mod:`.flavors` and their config models);
see ARCHITECTURE.md, "Add a component kind".

The lowest module of the package: it imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = ["ALIASES", "COMMAND_OF_KIND", "ENV_OF_KIND", "KINDS", "KIND_LABELS", "TABLE", "Kind"]


@dataclass(frozen=True)
class Kind:
    name: str  # as stored: registry column, export key, REST field
    label: str  # in messages: "metadata store"
    noun: str  # the command group: `%zenml metadata ...`
    required: bool  # every stack has one
    default_flavor: str  # what the 'default' stack of a new repository uses
    default_config: MappingProxyType[str, Any]  # and with which settings (paths relative to the repository)
    env: str  # the variable that overrides it for one process
    flag: str = ""  # its short option in `stack register/update` ("-m"), if any
    aliases: tuple[str, ...] = ()  # other spellings a user may type for it (the first hyphenated one is a command alias)


TABLE: tuple[Kind, ...] = (
    Kind("metadata_store", "metadata store", "metadata", True, "sqlite", MappingProxyType({"uri": ".zenml/metadata.db"}),
         "ZENML_NOTEBOOK_METADATA_STORE", "-m", ("metadata-store", "metadata")),
    Kind("artifact_store", "artifact store", "artifacts", True, "local", MappingProxyType({"path": ".zenml/artifacts"}),
         "ZENML_NOTEBOOK_ARTIFACT_STORE", "-a", ("artifact-store", "artifacts", "artifact")),
    Kind("orchestrator", "orchestrator", "orchestrator", True, "local", MappingProxyType({}),
         "ZENML_NOTEBOOK_ORCHESTRATOR", "-o", ("orchestrators",)),
)

KINDS: tuple[str, ...] = tuple(k.name for k in TABLE)
KIND_LABELS = MappingProxyType({k.name: k.label for k in TABLE})
COMMAND_OF_KIND = MappingProxyType({k.name: k.noun for k in TABLE})
ENV_OF_KIND = MappingProxyType({k.name: k.env for k in TABLE})
ALIASES = MappingProxyType({alias: k.name for k in TABLE for alias in (k.name, *k.aliases)})
