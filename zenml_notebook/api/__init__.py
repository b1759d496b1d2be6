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

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .artifacts import artifact_store as artifact_store
    from .artifacts import clean_artifacts as clean_artifacts
    from .artifacts import list_artifacts as list_artifacts
    from .artifacts import preview_artifact as preview_artifact
    from .components import delete_component as delete_component
    from .components import get_component as get_component
    from .components import list_components as list_components
    from .components import register_component as register_component
    from .components import stop_orchestrator as stop_orchestrator
    from .components import test_component as test_component
    from .components import update_component as update_component
    from .config import ConfigChange as ConfigChange
    from .config import config_get as config_get
    from .config import config_set as config_set
    from .registry import RegistryStatus as RegistryStatus
    from .registry import change_token as change_token
    from .registry import connect_registry as connect_registry
    from .registry import copy_registry_to as copy_registry_to
    from .registry import disconnect_registry as disconnect_registry
    from .registry import registry_location as registry_location
    from .registry import registry_status as registry_status
    from .repositories import DEFAULT_NAME as DEFAULT_NAME
    from .repositories import _seed_default_stack as _seed_default_stack
    from .repositories import ensure_repository as ensure_repository
    from .repositories import init as init
    from .repositories import open_repository as open_repository
    from .resolve import StackDescription as StackDescription
    from .resolve import active_stack_name as active_stack_name
    from .resolve import describe_stack as describe_stack
    from .resolve import get_stack_record as get_stack_record
    from .resolve import list_stacks as list_stacks
    from .resolve import resolve_stack as resolve_stack
    from .resolve import stack_components as stack_components
    from .stacks import EXPORT_VERSION as EXPORT_VERSION
    from .stacks import copy_stack as copy_stack
    from .stacks import delete_stack as delete_stack
    from .stacks import export_stack as export_stack
    from .stacks import import_stack as import_stack
    from .stacks import register_stack as register_stack
    from .stacks import rename_stack as rename_stack
    from .stacks import set_active_stack as set_active_stack
    from .stacks import update_stack as update_stack

# where each name lives; a module loads on first use of one of its names, so a cold command
# pays only for the nouns it touches
_WHERE = {
    "ConfigChange": "config",
    "DEFAULT_NAME": "repositories",
    "EXPORT_VERSION": "stacks",
    "RegistryStatus": "registry",
    "StackDescription": "resolve",
    "_seed_default_stack": "repositories",
    "active_stack_name": "resolve",
    "artifact_store": "artifacts",
    "change_token": "registry",
    "clean_artifacts": "artifacts",
    "config_get": "config",
    "config_set": "config",
    "connect_registry": "registry",
    "copy_registry_to": "registry",
    "copy_stack": "stacks",
    "delete_component": "components",
    "delete_stack": "stacks",
    "describe_stack": "resolve",
    "disconnect_registry": "registry",
    "ensure_repository": "repositories",
    "export_stack": "stacks",
    "get_component": "components",
    "get_stack_record": "resolve",
    "import_stack": "stacks",
    "init": "repositories",
    "list_artifacts": "artifacts",
    "list_components": "components",
    "list_stacks": "resolve",
    "open_repository": "repositories",
    "preview_artifact": "artifacts",
    "register_component": "components",
    "register_stack": "stacks",
    "registry_location": "registry",
    "registry_status": "registry",
    "rename_stack": "stacks",
    "resolve_stack": "resolve",
    "set_active_stack": "stacks",
    "stack_components": "resolve",
    "stop_orchestrator": "components",
    "test_component": "components",
    "update_component": "components",
    "update_stack": "stacks",
}

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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'zenml_notebook.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
