"""Runs as objects: a run card in notebooks, text in terminals, values on demand."""

from __future__ import annotations

import dataclasses
import html
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..components.metadata.records import METRICS, run_state
from ..exceptions import NotFoundError, UsageError, ZenMLError
from .logs import LOG_NAME

if TYPE_CHECKING:
    from ..components.artifacts import ArtifactStore
    from ..components.metadata.mlmd import MLMDStore
    from ..components.metadata.records import ArtifactInfo, ExecutionInfo, LineageInfo, RunInfo, VersionInfo
    from .cleanup import Deletion

__all__ = ["LOG_PAGE", "Client", "LogPage", "Run", "RunComparison", "StepRun"]


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def _io_text(s: StepRun) -> str:
    """The time a step spent reading inputs and writing outputs ("load 3.0 ms, store 41.2 ms"),
    each only when it took 0.1 ms or more."""
    parts = [f"{what} {seconds * 1000:.1f} ms" for what, seconds in (("load", s.load_seconds), ("store", s.store_seconds)) if seconds >= 0.0001]
    return ", ".join(parts)


def _io_html(s: StepRun) -> str:
    text = _io_text(s)
    return f"<br><small>{text}</small>" if text else ""


LOG_PAGE = 65536  # characters of a log shown at once unless more are asked for


@dataclass(frozen=True)
class LogPage:
    text: str
    offset: int  # in bytes
    next: int | None  # where the next page starts, None at the end
    size: int  # the whole log, in bytes


@dataclass
class StepRun:
    name: str
    state: str
    duration: float
    parameters: dict[str, Any]
    outputs: dict[str, ArtifactInfo]
    inputs: dict[str, int]
    error: str
    log: ArtifactInfo | None = None  # what the step printed (None: nothing)
    load_seconds: float = 0.0  # reading its inputs from the store, before the function ran
    store_seconds: float = 0.0  # writing its outputs into the store, after it returned
    metric_summary: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)  # metric -> last, min, max, count, step
    metrics_artifact: ArtifactInfo | None = None  # the series it logged (a cache hit: the reused execution's)
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    scalars: dict[str, float] = dataclasses.field(default_factory=dict)  # outputs that are finite numbers
    started: float = 0.0
    _run: Any = dataclasses.field(default=None, repr=False, compare=False)

    def metrics(self, name: str | None = None) -> Any:
        """The series this step logged (log_metric) as a pandas DataFrame: run, step, name,
        step_index, value, time."""
        if self._run is None:
            raise UsageError("this step was loaded without its run")
        return self._run.metrics(step=self.name, name=name)


@dataclass
class Run:
    name: str
    pipeline: str
    state: str
    started: float
    ended: float
    stack: dict[str, Any]
    steps: list[StepRun]
    _md: Any = None
    _store: Any = None
    summary: dict[str, Any] = dataclasses.field(default_factory=dict)  # what tables list; "tracker": where it was mirrored
    user: str = ""  # who ran it ($ZENML_NOTEBOOK_USER, the hub user, or user@host)

    @classmethod
    def load(cls, md: MLMDStore, name: str, store: ArtifactStore | None = None) -> Run:
        info = md.get_run(name)
        execs = md.executions(info)
        ids = sorted({a for e in execs for a in (*e.outputs.values(), *e.logs.values())})
        arts = {a.id: a for a in md.artifacts_by_id(ids)}
        if store is not None:  # a moved repository: its local artifacts shown where they are now
            arts = {i: a if (uri := store.current_uri(a.uri)) == a.uri else dataclasses.replace(a, uri=uri) for i, a in arts.items()}
        steps = [
            StepRun(e.step, e.state, max(e.ended - e.started, 0.0), e.parameters, {k: arts[v] for k, v in e.outputs.items() if v in arts},
                    e.inputs, e.error, arts.get(e.logs.get(LOG_NAME, -1)), e.load_seconds, e.store_seconds, e.metrics,
                    arts.get(e.logs.get(METRICS, -1)), e.tags, e.scalars, e.started)
            for e in execs
        ]
        run = cls(info.name, info.pipeline, run_state(info), info.started, info.ended, info.stack, steps, md, store, info.summary or {}, info.user)
        for s in steps:
            s._run = run
        return run

    def metric_series(self, step: str | None = None, name: str | None = None) -> list[tuple[str, Any]]:
        """(step, Series) for each metric logged by the run's steps (or one step, one metric):
        from a step's compacted file, or while it runs (or after it was killed) its segments."""
        from .metrics import read_series

        if self._store is None:
            raise UsageError("this run was loaded without its artifact store")
        names = {name} if name else None
        recorded = {s.name for s in self.steps}
        if step is not None and step not in recorded and self.state in ("running", "incomplete"):
            wanted: list[tuple[str, str]] = [(step, f"{self.pipeline}/{self.name}/{step}")]  # still going, or killed
        else:
            chosen = [self.step(step)] if step is not None else self.steps
            wanted = [(s.name, self._store.relative(s.metrics_artifact.uri).rsplit("/", 1)[0] if s.metrics_artifact is not None
                       else f"{self.pipeline}/{self.name}/{s.name}") for s in chosen]
            if step is None and self.state in ("running", "incomplete"):  # steps not recorded yet: their segments
                wanted += [(n, f"{self.pipeline}/{self.name}/{n}") for n in self._unrecorded_steps(recorded)]
        out: list[tuple[str, Any]] = []
        for step_name, base in wanted:
            for series in read_series(self._store, base, names).values():
                out.append((step_name, series))
        return out

    def _unrecorded_steps(self, recorded: set[str]) -> list[str]:
        """Folders of this run in the store whose step has no record (running, or killed)."""
        try:
            listing = self._store.list(f"{self.pipeline}/{self.name}", limit=1000)
        except ZenMLError:
            return []
        return [e.name for e in listing.entries if e.kind == "folder" and e.name not in recorded]

    def metrics(self, step: str | None = None, name: str | None = None) -> Any:
        """Every point its steps logged (log_metric) as a pandas DataFrame with columns run, step,
        name, step_index, value, time (seconds since the epoch)."""
        try:
            import pandas as pd
        except ImportError:
            raise UsageError("run.metrics() returns a pandas DataFrame: `pip install pandas` (or use `%zenml runs metrics RUN`)") from None
        frames = [pd.DataFrame({"run": self.name, "step": s, "name": series.name, "step_index": list(series.steps),
                                "value": list(series.values), "time": list(series.times)})
                  for s, series in self.metric_series(step, name)]
        if not frames:
            return pd.DataFrame({"run": [], "step": [], "name": [], "step_index": [], "value": [], "time": []})
        return pd.concat(frames, ignore_index=True)

    def step(self, name: str) -> StepRun:
        for s in self.steps:
            if s.name == name:
                return s
        raise NotFoundError(f"run {self.name!r} has no step {name!r}; steps: {', '.join(s.name for s in self.steps)}")

    def output(self, step: str, name: str | None = None) -> Any:
        """Load a step's output back from the artifact store."""
        from .materializers import load_artifact, materializer_named

        s = self.step(step)
        if not s.outputs:
            raise NotFoundError(f"step {step!r} of run {self.name!r} has no outputs")
        key = name or ("output" if "output" in s.outputs else next(iter(s.outputs)))
        if key not in s.outputs:
            raise NotFoundError(f"step {step!r} has no output {key!r}; outputs: {', '.join(s.outputs)}")
        art = s.outputs[key]
        if self._store is None:
            raise UsageError("this run was loaded without its artifact store")
        return load_artifact(self._store, self._store.relative(art.uri), materializer_named(art.materializer))

    def log(self, step: str, *, offset: int = 0, limit: int | None = None) -> str:
        """What a step printed (stdout, stderr, logging; a failed step's traceback), or a part of
        it: ``limit`` characters from ``offset`` - a big log is read a page at a time."""
        s = self.step(step)
        if s.log is None:
            return ""
        if self._store is None:
            raise UsageError("this run was loaded without its artifact store")
        data: bytes = self._store.read_bytes(self._store.relative(s.log.uri), None if limit is None else offset + limit * 4, offset=offset)
        text = data.decode("utf-8", "replace")
        return text if limit is None else text[:limit]

    def log_page(self, step: str, *, offset: int = 0, limit: int = LOG_PAGE) -> LogPage:
        """A page of what a step printed: at most ``limit`` characters from byte ``offset``, the
        log's size in bytes, and the offset of the next page (None at the end)."""
        s = self.step(step)
        if s.log is None:
            return LogPage("", offset, None, 0)
        if self._store is None:
            raise UsageError("this run was loaded without its artifact store")
        size = self._store.size(self._store.relative(s.log.uri))
        if offset >= size:
            return LogPage("", offset, None, size)
        text = self.log(step, offset=offset, limit=limit)
        end = offset + len(text.encode("utf-8"))
        return LogPage(text, offset, end if end < size else None, size)

    @property
    def duration(self) -> float:
        return max(self.ended - self.started, 0.0) if self.ended else 0.0

    def _mirror(self) -> tuple[str, str | None] | None:
        from ..components.trackers import describe_mirror

        return describe_mirror(self.summary.get("tracker"), self.name)

    def __repr__(self) -> str:
        by = f", by {self.user}" if self.user else ""
        lines = [f"run {self.name!r} of pipeline {self.pipeline!r}: {self.state}, {self.duration:.2f} s, stack {self.stack.get('name', '?')!r}{by}"]
        mirror = self._mirror()
        if mirror is not None:
            lines.append(f"  {mirror[0]}" + (f": {mirror[1]}" if mirror[1] else ""))
        for s in self.steps:
            outs = ", ".join(f"{k}={a.uri}" for k, a in s.outputs.items())
            err = f"  {s.error}" if s.error else ""
            io = f" (+ {_io_text(s)})" if _io_text(s) else ""
            lines.append(f"  {s.name:20} {s.state:9} {s.duration * 1000:8.1f} ms{io}  {outs}{err}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        from ..display import STATE_COLORS, state_html

        rows = []
        for s in self.steps:
            outs = "<br>".join(f"<code>{esc(k)}</code> {esc(a.materializer)} <small>{esc(a.uri)}</small>" for k, a in s.outputs.items())
            params = esc(", ".join(f"{k}={v!r}" for k, v in s.parameters.items()))
            err = f"<div style='border-left:3px solid {STATE_COLORS['failed']};padding-left:4px'>{esc(s.error)}</div>" if s.error else ""
            rows.append(
                f"<tr><td>{esc(s.name)}</td><td>{state_html(s.state)}</td>"
                f"<td style='text-align:right'>{s.duration * 1000:.1f} ms{_io_html(s)}</td><td>{params}</td><td>{outs}{err}</td></tr>"
            )
        head = (f"<b>{esc(self.name)}</b> &middot; pipeline <b>{esc(self.pipeline)}</b> &middot; "
                f"{state_html(self.state)} &middot; {self.duration:.2f} s &middot; "
                f"stack <b>{esc(str(self.stack.get('name', '?')))}</b> &middot; {esc(_when(self.started))}"
                + (f" &middot; by {esc(self.user)}" if self.user else ""))
        from .dag import run_svg

        dag = run_svg(self.name, self.steps, STATE_COLORS)
        picture = ""
        if dag:  # an image, not inline SVG: see pipelines/dag.py
            import base64

            alt = esc(f"the steps of run {self.name}: " + ", ".join(f"{s.name} ({s.state})" for s in self.steps))
            src = "data:image/svg+xml;base64," + base64.b64encode(dag.encode()).decode()
            picture = (f"<div class='zenml-notebook-dag' style='overflow-x:auto;margin:4px 0'>"
                       f"<img src='{src}' alt='{alt}' title='{alt}' style='max-width:none'></div>")
        mirror, tracked = self._mirror(), ""
        if mirror is not None:
            text, url = mirror
            link = f" <a href='{esc(url)}' target='_blank' rel='noopener noreferrer'>{esc(url)}</a>" if url else ""
            tracked = f"<div class='zenml-notebook-tracker'><small>{esc(text)}{':' if url else ''}{link}</small></div>"
        return (f"<div class='zenml-notebook-run'>{head}{tracked}{picture}{self._curves_html()}<table class='zenml-notebook'><thead><tr><th>step</th>"
                f"<th>state</th><th>duration</th><th>parameters</th><th>outputs</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>")

    def _curves_html(self) -> str:
        """The final curve of each metric the steps logged, as small static SVG pictures (an
        image, like the DAG: saved notebooks and static viewers keep them)."""
        if not any(s.metric_summary for s in self.steps) or self._store is None:
            return ""
        import base64

        from .metrics import curve_svg, downsample

        try:
            found = self.metric_series()
        except ZenMLError:
            return ""
        cells = []
        for step, series in found[:12]:
            d = downsample(series, 120)
            label = f"{step}.{series.name}"
            svg = curve_svg(d["steps"], d["values"])
            alt = html.escape(f"{label}: {d['count']} points, last {series.values[-1]:g}, min {d['min']:g}, max {d['max']:g}")
            src = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
            cells.append(f"<div style='display:inline-block;margin:2px 10px 2px 0'><small>{html.escape(label)} &middot; last "
                         f"{series.values[-1]:.4g}</small><br><img src='{src}' alt='{alt}' title='{alt}'></div>")
        return f"<div class='zenml-notebook-curves'>{''.join(cells)}</div>"


@dataclass(frozen=True)
class RunComparison:
    runs: list[str]
    rows: list[tuple[str, list[str]]]  # parameter or output -> its value in each run ("-": absent)
    numbers: dict[str, dict[str, float]]  # scalar output -> run -> value

    def chart(self, choice: str | None = None) -> tuple[str, list[tuple[str, float]]] | None:
        """The scalar output to chart: ``choice``, else the first that differs, else the first."""
        if choice is not None and choice not in self.numbers:
            raise UsageError(f"--chart {choice!r}: not a scalar output of these runs; choose from {', '.join(self.numbers) or 'none'}")
        chosen = choice or next((k for k, v in self.numbers.items() if len(set(v.values())) > 1), next(iter(self.numbers), None))
        if chosen is None:
            return None
        return chosen, [(r, self.numbers[chosen][r]) for r in self.runs if r in self.numbers[chosen]]


class Client:
    """Runs, pipelines and lineage of the active (or a named) stack, from Python."""

    def __init__(self, stack: str | None = None) -> None:
        from .. import api
        from ..components.artifacts import open_artifact_store
        from ..components.metadata import open_metadata_store

        repo, _ = api.open_repository()
        desc = api.describe_stack(stack)
        self.stack = desc.stack.name
        self._tracker = desc.components.get("experiment_tracker")
        self._md = open_metadata_store(desc.components["metadata_store"], repo)
        self._store = open_artifact_store(desc.components["artifact_store"], repo)

    def pipelines(self) -> list[str]:
        return self._md.pipelines()

    def runs(self, pipeline: str | None = None) -> list[RunInfo]:
        return self._md.runs(pipeline)

    def recent_runs(self, limit: int, *, pipeline: str | None = None, user: str | None = None) -> list[RunInfo]:
        """The ``limit`` newest runs (not deleted), newest first, without reading every run: the
        newest records by creation, then by start time (runs started on machines with skewed
        clocks may trade places at the page's edge)."""
        ask = limit
        while True:
            found = self._md.newest_runs(ask, pipeline=pipeline, user=user)
            live = [r for r in found if not r.deleted]
            if len(live) >= limit or len(found) < ask:
                return sorted(live, key=lambda r: (r.started, r.id), reverse=True)[:limit]
            ask *= 4  # deleted runs (or a filter the store could not apply) took places: look further

    def run_state(self, info: RunInfo) -> str:
        return run_state(info)

    def table(self, **query: Any) -> dict[str, Any]:
        """One page of the runs table (see :func:`.table.query_runs` for sorting and filters)."""
        from .table import query_runs

        return query_runs(self._md, self._store, **query)

    def table_rows(self, names: list[str]) -> list[dict[str, Any]]:
        """The runs table's rows of these runs (parameters and scalar outputs, no step read)."""
        from .table import rows_named

        return rows_named(self._md, self._store, names)

    def run_lineage(self, name: str) -> dict[str, Any]:
        """Where a run's inputs came from (run and step that wrote each) and which other runs
        used each of its outputs (reused from the cache, or read)."""
        run = self.get_run(name)
        inputs = {i for s in run.steps for i in s.inputs.values()}
        outputs = {a.id for s in run.steps for a in s.outputs.values()}
        made = self._md.producers(sorted(inputs))
        used = self._md.users(sorted(outputs))
        return {
            "inputs": {s.name: {arg: dict(zip(("run", "step"), made[i], strict=True)) for arg, i in s.inputs.items() if i in made}
                       for s in run.steps},
            "outputs": {s.name: {out: sorted(used.get(a.id, set()) - {run.name, ""})[:50] for out, a in s.outputs.items()} for s in run.steps},
        }

    def paths_of(self, artifact_ids: list[int]) -> dict[int, str | None]:
        """Where each artifact is inside this stack's store (None: in another store, or gone)."""
        out: dict[int, str | None] = {}
        for art in self._md.artifacts_by_id(artifact_ids) if artifact_ids else []:
            try:
                out[art.id] = self._store.relative(art.uri) if art.state == "live" else None
            except UsageError:
                out[art.id] = None
        return out

    def artifact_names(self) -> list[tuple[str, int, float]]:
        """Every named artifact: (name, latest version, when it was made)."""
        return self._md.artifact_names()

    def get_run(self, name: str) -> Run:
        return Run.load(self._md, name, self._store)

    def sync_tracker(self, name: str, tracker: str | None = None) -> dict[str, Any]:
        """Mirror an ended run to an experiment tracker (default: this stack's) again, e.g. after
        its server was down when the run ended: idempotent; what the run's summary keeps of it."""
        from .. import api
        from ..components.trackers import mirror_run

        record = api.get_component("experiment_tracker", tracker)[0] if tracker else self._tracker
        if record is None or record.flavor == "builtin":
            which = f"experiment tracker {record.name!r}" if record is not None else "it"
            raise UsageError(f"stack {self.stack!r} keeps its runs' metrics itself ({which} is the built-in one), so there is nothing to "
                             "mirror; give --tracker NAME of an mlflow tracker, or put one on the stack with `stack update STACK -e NAME`")
        run = self.get_run(name)
        if run.state == "running":
            raise UsageError(f"run {name!r} is still running; it is mirrored when it ends")
        return mirror_run(record, self._md, self._md.get_run(name), run, deadline=None, warn=False)

    def last_run(self, pipeline: str | None = None) -> Run:
        runs = self._md.runs(pipeline)
        if not runs:
            raise NotFoundError(f"no runs{' of pipeline ' + repr(pipeline) if pipeline else ''} on stack {self.stack!r}")
        return self.get_run(runs[0].name)

    def lineage(self, artifact: int | str) -> LineageInfo:
        """Up- and downstream of an artifact: its id, its URI (as `runs describe` and the run
        card print it, ``file://`` too), or its path inside this stack's artifact store."""
        if isinstance(artifact, str) and artifact.isdigit():
            artifact = int(artifact)
        if isinstance(artifact, int):
            if not 0 < artifact < 2**63:
                raise UsageError(f"artifact id {artifact} is out of range; give an id from `runs describe`, or a URI")
            return self._md.lineage(artifact)
        uri = artifact.removeprefix("file://")
        if "://" not in uri and not uri.startswith("/"):  # a path inside the store
            uri = self._store.full_uri(uri)
        found = self._md.artifacts_by_uri(uri)
        if not found:
            raise NotFoundError(f"no artifact with URI {artifact!r} on stack {self.stack!r}; see `runs describe RUN` for URIs")
        return self._md.lineage(found[-1].id)

    def executions(self, run: RunInfo) -> list[ExecutionInfo]:
        return self._md.executions(run)

    # -- comparing ---------------------------------------------------------------------
    def compare(self, names: list[str]) -> RunComparison:
        """Runs side by side: every parameter and output (small JSON outputs as values, others
        as their content hash), and the scalar outputs as numbers (what a chart can show)."""
        if len(names) < 2:
            raise UsageError("compare two or more runs")
        runs = [self.get_run(name) for name in dict.fromkeys(names)]
        cells: dict[str, dict[str, str]] = {}  # row -> run -> value, rows in first-seen order
        numbers: dict[str, dict[str, float]] = {}
        for run in runs:
            for s in run.steps:
                for k, v in s.parameters.items():
                    cells.setdefault(f"{s.name}.{k}", {})[run.name] = repr(v)
                for k, art in s.outputs.items():
                    value = art.content_hash[:12]
                    if art.materializer == "json":  # small JSON outputs (metrics) are shown as values
                        try:
                            loaded = run.output(s.name, k)
                        except ZenMLError:
                            loaded = None
                        if loaded is not None and len(repr(loaded)) <= 40:
                            value = repr(loaded)
                        if isinstance(loaded, (int, float)) and not isinstance(loaded, bool):
                            numbers.setdefault(f"{s.name} -> {k}", {})[run.name] = float(loaded)
                    cells.setdefault(f"{s.name} -> {k}", {})[run.name] = value
        rows = [(key, [values.get(r.name, "-") for r in runs]) for key, values in cells.items()]
        return RunComparison([r.name for r in runs], rows, numbers)

    # -- deleting ---------------------------------------------------------------------
    def delete_runs(self, names: list[str], *, dry_run: bool = False, force: bool = False) -> Deletion:
        """Delete runs and the artifacts nothing else needs (see :mod:`.cleanup`); with
        ``dry_run`` only say what would go. Tagged versions stay unless ``force``."""
        from .cleanup import delete, plan

        runs = []
        for name in dict.fromkeys(names):
            info = self._md.get_run(name, deleted=True)  # deleted already: re-running finishes its cleanup
            if run_state(info) == "running":
                raise UsageError(f"run {name!r} is still running; wait for it to end (or stop its kernel), then delete it")
            runs.append(info)
        deletion = plan(self._md, self._store, runs, force=force)
        return deletion if dry_run else delete(self._md, self._store, deletion)

    def delete_pipeline(self, name: str, *, dry_run: bool = False, force: bool = False) -> Deletion:
        """Delete every run of a pipeline, and the pipeline from every list."""
        from .cleanup import delete, plan

        if name not in self._md.pipelines():
            raise NotFoundError(f"pipeline {name!r} does not exist on stack {self.stack!r}; see `pipelines list`")
        runs = self._md.runs(name)
        running = [r.name for r in runs if run_state(r) == "running"]
        if running:
            raise UsageError(f"pipeline {name!r} has runs still running ({', '.join(running[:5])}); wait for them to end")
        deletion = plan(self._md, self._store, runs, force=force, pipeline=name)
        return deletion if dry_run else delete(self._md, self._store, deletion)

    def prune(self, *, older_than: float | None = None, keep_last: int | None = None, dry_run: bool = False, force: bool = False) -> Deletion:
        """Delete runs by age: older than ``older_than`` seconds, beyond the ``keep_last`` newest
        of each pipeline; first finishes any deletion that was cut short."""
        from .cleanup import delete, plan, select_for_prune

        runs = select_for_prune(self._md.runs(), older_than=older_than, keep_last=keep_last)
        deletion = plan(self._md, self._store, runs, force=force)
        return deletion if dry_run else delete(self._md, self._store, deletion)

    # -- named artifact versions ----------------------------------------------------
    def artifact_version(self, name: str, version: int | str | None = None) -> VersionInfo:
        """A version of a named artifact: the latest, a number, or a tag ("production")."""
        return self._md.get_version(_artifact_name(name), _version_ref(version))

    def artifact(self, name: str, version: int | str | None = None) -> Any:
        """Load a named artifact: ``artifact("model")`` the latest, ``version=3``, ``version="production"``."""
        from .materializers import load_artifact, materializer_named

        found = self.artifact_version(name, version)
        (art,) = self._md.artifacts_by_id([found.artifact_id])
        if art.state != "live":
            raise NotFoundError(f"version {found.version} of {found.name!r} was deleted (with run {found.run!r}); see `artifacts versions {found.name}`")
        return load_artifact(self._store, self._store.relative(art.uri), materializer_named(art.materializer))

    def load(self, path_or_uri: str) -> Any:
        """Load the artifact a run recorded at this place in the stack's artifact store: a path
        inside the store (as the sidebar's browser shows it) or its URI (as `runs describe`
        prints it), with the materializer it was written by. What the sidebar's "insert code
        to load it" inserts for a file."""
        from .materializers import load_artifact, materializer_named

        path = self._store.path_of(path_or_uri)
        found = self._md.artifacts_by_uri(self._store.full_uri(path))
        if not found:
            raise NotFoundError(
                f"no run recorded an artifact at {path_or_uri!r} in {self._store.label}; preview the file with "
                f"`artifacts preview {path}`, or load a run's output with Client().get_run(RUN).output(STEP)"
            )
        art = found[-1]
        if art.state != "live":
            raise NotFoundError(f"the artifact at {path_or_uri!r} was deleted (with its run); see `runs list`")
        return load_artifact(self._store, path, materializer_named(art.materializer))

    def artifact_versions(self, name: str, *, limit: int = 20, offset: int = 0) -> tuple[int, list[VersionInfo]]:
        """How many versions ``name`` has, and one page of them, newest first."""
        return self._md.versions(_artifact_name(name), limit=limit, offset=offset)

    def tag(self, name: str, version: int | str | None, tag: str) -> tuple[VersionInfo, int]:
        """Point ``tag`` at a version of ``name`` (moving it from where it was; 0: it is new)."""
        target = self.artifact_version(name, version)
        return self._md.tag_version(target.name, target.version, _tag(tag))

    def untag(self, name: str, tag: str) -> int:
        """Remove a tag; returns the version it was on."""
        return self._md.untag(_artifact_name(name), _tag(tag))


def _artifact_name(name: str) -> str:
    from ..validation import check_name

    return check_name("artifact", name)


def _tag(tag: str) -> str:
    from ..validation import check_name

    if tag.isdigit():
        raise UsageError(f"tag {tag!r} is a number, which reads as a version; use a word, e.g. 'production'")
    return check_name("tag", tag)


def _version_ref(version: int | str | None) -> int | str | None:
    """A version number (1, "3") or a tag; anything else is refused in one line."""
    if version is None or (isinstance(version, int) and not isinstance(version, bool) and version > 0):
        return version
    if isinstance(version, str) and version.isdigit() and 0 < int(version) < 2**62:
        return int(version)
    if isinstance(version, str) and not version.isdigit():
        return _tag(version)
    raise UsageError(f"version {version!r:.60} is neither a version number (1, 2, ...) nor a tag")
