"""The life of runs and artifacts: capturing a step's output, listing the versions of a name
with 10 000 versions, deleting 1 000 runs of 20 artifacts each; prints a table and one JSON line.

Run: `make bench` (or `python benchmarks/bench_lifecycle.py`). Medians; local SQLite metadata
and a local artifact folder on this machine's disk.

* capture: `logs.capture()` around a step that prints nothing, vs the same call without it
  (200 000 alternating calls; the difference per step).
* versions: 10 000 versions of "model" are put straight into ml-metadata (the setup; minting them
  through 10 000 pipeline runs would take minutes), then `artifacts versions model` (its first
  page of 20, newest first, and the total) is timed in a warm process (`Client.artifact_versions`,
  50 calls) and as a fresh CLI process (9 calls).
* delete: 1 000 runs of a pipeline of 4 steps x 5 outputs (20 artifacts each, cache off), then
  one `zenml-notebook runs delete` of all of them, timed as a whole (one run of the CLI).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
SCRIPT = str(Path(sys.executable).with_name("zenml-notebook"))
BUDGET = {"capture per silent step": 0.0003, "artifacts versions, 10 000 versions (warm)": 0.100,
          "artifacts versions, 10 000 versions (cold CLI)": 0.500, "runs delete, 1 000 runs x 20 artifacts": 30.0}


def capture_cost() -> list[float]:
    from zenml_notebook.pipelines.logs import capture

    def silent() -> int:
        return 1

    with_, without = [], []
    for _ in range(20):
        t = time.perf_counter()
        for _ in range(10_000):
            with capture():
                silent()
        with_.append((time.perf_counter() - t) / 10_000)
        t = time.perf_counter()
        for _ in range(10_000):
            silent()
        without.append((time.perf_counter() - t) / 10_000)
    return [a - b for a, b in zip(with_, without, strict=True)]


def versions_cost(work: Path) -> tuple[list[float], list[float]]:
    from ml_metadata.proto import metadata_store_pb2 as pb

    from zenml_notebook import Client
    from zenml_notebook.components.metadata.mlmd import VERSION

    client = Client()
    md = client._md
    md.versions("model")  # the types
    type_id = md._type_id(VERSION)
    contexts = []
    for n in range(1, 10_001):
        ctx = pb.Context(type_id=type_id, name=f"model:{n}")
        p = ctx.properties
        p["artifact_name"].string_value, p["version"].int_value, p["artifact"].int_value = "model", n, n
        p["run"].string_value, p["step"].string_value, p["content_hash"].string_value = f"run-{n}", "fit", f"h{n}"
        p["created"].double_value, p["size"].int_value = time.time(), 1000
        contexts.append(ctx)
    for i in range(0, len(contexts), 1000):
        md._call(lambda s, c=contexts[i : i + 1000]: s.put_contexts(c))
    assert client.artifact_versions("model")[0] == 10_000
    warm = []
    for _ in range(50):
        t = time.perf_counter()
        client.artifact_versions("model")
        warm.append(time.perf_counter() - t)
    cold = []
    for _ in range(9):
        t = time.perf_counter()
        subprocess.run([SCRIPT, "artifacts", "versions", "model"], cwd=work, check=True, capture_output=True)
        cold.append(time.perf_counter() - t)
    return warm, cold


PIPELINE = '''
from zenml_notebook import pipeline, step

@step(outputs=["a", "b", "c", "d", "e"], cache=False)
def five(i: int = 0) -> tuple:
    return i, i + 1, i + 2, i + 3, i + 4

@pipeline(cache=False)
def wide(i: int = 0) -> None:
    for _ in range(4):
        five(i=i)

if __name__ == "__main__":
    for i in range(1000):
        wide(i=i)
'''


def delete_cost(work: Path) -> tuple[float, int]:
    (work / "wide.py").write_text(PIPELINE)
    subprocess.run([sys.executable, "wide.py"], cwd=work, check=True, capture_output=True)
    from zenml_notebook import Client

    runs = [r.name for r in Client().runs("wide")]
    t = time.perf_counter()
    out = subprocess.run([SCRIPT, "runs", "delete", *runs], cwd=work, check=True, capture_output=True, text=True).stdout
    took = time.perf_counter() - t
    return took, int(out.split("; ", 1)[1].split(" artifact")[0])


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="zn-bench-lifecycle-"))
    os.environ["ZENML_NOTEBOOK_CONFIG_DIR"] = str(work / "config")
    os.chdir(work)
    subprocess.run([SCRIPT, "init"], cwd=work, check=True, capture_output=True)
    results = {"capture per silent step": capture_cost()}
    warm, cold = versions_cost(work)
    results["artifacts versions, 10 000 versions (warm)"] = warm
    results["artifacts versions, 10 000 versions (cold CLI)"] = cold
    took, artifacts = delete_cost(work)
    results["runs delete, 1 000 runs x 20 artifacts"] = [took]
    print(f"runs and artifacts over their life; local SQLite + folder, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{'operation':48} {'median':>11} {'min':>11} {'max':>11} {'budget':>9}")
    summary = {}
    for name, values in results.items():
        med = statistics.median(values)
        budget = BUDGET[name]
        print(f"{name:48} {med * 1000:9.3f}ms {min(values) * 1000:9.3f}ms {max(values) * 1000:9.3f}ms "
              f"{budget * 1000:7.1f}ms {'ok' if med <= budget else 'MISS'}")
        summary[name] = {"median_s": med, "min_s": min(values), "max_s": max(values), "budget_s": budget}
    summary["runs delete: artifacts removed"] = artifacts
    print(f"(runs delete removed {artifacts} artifacts)")
    print("JSON " + json.dumps(summary))


if __name__ == "__main__":
    main()
