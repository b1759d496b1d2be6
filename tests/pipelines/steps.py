"""Steps shared by the pipeline tests (importable by Dask workers)."""

from __future__ import annotations

import os
import time

import numpy as np

from zenml_notebook import pipeline, step

CALLS_FILE = "ZN_TEST_CALLS"


def _note(name: str) -> None:
    path = os.environ.get(CALLS_FILE)
    if path:
        with open(path, "a") as fh:
            fh.write(name + "\n")


@step
def load(n: int = 50) -> dict:
    _note("load")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3)).round(6).tolist()
    return {"x": x, "y": [round(sum(r), 6) for r in x]}


@step(outputs=["train", "test"])
def split(data: dict, frac: float = 0.8):
    _note("split")
    k = int(len(data["x"]) * frac)
    return {"x": data["x"][:k], "y": data["y"][:k]}, {"x": data["x"][k:], "y": data["y"][k:]}


@step
def fit(train: dict, lr: float = 0.1) -> np.ndarray:
    _note("fit")
    X, y = np.array(train["x"]), np.array(train["y"])
    w = np.zeros(3)
    for _ in range(100):
        w -= lr * X.T @ (X @ w - y) / len(y)
    return w


@step
def evaluate(model: np.ndarray, test: dict) -> float:
    _note("evaluate")
    X, y = np.array(test["x"]), np.array(test["y"])
    return float(np.mean((X @ model - y) ** 2))


@pipeline
def train(n: int = 50, lr: float = 0.1):
    data = load(n=n)
    tr, te = split(data)
    model = fit(tr, lr=lr)
    evaluate(model, te)


@step
def boom(x: float) -> float:
    raise ValueError(f"bad value {x}")


@pipeline
def failing():
    data = load(n=10)
    tr, _ = split(data)
    fit(tr)
    boom(0.5)


@step
def sleepy(i: int, seconds: float = 0.5) -> int:
    time.sleep(seconds)
    return os.getpid()


@pipeline
def fan_out(k: int = 16, seconds: float = 0.5):
    for i in range(k):
        sleepy(i, seconds=seconds)


@step
def shout(n: int = 1) -> int:
    import logging
    import os

    print(f"printed on a worker, pid {os.getpid()}")
    logging.getLogger("worker").warning("a record on a worker")
    return n


@pipeline
def shouting(n: int = 1) -> None:
    shout(n=n)


@step(cache=False)
def log_curves(n: int = 1000) -> float:
    """Logs three metrics n times (on a Dask worker too)."""
    from zenml_notebook import log_metric, log_metrics

    for i in range(n):
        log_metrics({"loss": 1.0 / (i + 1), "acc": i / n}, step=i)
        log_metric("lr", 0.1 * 0.99**i)
    return 1.0 / n


@pipeline(cache=False)
def curves(n: int = 1000) -> None:
    log_curves(n=n)


@step(cache=False)
def start_value() -> str:
    return "x"


@step(cache=False)
def explode(x: str) -> str:
    raise ValueError(f"bad {x}")


@pipeline(cache=False)
def failing_detached() -> None:
    explode(start_value())
