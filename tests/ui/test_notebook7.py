"""The sidebar in Jupyter Notebook 7 (no ILabShell): it lives in the left area and follows the
open notebook's folder - a notebook in a sub-folder with its own repository sees that stack."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .test_sidebar import ARTIFACTS, WAIT, in_browser, start_jupyter, stop_jupyter, user_env


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("nb7-root")
    env = user_env(tmp_path_factory)
    cli = [sys.executable, "-m", "zenml_notebook"]
    subprocess.run([*cli, "init"], cwd=root, env=env, check=True, capture_output=True)
    sub = root / "project"
    sub.mkdir()
    subprocess.run([*cli, "init"], cwd=sub, env=env, check=True, capture_output=True)
    subprocess.run([*cli, "stack", "copy", "default", "project-stack"], cwd=sub, env=env, check=True, capture_output=True)
    subprocess.run([*cli, "stack", "set", "project-stack"], cwd=sub, env=env, check=True, capture_output=True)
    (sub / "analysis.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    page_config = {"exposeAppInBrowser": True, "disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
    proc, url, token, log = start_jupyter("notebook", root, tmp_path_factory.mktemp("nb7-config"), page_config, env, root.parent / "nb7.log")
    yield {"url": url, "token": token, "root": root, "env": env}
    stop_jupyter(proc, log)


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
        side.locator("[data-zn='active-stack'] .zn-title", has_text="Active stack: project-stack").wait_for(timeout=WAIT)
        assert side.is_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "notebook7.png"))

    in_browser(scenario, notebook7)


def test_runs_compare_draws_its_chart_in_notebook_7(notebook7: dict) -> None:
    """A saved notebook whose `%zenml runs compare` output holds the chart: Notebook 7 draws it
    (a Vega view with a bar per compared run) above the table."""
    from .test_sidebar import execute_cells

    cells = ["%load_ext zenml_notebook\nfrom zenml_notebook import step, pipeline\n\n@step\ndef make(n: int = 3) -> list:\n    return list(range(n))\n\n"
             "@step\ndef total(xs: list) -> int:\n    return sum(xs)\n\n@pipeline\ndef charted(n: int = 3):\n    total(make(n=n))",
             "a = charted()\nb = charted(n=5)", "%zenml runs compare {a.name} {b.name}"]
    folder = notebook7["root"] / "charts"
    folder.mkdir()
    nb = execute_cells({"root": folder, "env": {**notebook7["env"]}}, *cells)
    (folder / "compare.ipynb").write_text(json.dumps(nb))
    bars = ".jp-OutputArea-output .vega-embed svg g.mark-rect path"

    def scenario(page, nb: dict) -> None:
        page.goto(f"{nb['url']}/notebooks/charts/compare.ipynb?token={nb['token']}")
        page.wait_for_function("s => document.querySelectorAll(s).length === 2", arg=bars, timeout=WAIT)
        assert page.locator("table.zenml-notebook").count() == 1
        page.screenshot(path=str(ARTIFACTS / "notebook7-compare-chart.png"), full_page=True)

    in_browser(scenario, notebook7)
