"""`runs compare` draws a chart of a scalar output across runs: in a notebook a Vega-Lite v5 output
of its own (JupyterLab draws it natively) followed by the table; in a terminal, text bars."""

from __future__ import annotations

from pathlib import Path

from zenml_notebook import pipeline, step


@step
def fit(lr: float = 0.1) -> float:
    return round(lr * 10, 3)


@step
def loss(model: float) -> float:
    return round(1 / (1 + model), 4)


@pipeline
def tuning(lr: float = 0.1) -> None:
    loss(fit(lr=lr))


def test_compare_charts_a_scalar_output_as_vega_lite_with_a_text_fallback(repo: Path, shell, cli) -> None:
    runs = [tuning(lr=lr) for lr in (0.1, 0.2, 0.4)]
    names = [r.name for r in runs]
    result = shell.run_line_magic("zenml", "runs compare " + " ".join(names))
    chart = result.chart_output()
    assert chart is not None and chart[1]["application/vnd.vegalite.v5+json"]["embed_options"]["renderer"] == "svg"
    spec = chart[0]["application/vnd.vegalite.v5+json"]
    assert chart[0]["text/plain"].startswith("fit -> output:")
    bundle = result._repr_mimebundle_()
    assert "application/vnd.vegalite.v5+json" not in bundle  # the chart is an output of its own
    assert spec["$schema"] == "https://vega.github.io/schema/vega-lite/v5.json"
    assert spec["title"] == "fit -> output"  # the first scalar output that differs
    assert spec["data"]["values"] == [{"run": n, "value": v} for n, v in zip(names, (1.0, 2.0, 4.0), strict=True)]
    assert spec["encoding"]["x"]["field"] == "value" and spec["encoding"]["y"]["field"] == "run" and spec["mark"]["type"] == "bar"
    assert "<table" in bundle["text/html"] and names[0] in bundle["text/plain"]
    chosen = shell.run_line_magic("zenml", "runs compare " + " ".join(names) + " --chart 'loss -> output'")
    assert chosen.vega_lite()["data"]["values"][0] == {"run": names[0], "value": 0.5}
    text = cli("runs", "compare", *names).out
    assert text.splitlines()[-4] == "fit -> output:"
    assert text.splitlines()[-1].startswith(f"  {names[2]}  " + "█" * 30)
    r = cli("runs", "compare", *names, "--chart", "<b>nope</b>")
    assert r.code == 2 and "--chart '<b>nope</b>': not a scalar output of these runs; choose from fit -> output, loss -> output" in r.err
