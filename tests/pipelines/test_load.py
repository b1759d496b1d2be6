"""What the sidebar's "insert code to load it" inserts for a file in the artifact browser:
`Client().load(PATH)` loads the value a run recorded there, with its materializer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zenml_notebook import Client, pipeline, step
from zenml_notebook.exceptions import NotFoundError, UsageError


@step(outputs=["weights", "meta"])
def produce() -> tuple[np.ndarray, dict]:
    return np.arange(4.0), {"rows": 4}


@pipeline
def loadable() -> None:
    produce()


def test_a_file_in_the_browser_loads_as_its_value(repo: Path) -> None:
    run = loadable()
    client = Client()
    weights = run.step("produce").outputs["weights"]
    path = f"loadable/{run.name}/produce/weights.npy"
    assert weights.uri.endswith(path)
    assert client.load(path).tolist() == [0.0, 1.0, 2.0, 3.0]  # as the browser shows it
    assert client.load(weights.uri).tolist() == [0.0, 1.0, 2.0, 3.0]  # as `runs describe` prints it
    assert client.load(f"loadable/{run.name}/produce/meta.json") == {"rows": 4}
    (repo / ".zenml" / "artifacts" / "stray.txt").write_text("not from a run")
    with pytest.raises(NotFoundError, match=r"^no run recorded an artifact at 'stray.txt' in artifact store 'default'; preview"):
        client.load("stray.txt")
    with pytest.raises(UsageError, match="outside artifact store 'default'"):
        client.load("/etc/passwd")
