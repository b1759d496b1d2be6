"""Server-extension latency, measured against a real `jupyter server` over HTTP with a token:
GET /zenml-notebook/stacks and the first page (100) of a 10 000-entry artifact folder.

Run: `python benchmarks/bench_server.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="zn-bench-srv-"))
    env = {**os.environ, "ZENML_NOTEBOOK_CONFIG_DIR": str(root / "cfg")}
    subprocess.run([sys.executable, "-m", "zenml_notebook", "init"], cwd=root, env=env, check=True, capture_output=True)
    many = root / ".zenml" / "artifacts" / "many"
    many.mkdir(parents=True)
    for i in range(10_000):
        (many / f"artifact-{i:05d}.json").write_bytes(b"{}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    proc = subprocess.Popen([sys.executable, "-m", "jupyter_server", "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
                             f"--ServerApp.root_dir={root}", "--allow-root"], cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"token {token}"}

    def get(path: str) -> float:
        t = time.perf_counter()
        with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=10) as r:
            json.loads(r.read())
        return time.perf_counter() - t

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get("/zenml-notebook/stacks")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        rows = {"GET /zenml-notebook/stacks (budget 20 ms)": [], "GET artifacts, first 100 of 10 000 (budget 100 ms)": []}
        for _ in range(args.runs):
            rows["GET /zenml-notebook/stacks (budget 20 ms)"].append(get("/zenml-notebook/stacks"))
            rows["GET artifacts, first 100 of 10 000 (budget 100 ms)"].append(get("/zenml-notebook/artifacts?path=many&limit=100"))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"server extension over HTTP on 127.0.0.1 (client time), medians of {args.runs}")
    for name, values in rows.items():
        print(f"{name:52} {statistics.median(values) * 1000:7.1f}ms  (min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})")
    print("JSON " + json.dumps({k: statistics.median(v) for k, v in rows.items()}))


if __name__ == "__main__":
    main()
