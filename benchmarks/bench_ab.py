"""Two checkouts side by side, interleaved run by run in fresh processes (bytecode caching on):
`import zenml_notebook`, a cold `stack list`, and a cold 20-step pipeline (cache off), in
repositories of their own. Medians of N; the ratio is after/before.

Run: `make bench-ab BEFORE=<git revision>` (makes a worktree of it under .bench-before/), or
`python benchmarks/bench_ab.py --before PATH [--after PATH] [--runs N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PIPELINE = """
from zenml_notebook import pipeline, step
@step
def s(x: int = 0) -> int:
    return x + 1
@pipeline
def chain():
    v = s()
    for _ in range(19):
        v = s(v)
chain(cache=False)
"""
COMMANDS = {
    "import zenml_notebook": ["-c", "import zenml_notebook"],
    "stack list, cold process": ["-m", "zenml_notebook", "stack", "list"],
    "20-step chain, cold process": ["-c", PIPELINE],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="a checkout of the earlier version")
    parser.add_argument("--after", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    versions = {"before": str(Path(args.before).resolve()), "after": str(Path(args.after).resolve())}
    times: dict[tuple[str, str], list[float]] = {(v, c): [] for v in versions for c in COMMANDS}
    with tempfile.TemporaryDirectory() as tmp:
        repos = {}
        for v, path in versions.items():
            repos[v] = Path(tmp) / v
            repos[v].mkdir()
            env = {**os.environ, "PYTHONPATH": path, "ZENML_NOTEBOOK_CONFIG_DIR": str(Path(tmp) / "config")}
            subprocess.run([sys.executable, "-m", "zenml_notebook", "init"], cwd=repos[v], env=env, check=True, capture_output=True)
        for i in range(args.runs):
            order = list(versions) if i % 2 == 0 else list(reversed(versions))
            for v in order:
                env = {k: val for k, val in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("ZENML_NOTEBOOK_")}
                env.update(PYTHONPATH=versions[v], ZENML_NOTEBOOK_CONFIG_DIR=str(Path(tmp) / "config"))
                for name, argv in COMMANDS.items():
                    started = time.perf_counter()
                    subprocess.run([sys.executable, *argv], cwd=repos[v], env=env, check=True, capture_output=True)
                    times[(v, name)].append(time.perf_counter() - started)
    print(f"before {versions['before']}\nafter  {versions['after']}\nfresh processes, interleaved, medians of {args.runs}")
    print(f"{'':32}{'before':>10}{'after':>10}{'ratio':>8}")
    out = {}
    for name in COMMANDS:
        b, a = statistics.median(times[("before", name)]), statistics.median(times[("after", name)])
        out[name] = {"before_s": b, "after_s": a, "ratio": a / b}
        print(f"{name:32}{b * 1000:8.1f}ms{a * 1000:8.1f}ms{a / b:8.3f}")
    print("JSON", json.dumps(out))


if __name__ == "__main__":
    main()
