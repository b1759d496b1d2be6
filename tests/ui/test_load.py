"""The browser tests' load (see conftest.py) is real."""

from __future__ import annotations


def test_the_machine_is_busy(busy_machine: list[int]) -> None:
    """The load is real: each burner is alive and using the CPU."""
    import time

    import psutil

    procs = [psutil.Process(pid) for pid in busy_machine]
    for p in procs:
        p.cpu_percent(None)
    time.sleep(1.0)
    used = [p.cpu_percent(None) for p in procs]
    assert all(p.is_running() for p in procs) and all(u > 20 for u in used), used  # 2 burners on 2 cores: ~100 % each
