"""The explorer's runs table with 100 000 runs in the metadata store: building the index once,
the first page, sorting by a parameter and by an output, a text filter, paging, an unchanged
poll, and catching up after one more run; prints a table and one JSON line.

Run: `make bench` (or `python benchmarks/bench_table.py [--runs N]`). Medians of in-process calls
of what the server's `GET runs/table` runs (without HTTP), local SQLite metadata. The runs are
written as the runner writes them when they end (a run record with its summary: 2 parameters, 1
scalar output, 3 steps), in batches through ml-metadata, so building the store takes ~20 s;
their steps are not written (the table never reads them).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
BUDGET = {"first page": 0.150, "sort by a parameter": 0.300, "filter by text": 0.300, "unchanged poll (change token)": 0.005}


def _fill(md: object, runs: int) -> None:
    from ml_metadata.proto import metadata_store_pb2 as pb

    from zenml_notebook.components.metadata.mlmd import PIPELINE, RUN

    first = md.start_run("train", "seed-run", {"name": "default"}, user="bench@host")  # types and the pipeline context
    md.finish_run(first, "complete", {"steps": 3, "cached": 0, "parameters": {"trainer.lr": 0.1, "trainer.epochs": 5},
                                      "scalars": {"evaluate.score": 0.5}})
    run_type, rng, now = md._type_id(RUN), random.Random(7), time.time()
    md._type_id(PIPELINE)
    for start in range(0, runs - 1, 2000):
        batch = []
        for i in range(start, min(start + 2000, runs - 1)):
            ctx = pb.Context(type_id=run_type, name=f"train-{i:06d}")
            p = ctx.properties
            p["pipeline"].string_value = "train" if i % 3 else "tune"
            p["state"].string_value = "complete" if i % 17 else "failed"
            p["started"].double_value = now - (runs - i) * 60
            p["ended"].double_value = now - (runs - i) * 60 + rng.uniform(1, 100)
            p["stack"].string_value = json.dumps({"name": "default"})
            p["user"].string_value = "ana@laptop" if i % 2 else "bo@laptop"
            p["summary"].string_value = json.dumps({
                "steps": 3, "cached": i % 3, "parameters": {"trainer.lr": round(rng.uniform(0.001, 1), 5), "trainer.epochs": rng.randint(1, 50)},
                "scalars": {"evaluate.score": rng.random()}})
            batch.append(ctx)
        md._call(lambda s, b=batch: s.put_contexts(b))


def _median(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        from zenml_notebook import api
        from zenml_notebook.pipelines import table
        from zenml_notebook.pipelines.runs import Client

        api.init()
        client = Client()
        md = client._md
        t = time.perf_counter()
        _fill(md, args.runs)
        fill = time.perf_counter() - t
        t = time.perf_counter()
        cold = client.table(limit=50)  # the newest runs at once; every run is read in the background
        cold_page = time.perf_counter() - t
        assert cold["total"] is None and len(cold["rows"]) == 50, cold["total"]
        table._index_of(md).building.join()
        build = time.perf_counter() - t
        first = client.table(limit=50)
        assert first["total"] == args.runs, first["total"]

        def fresh(**query: object) -> None:  # the index is warm, the query's own sorting is not cached
            table._index_of(md).sorted.clear()
            client.table(**query)

        figures = {
            "first page": _median(lambda: fresh(limit=50), args.repeat),
            "next page (same order)": _median(lambda: client.table(offset=5000, limit=50), args.repeat),
            "sort by a parameter": _median(lambda: fresh(sort="param:trainer.lr", descending=False, limit=50), args.repeat),
            "sort by an output": _median(lambda: fresh(sort="scalar:evaluate.score", limit=50), args.repeat),
            "filter by text": _median(lambda: fresh(text="lr=0.5", limit=50), args.repeat),
            "filter by pipeline + state": _median(lambda: fresh(pipeline="tune", state="failed", limit=50), args.repeat),
            "unchanged poll (change token)": _median(md.latest_change, args.repeat * 5),
        }
        run = md.start_run("train", "one-more", {"name": "default"})
        md.finish_run(run, "complete", {"steps": 1, "cached": 0, "parameters": {}, "scalars": {}})
        t = time.perf_counter()
        after = client.table(limit=1)
        figures["catch up after one more run"] = time.perf_counter() - t
        assert after["rows"][0]["name"] == "one-more" and after["total"] == args.runs + 1
    print(f"runs table, {args.runs} runs (SQLite metadata; store built in {fill:.0f} s)")
    print(f"  {'first page, cold (newest runs, before the index)':<52} {cold_page * 1000:9.1f} ms")
    print(f"  {'index of every run built (in the background)':<52} {build * 1000:9.1f} ms")
    for name, seconds in figures.items():
        budget = BUDGET.get(name)
        print(f"  {name:<52} {seconds * 1000:9.1f} ms" + (f"   (budget {budget * 1000:.0f} ms)" if budget else ""))
    print(json.dumps({"bench": "table", "runs": args.runs, "cold_first_page_ms": round(cold_page * 1000, 2), "build_s": round(build, 3), **{k: round(v * 1000, 2) for k, v in figures.items()}}))


if __name__ == "__main__":
    main()
