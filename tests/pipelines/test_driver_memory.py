"""Data does not travel through the driver: a 1 GiB intermediate passed between two workers of a
real ``dask scheduler`` leaves the driving process's peak memory far below it (a fresh process,
VmHWM, against the same run with a 1 MiB intermediate)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from zenml_notebook import api

BIG = """
import sys, json
import numpy as np
from zenml_notebook import pipeline, step

@step(cache=False)
def make(mib: int = 1024) -> np.ndarray:
    return np.ones(mib * 1024 * 1024 // 8)

@step(cache=False)
def total(a: np.ndarray) -> float:
    return float(a.sum())

@pipeline(name="big", cache=False)
def big(mib: int = 1024):
    total(make(mib=mib))

if __name__ == "__main__":
    run = big(mib=int(sys.argv[1]))
    hwm = next(int(line.split()[1]) / 1024 for line in open("/proc/self/status") if line.startswith("VmHWM"))
    print(json.dumps({"peak_mib": hwm, "total": run.output("total"), "state": run.state, "worker_steps": [s.name for s in run.steps]}))
"""


def test_a_1_gib_intermediate_never_passes_through_the_driver(repo: Path, tmp_path: Path) -> None:
    from ..services import start_dask

    cluster = start_dask(tmp_path / "dask", workers=2)
    try:
        api.register_component("orchestrator", "cluster", "dask", {"scheduler_address": cluster.address})
        api.register_stack("cluster", "default", "default", "cluster", activate=True)
        (repo / "big.py").write_text(BIG)
        peaks = {}
        for mib in (1, 1024):
            out = subprocess.run([sys.executable, "big.py", str(mib)], cwd=repo, capture_output=True, text=True, timeout=600)
            assert out.returncode == 0, out.stderr[-3000:]
            figure = json.loads(out.stdout.strip().splitlines()[-1])
            assert figure["state"] == "complete" and figure["total"] == mib * 1024 * 1024 // 8
            peaks[mib] = figure["peak_mib"]
        # the driver's peak does not grow with the intermediate: it never held it
        assert peaks[1024] < 400 and peaks[1024] - peaks[1] < 64, peaks
        assert (repo / ".zenml" / "artifacts" / "big").exists()
    finally:
        cluster.stop()
