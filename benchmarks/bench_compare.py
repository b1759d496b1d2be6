"""zenml-notebook side by side with ZenML 0.98 on the same workloads, alternating run by run
so machine drift hits both. `make bench-compare` creates `.venv-zenml` with `zenml[local]`.

Each figure is the wall clock of a whole fresh process (what a user waits for), medians of N.
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
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = Path(sys.executable).parent
PEER = ROOT / ".venv-zenml" / "bin"

OURS_CHAIN = textwrap.dedent(
    """
    from zenml_notebook import step, pipeline
    @step
    def first() -> int:
        return 1
    @step
    def inc(x: int) -> int:
        return x + 1
    @pipeline(name="chain{n}")
    def chain():
        x = first()
        for _ in range({n} - 1):
            x = inc(x)
    chain(cache={cache})
    """
)
PEER_CHAIN = textwrap.dedent(
    """
    from zenml import step, pipeline
    @step
    def first() -> int:
        return 1
    @step
    def inc(x: int) -> int:
        return x + 1
    @pipeline(name="chain{n}", enable_cache={cache})
    def chain():
        x = first()
        for _ in range({n} - 1):
            x = inc(x)
    chain()
    """
)


class Tool:
    def __init__(self, name: str, bindir: Path, work: Path) -> None:
        self.name, self.bindir, self.work = name, bindir, work
        self.env = {**os.environ, "ZENML_ANALYTICS_OPT_IN": "false", "ZENML_LOGGING_VERBOSITY": "ERROR", "AUTO_OPEN_DASHBOARD": "false",
                    "ZENML_CONFIG_PATH": str(work / "zenml-global"), "ZENML_NOTEBOOK_CONFIG_DIR": str(work / "zn-config"),
                    "ZENML_ENABLE_REPO_INIT_WARNINGS": "false", "ZENML_DEBUG": "false"}
        self.counter = 0

    def run(self, *cmd: str) -> float:
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=self.work, env=self.env, capture_output=True, text=True)
        elapsed = time.perf_counter() - t
        if proc.returncode != 0:
            raise RuntimeError(f"{self.name}: {' '.join(cmd[:4])} failed: {proc.stderr[-800:]}")
        return elapsed

    def script(self, template: str, n: int, cache: bool) -> str:
        """Pipelines run from a file (ZenML reads step source code with inspect)."""
        path = self.work / f"chain_{n}_{cache}.py"
        if not path.exists():
            path.write_text(template.format(n=n, cache=cache))
        return str(path)

    @property
    def py(self) -> str:
        return str(self.bindir / "python")


class Ours(Tool):
    def setup(self) -> None:
        self.run(str(self.bindir / "zenml-notebook"), "init")

    def import_(self) -> float:
        return self.run(self.py, "-c", "import zenml_notebook")

    def list(self) -> float:
        return self.run(str(self.bindir / "zenml-notebook"), "stack", "list")

    def describe(self) -> float:
        return self.run(str(self.bindir / "zenml-notebook"), "stack", "describe")

    def register_set(self) -> float:
        self.counter += 1
        n, cli = self.counter, str(self.bindir / "zenml-notebook")
        return (self.run(cli, "artifacts", "register", f"a{n}", "--path", str(self.work / f"art{n}"))
                + self.run(cli, "stack", "register", f"s{n}", "-m", "default", "-a", f"a{n}", "-o", "default")
                + self.run(cli, "stack", "set", f"s{n}"))

    def chain(self, n: int, cache: bool) -> float:
        return self.run(self.py, self.script(OURS_CHAIN, n, cache))


class Peer(Tool):
    def setup(self) -> None:
        self.run(str(self.bindir / "zenml"), "init")

    def import_(self) -> float:
        return self.run(self.py, "-c", "import zenml")

    def list(self) -> float:
        return self.run(str(self.bindir / "zenml"), "stack", "list")

    def describe(self) -> float:
        return self.run(str(self.bindir / "zenml"), "stack", "describe")

    def register_set(self) -> float:
        self.counter += 1
        n, cli = self.counter, str(self.bindir / "zenml")
        return (self.run(cli, "artifact-store", "register", f"a{n}", "--flavor", "local", f"--path={self.work / f'art{n}'}")
                + self.run(cli, "stack", "register", f"s{n}", "-a", f"a{n}", "-o", "default")
                + self.run(cli, "stack", "set", f"s{n}"))

    def chain(self, n: int, cache: bool) -> float:
        return self.run(self.py, self.script(PEER_CHAIN, n, cache))


WORKLOADS = [
    ("import the package", lambda t: t.import_()),
    ("stack list, cold process", lambda t: t.list()),
    ("stack describe, cold process", lambda t: t.describe()),
    ("register artifact store + stack + set (3 calls)", lambda t: t.register_set()),
    ("1-step pipeline, fresh process, cache off", lambda t: t.chain(1, False)),
    ("20-step chain, fresh process, cache off", lambda t: t.chain(20, False)),
    ("20-step chain fully cached, fresh process", lambda t: t.chain(20, True)),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "compare.json"))
    args = parser.parse_args()
    if not (PEER / "zenml").exists():
        sys.exit("ZenML is not installed in .venv-zenml: run `make bench-compare`")
    base = Path(tempfile.mkdtemp(prefix="zn-compare-"))
    tools = [Ours("zenml-notebook", OURS, base / "ours"), Peer("zenml 0.98", PEER, base / "peer")]
    for tool in tools:
        tool.work.mkdir()
        tool.setup()
        tool.chain(20, True)  # warm: create the stores, first cache entries
    results: dict[str, dict[str, list[float]]] = {name: {t.name: [] for t in tools} for name, _ in WORKLOADS}
    for _ in range(args.runs):
        for name, fn in WORKLOADS:
            for tool in tools:  # alternate tool by tool, workload by workload
                results[name][tool.name].append(fn(tool))
    per_step = {t.name: [(b - a) / 19 for a, b in zip(results["1-step pipeline, fresh process, cache off"][t.name],
                                                         results["20-step chain, fresh process, cache off"][t.name], strict=True)] for t in tools}
    results["per-step overhead ((20-step - 1-step) / 19)"] = per_step
    print(f"zenml-notebook vs ZenML 0.98, {args.runs} alternating runs, {os.cpu_count()} cores, medians (min-max)")
    print(f"{'workload':50} {'zenml-notebook':>22} {'zenml 0.98':>22} {'ratio':>7}")
    summary = {}
    for name, by_tool in results.items():
        ours, peer = by_tool["zenml-notebook"], by_tool["zenml 0.98"]
        mo, mp = statistics.median(ours), statistics.median(peer)
        cell = lambda v, m: f"{m * 1000:8.1f} ms ({min(v) * 1000:.0f}-{max(v) * 1000:.0f})"  # noqa: E731
        print(f"{name:50} {cell(ours, mo):>22} {cell(peer, mp):>22} {mp / mo:6.1f}x")
        summary[name] = {"zenml_notebook_s": mo, "zenml_s": mp, "ratio": mp / mo}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"runs": args.runs, "results": summary}, indent=2))
    print("JSON " + json.dumps(summary))
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
