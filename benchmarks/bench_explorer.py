"""What the sidebar's run explorer costs the Jupyter server: the first page of 1 000 runs, an
unchanged poll (the change token), and previewing the first rows of a 1 GiB parquet file (how
much of it is read); prints a table and one JSON line.

Run: `make bench` (or `python benchmarks/bench_explorer.py`). Medians of in-process calls of the
server's own functions (what a request runs, without HTTP); local SQLite metadata and folder.
Bytes read are the process's `rchar` from /proc/self/io around the preview.
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
BUDGET = {"runs page 1 of 1 000 runs": 0.100, "unchanged poll (change token)": 0.005, "parquet 1 GiB: first rows": 1.0}

RUNS = '''
from zenml_notebook import pipeline, step

@step(cache=False)
def one(i: int = 0) -> int:
    return i

@pipeline(cache=False)
def many(i: int = 0) -> None:
    one(i=i)

if __name__ == "__main__":
    for i in range(1000):
        many(i=i)
'''


def timed(fn, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def rchar() -> int:
    return int(next(line for line in Path("/proc/self/io").read_text().splitlines() if line.startswith("rchar:")).split()[1])


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="zn-bench-explorer-"))
    os.environ["ZENML_NOTEBOOK_CONFIG_DIR"] = str(work / "config")
    os.chdir(work)
    subprocess.run([SCRIPT, "init"], cwd=work, check=True, capture_output=True)
    (work / "many.py").write_text(RUNS)
    subprocess.run([sys.executable, "many.py"], cwd=work, check=True, capture_output=True)
    from zenml_notebook.server.handlers import _runs, _version

    assert _runs(None, 20)["total"] == 1000
    results = {"runs page 1 of 1 000 runs": timed(lambda: _runs(None, 20), 20), "unchanged poll (change token)": timed(_version, 200)}

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from zenml_notebook import api

    folder = work / ".zenml" / "artifacts" / "big"
    folder.mkdir(parents=True)
    n = 16 * 1024 * 1024  # 16 Mi rows x 8 float64 columns = 1 GiB of values
    writer = None
    for start in range(0, n, 2 * 1024 * 1024):
        chunk = pa.table({f"c{i}": np.random.default_rng(start + i).random(2 * 1024 * 1024) for i in range(8)})
        writer = writer or pq.ParquetWriter(folder / "big.parquet", chunk.schema, compression="NONE")
        writer.write_table(chunk, row_group_size=4 * 1024 * 1024)
    assert writer is not None
    writer.close()
    size = (folder / "big.parquet").stat().st_size
    reads, times = [], []
    for _ in range(5):
        before, t = rchar(), time.perf_counter()
        preview = api.preview_artifact("big/big.parquet")
        times.append(time.perf_counter() - t)
        reads.append(rchar() - before)
    assert len(preview.rows) == 51
    results["parquet 1 GiB: first rows"] = times
    print(f"run explorer, server side; {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{'operation':40} {'median':>10} {'min':>10} {'max':>10} {'budget':>9}")
    summary: dict[str, object] = {}
    for name, values in results.items():
        med = statistics.median(values)
        print(f"{name:40} {med * 1000:8.2f}ms {min(values) * 1000:8.2f}ms {max(values) * 1000:8.2f}ms {BUDGET[name] * 1000:7.0f}ms "
              f"{'ok' if med <= BUDGET[name] else 'MISS'}")
        summary[name] = {"median_s": med, "min_s": min(values), "max_s": max(values), "budget_s": BUDGET[name]}
    fraction = statistics.median(reads) / size
    print(f"parquet preview read {statistics.median(reads) / 2**20:.2f} MiB of {size / 2**30:.2f} GiB ({fraction * 100:.3f} %; budget 5 %) "
          f"{'ok' if fraction <= 0.05 else 'MISS'}")
    summary["parquet preview fraction read"] = fraction
    print("JSON " + json.dumps(summary))


if __name__ == "__main__":
    main()
