"""What running ml-metadata in a worker process costs, side by side in one run (medians).

* IPC: one round trip to the worker (a no-op call), per call.
* record_step on MariaDB: in this process vs through the worker, alternating rounds.
* A 50-step pipeline (cache off) in a warm process on MariaDB: per-step overhead, in-process
  store vs worker store, alternating.
* The first metadata access in a fresh process (worker start, connect, one query) over the
  registry access alone.
* The same record_step comparison on SQLite, which decides whether SQLite should use the
  worker too (it stays in-process: a local file cannot hang on a network).

Needs a MariaDB: a private one is started on 127.0.0.1 (tests/services.py) and stopped at the
end, or pass --host/--port/--user/--password of an account that may create databases.

Run: `python benchmarks/bench_worker.py [--runs N]`
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
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _med_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--host"), parser.add_argument("--port", type=int, default=3306)
    parser.add_argument("--user"), parser.add_argument("--password")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zn-bench-worker-"))
    server = None
    if args.host is None:
        from tests.services import MariaDB

        server = MariaDB.private(work / "mariadb")
        account = server.account("bench", grant="ALL PRIVILEGES", on="`bench\\_%`.*")
        host, port, user, password = account.host, account.port, account.user, account.password
    else:
        host, port, user, password = args.host, args.port, args.user, args.password
    os.environ["ZN_BENCH_PW"] = password
    os.environ["ZENML_NOTEBOOK_CONFIG_DIR"] = str(work / "config")
    os.chdir(work)
    try:
        rows, data = run(work, host, port, user, args)
    finally:
        if server is not None:
            server.stop()
    print(f"ml-metadata in a worker process vs in this process; {args.runs} rounds, alternating, medians")
    print(f"{'figure':58} {'in-process':>11} {'worker':>11} {'ratio':>7}")
    for name, a, b in rows:
        ratio = f"{b / a:6.2f}x" if a else ""
        left = f"{a:9.3f}ms" if a else ""
        print(f"{name:58} {left:>11} {b:9.3f}ms {ratio:>7}")
    print("JSON " + json.dumps(data))


def run(work: Path, host: str, port: int, user: str, args: argparse.Namespace) -> tuple[list[tuple[str, float, float]], dict[str, float]]:
    from zenml_notebook import api
    from zenml_notebook.components import metadata as md
    from zenml_notebook.components.metadata import ArtifactSpec
    from zenml_notebook.registry import ComponentRecord
    from zenml_notebook.repository import Repository

    api.init(work)
    repo = Repository(work)
    mysql = ComponentRecord("metadata_store", "team", "mysql", {
        "host": host, "port": port, "username": user, "password": {"$env": "ZN_BENCH_PW"},
        "database": f"bench_{uuid.uuid4().hex[:8]}", "connect_timeout": 5.0})
    sqlite = ComponentRecord("metadata_store", "lite", "sqlite", {"uri": str(work / "m.db")})
    rows: list[tuple[str, float, float]] = []
    data: dict[str, float] = {}

    # -- IPC alone
    from zenml_notebook.components.metadata.worker import WorkerStore

    worker = WorkerStore(mysql, repo, query_timeout=30, connect_timeout=5, where="bench")
    worker.ping()
    ipc = []
    for _ in range(args.runs):
        t = time.perf_counter()
        for _ in range(1000):
            worker._call("open")  # answered by the worker without touching the store
        ipc.append((time.perf_counter() - t) / 1000)
    rows.append(("IPC round trip (no-op call)", 0.0, _med_ms(ipc)))
    data["ipc_ms"] = _med_ms(ipc)

    # -- record_step, alternating
    def recorder(store: object, tag: str):  # type: ignore[no-untyped-def]
        run = store.start_run("bench", f"bench-{tag}-{uuid.uuid4().hex[:6]}", {})  # type: ignore[attr-defined]
        first = store.record_step(run, "seed", parameters={}, code_hash="c", cache_key="00", inputs={},  # type: ignore[attr-defined]
                                  outputs=[ArtifactSpec("output", f"/o/{tag}/seed", "int", "json", "h")], state="complete", started=0, ended=1)
        counter = iter(range(10**9))

        def record() -> None:
            i = next(counter)
            store.record_step(run, f"s{i}", parameters={"i": 1}, code_hash="c", cache_key="01",  # type: ignore[attr-defined]
                              inputs={"data": first.outputs["output"]}, outputs=[ArtifactSpec("output", f"/o/{tag}/{i}", "int", "json", "h")],
                              state="complete", started=1.0, ended=2.0)

        return record

    for label, record, make_worker in (("MariaDB", mysql, True), ("SQLite", sqlite, True)):
        inproc = md.open_mysql_here(record, repo) if record.flavor == "mysql" else md.open_sqlite(record, repo)
        wstore = WorkerStore(record, repo, query_timeout=30, connect_timeout=5, where="bench") if make_worker else None
        a, b = recorder(inproc, "in"), recorder(wstore, "w")
        per: dict[str, list[float]] = {"in": [], "w": []}
        for _ in range(args.runs):
            for key, fn in (("in", a), ("w", b)):
                t = time.perf_counter()
                for _ in range(args.steps):
                    fn()
                per[key].append((time.perf_counter() - t) / args.steps)
        rows.append((f"record_step on {label} ({args.steps} steps)", _med_ms(per["in"]), _med_ms(per["w"])))
        data[f"record_step_{label.lower()}_in_ms"] = _med_ms(per["in"])
        data[f"record_step_{label.lower()}_worker_ms"] = _med_ms(per["w"])
        if wstore is not None:
            wstore.close()

    # -- a pipeline in a warm process, per step (cache off): 50-step chain minus 1-step
    from zenml_notebook import pipeline, step

    @step
    def first_step(salt: int) -> int:
        return salt

    @step
    def inc(x: int) -> int:
        return x + 1

    def chain_of(n: int):  # type: ignore[no-untyped-def]
        @pipeline(name=f"chain{n}")
        def chain(salt: int = 0) -> None:
            v = first_step(salt=salt)
            for _ in range(n):
                v = inc(v)

        return chain

    from zenml_notebook.secrets import env_ref

    api.register_component("metadata_store", "team", "mysql", {**mysql.config, "password": env_ref("ZN_BENCH_PW")}, verify=False)
    api.register_stack("team", "team", "default", "default", activate=True)
    registered = api.get_component("metadata_store", "team")[0]
    key = md.store_key(registered, repo)
    stores = {"in": md.open_mysql_here(registered, repo), "w": md.open_metadata_store(registered, repo)}
    c1, c50 = chain_of(1), chain_of(50)
    per_step: dict[str, list[float]] = {"in": [], "w": []}
    salt = iter(range(10**9))
    for _ in range(args.runs):
        for kind in ("in", "w"):
            md._STORES[key] = stores[kind]  # type: ignore[assignment]
            t = time.perf_counter()
            c1(salt=next(salt), cache=False)
            one = time.perf_counter() - t
            t = time.perf_counter()
            c50(salt=next(salt), cache=False)
            fifty = time.perf_counter() - t
            per_step[kind].append((fifty - one) / 49)
    rows.append(("pipeline per-step overhead on MariaDB (warm, cache off)", _med_ms(per_step["in"]), _med_ms(per_step["w"])))
    data["pipeline_step_mariadb_in_ms"] = _med_ms(per_step["in"])
    data["pipeline_step_mariadb_worker_ms"] = _med_ms(per_step["w"])

    # -- first metadata access in a fresh process
    probe = (
        "import time\n"
        "t0 = time.perf_counter()\n"
        "from zenml_notebook import api\n"
        "rec, _ = api.get_component('metadata_store')\n"
        "t1 = time.perf_counter()\n"
        "from zenml_notebook.components.metadata import open_metadata_store\n"
        "from zenml_notebook.repository import find_repository\n"
        "open_metadata_store(rec, find_repository()[0]).runs()\n"
        "t2 = time.perf_counter()\n"
        "print(t1 - t0, t2 - t1)\n"
    )
    first = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", probe], cwd=work, capture_output=True, text=True, check=True).stdout.split()
        first.append(float(out[1]))
    rows.append(("first metadata access, fresh process (budget 250 ms)", 0.0, _med_ms(first)))
    data["first_access_worker_ms"] = _med_ms(first)
    return rows, data


if __name__ == "__main__":
    main()
