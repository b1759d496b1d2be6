"""Metrics logged from inside a step: ``log_metric``, ``log_metrics``, ``log_param``, ``log_tag``.

A call only appends to an in-memory queue (about a microsecond, no I/O). A flusher thread writes
what arrived as an immutable *segment* in the step's folder of the artifact store at least once a
second (an object store cannot append; every store writes whole files atomically), so a process
killed with SIGKILL loses at most the last second and never leaves half a record. When the step
ends, the segments are compacted into one file sorted by metric and step (a metric's points are
then one contiguous slice), the segments are removed, and a summary per metric - last, min, max,
count, the step of the last - goes into the execution's properties: listing and comparing runs
never reads a series.

The file format is columnar and needs only the standard library (no pyarrow for a loss curve)::

    b"ZNM1" | uint32 header length | header JSON {"names": [...], "rows": n, "slices": {name: [start, end]}}
    | int32[n] name index | int64[n] step | float64[n] value | float64[n] time     (little-endian)
"""

from __future__ import annotations

import json
import math
import struct
import sys
import threading
import time
from array import array
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exceptions import UsageError, ZenMLError

if TYPE_CHECKING:
    from ..components.artifacts import ArtifactStore

__all__ = [
    "FLUSH_EVERY",
    "Recorder",
    "Series",
    "downsample",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_tag",
    "read_series",
    "sparkline",
]

FLUSH_EVERY = 1.0  # seconds: the most a SIGKILL can lose
LIVE_EVERY = 0.25  # seconds between redraws of a live chart
MAX_NAME = 200
MAGIC = b"ZNM1"
FILE = "metrics.znm"  # the compacted series, beside the step's outputs
SEGMENTS = "metrics"  # the folder of segments while the step runs
_LITTLE = sys.byteorder == "little"


def _check_name(kind: str, name: object) -> str:
    if not isinstance(name, str) or not name or len(name) > MAX_NAME:
        raise UsageError(f"a {kind} name is text of 1 to {MAX_NAME} characters, not {str(name)[:60]!r}")
    if any(c in name for c in "<>&\"'`\\/\x00\n\r\t") or ".." in name:
        raise UsageError(f"{kind} name {name[:60]!r} has a character that is not allowed (markup, a path or a control character); "
                         "use letters, digits, '_', '-', '.', ':' or spaces")
    return name


class Recorder:
    """The metrics of one running step: a queue the step's calls append to, and a flusher."""

    def __init__(self, store: ArtifactStore, base: str, *, on_live: Any = None, every: float = FLUSH_EVERY) -> None:
        self.store = store
        self.base = base  # the step's folder in the store
        self.queue: deque[tuple[str, int, float, float]] = deque()
        self.next_step: dict[str, int] = {}
        self.names: set[str] = set()
        self.params: dict[str, Any] = {}
        self.tags: dict[str, str] = {}
        self.segments: list[str] = []
        self.rows: list[tuple[str, int, float, float]] = []  # everything flushed so far (for compaction)
        self.on_live = on_live  # called with every point so far, at most LIVE_EVERY apart, in the step's thread (a live chart)
        self._drawn = 0.0
        self.every = every
        self.error: str = ""  # the first failure to write a segment
        self.digest = ""  # sha256 of the compacted file (its content hash), once closed
        self._stop: threading.Event | None = None  # made with the flusher, when the first metric is logged
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()

    # -- the step's calls -----------------------------------------------------------------
    def log(self, name: str, value: Any, step: int | None) -> None:
        if name not in self.names:
            _check_name("metric", name)
            self.names.add(name)
            self._start()
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise UsageError(f"metric {name!r}: {type(value).__name__} {str(value)[:40]!r} is not a number") from None
        if v - v:  # NaN or infinity (finite numbers give 0.0)
            raise UsageError(f"metric {name!r}: {v} is not a finite number")
        if step is None:
            step = self.next_step.get(name, 0)
        elif type(step) is not int or step < 0:
            raise UsageError(f"metric {name!r}: step must be an integer >= 0, not {step!r:.40}")
        self.next_step[name] = step + 1
        now = time.time()
        self.queue.append((name, step, v, now))
        if self.on_live is not None and now - self._drawn >= LIVE_EVERY:
            self._drawn = now
            self.draw()

    def draw(self) -> None:
        """Give the live chart every point so far (skipped while the flusher is writing)."""
        if self.on_live is None or not self._write_lock.acquire(blocking=False):
            return
        try:
            points = self.rows + list(self.queue)
        finally:
            self._write_lock.release()
        try:
            self.on_live(points)
        except Exception:  # a live chart never breaks a step
            self.on_live = None

    def param(self, name: str, value: Any) -> None:
        _check_name("parameter", name)
        text = json.dumps(value, default=repr)
        if len(text) > 4096:
            raise UsageError(f"parameter {name!r} is longer than 4096 characters as JSON")
        self.params[name] = json.loads(text)

    def tag(self, name: str, value: Any) -> None:
        _check_name("tag", name)
        self.tags[name] = str(value)[:500]

    # -- writing -----------------------------------------------------------------------------
    def _start(self) -> None:
        if self._thread is None:
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, name="zenml-notebook-metrics", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        assert self._stop is not None
        while not self._stop.wait(self.every):
            self.flush()

    def flush(self) -> None:
        """Write what arrived since the last flush as one segment (nothing when nothing did)."""
        with self._write_lock:
            n = len(self.queue)
            if not n:
                return
            new = [self.queue.popleft() for _ in range(n)]
            self.rows.extend(new)
            path = f"{self.base}/{SEGMENTS}/part-{len(self.segments):06d}.znm"
            try:
                self.store.write_bytes(path, encode(new))
                self.segments.append(path)
            except (ZenMLError, OSError) as exc:
                self.error = self.error or f"{type(exc).__name__}: {exc}"

    def close(self) -> tuple[str | None, dict[str, dict[str, float]]]:
        """At step end: flush, compact into one file, remove the segments. Returns the file's
        path (None when nothing was logged) and the summary per metric."""
        if self._stop is not None:
            self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flush()
        self.draw()  # the final curves
        if not self.rows:
            return None, {}
        import hashlib

        path = f"{self.base}/{FILE}"
        data = encode(self.rows, sort=True)
        self.digest = hashlib.sha256(data).hexdigest()
        self.store.write_bytes(path, data)
        try:
            self.store.remove(f"{self.base}/{SEGMENTS}", recursive=True)
        except (ZenMLError, OSError):
            pass  # the compacted file is what readers take; a leftover segment is only space
        return path, summarize(self.rows)


def summarize(rows: Iterable[tuple[str, int, float, float]]) -> dict[str, dict[str, float]]:
    """Per metric: the last value (by step, then time), min, max, count and the last step."""
    out: dict[str, dict[str, float]] = {}
    for name, step, value, when in rows:
        s = out.get(name)
        if s is None:
            out[name] = {"last": value, "min": value, "max": value, "count": 1, "step": step, "_t": when}
            continue
        s["count"] += 1
        s["min"] = min(s["min"], value)
        s["max"] = max(s["max"], value)
        if (step, when) >= (s["step"], s["_t"]):
            s["last"], s["step"], s["_t"] = value, step, when
    for s in out.values():
        s.pop("_t")
    return out


# -- the file format ---------------------------------------------------------------------------
def encode(rows: list[tuple[str, int, float, float]], *, sort: bool = False) -> bytes:
    if sort:
        rows = sorted(rows, key=lambda r: (r[0], r[1], r[3]))
    names = sorted({r[0] for r in rows}) if sort else list(dict.fromkeys(r[0] for r in rows))
    index = {n: i for i, n in enumerate(names)}
    slices: dict[str, list[int]] = {}
    if sort:
        start = 0
        for i in range(1, len(rows) + 1):
            if i == len(rows) or rows[i][0] != rows[start][0]:
                slices[rows[start][0]] = [start, i]
                start = i
    header = json.dumps({"names": names, "rows": len(rows), "slices": slices}).encode()
    cols: list[array[Any]] = [array("i", [index[r[0]] for r in rows]), array("q", [r[1] for r in rows]), array("d", [r[2] for r in rows]),
                              array("d", [r[3] for r in rows])]
    if not _LITTLE:
        for c in cols:
            c.byteswap()
    return b"".join([MAGIC, struct.pack("<I", len(header)), header, *(c.tobytes() for c in cols)])


@dataclass
class Series:
    """One metric's points: steps, values and times as arrays (C doubles/ints, not lists)."""

    name: str
    steps: array[int]
    values: array[float]
    times: array[float]


def decode(data: bytes, names: set[str] | None = None) -> dict[str, Series]:
    """The series in one file or segment; ``names`` limits which (a sorted file slices them).
    A file that is not one of ours, or was cut or altered, is refused in one line."""
    try:
        return _decode(data, names)
    except (ValueError, KeyError, TypeError, IndexError, struct.error) as exc:
        raise UsageError(f"a metrics file is damaged ({type(exc).__name__}); its run's other data is unaffected") from None


def _decode(data: bytes, names: set[str] | None) -> dict[str, Series]:
    if data[:4] != MAGIC or len(data) < 8:
        raise ValueError("not a zenml-notebook metrics file")
    (hlen,) = struct.unpack("<I", data[4:8])
    header = json.loads(data[8 : 8 + hlen])
    n = int(header["rows"])
    if n < 0 or len(data) != 8 + hlen + n * 28:
        raise ValueError("its length does not match its header")
    pos = 8 + hlen
    cols: list[array[Any]] = []
    for code, size in (("i", 4), ("q", 8), ("d", 8), ("d", 8)):
        col = array(code)
        col.frombytes(data[pos : pos + n * size])
        if not _LITTLE:
            col.byteswap()
        cols.append(col)
        pos += n * size
    idx, steps, values, times = cols
    out: dict[str, Series] = {}
    all_names: list[str] = header["names"]
    slices: dict[str, list[int]] = header.get("slices") or {}
    for i, name in enumerate(all_names):
        if names is not None and name not in names:
            continue
        if name in slices:
            a, b = slices[name]
            out[name] = Series(name, steps[a:b], values[a:b], times[a:b])
        else:
            keep = [j for j in range(n) if idx[j] == i]
            out[name] = Series(name, array("q", (steps[j] for j in keep)), array("d", (values[j] for j in keep)), array("d", (times[j] for j in keep)))
    return out


def read_series(store: ArtifactStore, base: str, names: set[str] | None = None) -> dict[str, Series]:
    """A step's series: its compacted file, or (a step still running, or killed) its segments."""
    if store.exists(f"{base}/{FILE}"):
        return decode(store.read_bytes(f"{base}/{FILE}"), names)
    merged: dict[str, Series] = {}
    entries: list[str] = []
    try:
        while True:
            page = store.list(f"{base}/{SEGMENTS}", offset=len(entries), limit=1000)
            entries += [e.path for e in page.entries]
            if not page.entries or len(entries) >= page.total:
                break
    except (ZenMLError, OSError):
        return {}
    for entry in sorted(e for e in entries if e.endswith(".znm")):
        for name, s in decode(store.read_bytes(entry), names).items():
            if name in merged:
                m = merged[name]
                m.steps.extend(s.steps)
                m.values.extend(s.values)
                m.times.extend(s.times)
            else:
                merged[name] = s
    return merged


def downsample(s: Series, points: int) -> dict[str, Any]:
    """At most ``points`` points for a chart: per bucket of consecutive points, the minimum and
    the maximum (in step order), so every spike survives and the true min and max are kept."""
    n = len(s.values)
    if n <= points:
        return {"name": s.name, "count": n, "steps": list(s.steps), "values": list(s.values), "min": min(s.values, default=None),
                "max": max(s.values, default=None)}
    buckets = max(points // 2, 1)
    size = n / buckets
    steps: list[int] = []
    values: list[float] = []
    vals, stps = s.values, s.steps
    for b in range(buckets):
        a, z = int(b * size), int((b + 1) * size) if b < buckets - 1 else n
        chunk = vals[a:z]
        lo, hi = min(chunk), max(chunk)
        i, j = a + chunk.index(lo), a + chunk.index(hi)
        for k in sorted({i, j}):
            steps.append(stps[k])
            values.append(vals[k])
    return {"name": s.name, "count": n, "steps": steps, "values": values, "min": min(vals), "max": max(vals)}


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 24) -> str:
    """The last ``width`` values as block characters (a curve in a terminal)."""
    tail = values[-width:]
    if not tail:
        return ""
    lo, hi = min(tail), max(tail)
    return "".join(SPARK[min(int((v - lo) / ((hi - lo) or 1) * 7.999), 7)] for v in tail)


def curve_svg(xs: list[int], ys: list[float], width: int = 180, height: int = 48) -> str:
    """A small line chart as a standalone SVG document (numbers only: no text from a store)."""
    if not ys:
        return f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}'/>"
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    sx = (width - 4) / ((x1 - x0) or 1)
    sy = (height - 4) / ((y1 - y0) or 1)
    pts = " ".join(f"{2 + (x - x0) * sx:.1f},{height - 2 - (y - y0) * sy:.1f}" for x, y in zip(xs, ys, strict=True))
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' viewBox='0 0 {width} {height}'>"
            f"<rect width='{width}' height='{height}' fill='#fff'/><polyline points='{pts}' fill='none' stroke='#1976d2' stroke-width='1.5'/></svg>")


def smooth(values: array[float], factor: float) -> array[float]:
    """Exponential moving average (TensorBoard's smoothing): 0 leaves the values as they are."""
    if not factor:
        return values
    out = array("d", values)
    last = out[0] if len(out) else 0.0
    keep, take = factor, 1.0 - factor
    for i in range(len(out)):
        last = last * keep + out[i] * take
        out[i] = last
    return out


# -- the public calls (importable from zenml_notebook) ----------------------------------------
_LOCAL = threading.local()
_ACTIVE: list[Recorder] = []  # recorders of the steps running in this process
_ACTIVE_LOCK = threading.Lock()


def _current() -> Recorder:
    found: Recorder | None = getattr(_LOCAL, "recorder", None)
    if found is None and len(_ACTIVE) == 1:  # a thread the step itself started
        found = _ACTIVE[0]
    if found is None:
        raise UsageError("log_metric and friends work inside a running @step (call the step's pipeline); "
                         "outside one, there is no run to log to")
    return found


def activate(recorder: Recorder | None) -> Recorder | None:
    """Make ``recorder`` this thread's current one (None: none); returns the previous one."""
    previous: Recorder | None = getattr(_LOCAL, "recorder", None)
    _LOCAL.recorder = recorder
    with _ACTIVE_LOCK:
        if previous is not None and previous in _ACTIVE:
            _ACTIVE.remove(previous)
        if recorder is not None:
            _ACTIVE.append(recorder)
    return previous


def log_metric(name: str, value: float, step: int | None = None) -> None:
    """Record ``value`` of metric ``name`` at ``step`` (default: the metric's next step, from 0)."""
    _current().log(name, value, step)


def log_metrics(values: Mapping[str, float], step: int | None = None) -> None:
    """Record several metrics at once, at the same ``step``."""
    recorder = _current()
    if not isinstance(values, Mapping):
        raise UsageError(f"log_metrics takes a dict of name -> number, not {type(values).__name__}")
    for name, value in values.items():
        recorder.log(name, value, step)


def log_param(name: str, value: Any) -> None:
    """Record a parameter known only inside the step (shown with the step's parameters)."""
    _current().param(name, value)


def log_tag(name: str, value: Any) -> None:
    """Attach a tag (text) to the step's execution."""
    _current().tag(name, value)


def _finite(value: float) -> bool:
    return math.isfinite(value)
