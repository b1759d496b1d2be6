"""The Jupyter server extension: thin authenticated REST handlers over :mod:`zenml_notebook.api`.

Loaded by jupyter_server only (the kernel never imports tornado).
"""

from __future__ import annotations

from typing import Any

__all__ = ["_jupyter_server_extension_points", "_load_jupyter_server_extension"]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "zenml_notebook.server"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from .handlers import setup_handlers

    setup_handlers(serverapp.web_app)
    serverapp.log.info("zenml_notebook server extension loaded")
