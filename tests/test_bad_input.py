"""Every user mistake: one clear line naming the problem and the fix; nothing changes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from IPython.core.error import UsageError

MARKUP = "<img src=x onerror=alert(1)>"
NAME_RULE = "use 1-63 letters, digits, '-', '_' or '.', starting with a letter or digit"


def snapshot(repo: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(repo / ".zenml" / "zenml.db") as conn:
        return [
            *conn.execute("SELECT kind, name, flavor, config FROM components ORDER BY kind, name"),
            *conn.execute("SELECT name, metadata_store, artifact_store, orchestrator FROM stacks ORDER BY name"),
            *conn.execute("SELECT key, value FROM meta ORDER BY key"),
        ]


CASES = [
    # missing required options
    ("stack register s1 -m default -a default",
     "stack register: the following arguments are required: -o/--orchestrator/--orchestrator (see `%zenml stack register --help`)"),
    ("metadata register m1",
     "metadata register: the following arguments are required: --flavor/-f (see `%zenml metadata register --help`)"),
    ("config metadata set mysql --host h --username u",
     "invalid mysql metadata store 'default-mysql': database is required (--database)"),
    # unknown flavor, with suggestion
    ("metadata register m1 --flavor mysqll",
     "unknown metadata store flavor 'mysqll' (did you mean 'mysql'?); available: mysql, postgresql, sqlite"),
    ("orchestrator register o1 --flavor dusk",
     "unknown orchestrator flavor 'dusk' (did you mean 'dask'?); available: dask, local"),
    ("config metadata set postgres",
     "unknown metadata store flavor 'postgres' (did you mean 'postgresql'?); available: mysql, postgresql, sqlite"),
    # unknown component in stack register / update / set
    ("stack register s1 -m default -a defualt -o default",
     "artifact store 'defualt' does not exist (did you mean 'default'?); register it with "
     "`artifacts register defualt --flavor gcs|local|s3 ...` (registered: default)"),
    ("stack update default -o nope",
     "orchestrator 'nope' does not exist; register it with `orchestrator register nope --flavor dask|local ...` (registered: default)"),
    ("stack describe nope", "stack 'nope' does not exist; registered stacks: default"),
    ("metadata describe nope",
     "metadata store 'nope' does not exist; register it with `metadata register nope --flavor mysql|postgresql|sqlite ...` (registered: default)"),
    # duplicates
    ("metadata register default --flavor sqlite --uri other.db",
     "metadata store 'default' already exists with other settings (its uri is different); change it with "
     "`metadata update default ...`, or add --update to register it with these settings"),
    ("stack copy default default", "stack 'default' already exists; pick another name"),
    ("stack rename default default", "stack 'default' already exists; pick another name"),
    # names with spaces, quotes, markup, shell syntax
    ("stack register 'my stack' -m default -a default -o default", f"invalid stack name 'my stack': {NAME_RULE}"),
    ("stack copy default \"it's\"", f"invalid stack name \"it's\": {NAME_RULE}"),
    (f"stack copy default '{MARKUP}'", f"invalid stack name '{MARKUP}': {NAME_RULE}"),
    ("metadata register '`whoami`' --flavor sqlite", f"invalid metadata store name '`whoami`': {NAME_RULE}"),
    ("orchestrator register 'a;rm -rf /' --flavor local", f"invalid orchestrator name 'a;rm -rf /': {NAME_RULE}"),
    ("stack rename default '../x'", f"invalid stack name '../x': {NAME_RULE}"),
    # invalid ports
    ("metadata register m1 --flavor mysql --host h --username u --database d --port 0",
     "invalid mysql metadata store 'm1': port: must be an integer from 1 to 65535 (got 0)"),
    ("metadata register m1 --flavor mysql --host h --username u --database d --port 70000",
     "invalid mysql metadata store 'm1': port: must be an integer from 1 to 65535 (got 70000)"),
    ("metadata register m1 --flavor mysql --host h --username u --database d --port abc",
     "invalid mysql metadata store 'm1': port: must be an integer from 1 to 65535 (got 'abc')"),
    ("metadata register m1 --flavor mysql --host 'bad host' --username u --database d",
     "invalid mysql metadata store 'm1': host: 'bad host' is not a host name or IP address"),
    ("metadata register m1 --flavor mysql --host h --username u --database d --connect-timeout soon",
     "invalid mysql metadata store 'm1': connect_timeout: input should be a valid number, unable to parse string as a number (got 'soon')"),
    # the server's own schemas; SQLite files that cannot be
    ("metadata register m1 --flavor mysql --host h --username u --database mysql --no-verify",
     "invalid mysql metadata store 'm1': database: 'mysql' is not a database name: it is the server's own system schema; "
     "use a database of your own"),
    ("metadata register m1 --flavor mysql --host h --username u --database Information_Schema --no-verify",
     "invalid mysql metadata store 'm1': database: 'Information_Schema' is not a database name: it is the server's own "
     "system schema; use a database of your own"),
    ("registry connect mysql://team@127.0.0.1/performance_schema",
     "the registry URL names the server's own system schema 'performance_schema'; give a database of your own"),
    ("metadata register m1 --flavor sqlite --uri /proc/version/x.db",
     "metadata store 'm1': /proc/version/x.db cannot be created: /proc/version is a file, not a folder; give --uri another path"),
    ("config metadata set sqlite --uri /etc/hostname/deeper/m.db",
     "metadata store 'default-sqlite': /etc/hostname/deeper/m.db cannot be created: /etc/hostname is a file, not a folder; "
     "give --uri another path"),
    ("metadata register m1 --flavor sqlite --uri /dev/null",
     "metadata store 'm1': /dev/null is not a regular file; give --uri a path for a SQLite file"),
    # options that do not apply to the flavor
    ("metadata register m1 --flavor sqlite --host h",
     "invalid sqlite metadata store 'm1': unknown setting 'host' (valid: uri)"),
    # unsupported URI schemes
    ("config artifacts set http://169.254.169.254/latest",
     "unsupported artifact store URI scheme 'http' in 'http://169.254.169.254/latest'; use a local path, "
     "file:///abs/path, gs://bucket/prefix or s3://bucket/prefix"),
    ("artifacts register a1 --path ftp://host/x",
     "unsupported artifact store URI scheme 'ftp' in 'ftp://host/x'; use a local path, file:///abs/path, "
     "gs://bucket/prefix or s3://bucket/prefix"),
    ("artifacts register a1 --path gs://bucket/a/../../other",
     "'gs://bucket/a/../../other' contains '.' or '..' segments; write the prefix out in full"),
    ("artifacts register a1 --path 's3://Bad_Bucket/x'",
     "invalid bucket name 'Bad_Bucket' in 's3://Bad_Bucket/x': use 3-222 lowercase letters, digits, '-', '_' or '.'"),
    ("artifacts register a1 --flavor s3 --path gs://bucket/x",
     "invalid s3 artifact store 'a1': path: 'gs://bucket/x' is a gcs location, not s3"),
    ("artifacts register a1 --path 'C:\\data'",
     "Windows-style path 'C:\\\\data' is not supported; use a local path, file:///abs/path, gs://bucket/prefix or s3://bucket/prefix"),
    # dask settings
    ("orchestrator register o1 --flavor dask --n-workers 0",
     "invalid dask orchestrator 'o1': n_workers: input should be greater than or equal to 1 (got '0')"),
    ("orchestrator register o1 --flavor dask --scheduler-address localhost",
     "invalid dask orchestrator 'o1': settings: scheduler_address 'localhost' must look like tcp://host:8786"),
    # quoting
    ("stack copy default 'unterminated", "cannot read the command line: No closing quotation; check its quotes"),
    # the secret options
    ("metadata register m1 --flavor mysql --host h --username u --database d --passwd x --passwd-env PW",
     "give --passwd or --passwd-env, not both"),
    ("metadata register m1 --flavor mysql --host h --username u --database d --passwd-env 1BAD",
     "invalid environment variable name '1BAD': use letters, digits and '_'"),
]


@pytest.mark.parametrize(("line", "message"), CASES, ids=[c[0][:60] for c in CASES])
def test_bad_input(shell, repo: Path, line: str, message: str) -> None:
    before = snapshot(repo)
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("zenml", line)
    assert str(info.value) == message
    assert "\n" not in str(info.value)
    assert snapshot(repo) == before


def test_remote_dask_with_local_artifacts_is_refused(shell, repo: Path) -> None:
    shell.run_line_magic("zenml", "orchestrator register far --flavor dask --scheduler-address tcp://10.1.2.3:8786")
    shell.run_line_magic("zenml", "orchestrator register near --flavor dask --scheduler-address tcp://127.0.0.1:8786")
    before = snapshot(repo)
    expected = (
        "stack 's': orchestrator 'far' runs steps on the Dask scheduler at tcp://10.1.2.3:8786, whose "
        "workers cannot write to the local artifact store 'default'; use a gs:// or s3:// artifact store, "
        "or a local Dask cluster (--n-workers)"
    )
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("zenml", "stack register s -m default -a default -o far")
    assert str(info.value) == expected
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("zenml", "config orchestrator set dask --scheduler-address tcp://10.1.2.3:8786")
    assert str(info.value) == expected.replace("stack 's'", "stack 'default'")  # reuses 'far'
    assert snapshot(repo) == before
    # the same remote scheduler is fine with an object store, and a loopback one with a folder
    shell.run_line_magic("zenml", "artifacts register bucket --path gs://team-bucket/runs --no-verify")
    shell.run_line_magic("zenml", "stack register s -m default -a bucket -o far --set")
    shell.run_line_magic("zenml", "stack register t -m default -a default -o near")
    # ...and switching the artifact store of a running pair back to a folder is refused
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("zenml", "config artifacts set ./local-again")
    assert "cannot write to the local artifact store 's-local'" in str(info.value)
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("zenml", "artifacts update bucket --path ./folder")
    assert "cannot write to the local artifact store 'bucket'" in str(info.value)


def test_cli_bad_input_exit_code_and_stderr(cli, repo: Path) -> None:
    before = snapshot(repo)
    r = cli("metadata", "register", "m1", "--flavor", "mysql", "--host", "h", "--username", "u", "--database", "d", "--port", "70000")
    assert (r.code, r.out) == (2, "")
    assert r.err == "zenml-notebook: error: invalid mysql metadata store 'm1': port: must be an integer from 1 to 65535 (got 70000)\n"
    r = cli("stack", "register", "<b>x</b>", "-m", "default", "-a", "default", "-o", "default")
    assert r.code == 2 and r.err == f"zenml-notebook: error: invalid stack name '<b>x</b>': {NAME_RULE}\n"
    r = cli("bogus")
    assert r.code == 2
    assert r.err.startswith("zenml-notebook: error: unknown command 'bogus'; choose from init, version, stack")
    assert snapshot(repo) == before


def test_delete_refusals(shell, repo: Path) -> None:
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("zenml", "stack delete default")
    assert str(info.value) == "stack 'default' is the active stack; switch to another with `stack set OTHER` before deleting it"
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("zenml", "orchestrator delete default")
    assert str(info.value) == (
        "orchestrator 'default' is used by stack(s) default; point them at another with "
        "`stack update STACK --orchestrator OTHER` or delete them first"
    )


def test_a_path_too_long_for_the_file_system_is_one_line(cli, repo: Path) -> None:
    """Found by the hostile sweep: a local artifact store whose folder name is longer than the
    file system allows (255 bytes) raised a raw OSError when checked, and again when listed."""
    too_long = str(repo / ("x" * 300))
    checked = cli("config", "artifacts", "set", too_long)
    assert checked.code != 0 and "Traceback" not in checked.err
    assert "cannot write to the folder" in checked.err and "File name too long" in checked.err
    assert cli("config", "artifacts", "set", too_long, "--no-verify").code == 0  # kept unchecked, as asked
    listed = cli("artifacts", "ls")
    assert listed.code != 0 and "Traceback" not in listed.err
    assert "cannot list" in listed.err and "check the artifact store's path" in listed.err
