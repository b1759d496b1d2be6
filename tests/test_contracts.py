"""The core's contracts: one stack resolver (no split brain under overrides), and reads
that never write (SECURITY 29, 30, 32)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from zenml_notebook import api

CHAIN = textwrap.dedent(
    """
    from zenml_notebook import step, pipeline

    @step
    def make() -> int:
        return 41

    @step
    def inc(x: int) -> int:
        return x + 1

    @pipeline
    def chain():
        inc(make())

    if __name__ == "__main__":
        print(chain().name)
    """
)


@pytest.fixture
def jp_server_config(jp_server_config):
    return {"ServerApp": {"jpserver_extensions": {"zenml_notebook.server": True}, "allow_unauthenticated_access": False}}


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_overrides_agree_across_every_reader(repo: Path, monkeypatch: pytest.MonkeyPatch, shell, capsys) -> None:
    api.register_component("metadata_store", "md2", "sqlite", {"uri": "second.db"})
    api.register_component("artifact_store", "art2", "local", {"path": "second-artifacts"})
    (repo / "chain.py").write_text(CHAIN)
    env = {**os.environ, "ZENML_NOTEBOOK_METADATA_STORE": "md2", "ZENML_NOTEBOOK_ARTIFACT_STORE": "art2"}
    run = subprocess.run([sys.executable, "chain.py"], cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    name = run.stdout.strip()
    assert (repo / "second.db").is_file() and (repo / "second-artifacts" / "chain" / name).is_dir()
    assert not (repo / ".zenml" / "artifacts" / "chain").exists()
    # the CLI under the same overrides
    listed = subprocess.run([sys.executable, "-m", "zenml_notebook", "runs", "list"], cwd=repo, env=env, capture_output=True, text=True, timeout=60)
    assert name in listed.stdout, listed
    described = subprocess.run([sys.executable, "-m", "zenml_notebook", "stack", "describe"], cwd=repo, env=env, capture_output=True, text=True, timeout=60)
    assert "metadata store: md2 (from $ZENML_NOTEBOOK_METADATA_STORE)" in described.stdout, described.stdout
    assert "artifact store: art2 (from $ZENML_NOTEBOOK_ARTIFACT_STORE)" in described.stdout
    # Client, the magics and the resolver in this process, under the same overrides
    monkeypatch.setenv("ZENML_NOTEBOOK_METADATA_STORE", "md2")
    monkeypatch.setenv("ZENML_NOTEBOOK_ARTIFACT_STORE", "art2")
    from zenml_notebook import Client, Stack

    client = Client()
    assert client.last_run().name == name and client.last_run().output("inc") == 42
    assert Stack.from_registry().metadata_store == "md2" and api.stack_components()[1]["artifact_store"] == "art2"
    assert name in repr(shell.run_line_magic("zenml", "runs list"))
    assert api.list_artifacts("chain").total == 1
    # without the overrides, the registry's stack: the run is not there
    monkeypatch.delenv("ZENML_NOTEBOOK_METADATA_STORE")
    monkeypatch.delenv("ZENML_NOTEBOOK_ARTIFACT_STORE")
    assert Client().runs() == []
    assert api.resolve_stack().overrides == {}


def test_an_override_naming_nothing_is_refused(repo: Path, cli) -> None:
    result = cli("stack", "get", env={"ZENML_NOTEBOOK_STACK": "nope"})
    assert result.code == 2
    assert result.err == ("zenml-notebook: error: $ZENML_NOTEBOOK_STACK=nope names no stack; registered stacks: default "
                          "(unset it to use the registry's active stack)\n")
    result = cli("runs", "list", env={"ZENML_NOTEBOOK_METADATA_STORE": "gone"})
    assert result.code == 2 and result.err.startswith("zenml-notebook: error: $ZENML_NOTEBOOK_METADATA_STORE=gone names no registered metadata store")


async def test_rest_reads_on_a_folder_without_a_repository_create_nothing(jp_fetch, jp_root_dir: Path, monkeypatch) -> None:
    for key in ("ZENML_NOTEBOOK_REPO", "ZENML_NOTEBOOK_STACK"):
        monkeypatch.delenv(key, raising=False)
    assert not any((p / ".zenml").exists() for p in (jp_root_dir, *jp_root_dir.parents)), "a stray .zenml above the test root"
    (jp_root_dir / "fresh").mkdir()
    before = _tree(jp_root_dir)
    routes = [
        (("stacks",), {}), (("artifacts",), {}), (("artifacts", "preview"), {"path": "x.txt"}), (("artifacts", "preview"), {"path": "../x"}),
        (("runs",), {}), (("runs", "somerun"), {}), (("artifacts",), {"path": "a/b", "limit": "5"}),
    ]
    answers = []
    for cwd in ("", "fresh"):
        for parts, params in routes:
            query = {**params, **({"cwd": cwd} if cwd else {})}
            try:
                response = await jp_fetch("zenml-notebook", *parts, params=query or None, method="GET")
                answers.append((parts, response.code, json.loads(response.body)))
            except HTTPClientError as exc:
                assert exc.response is not None
                answers.append((parts, exc.code, json.loads(exc.response.body)))
    assert _tree(jp_root_dir) == before, answers  # nothing created, whatever the answer
    by_route = {(a[0], a[1]) for a in answers}
    assert (("stacks",), 200) in by_route and (("runs",), 200) in by_route and (("artifacts",), 200) in by_route
    assert all(code in (200, 400, 404) for _, code, _ in answers), answers
    previews = [body for parts, code, body in answers if parts == ("artifacts", "preview") and code == 404]
    assert previews and all("no zenml-notebook repository" in b["error"] for b in previews)


def test_library_reads_create_nothing(workdir: Path) -> None:
    from zenml_notebook.exceptions import NoRepositoryError

    for read in (api.list_stacks, api.resolve_stack, lambda: api.list_artifacts(""), lambda: api.get_component("metadata_store")):
        with pytest.raises(NoRepositoryError, match="no zenml-notebook repository in"):
            read()
    from zenml_notebook import Client

    with pytest.raises(NoRepositoryError):
        Client()
    assert not (workdir / ".zenml").exists()


def test_a_dangling_component_names_its_table_and_field(repo: Path, cli) -> None:
    import sqlite3

    db = sqlite3.connect(repo / ".zenml" / "zenml.db")
    db.execute("update stacks set metadata_store = 999 where name = 'default'")
    db.commit()
    db.close()
    before = (repo / ".zenml" / "zenml.db").read_bytes()
    result = cli("stack", "describe")
    assert (result.code, result.err) == (2, "zenml-notebook: error: registry table 'stacks', row 'default': field 'metadata_store' "
                                            "points at no registered metadata store; repair it with `stack update default --metadata_store NAME`\n")
    assert "default" in cli("stack", "list").out  # still listed, never silently gone
    assert (repo / ".zenml" / "zenml.db").read_bytes() == before


@pytest.mark.parametrize("config", ["{not json", "[1,2]", "null"])
def test_a_broken_component_row_names_its_table_row_and_field(repo: Path, cli, config: str) -> None:
    import sqlite3

    db = sqlite3.connect(repo / ".zenml" / "zenml.db")
    db.execute("update components set config = ? where kind = 'artifact_store' and name = 'default'", (config,))
    db.commit()
    db.close()
    result = cli("artifacts", "describe", "default")
    assert result.code == 2 and len(result.err.splitlines()) == 1, result.err
    assert "table 'components', row artifact_store/default: field 'config' is not a JSON object" in result.err


def test_an_unknown_orchestrator_flavor_is_refused_not_run_locally(repo: Path) -> None:
    import sqlite3

    from zenml_notebook import __version__
    from zenml_notebook.exceptions import NotFoundError

    db = sqlite3.connect(repo / ".zenml" / "zenml.db")
    db.execute("update components set flavor = 'kubeflow' where kind = 'orchestrator' and name = 'default'")
    db.commit()
    db.close()
    ns: dict[str, object] = {}
    exec(compile(CHAIN, "chain_cell", "exec"), ns)
    with pytest.raises(NotFoundError) as raised:
        ns["chain"]()  # type: ignore[operator]
    assert str(raised.value) == (
        f"orchestrator flavor 'kubeflow' is unknown to zenml-notebook {__version__} (it knows dask, local); upgrade with "
        "`pip install -U zenml-notebook`, or point the stack at another component")
    assert not (repo / ".zenml" / "artifacts" / "chain").exists()  # nothing ran
    from zenml_notebook import Client

    assert Client().runs() == []  # and no run was started


async def test_the_sidebar_is_told_where_an_override_comes_from(jp_fetch, jp_root_dir: Path, monkeypatch) -> None:
    monkeypatch.chdir(jp_root_dir)
    api.init(jp_root_dir)
    api.register_component("metadata_store", "md2", "sqlite", {"uri": "second.db"})
    monkeypatch.setenv("ZENML_NOTEBOOK_METADATA_STORE", "md2")
    response = await jp_fetch("zenml-notebook", "stacks", method="GET")
    (stack,) = json.loads(response.body)["stacks"]
    assert stack["components"]["metadata_store"]["name"] == "md2"
    assert stack["components"]["metadata_store"]["source"] == "from $ZENML_NOTEBOOK_METADATA_STORE"
    assert stack["components"]["artifact_store"]["source"] == ""
