"""The ipywidget forms, headless: set values, click, check the status line and the registry."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from zenml_notebook import api
from zenml_notebook.widgets import artifacts_form, mysql_form, stack_form

from ..test_bad_input import snapshot


def fill_mysql(form, account, password: str | None = None) -> None:
    form.host.value, form.port.value = account.host, str(account.port)
    form.username.value, form.database.value = account.user, account.database
    form.password.value = account.password if password is None else password


@pytest.mark.parametrize(("field", "value", "message"), [
    ("host", "", "host is empty; fill it in"),
    ("port", "0", "port must be a number from 1 to 65535 (got 0)"),
    ("port", "70000", "port must be a number from 1 to 65535 (got 70000)"),
    ("port", "abc", "port must be a number from 1 to 65535 (got 'abc')"),
    ("database", " ", "database is empty; fill it in"),
])
def test_mysql_inline_validation(repo: Path, field: str, value: str, message: str) -> None:
    form = mysql_form()
    form.host.value, form.username.value, form.database.value, form.password.value = "db.example.com", "u", "d", "pw-123456"
    getattr(form, field).value = value
    before = snapshot(repo)
    started = time.monotonic()
    form.save_button.click()
    assert time.monotonic() - started < 0.5  # refused before any network call
    assert form.status_text == message
    assert snapshot(repo) == before
    assert form.password.value == ""  # even a refused save takes the password out of the widget


def test_mysql_test_save_and_prefill(repo: Path, mysql_account, tmp_path: Path) -> None:
    form = mysql_form()
    fill_mysql(form, mysql_account)
    form.test_button.click()
    assert form.status_text.startswith("OK - MySQL server 10.") and form.status_text.endswith(" ms")
    assert form.password.value == ""
    form.save_button.click()
    assert form.status_text == "registered metadata store 'team-mysql'; stack 'default' uses it"
    assert api.get_stack_record().components["metadata_store"] == "team-mysql"
    assert all(not b.disabled for b in form.buttons)
    secrets_file = tmp_path / "config" / "secrets.json"
    assert mysql_account.password in json.loads(secrets_file.read_text()).values()
    for f in (repo / ".zenml").rglob("*"):
        if f.is_file():
            assert mysql_account.password.encode() not in f.read_bytes()
    again = mysql_form("team-mysql")
    assert (again.host.value, again.port.value, again.username.value, again.database.value) == (
        mysql_account.host, str(mysql_account.port), mysql_account.user, mysql_account.database)
    assert again.password.value == "" and "stored" in again.password.placeholder
    again.test_button.click()  # the stored password is used
    assert again.status_text.startswith("OK - MySQL server")


def test_the_database_form_takes_postgresql_too(repo: Path, pg_account, tmp_path: Path) -> None:
    form = mysql_form()
    assert form.port.value == "3306"
    form.flavor.value = "postgresql"
    assert form.port.value == "5432"  # the server's default port follows the choice
    form.name.value = "team-pg"
    fill_mysql(form, pg_account)
    form.test_button.click()
    assert form.status_text.startswith("OK - PostgreSQL 15") and form.status_text.endswith(" ms"), form.status_text
    assert form.password.value == ""
    form.save_button.click()
    assert form.status_text == "registered metadata store 'team-pg'; stack 'default' uses it", form.status_text
    record, _ = api.get_component("metadata_store", "team-pg")
    assert record.flavor == "postgresql" and record.config["database"] == pg_account.database
    for f in (repo / ".zenml").rglob("*"):
        if f.is_file():
            assert pg_account.password.encode() not in f.read_bytes()
    again = mysql_form("team-pg")
    assert again.flavor.value == "postgresql" and again.port.value == str(pg_account.port)
    again.test_button.click()  # the stored password is used
    assert again.status_text.startswith("OK - PostgreSQL"), again.status_text
    wrong = mysql_form()
    wrong.flavor.value = "postgresql"
    wrong.name.value = "bad-pg"
    fill_mysql(wrong, pg_account, password="wrong-password-1")
    wrong.test_button.click()
    assert f"refused user {pg_account.user!r}: wrong user name or password" in wrong.status_text, wrong.status_text
    assert "wrong-password-1" not in wrong.status_text


def test_mysql_classified_failures(repo: Path, mysql_account) -> None:
    form = mysql_form()
    fill_mysql(form, mysql_account, password="wrong-password-1")
    form.test_button.click()
    assert form.status_text == (
        f"MySQL server 127.0.0.1:{mysql_account.port} refused user 'zenml': wrong user name or password; "
        "check 'User' and set the password again"
    ).replace("MySQL server", "metadata store 'team-mysql': MySQL server", 1)
    form.port.value = "1"
    form.password.value = "wrong-password-1"
    form.save_button.click()
    assert form.status_text == "metadata store 'team-mysql': nothing is listening on 127.0.0.1:1 (connection refused); start the MySQL server or fix 'Host' and 'Port'"
    assert "team-mysql" not in [r.name for r in api.list_components("metadata_store")[0]]
    assert "wrong-password-1" not in form.status.value


def test_buttons_are_disabled_while_working(repo: Path) -> None:
    form = stack_form()
    seen = []
    form._run(lambda: seen.append([b.disabled for b in form.buttons]))
    assert seen == [[True, True]] and [b.disabled for b in form.buttons] == [False, False]
    form._run(lambda: 1 / 0)
    assert form.status_text == "unexpected ZeroDivisionError: division by zero"


def test_artifact_form(repo: Path, gcs_server, gcs_bucket: str, s3_server, s3_bucket: str, tmp_path: Path) -> None:
    form = artifacts_form()
    form.path.value = "http://example.com/x"
    form.save_button.click()
    assert form.status_text.startswith("unsupported artifact store URI scheme 'http'")
    form.path.value = f"s3://{s3_bucket}/runs"
    form.save_button.click()
    assert form.status_text == f"'s3://{s3_bucket}/runs' is a s3 location; pick s3 as the kind or fix the path"
    form.flavor.value = "gcs"
    form.path.value = f"gs://{gcs_bucket}/runs"
    form.anonymous.value = True
    form.endpoint_url.value = gcs_server.url
    form.test_button.click()
    assert form.status_text.startswith(f"OK - gs://{gcs_bucket}/runs is writable")
    form.save_button.click()
    assert form.status_text == "registered artifact store 'team-artifacts'; stack 'default' uses it"
    s3 = artifacts_form()
    s3.name.value, s3.flavor.value, s3.path.value = "s3-store", "s3", f"s3://{s3_bucket}/runs"
    s3.endpoint_url.value, s3.key.value, s3.secret.value, s3.use.value = s3_server.url, "testing", "s3-secret-value-9", False
    assert s3.extra.children == (s3.s3_box,)
    s3.save_button.click()
    assert s3.status_text == "registered artifact store 's3-store'"
    assert (s3.key.value, s3.secret.value) == ("", "")
    record = api.get_component("artifact_store", "s3-store")[0]
    assert record.config["secret"]["$secret"] and "s3-secret-value-9" in (tmp_path / "config" / "secrets.json").read_text()


def test_a_form_filled_before_someone_else_saved_is_refused_then_applies_on_top(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.register_component("artifact_store", "shared", "local", {"path": str(tmp_path / "one")})
    monkeypatch.setenv("ZENML_NOTEBOOK_USER", "ana@laptop")
    form = artifacts_form("shared")  # filled from version 1
    monkeypatch.setenv("ZENML_NOTEBOOK_USER", "bob@desk")
    api.update_component("artifact_store", "shared", {"path": str(tmp_path / "bob")})
    monkeypatch.setenv("ZENML_NOTEBOOK_USER", "ana@laptop")
    form.path.value, form.use.value = str(tmp_path / "ana"), False
    form.save_button.click()
    assert re.fullmatch(r"artifact store 'shared' was changed by bob@desk at \d\d:\d\d since you read it; Save again to apply it "
                        r"on top", form.status_text), form.status_text
    assert api.get_component("artifact_store", "shared")[0].config["path"] == str(tmp_path / "bob")  # nothing lost
    form.save_button.click()
    assert form.status_text == "updated artifact store 'shared'"
    record = api.get_component("artifact_store", "shared")[0]
    assert record.config["path"] == str(tmp_path / "ana") and record.updated_by == "ana@laptop" and record.version == 3
    form.path.value = str(tmp_path / "ana2")
    form.save_button.click()  # its own save moved its version on: no conflict with itself
    assert form.status_text == "updated artifact store 'shared'"


def test_stack_form(repo: Path) -> None:
    api.register_component("orchestrator", "dask2", "dask", {"n_workers": 2})
    form = stack_form()
    form.register_button.click()
    assert form.status_text == "stack name is empty; fill it in"
    form.name.value = "<b>bad</b>"
    form.register_button.click()
    assert form.status_text.startswith("invalid stack name '<b>bad</b>'")
    assert "<b>bad</b>" not in form.status.value  # shown as text, escaped
    form.name.value = "experiments"
    form.parts["orchestrator"].value = "dask2"
    form.activate_button.click()
    assert form.status_text == "registered stack 'experiments'; it is now the active stack"
    assert api.active_stack_name() == "experiments" and api.get_stack_record().components["orchestrator"] == "dask2"


def test_form_magic(shell, repo: Path) -> None:
    from IPython.core.error import UsageError

    form = shell.run_line_magic("zenml", "form mysql")
    assert type(form).__name__ == "MySQLForm"
    assert type(shell.run_line_magic("zenml", "form stack")).__name__ == "StackForm"
    assert shell.run_line_magic("zenml", "form postgresql").flavor.value == "postgresql"
    with pytest.raises(UsageError, match=r"unknown command .postgres. \(did you mean .postgresql.\?\); choose from mysql, postgresql, "
                                         r"artifacts, tracker, stack"):
        shell.run_line_magic("zenml", "form postgres")


def test_form_in_a_terminal_says_what_to_do(cli, repo: Path) -> None:
    r = cli("form", "mysql")
    assert r.code == 2 and r.err == (
        "zenml-notebook: error: forms need a notebook; in a terminal use `metadata register NAME --flavor mysql ... --passwd` (it prompts)\n"
    )


NOTEBOOK = [
    "%load_ext zenml_notebook",
    "import os\nform = %zenml form mysql\nform",
    "form.host.value = os.environ['ZN_HOST']\nform.port.value = os.environ['ZN_PORT']\nform.username.value = os.environ['ZN_USER']\n"
    "form.database.value = os.environ['ZN_DB']\nform.password.value = os.environ['ZN_PW']  # stands in for typing\n"
    "form.save_button.click()\nprint(form.status_text)",
    "%zenml metadata test",
]


def test_no_password_in_the_saved_notebook(workdir: Path, mysql_account, monkeypatch) -> None:
    import nbformat
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    a = mysql_account
    for k, v in (("ZN_HOST", a.host), ("ZN_PORT", str(a.port)), ("ZN_USER", a.user), ("ZN_DB", a.database), ("ZN_PW", a.password)):
        monkeypatch.setenv(k, v)
    nb = new_notebook(cells=[new_code_cell(c) for c in NOTEBOOK], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}, store_widget_state=True).execute()
    path = workdir / "form.ipynb"
    nbformat.write(nb, path)
    text = path.read_text()
    assert "application/vnd.jupyter.widget-state+json" in text  # the widget state was saved...
    assert a.password not in text  # ...without the password
    out = "".join(o.get("text", "") for o in nb.cells[2].outputs if o.get("name") == "stdout")
    notice = "".join(o.get("text", "") for o in nb.cells[1].outputs if o.get("name") == "stdout")
    assert notice.startswith("initialised a new zenml-notebook repository in")  # by the first command typed, as information
    assert not any("initialised" in o.get("text", "") for c in nb.cells for o in c.outputs if o.get("name") == "stderr")
    assert out == "registered metadata store 'team-mysql'; stack 'default' uses it\n"
    assert "OK - MySQL server" in "".join(o.get("text", "") for o in nb.cells[3].outputs)
    for f in (workdir / ".zenml").rglob("*"):
        if f.is_file():
            assert a.password.encode() not in f.read_bytes()


def test_form_messages_talk_about_fields_not_flags(repo: Path, mysql_account, gcs_server, tmp_path: Path, monkeypatch) -> None:
    """Every failure a form shows, in the form's words: no `--flag` anywhere."""
    from zenml_notebook.widgets import in_form_words

    shown: list[str] = []
    form = mysql_form()
    for password, port, database in (("wrong-password-1", str(mysql_account.port), mysql_account.database), ("x-123456", "1", "d"),
                                     ("x-123456", "0", "d"), (mysql_account.password, str(mysql_account.port), "bad name")):
        fill_mysql(form, mysql_account, password=password)
        form.port.value, form.database.value = port, database
        for button in form.buttons:
            button.click()
            shown.append(form.status_text)
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
    art = artifacts_form()
    (tmp_path / "bad.json").write_text("{not json")
    for flavor, path, extra in (("gcs", "gs://zn-no-creds/x", {}), ("gcs", "gs://zn-bucket/x", {"credentials_file": str(tmp_path / "bad.json")}),
                                ("gcs", "gs://zn-bucket/x", {"endpoint_url": "http://127.0.0.1:1"}), ("local", "s3://b/x", {}), ("s3", "", {})):
        art.flavor.value, art.path.value = flavor, path
        art.credentials_file.value = extra.get("credentials_file", "")
        art.endpoint_url.value = extra.get("endpoint_url", "")
        for button in art.buttons:
            button.click()
            shown.append(art.status_text)
    stack = stack_form()
    stack.name.value = "bad name"
    stack.buttons[-1].click()
    shown.append(stack.status_text)
    assert len(shown) >= 15 and all(shown)
    for text in shown:
        assert "--" not in text and " -m " not in text, text
    assert in_form_words("store it with `%zenml metadata update x --passwd`; check --key (or --key-env)") == "store it with this form; check 'Access key'"


def test_tracker_form(repo: Path, mlflow_server, tmp_path: Path) -> None:
    from zenml_notebook.widgets import tracker_form

    form = tracker_form()
    form.save_button.click()
    assert form.status_text == "tracking uri is empty; fill it in"
    form.tracking_uri.value = "ftp://127.0.0.1:1"
    form.test_button.click()
    assert "is not an http(s):// address" in form.status_text
    form.tracking_uri.value = "http://127.0.0.1:9"
    form.test_button.click()
    assert "cannot be reached" in form.status_text and "--" not in form.status_text
    form.tracking_uri.value, form.experiment.value = mlflow_server.url, "from-form"
    form.username.value, form.password.value = "ana", "tracker-form-pw-7"
    form.test_button.click()
    assert form.status_text.startswith(f"OK - MLflow at {mlflow_server.url} answered")
    assert form.password.value == ""  # taken out of the widget at once
    form.save_button.click()
    assert form.status_text == "registered experiment tracker 'team-mlflow'; stack 'default' uses it"
    record = api.describe_stack().components["experiment_tracker"]
    assert (record.name, record.config["experiment"], record.config["username"]) == ("team-mlflow", "from-form", "ana")
    assert record.config["password"]["$secret"] and "tracker-form-pw-7" in (tmp_path / "config" / "secrets.json").read_text()
    again = tracker_form("team-mlflow")  # pre-filled, except the password
    assert (again.tracking_uri.value, again.password.value, again.password.placeholder) == (mlflow_server.url, "", "(stored - leave empty to keep)")
    again.test_button.click()
    assert again.status_text.startswith("OK - MLflow"), again.status_text
