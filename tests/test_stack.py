"""The pydantic-settings Stack: built in Python, read from the registry, env overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.error import UsageError


def test_from_registry_and_python(repo: Path) -> None:
    from zenml_notebook import Stack, api

    api.register_component("artifact_store", "bucket", "gcs", {"path": "gs://bkt/p"}, verify=False)
    stack = Stack.from_registry()
    assert stack.model_dump() == {"name": "default", "metadata_store": "default", "artifact_store": "default", "orchestrator": "default",
                                  "experiment_tracker": "default"}
    built = Stack(name="mine", metadata_store="default", artifact_store="bucket", orchestrator="default")
    assert built.components()["artifact_store"] == "bucket"
    with pytest.raises(Exception, match="frozen"):
        built.name = "x"  # type: ignore[misc]


def test_environment_overrides(repo: Path, monkeypatch: pytest.MonkeyPatch, shell, capsys) -> None:
    from zenml_notebook import Stack, api

    api.register_component("artifact_store", "bucket", "gcs", {"path": "gs://bkt/p"}, verify=False)
    api.copy_stack("default", "ci")
    monkeypatch.setenv("ZENML_NOTEBOOK_ARTIFACT_STORE", "bucket")
    monkeypatch.setenv("ZENML_NOTEBOOK_NAME", "ignored")
    stack = Stack.from_registry()
    assert (stack.name, stack.artifact_store) == ("default", "bucket")
    assert api.stack_components() == (stack.name, stack.components())  # the runner's cheap path agrees
    monkeypatch.setenv("ZENML_NOTEBOOK_STACK", "ci")
    assert api.active_stack_name() == "ci"
    assert Stack.from_registry().name == "ci"
    shell.run_line_magic("zenml", "stack get")
    assert capsys.readouterr().out == "active stack: 'ci'\n"
    shell.run_line_magic("zenml", "stack set default")
    captured = capsys.readouterr()
    assert captured.err == "warning: $ZENML_NOTEBOOK_STACK=ci still overrides the active stack in this process; unset it to use 'default'\n"
    with pytest.raises(UsageError, match="stack 'ci' is the active stack"):
        shell.run_line_magic("zenml", "stack delete ci")


def test_list_marks_active_component(shell, repo: Path) -> None:
    shell.run_line_magic("zenml", "metadata register other --flavor sqlite --uri other.db")
    table = shell.run_line_magic("zenml", "metadata list")
    assert table.active == 0 and table.rows[0][0] == "default"
    assert "other" in repr(table)
