"""A PostgreSQL metadata store against its floor, side by side in one process (medians):

* floor: a bare ml-metadata ``put_execution`` shaped like a step (bench_metadata.bare_recorder:
  7 properties, an input artifact by id, a new output artifact, the run context by id, a new
  cache-key context), on ml-metadata's own PostgreSQL client in this process.
* per step: (50-step chain - 1-step chain) / 49 in a warm process, cache off, through the
  worker process every PostgreSQL store runs in (the path users get); each step's output is a
  small JSON file written and fsynced to the local artifact store, as in real runs.
* the first page of `runs list` with 10 000 runs: a fresh CLI process (what a user types) and in
  a warm process (what a cell or the sidebar pays), plus the explorer's table page.

Run: `make bench` (or `python benchmarks/bench_postgresql.py [--runs N] [--runs-in-store N]`).
A private PostgreSQL is started on 127.0.0.1 (tests/services.py: initdb, fsync off as in the
suite) and stopped at the end.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

BUDGET = {"per step / floor": 1.3, "runs list, first page (warm)": 0.150}


def _med(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--runs-in-store", type=int, default=10_000)
    args = parser.parse_args()
    from tests.services import PostgreSQL

    work = Path(tempfile.mkdtemp(prefix="zn-bench-pg-"))
    os.environ["ZENML_NOTEBOOK_CONFIG_DIR"] = str(work / "config")
    os.environ["ZENML_NOTEBOOK_SECRETS_BACKEND"] = "file"
    server = PostgreSQL.private(work / "postgres")
    try:
        figures = _measure(server, work, args)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    floor, per_step = figures["floor_ms"], figures["per_step_ms"]
    print(f"PostgreSQL metadata store on 127.0.0.1 (PostgreSQL {figures['server']}); {args.runs} rounds; "
          f"{os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"  {'floor: bare put_execution shaped like a step':<52} {floor:8.2f} ms")
    print(f"  {'per step, warm, cache off (through the worker)':<52} {per_step:8.2f} ms   "
          f"{per_step / floor:.2f}x the floor (budget {BUDGET['per step / floor']}x)")
    print(f"  {'runs list, first page, warm (' + str(args.runs_in_store) + ' runs)':<52} {figures['runs_list_warm_ms']:8.1f} ms   "
          f"(budget {BUDGET['runs list, first page (warm)'] * 1000:.0f} ms)")
    print(f"  {'runs list, first page, fresh CLI process':<52} {figures['runs_list_cli_ms']:8.1f} ms")
    print(f"  {'explorer table, first page (index warm)':<52} {figures['table_page_ms']:8.1f} ms")
    print("JSON " + json.dumps({"bench": "postgresql", "ratio": round(per_step / floor, 3), **figures}))


def _measure(server: object, work: Path, args: argparse.Namespace) -> dict[str, object]:
    from bench_metadata import bare_recorder
    from bench_table import _fill

    from zenml_notebook import api, pipeline, step
    from zenml_notebook.components.metadata import open_metadata_store, open_postgresql_here
    from zenml_notebook.components.metadata.mlmd import ARTIFACT, CACHE, STEP
    from zenml_notebook.secrets import env_ref

    account = server.account("bench")  # type: ignore[attr-defined]
    os.environ["ZN_BENCH_PG_PW"] = account.password
    root = work / "repo"
    root.mkdir()
    os.chdir(root)
    api.init(root)
    config = {"host": account.host, "port": account.port, "username": account.user, "database": "bench_meta",
              "password": env_ref("ZN_BENCH_PG_PW")}
    api.register_component("metadata_store", "pg", "postgresql", config)
    api.register_stack("pg", "pg", "default", "default", activate=True)
    repo = api.open_repository()[0]
    record = api.get_component("metadata_store", "pg")[0]
    here = open_postgresql_here(record, repo)
    run = here.start_run("floor", "floor-1", {})
    raw = here._connect()
    bare = bare_recorder(raw, here._run_context(run.id), here._type_id(ARTIFACT), here._type_id(STEP), here._type_id(CACHE))
    with server.connect() as conn:  # type: ignore[attr-defined]
        version = str(conn.execute("SHOW server_version").fetchone()[0])

    @step
    def first(salt: int) -> int:
        return salt

    @step
    def inc(x: int) -> int:
        return x + 1

    def chain_of(n: int):  # type: ignore[no-untyped-def]
        @pipeline(name=f"chain{n}", cache=False)
        def chain(salt: int = 0) -> None:
            v = first(salt=salt)
            for _ in range(n - 1):
                v = inc(v)

        return chain

    c1, c50 = chain_of(1), chain_of(50)
    c1(salt=-1)  # the worker, the types and the pipelines exist before timing
    c50(salt=-2)
    floors, steps = [], []
    salt = iter(range(10**9))
    for _ in range(args.runs):
        t = time.perf_counter()
        for _ in range(100):
            bare()
        floors.append((time.perf_counter() - t) / 100)
        t = time.perf_counter()
        c1(salt=next(salt))
        one = time.perf_counter() - t
        t = time.perf_counter()
        c50(salt=next(salt))
        fifty = time.perf_counter() - t
        steps.append((fifty - one) / 49)

    # 10 000 runs, written as the runner writes them when they end (see bench_table)
    _fill(here, args.runs_in_store)
    from zenml_notebook.commands.runs import _runs_list
    from zenml_notebook.pipelines.runs import Client

    store = open_metadata_store(record, repo)
    store.runs()  # the worker is up
    ns = argparse.Namespace(pipeline=None, user=None, limit=50, stack=None)
    warm = []
    for _ in range(args.runs * 3):
        t = time.perf_counter()
        table = _runs_list(ns)
        warm.append(time.perf_counter() - t)
    assert len(table.rows) == 50, len(table.rows)
    cli = []
    script = str(Path(sys.executable).with_name("zenml-notebook"))
    for _ in range(args.runs):
        t = time.perf_counter()
        subprocess.run([script, "runs", "list"], cwd=root, check=True, capture_output=True)
        cli.append(time.perf_counter() - t)
    client = Client()
    client.table(limit=50)
    from zenml_notebook.pipelines import table as table_module

    table_module._index_of(client._md).building.join()
    pages = []
    for _ in range(args.runs * 3):
        table_module._index_of(client._md).sorted.clear()
        t = time.perf_counter()
        client.table(limit=50)
        pages.append(time.perf_counter() - t)
    return {
        "server": version, "floor_ms": _med(floors) * 1000, "per_step_ms": _med(steps) * 1000,
        "runs_list_warm_ms": _med(warm) * 1000, "runs_list_cli_ms": _med(cli) * 1000, "table_page_ms": _med(pages) * 1000,
        "runs_in_store": args.runs_in_store,
    }


if __name__ == "__main__":
    main()
