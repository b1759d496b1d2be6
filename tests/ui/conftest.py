"""The browser tests run on a loaded machine, as CI machines are: two processes burn a CPU each
beside them for the whole package (ZENML_NOTEBOOK_TEST_UI_LOAD=N to change how many, 0 for none).
Waits are on conditions with generous limits, so a healthy run is no slower for it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

BURN = "import os, time\nend = time.monotonic() + 3600\nwhile time.monotonic() < end and os.getppid() != 1:\n    pass\n"


@pytest.fixture(scope="package", autouse=True)
def busy_machine() -> Iterator[list[int]]:
    count = int(os.environ.get("ZENML_NOTEBOOK_TEST_UI_LOAD", "2"))
    burners = [subprocess.Popen([sys.executable, "-c", BURN]) for _ in range(count)]
    try:
        yield [p.pid for p in burners]
    finally:
        for p in burners:
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=10)

