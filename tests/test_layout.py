"""The house stays livable: no import circles inside the package, `api` keeps every public name
it ever exported, its modules stay small, the component kinds are one table that every part
reads, and ARCHITECTURE.md lists the modules that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "zenml_notebook"
ROOT = PACKAGE.parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "labextension" in path.parts:
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports, anywhere in its body (lazy imports and
    TYPE_CHECKING ones too: each is a dependency a reader has to follow). ``from pkg import name``
    is an edge to ``pkg.name`` when that is a module, else to ``pkg``."""
    modules = _modules()

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base_parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(base_parts + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in targets:
                if target.startswith("zenml_notebook"):
                    hit = known(target)
                    if hit and hit != module:
                        graph[module].add(hit)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_package_has_no_import_circles() -> None:
    graph = import_graph()
    assert len(graph) > 60 and graph["zenml_notebook.api"]  # the graph is real
    assert circles(graph) == []


def test_the_circle_finder_finds_circles() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


# What `zenml_notebook.api` exported before it became a package (0.3.0): every front end and
# every user's code may use these names; none may go.
API_0_3 = [
    "ConfigChange", "RegistryStatus", "StackDescription", "active_stack_name", "artifact_store", "change_token",
    "clean_artifacts", "config_get", "config_set", "connect_registry", "copy_registry_to", "copy_stack", "delete_component",
    "delete_stack", "describe_stack", "disconnect_registry", "ensure_repository", "export_stack", "get_component",
    "get_stack_record", "import_stack", "init", "list_artifacts", "list_components", "list_stacks", "open_repository",
    "preview_artifact", "register_component", "register_stack", "registry_location", "registry_status", "rename_stack",
    "resolve_stack", "set_active_stack", "stack_components", "stop_orchestrator", "test_component", "update_component",
    "update_stack",
]


def test_api_still_exports_every_public_name() -> None:
    from zenml_notebook import api

    assert [n for n in API_0_3 if n not in api.__all__ or not hasattr(api, n)] == []
    assert api.describe_stack is api.resolve_stack  # one resolver, whatever it is called


@pytest.mark.parametrize("path", sorted((PACKAGE / "api").glob("*.py")), ids=lambda p: p.name)
def test_api_modules_stay_small(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 300


def test_the_kinds_table_is_what_every_part_reads() -> None:
    from zenml_notebook import flavors, kinds
    from zenml_notebook.commands import build_parser
    from zenml_notebook.constants import ENV_COMPONENT
    from zenml_notebook.registry import KINDS
    from zenml_notebook.registry.local import _SCHEMA as SCHEMA

    assert KINDS == kinds.KINDS == flavors.KINDS
    assert dict(ENV_COMPONENT) == {k.name: k.env for k in kinds.TABLE}
    for kind in kinds.TABLE:
        assert f"{kind.name} INTEGER" in SCHEMA  # a column of the stacks table per kind
        assert flavors.flavors_of(kind.name), kind.name  # it has flavors
        assert kind.default_flavor in flavors.flavors_of(kind.name)
        flavors.config_model(kind.name, kind.default_flavor).model_validate(dict(kind.default_config))
        for alias in (kind.name, *kind.aliases):
            assert flavors.normalize_kind(alias) == kind.name
    nouns = set(next(a for a in build_parser("zenml-notebook")._actions if getattr(a, "choices", None)).choices)
    assert {k.noun for k in kinds.TABLE} <= nouns


def test_architecture_md_names_every_module() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    listed = set(re.findall(r"`(zenml_notebook(?:\.[a-z_]+)+|zenml_notebook)`", text))
    assert listed == set(_modules()), (sorted(set(_modules()) - listed), sorted(listed - set(_modules())))
