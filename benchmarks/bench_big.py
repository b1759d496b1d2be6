"""Big outputs through the materializers vs the library's own file calls, on the local store.

A 256 MiB float64 array (numpy) and a 5 M-row DataFrame (pandas + pyarrow), written through
`store_value` (streams into the store's atomic temp file, hashing as it writes, then fdatasync
and rename) and read through `load_artifact`, alternating with `np.save` + fdatasync / `np.load`
and `to_parquet` + fdatasync / `read_parquet` on the same disk. Medians of N rounds (each file
read once before timing reads, so both sides read from the page cache); extra peak memory while
writing and peak while reading, by tracemalloc.

Run: `python benchmarks/bench_big.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any


def _timed(fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _peak(fn: Any) -> int:
    tracemalloc.start()
    try:
        fn()
        return int(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()


def main() -> None:
    import numpy as np
    import pandas as pd

    from zenml_notebook.components.artifacts.store import ArtifactStore
    from zenml_notebook.pipelines.materializers import load_artifact, materializer_for, store_value

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="zn-bench-big-"))
    store = ArtifactStore("local", str(root), {}, "artifact store 'bench'")
    values = {
        "numpy 256 MiB": (np.random.default_rng(0).random(32 * 1024 * 1024), ".npy"),
        "DataFrame 5 M rows": (pd.DataFrame({"a": np.arange(5_000_000), "b": np.random.default_rng(1).random(5_000_000)}), ".parquet"),
    }

    def plain_write(value: Any, path: Path) -> None:
        with open(path, "wb") as fh:
            if isinstance(value, np.ndarray):
                np.save(fh, value, allow_pickle=False)
            else:
                value.to_parquet(fh)
            fh.flush()
            os.fdatasync(fh.fileno())

    def plain_read(value: Any, path: Path) -> Any:
        return np.load(path) if isinstance(value, np.ndarray) else pd.read_parquet(path)

    rows: dict[str, dict[str, float]] = {}
    print(f"big outputs on the local store, {args.runs} rounds, alternating, medians")
    print(f"{'figure':34} {'ours':>9} {'library':>9} {'ratio':>6} {'write peak':>11} {'read peak':>10}")
    for label, (value, ext) in values.items():
        mat = materializer_for(value)
        times: dict[str, list[float]] = {"w": [], "pw": [], "r": [], "pr": []}
        for i in range(args.runs):
            ours, plain = f"r{i}/out{ext}", root / f"plain{i}{ext}"
            times["w"].append(_timed(lambda: store_value(store, ours, value, mat)))  # noqa: B023 - called at once
            times["pw"].append(_timed(lambda: plain_write(value, plain)))  # noqa: B023
            load_artifact(store, ours, mat), plain_read(value, plain)  # first touch outside the timing
            times["r"].append(_timed(lambda: load_artifact(store, ours, mat)))  # noqa: B023
            times["pr"].append(_timed(lambda: plain_read(value, plain)))  # noqa: B023
        size = (root / f"r0/out{ext}").stat().st_size
        write_peak = _peak(lambda: store_value(store, f"m/out{ext}", value, mat))  # noqa: B023
        read_peak = _peak(lambda: load_artifact(store, f"m/out{ext}", mat))  # noqa: B023
        med = {k: statistics.median(v) for k, v in times.items()}
        for kind, a, b in (("write", med["w"], med["pw"]), ("read", med["r"], med["pr"])):
            peak = f"{write_peak / size:9.2f}x" if kind == "write" else ""
            rpeak = f"{read_peak / size:8.2f}x" if kind == "read" else ""
            print(f"{label + ' ' + kind:34} {a * 1000:7.0f}ms {b * 1000:7.0f}ms {a / b:5.2f}x {peak:>11} {rpeak:>10}")
        rows[label] = {"write_s": med["w"], "library_write_s": med["pw"], "read_s": med["r"], "library_read_s": med["pr"],
                       "write_peak_x": write_peak / size, "read_peak_x": read_peak / size}
    print("(peaks are extra memory allocated while writing / reading, as a multiple of the file's size)")
    print("JSON " + json.dumps(rows))


if __name__ == "__main__":
    main()
