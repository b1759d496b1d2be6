"""Services for `notebooks/mysql-gcs-dask.ipynb` on this machine, as `make demo` starts them.

    python notebooks/demo_services.py start [--root .demo]   # MariaDB, GCS emulator + bucket, Dask scheduler + 2 workers
    python notebooks/demo_services.py stop  [--root .demo]   # stops them by PID

Everything listens on 127.0.0.1 only and lives under one ignored folder (`.demo/`): data,
logs, the PID list, and `env.sh` with exactly the variables the notebook reads (mode 0600: it
holds the generated MySQL password). Against real services instead, export those variables
yourself (see the notebook's first cell).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.services import MariaDB, _wait_port, free_port, start_fake_gcs  # noqa: E402 - the suite's own service starters


def start(root: Path) -> dict[str, str]:
    if (root / "pids.json").exists():
        raise SystemExit(f"demo services already run ({root / 'pids.json'}); `make demo-stop` first")
    root.mkdir(parents=True, exist_ok=True)
    for leftover in ("mariadb", "gcs"):  # a fresh start each time: the demo keeps no data between runs
        shutil.rmtree(root / leftover, ignore_errors=True)
    started = time.monotonic()
    pids: dict[str, int] = {}
    try:
        db = MariaDB.private(root / "mariadb")
        pids["mariadb"] = db.pid
        password = "p" + secrets.token_urlsafe(12)
        account = db.account("zenml", database="zenml", password=password, grant="ALL PRIVILEGES", on="`zenml`.*")
        gcs = start_fake_gcs(root / "gcs")
        pids["fake-gcs-server"] = gcs.proc.pid
        bucket = "zenml-demo"
        import urllib.request

        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{gcs.url}/storage/v1/b?project=demo", data=json.dumps({"name": bucket}).encode(),
            headers={"Content-Type": "application/json"}, method="POST",
        )
        urllib.request.urlopen(request, timeout=10).read()  # noqa: S310 - http://127.0.0.1, the emulator we just started
        port = free_port()
        env = {**os.environ, "STORAGE_EMULATOR_HOST": gcs.url, "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false"}
        log = open(root / "dask.log", "wb")
        scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
                                      "--dashboard-address", "127.0.0.1:0", "--no-show"], stdout=log, stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True)
        pids["dask-scheduler"] = scheduler.pid
        _wait_port(port, scheduler, root / "dask.log", "dask scheduler")
        address = f"tcp://127.0.0.1:{port}"
        workers = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "2", "--nthreads", "1",
                                    "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0"],  # its HTTP server starts anyway: on loopback
                                   stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True, cwd=root)
        pids["dask-workers"] = workers.pid
        _wait_workers(address, 2)
    except BaseException:
        _write_pids(root, pids)
        stop(root)
        raise
    _write_pids(root, pids)
    variables = {
        "ZN_DEMO_MYSQL_HOST": account.host, "ZN_DEMO_MYSQL_PORT": str(account.port), "ZN_DEMO_MYSQL_USER": account.user,
        "ZN_DEMO_MYSQL_DATABASE": account.database, "ZN_DEMO_MYSQL_PASSWORD": password, "ZN_DEMO_BUCKET": bucket,
        "STORAGE_EMULATOR_HOST": gcs.url, "ZN_DEMO_DASK_SCHEDULER": address, "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
    }
    env_file = root / "env.sh"
    env_file.touch(mode=0o600)
    env_file.write_text("".join(f"export {k}={v}\n" for k, v in variables.items()))
    print(f"demo services up in {time.monotonic() - started:.1f} s: MariaDB 127.0.0.1:{account.port}, GCS emulator {gcs.url} "
          f"(bucket {bucket}), Dask {address} (2 workers); variables in {env_file}; stop with `make demo-stop`")
    return variables


def _wait_workers(address: str, count: int, timeout: float = 60) -> None:
    from distributed import Client

    with Client(address, timeout="10s") as client:
        client.wait_for_workers(count, timeout=timeout)


def _write_pids(root: Path, pids: dict[str, int]) -> None:
    (root / "pids.json").write_text(json.dumps(pids))


def stop(root: Path) -> None:
    path = root / "pids.json"
    if not path.exists():
        print("no demo services running")
        return
    pids: dict[str, int] = json.loads(path.read_text())
    for name, pid in reversed(list(pids.items())):  # workers before their scheduler
        try:
            os.killpg(pid, signal.SIGTERM)  # each service runs in its own session: its children too
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.1)
        else:
            os.killpg(pid, signal.SIGKILL)
        print(f"stopped {name} (pid {pid})")
    path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--root", default=str(ROOT / ".demo"), help="the folder for data, logs, PIDs and env.sh")
    args = parser.parse_args()
    (start if args.action == "start" else stop)(Path(args.root).resolve())


if __name__ == "__main__":
    main()
