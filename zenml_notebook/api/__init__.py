"""The facade every front end (magic, CLI, forms, server, widgets) calls: one import,
``zenml_notebook.api``, whose modules follow the command nouns.

Functions take and return plain data (records); front ends turn them into display objects.
Every change is one registry transaction; validation happens before anything is written, so a
refused change leaves no trace. Where each part lives:

* :mod:`.repositories` - finding, creating and opening a repository;
* :mod:`.resolve` - THE resolver (which components a stack uses here) and shared lookups;
* :mod:`.components` - register, update, delete, test components;
* :mod:`.artifacts` - browse and preview an artifact store;
* :mod:`.stacks` - register, update, activate, rename, copy, delete, export, import stacks;
* :mod:`.config` - the seed's ``config ... set``;
* :mod:`.registry` - the local or shared registry (status, connect, disconnect, copy-to).
"""

from __future__ import annotations

from .artifacts import artifact_store, clean_artifacts, list_artifacts, preview_artifact
from .components import (
    delete_component,
    get_component,
    list_components,
    register_component,
    stop_orchestrator,
    test_component,
    update_component,
)
from .config import ConfigChange, config_get, config_set
from .registry import (
    RegistryStatus,
    change_token,
    connect_registry,
    copy_registry_to,
    disconnect_registry,
    registry_location,
    registry_status,
)
from .repositories import DEFAULT_NAME as DEFAULT_NAME
from .repositories import _seed_default_stack as _seed_default_stack
from .repositories import ensure_repository, init, open_repository
from .resolve import (
    StackDescription,
    active_stack_name,
    describe_stack,
    get_stack_record,
    list_stacks,
    resolve_stack,
    stack_components,
)
from .stacks import (
    EXPORT_VERSION as EXPORT_VERSION,
)
from .stacks import (
    copy_stack,
    delete_stack,
    export_stack,
    import_stack,
    register_stack,
    rename_stack,
    set_active_stack,
    update_stack,
)

__all__ = [
    "ConfigChange",
    "RegistryStatus",
    "StackDescription",
    "active_stack_name",
    "artifact_store",
    "change_token",
    "clean_artifacts",
    "config_get",
    "config_set",
    "connect_registry",
    "copy_registry_to",
    "copy_stack",
    "delete_component",
    "delete_stack",
    "describe_stack",
    "disconnect_registry",
    "ensure_repository",
    "export_stack",
    "get_component",
    "get_stack_record",
    "import_stack",
    "init",
    "list_artifacts",
    "list_components",
    "list_stacks",
    "open_repository",
    "preview_artifact",
    "register_component",
    "register_stack",
    "registry_location",
    "registry_status",
    "rename_stack",
    "resolve_stack",
    "set_active_stack",
    "stack_components",
    "stop_orchestrator",
    "test_component",
    "update_component",
    "update_stack",
]
