"""`make lab`, as the README promises: its URL opens the quickstart notebook, with no
"Jupyter news" question over it. The command is the Makefile's own (`make -n lab`), run here
with a token and without opening a browser; Chromium then opens the printed URL."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import signal
import subprocess
import time
from pathlib import Path

from ..services import free_port
from .test_sidebar import ARTIFACTS, in_browser

ROOT = Path(__file__).resolve().parents[2]


def test_make_lab_opens_the_quickstart_without_the_news_question(tmp_path: Path) -> None:
    port, token = free_port(), secrets.token_hex(16)
    dry = subprocess.run(["make", "-s", "-n", "lab", f"PORT={port}", f"LAB_EXTRA=--no-browser --IdentityProvider.token={token}"],
                         cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    command = dry.stdout.strip().splitlines()[-1]
    assert "jupyter lab" in command and "quickstart.ipynb" in command, dry.stdout
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"), "ZENML_NOTEBOOK_CONFIG_DIR": str(tmp_path / "zn")}
    log = open(tmp_path / "lab.log", "w+")
    proc = subprocess.Popen(shlex.split(command), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            log.seek(0)
            found = re.search(r"(http://127\.0\.0\.1:\d+/\S+\?token=)\S+", log.read())  # a given token prints as "..."
            url = found.group(1) + token if found else None
            time.sleep(0.2)
        assert url is not None, (tmp_path / "lab.log").read_text()
        assert url.startswith(f"http://127.0.0.1:{port}/lab/tree/quickstart.ipynb?token=")  # the URL it prints

        def scenario(page, _: dict) -> None:
            started = time.monotonic()
            page.goto(url)
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
            active = page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel", has_text="quickstart.ipynb")
            active.first.wait_for(timeout=10_000)
            page.wait_for_timeout(3000)  # the news question, when on, shows a few seconds after load
            assert page.get_by_text("official Jupyter news").count() == 0
            (ARTIFACTS).mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "make-lab.png"))
            (ARTIFACTS / "make-lab-timing.txt").write_text(f"quickstart cells visible {time.monotonic() - started - 3:.1f} s after opening the URL\n")

        in_browser(scenario, {})
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
