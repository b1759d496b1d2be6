"""Stack export/import as YAML: references not values, all-or-nothing, errors name the field."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from .test_bad_input import snapshot


def test_round_trip_into_another_repository(cli, repo: Path, tmp_path: Path) -> None:
    cli("artifacts", "register", "team", "--path", "s3://team-bucket/runs", "--key-env", "AWS_KEY", "--secret", "topsecret-value", "--no-verify")
    cli("stack", "register", "team", "-m", "default", "-a", "team", "-o", "default")
    r = cli("stack", "export", "team", "team.yaml")
    assert r.out == "exported stack 'team' to team.yaml\n"
    text = (repo / "team.yaml").read_text()
    assert "topsecret-value" not in text
    assert "$env: AWS_KEY" in text and "$secret:" in text
    other = tmp_path / "other"
    other.mkdir()
    env = {"ZENML_NOTEBOOK_REPO": str(other)}
    assert cli("init", str(other)).code == 0
    r = cli("stack", "import", str(repo / "team.yaml"), "--set", env=env)
    assert (r.code, r.out) == (0, "imported stack 'team'; it is now the active stack\n")
    desc = cli("stack", "describe", env=env).out
    assert "artifact store: team" in desc and "key     ******** (env $AWS_KEY)" in desc
    assert "secret  ******** (file)" in desc
    # importing again: same components are reused, the stack name must differ
    r = cli("stack", "import", str(repo / "team.yaml"), env=env)
    assert r.code == 2 and r.err == "zenml-notebook: error: stack 'team' already exists; import under another name with --name\n"
    assert cli("stack", "import", str(repo / "team.yaml"), "--name", "team2", env=env).out == "imported stack 'team2'\n"


def test_export_to_stdout(shell, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_line_magic("zenml", "stack export")
    text = capsys.readouterr().out.rstrip("\n")
    assert text == (
        "zenml_notebook_stack: 1\nname: default\ncomponents:\n"
        "  metadata_store:\n    name: default\n    flavor: sqlite\n    config:\n      uri: .zenml/metadata.db\n"
        "  artifact_store:\n    name: default\n    flavor: local\n    config:\n      path: .zenml/artifacts\n"
        "  orchestrator:\n    name: default\n    flavor: local\n    config: {}\n"
        "  experiment_tracker:\n    name: default\n    flavor: builtin\n    config: {}"
    )


GOOD = """zenml_notebook_stack: 1
name: imported
components:
  metadata_store: {name: meta-x, flavor: sqlite, config: {uri: x.db}}
  artifact_store: {name: art-x, flavor: gcs, config: {path: "gs://bkt-x/p"}}
  orchestrator: {name: default, flavor: local, config: {}}
"""

BAD = [
    ("name: [unclosed", "f.yaml is not valid YAML at line 1: expected ',' or ']', but got '<stream end>'; fix the file"),
    ("- just\n- a list\n", "f.yaml is not a stack export (expected a mapping with zenml_notebook_stack, name and components); create one with `stack export NAME FILE`"),
    (GOOD.replace("zenml_notebook_stack: 1\n", ""), "f.yaml: zenml_notebook_stack is required; fix the file and import again"),
    (GOOD.replace("flavor: gcs,", "flavour: gcs,"), "f.yaml: components.artifact_store.flavor is required; fix the file and import again"),
    (GOOD.replace("  orchestrator:", "  extra: 1\n  orchestrator:"), "f.yaml: components.extra is not a known field; fix the file and import again"),
    (GOOD.replace("flavor: sqlite", "flavor: sqlit"), "f.yaml: components.metadata_store: unknown metadata store flavor 'sqlit' (did you mean 'sqlite'?); available: mysql, postgresql, sqlite"),
    (GOOD.replace("gs://bkt-x/p", "http://bkt-x/p"), "f.yaml: components.artifact_store: invalid gcs artifact store 'art-x': path: unsupported artifact store URI scheme 'http' in 'http://bkt-x/p'; use a local path, file:///abs/path, gs://bucket/prefix or s3://bucket/prefix"),
    (GOOD.replace("{uri: x.db}", "{uri: x.db, port: 1}"), "f.yaml: components.metadata_store: invalid sqlite metadata store 'meta-x': unknown setting 'port' (valid: uri)"),
    (GOOD.replace("name: art-x", "name: 'a b'"), "f.yaml: components.artifact_store: invalid artifact store name 'a b': use 1-63 letters, digits, '-', '_' or '.', starting with a letter or digit"),
    (GOOD.replace("{path: \"gs://bkt-x/p\"}", "{path: \"gs://bkt-x/p\", anonymous: maybe}"), "f.yaml: components.artifact_store: invalid gcs artifact store 'art-x': anonymous: input should be a valid boolean, unable to interpret input (got 'maybe')"),
    (GOOD.replace("name: default, flavor: local", "name: default, flavor: dask"), "f.yaml: orchestrator 'default' already exists with other settings; rename it in the file or delete the existing one".replace("f.yaml: orchestrator", "f.yaml: components.orchestrator: orchestrator")),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_import_names_the_field_and_applies_nothing(shell, repo: Path, text: str, message: str) -> None:
    (repo / "f.yaml").write_text(text)
    before = snapshot(repo)
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("zenml", "stack import f.yaml")
    assert str(info.value) == message
    assert snapshot(repo) == before


def test_good_import_applies_everything(shell, repo: Path) -> None:
    (repo / "f.yaml").write_text(GOOD)
    shell.run_line_magic("zenml", "stack import f.yaml")
    with sqlite3.connect(repo / ".zenml" / "zenml.db") as conn:
        names = sorted(r[0] for r in conn.execute("SELECT name FROM components"))
    assert names == ["art-x", "default", "default", "default", "default", "meta-x"]  # no experiment_tracker in it: the built-in one


def test_import_of_a_missing_file(shell, repo: Path) -> None:
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("zenml", "stack import nope.yaml")
    assert str(info.value) == "cannot read nope.yaml: No such file or directory; check the path"
