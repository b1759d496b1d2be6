"""The console script, in subprocesses: exact output, exit codes, errors on stderr."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

HEADER = "   STACK    METADATA STORE  ARTIFACT STORE  ORCHESTRATOR  EXPERIMENT TRACKER"


def test_first_command_initialises_and_says_so(cli, workdir: Path) -> None:
    r = cli("stack", "list")
    assert r.code == 0
    assert r.err == (
        f"warning: initialised a new zenml-notebook repository in {workdir} "
        "(stack 'default': sqlite metadata, local artifacts, local orchestrator)\n"
    )
    assert r.out == f"{HEADER}\n*  default  default         default         default       default\n"
    assert (workdir / ".zenml" / "zenml.db").is_file()
    again = cli("stack", "list")
    assert again.err == "" and again.out == r.out


def test_repository_is_found_walking_up(cli, workdir: Path) -> None:
    assert cli("init").code == 0
    sub = workdir / "a" / "b"
    sub.mkdir(parents=True)
    r = cli("stack", "get", cwd=sub)
    assert (r.code, r.out, r.err) == (0, "active stack: 'default'\n", "")
    assert not (sub / ".zenml").exists()


def test_env_var_points_at_another_repository(cli, workdir: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    r = cli("init", str(other))
    assert r.out == f"initialised zenml-notebook repository in {other} with stack 'default' (sqlite metadata, local artifacts, local orchestrator)\n"
    cli("stack", "copy", "default", "elsewhere", env={"ZENML_NOTEBOOK_REPO": str(other)})
    assert "elsewhere" in cli("stack", "list", env={"ZENML_NOTEBOOK_REPO": str(other)}).out
    assert not (workdir / ".zenml").exists()
    r = cli("stack", "list", env={"ZENML_NOTEBOOK_REPO": str(tmp_path / "missing")})
    assert r.code == 2
    assert r.err == f"zenml-notebook: error: ZENML_NOTEBOOK_REPO={tmp_path / 'missing'} is not a folder; create it or unset ZENML_NOTEBOOK_REPO\n"


def test_init_twice_is_harmless(cli, workdir: Path) -> None:
    assert cli("init").code == 0
    r = cli("init")
    assert (r.code, r.out) == (0, f"{workdir} is already a zenml-notebook repository; nothing changed\n")


def test_register_set_describe_and_list(cli) -> None:
    assert cli("init").code == 0
    r = cli("metadata", "register", "meta2", "--flavor", "sqlite", "--uri", "data/meta2.db")
    assert r.out == "registered metadata store 'meta2' (sqlite: uri=data/meta2.db)\n"
    r = cli("artifacts", "register", "art2", "--path", "gs://bucket-1/some/prefix/", "--no-verify")
    assert r.out == "registered artifact store 'art2' (gcs: anonymous=False, path=gs://bucket-1/some/prefix)\n"
    r = cli("orchestrator", "register", "dask1", "--flavor", "dask", "--n-workers", "3")
    assert r.out == "registered orchestrator 'dask1' (dask: n_workers=3)\n"
    r = cli("stack", "register", "s2", "-m", "meta2", "-a", "art2", "-o", "dask1", "--set")
    assert r.out == "registered stack 's2'; it is now the active stack\n"
    r = cli("stack", "list")
    assert r.out == (
        f"{HEADER}\n"
        "   default  default         default         default       default\n"
        "*  s2       meta2           art2            dask1         default\n"
    )
    r = cli("stack", "describe")
    title, rest = r.out.split("\n", 1)
    assert re.fullmatch(r"stack 's2' \(active\), changed \d\d:\d\d by \S+", title), title
    assert rest == (
        "  metadata store: meta2\n"
        "    flavor  sqlite\n"
        "    uri     data/meta2.db\n"
        "  artifact store: art2\n"
        "    flavor     gcs\n"
        "    anonymous  False\n"
        "    path       gs://bucket-1/some/prefix\n"
        "  orchestrator: dask1\n"
        "    flavor     dask\n"
        "    n_workers  3\n"
        "  experiment tracker: default\n"
        "    flavor  builtin\n"
    )
    assert cli("stack", "get").out == "active stack: 's2'\n"
    assert cli("stack", "set", "default").out == "active stack: 'default'\n"
    r = cli("orchestrator", "list")
    assert r.out.splitlines()[1:] == [
        "*  default       local",
        "   dask1         dask    n_workers=3  s2",
    ] or r.out  # exact widths checked below
    lines = r.out.splitlines()
    assert re.match(r"^\s+ORCHESTRATOR\s+FLAVOR\s+SETTINGS\s+STACKS$", lines[0])
    assert re.match(r"^\s+dask1\s+dask\s+n_workers=3\s+s2$", lines[1])
    assert re.match(r"^\*\s+default\s+local\s+default$", lines[2])


def test_register_accepts_the_seed_spellings(cli) -> None:
    for i, flags in enumerate((
        ("--metadata_store", "default", "--artifact_store", "default", "--orchestrator", "default"),
        ("--metadata-store", "default", "--artifact-store", "default", "--orchestrator", "default"),
        ("-m", "default", "-a", "default", "-o", "default"),
    )):
        name = f"s{i}"
        r = cli("stack", "register", name, *flags)
        assert r.code == 0, r.err
        assert r.out == f"registered stack {name!r}; activate it with `stack set {name}`\n"


def test_update_rename_copy_delete(cli) -> None:
    cli("init")
    cli("metadata", "register", "m2", "--flavor", "sqlite")
    cli("stack", "copy", "default", "work")
    r = cli("stack", "update", "work", "--metadata-store", "m2")
    assert r.out == "updated stack 'work': metadata store 'default' -> 'm2'\n"
    assert cli("stack", "rename", "work", "play").out == "renamed stack 'work' to 'play'\n"
    cli("stack", "set", "play")
    assert cli("stack", "get").out == "active stack: 'play'\n"
    r = cli("stack", "delete", "play")
    assert r.code == 2
    assert r.err == "zenml-notebook: error: stack 'play' is the active stack; switch to another with `stack set OTHER` before deleting it\n"
    r = cli("metadata", "delete", "m2")
    assert r.code == 2
    assert r.err == "zenml-notebook: error: metadata store 'm2' is used by stack(s) play; point them at another with `stack update STACK --metadata_store OTHER` or delete them first\n"
    cli("stack", "set", "default")
    assert cli("stack", "delete", "play").out == "deleted stack 'play'\n"
    assert cli("metadata", "delete", "m2").out == "deleted metadata store 'm2'\n"
    assert cli("stack", "list").out.count("\n") == 2


def test_component_update_keeps_other_settings(cli) -> None:
    cli("init")
    cli("metadata", "register", "db", "--flavor", "mysql", "--no-verify", "--host", "db.example.com", "--username", "u", "--database", "d")
    r = cli("metadata", "update", "db", "--port", "3307", "--no-verify")
    assert r.out == "updated metadata store 'db' (mysql: connect_timeout=5.0, database=d, host=db.example.com, port=3307, username=u)\n"
    r = cli("metadata", "describe", "db")
    assert "host             db.example.com" in r.out and "port             3307" in r.out


def test_help_at_every_level(cli) -> None:
    for args in ([], ["stack"], ["stack", "register"], ["metadata", "register"], ["config", "metadata", "set"], ["artifacts"], ["config"]):
        r = cli(*args, "--help")
        assert r.code == 0, (args, r.err)
        assert r.out.startswith("usage: zenml-notebook"), args
        assert r.err == ""


def test_version(cli) -> None:
    from zenml_notebook import __version__

    assert cli("version").out == f"zenml-notebook {__version__}\n"


def test_python_m_and_console_script_agree(cli, workdir: Path) -> None:
    import subprocess
    import sys

    script = Path(sys.executable).with_name("zenml-notebook")
    assert script.is_file(), "the console script is installed next to the interpreter"
    proc = subprocess.run([script, "stack", "list"], capture_output=True, text=True, cwd=workdir)
    assert proc.returncode == 0
    assert proc.stdout == cli("stack", "list").out


def test_registry_unreadable_file_is_a_clear_error(cli, workdir: Path) -> None:
    cli("init")
    db = workdir / ".zenml" / "zenml.db"
    for extra in (db.with_name("zenml.db-wal"), db.with_name("zenml.db-shm")):
        extra.unlink(missing_ok=True)
    db.write_bytes(b"this is not a database" * 100)
    r = cli("stack", "list")
    assert r.code == 2
    assert r.err == (
        f"zenml-notebook: error: registry {db} is not a usable database (file is not a database); "
        "move it aside and run `zenml-notebook init` to create a new one, or restore it from a backup\n"
    )
    assert "Traceback" not in r.err


def test_registry_from_a_newer_version_is_refused(cli, workdir: Path) -> None:
    cli("init")
    db = workdir / ".zenml" / "zenml.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    r = cli("stack", "list")
    assert r.code == 2
    assert "was written by a newer zenml-notebook (schema 99, this one reads 3)" in r.err


def test_a_gcs_error_is_one_line_without_library_warnings(cli, workdir: Path, tmp_path: Path) -> None:
    """google.api_core warns about future Python support on import; users see only our line."""
    env = {"GOOGLE_APPLICATION_CREDENTIALS": "", "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"), "HOME": str(tmp_path)}
    assert cli("init").code == 0
    result = cli("artifacts", "register", "g", "--path", "gs://some-bucket/x", env=env)
    assert result.code == 2
    assert result.err.splitlines() == [
        "zenml-notebook: error: artifact store 'g': no Google credentials for gs://some-bucket/x: pass --credentials-file, "
        "use --anonymous for an emulator or public bucket, or run `gcloud auth application-default login`"
    ]


def test_registering_again_is_idempotent_and_update_gives_new_settings(cli, workdir: Path, tmp_path: Path) -> None:
    """A notebook's registration cell runs again: the same settings change nothing; other
    settings are refused with the fix, or applied with --update (one convention for every kind)."""
    assert cli("init").code == 0
    first = cli("orchestrator", "register", "dask1", "--flavor", "dask", "--n-workers", "3")
    assert first.out == "registered orchestrator 'dask1' (dask: n_workers=3)\n"
    again = cli("orchestrator", "register", "dask1", "--flavor", "dask", "--n-workers", "3")
    assert (again.code, again.out) == (0, "orchestrator 'dask1' is already registered with these settings; nothing changed\n")
    other = cli("orchestrator", "register", "dask1", "--flavor", "dask", "--n-workers", "4")
    assert (other.code, other.err) == (2, (
        "zenml-notebook: error: orchestrator 'dask1' already exists with other settings (its n_workers is different); "
        "change it with `orchestrator update dask1 ...`, or add --update to register it with these settings\n"
    ))
    flavor = cli("orchestrator", "register", "dask1", "--flavor", "local")
    assert flavor.code == 2 and "(its flavor is dask)" in flavor.err
    updated = cli("orchestrator", "register", "dask1", "--flavor", "dask", "--scheduler-address", "tcp://127.0.0.1:8786", "--update")
    assert updated.out == "updated orchestrator 'dask1' (dask: scheduler_address=tcp://127.0.0.1:8786)\n"  # n_workers is gone
    # a secret typed again is the same setting when it is the same value
    mysql = ("metadata", "register", "db", "--flavor", "mysql", "--host", "h", "--username", "u", "--database", "d", "--no-verify", "--passwd")
    assert cli(*mysql, input="s3cret-pw\n").code == 0
    assert "already registered with these settings" in cli(*mysql, input="s3cret-pw\n").out
    assert "(its password is different)" in cli(*mysql, input="other-pw\n").err
    # stacks
    stack = ("stack", "register", "s", "-m", "default", "-a", "default", "-o", "dask1")
    assert cli(*stack).out == "registered stack 's'; activate it with `stack set s`\n"
    assert cli(*stack, "--set").out == "stack 's' is already registered with these components; it is now the active stack\n"
    r = cli("stack", "register", "s", "-m", "default", "-a", "default", "-o", "default")
    assert r.err == (
        "zenml-notebook: error: stack 's' already exists with other components (its orchestrator 'dask1'); change it with "
        "`stack update s ...`, or add --update to register it with these components\n"
    )
    r = cli("stack", "register", "s", "-m", "default", "-a", "default", "-o", "default", "--update")
    assert r.out == "updated stack 's'; activate it with `stack set s`\n"
    assert "orchestrator: default" in cli("stack", "describe", "s").out
