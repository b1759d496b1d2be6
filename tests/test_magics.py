"""The %zenml magics in a real IPython InteractiveShell."""

from __future__ import annotations

from pathlib import Path

import pytest
from IPython.core.error import UsageError

SEED_REGISTER = """zenml stack register MY_NEW_STACK
    --metadata_store my-new-metadata-store \\
    --artifact_store my-new-artifact-store \\ 
    --orchestrator my-new-orchestrator
"""

SEED_MYSQL = """zenml config metadata set mysql \\
    --host 127.0.0.1 \\ 
    --port 3306 \\
    --username USER \\
    --passwd PASSWD \\
    --database DATABASE
"""

SEED_GCS = "zenml config artifacts set gs://your-bucket/sub/dir\n"


def test_stack_list_returns_a_display_object(shell, repo: Path) -> None:
    table = shell.run_line_magic("zenml", "stack list")
    assert repr(table) == (
        "   STACK    METADATA STORE  ARTIFACT STORE  ORCHESTRATOR  EXPERIMENT TRACKER\n"
        "*  default  default         default         default       default"
    )
    html = table._repr_html_()
    assert "<table" in html and "title='active'" in html and "<td style='text-align:left'>default</td>" in html


def test_messages_are_printed_not_returned(shell, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert shell.run_line_magic("zenml", "stack copy default other") is None
    assert capsys.readouterr().out == "copied stack 'default' to 'other'\n"


def test_errors_are_one_line_usage_errors(shell, repo: Path) -> None:
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("zenml", "stack set defualt")
    assert str(info.value) == "stack 'defualt' does not exist (did you mean 'default'?); registered stacks: default"


def test_run_cell_shows_no_traceback(shell, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = shell.run_cell("%zenml stack set nope")
    assert isinstance(result.error_in_exec, UsageError)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert "UsageError: stack 'nope' does not exist; registered stacks: default" in captured.err


def test_unknown_subcommand_suggests(shell, repo: Path) -> None:
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("zenml", "stack lst")
    assert str(info.value) == (
        "stack: unknown command 'lst' (did you mean 'list'?); choose from register, update, "
        "list, ls, describe, set, activate, get, rename, copy, delete, rm, export, import "
        "(see `%zenml stack --help`)"
    )


def test_help_is_printed_and_the_kernel_lives(shell, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert shell.run_line_magic("zenml", "--help") is None
    out = capsys.readouterr().out
    assert out.startswith("usage: %zenml [-h] COMMAND ...")
    for command in ("init", "version", "stack", "metadata", "artifacts", "orchestrator", "config"):
        assert command in out


def test_seed_register_block_pastes_verbatim(shell, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_line_magic("zenml", "metadata register my-new-metadata-store --flavor sqlite")
    shell.run_line_magic("zenml", "artifacts register my-new-artifact-store --path ./artifacts2")
    shell.run_line_magic("zenml", "orchestrator register my-new-orchestrator --flavor local")
    capsys.readouterr()
    shell.run_cell_magic("zenml", "", SEED_REGISTER)
    assert capsys.readouterr().out == "registered stack 'MY_NEW_STACK'; activate it with `stack set MY_NEW_STACK`\n"
    desc = shell.run_line_magic("zenml", "stack describe MY_NEW_STACK")
    assert "artifact store: my-new-artifact-store" in repr(desc)
    assert "path    artifacts2" in repr(desc)


def test_seed_register_without_components_says_how(shell, repo: Path) -> None:
    with pytest.raises(UsageError) as info:
        shell.run_cell_magic("zenml", "", SEED_REGISTER)
    assert str(info.value) == (
        "metadata store 'my-new-metadata-store' does not exist; register it with "
        "`metadata register my-new-metadata-store --flavor mysql|postgresql|sqlite ...` (registered: default)"
    )
    assert repr(shell.run_line_magic("zenml", "stack list")).count("\n") == 1


def test_seed_mysql_block_line_and_cell(shell, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the block as the seed writes it, saved without reaching a server (--no-verify); the same
    # block against a real MariaDB runs in tests/components/test_metadata_mysql.py
    shell.run_cell_magic("zenml", "", SEED_MYSQL.rstrip() + " --no-verify\n")
    captured = capsys.readouterr()
    assert captured.out == (
        "active stack 'default': metadata store 'default' (sqlite) -> 'default-mysql' (mysql: "
        "connect_timeout=5.0, database=DATABASE, host=127.0.0.1, password=******** (file), port=3306, "
        "username=USER), registered\n"
    )
    assert "warning: --passwd typed inline is now in this cell or your shell history" in captured.err
    assert "PASSWD" not in captured.out + captured.err.replace("--passwd", "")
    # the one-line form of the same command, as a line magic, with --password
    shell.run_line_magic(
        "zenml", "config metadata set mysql --host 127.0.0.1 --port 3306 --username USER --password PASSWD2 --database DATABASE --no-verify"
    )
    out = capsys.readouterr().out
    assert out.startswith("active stack 'default': metadata store 'default-mysql' (mysql) -> 'default-mysql'")
    assert out.endswith(", updated\n")
    with pytest.raises(UsageError) as info:  # without --no-verify the store is checked first
        shell.run_line_magic("zenml", "config metadata set mysql --host 127.0.0.1 --port 1 --username USER --password PASSWD3 --database DATABASE")
    assert str(info.value) == (
        "metadata store 'default-mysql': nothing is listening on 127.0.0.1:1 (connection refused); "
        "start the MySQL server or fix --host and --port"
    )
    got = shell.run_line_magic("zenml", "config metadata get")
    assert "password         ******** (file)" in repr(got)
    assert "PASSWD" not in repr(got) and "PASSWD" not in got._repr_html_()


def test_seed_gcs_line(shell, repo: Path, gcs_server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import gcsfs

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.url)  # the real GCS emulator
    fs = gcsfs.GCSFileSystem(token="anon", endpoint_url=gcs_server.url, skip_instance_cache=True)
    if not fs.exists("your-bucket"):
        fs.mkdir("your-bucket")
    shell.run_line_magic("zenml", SEED_GCS.removeprefix("zenml ").strip())
    assert capsys.readouterr().out == (
        "active stack 'default': artifact store 'default' (local) -> 'default-gcs' "
        "(gcs: anonymous=False, path=gs://your-bucket/sub/dir), registered\n"
    )
    shell.run_cell_magic("zenml", "", SEED_GCS)
    assert capsys.readouterr().out == (
        "active stack 'default': artifact store 'default-gcs' already has these settings; nothing changed\n"
    )


def test_config_set_never_changes_a_shared_component(shell, repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_line_magic("zenml", "artifacts register shared --path gs://team-bucket/x --no-verify")
    shell.run_line_magic("zenml", "stack register other -m default -a shared -o default")
    shell.run_line_magic("zenml", "stack update default -a shared")
    capsys.readouterr()
    shell.run_line_magic("zenml", "config artifacts set gs://team-bucket/y --no-verify")
    assert capsys.readouterr().out.startswith("active stack 'default': artifact store 'shared' (gcs) -> 'default-gcs'")
    other = shell.run_line_magic("zenml", "stack describe other")
    assert "path       gs://team-bucket/x" in repr(other)
    shell.run_line_magic("zenml", "stack set other")
    shell.run_line_magic("zenml", "config artifacts set gs://team-bucket/z --no-verify")
    out = capsys.readouterr().out
    assert "-> 'other-gcs'" in out and out.endswith("registered\n")


def test_config_artifacts_set_local_path_is_relative_to_the_repository(shell, repo: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    sub = repo / "notebooks"
    sub.mkdir()
    monkeypatch.chdir(sub)
    shell.run_line_magic("zenml", "config artifacts set ./outputs")
    assert capsys.readouterr().out.endswith("(local: path=notebooks/outputs), registered\n")
    shell.run_line_magic("zenml", "config artifacts set /tmp/elsewhere")
    assert "path=/tmp/elsewhere" in capsys.readouterr().out


def test_config_list_and_orchestrator(shell, repo: Path, capsys) -> None:
    shell.run_line_magic("zenml", "config orchestrator set dask --n-workers 2")
    assert capsys.readouterr().out == (
        "active stack 'default': orchestrator 'default' (local) -> 'default-dask' (dask: n_workers=2), registered\n"
    )
    text = repr(shell.run_line_magic("zenml", "config list"))
    assert text.startswith("stack 'default' (active), changed ")
    assert "orchestrator: default-dask" in text


def test_variable_expansion_and_shell_syntax_stay_data(shell, repo: Path) -> None:
    shell.user_ns["name"] = "from-var"
    shell.run_line_magic("zenml", "stack copy default {name}")
    assert "from-var" in repr(shell.run_line_magic("zenml", "stack list"))
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("zenml", "stack copy default '$(id)'")
    assert str(info.value) == (
        "invalid stack name '$(id)': use 1-63 letters, digits, '-', '_' or '.', starting with a letter or digit"
    )
