"""The sidebar in Jupyter Notebook 7 (no ILabShell): it lives in the left area and follows the
open notebook's folder - a notebook in a sub-folder with its own repository sees that stack."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from ..services import free_port
from .test_sidebar import ARTIFACTS, in_browser


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("nb7-root")
    config = tmp_path_factory.mktemp("nb7-config")
    (config / "labconfig").mkdir()
    (config / "labconfig" / "page_config.json").write_text(json.dumps({
        "exposeAppInBrowser": True, "disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config), "ZENML_NOTEBOOK_CONFIG_DIR": str(tmp_path_factory.mktemp("zn-config")),
           "ZENML_NOTEBOOK_SECRETS_BACKEND": "file"}
    for key in ("ZENML_NOTEBOOK_REPO", "ZENML_NOTEBOOK_STACK"):
        env.pop(key, None)
    cli = [sys.executable, "-m", "zenml_notebook"]
    subprocess.run([*cli, "init"], cwd=root, env=env, check=True, capture_output=True)
    sub = root / "project"
    sub.mkdir()
    subprocess.run([*cli, "init"], cwd=sub, env=env, check=True, capture_output=True)
    subprocess.run([*cli, "stack", "copy", "default", "project-stack"], cwd=sub, env=env, check=True, capture_output=True)
    subprocess.run([*cli, "stack", "set", "project-stack"], cwd=sub, env=env, check=True, capture_output=True)
    (sub / "analysis.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    port, token = free_port(), secrets.token_hex(16)
    log = open(root.parent / "nb7.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "notebook", "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--allow-root", "--ServerApp.allow_unauthenticated_access=False"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.terminate()
        raise RuntimeError(f"jupyter notebook did not start; see {root.parent / 'nb7.log'}")
    yield {"url": url, "token": token, "root": root}
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:  # still shutting the notebook's kernel down: stop it and its kernel by PID
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.close()


def test_the_sidebar_follows_the_open_notebook_in_notebook_7(notebook7: dict) -> None:
    def scenario(page, nb: dict) -> None:
        page.goto(f"{nb['url']}/notebooks/project/analysis.ipynb?token={nb['token']}")
        page.wait_for_function("window.jupyterapp && window.jupyterapp.shell && window.jupyterapp.shell.currentWidget", timeout=60_000)
        page.evaluate("""async () => {
            const app = window.jupyterapp;
            await app.restored;
            app.shell.activateById('zenml-notebook-sidebar');
        }""")
        side = page.locator("#zenml-notebook-sidebar")
        side.locator("[data-zn='active-stack'] .zn-title", has_text="Active stack: project-stack").wait_for(timeout=15_000)
        assert side.is_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "notebook7.png"))

    in_browser(scenario, notebook7)
