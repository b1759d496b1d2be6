"""The component kinds a stack is made of, as data: one table that the registry's schema, the
flavor table, the commands, the forms, REST, the environment overrides and the export format
read. Adding a kind is a row here (plus its flavors in :mod:`.flavors` and their config models);
see ARCHITECTURE.md, "Add a component kind".

The lowest module of the package: it imports nothing of ours.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

__all__ = ["ALIASES", "COMMAND_OF_KIND", "ENV_OF_KIND", "KINDS", "KIND_LABELS", "OPTIONAL_DEFAULT", "TABLE", "Kind"]


class Kind:
    """One component kind. (A plain class: this table is read by every cold command, and a
    dataclass would cost that command its code generation.)"""

    __slots__ = ("aliases", "default_config", "default_flavor", "env", "flag", "label", "name", "noun", "required")

    def __init__(
        self, name: str, label: str, noun: str, required: bool, default_flavor: str, default_config: MappingProxyType[str, Any],
        env: str, flag: str = "", aliases: tuple[str, ...] = (),
    ) -> None:
        self.name = name  # as stored: registry column, export key, REST field
        self.label = label  # in messages: "metadata store"
        self.noun = noun  # the command group: `%zenml metadata ...`
        self.required = required  # every stack has one
        self.default_flavor = default_flavor  # what the 'default' stack of a new repository uses
        self.default_config = default_config  # and with which settings (paths relative to the repository)
        self.env = env  # the variable that overrides it for one process
        self.flag = flag  # its short option in `stack register/update` ("-m"), if any
        self.aliases = aliases  # other spellings a user may type (a hyphenated one is also a command alias)

    def __repr__(self) -> str:
        return f"Kind({self.name!r})"


TABLE: tuple[Kind, ...] = (
    Kind("metadata_store", "metadata store", "metadata", True, "sqlite", MappingProxyType({"uri": ".zenml/metadata.db"}),
         "ZENML_NOTEBOOK_METADATA_STORE", "-m", ("metadata-store", "metadata")),
    Kind("artifact_store", "artifact store", "artifacts", True, "local", MappingProxyType({"path": ".zenml/artifacts"}),
         "ZENML_NOTEBOOK_ARTIFACT_STORE", "-a", ("artifact-store", "artifacts", "artifact")),
    Kind("orchestrator", "orchestrator", "orchestrator", True, "local", MappingProxyType({}),
         "ZENML_NOTEBOOK_ORCHESTRATOR", "-o", ("orchestrators",)),
    # optional: a stack registered without one gets the built-in tracker named 'default' (and
    # every stack of a registry older than this kind was given it by the schema 3 migration)
    Kind("experiment_tracker", "experiment tracker", "experiment-tracker", False, "builtin", MappingProxyType({}),
         "ZENML_NOTEBOOK_EXPERIMENT_TRACKER", "-e", ("experiment-tracker", "tracker", "experiment_trackers")),
)
OPTIONAL_DEFAULT = "default"  # the component an optional kind's part falls back to (created when missing)

KINDS: tuple[str, ...] = tuple(k.name for k in TABLE)
KIND_LABELS = MappingProxyType({k.name: k.label for k in TABLE})
COMMAND_OF_KIND = MappingProxyType({k.name: k.noun for k in TABLE})
ENV_OF_KIND = MappingProxyType({k.name: k.env for k in TABLE})
ALIASES = MappingProxyType({alias: k.name for k in TABLE for alias in (k.name, *k.aliases)})
