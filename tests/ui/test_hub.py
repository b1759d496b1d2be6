"""A team under a real JupyterHub: two OS users made here, their single-user servers spawned as
them (LocalProcessSpawner) from the hub environment `make test` builds (the zenml-notebook wheel,
as a hub admin installs it), behind configurable-http-proxy, with a shared registry and metadata
store on a real PostgreSQL. Everything a person does happens in Chromium: logging in, cells run in
Lab (a password typed into Lab's own prompt), the sidebar and status bar under `/user/NAME/`."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..services import JupyterHub, os_user, remove_os_user
from .test_sidebar import ARTIFACTS, CHROMIUM, WAIT

ANA, BOB = "znhub-ana", "znhub-bob"

pytestmark = pytest.mark.skipif(os.getuid() != 0, reason="a hub spawning servers as other OS users runs as root (as CI does)")


@pytest.fixture(scope="module")
def team(postgres: Any, gcs_server: Any) -> Iterator[dict[str, Any]]:
    import gcsfs

    shared = Path(tempfile.mkdtemp(prefix="zn-hub-shared-"))
    shared.chmod(0o755)
    bucket = f"team-{uuid.uuid4().hex[:8]}"  # the team's bucket (the GCS emulator)
    gcsfs.GCSFileSystem(token="anon", endpoint_url=gcs_server.url, skip_instance_cache=True).mkdir(bucket)
    account = postgres.account(f"team_{uuid.uuid4().hex[:8]}")
    homes = {name: os_user(name) for name in (ANA, BOB)}
    hub = JupyterHub.start([ANA, BOB], {
        "ZENML_NOTEBOOK_SECRETS_BACKEND": "file",
        "TEAM_PW": account.password,  # what each person exports once (README: a team setup)
        "JUPYTER_CONFIG_PATH": str(_lab_config(shared)),  # read-only, beside each person's own ~/.jupyter
    })
    try:
        yield {"hub": hub, "account": account, "homes": homes, "shared": shared, "bucket": f"gs://{bucket}/zenml", "gcs": gcs_server.url,
               "url": f"postgresql://{account.user}@127.0.0.1:{account.port}/{account.user}_registry"}
    finally:
        hub.stop()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(hub.root / "hub.log", ARTIFACTS / "hub.log")  # the hub's and both servers' logs, for a failure
        for name in (ANA, BOB):
            remove_os_user(name)
        shutil.rmtree(shared, ignore_errors=True)
        shutil.rmtree(hub.root, ignore_errors=True)


def _lab_config(shared: Path) -> Path:
    """A Jupyter config folder every user reads: the Lab news question off."""
    config = shared / "jupyter-config"
    (config / "labconfig").mkdir(parents=True)
    page = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}
    (config / "labconfig" / "page_config.json").write_text(json.dumps(page))
    for path in (config, config / "labconfig", config / "labconfig" / "page_config.json"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return config


def _notebook(home: Path, owner: str, name: str, cells: list[str]) -> str:
    """A notebook in the user's home, owned by them; returns its path relative to the home."""
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None} for c in cells],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    path = home / name
    path.write_text(json.dumps(nb))
    shutil.chown(path, owner, owner)
    return name


def _log_in(page: Any, hub: JupyterHub, user: str) -> None:
    page.goto(f"{hub.url}/hub/login")
    page.locator("#username_input").fill(user)
    page.locator("#password_input").fill(hub.password)
    page.locator("#login_submit").click()
    page.wait_for_url(f"**/user/{user}/lab**", timeout=180_000)  # the hub spawns the server first
    page.wait_for_function("window.jupyterapp && window.jupyterapp.shell", timeout=WAIT)


def _run_notebook(page: Any, path: str, prompts: dict[int, str] | None = None) -> list[str]:
    """Open the notebook, run every cell in order (typing into Lab's input box when a cell asks),
    and return each cell's output text as Lab shows it."""
    page.evaluate("async p => { await window.jupyterapp.restored; await window.jupyterapp.commands.execute('docmanager:open', {path: p}); }", path)
    page.wait_for_function("""p => { const w = window.jupyterapp.shell.currentWidget;
        return !!w && !!w.context && w.context.path === p && w.context.isReady && !!w.sessionContext
            && !!w.sessionContext.session && w.sessionContext.session.kernel && w.sessionContext.session.kernel.connectionStatus === 'connected'; }""",
                           arg=path, timeout=WAIT)
    count = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.length")
    for index in range(count):
        page.evaluate("""i => { const nb = window.jupyterapp.shell.currentWidget.content; nb.activeCellIndex = i; }""", index)
        page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-cell'); }")  # its promise ends with the cell
        if prompts and index in prompts:
            box = page.locator(".jp-Stdin-input")
            box.wait_for(timeout=WAIT)
            page.screenshot(path=str(ARTIFACTS / "hub-password-prompt.png"))
            box.fill(prompts[index])
            box.press("Enter")
        page.wait_for_function("""i => { const c = window.jupyterapp.shell.currentWidget.content.widgets[i];
            return c.model.executionCount !== null && !c.node.classList.contains('jp-mod-executing') && !c.promptNode.textContent.includes('*'); }""",
                               arg=index, timeout=180_000)
    # what Lab shows, once every output it holds is drawn
    page.wait_for_function("""() => window.jupyterapp.shell.currentWidget.content.widgets.every(
        c => !c.outputArea || c.model.outputs.length === 0 || c.outputArea.node.innerText.trim().length > 0)""", timeout=WAIT)
    shown: list[str] = page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets.map(c => (c.outputArea ? c.outputArea.node.innerText : ''))""")
    return shown


@pytest.mark.timeout(900)  # two servers spawned, two kernels, two pipelines on PostgreSQL
def test_two_people_under_a_hub_share_a_postgresql_registry_and_see_who_ran_what(team: dict[str, Any]) -> None:
    from .test_sidebar import in_browser

    hub, account, homes, url = team["hub"], team["account"], team["homes"], team["url"]
    quick = ("from zenml_notebook import step, pipeline\n@step\ndef double(n: int) -> int:\n    return 2 * n\n"
             "@pipeline\ndef quickstart(n: int = 1):\n    double(n=n)\n")
    ana_nb = _notebook(homes[ANA], ANA, "team.ipynb", [
        "%load_ext zenml_notebook",
        f"%zenml registry connect {url} --passwd",  # typed into Lab's password prompt: kept in ana's own secret file
        f"%zenml metadata register team-meta --flavor postgresql --host 127.0.0.1 --port {account.port} "
        f"--username {account.user} --database {account.user}_meta --passwd-env TEAM_PW",
        f"%zenml artifacts register team-art --path {team['bucket']} --endpoint-url {team['gcs']} --anonymous",
        "%zenml stack register team -m team-meta -a team-art -o default --set",
        quick + "quickstart(n=1, run_name='ana-run')",
    ])
    bob_nb = _notebook(homes[BOB], BOB, "team.ipynb", [
        "%load_ext zenml_notebook",
        f"%zenml registry connect {url} --passwd-env TEAM_PW",
        "%zenml stack list",
        "%zenml stack set team",
        quick + "quickstart(n=2, run_name='bob-run')",
        "%zenml runs list",
        f"try:\n    open({str(homes[ANA] / '.config' / 'zenml-notebook' / 'secrets.json')!r}).read()\n    print('READ ana secrets')\n"
        "except PermissionError:\n    print('ana secrets: permission denied')",
        "import os, urllib.request, urllib.error\n"
        "def ask(user):\n"
        f"    req = urllib.request.Request('{hub.url}/user/' + user + '/zenml-notebook/stacks', headers={{'Authorization': 'token ' + os.environ['JUPYTERHUB_API_TOKEN']}})\n"
        "    try:\n        return urllib.request.urlopen(req, timeout=30).status\n    except urllib.error.HTTPError as e:\n        return e.code\n"
        f"print('bob token on ana routes:', ask({ANA!r}))",
    ])

    def scenario(page: Any, _: Any) -> None:
        context_b = page.context.browser.new_context(viewport={"width": 1400, "height": 900})
        try:
            _log_in(page, hub, ANA)
            out = _run_notebook(page, ana_nb, prompts={1: account.password})
            assert f"connected to the shared registry {url}" in out[1], out
            assert "Traceback" not in "".join(out), out
            assert account.password not in "".join(out)
            page.locator("[data-zn='status-stack']", has_text="stack team").wait_for(timeout=WAIT)

            page_b = context_b.new_page()
            page_b.set_default_timeout(WAIT)
            _log_in(page_b, hub, BOB)
            out_b = _run_notebook(page_b, bob_nb)
            assert "team" in out_b[2], out_b
            assert "Traceback" not in "".join(out_b[:6]), out_b
            runs = out_b[5]
            assert any("ana-run" in line and ANA in line for line in runs.splitlines()), runs
            assert any("bob-run" in line and BOB in line for line in runs.splitlines()), runs
            assert "ana secrets: permission denied" in out_b[6], out_b[6]
            assert "bob token on ana routes: 403" in out_b[7], out_b[7]
            page_b.locator("[data-zn='status-stack']", has_text="stack team").wait_for(timeout=WAIT)
            # ana's sidebar, under /user/znhub-ana/, shows bob's run too, and who ran it
            tab = page.locator("li.lm-TabBar-tab[data-id='zenml-notebook-sidebar']")
            tab.click()
            sidebar = page.locator("#zenml-notebook-sidebar")
            sidebar.locator("[data-zn='run']", has_text="bob-run").filter(has_text=f"by {BOB}").wait_for(timeout=WAIT)
            sidebar.locator("[data-zn='run']", has_text="ana-run").filter(has_text=f"by {ANA}").wait_for(timeout=WAIT)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "hub-ana.png"))
            # ana's session does not open bob's routes; her own answer
            own = page.request.get(f"{hub.url}/user/{ANA}/zenml-notebook/stacks")
            assert own.status == 200 and "team" in [s["name"] for s in own.json()["stacks"]]
            other = page.request.get(f"{hub.url}/user/{BOB}/zenml-notebook/stacks")
            assert other.status == 403, (other.status, other.text()[:300])
        finally:
            context_b.close()

    in_browser(scenario, {})
    # ana's password is in her own secret file only (0600, hers), nowhere in either repository
    secrets_file = homes[ANA] / ".config" / "zenml-notebook" / "secrets.json"
    st = secrets_file.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == os_user_uid(ANA)
    for home in homes.values():
        for f in (home / ".zenml").rglob("*"):
            if f.is_file():
                assert account.password.encode() not in f.read_bytes(), f
        nb = (home / "team.ipynb").read_text()
        assert account.password not in nb
    assert CHROMIUM


def os_user_uid(name: str) -> int:
    import pwd

    return pwd.getpwnam(name).pw_uid
