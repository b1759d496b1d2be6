"""Cold and warm costs of the command surface; prints a table and one JSON line.

Run: `make bench` (or `python benchmarks/bench_cli.py [--runs N]`). Medians of N runs, min/max
beside them, fresh processes for the cold rows. Comparisons with ZenML are `make bench-compare`'s
job (both tools measured side by side in one run); no peer figure is written in here.
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
from collections.abc import Callable
from pathlib import Path

SCRIPT = str(Path(sys.executable).with_name("zenml-notebook"))
BUDGET = {
    "import": 0.080,
    "%load_ext": 0.050,
    "stack list (cold CLI)": 0.300,
    "stack describe (cold CLI)": 0.300,
    "register x2 + set (3 CLI calls)": 0.900,
    "%zenml stack list (warm)": 0.005,
}


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def run(*cmd: str, cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    n = args.runs
    work = Path(tempfile.mkdtemp(prefix="zn-bench-"))
    env_cfg = work / "cfg"
    os.environ["ZENML_NOTEBOOK_CONFIG_DIR"] = str(env_cfg)
    run(SCRIPT, "init", cwd=work)
    results: dict[str, list[float]] = {}
    results["python -c pass"] = timed(lambda: run(sys.executable, "-c", "pass", cwd=work), n)
    results["import"] = [
        float(subprocess.run([sys.executable, "-c", "import time; t=time.perf_counter(); import zenml_notebook; print(time.perf_counter()-t)"], capture_output=True, text=True, check=True).stdout)
        for _ in range(n)
    ]
    results["stack list (cold CLI)"] = timed(lambda: run(SCRIPT, "stack", "list", cwd=work), n)
    results["stack describe (cold CLI)"] = timed(lambda: run(SCRIPT, "stack", "describe", cwd=work), n)
    counter = iter(range(10**6))

    def register_and_set() -> None:
        i = next(counter)
        run(SCRIPT, "artifacts", "register", f"a{i}", "--path", f"gs://bench-bucket/p{i}", "--no-verify", cwd=work)  # the registry, not the network
        run(SCRIPT, "stack", "register", f"s{i}", "-m", "default", "-a", f"a{i}", "-o", "default", cwd=work)
        run(SCRIPT, "stack", "set", f"s{i}", cwd=work)

    results["register x2 + set (3 CLI calls)"] = timed(register_and_set, n)
    # in a running IPython: %load_ext and warm %zenml stack list
    probe = (
        "import os, time, json\n"
        f"os.chdir({str(work)!r})\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "t = time.perf_counter(); ip.run_line_magic('load_ext', 'zenml_notebook'); load = time.perf_counter() - t\n"
        "ip.run_line_magic('zenml', 'stack list')\n"
        "warm = []\n"
        "for _ in range(50):\n"
        "    t = time.perf_counter(); ip.run_line_magic('zenml', 'stack list'); warm.append(time.perf_counter() - t)\n"
        "print(json.dumps([load, warm]))\n"
    )
    loads, warms = [], []
    for _ in range(max(3, n // 3)):
        load, warm = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)
        loads.append(load)
        warms.extend(warm)
    results["%load_ext"] = loads
    results["%zenml stack list (warm)"] = warms

    print(f"zenml-notebook command surface, {n} runs each, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{'operation':34} {'median':>9} {'min':>9} {'max':>9} {'budget':>8}")
    summary = {}
    for name, values in results.items():
        med = statistics.median(values)
        budget = BUDGET.get(name)
        ok = "" if budget is None else ("ok" if med <= budget else "MISS")
        print(
            f"{name:34} {med * 1000:7.1f}ms {min(values) * 1000:7.1f}ms {max(values) * 1000:7.1f}ms "
            f"{'' if budget is None else f'{budget * 1000:.0f}ms':>8} {ok}"
        )
        summary[name] = {"median_s": med, "min_s": min(values), "max_s": max(values), "budget_s": budget}
    print("JSON " + json.dumps(summary))


if __name__ == "__main__":
    main()
