"""The shipped notebooks, executed in a real kernel (nbclient), outputs checked."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def execute(name: str, workdir: Path) -> nbformat.NotebookNode:
    shutil.copy(NOTEBOOKS / name, workdir / name)
    nb = nbformat.read(workdir / name, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    nbformat.write(nb, workdir / name)
    return nb


def text_of(cell: nbformat.NotebookNode) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif out["output_type"] in ("execute_result", "display_data"):
            parts.append(out["data"].get("text/plain", ""))
        elif out["output_type"] == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
    return "".join(parts)


def test_quickstart(workdir: Path) -> None:
    nb = execute("quickstart.ipynb", workdir)
    code = [c for c in nb.cells if c.cell_type == "code"]
    by_source = {c.source.splitlines()[0]: text_of(c) for c in code}
    # a user mistake is one red line (a stderr stream), never a traceback
    assert [c.source for c in code if any(o["output_type"] == "error" for o in c.outputs)] == []
    assert by_source["%zenml stack set experimnts"] == (
        "UsageError: stack 'experimnts' does not exist (did you mean 'experiments'?); "
        "registered stacks: default, experiments\n"
    )
    assert all("Traceback" not in text_of(c) for c in code)
    assert by_source["%zenml stack list"].startswith("initialised a new zenml-notebook repository in")  # information, on stdout
    first = next(c for c in code if c.source.startswith("%zenml stack list"))
    assert [o.get("name") for o in first.outputs if o["output_type"] == "stream"] == ["stdout"], first.outputs  # not a red box
    assert "*  default  default         default         default" in by_source["%zenml stack list"]
    assert by_source["%%zenml"] == "registered stack 'experiments'; activate it with `stack set experiments`\n"
    assert "*  experiments  experiments     scratch         default" in by_source["%zenml stack set experiments"]
    assert by_source["%zenml metadata test"] == (
        "UsageError: the password of metadata store 'experiments-mysql' comes from $MYSQL_PASSWORD, "
        "which is not set; export it, or store it with `%zenml metadata update experiments-mysql --passwd`\n"
    )
    assert by_source["%zenml config metadata set mysql --host 127.0.0.1 --port 3306 --username USER --passwd-env MYSQL_PASSWORD --database DATABASE --no-verify"] == (
        "active stack 'experiments': metadata store 'experiments' (sqlite) -> 'experiments-mysql' (mysql: "
        "connect_timeout=5.0, database=DATABASE, host=127.0.0.1, password=******** (env $MYSQL_PASSWORD), "
        "port=3306, username=USER), registered\n"
    )
    assert "'experiments-gcs' (gcs: anonymous=False, path=gs://your-bucket/sub/dir), registered" in by_source["%zenml config artifacts set gs://your-bucket/sub/dir --no-verify"]
    config = by_source["%zenml config list"]
    assert config.startswith("stack 'experiments' (active)") and "metadata store: experiments-mysql" in config
    stacks_cell = next(c for c in code if c.source.startswith("stacks = "))
    assert text_of(stacks_cell).startswith("2 stacks\n")
    assert any("text/html" in o.get("data", {}) for o in stacks_cell.outputs)
    assert "$env: MYSQL_PASSWORD" in by_source["%zenml stack export experiments"]
    assert by_source["%zenml stack set default"] == "active stack: 'default'\n"
    runs = {c.source.split(" = ")[0]: text_of(c) for c in code if c.source.split(" = ")[0] in ("first", "second", "third")}
    assert runs["first"].startswith("training-") and "[complete] 4/4 steps done (0 cached)" in runs["first"]
    assert "run 'training-" in runs["first"] and "train_model          complete" in runs["first"]
    assert "[complete] 4/4 steps done (4 cached)" in runs["second"] and runs["second"].endswith("['cached', 'cached', 'cached', 'cached']")
    assert runs["third"].endswith("['cached', 'cached', 'complete', 'complete']")
    compare = next(text_of(c) for c in code if c.source.startswith("%zenml runs compare"))
    differing = [line.split()[1] for line in compare.splitlines() if line.startswith("≠")]
    assert differing == ["train_model.learning_rate", "train_model", "evaluate"]
    listing = by_source["%zenml runs list training"]
    assert listing.count("complete") == 3
    first_cell = next(c for c in code if c.source.startswith("first = "))
    html = [o for o in first_cell.outputs if "text/html" in o.get("data", {})]
    assert any("zenml-notebook-progress" in o["data"]["text/html"] for o in html)
    assert any("zenml-notebook-run" in o["data"]["text/html"] for o in html)
    assert (workdir / ".zenml" / "zenml.db").is_file() and (workdir / "scratch-artifacts").exists() is False


def test_quickstart_runs_twice(workdir: Path) -> None:
    """Notebooks are re-run all the time: the second run of the quickstart in the same folder goes
    through; its registrations say they are already there, its runs are cache hits."""
    execute("quickstart.ipynb", workdir)
    nb = execute("quickstart.ipynb", workdir)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.source for c in code if any(o["output_type"] == "error" for o in c.outputs)] == []
    by_source = {c.source.splitlines()[0]: text_of(c) for c in code}
    errors = [(c.source, text_of(c)) for c in code if "UsageError" in text_of(c)]
    assert [src for src, _ in errors] == ["%zenml metadata test", "%zenml stack set experimnts"], errors  # the two meant to fail
    assert by_source["%zenml metadata register experiments --flavor sqlite --uri experiments.db"] == (
        "metadata store 'experiments' is already registered with these settings; nothing changed\n"
        "artifact store 'scratch' is already registered with these settings; nothing changed\n"
        "orchestrator 'cluster' is already registered with these settings; nothing changed\n"
    )
    assert by_source["%%zenml"] == "updated stack 'experiments'; activate it with `stack set experiments`\n"  # back from the config commands
    assert by_source[
        "%zenml config metadata set mysql --host 127.0.0.1 --port 3306 --username USER --passwd-env MYSQL_PASSWORD --database DATABASE --no-verify"
    ].endswith("), reused\n")
    first = next(text_of(c) for c in code if c.source.startswith("first = "))
    assert "[complete] 4/4 steps done (4 cached)" in first
    assert by_source["%zenml runs list training"].count("complete") == 6
    assert by_source["%zenml stack set default"] == "active stack: 'default'\n"


@contextmanager
def _services(root: Path) -> Iterator[dict[str, str]]:
    """What `make demo` starts (notebooks/demo_services.py), stopped by PID at the end."""
    script = NOTEBOOKS / "demo_services.py"
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(script), "start", "--root", str(root)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    took = time.monotonic() - started
    variables = dict(line.removeprefix("export ").split("=", 1) for line in (root / "env.sh").read_text().splitlines())
    pids = json.loads((root / "pids.json").read_text())
    try:
        yield {**variables, "_root": str(root), "_took": f"{took:.1f}", "_pids": json.dumps(pids)}
    finally:
        subprocess.run([sys.executable, str(script), "stop", "--root", str(root)], capture_output=True, timeout=120)
    for pid in pids.values():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.fixture(scope="module")
def demo_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with _services(tmp_path_factory.mktemp("demo")) as variables:
        yield variables


def test_demo_services_listen_on_loopback_only(demo_services: dict[str, str]) -> None:
    import psutil

    pids = set(json.loads(demo_services["_pids"]).values())
    family = {p.pid for pid in pids for p in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]}
    listening = [c for c in psutil.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN and c.pid in family]
    assert listening and all(c.laddr.ip == "127.0.0.1" for c in listening), listening
    assert (Path(demo_services["_root"]) / "env.sh").stat().st_mode & 0o077 == 0  # the file holds the password
    assert float(demo_services["_took"]) < 20


def test_mysql_gcs_dask(workdir: Path, demo_services: dict[str, str], monkeypatch) -> None:
    """The remote notebook, run to the end against the demo services (the second run fully cached)."""
    for key, value in demo_services.items():
        if not key.startswith("_"):
            monkeypatch.setenv(key, value)
    gcs_bucket = demo_services["ZN_DEMO_BUCKET"]
    password = demo_services["ZN_DEMO_MYSQL_PASSWORD"]
    nb = execute("mysql-gcs-dask.ipynb", workdir)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.source for c in code if any(o["output_type"] == "error" for o in c.outputs)] == []
    texts = [text_of(c) for c in code]
    assert all("UsageError" not in t and "Traceback" not in t for t in texts), texts
    describe = next(t for c, t in zip(code, texts) if c.source == "%zenml stack describe")
    assert "metadata store: team-mysql" in describe and f"gs://{gcs_bucket}/zenml" in describe and f"scheduler_address  {demo_services['ZN_DEMO_DASK_SCHEDULER']}" in describe
    first = next(t for c, t in zip(code, texts) if c.source.startswith("first = "))
    assert "[complete] 4/4 steps done (0 cached)" in first
    second = next(t for c, t in zip(code, texts) if c.source.startswith("second = "))
    assert second.endswith("['cached', 'cached', 'cached', 'cached']")
    listing = next(t for c, t in zip(code, texts) if c.source == "%zenml artifacts ls training")
    assert listing.startswith(f"gs://{gcs_bucket}/zenml/training (entries 1-1 of 1)")
    saved = (workdir / "mysql-gcs-dask.ipynb").read_text()
    assert password not in saved


def test_mysql_gcs_dask_runs_again_after_the_services_move(workdir: Path, demo_services: dict[str, str], tmp_path: Path,
                                                           monkeypatch) -> None:
    """A second `make demo` starts the services on new ports: the notebook, run again in the same
    folder, points its components at them (`register ... --update`) and runs there."""
    for key, value in demo_services.items():
        if not key.startswith("_"):
            monkeypatch.setenv(key, value)
    execute("mysql-gcs-dask.ipynb", workdir)
    with _services(tmp_path / "demo-again") as moved:
        assert moved["ZN_DEMO_MYSQL_PORT"] != demo_services["ZN_DEMO_MYSQL_PORT"]
        for key, value in moved.items():
            if not key.startswith("_"):
                monkeypatch.setenv(key, value)
        nb = execute("mysql-gcs-dask.ipynb", workdir)
        code = [c for c in nb.cells if c.cell_type == "code"]
        texts = [text_of(c) for c in code]
        assert [c.source for c in code if any(o["output_type"] == "error" for o in c.outputs)] == []
        assert all("UsageError" not in t and "Traceback" not in t for t in texts), texts
        registered = next(t for c, t in zip(code, texts) if c.source.startswith("%zenml metadata register team-mysql"))
        assert registered.splitlines()[0].startswith("updated metadata store 'team-mysql' (mysql: ") and f"port={moved['ZN_DEMO_MYSQL_PORT']}" in registered
        describe = next(t for c, t in zip(code, texts) if c.source == "%zenml stack describe")
        assert re.search(rf"port\s+{moved['ZN_DEMO_MYSQL_PORT']}\n", describe), describe
        assert moved["ZN_DEMO_DASK_SCHEDULER"] in describe and demo_services["ZN_DEMO_DASK_SCHEDULER"] not in describe
        first = next(t for c, t in zip(code, texts) if c.source.startswith("first = "))
        assert "[complete] 4/4 steps done" in first
