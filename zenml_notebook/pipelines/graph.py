"""The graph a pipeline function builds: nodes (step calls) wired by output references.

Shared by the DSL that builds it (:mod:`.dsl`) and the runner that executes it
(:mod:`.runner`), so neither imports the other for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..exceptions import UsageError

__all__ = ["MAX_PARAMS_BYTES", "Graph", "Node", "OutputRef", "Step"]


class Step(Protocol):
    """What the graph and its runner need of a step (the DSL's ``Step`` is one; this module never
    imports the DSL, which builds graphs from it)."""

    name: str
    fn: Callable[..., Any]
    output_names: list[str]
    code_hash: str
    cache: bool
    versioned: bool


@dataclass(frozen=True)
class OutputRef:
    """A step output inside a pipeline being built."""

    node: str
    name: str

    def __iter__(self) -> Any:
        raise UsageError(
            f"step {self.node!r} has one output; to unpack several give it a tuple[...] return "
            "annotation or @step(outputs=[...])"
        )


MAX_PARAMS_BYTES = 64 * 1024  # a step's parameters as JSON: recorded with every run and shown in every list


@dataclass
class Node:
    name: str
    step: Step
    inputs: dict[str, OutputRef]
    params: dict[str, Any]
    recorded: dict[str, Any] = field(default_factory=dict)  # the parameters as ml-metadata records them (JSON values)

    @property
    def upstream(self) -> set[str]:
        return {ref.node for ref in self.inputs.values()}


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    _next: dict[str, int] = field(default_factory=dict)  # the next suffix to try per step name

    def add(self, step: Step, inputs: dict[str, OutputRef], params: dict[str, Any]) -> Node:
        """Add a call of ``step``: named after it, then ``name_2``, ``name_3``... (linear: the
        next free suffix per step name is remembered, not searched from 2 each time)."""
        name = step.name
        if name in self.nodes:
            n = self._next.get(step.name, 2)
            while f"{step.name}_{n}" in self.nodes:
                n += 1
            name, self._next[step.name] = f"{step.name}_{n}", n + 1
        node = Node(name, step, inputs, params, _recorded(name, params))
        self.nodes[name] = node
        return node

    def order(self) -> list[Node]:
        """The order steps were called in: always topological, since a step can only
        receive outputs of steps called before it (Dask still runs independent ones at once)."""
        return list(self.nodes.values())


def _recorded(step: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters as JSON values (anything else by its repr), refused past MAX_PARAMS_BYTES
    before the run starts: they are part of every listing, so a big value belongs in an output."""
    import json

    text = json.dumps(params, sort_keys=True, default=repr)
    if len(text) > MAX_PARAMS_BYTES:
        sizes = {k: len(json.dumps(v, default=repr)) for k, v in params.items()}
        biggest = max(sizes, key=sizes.__getitem__)
        raise UsageError(
            f"parameter {biggest!r} of step {step!r} is {sizes[biggest] / 1024:.0f} KiB as JSON; parameters are recorded "
            f"with every run and shown in every list, so they may take {MAX_PARAMS_BYTES // 1024} KiB in all; pass a big "
            "value as the output of a step instead"
        )
    out: dict[str, Any] = json.loads(text)
    return out
