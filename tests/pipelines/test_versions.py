"""Named artifact versions: outputs named with @step(outputs=[...]) get versions 1, 2, ... per
metadata store; tags point at one version each; cache hits and identical bytes mint nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zenml_notebook import Client, pipeline, step
from zenml_notebook.exceptions import NotFoundError, UsageError


@step(outputs=["model"])
def fit(lr: float = 0.1) -> dict:
    return {"lr": lr, "weights": [lr * 2, lr * 3]}


@step(outputs=["model"], cache=False)
def fit_always(lr: float = 0.1) -> dict:
    return {"lr": lr, "weights": [lr * 2, lr * 3]}


@step
def score(model: dict) -> float:
    return float(sum(model["weights"]))


@pipeline
def training(lr: float = 0.1) -> None:
    score(fit(lr=lr))


@pipeline
def training_uncached(lr: float = 0.1) -> None:
    score(fit_always(lr=lr))


def test_runs_mint_versions_caches_and_same_bytes_do_not_and_tags_move(repo: Path, cli) -> None:
    for lr in (0.1, 0.2, 0.3):
        training(lr=lr)
    client = Client()
    total, page = client.artifact_versions("model")
    assert total == 3 and [v.version for v in page] == [3, 2, 1]
    assert [v.step for v in page] == ["fit"] * 3 and all(v.size > 0 for v in page)
    assert page[0].run == client.last_run().name
    training(lr=0.3)  # cached: reuses version 3's artifact
    assert client.artifact_versions("model")[0] == 3
    training_uncached(lr=0.3)  # ran again, same bytes as the latest: no new version
    assert client.artifact_versions("model")[0] == 3
    training_uncached(lr=0.5)
    assert client.artifact_versions("model")[0] == 4
    assert client.artifact("model") == {"lr": 0.5, "weights": [1.0, 1.5]}
    assert client.artifact("model", version=1)["lr"] == 0.1
    assert client.artifact("model", version="2")["lr"] == 0.2
    r = cli("artifacts", "tag", "model:2", "production")
    assert r.out == "tagged 'model' version 2 as 'production'\n", r.err
    assert client.artifact("model", version="production")["lr"] == 0.2
    r = cli("artifacts", "tag", "model", "production")  # the latest
    assert r.out == "tagged 'model' version 4 as 'production' (moved from version 2)\n", r.err
    assert client.artifact("model", version="production")["lr"] == 0.5
    listing = cli("artifacts", "versions", "model", "--limit", "2").out.splitlines()
    assert listing[0] == "artifact 'model' on stack 'default' (versions 4-3 of 4; older: --offset 2)"
    assert re.match(r"\s+4\s+training_uncached-\S+\s+fit_always\s+\d+ B\s+\S+ \S+\s+production$", listing[2]), listing
    assert cli("artifacts", "tag", "model", "production", "--untag").out == "removed tag 'production' from 'model' version 4\n"
    with pytest.raises(NotFoundError, match="has no tag 'production'"):
        client.artifact("model", version="production")


@pytest.mark.parametrize(("args", "says"), [
    (("artifacts", "versions", "<b>x</b>"), "invalid artifact name '<b>x</b>'"),
    (("artifacts", "versions", "../../etc"), "invalid artifact name '../../etc'"),
    (("artifacts", "versions", "m" * 300), "invalid artifact name 'mmmm"),
    (("artifacts", "versions", "nothing"), "no artifact named 'nothing' on stack 'default'"),
    (("artifacts", "tag", "model:1", "<script>"), "invalid tag name '<script>'"),
    (("artifacts", "tag", "model:1", "../up"), "invalid tag name '../up'"),
    (("artifacts", "tag", "model:1", "7"), "tag '7' is a number, which reads as a version"),
    (("artifacts", "tag", "model:", "x"), "'model:': give NAME:VERSION"),
    (("artifacts", "tag", "model:99", "x"), "artifact 'model' has no version 99 (versions 1-1)"),
    (("artifacts", "tag", "model:nope", "x"), "artifact 'model' has no tag 'nope'"),
])
def test_bad_names_and_tags_are_one_line(repo: Path, cli, args: tuple[str, ...], says: str) -> None:
    training(lr=0.1)
    r = cli(*args)
    assert r.code == 2 and len(r.err.strip().splitlines()) == 1 and says in r.err, r.err
    assert "Traceback" not in r.err


def test_output_names_are_checked_when_the_step_is_defined() -> None:
    for bad in (["../model"], ["<b>"], ["a", "a"], "model"):
        with pytest.raises(UsageError):
            step(outputs=bad)(lambda: 1)  # type: ignore[arg-type]
