"""The full-page explorer in a real browser (Debian's Chromium, playwright) against a real
`jupyter lab`: the runs table sorted, filtered and compared, a 50-step run page with zoom and
fit, a tag through its dialog, a deletion cancelled then confirmed, a notification for a run
that ends while the notebook is not in front, the status bar's stack, and a 250 px sidebar
with no clipped text in the light and dark themes."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from nbformat.v4 import new_code_cell, new_notebook

from .test_sidebar import ARTIFACTS, WAIT, execute_cells, in_browser, open_notebook, show_sidebar
from .test_sidebar import lab as lab

SETUP = (
    "from zenml_notebook import step, pipeline\n\n"
    "@step(outputs=['model'])\ndef train(lr: float = 0.1) -> dict:\n    print(f'training with lr={lr}')\n    return {'lr': lr}\n\n"
    "@step\ndef score(model: dict) -> float:\n    return round(1 - abs(model['lr'] - 0.3), 4)\n\n"
    "@pipeline\ndef tune(lr: float = 0.1):\n    score(train(lr=lr))\n\n"
    "names = [tune(lr=lr, run_name=f'tune-{i}').name for i, lr in enumerate([0.1, 0.3, 0.5, 0.2])]\n\n"
    "@step\ndef inc(x: int = 0) -> int:\n    return x + 1\n\n"
    "@pipeline\ndef chain():\n    x = inc(x=0)\n    for _ in range(49):\n        x = inc(x)\n\n"
    "chain(run_name='chain-50')"
)
EXPLORER = "#zenml-notebook-explorer"


def _column(page: Any, column: str) -> list[str]:
    return page.evaluate("""c => [...document.querySelectorAll(`#zenml-notebook-explorer [data-zn='runs-table'] tbody td[data-column='${c}']`)]
        .map(td => td.textContent)""", column)


EXPLORER_IN_FRONT = "() => { const n = document.querySelector('#zenml-notebook-explorer'); return !!n && !n.classList.contains('lm-mod-hidden') && n.offsetParent !== null; }"


def _open_explorer(page: Any, run: str | None = None) -> None:
    """Open the explorer by its command and wait until its tab is the one in front. On a loaded
    machine Lab may still be restoring a notebook, which takes the front back: then the explorer
    is brought forward again (a few times, each with a short wait)."""
    args = json.dumps({"run": run} if run else {})
    front = EXPLORER_IN_FRONT
    page.evaluate(f"async () => {{ await window.jupyterapp.commands.execute('zenml-notebook:open-runs', {args}); }}")
    for _ in range(8):
        try:
            page.wait_for_function(front, timeout=10_000)
            page.wait_for_timeout(1000)
            if page.evaluate(front):
                return
        except Exception:  # playwright's TimeoutError: bring it forward and look again
            pass
        page.evaluate("() => window.jupyterapp.shell.activateById('zenml-notebook-explorer')")
    raise AssertionError("the explorer tab never came to the front")


def _wait_in_explorer(page: Any, selector: str) -> Any:
    """A locator inside the explorer once it is visible (see `_act_in_explorer`)."""
    _act_in_explorer(page, selector, "wait_for")
    return page.locator(EXPLORER).locator(selector)


def _act_in_explorer(page: Any, selector: str, action: str = "click", *args: Any) -> None:
    """Click (or check, uncheck, fill, wait for) something inside the explorer. A notebook Lab is
    still restoring may take the front back at any moment, even after the explorer was seen in
    front; then the element is hidden and the action waits in vain. So each attempt is short, and
    after one fails the explorer is brought forward again."""
    found = page.locator(EXPLORER).locator(selector)
    for _ in range(6):
        try:
            getattr(found, action)(*args, timeout=10_000)
            return
        except Exception:  # playwright's TimeoutError
            page.evaluate("() => window.jupyterapp.shell.activateById('zenml-notebook-explorer')")
    getattr(found, action)(*args, timeout=10_000)


def test_explorer_table_compare_run_page_versions_and_delete(lab: dict) -> None:
    folder = lab["root"] / "explore"
    folder.mkdir()
    nb = new_notebook(cells=[new_code_cell("x = 1")], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    (folder / "work.ipynb").write_text(json.dumps(nb))
    lab = {**lab, "root": folder}
    execute_cells(lab, SETUP)

    def scenario(page: Any, lab: dict) -> None:
        open_notebook(page, lab, "explore/work.ipynb")
        assert page.evaluate("() => window.jupyterapp.commands.hasCommand('zenml-notebook:open-runs')")
        _open_explorer(page)
        ex = page.locator(EXPLORER)
        ex.locator("[data-zn='run-row']").first.wait_for()
        page.wait_for_function("() => document.querySelectorAll(\"#zenml-notebook-explorer [data-zn='run-row']\").length === 5")
        assert ex.locator("[data-zn='runs-range']").inner_text() == "1-5 of 5 runs"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "explorer-runs.png"))
        # sort by the parameter: largest first, then smallest first; runs without it last
        ex.locator("th[data-column='param:train.lr']").click()
        page.wait_for_function("() => document.querySelector(\"#zenml-notebook-explorer th[data-column='param:train.lr']\").textContent.endsWith('▼')")
        assert _column(page, "param:train.lr") == ["0.5", "0.3", "0.2", "0.1", ""]
        ex.locator("th[data-column='param:train.lr']").click()
        page.wait_for_function("() => document.querySelector(\"#zenml-notebook-explorer th[data-column='param:train.lr']\").textContent.endsWith('▲')")
        assert _column(page, "param:train.lr") == ["0.1", "0.2", "0.3", "0.5", ""]
        # a scalar output is a column too, sortable
        assert sorted(_column(page, "scalar:score.output")) == sorted(["0.8", "1", "0.8", "0.9", ""])
        # text search over parameter values
        ex.locator("[data-zn='runs-search']").fill("lr=0.3")
        page.wait_for_function("() => document.querySelectorAll(\"#zenml-notebook-explorer [data-zn='run-row']\").length === 1")
        assert _column(page, "name") == ["tune-1"]
        ex.locator("[data-zn='runs-search']").fill("")
        page.wait_for_function("() => document.querySelectorAll(\"#zenml-notebook-explorer [data-zn='run-row']\").length === 5")
        # compare two runs: a Vega chart with a bar per run, and the differing rows
        for name in ("tune-0", "tune-2"):
            ex.locator(f"tr[data-run='{name}'] input[type=checkbox]").check()
        ex.locator("[data-zn='compare-selected']").click()
        bars = f"{EXPLORER} [data-zn='compare-chart'] .vega-embed svg g.mark-rect path"
        page.wait_for_function("s => document.querySelectorAll(s).length === 2", arg=bars)
        assert "train.lr" in ex.locator("[data-zn='compare-table']").inner_text()
        # against a parameter: one point per run
        ex.locator("[data-zn='chart-x']").select_option("train.lr")
        points = f"{EXPLORER} [data-zn='compare-chart'] .vega-embed svg g.mark-symbol path"
        page.wait_for_function("s => document.querySelectorAll(s).length === 2", arg=points)
        page.screenshot(path=str(ARTIFACTS / "explorer-compare.png"))
        # the 50-step run's page: every node drawn, zoom in, fit, a step with its logs and preview
        _open_explorer(page, "chain-50")
        page.wait_for_function("() => document.querySelectorAll('#zenml-notebook-explorer .zn-dag-zoomable g.zn-node').length === 50")
        dag = ex.locator(".zn-dag-zoomable")
        page.wait_for_function("() => Number(document.querySelector('#zenml-notebook-explorer .zn-dag-zoomable').dataset.scale) > 0")
        first = float(dag.get_attribute("data-scale") or 0)
        ex.locator("[data-zn='zoom-in']").click()
        assert float(dag.get_attribute("data-scale") or 0) > first * 1.2
        ex.locator("[data-zn='zoom-fit']").click()  # the whole graph: every node inside the drawing's box
        inside = page.evaluate("""() => {
            const svg = document.querySelector('#zenml-notebook-explorer .zn-dag-zoomable svg').getBoundingClientRect();
            return [...document.querySelectorAll('#zenml-notebook-explorer .zn-dag-zoomable g.zn-node rect')].every(r => {
                const b = r.getBoundingClientRect();
                return b.left >= svg.left - 1 && b.right <= svg.right + 1 && b.top >= svg.top - 1 && b.bottom <= svg.bottom + 1;
            });
        }""")
        assert inside and float(dag.get_attribute("data-scale") or 0) <= first
        page.screenshot(path=str(ARTIFACTS / "explorer-run-50.png"))
        _open_explorer(page, "tune-1")
        ex.locator(".zn-dag-zoomable g.zn-node[data-step='train']").click()
        detail = ex.locator("[data-zn='step-detail']")
        detail.locator("[data-zn='step-parameters']", has_text="lr=0.3").wait_for()
        detail.locator("[data-zn='preview']", has_text='lr: 0.3').wait_for()
        detail.locator("[data-zn='logs']").click()
        detail.locator("[data-zn='logs-text']", has_text="training with lr=0.3").wait_for()
        ex.locator(".zn-dag-zoomable g.zn-node[data-step='score']").click()
        detail.locator("[data-zn='step-inputs']", has_text="model").wait_for()
        # the named artifact's versions: tag one through the dialog
        ex.locator("[data-zn='tab-artifacts']").click()
        ex.locator("[data-zn='version-row']").first.wait_for()
        assert ex.locator("[data-zn='version-row']").count() == 4
        ex.locator("tr[data-version='2'] [data-zn='version-preview-link']").click()
        ex.locator("[data-zn='version-preview']", has_text="lr: 0.3").wait_for()
        ex.locator("tr[data-version='2'] [data-zn='tag']").click()
        page.locator(".jp-Dialog input").fill("production")
        page.locator(".jp-Dialog .jp-mod-accept").click()
        ex.locator("tr[data-version='2'] [data-zn='version-tags']", has_text="production").wait_for()
        page.screenshot(path=str(ARTIFACTS / "explorer-versions.png"))
        # delete a run: the dry run first; cancel deletes nothing, confirm deletes it
        ex.locator("[data-zn='tab-runs']").click()
        ex.locator("tr[data-run='tune-3'] input[type=checkbox]").wait_for()
        for name in ("tune-0", "tune-2"):
            ex.locator(f"tr[data-run='{name}'] input[type=checkbox]").uncheck()
        ex.locator("tr[data-run='tune-3'] input[type=checkbox]").check()
        ex.locator("[data-zn='delete-selected']").click()
        dialog = page.locator(".jp-Dialog [data-zn='delete-dialog']")
        dialog.wait_for()
        assert "tune-3" in dialog.inner_text() and "tune/tune-3" in dialog.inner_text()
        page.locator(".jp-Dialog .jp-mod-reject").click()
        ex.locator("[data-zn='explorer-status']", has_text="nothing was deleted").wait_for()
        assert ex.locator("tr[data-run='tune-3']").count() == 1
        ex.locator("[data-zn='delete-selected']").click()
        page.locator(".jp-Dialog .jp-mod-warn.jp-mod-accept, .jp-Dialog .jp-mod-accept").last.click()
        ex.locator("[data-zn='explorer-status']", has_text="deleted 1 run(s)").wait_for()
        page.wait_for_function("() => !document.querySelector(\"#zenml-notebook-explorer tr[data-run='tune-3']\")")

    in_browser(scenario, lab)
    gone = subprocess.run([sys.executable, "-m", "zenml_notebook", "runs", "list"], cwd=folder, env=lab["env"], capture_output=True, text=True)
    assert "tune-3" not in gone.stdout and "tune-2" in gone.stdout, gone.stdout + gone.stderr


def test_a_run_ending_behind_another_tab_notifies_once_and_the_status_bar_switches(lab: dict) -> None:
    folder = lab["root"] / "notify"
    folder.mkdir()
    nb = new_notebook(cells=[new_code_cell("x = 1")], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    (folder / "n.ipynb").write_text(json.dumps(nb))
    lab = {**lab, "root": folder}
    execute_cells(lab, "%load_ext zenml_notebook\n%zenml stack copy default other")
    script = folder / "bg.py"
    script.write_text("import time\nfrom zenml_notebook import step, pipeline\n@step(cache=False)\ndef slow() -> int:\n    time.sleep(4)\n    return 1\n"
                      "@pipeline\ndef background():\n    slow()\nif __name__ == '__main__':\n    background(run_name='bg-run')\n")

    def scenario(page: Any, lab: dict) -> None:
        open_notebook(page, lab, "notify/n.ipynb")
        status = page.locator("[data-zn='status-stack']")
        status.filter(has_text="stack default").wait_for()
        _open_explorer(page)  # the notebook is behind the explorer tab now
        for _ in range(50):  # a notebook Lab is still restoring may take the front back even later
            if page.evaluate(EXPLORER_IN_FRONT):
                break
            page.evaluate("() => window.jupyterapp.shell.activateById('zenml-notebook-explorer')")
            page.wait_for_timeout(200)
        page.locator(EXPLORER).wait_for()
        proc = subprocess.Popen([sys.executable, str(script)], cwd=folder, env=lab["env"])
        try:
            # the notebook must stay behind while the run ends: on a loaded machine Lab may still
            # bring the notebook it restored forward, then the explorer is put in front again
            while proc.poll() is None:
                if not page.evaluate(EXPLORER_IN_FRONT):
                    page.evaluate("() => window.jupyterapp.shell.activateById('zenml-notebook-explorer')")
                page.wait_for_timeout(200)
            assert proc.returncode == 0, "the background script failed"
            toast = page.locator(".jp-toast-message, .Toastify__toast", has_text="bg-run")
            toast.first.wait_for(timeout=WAIT)
        finally:
            proc.wait(timeout=120)
        page.wait_for_timeout(4000)  # later polls raise no second notification
        assert page.locator(".Toastify__toast", has_text="bg-run").count() == 1
        page.screenshot(path=str(ARTIFACTS / "notification.png"))
        page.locator(".Toastify__toast", has_text="bg-run").locator("button", has_text="Open run").click()
        page.locator(f"{EXPLORER} [data-zn='run-header']", has_text="bg-run").wait_for()
        status.click()
        page.locator(".zn-stack-menu .lm-Menu-item", has_text="other").click()
        status.filter(has_text="stack other").wait_for()

    in_browser(scenario, lab)


NARROW_CHECK = """() => {
  const panel = document.querySelector('#zenml-notebook-sidebar');
  const bad = [];
  if (panel.scrollWidth > panel.clientWidth + 1) bad.push(`the panel scrolls sideways: ${panel.scrollWidth} > ${panel.clientWidth}`);
  const right = panel.getBoundingClientRect().right;
  for (const node of panel.querySelectorAll('*')) {
    if (!node.childNodes.length || ![...node.childNodes].some(c => c.nodeType === 3 && c.textContent.trim())) continue;
    const style = getComputedStyle(node);
    if (style.display === 'none' || node.offsetParent === null) continue;
    const elided = style.textOverflow === 'ellipsis' && (node.title || '').length >= node.textContent.trim().length - 1;
    if (node.getBoundingClientRect().right > right + 1 && style.position !== 'absolute') bad.push(`past the panel's edge: ${node.tagName}.${node.className}: ${node.textContent.slice(0, 60)}`);
    if (node.scrollWidth > node.clientWidth + 1 && !elided) bad.push(`${node.tagName}.${node.className}: ${node.textContent.slice(0, 60)}`);
  }
  return bad;
}"""


def test_a_250px_sidebar_clips_no_text_in_light_and_dark(lab: dict) -> None:
    folder = lab["root"] / "narrow"
    folder.mkdir()
    nb = new_notebook(cells=[new_code_cell("x = 1")], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    (folder / "n.ipynb").write_text(json.dumps(nb))
    lab = {**lab, "root": folder}
    execute_cells(lab, "from zenml_notebook import step, pipeline\n@step\ndef a_rather_long_step_name_for_a_narrow_panel(learning_rate: float = 0.01405) -> float:\n"
                       "    return learning_rate\n@pipeline\ndef narrow_pipeline_with_a_long_name(learning_rate: float = 0.01405):\n"
                       "    a_rather_long_step_name_for_a_narrow_panel(learning_rate=learning_rate)\nnarrow_pipeline_with_a_long_name()\n"
                       "narrow_pipeline_with_a_long_name(learning_rate=0.5)")

    def scenario(page: Any, lab: dict) -> None:
        for theme in ("JupyterLab Light", "JupyterLab Dark"):
            open_notebook(page, lab, "narrow/n.ipynb")
            page.evaluate(f"async () => {{ await window.jupyterapp.commands.execute('apputils:change-theme', {{theme: '{theme}'}}); }}")
            show_sidebar(page)
            side = page.locator("#zenml-notebook-sidebar")
            side.locator("[data-zn='run']").first.wait_for()
            # the left area at 250 px: Lab's own split panel (left area, main area, right area)
            page.evaluate("() => window.jupyterapp.shell._hsplitPanel.setRelativeSizes([250, 1400 - 250, 0])")
            page.wait_for_function("() => Math.abs(document.querySelector('#zenml-notebook-sidebar').getBoundingClientRect().width - 250) < 30")
            side.locator("[data-zn='run'] .zn-run-head").first.click()
            side.locator("[data-zn='dag']").first.wait_for()
            page.wait_for_timeout(500)
            bad = page.evaluate(NARROW_CHECK)
            slug = "dark" if "Dark" in theme else "light"
            page.screenshot(path=str(ARTIFACTS / f"sidebar-250px-{slug}.png"))
            assert not bad, bad

    in_browser(scenario, lab)


def test_explorer_figures_a_1000_step_dag_and_the_first_table(lab: dict) -> None:
    """Figures (Chromium, a loaded machine) go to test-artifacts/explorer-figures.txt: the tab
    interactive after the command, and a 1 000-step run's page fetched, laid out and drawn. The
    bounds only catch a pathological slowdown; the issue's targets are in the closing note."""
    folder = lab["root"] / "figures"
    folder.mkdir()
    nb = new_notebook(cells=[new_code_cell("x = 1")], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    (folder / "f.ipynb").write_text(json.dumps(nb))
    lab = {**lab, "root": folder}
    execute_cells(lab, "from zenml_notebook import step, pipeline\n@step\ndef inc(x: int = 0) -> int:\n    return x + 1\n"
                       "@pipeline\ndef thousand():\n    v = inc(x=0)\n    for _ in range(999):\n        v = inc(v)\n"
                       "thousand(run_name='thousand')")

    def scenario(page: Any, lab: dict) -> None:
        open_notebook(page, lab, "figures/f.ipynb")
        tab = page.evaluate("""async () => {
            const started = performance.now();
            await window.jupyterapp.commands.execute('zenml-notebook:open-runs', {});
            while (!document.querySelector("#zenml-notebook-explorer [data-zn='run-row']")) {
                await new Promise(r => setTimeout(r, 5));
            }
            return performance.now() - started;
        }""")
        dag = page.evaluate("""async () => {
            const started = performance.now();
            await window.jupyterapp.commands.execute('zenml-notebook:open-runs', {run: 'thousand'});
            while (document.querySelectorAll('#zenml-notebook-explorer .zn-dag-zoomable g.zn-node').length < 1000) {
                await new Promise(r => setTimeout(r, 5));
            }
            return performance.now() - started;
        }""")
        _open_explorer(page, "thousand")  # in front (a notebook still restoring can take the front back)
        page.locator(f"{EXPLORER} [data-zn='zoom-fit']").click()
        page.screenshot(path=str(ARTIFACTS / "explorer-run-1000.png"))
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "explorer-figures.txt").write_text(
            f"explorer tab: command to the first table row in {tab:.0f} ms\n"
            f"a 1 000-step run's page: command to 1 000 nodes drawn in {dag:.0f} ms (fetch, dagre layout, SVG)\n")
        assert tab < 10_000 and dag < 20_000, (tab, dag)

    in_browser(scenario, lab)


def test_a_run_mirrored_to_mlflow_links_its_mlflow_run(lab: dict, mlflow_server) -> None:  # type: ignore[no-untyped-def]
    """The explorer's run page names where the run was mirrored and links the MLflow run (an
    http(s) link opened in a new tab); the sidebar's stack card shows the tracker."""
    folder = lab["root"] / "tracked"
    folder.mkdir()
    nb = new_notebook(cells=[new_code_cell("x = 1")], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    (folder / "t.ipynb").write_text(json.dumps(nb))
    lab = {**lab, "root": folder}
    out = execute_cells(lab, f"%load_ext zenml_notebook\n%zenml config experiment_tracker set mlflow --tracking-uri {mlflow_server.url} --experiment ui",
                        "from zenml_notebook import step, pipeline, log_metric\n@step\ndef fit(lr: float = 0.1) -> float:\n"
                        "    for i in range(20):\n        log_metric('loss', 1 / (i + 1), step=i)\n    return lr\n"
                        "@pipeline\ndef mirrored(lr: float = 0.1):\n    fit(lr=lr)\nrun = mirrored(run_name='mirrored-1')\n"
                        "print(run.summary['tracker']['url'])")
    url = "".join(o.get("text", "") for o in out.cells[1].outputs).strip().splitlines()[-1]
    assert url.startswith(f"{mlflow_server.url}/#/experiments/"), url

    def scenario(page: Any, lab: dict) -> None:
        open_notebook(page, lab, "tracked/t.ipynb")
        _open_explorer(page, "mirrored-1")
        line = _wait_in_explorer(page, "[data-zn='run-tracker']")
        assert line.inner_text().startswith("mirrored to MLflow by experiment tracker 'default-mlflow'")
        color = page.evaluate("() => [getComputedStyle(document.querySelector(\"[data-zn='tracker-link']\")).textDecorationLine,"
                              " getComputedStyle(document.querySelector(\"[data-zn='run-tracker']\")).color,"
                              " getComputedStyle(document.querySelector(\"[data-zn='tracker-link']\")).color]")
        assert color[0] == "underline" and color[1] != color[2], color  # it looks like a link
        link = line.locator("a[data-zn='tracker-link']")
        assert (link.get_attribute("href"), link.get_attribute("target"), link.get_attribute("rel")) == (url, "_blank", "noopener noreferrer")
        page.screenshot(path=str(ARTIFACTS / "explorer-run-mlflow.png"))
        page.evaluate("async () => { await window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Dark'}); }")
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "explorer-run-mlflow-dark.png"))
        page.evaluate("async () => { await window.jupyterapp.commands.execute('apputils:change-theme', {theme: 'JupyterLab Light'}); }")
        show_sidebar(page)
        card = page.locator("#zenml-notebook-sidebar [data-zn='active-stack']")
        card.wait_for()
        assert "tracker: default-mlflow" in card.inner_text() and "mlflow" in card.inner_text()

    in_browser(scenario, lab)
