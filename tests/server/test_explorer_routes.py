"""The explorer's routes on a real jupyter_server (authentication required): the runs table
sorted by a parameter and an output, filtered, paged with bounds; charts as Vega-Lite specs;
deletion with its dry run first; lineage; versions, tags; markup coming back as data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zenml_notebook import pipeline, step

from .test_handlers import api_cwd, get, jp_server_config, repo_root  # noqa: F401


async def post(jp_fetch, *parts: str, body: object, content_type: str = "application/json"):
    from tornado.httpclient import HTTPClientError

    try:
        r = await jp_fetch("zenml-notebook", *parts, method="POST", body=json.dumps(body), headers={"Content-Type": content_type})
        return r.code, json.loads(r.body)
    except HTTPClientError as exc:
        return exc.code, json.loads(exc.response.body) if exc.response is not None and exc.response.body else None


@step(outputs=["model"])
def fit(lr: float = 0.1, note: str = "") -> dict:
    return {"lr": lr}


@step
def evaluate(model: dict) -> float:
    return round(1 - abs(model["lr"] - 0.3), 4)


@pipeline
def sweep(lr: float = 0.1, note: str = ""):
    evaluate(fit(lr=lr, note=note))


@pytest.fixture
def runs(repo_root: Path) -> list[str]:  # noqa: F811
    with api_cwd(repo_root):
        return [sweep(lr=lr, note=note, run_name=f"sweep-{i}").name
                for i, (lr, note) in enumerate([(0.1, "a"), (0.3, "<b>bold</b>"), (0.5, "c"), (0.2, "d")])]


async def test_the_table_sorts_filters_and_pages(jp_fetch, runs: list[str]) -> None:
    code, body = await get(jp_fetch, "runs", "table", sort="param:fit.lr", order="asc")
    assert code == 200 and body["total"] == 4 and body["matched"] == 4
    assert [r["name"] for r in body["rows"]] == ["sweep-0", "sweep-3", "sweep-1", "sweep-2"]
    assert body["columns"]["parameters"] == ["fit.lr", "fit.note"] and body["columns"]["scalars"] == ["evaluate.output"]
    row = body["rows"][0]
    assert row["steps"] == 2 and row["cached"] == 0 and row["user"] and row["stack"] == "default" and row["scalars"] == {"evaluate.output": 0.8}
    code, body = await get(jp_fetch, "runs", "table", sort="scalar:evaluate.output", order="desc")
    assert body["rows"][0]["name"] == "sweep-1"
    code, body = await get(jp_fetch, "runs", "table", q="<b>bold")  # markup is searched and returned as data
    assert [r["name"] for r in body["rows"]] == ["sweep-1"] and body["rows"][0]["parameters"]["fit.note"] == "<b>bold</b>"
    code, body = await get(jp_fetch, "runs", "table", sort="started", order="desc", offset="1", limit="2")
    assert [r["name"] for r in body["rows"]] == ["sweep-2", "sweep-1"] and body["matched"] == 4
    code, body = await get(jp_fetch, "runs", "table", state="failed")
    assert body["rows"] == [] and body["matched"] == 0 and body["total"] == 4
    for bad in ({"limit": "0"}, {"limit": "1001"}, {"offset": "-1"}, {"order": "up"}, {"sort": "nope"}, {"state": "weird"}, {"q": "x" * 201}):
        code, body = await get(jp_fetch, "runs", "table", **bad)
        assert code == 400 and body["error"] and "Traceback" not in body["error"], bad


async def test_a_new_run_and_a_deletion_reach_the_table(jp_fetch, repo_root: Path, runs: list[str]) -> None:  # noqa: F811
    code, body = await get(jp_fetch, "runs", "table")
    assert body["total"] == 4
    with api_cwd(repo_root):
        sweep(lr=0.9, run_name="sweep-new")
    code, body = await get(jp_fetch, "runs", "table")
    assert body["total"] == 5 and body["rows"][0]["name"] == "sweep-new" and body["rows"][0]["cached"] == 0
    code, plan = await post(jp_fetch, "runs", "delete", body={"runs": ["sweep-new"], "dry_run": True})
    assert code == 200 and plan["dry_run"] and plan["runs"] == ["sweep-new"] and plan["artifact_count"] >= 2
    assert all("sweep-new" in a["uri"] for a in plan["artifacts"])
    code, body = await get(jp_fetch, "runs", "table")
    assert body["total"] == 5  # a dry run deletes nothing
    code, done = await post(jp_fetch, "runs", "delete", body={"runs": ["sweep-new"], "dry_run": False})
    assert code == 200 and done["runs"] == ["sweep-new"]
    code, body = await get(jp_fetch, "runs", "table")
    assert body["total"] == 4 and "sweep-new" not in [r["name"] for r in body["rows"]]
    for bad in ({"runs": "sweep-0"}, {"runs": []}, {"runs": ["sweep-0"], "dry_run": "no"}, [1]):
        code, body = await post(jp_fetch, "runs", "delete", body=bad)
        assert code == 400 and body["error"], bad
    code, body = await post(jp_fetch, "runs", "delete", body={"runs": ["sweep-0"]}, content_type="text/plain")
    assert code == 400
    code, body = await post(jp_fetch, "runs", "delete", body={"runs": ["no-such-run"], "dry_run": True})
    assert code == 404 and "no-such-run" in body["error"]


async def test_charts_are_the_notebooks_vega_lite_specs(jp_fetch, runs: list[str]) -> None:
    from zenml_notebook.display import bar_spec

    code, body = await get(jp_fetch, "runs", "chart", runs=",".join(runs[:3]), y="evaluate.output")
    assert code == 200 and body["spec"] == bar_spec("evaluate.output", [("sweep-0", 0.8), ("sweep-1", 1.0), ("sweep-2", 0.8)])
    code, body = await get(jp_fetch, "runs", "chart", runs=",".join(runs), y="evaluate.output", x="fit.lr")
    assert code == 200 and body["spec"]["mark"]["type"] == "point" and len(body["spec"]["data"]["values"]) == 4
    assert {"run": "sweep-1", "x": 0.3, "y": 1.0} in body["spec"]["data"]["values"]
    for bad in ({"y": "evaluate.output"}, {"runs": "sweep-0", "y": "nope"}, {"runs": "nope", "y": "evaluate.output"},
                {"runs": "sweep-0", "y": "evaluate.output", "x": "fit.note"}):
        code, body = await get(jp_fetch, "runs", "chart", **bad)
        assert code in (400, 404) and body["error"], bad


async def test_lineage_versions_and_tags(jp_fetch, runs: list[str]) -> None:
    code, body = await get(jp_fetch, "runs", "sweep-1", "lineage")
    assert code == 200 and body["inputs"]["evaluate"] == {"model": {"run": "sweep-1", "step": "fit"}}
    code, body = await get(jp_fetch, "versions")
    assert code == 200 and body["names"][0]["name"] == "model" and body["names"][0]["latest"] == 4
    code, body = await get(jp_fetch, "versions", "model", limit="2")
    assert code == 200 and body["total"] == 4 and [v["version"] for v in body["versions"]] == [4, 3]
    assert body["versions"][0]["path"] == "sweep/sweep-3/fit/model.json"
    code, body = await post(jp_fetch, "versions", "model", "tag", body={"version": 2, "tag": "production"})
    assert code == 200 and body["version"] == 2 and body["moved_from"] is None
    code, body = await post(jp_fetch, "versions", "model", "tag", body={"version": 3, "tag": "production"})
    assert code == 200 and body["moved_from"] == 2
    code, body = await get(jp_fetch, "versions", "model")
    assert next(v for v in body["versions"] if v["version"] == 3)["tags"] == ["production"]
    code, body = await post(jp_fetch, "versions", "model", "untag", body={"tag": "production"})
    assert code == 200 and body["was_on"] == 3
    for bad in ({"version": 2, "tag": "<script>"}, {"version": 2, "tag": "7"}, {"version": 99, "tag": "x"}, {"tag": 3}):
        code, body = await post(jp_fetch, "versions", "model", "tag", body=bad)
        assert code in (400, 404) and body["error"] and "Traceback" not in body["error"], bad
    code, body = await get(jp_fetch, "versions", "nope")
    assert code in (200, 404)


@step(cache=False)
def learn(epochs: int = 2000, rate: float = 0.1) -> float:
    from zenml_notebook import log_metric

    for i in range(epochs):
        log_metric("loss", rate * 100.0 / (i + 1) + (50.0 if i == 1234 else 0.0))
    return rate


@pipeline(cache=False)
def learning(epochs: int = 2000, rate: float = 0.1):
    learn(epochs=epochs, rate=rate)


async def test_metric_routes_downsample_and_overlay(jp_fetch, repo_root: Path) -> None:  # noqa: F811
    with api_cwd(repo_root):
        names = [learning(rate=r, run_name=f"learn-{i}").name for i, r in enumerate([0.1, 0.2, 0.3])]
    code, body = await get(jp_fetch, "runs", "learn-0", "metrics", points="100")
    assert code == 200 and len(body["series"]) == 1
    s = body["series"][0]
    assert s["step"] == "learn" and s["name"] == "loss" and s["count"] == 2000 and len(s["values"]) <= 100
    spike = 10.0 / 1235 + 50.0  # one point, at step 1234
    assert s["max"] == pytest.approx(spike) and max(s["values"]) == pytest.approx(spike)  # survives downsampling
    assert s["min"] == pytest.approx(10.0 / 2000) and min(s["values"]) == pytest.approx(10.0 / 2000)
    code, body = await get(jp_fetch, "runs", "metric-chart", runs=",".join(names), metric="learn.loss", smooth="0.6", log="1")
    assert code == 200 and body["spec"]["mark"]["type"] == "line" and body["spec"]["encoding"]["y"]["scale"]["type"] == "log"
    assert {v["run"] for v in body["spec"]["data"]["values"]} == set(names)
    code, body = await get(jp_fetch, "runs", "metric-chart", runs="learn-1", metric="learn.loss", x="time")
    assert code == 200 and body["spec"]["encoding"]["x"]["title"] == "seconds" and body["spec"]["data"]["values"][0]["x"] == 0.0
    code, body = await get(jp_fetch, "runs", "table", sort="metric:learn.loss", order="asc")
    assert [r["name"] for r in body["rows"]] == ["learn-0", "learn-1", "learn-2"] and body["columns"]["metrics"] == ["learn.loss"]
    for bad in ({"metric": "learn.loss", "x": "epoch"}, {"metric": "learn.loss", "smooth": "1.5"}, {"metric": "nodot"},
                {"metric": "learn.nope"}, {"metric": "learn.loss", "points": "5"}):
        code, body = await get(jp_fetch, "runs", "metric-chart", runs="learn-0", **bad)
        assert code == 400 and body["error"] and "Traceback" not in body["error"], bad
    code, body = await get(jp_fetch, "runs", "learn-0", "metrics", points="100000")
    assert code == 400
    for hostile in ("../../etc", "a/b", "<b>x</b>"):  # a step names a folder of a running step: never a path
        code, body = await get(jp_fetch, "runs", "learn-0", "metrics", step=hostile)
        assert code == 400 and body["error"], hostile
