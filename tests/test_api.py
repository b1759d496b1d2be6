"""The facade and the registry, called directly (the CLI and magic tests drive them through
subprocesses and shells; these pin their contracts one function at a time)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from zenml_notebook import api
from zenml_notebook.exceptions import (
    AlreadyExistsError,
    InUseError,
    NotFoundError,
    RegistryError,
    StackValidationError,
    UsageError,
)
from zenml_notebook.registry import Registry


def test_register_describe_update_delete_a_component(repo: Path) -> None:
    record, outcome = api.register_component("artifact_store", "scratch", "local", {"path": "scratch"})
    assert (record.kind, record.name, record.flavor, record.config) == ("artifact_store", "scratch", "local", {"path": "scratch"})
    assert outcome == "registered"
    assert not (repo / "scratch").exists()  # verified, and what the check made is gone again
    assert api.register_component("artifact_store", "scratch", "local", {"path": "scratch"}) == (record, "unchanged")
    with pytest.raises(AlreadyExistsError, match="artifact store 'scratch' already exists with other settings"):
        api.register_component("artifact_store", "scratch", "local", {"path": "x"})
    again, outcome = api.register_component("artifact_store", "scratch", "local", {"path": "x"}, update=True)
    assert (outcome, again.config, again.version) == ("updated", {"path": "x"}, record.version + 1)
    api.update_component("artifact_store", "scratch", {"path": "scratch"})
    before, after = api.update_component("artifact_store", "scratch", {"path": "other"})
    assert (before.config["path"], after.config["path"]) == ("scratch", "other")
    assert api.get_component("artifact_store", "scratch") == (after, [])
    assert api.delete_component("artifact_store", "scratch").name == "scratch"
    with pytest.raises(NotFoundError, match="artifact store 'scratch' does not exist"):
        api.get_component("artifact_store", "scratch")


def test_a_refused_change_leaves_no_trace(repo: Path) -> None:
    for bad in (
        lambda: api.register_component("metadata_store", "bad name", "sqlite", {}),
        lambda: api.register_component("metadata_store", "m", "postgres", {}),
        lambda: api.register_component("metadata_store", "m", "mysql", {"host": "h", "username": "u", "database": "d", "port": 0}, verify=False),
        lambda: api.register_stack("s", "default", "nope", "default"),
        lambda: api.delete_stack("default"),
        lambda: api.delete_component("orchestrator", "default"),
        lambda: api.set_active_stack("nope"),
    ):
        with pytest.raises((UsageError, NotFoundError, InUseError, StackValidationError)):
            bad()
    with sqlite3.connect(repo / ".zenml" / "zenml.db") as conn:
        rows = list(conn.execute("select kind, name from components order by kind, name"))
    assert rows == [("artifact_store", "default"), ("experiment_tracker", "default"), ("metadata_store", "default"), ("orchestrator", "default")]
    assert [s.name for s in api.list_stacks()[0]] == ["default"] and api.list_stacks()[1] == "default"


def test_stacks_register_switch_rename_copy_delete(repo: Path) -> None:
    api.register_stack("two", "default", "default", "default", activate=True)
    assert api.active_stack_name() == "two" and api.resolve_stack().active
    assert api.rename_stack("two", "second").name == "second" and api.active_stack_name() == "second"
    api.copy_stack("second", "third")
    with pytest.raises(InUseError, match="is the active stack"):
        api.delete_stack("second")
    api.set_active_stack("default")
    assert api.delete_stack("second").name == "second"
    assert [s.name for s in api.list_stacks()[0]] == ["default", "third"]


def test_resolve_stack_reports_overrides(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    api.register_component("metadata_store", "other", "sqlite", {"uri": "o.db"})
    assert api.resolve_stack().overrides == {} and api.resolve_stack().source("metadata_store") == ""
    monkeypatch.setenv("ZENML_NOTEBOOK_METADATA_STORE", "other")
    desc = api.resolve_stack()
    assert desc.components["metadata_store"].name == "other"
    assert desc.source("metadata_store") == "from $ZENML_NOTEBOOK_METADATA_STORE"
    assert api.get_component("metadata_store")[0].name == "other"  # the default component follows it too
    assert api.list_components("metadata_store")[2] == "other"


def test_config_set_registers_rather_than_changing_a_shared_component(repo: Path) -> None:
    api.register_stack("other", "default", "default", "default")
    change = api.config_set("artifact_store", "local", {"path": "elsewhere"})
    assert (change.action, change.after.name) == ("registered", "default-local")
    assert api.get_stack_record("other").components["artifact_store"] == "default"  # untouched
    again = api.config_set("artifact_store", "local", {"path": "elsewhere"})
    assert again.action == "unchanged"


def test_export_import_round_trip(repo: Path) -> None:
    text = api.export_stack("default")
    record = api.import_stack(text, "export.yaml", name="copy")
    assert record.components == api.get_stack_record("default").components


def test_registry_writers_queue_and_lose_nothing(repo: Path) -> None:
    registry = Registry.open(repo / ".zenml" / "zenml.db")
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            for j in range(10):
                with registry.write() as session:
                    session.add_component("orchestrator", f"o{i}-{j}", "local", {})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with registry.read() as session:
        assert len(session.list_components("orchestrator")) == 41


def test_registry_transaction_rolls_back_as_a_whole(repo: Path) -> None:
    registry = Registry.open(repo / ".zenml" / "zenml.db")
    with pytest.raises(RuntimeError, match="boom"), registry.write() as session:
        session.add_component("orchestrator", "half", "local", {})
        raise RuntimeError("boom")
    with registry.read() as session:
        assert session.get_component("orchestrator", "half") is None


def test_registry_refuses_a_newer_schema(repo: Path) -> None:
    path = repo / ".zenml" / "zenml.db"
    with sqlite3.connect(path) as conn:
        conn.execute("update meta set value = '99' where key = 'schema_version'")
    with pytest.raises(RegistryError, match=r"written by a newer zenml-notebook \(schema 99, this one reads 3\)"):
        api.list_stacks()
    with sqlite3.connect(path) as conn:
        conn.execute("update meta set value = 'abc' where key = 'schema_version'")
    with pytest.raises(RegistryError, match="table 'meta', row 'schema_version': field 'value' is 'abc', not a number"):
        api.list_stacks()
