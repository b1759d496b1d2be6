"""Artifact-store figures: first page of a 10 000-entry local folder, a 1 GiB write vs `dd`,
and our GCS (emulator) / S3 (moto) throughput beside raw gcsfs / s3fs on the same data.

Run: `python benchmarks/bench_artifacts.py [--runs N] [--gib G]` (starts its own servers).
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
from pathlib import Path

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def median_ms(fn, runs: int) -> tuple[float, float, float]:
    values = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        values.append((time.perf_counter() - t) * 1000)
    return statistics.median(values), min(values), max(values)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--remote-mib", type=int, default=64)
    args = parser.parse_args()
    from tests.services import start_fake_gcs, start_moto
    from zenml_notebook.components.artifacts import open_artifact_store
    from zenml_notebook.registry import ComponentRecord
    from zenml_notebook.repository import Repository

    work = Path(tempfile.mkdtemp(prefix="zn-bench-art-", dir=os.environ.get("BENCH_DIR")))
    repo = Repository(work)
    rows: dict[str, tuple[float, float, float]] = {}
    # 1. first page of a 10 000-entry folder
    big = work / "store" / "many"
    big.mkdir(parents=True)
    for i in range(10_000):
        (big / f"artifact-{i:05d}.json").write_bytes(b"{}")
    store = open_artifact_store(ComponentRecord("artifact_store", "b", "local", {"path": str(work / "store")}), repo)
    rows["list first 100 of 10 000 (local)"] = median_ms(lambda: store.list("many", limit=100), args.runs)
    # 2. 1 GiB write vs dd to the same disk
    size = int(args.gib * 1024**3)
    chunk = os.urandom(8 * 1024 * 1024)

    def ours() -> None:
        with store.open_write("big/array.bin") as fh:
            for _ in range(size // len(chunk)):
                fh.write(chunk)

    def dd() -> None:
        subprocess.run(["dd", "if=/dev/zero", f"of={work}/dd.bin", "bs=8M", f"count={size // len(chunk)}", "conv=fsync"], check=True, capture_output=True)

    runs = max(3, args.runs // 2)
    w, d = [], []
    for _ in range(runs):  # alternate, so drift hits both
        w.append(median_ms(ours, 1)[0])
        d.append(median_ms(dd, 1)[0])
    rows[f"write {args.gib:g} GiB, ours (fsync + rename)"] = (statistics.median(w), min(w), max(w))
    rows[f"write {args.gib:g} GiB, dd conv=fsync"] = (statistics.median(d), min(d), max(d))
    write_ratio = statistics.median(d) / statistics.median(w)
    (work / "dd.bin").unlink(missing_ok=True)
    store.remove("big/array.bin")
    # 3. remote throughput, ours vs raw fsspec
    gcs = start_fake_gcs(work / "gcs")
    moto = start_moto(work / "moto")
    ratios = {}
    try:
        import gcsfs
        import s3fs

        os.environ["STORAGE_EMULATOR_HOST"] = gcs.url
        payload = os.urandom(args.remote_mib * 1024 * 1024)
        raw_g = gcsfs.GCSFileSystem(token="anon", endpoint_url=gcs.url, skip_instance_cache=True)
        raw_g.mkdir("bench")
        raw_s = s3fs.S3FileSystem(client_kwargs={"endpoint_url": moto.url}, skip_instance_cache=True)
        raw_s.mkdir("bench")
        ours_g = open_artifact_store(ComponentRecord("artifact_store", "g", "gcs", {"path": "gs://bench/ours", "anonymous": True, "endpoint_url": gcs.url}), repo)
        ours_s = open_artifact_store(ComponentRecord("artifact_store", "s", "s3", {"path": "s3://bench/ours", "endpoint_url": moto.url}), repo)
        for name, raw, mine, key in (("GCS emulator", raw_g, ours_g, "bench/raw.bin"), ("S3 moto", raw_s, ours_s, "bench/raw.bin")):
            rw, ow, rr, orr = [], [], [], []
            for _ in range(args.runs):
                rw.append(median_ms(lambda raw=raw, key=key: raw.pipe(key, payload), 1)[0])
                ow.append(median_ms(lambda mine=mine: mine.write_bytes("x.bin", payload), 1)[0])
                rr.append(median_ms(lambda raw=raw, key=key: raw.cat(key), 1)[0])
                orr.append(median_ms(lambda mine=mine: mine.read_bytes("x.bin"), 1)[0])
            rows[f"{name} write {args.remote_mib} MiB raw fsspec"] = (statistics.median(rw), min(rw), max(rw))
            rows[f"{name} write {args.remote_mib} MiB ours"] = (statistics.median(ow), min(ow), max(ow))
            rows[f"{name} read {args.remote_mib} MiB raw fsspec"] = (statistics.median(rr), min(rr), max(rr))
            rows[f"{name} read {args.remote_mib} MiB ours"] = (statistics.median(orr), min(orr), max(orr))
            ratios[f"{name} write"] = statistics.median(rw) / statistics.median(ow)
            ratios[f"{name} read"] = statistics.median(rr) / statistics.median(orr)
    finally:
        gcs.stop()
        moto.stop()
    print(f"artifact stores, medians of {args.runs} runs (writes alternate with their baseline)")
    print(f"{'operation':46} {'median':>10} {'min':>10} {'max':>10}")
    for name, (med, lo, hi) in rows.items():
        print(f"{name:46} {med:8.1f}ms {lo:8.1f}ms {hi:8.1f}ms")
    print(f"{'ours / dd throughput (budget >= 0.5)':46} {write_ratio:9.2f}")
    for name, ratio in ratios.items():
        print(f"{'ours / raw throughput, ' + name + ' (>= 0.9)':46} {ratio:9.2f}")
    print("JSON " + json.dumps({"rows_ms": rows, "write_vs_dd": write_ratio, "remote_ratios": ratios}))


if __name__ == "__main__":
    main()
