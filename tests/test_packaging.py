"""The wheel, built from a clean checkout and installed into a fresh venv, ships the prebuilt
JupyterLab extension and enables the server extension: `pip install` is the whole install."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_from_a_clean_checkout(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    archive = tmp_path / "head.tar"
    subprocess.run(["git", "archive", "--format=tar", "-o", str(archive), "HEAD"], cwd=ROOT, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(src, filter="data")
    assert not (src / "zenml_notebook" / "labextension").exists()  # build output is not committed
    assert (src / "labextension" / "yarn.lock").is_file() and not (src / "labextension" / "node_modules").exists()
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)], check=True, timeout=900)
    (wheel,) = dist.glob("zenml_notebook-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(re.search(r"share/jupyter/labextensions/zenml-notebook-labextension/static/remoteEntry\.[0-9a-f]+\.js$", n) for n in names)
    assert any(n.endswith("share/jupyter/labextensions/zenml-notebook-labextension/install.json") for n in names)
    assert any(n.endswith("etc/jupyter/jupyter_server_config.d/zenml_notebook.json") for n in names)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([venv / "bin" / "pip", "install", "-q", str(wheel)], check=True, timeout=900)
    labext = subprocess.run([venv / "bin" / "jupyter", "labextension", "list"], capture_output=True, text=True, check=True)
    text = labext.stdout + labext.stderr
    assert re.search(r"zenml-notebook-labextension v0\.1\.0 .*enabled.*OK", text), text
    server = subprocess.run([venv / "bin" / "jupyter", "server", "extension", "list"], capture_output=True, text=True, check=True)
    text = server.stdout + server.stderr
    assert re.search(r"zenml_notebook\.server .*enabled", text) and re.search(r"zenml_notebook\.server .*OK", text), text
    cli = subprocess.run([venv / "bin" / "zenml-notebook", "version"], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert cli.stdout.startswith("zenml-notebook ")
