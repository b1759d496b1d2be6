"""One registry contract, run on both backends: the local SQLite file and a shared MariaDB."""

from __future__ import annotations

import re

import pytest

from zenml_notebook.exceptions import AlreadyExistsError, ConflictError, NotFoundError, RegistryError
from zenml_notebook.registry import KINDS, identity

from .conftest import Backend, start_writers

DEFAULTS = dict.fromkeys(KINDS, "default")


def test_a_new_registry_holds_the_default_stack_recorded_with_its_author(backend: Backend) -> None:
    with backend.registry.read() as s:
        stacks = s.list_stacks()
        components = s.list_components()
    assert [st.name for st in stacks] == ["default"]
    assert stacks[0].components == DEFAULTS
    assert sorted((c.kind, c.name) for c in components) == sorted((k, "default") for k in KINDS)
    assert {c.version for c in components} == {1} and stacks[0].version == 1
    assert {c.updated_by for c in [*components, *stacks]} == {identity()}


def test_every_operation(backend: Backend) -> None:
    with backend.registry.write() as s:
        s.add_component("artifact_store", "bucket", "gcs", {"path": "gs://b/x", "anonymous": True})
        s.add_component("orchestrator", "dask", "dask", {"n_workers": 2})
        s.add_stack("team", {**DEFAULTS, "artifact_store": "bucket", "orchestrator": "dask"})
    with backend.registry.read() as s:
        bucket = s.get_component("artifact_store", "bucket")
        assert bucket is not None and bucket.config == {"path": "gs://b/x", "anonymous": True} and bucket.flavor == "gcs"
        assert [c.name for c in s.list_components("artifact_store")] == ["bucket", "default"]
        assert s.get_component("artifact_store", "nope") is None
        assert s.stacks_using("artifact_store", "bucket") == ["team"]
        assert s.stacks_using("artifact_store", "default") == ["default"]
        team = s.get_stack("team")
        assert team is not None and team.components == {**DEFAULTS, "artifact_store": "bucket", "orchestrator": "dask"}
    with backend.registry.write() as s:
        s.update_component("artifact_store", "bucket", "gcs", {"path": "gs://b/y"})
        s.update_stack("team", {**DEFAULTS, "orchestrator": "dask"})
        s.rename_stack("team", "crew")
    with backend.registry.read() as s:
        bucket = s.get_component("artifact_store", "bucket")
        assert bucket is not None and bucket.config == {"path": "gs://b/y"} and bucket.version == 2
        crew = s.get_stack("crew")
        assert s.get_stack("team") is None
        assert crew is not None and crew.components["artifact_store"] == "default" and crew.version == 3
        assert s.stacks_using("artifact_store", "bucket") == []
    with backend.registry.write() as s:
        s.delete_stack("crew")
        s.delete_component("artifact_store", "bucket")
    with backend.registry.read() as s:
        assert [st.name for st in s.list_stacks()] == ["default"]
        assert s.get_component("artifact_store", "bucket") is None


def test_names_are_unique_per_kind(backend: Backend) -> None:
    with backend.registry.write() as s:
        s.add_component("orchestrator", "same", "local", {})
        s.add_component("artifact_store", "same", "local", {"path": "x"})  # another kind: allowed
    with pytest.raises(AlreadyExistsError, match="'same' already exists"), backend.registry.write() as s:
        s.add_component("orchestrator", "same", "local", {})
    with pytest.raises(AlreadyExistsError, match="stack 'default' already exists"), backend.registry.write() as s:
        s.add_stack("default", DEFAULTS)
    with backend.registry.read() as s:
        assert [c.name for c in s.list_components("orchestrator")] == ["default", "same"]


def test_a_failing_change_leaves_nothing(backend: Backend) -> None:
    with backend.registry.read() as s:
        before = (s.list_components(), s.list_stacks(), s.generation())
    with pytest.raises(RuntimeError, match="half-way"), backend.registry.write() as s:
        s.add_component("orchestrator", "half", "local", {})
        s.add_stack("half", {**DEFAULTS, "orchestrator": "half"})
        raise RuntimeError("half-way")
    with backend.registry.read() as s:
        assert (s.list_components(), s.list_stacks(), s.generation()) == before


def test_every_change_moves_the_generation_and_reads_do_not(backend: Backend) -> None:
    with backend.registry.read() as s:
        first = s.generation()
    with backend.registry.read() as s:
        assert s.generation() == first
    with backend.registry.write() as s:
        s.add_component("orchestrator", "g", "local", {})
    with backend.registry.read() as s:
        assert s.generation() == first + 1


def test_a_change_based_on_an_old_read_is_refused(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    with backend.registry.read() as s:
        seen_component = s.get_component("artifact_store", "default")
        seen_stack = s.get_stack("default")
    assert seen_component is not None and seen_stack is not None
    monkeypatch.setenv("ZENML_NOTEBOOK_USER", "ana@laptop")
    with backend.registry.write() as s:
        s.add_component("orchestrator", "other", "local", {})
        s.update_component("artifact_store", "default", "local", {"path": "ana"}, expected_version=seen_component.version)
        s.update_stack("default", {**DEFAULTS, "orchestrator": "other"}, expected_version=seen_stack.version)
    monkeypatch.setenv("ZENML_NOTEBOOK_USER", "bob@desk")
    pattern = r"was changed by ana@laptop at \d\d:\d\d since you read it; run the command again to apply it on top"
    with pytest.raises(ConflictError, match=r"artifact store 'default' " + pattern), backend.registry.write() as s:
        s.update_component("artifact_store", "default", "local", {"path": "bob"}, expected_version=seen_component.version)
    with pytest.raises(ConflictError, match=r"stack 'default' " + pattern), backend.registry.write() as s:
        s.update_stack("default", DEFAULTS, expected_version=seen_stack.version)
    with backend.registry.read() as s:
        now = s.get_component("artifact_store", "default")
        stack = s.get_stack("default")
    assert now is not None and now.config == {"path": "ana"} and now.updated_by == "ana@laptop"
    assert stack is not None and stack.components["orchestrator"] == "other"
    with backend.registry.write() as s:
        s.delete_stack("default")
    with pytest.raises(NotFoundError, match="stack 'default' was deleted since you read it"), backend.registry.write() as s:
        s.update_stack("default", DEFAULTS, expected_version=stack.version)


def test_concurrent_writers_lose_nothing(backend: Backend) -> None:
    with backend.registry.read() as s:
        first = s.generation()
    procs = start_writers(backend, writers=8, count=25)
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err[-2000:]
    with backend.registry.read() as s:
        names = [c.name for c in s.list_components("orchestrator") if c.name != "default"]
        assert s.generation() == first + 200
    assert sorted(names) == sorted(f"w{w}-{i}" for w in range(8) for i in range(25))


def test_a_damaged_row_names_its_registry_table_and_field(backend: Backend) -> None:
    if backend.name == "sqlite":
        import sqlite3

        with sqlite3.connect(backend.spec["path"]) as conn:
            conn.execute("UPDATE components SET config = 'not json' WHERE kind = 'orchestrator'")
    else:
        with backend.registry._connected() as conn:
            conn.exec_driver_sql("UPDATE components SET config = 'not json' WHERE kind = 'orchestrator'")
            conn.commit()
    with pytest.raises(RegistryError) as info, backend.registry.read() as s:
        s.list_components()
    assert re.search(r"table 'components', row orchestrator/default: field 'config' is not a JSON object", str(info.value))


@pytest.mark.parametrize("backend", ["mariadb", "postgresql"], indirect=True)
def test_a_one_shot_read_sees_what_the_engine_sees(backend: Backend) -> None:
    """The CLI reads a shared registry with the driver alone (registry.snapshot): the same rows,
    generation and schema check as the pooled engine, and a damaged row named the same way."""
    from zenml_notebook.registry.shared import Connection
    from zenml_notebook.registry.snapshot import read_once

    with backend.registry.write() as s:
        s.add_component("orchestrator", "other", "local", {"n": 1})
        s.add_stack("second", {**DEFAULTS, "orchestrator": "other"})
    connection = Connection.parse(backend.spec["url"])
    once = read_once(connection, backend.env["REGISTRY_TEST_PASSWORD"])
    with backend.registry.read() as s:
        assert once.generation() == s.generation()
        assert once.list_stacks() == s.list_stacks()
        assert once.list_components() == s.list_components()
        assert once.list_components("orchestrator") == s.list_components("orchestrator")
        assert once.stacks_using("orchestrator", "other") == s.stacks_using("orchestrator", "other") == ["second"]
        assert once.get_stack("second") == s.get_stack("second") and once.get_component("orchestrator", "nope") is None
    with pytest.raises(RegistryError, match="was opened for reading; add_stack needs a write"):
        once.add_stack("x", DEFAULTS)
    with backend.registry._connected() as conn:
        conn.exec_driver_sql("UPDATE components SET config = 'not json' WHERE kind = 'orchestrator' AND name = 'other'")
        conn.commit()
    with pytest.raises(RegistryError, match=r"table 'components', row orchestrator/other: field 'config' is not a JSON object"):
        read_once(connection, backend.env["REGISTRY_TEST_PASSWORD"])
