"""The suite tests what users install: the storage libraries the test environment resolved
must be the ones a fresh `pip install "zenml-notebook[s3,dask]"` resolves (to the patch level),
and every third-party import in the package must be a declared dependency."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
WATCHED = ("s3fs", "gcsfs", "fsspec")


def _requirements(*extras: str) -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in extras:
        reqs += [r for r in project["optional-dependencies"][extra] if not r.startswith("zenml-notebook")]
    return reqs


def test_storage_libraries_match_a_fresh_user_install(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    # what pip resolves for a user, from nothing installed (the package's own requirements and extras)
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report),
                           *_requirements("s3", "dask")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    fresh = {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in json.loads(report.read_text())["install"]}
    for name in WATCHED:
        ours, theirs = metadata.version(name), fresh[name]
        assert ours.split(".")[:2] == theirs.split(".")[:2], f"the suite has {name} {ours}, a user gets {theirs}"
    assert int(metadata.version("s3fs").split(".")[0]) >= 2024  # the aiobotocore line, not 0.4 (2019)


# module -> distribution, for imports whose names differ
_DIST = {"yaml": "pyyaml", "ml_metadata": "ml-metadata", "pydantic_settings": "pydantic-settings", "IPython": "ipython",
         "jupyter_server": "jupyterlab", "tornado": "jupyterlab", "distributed": "dask", "google": "gcsfs", "aiohttp": "gcsfs",
         "botocore": "s3fs", "keyring": "keyring", "absl": "ml-metadata", "pyarrow": "pandas"}


def test_every_import_is_a_declared_dependency() -> None:
    declared = {r.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower() for r in _requirements("s3", "dask", "keyring", "pandas", "postgresql")}
    stdlib = set(sys.stdlib_module_names)
    missing = set()
    for path in (ROOT / "zenml_notebook").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            for name in names:
                top = name.split(".")[0]
                if top in stdlib or top == "zenml_notebook":
                    continue
                dist = _DIST.get(top, top).lower().replace("_", "-")
                if dist not in declared:
                    missing.add(f"{path.relative_to(ROOT)}: {top}")
    assert not missing, sorted(missing)
