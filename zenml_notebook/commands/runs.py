"""``pipelines list``, ``runs list|describe|compare``, ``lineage``: what ran, read from the
stack's metadata store."""

from __future__ import annotations

import argparse
from typing import Any

from ..display import Message, Table
from ._base import ON_STACK, add, count, open_client, subcommands
from .render import when

__all__ = ["add_parsers"]


def _pipelines_list(args: argparse.Namespace) -> Table:
    client = open_client(args)
    by_pipeline: dict[str, list[Any]] = {}
    for run in client.runs():  # newest first: each pipeline's first is its last run
        by_pipeline.setdefault(run.pipeline, []).append(run)
    rows = []
    for name in client.pipelines():
        mine = by_pipeline.get(name, [])
        last = mine[0] if mine else None
        rows.append([name, len(mine), last.name if last else "", client.run_state(last) if last else ""])
    return Table(["PIPELINE", "RUNS", "LAST RUN", "STATE"], rows, title=f"stack {client.stack!r}", empty="(no pipelines have run on this stack yet)")


def _runs_list(args: argparse.Namespace) -> Table:
    client = open_client(args)
    runs = client.recent_runs(args.limit, pipeline=args.pipeline, user=args.user or None)
    rows = [[r.name, r.pipeline, client.run_state(r), when(r.started), f"{max(r.ended - r.started, 0):.2f} s" if r.ended else "", r.user]
            for r in runs]
    empty = f"(no runs by {args.user!r}; `runs list` shows everyone's)" if args.user else "(no runs yet)"
    return Table(["RUN", "PIPELINE", "STATE", "STARTED", "DURATION", "USER"], rows, title=f"stack {client.stack!r}", empty=empty)


def _runs_compare(args: argparse.Namespace) -> Any:
    from ..display import Comparison

    comparison = open_client(args).compare(args.runs)
    return Comparison(comparison.runs, comparison.rows, title=f"{len(comparison.runs)} runs; ≠ marks differences (outputs: value, or content hash)",
                      chart=comparison.chart(args.chart))


def _runs_metrics(args: argparse.Namespace) -> Table:
    """What a run's steps logged with log_metric: per metric its count, last, min and max, and a
    sparkline of its last points (the series: `Client().get_run(RUN).metrics()`)."""
    from ..pipelines.metrics import downsample, sparkline

    run = open_client(args).get_run(args.run)
    if args.step:
        run.step(args.step)  # names the steps when there is no such one
    rows = []
    for step, series in run.metric_series(args.step, args.name):
        d = downsample(series, 48)
        last = series.values[-1] if len(series.values) else None
        rows.append([step, series.name, d["count"], f"{last:g}" if last is not None else "", f"{d['min']:g}", f"{d['max']:g}",
                     sparkline(d["values"], 24)])
    what = f"metric {args.name!r} of " if args.name else "metrics of "
    return Table(["STEP", "METRIC", "POINTS", "LAST", "MIN", "MAX", "CURVE"], rows, title=f"{what}run {run.name!r}",
                 empty=f"(run {run.name!r} logged no metrics{' named ' + repr(args.name) if args.name else ''}; steps log them with log_metric)")


def _runs_logs(args: argparse.Namespace) -> Message:
    """A page of each step's log (64 K characters unless --limit says otherwise): a step that printed
    100 MB must not land in one cell. A cut page says where the next one starts."""
    from ..display import human_size
    from ..pipelines.runs import LOG_PAGE

    run = open_client(args).get_run(args.run)
    steps = [run.step(args.step)] if args.step else run.steps
    parts = []
    for s in steps:
        page = run.log_page(s.name, offset=args.offset, limit=args.limit or LOG_PAGE)
        text = page.text.rstrip("\n")
        if page.next is not None:
            where = f" {s.name}" if not args.step else f" {args.step}"
            text += (f"\n-- shown bytes {page.offset}-{page.next} of {human_size(page.size)}; the next page: "
                     f"`runs logs {run.name}{where} --offset {page.next}` (or a larger --limit)")
        if args.step:
            return Message(text or f"step {s.name!r} of run {run.name!r} printed nothing")
        if text:
            parts.append(f"== {s.name} ({s.state})\n{text}")
    return Message("\n".join(parts) or f"no step of run {run.name!r} printed anything")


def _lineage(args: argparse.Namespace) -> Table:
    client = open_client(args)
    graph = client.lineage(args.artifact)
    arts = {a.id: a for a in graph.artifacts}
    execs = {e.id: e for e in graph.executions}
    rows = []
    for ev in sorted(graph.events, key=lambda e: (execs[e.execution_id].started, e.execution_id, e.kind != "INPUT")):
        e, a = execs[ev.execution_id], arts.get(ev.artifact_id)
        rows.append([f"{e.run}.{e.step}", e.state, "reads" if ev.kind == "INPUT" else "writes", ev.name, a.uri if a else ev.artifact_id])
    return Table(["STEP", "STATE", "", "AS", "ARTIFACT"], rows, title=f"lineage of artifact {args.artifact}")


def _runs_sync_tracker(args: argparse.Namespace) -> Message:
    outcome = open_client(args).sync_tracker(args.run, args.tracker)
    steps = len(outcome.get("steps") or {})
    return Message(f"run {args.run!r} is mirrored to experiment tracker {outcome['tracker']!r} ({steps} step run(s)): {outcome.get('url', '')}")


def _runs_cancel(args: argparse.Namespace) -> Message:
    from ..pipelines.detached import cancel_detached

    return Message(cancel_detached(args.run, args.stack))


def add_parsers(sub: Any) -> None:
    from . import cleanup  # it builds on this module's client
    pp = sub.add_parser("pipelines", help="pipelines that ran on a stack", description="Pipelines recorded in the stack's metadata store.")
    ps = subcommands(pp, "action")
    add(ps, "list", "pipelines and their last runs", _pipelines_list, ["ls"]).add_argument("--stack", **ON_STACK)
    cleanup.add_pipeline_parsers(ps)
    rp = sub.add_parser("runs", help="pipeline runs: list, describe, compare", description="Runs recorded in the stack's metadata store.")
    rs = subcommands(rp, "action")
    p = add(rs, "list", "runs, newest first", _runs_list, ["ls"])
    p.add_argument("pipeline", nargs="?", metavar="PIPELINE")
    p.add_argument("--limit", type=count(1, 100_000), default=50, help="at most this many runs (default 50)")
    p.add_argument("--user", help="only the runs of this person (as `runs list` shows them)")
    p.add_argument("--stack", **ON_STACK)
    p = add(rs, "describe", "a run's steps, states, durations and outputs", lambda a: open_client(a).get_run(a.run))
    p.add_argument("run", metavar="RUN")
    p.add_argument("--stack", **ON_STACK)
    p = add(rs, "logs", "what a run's steps printed (stdout, stderr, logging, a failed step's traceback)", _runs_logs)
    p.add_argument("run", metavar="RUN")
    p.add_argument("step", nargs="?", metavar="STEP")
    p.add_argument("--offset", type=count(0, 10**12), default=0, help="skip this many bytes of each log")
    p.add_argument("--limit", type=count(1, 10**9), default=None, help="at most this many characters of each log (default 65536)")
    p.add_argument("--stack", **ON_STACK)
    p = add(rs, "metrics", "the metrics a run's steps logged (log_metric): last, min, max and a sparkline each", _runs_metrics)
    p.add_argument("run", metavar="RUN")
    p.add_argument("--step", help="only this step's")
    p.add_argument("--name", help="only this metric")
    p.add_argument("--stack", **ON_STACK)
    p = add(rs, "cancel", "stop a detached run (submit(detach=True)) from any process: no further step starts", _runs_cancel)
    p.add_argument("run", metavar="RUN")
    p.add_argument("--stack", **ON_STACK)
    p = add(rs, "sync-tracker", "mirror an ended run to the stack's experiment tracker again (e.g. after its server was down)", _runs_sync_tracker)
    p.add_argument("run", metavar="RUN")
    p.add_argument("--tracker", help="an experiment tracker by name instead of the stack's")
    p.add_argument("--stack", **ON_STACK)
    cleanup.add_run_parsers(rs)
    p = add(rs, "compare", "parameters and outputs of runs side by side, and a chart of a scalar output", _runs_compare)
    p.add_argument("runs", nargs="+", metavar="RUN")
    p.add_argument("--chart", metavar="'STEP -> OUTPUT'", help="the scalar output to chart (default: the first that differs)")
    p.add_argument("--stack", **ON_STACK)
    p = add(sub, "lineage", "what produced an artifact and what used it", _lineage)
    p.add_argument("artifact", metavar="ARTIFACT_ID_OR_URI")
    p.add_argument("--stack", **ON_STACK)

