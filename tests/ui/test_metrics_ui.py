"""Metric curves in a real browser: a curve that grows while a 10-second step runs in a Lab
notebook (a Vega line whose path gets longer), and the explorer overlaying one metric across
three runs - plus the figure for 10 runs x 100 000 points."""

from __future__ import annotations

import json
import time
from typing import Any

from nbformat.v4 import new_code_cell, new_notebook

from .test_explorer import EXPLORER, _act_in_explorer, _open_explorer
from .test_sidebar import ARTIFACTS, WAIT, execute_cells, in_browser, open_notebook
from .test_sidebar import lab as lab

KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
LIVE = (
    "import time\nfrom zenml_notebook import step, pipeline, log_metric\n\n"
    "@step(cache=False)\ndef slow_training(seconds: float = 10.0) -> float:\n"
    "    start, i = time.time(), 0\n    while time.time() - start < seconds:\n"
    "        log_metric('loss', 1.0 / (i + 1))\n        i += 1\n        time.sleep(0.02)\n    return 1.0 / i\n\n"
    "@pipeline(cache=False)\ndef live_curve():\n    slow_training()\n\nlive_curve()"
)
LINE = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output .vega-embed svg g.mark-line path"


def test_the_live_curve_grows_while_the_step_runs(lab: dict) -> None:
    folder = lab["root"] / "live"
    folder.mkdir()
    (folder / "live.ipynb").write_text(json.dumps(new_notebook(cells=[new_code_cell(LIVE)], metadata=KERNEL)))

    def scenario(page: Any, lab: dict) -> None:
        open_notebook(page, lab, "live/live.ipynb")
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()
        # not awaited: the command's promise resolves when the cell has finished
        page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        page.wait_for_function("s => !!document.querySelector(s)", arg=LINE)
        started = time.monotonic()
        first = page.evaluate("s => document.querySelector(s).getAttribute('d').length", LINE)
        page.wait_for_timeout(3000)
        later = page.evaluate("s => document.querySelector(s).getAttribute('d').length", LINE)
        busy = page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status")
        assert later > first and busy == "busy", (first, later, busy)  # it grew while the step was still running
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "live-curve.png"))
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=WAIT)
        assert time.monotonic() - started > 4  # the chart was there early, not only at the end
        # the run card keeps the final curve as a picture (saved notebooks show it)
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .zenml-notebook-curves img").first.wait_for()

    in_browser(scenario, lab)


def test_the_explorer_overlays_a_metric_across_three_runs(lab: dict) -> None:
    folder = lab["root"] / "overlay"
    folder.mkdir()
    (folder / "o.ipynb").write_text(json.dumps(new_notebook(cells=[new_code_cell("x = 1")], metadata=KERNEL)))
    lab = {**lab, "root": folder}
    execute_cells(lab, "from zenml_notebook import step, pipeline, log_metric\n\n"
                       "@step(cache=False)\ndef fit(rate: float = 0.1, n: int = 300) -> float:\n"
                       "    for i in range(n):\n        log_metric('loss', rate * 10 / (i + 1))\n    return rate\n\n"
                       "@pipeline(cache=False)\ndef sweep(rate: float = 0.1, n: int = 300):\n    fit(rate=rate, n=n)\n\n"
                       "for i, r in enumerate([0.1, 0.2, 0.4]):\n    sweep(rate=r, run_name=f'sweep-{i}')\n"
                       "for i in range(10):\n    sweep(rate=0.01 * (i + 1), n=100_000, run_name=f'big-{i}')")
    paths = f"{EXPLORER} [data-zn='overlay-chart'] .vega-embed svg g.mark-line path"

    def scenario(page: Any, lab: dict) -> None:
        open_notebook(page, lab, "overlay/o.ipynb")
        _open_explorer(page)
        ex = page.locator(EXPLORER)
        ex.locator("th[data-column='metric:fit.loss']").wait_for()  # a metric column (its last value)
        _act_in_explorer(page, "[data-zn='runs-search']", "fill", "sweep-")
        page.wait_for_function("() => document.querySelectorAll(\"#zenml-notebook-explorer [data-zn='run-row']\").length === 3")
        for name in ("sweep-0", "sweep-1", "sweep-2"):
            _act_in_explorer(page, f"tr[data-run='{name}'] input[type=checkbox]", "check")
        _act_in_explorer(page, "[data-zn='compare-selected']")
        page.wait_for_function("s => document.querySelectorAll(s).length === 3", arg=paths)
        _act_in_explorer(page, "[data-zn='overlay-log']", "check")
        page.wait_for_function("s => document.querySelectorAll(s).length === 3", arg=paths)
        page.screenshot(path=str(ARTIFACTS / "explorer-overlay.png"))
        # the dark theme: the explorer's text follows Lab's colours (light text on a dark page)
        page.evaluate("async () => { await window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'}); }")
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "explorer-overlay-dark.png"))
        light_text = page.evaluate("""() => {
            const lum = c => { const [r, g, b] = c.match(/\\d+/g).map(Number); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
            const cell = document.querySelector("#zenml-notebook-explorer [data-zn='compare-table'] td");
            const page = getComputedStyle(document.querySelector('#zenml-notebook-explorer')).backgroundColor;
            return [lum(getComputedStyle(cell).color), lum(page)];
        }""")
        assert light_text[0] > 150 and light_text[1] < 80, light_text
        page.evaluate("async () => { await window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'}); }")
        # the figure: 10 runs x 100 000 points, from the request to the lines in the page
        _act_in_explorer(page, "[data-zn='tab-runs']")
        for name in ("sweep-0", "sweep-1", "sweep-2"):
            _act_in_explorer(page, f"tr[data-run='{name}'] input[type=checkbox]", "uncheck")
        _act_in_explorer(page, "[data-zn='runs-search']", "fill", "big-")
        page.wait_for_function("() => document.querySelectorAll(\"#zenml-notebook-explorer [data-zn='run-row']\").length === 10")
        took = page.evaluate("""async () => {
            const view = document.querySelector('#zenml-notebook-explorer');
            const boxes = [...view.querySelectorAll("[data-zn='run-row'] input[type=checkbox]")];
            boxes.forEach(b => { if (!b.checked) b.click(); });
            const started = performance.now();
            view.querySelector("[data-zn='compare-selected']").click();
            const sel = "#zenml-notebook-explorer [data-zn='overlay-chart'] .vega-embed svg g.mark-line path";
            while (document.querySelectorAll(sel).length !== 10) { await new Promise(r => setTimeout(r, 10)); }
            return performance.now() - started;
        }""")
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "overlay-figure.txt").write_text(
            f"compare 10 runs x 100 000 points of one metric: click to 10 lines drawn in {took:.0f} ms (Chromium; it includes the compare "
            "table and the bar chart requests)\n")
        assert took < 20_000, took

    in_browser(scenario, lab)


BACKGROUND = (
    "import time\nfrom zenml_notebook import step, pipeline\n\n"
    "@step(cache=False)\ndef long_step(seconds: float = 6.0) -> float:\n    time.sleep(seconds)\n    return seconds\n\n"
    "@pipeline\ndef in_background():\n    long_step()\n\n"
    "handle = in_background.submit()"
)


def test_a_background_run_leaves_the_notebook_free_and_its_widget_follows_it(lab: dict) -> None:
    folder = lab["root"] / "background"
    folder.mkdir()
    nb = new_notebook(cells=[new_code_cell(BACKGROUND), new_code_cell("print('next cell', 6 * 7)")], metadata=KERNEL)
    (folder / "bg.ipynb").write_text(json.dumps(nb))
    widget = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output .widget-html"

    def scenario(page: Any, lab: dict) -> None:
        open_notebook(page, lab, "background/bg.ipynb")
        page.get_by_text("Python 3 (ipykernel) | Idle").wait_for()
        page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        # the next cell prints while the run is still going (its widget says running)
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output", has_text="next cell 42").wait_for()
        assert "[running]" in page.locator(widget).first.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "background-run-running.png"))
        page.locator(widget, has_text="[complete]").wait_for(timeout=WAIT)
        # its cell finished long ago: its end is announced although the notebook is in front
        page.locator(".Toastify__toast", has_text="in_background-").first.wait_for(timeout=WAIT)
        page.screenshot(path=str(ARTIFACTS / "background-run-complete.png"))

    in_browser(scenario, lab)
