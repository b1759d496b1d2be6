"""zenml-notebook: a Jupyter-native MLOps stack manager.

Importing the package is cheap (no pydantic, SQLAlchemy, ml_metadata, ...):
the public names below load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "Client",
    "Stack",
    "ZenMLError",
    "__version__",
    "api",
    "load_ipython_extension",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_tag",
    "pipeline",
    "register_materializer",
    "step",
]

if TYPE_CHECKING:
    from . import api
    from ._version import __version__
    from .exceptions import ZenMLError
    from .pipelines import pipeline, register_materializer, step
    from .pipelines.metrics import log_metric, log_metrics, log_param, log_tag
    from .pipelines.runs import Client
    from .stack import Stack


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext zenml_notebook``: register the ``%zenml`` magics, and show our own errors
    raised from Python code in a cell as one line (see :func:`.magics.show_one_line`)."""
    from .exceptions import ZenMLError
    from .magics import ZenMLMagics, show_one_line

    ipython.register_magics(ZenMLMagics)
    ipython.set_custom_exc((ZenMLError,), show_one_line)


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from ._version import __version__

        return __version__
    if name == "Stack":
        from .stack import Stack

        return Stack
    if name == "ZenMLError":
        from .exceptions import ZenMLError

        return ZenMLError
    if name in ("step", "pipeline", "register_materializer"):
        from . import pipelines

        return getattr(pipelines, name)
    if name in ("log_metric", "log_metrics", "log_param", "log_tag"):
        from .pipelines import metrics

        return getattr(metrics, name)
    if name == "Client":
        from .pipelines.runs import Client

        return Client
    if name == "api":
        import importlib

        return importlib.import_module(".api", __name__)
    raise AttributeError(f"module 'zenml_notebook' has no attribute {name!r}")
