"""Big outputs through the materializers vs the library's own file calls: on the local store,
and (`--stores local,gcs,s3`) on the GCS emulator and moto's S3 server, started on 127.0.0.1.

A 1 GiB float64 array (numpy) and a 10 M-row DataFrame (pandas + pyarrow; sizes as options), written through
`store_value` (streams into the store's atomic temp file, hashing as it writes, then fdatasync
and rename) and read through `load_artifact`, alternating with `np.save` + fdatasync / `np.load`
and `to_parquet` + fdatasync / `read_parquet` on the same disk. Medians of N rounds (each file
read once before timing reads, so both sides read from the page cache); extra peak memory while
writing and peak while reading, by tracemalloc.

On the object stores the comparison is a plain fsspec write/read of the same bytes (`np.save` /
`to_parquet` into memory, then `pipe_file`; `cat_file`, then `np.load` / `read_parquet`). The
emulators keep objects in memory: each round's objects are removed after it.

Run: `python benchmarks/bench_big.py [--runs N] [--stores local,gcs,s3] [--mib 1024] [--rows 10000000]`.
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


def _object_store(kind: str, work: Path) -> tuple[Any, Any, Any]:
    """(store, fsspec filesystem, server) for a fresh bucket on the emulator of ``kind``."""
    import sys
    import uuid

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.services import start_fake_gcs, start_moto
    from zenml_notebook.components.artifacts.store import ArtifactStore

    bucket = f"bench-{uuid.uuid4().hex[:10]}"
    if kind == "gcs":
        os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        server = start_fake_gcs(work / "gcs")
        os.environ["STORAGE_EMULATOR_HOST"] = server.url
        store = ArtifactStore("gcs", f"gs://{bucket}/bench", {"token": "anon", "endpoint_url": server.url, "timeout": 600}, "artifact store 'gcs'")
    else:
        for key, value in (("AWS_ACCESS_KEY_ID", "bench"), ("AWS_SECRET_ACCESS_KEY", "bench"), ("AWS_DEFAULT_REGION", "us-east-1")):
            os.environ.setdefault(key, value)
        server = start_moto(work / "s3")
        store = ArtifactStore("s3", f"s3://{bucket}/bench", {"endpoint_url": server.url, "timeout": 600}, "artifact store 's3'")
    store.fs.mkdir(bucket)
    return store, store.fs, server


def main() -> None:
    import io

    import numpy as np
    import pandas as pd

    from zenml_notebook.components.artifacts.store import ArtifactStore
    from zenml_notebook.pipelines.materializers import load_artifact, materializer_for, store_value

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stores", default="local", help="comma-separated: local, gcs, s3")
    parser.add_argument("--mib", type=int, default=1024, help="size of the float64 array")
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the two-column DataFrame")
    args = parser.parse_args()
    os.environ.setdefault("ZENML_NOTEBOOK_TRANSFER_NOTICE", "3600")  # no progress lines in the figures' output
    array = np.random.default_rng(0).random(args.mib * 2**20 // 8)
    frame = pd.DataFrame({"a": np.arange(args.rows), "b": np.random.default_rng(1).random(args.rows)})
    values = {f"numpy {args.mib} MiB": (array, ".npy"), f"DataFrame {args.rows / 1e6:g} M rows": (frame, ".parquet")}
    work = Path(tempfile.mkdtemp(prefix="zn-bench-big-"))
    rows: dict[str, dict[str, float]] = {}
    for kind in args.stores.split(","):
        server = None
        if kind == "local":
            store = ArtifactStore("local", str(work / "local"), {}, "artifact store 'bench'")

            def plain_write(value: Any, path: str) -> None:
                target = work / "plain" / path
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "wb") as fh:
                    if isinstance(value, np.ndarray):
                        np.save(fh, value, allow_pickle=False)
                    else:
                        value.to_parquet(fh)
                    fh.flush()
                    os.fdatasync(fh.fileno())

            def plain_read(value: Any, path: str) -> Any:
                target = work / "plain" / path
                return np.load(target) if isinstance(value, np.ndarray) else pd.read_parquet(target)

            def plain_remove(path: str) -> None:
                (work / "plain" / path).unlink()
        else:
            store, fs, server = _object_store(kind, work)
            base = f"{store.bucket}/plain"

            def plain_write(value: Any, path: str, fs: Any = fs, base: str = base) -> None:
                buf = io.BytesIO()
                if isinstance(value, np.ndarray):
                    np.save(buf, value, allow_pickle=False)
                else:
                    value.to_parquet(buf)
                fs.pipe_file(f"{base}/{path}", buf.getvalue())

            def plain_read(value: Any, path: str, fs: Any = fs, base: str = base) -> Any:
                data = io.BytesIO(fs.cat_file(f"{base}/{path}"))
                return np.load(data) if isinstance(value, np.ndarray) else pd.read_parquet(data)

            def plain_remove(path: str, fs: Any = fs, base: str = base) -> None:
                fs.rm(f"{base}/{path}")

        print(f"big outputs on the {kind} store, {args.runs} rounds, alternating, medians")
        print(f"{'figure':34} {'ours':>9} {'library':>9} {'ratio':>6} {'write peak':>11} {'read peak':>10}")
        try:
            for label, (value, ext) in values.items():
                mat = materializer_for(value)
                times: dict[str, list[float]] = {"w": [], "pw": [], "r": [], "pr": []}
                for i in range(args.runs):
                    ours, plain = f"r{i}/out{ext}", f"plain{i}{ext}"
                    times["w"].append(_timed(lambda: store_value(store, ours, value, mat)))  # noqa: B023 - called at once
                    times["pw"].append(_timed(lambda: plain_write(value, plain)))  # noqa: B023
                    load_artifact(store, ours, mat), plain_read(value, plain)  # first touch outside the timing
                    times["r"].append(_timed(lambda: load_artifact(store, ours, mat)))  # noqa: B023
                    times["pr"].append(_timed(lambda: plain_read(value, plain)))  # noqa: B023
                    size = store.size(ours)
                    store.remove(ours)
                    plain_remove(plain)
                write_peak = _peak(lambda: store_value(store, f"m/out{ext}", value, mat))  # noqa: B023
                read_peak = _peak(lambda: load_artifact(store, f"m/out{ext}", mat))  # noqa: B023
                store.remove(f"m/out{ext}")
                med = {k: statistics.median(v) for k, v in times.items()}
                for what, a, b in (("write", med["w"], med["pw"]), ("read", med["r"], med["pr"])):
                    peak = f"{write_peak / size:9.2f}x" if what == "write" else ""
                    rpeak = f"{read_peak / size:8.2f}x" if what == "read" else ""
                    print(f"{label + ' ' + what:34} {a * 1000:7.0f}ms {b * 1000:7.0f}ms {a / b:5.2f}x {peak:>11} {rpeak:>10}")
                rows[f"{kind}: {label}"] = {"write_s": med["w"], "library_write_s": med["pw"], "read_s": med["r"], "library_read_s": med["pr"],
                                            "write_peak_x": write_peak / size, "read_peak_x": read_peak / size}
        finally:
            if server is not None:
                server.stop()
    print("(peaks are extra memory allocated while writing / reading, as a multiple of the file's size)")
    print("JSON " + json.dumps(rows))


if __name__ == "__main__":
    main()
