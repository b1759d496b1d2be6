"""The run card's DAG: inline SVG (no JavaScript), valid XML, every step named, edges labelled
with the artifacts, boxes outlined in the state's colour, text in the theme's colour."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from zenml_notebook import pipeline, step
from zenml_notebook.display import STATE_COLORS
from zenml_notebook.pipelines.dag import layers

NS = "{http://www.w3.org/2000/svg}"


@step
def load() -> list:
    return list(range(10))


@step(outputs=["train", "test"])
def split(data: list) -> tuple:
    return data[:8], data[8:]


@step(name="fit.v2")
def fit(train: list) -> float:
    return sum(train) / len(train)


@step
def evaluate(model: float, test: list) -> float:
    return sum(abs(model - t) for t in test)


@pipeline
def branching() -> None:
    train, test = split(load())
    evaluate(fit(train), test)


def _svg(card: str) -> ET.Element:
    """The card's picture: an <img> with an SVG data URI (an untrusted notebook's sanitiser keeps
    it whole or drops it; inline <svg> would leave its text behind as a garbled line)."""
    import base64

    assert "<svg" not in card
    match = re.search(r"<img src='data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)' alt='([^']*)'", card)
    assert match, card[:300]
    svg = base64.b64decode(match.group(1)).decode()
    assert "<script" not in svg.lower() and "javascript:" not in svg.lower()
    return ET.fromstring(svg)


def test_the_run_card_draws_the_dag_as_valid_svg(repo: Path) -> None:
    run = branching()
    svg = _svg(run._repr_html_())
    texts = [t.text for t in svg.iter(f"{NS}text")]
    for s in run.steps:
        assert s.name in texts, (s.name, texts)
    for label in ("output", "train", "test"):
        assert label in texts
    boxes = [g for g in svg.iter(f"{NS}g") if g.get("class") == "zn-step"]
    assert len(boxes) == 4 and {g.get("data-state") for g in boxes} == {"complete"}
    assert {r.get("stroke") for r in svg.iter(f"{NS}rect") if r.get("stroke")} == {STATE_COLORS["complete"]}
    assert {t.get("fill") for t in svg.iter(f"{NS}text")} <= {"#1f1f1f", "#4d4d4d"}  # its own ink on its own paper
    again = branching()  # all cached: the same picture, outlined in the cached colour
    assert {r.get("stroke") for r in _svg(again._repr_html_()).iter(f"{NS}rect") if r.get("stroke")} == {STATE_COLORS["cached"]}


def test_layers_follow_the_longest_path(repo: Path) -> None:
    run = branching()
    layer, edges = layers(run.steps)
    assert layer == {"load": 0, "split": 1, "fit.v2": 2, "evaluate": 3}
    assert sorted(edges) == sorted([("load", "split", "output"), ("split", "fit.v2", "train"),
                                    ("split", "evaluate", "test"), ("fit.v2", "evaluate", "output")])


def test_markup_in_step_and_pipeline_names_is_refused() -> None:
    import pytest

    from zenml_notebook.exceptions import UsageError

    with pytest.raises(UsageError, match="invalid step name '<b>x</b>'"):
        step(name="<b>x</b>")(lambda: 1)
    with pytest.raises(UsageError, match="invalid pipeline name 'a/b'"):
        pipeline(name="a/b")(lambda: None)
