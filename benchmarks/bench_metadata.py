"""Recording one step through our interface vs a bare ml-metadata put_execution of the
same shape (1 input, 1 output, 2 events, the run context, a new cache-key context, the same
properties), side by side in one process, alternating; our records keyed by external id (one
at a time, and 8 gathered into one transaction as SQLite's writer does); plus the first
metadata access in a fresh process.

Run: `python benchmarks/bench_metadata.py [--runs N] [--mysql-host H --mysql-port P ...]`
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


def bare_recorder(store, ctx, artifact_type, execution_type, cache_type):
    """The best ml-metadata call shaped like one step: 7 properties, an existing input artifact
    by id in its event, a new output artifact, the run context by id (not re-written), and a new
    cache-key context by name (each step of a run has its own key)."""
    from ml_metadata.proto import metadata_store_pb2 as pb

    inp = pb.Artifact(type_id=artifact_type, uri="/bare/in", state=pb.Artifact.LIVE)
    for k in ("name", "data_type", "materializer", "content_hash"):
        inp.properties[k].string_value = "x"
    inp.id = store.put_artifacts([inp])[0]
    counter = iter(range(10**9))

    def record() -> None:
        i = next(counter)
        ex = pb.Execution(type_id=execution_type, name=f"bare.{i}", last_known_state=pb.Execution.COMPLETE)
        for k in ("step", "parameters", "code_hash", "cache_key", "run"):
            ex.properties[k].string_value = "x"
        ex.properties["started"].double_value = 1.0
        ex.properties["ended"].double_value = 2.0
        out = pb.Artifact(type_id=artifact_type, uri=f"/bare/out/{i}", state=pb.Artifact.LIVE)
        for k in ("name", "data_type", "materializer", "content_hash"):
            out.properties[k].string_value = "x"
        ev_in = pb.Event(type=pb.Event.INPUT, artifact_id=inp.id)
        ev_in.path.steps.add().key = "data"
        ev_out = pb.Event(type=pb.Event.OUTPUT)
        ev_out.path.steps.add().key = "output"
        contexts = [pb.Context(id=ctx.id), pb.Context(type_id=cache_type, name=f"bare-key-{i}")]
        store.put_execution(ex, [(None, ev_in), (out, ev_out)], contexts, reuse_context_if_already_exist=True,
                            force_reuse_context=True)

    return record


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    from zenml_notebook.components.metadata import ArtifactSpec, open_metadata_store
    from zenml_notebook.components.metadata.mlmd import ARTIFACT, CACHE, RUN, STEP
    from zenml_notebook.registry import ComponentRecord
    from zenml_notebook.repository import Repository

    work = Path(tempfile.mkdtemp(prefix="zn-bench-md-"))
    record = ComponentRecord("metadata_store", "b", "sqlite", {"uri": str(work / "m.db")})
    ours = open_metadata_store(record, Repository(work))
    run = ours.start_run("bench", "bench-1", {})
    first = ours.record_step(run, "seed", parameters={}, code_hash="c", cache_key="00", inputs={}, outputs=[ArtifactSpec("output", "/o/seed", "int", "json", "h")], state="complete", started=0, ended=1)
    raw = ours._connect()
    ctx = ours._run_context(run.id)
    bare = bare_recorder(raw, ctx, ours._type_id(ARTIFACT), ours._type_id(STEP), ours._type_id(CACHE))
    ours._type_id(RUN)
    counter = iter(range(10**9))

    def our_record() -> None:
        i = next(counter)
        ours.record_step(run, f"s{i}", parameters={"i": 1}, code_hash="c", cache_key=f"key-{i}", inputs={"data": first.outputs["output"]},
                         outputs=[ArtifactSpec("output", f"/o/{i}", "int", "json", "h")], state="complete", started=1.0, ended=2.0)

    def gathered(size: int):  # type: ignore[no-untyped-def]
        """record_steps_chained: what SQLite's writer does with the records it finds waiting (and,
        one at a time, what an in-process record on SQLite does); each a chain on the one before."""

        def record() -> None:
            calls = []
            for j in range(size):
                i = next(counter)
                inputs = {"data": first.outputs["output"] if j == 0 else [f"s{i - 1}", "output"]}
                calls.append(((run, f"s{i}"), {"parameters": {"i": 1}, "code_hash": "c", "cache_key": f"{i:x}", "inputs": inputs,
                              "outputs": [ArtifactSpec("output", f"/o/{i}", "int", "json", "h")], "state": "complete",
                              "started": 1.0, "ended": 2.0}))
            assert not any(isinstance(r, Exception) for r in ours.record_steps_chained(calls))

        return record

    per = {"bare put_execution": [], "our record_step": [], "ours, keyed, one at a time": [], "ours, keyed, 8 gathered": []}
    fns = {"bare put_execution": (bare, 1), "our record_step": (our_record, 1), "ours, keyed, one at a time": (gathered(1), 1),
           "ours, keyed, 8 gathered": (gathered(8), 8)}
    for _ in range(args.runs):
        for name, (fn, size) in fns.items():
            t = time.perf_counter()
            for _ in range(args.steps // size):
                fn()
            per[name].append((time.perf_counter() - t) / (args.steps // size * size))
    # first metadata access in a fresh process, over the registry access alone
    probe = (
        "import time, os\n"
        f"os.chdir({str(work)!r})\n"
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
    subprocess.run([sys.executable, "-m", "zenml_notebook", "init"], cwd=work, check=True, capture_output=True)
    reg, first_md = [], []
    for _ in range(args.runs):
        a, b = map(float, subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split())
        reg.append(a)
        first_md.append(b)
    bare_med, ours_med = statistics.median(per["bare put_execution"]), statistics.median(per["our record_step"])
    print(f"metadata recording on SQLite, {args.steps} steps x {args.runs} rounds, alternating")
    print(f"{'operation (per record)':40} {'median':>9} {'min':>9} {'max':>9}")
    for name, values in per.items():
        print(f"{name:40} {statistics.median(values) * 1000:7.2f}ms {min(values) * 1000:7.2f}ms {max(values) * 1000:7.2f}ms")
    print(f"{'ratio ours / bare (budget <= 1.2)':40} {ours_med / bare_med:8.2f}x")
    print(f"{'registry access, fresh process':40} {statistics.median(reg) * 1000:7.1f}ms")
    print(f"{'first metadata access on top (<=150ms)':40} {statistics.median(first_md) * 1000:7.1f}ms")
    print("JSON " + json.dumps({"bare_s": bare_med, "ours_s": ours_med, "ratio": ours_med / bare_med,
                               "registry_s": statistics.median(reg), "first_metadata_s": statistics.median(first_md), "pid": os.getpid()}))


if __name__ == "__main__":
    main()
