"""``@step`` and ``@pipeline``: plain functions, wired by calling them.

Inside a pipeline function, calling a step records it in a graph and returns
placeholders for its outputs; outside one, a step is just its function.
"""

from __future__ import annotations

import hashlib
import inspect
import typing
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, overload

from ..exceptions import UsageError
from .graph import Graph, Node, OutputRef

__all__ = ["Graph", "Node", "OutputRef", "Pipeline", "Step", "pipeline", "step"]

_BUILDING: ContextVar[Graph | None] = ContextVar("zenml_notebook_graph", default=None)


def _output_names(fn: Callable[..., Any], outputs: list[str] | None) -> list[str]:
    if outputs is not None:
        from ..validation import check_name

        if isinstance(outputs, str) or len(set(outputs)) != len(list(outputs)):
            raise UsageError(f"outputs= takes a list of distinct names, e.g. outputs=['model'] (got {outputs!r:.80})")
        return [check_name("artifact", str(o)) for o in outputs]
    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        hints = getattr(fn, "__annotations__", {})
    ret = hints.get("return", inspect.Signature.empty)
    if ret is None or ret is type(None):
        return []
    if typing.get_origin(ret) is tuple:
        args = typing.get_args(ret)
        if args and args[-1] is not Ellipsis:
            return [f"output_{i}" for i in range(len(args))]
    return ["output"]


def _given_name(what: str, name: str | None) -> str | None:
    """A name given with ``name=`` becomes folder names in the store and run names: checked like
    every other name (a function's own name is a Python identifier already)."""
    if name is None:
        return None
    from ..validation import check_name

    return check_name(what, name)


def code_hash(fn: Callable[..., Any]) -> str:
    """A hash of the function's source (works for notebook cells), else of its bytecode."""
    try:
        text = inspect.getsource(fn)
    except (OSError, TypeError):
        code = fn.__code__
        text = repr((code.co_code, code.co_consts, code.co_names))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Step:
    """A function whose outputs are stored, tracked and cached when run in a pipeline."""

    def __init__(self, fn: Callable[..., Any], *, name: str | None = None, outputs: list[str] | None = None, cache: bool = True) -> None:
        self.fn = fn
        self.name = _given_name("step", name) or fn.__name__
        self.output_names = _output_names(fn, outputs)
        # outputs named by the user are versioned artifacts: "model" version 1, 2, ... (per metadata store)
        self.versioned = outputs is not None
        self.cache = cache
        self.signature = inspect.signature(fn)
        self.code_hash = code_hash(fn)
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def __repr__(self) -> str:
        return f"<step {self.name}{self.signature}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        graph = _BUILDING.get()
        if graph is None:
            return self.fn(*args, **kwargs)
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise UsageError(f"step {self.name!r}: {exc}") from None
        bound.apply_defaults()
        inputs = {k: v for k, v in bound.arguments.items() if isinstance(v, OutputRef)}
        params = {k: v for k, v in bound.arguments.items() if not isinstance(v, OutputRef)}
        if any(isinstance(v, (list, tuple, dict)) and _has_ref(v) for v in params.values()):
            raise UsageError(f"step {self.name!r}: pass step outputs directly, not inside lists or dicts")
        node = graph.add(self, inputs, params)
        refs = [OutputRef(node.name, out) for out in self.output_names]
        if not refs:
            return None
        return refs[0] if len(refs) == 1 else tuple(refs)


def _has_ref(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return any(isinstance(v, OutputRef) or (isinstance(v, (list, tuple, dict)) and _has_ref(v)) for v in items)


class Pipeline:
    """Calling it runs its steps on the active stack (or ``stack=``) and returns the run."""

    def __init__(self, fn: Callable[..., Any], *, name: str | None = None, cache: bool = True) -> None:
        self.fn = fn
        self.name = _given_name("pipeline", name) or fn.__name__
        self.cache = cache
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def __repr__(self) -> str:
        return f"<pipeline {self.name}{inspect.signature(self.fn)}>"

    def build(self, *args: Any, **kwargs: Any) -> Graph:
        graph = Graph()
        token = _BUILDING.set(graph)
        try:
            self.fn(*args, **kwargs)
        finally:
            _BUILDING.reset(token)
        if not graph.nodes:
            raise UsageError(f"pipeline {self.name!r} calls no steps; call @step functions inside it")
        return graph

    def __call__(self, *args: Any, stack: str | None = None, cache: bool | None = None, run_name: str | None = None, **kwargs: Any) -> Any:
        from .runner import run_graph

        graph = self.build(*args, **kwargs)
        return run_graph(self.name, graph, stack=stack, cache=self.cache if cache is None else cache, run_name=run_name)

    def submit(self, *args: Any, stack: str | None = None, cache: bool | None = None, run_name: str | None = None, detach: bool = False,
               **kwargs: Any) -> Any:
        """Start a run in the background and return its :class:`~.background.RunHandle` at once
        (``.name``, ``.status``, ``.wait()``, ``.cancel()``); the notebook's next cells run meanwhile.
        With ``detach=True`` the run's driver goes to the stack's Dask cluster (see
        :mod:`.detached`): the run goes on if this process ends."""
        graph = self.build(*args, **kwargs)
        cache = self.cache if cache is None else cache
        if detach:
            from .detached import submit_detached

            return submit_detached(self.name, graph, stack=stack, cache=cache, run_name=run_name)
        from .background import submit

        return submit(self.name, graph, stack=stack, cache=cache, run_name=run_name)


@overload
def step(fn: Callable[..., Any], /) -> Step: ...
@overload
def step(*, name: str | None = None, outputs: list[str] | None = None, cache: bool = True) -> Callable[[Callable[..., Any]], Step]: ...


def step(fn: Callable[..., Any] | None = None, /, *, name: str | None = None, outputs: list[str] | None = None, cache: bool = True) -> Any:
    """Make a function a pipeline step: ``@step`` or ``@step(outputs=["train", "test"], cache=False)``."""
    if fn is not None:
        return Step(fn)
    return lambda f: Step(f, name=name, outputs=outputs, cache=cache)


@overload
def pipeline(fn: Callable[..., Any], /) -> Pipeline: ...
@overload
def pipeline(*, name: str | None = None, cache: bool = True) -> Callable[[Callable[..., Any]], Pipeline]: ...


def pipeline(fn: Callable[..., Any] | None = None, /, *, name: str | None = None, cache: bool = True) -> Any:
    """Make a function that calls steps a pipeline: ``@pipeline`` or ``@pipeline(cache=False)``."""
    if fn is not None:
        return Pipeline(fn)
    return lambda f: Pipeline(f, name=name, cache=cache)
