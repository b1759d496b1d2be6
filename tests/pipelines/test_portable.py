"""A repository that is moved, copied or cloned keeps every run's outputs: local artifact URIs
are recorded absolute (as every release has), and a store finds them below its current root."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

MAKE = textwrap.dedent(
    """
    import numpy as np, pandas as pd
    from zenml_notebook import pipeline, step

    @step(outputs=["model"])
    def fit() -> np.ndarray:
        print("fitting now")
        return np.arange(5.0)

    @step
    def table() -> pd.DataFrame:
        return pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})

    @step
    def summary(model: np.ndarray) -> dict:
        return {"sum": float(model.sum())}

    @pipeline
    def portable():
        summary(fit())
        table()

    portable(run_name="r1")
    portable(run_name="r2", cache=False)
    """
)

READ = textwrap.dedent(
    """
    import json
    from zenml_notebook import Client, api
    client = Client()
    out = {}
    for name in ("r1", "r2"):
        run = client.get_run(name)
        previews = {}
        for s in run.steps:
            for key, art in s.outputs.items():
                previews[f"{s.name}.{key}"] = api.preview_artifact(art.uri).kind  # the URI `runs describe` prints
        out[name] = {
            "fit": run.output("fit").tolist(), "table": run.output("table").to_dict("list"), "summary": run.output("summary"),
            "log": run.log("fit").strip(), "previews": previews,
            "uris": sorted(a.uri for s in run.steps for a in s.outputs.values()),
        }
    out["model"] = client.artifact("model", version=1).tolist()
    print(json.dumps(out))
    """
)


def _py(code: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENML_NOTEBOOK_") or k in ("ZENML_NOTEBOOK_CONFIG_DIR", "ZENML_NOTEBOOK_SECRETS_BACKEND")}
    r = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zenml_notebook", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def _check(where: Path) -> dict:
    seen = json.loads(_py(READ, where).strip().splitlines()[-1])
    for name in ("r1", "r2"):
        got = seen[name]
        assert got["fit"] == [0.0, 1.0, 2.0, 3.0, 4.0] and got["summary"] == {"sum": 10.0}
        assert got["table"] == {"a": [1, 2], "b": ["x", "y"]} and got["log"] == "fitting now"
        assert got["previews"] == {"fit.model": "array", "table.output": "table", "summary.output": "json"}, got["previews"]
        root = str((where / ".zenml" / "artifacts").resolve())
        assert all(uri.startswith(root + "/") for uri in got["uris"]), got["uris"]  # shown where they are now
    assert seen["model"] == [0.0, 1.0, 2.0, 3.0, 4.0]
    return seen


def test_moved_and_copied_repositories_keep_their_outputs(workdir: Path, tmp_path: Path) -> None:
    project = workdir / "project"
    project.mkdir()
    _py(MAKE, project)
    _check(project)
    moved = tmp_path / "moved"
    shutil.move(project, moved)
    seen = _check(moved)
    # the copy reads and deletes its own files; the original keeps its own
    copy = tmp_path / "copy"
    shutil.copytree(moved, copy, symlinks=True)
    _check(copy)
    r = _cli(copy, "runs", "delete", "r1")
    assert r.returncode == 0 and r.stdout.startswith("deleted 1 run(s): r1; 4 artifact(s), "), r.stdout + r.stderr
    assert " 0 B" not in r.stdout
    r1_files = [Path(u.replace(str(moved), str(copy))) for u in seen["r1"]["uris"]]
    assert r1_files and not any(f.exists() for f in r1_files)
    assert all(Path(u).exists() for u in seen["r1"]["uris"])  # the original's are untouched
    assert all(Path(u.replace(str(moved), str(copy))).exists() for u in seen["r2"]["uris"])
    # and the moved repository deletes in its own place too
    r = _cli(moved, "runs", "delete", "r2")
    assert r.returncode == 0 and " 0 B" not in r.stdout, r.stdout
    assert not any(Path(u).exists() for u in seen["r2"]["uris"])


def test_an_absolute_path_outside_the_store_is_still_refused(workdir: Path, tmp_path: Path) -> None:
    project = workdir / "p"
    project.mkdir()
    _py(MAKE, project)
    r = _cli(project, "artifacts", "preview", "/etc/passwd")
    assert r.returncode == 2 and "is outside artifact store 'default'" in r.stderr, r.stderr
    r = _cli(project, "artifacts", "preview", str(tmp_path / "elsewhere" / "portable" / "r1" / "fit" / "model.npy"))
    assert r.returncode == 2 and "is outside artifact store 'default'" in r.stderr, r.stderr
