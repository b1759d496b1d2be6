"""Secrets: references in the registry, values only in the 0600 file (or keyring/env)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from IPython.core.error import UsageError

PASSWORD = "s3cr3t-Pa55-word"


def all_files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()]


def test_password_is_nowhere_but_the_secrets_file(cli, repo: Path, tmp_path: Path) -> None:
    outputs = []
    r = cli("metadata", "register", "db", "--flavor", "mysql", "--no-verify", "--host", "127.0.0.1", "--username", "u", "--passwd", PASSWORD, "--database", "d")
    outputs += [r.out, r.err]
    assert r.code == 0
    r = cli("config", "metadata", "set", "mysql", "--no-verify", "--host", "127.0.0.1", "--username", "u", "--password", PASSWORD, "--database", "d")
    outputs += [r.out, r.err]
    for args in (["metadata", "list"], ["metadata", "describe", "db"], ["stack", "describe"], ["stack", "export"], ["config", "list"], ["config", "metadata", "get"]):
        r = cli(*args)
        assert r.code == 0, r.err
        outputs += [r.out, r.err]
    assert "********" in "".join(outputs)
    for text in outputs:
        assert PASSWORD not in text
    for file in all_files_under(repo / ".zenml"):
        assert PASSWORD.encode() not in file.read_bytes(), file
    secrets_file = tmp_path / "config" / "secrets.json"
    assert PASSWORD in secrets_file.read_text()
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(secrets_file.parent.stat().st_mode) == 0o700


def test_fallback_file_warns_once(cli, repo: Path) -> None:
    fallback = {"ZENML_NOTEBOOK_SECRETS_BACKEND": ""}  # no choice made, and no keyring installed here
    first = cli("metadata", "register", "a", "--flavor", "mysql", "--no-verify", "--host", "h", "--username", "u", "--passwd-env", "X", "--database", "d",
                env=fallback)
    assert "no usable OS keyring" not in first.err  # an env reference stores nothing
    second = cli("metadata", "register", "b", "--flavor", "mysql", "--no-verify", "--host", "h", "--username", "u", "--passwd", "p1", "--database", "d",
                 env=fallback)
    assert "warning: no usable OS keyring: secrets are kept in" in second.err
    third = cli("metadata", "register", "c", "--flavor", "mysql", "--no-verify", "--host", "h", "--username", "u", "--passwd", "p2", "--database", "d",
                env=fallback)
    assert "no usable OS keyring" not in third.err


def test_a_chosen_file_backend_is_not_called_a_fallback(cli, repo: Path, tmp_path: Path) -> None:
    r = cli("metadata", "register", "b", "--flavor", "mysql", "--no-verify", "--host", "h", "--username", "u", "--passwd", "p1", "--database", "d",
            env={"ZENML_NOTEBOOK_SECRETS_BACKEND": "file"})
    assert r.code == 0 and "keyring" not in r.err and "secrets are kept" not in r.err, r.err  # chosen on purpose: no fallback to warn about
    assert "p1" in (tmp_path / "config" / "secrets.json").read_text() and "p1" not in r.out


def test_group_readable_secrets_file_is_refused(cli, repo: Path, tmp_path: Path) -> None:
    cli("metadata", "register", "b", "--flavor", "mysql", "--no-verify", "--host", "h", "--username", "u", "--passwd", "p1", "--database", "d")
    secrets_file = tmp_path / "config" / "secrets.json"
    os.chmod(secrets_file, 0o644)
    r = cli("metadata", "register", "c", "--flavor", "mysql", "--no-verify", "--host", "h", "--username", "u", "--passwd", "p2", "--database", "d")
    assert r.code == 2
    assert r.err.endswith(f"zenml-notebook: error: secrets file {secrets_file} is readable by other users (mode 0644); run `chmod 600 {secrets_file}`\n")
    assert "'c'" not in cli("metadata", "list").out


def test_prompted_password_never_echoes(cli, repo: Path, tmp_path: Path) -> None:
    r = cli("metadata", "register", "db", "--flavor", "mysql", "--no-verify", "--host", "h", "--username", "u", "--passwd", "--database", "d", input=PASSWORD + "\n")
    assert r.code == 0, r.err
    assert PASSWORD not in r.out + r.err
    assert "typed inline" not in r.err
    assert PASSWORD in (tmp_path / "config" / "secrets.json").read_text()


def test_secrets_follow_component_lifecycle(shell, repo: Path, tmp_path: Path) -> None:
    import json

    secrets_file = tmp_path / "config" / "secrets.json"
    shell.run_line_magic("zenml", "metadata register db --flavor mysql --no-verify --host h --username u --passwd one --database d")
    assert list(json.loads(secrets_file.read_text()).values()) == ["one"]
    shell.run_line_magic("zenml", "metadata update db --passwd two --no-verify")
    assert list(json.loads(secrets_file.read_text()).values()) == ["two"]
    shell.run_line_magic("zenml", "metadata update db --port 3307 --no-verify")
    assert list(json.loads(secrets_file.read_text()).values()) == ["two"]
    shell.run_line_magic("zenml", "metadata delete db")
    assert json.loads(secrets_file.read_text()) == {}


def test_secret_in_a_failed_command_is_masked_and_not_kept(shell, repo: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("zenml", f"metadata register db --flavor mysql --no-verify --host h --username u --passwd {PASSWORD} --database d --port 0")
    assert PASSWORD not in str(info.value)
    assert not (tmp_path / "config" / "secrets.json").exists()


def test_resolve_and_redaction(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from zenml_notebook import secrets
    from zenml_notebook.exceptions import SecretError, ZenMLError

    ref = secrets.store_secret("value-123")
    assert secrets.resolve(ref) == "value-123"
    assert str(ZenMLError("failed with value-123 inside")) == "failed with ******** inside"
    monkeypatch.setenv("MY_PW", "from-env-456")
    assert secrets.resolve(secrets.env_ref("MY_PW")) == "from-env-456"
    monkeypatch.delenv("MY_PW")
    with pytest.raises(SecretError, match=r"password comes from \$MY_PW, which is not set; export it"):
        secrets.resolve(secrets.env_ref("MY_PW"), "password")
    secrets.delete_secret(ref)
    with pytest.raises(SecretError, match="is not stored on this machine"):
        secrets.resolve(ref)


def test_config_repr_masks_secret_fields(repo: Path) -> None:
    from zenml_notebook import api
    from zenml_notebook.flavors import config_model

    record, _ = api.register_component(
        "metadata_store", "db", "mysql", {"host": "h", "username": "u", "password": "plain-pw", "database": "d"}, verify=False
    )
    model = config_model("metadata_store", "mysql").model_validate(record.config)
    assert "plain-pw" not in repr(model) and "plain-pw" not in str(record)
