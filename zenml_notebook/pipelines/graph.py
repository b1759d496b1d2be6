"""The graph a pipeline function builds: nodes (step calls) wired by output references.

Shared by the DSL that builds it (:mod:`.dsl`) and the runner that executes it
(:mod:`.runner`), so neither imports the other for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..exceptions import UsageError

if TYPE_CHECKING:
    from .dsl import Step

__all__ = ["Graph", "Node", "OutputRef"]


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


@dataclass
class Node:
    name: str
    step: Step
    inputs: dict[str, OutputRef]
    params: dict[str, Any]

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
        node = Node(name, step, inputs, params)
        self.nodes[name] = node
        return node

    def order(self) -> list[Node]:
        """The order steps were called in: always topological, since a step can only
        receive outputs of steps called before it (Dask still runs independent ones at once)."""
        return list(self.nodes.values())
