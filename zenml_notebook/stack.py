"""The stack as a pydantic-settings model: built in Python, read from the registry,
overridden by environment variables.

Environment variables (they win over the registry and over Python arguments, so a
process or a CI job can swap one part without touching the shared registry):

* ``ZENML_NOTEBOOK_STACK`` - the stack to use instead of the registry's active one
  (read by :func:`zenml_notebook.api.active_stack_name`);
* ``ZENML_NOTEBOOK_METADATA_STORE`` / ``ZENML_NOTEBOOK_ARTIFACT_STORE`` /
  ``ZENML_NOTEBOOK_ORCHESTRATOR`` / ``ZENML_NOTEBOOK_EXPERIMENT_TRACKER`` - a registered
  component to use in its place.
"""

from __future__ import annotations

from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

__all__ = ["Stack"]


class _ComponentsFromEnv(PydanticBaseSettingsSource):
    """The environment source, minus ``name`` (chosen via ``ZENML_NOTEBOOK_STACK`` instead)."""

    def __init__(self, inner: PydanticBaseSettingsSource) -> None:
        super().__init__(inner.settings_cls)
        self._inner = inner

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values = self._inner()
        values.pop("name", None)
        return values


class Stack(BaseSettings):
    """A stack: one registered component name per kind."""

    model_config = SettingsConfigDict(
        frozen=True, extra="forbid", env_prefix="ZENML_NOTEBOOK_", populate_by_name=True
    )

    name: str
    metadata_store: str
    artifact_store: str
    orchestrator: str
    experiment_tracker: str = "default"  # optional: the built-in tracker

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (_ComponentsFromEnv(env_settings), init_settings)

    def components(self) -> dict[str, str]:
        return {
            "metadata_store": self.metadata_store,
            "artifact_store": self.artifact_store,
            "orchestrator": self.orchestrator,
            "experiment_tracker": self.experiment_tracker,
        }

    @classmethod
    def from_registry(cls, name: str | None = None, **kwargs: Any) -> Stack:
        """The named (default: active) stack, with environment overrides applied (by
        :func:`zenml_notebook.api.resolve_stack`, the one place that applies them)."""
        from . import api

        desc = api.resolve_stack(name)
        return cls(**{**{k: c.name for k, c in desc.components.items()}, **kwargs}, name=desc.stack.name)
