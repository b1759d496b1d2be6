"""The registry, local and shared: cold `stack list` (a fresh CLI process) and warm
`%zenml stack list` (a running IPython), on the local SQLite file and on shared MariaDB and
PostgreSQL registries on 127.0.0.1; prints a table and one JSON line.

Run: `make bench` (or `python benchmarks/bench_registry.py [--runs N]`). Medians of N runs,
min/max beside them. Needs a MariaDB and a PostgreSQL: private ones are started on 127.0.0.1
(tests/services.py) and stopped at the end. Every repository holds the same 5 stacks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SCRIPT = str(Path(sys.executable).with_name("zenml-notebook"))
BUDGET = {
    "stack list (cold CLI), local": 0.300,
    "stack list (cold CLI), shared MariaDB": 0.400,
    "%zenml stack list (warm), local": 0.005,
    "%zenml stack list (warm), shared MariaDB": 0.005,
    "stack list (cold CLI), shared PostgreSQL": 0.400,
    "%zenml stack list (warm), shared PostgreSQL": 0.005,
}


def run(*cmd: str, cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)


def cold(cwd: Path, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        run(SCRIPT, "stack", "list", cwd=cwd)
        out.append(time.perf_counter() - t)
    return out


def warm(cwd: Path, runs: int) -> list[float]:
    probe = (
        "import os, time, json\n"
        f"os.chdir({str(cwd)!r})\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "ip.run_line_magic('load_ext', 'zenml_notebook')\n"
        "ip.run_line_magic('zenml', 'stack list')\n"
        "warm = []\n"
        f"for _ in range({runs}):\n"
        "    t = time.perf_counter(); ip.run_line_magic('zenml', 'stack list'); warm.append(time.perf_counter() - t)\n"
        "print(json.dumps(warm))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return [float(x) for x in json.loads(out.strip().splitlines()[-1])]


def fill(cwd: Path) -> None:
    for i in range(4):
        run(SCRIPT, "artifacts", "register", f"a{i}", "--path", f"gs://bench-bucket/p{i}", "--no-verify", cwd=cwd)
        run(SCRIPT, "stack", "register", f"s{i}", "-m", "default", "-a", f"a{i}", "-o", "default", cwd=cwd)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    from tests.services import MariaDB, PostgreSQL

    work = Path(tempfile.mkdtemp(prefix="zn-bench-registry-"))
    os.environ["ZENML_NOTEBOOK_CONFIG_DIR"] = str(work / "config")
    os.environ["ZENML_NOTEBOOK_SECRETS_BACKEND"] = "file"
    server = MariaDB.private(work / "mariadb")
    pg = PostgreSQL.private(work / "postgres")
    try:
        account = server.account("bench", grant="ALL PRIVILEGES", on="`bench\\_%`.*")
        os.environ["ZN_BENCH_PW"] = account.password
        local, shared = work / "local", work / "shared"
        local.mkdir()
        shared.mkdir()
        run(SCRIPT, "init", cwd=local)
        fill(local)
        run(SCRIPT, "init", cwd=shared)
        url = f"mysql://{account.user}@{account.host}:{account.port}/bench_registry"
        run(SCRIPT, "registry", "connect", url, "--passwd-env", "ZN_BENCH_PW", cwd=shared)
        fill(shared)
        pg_account = pg.account("bench")
        on_pg = work / "pg"
        on_pg.mkdir()
        run(SCRIPT, "init", cwd=on_pg)
        os.environ["ZN_BENCH_PG_PW"] = pg_account.password
        run(SCRIPT, "registry", "connect", f"postgresql://bench@127.0.0.1:{pg.port}/bench_registry", "--passwd-env", "ZN_BENCH_PG_PW", cwd=on_pg)
        fill(on_pg)
        results = {
            "stack list (cold CLI), local": cold(local, args.runs),
            "stack list (cold CLI), shared MariaDB": cold(shared, args.runs),
            "%zenml stack list (warm), local": warm(local, 50),
            "%zenml stack list (warm), shared MariaDB": warm(shared, 50),
            "stack list (cold CLI), shared PostgreSQL": cold(on_pg, args.runs),
            "%zenml stack list (warm), shared PostgreSQL": warm(on_pg, 50),
        }
    finally:
        server.stop()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"registry: local SQLite vs shared MariaDB and PostgreSQL on 127.0.0.1, 5 stacks; {args.runs} cold runs, 50 warm; "
          f"{os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{'operation':45} {'median':>9} {'min':>9} {'max':>9} {'budget':>8}")
    summary = {}
    for name, values in results.items():
        med = statistics.median(values)
        budget = BUDGET[name]
        print(f"{name:45} {med * 1000:7.2f}ms {min(values) * 1000:7.2f}ms {max(values) * 1000:7.2f}ms "
              f"{budget * 1000:6.0f}ms {'ok' if med <= budget else 'MISS'}")
        summary[name] = {"median_s": med, "min_s": min(values), "max_s": max(values), "budget_s": budget}
    print("JSON " + json.dumps(summary))


if __name__ == "__main__":
    main()
