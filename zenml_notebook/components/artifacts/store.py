"""An artifact store implemented once over fsspec: local folders, ``gs://`` and ``s3://``.

Every path goes through :mod:`.paths`; writes are atomic (local: sibling temp file,
fsync, ``os.replace``; object stores: one upload that only becomes visible when it
completes), so a crashed writer never leaves an artifact that looks complete.
"""

from __future__ import annotations

import base64
import builtins
import csv
import errno
import io
import json
import os
import re
import shutil
import socket
import stat
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from ...exceptions import (
    NotFoundError,
    StoreConnectionError,
    StoreUnavailableError,
    UsageError,
    ZenMLError,
    bound,
)
from ...uris import parse_artifact_uri
from .paths import clean_parts, local_target

__all__ = ["ArtifactStore", "Entry", "Listing", "Preview"]

T = TypeVar("T")

TEXT_CAP = 64 * 1024
JSON_CAP = 1024 * 1024
IMAGE_CAP = 2 * 1024 * 1024
CSV_ROWS = 20
MAX_LIMIT = 1000
_TEXT_EXT = {".txt", ".md", ".log", ".py", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".html", ".xml", ".svg", ".sql", ".sh"}
_IMAGE_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp"}
_BINARY_EXT = {".pkl", ".pickle", ".npy", ".npz", ".parquet", ".bin", ".pt", ".joblib", ".h5", ".zip", ".gz"}


@dataclass(frozen=True)
class Entry:
    name: str
    path: str  # relative to the store's root
    kind: str  # "folder" | "file"
    size: int | None
    modified: float | None


@dataclass(frozen=True)
class Listing:
    store: str
    path: str
    entries: list[Entry]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class Preview:
    path: str
    kind: str  # text | json | csv | image | array (.npy) | table (parquet) | binary
    size: int
    modified: float | None
    text: str | None = None
    rows: list[list[str]] = field(default_factory=list)
    mime: str | None = None
    data_base64: str | None = None
    truncated: bool = False
    note: str = ""


def _mtime(info: dict[str, Any]) -> float | None:
    for key in ("mtime", "updated", "LastModified", "timeCreated"):
        value = info.get(key)
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return None


class ArtifactStore:
    """One artifact store component, ready to read, write and browse."""

    def __init__(self, flavor: str, location: str, options: dict[str, Any], label: str) -> None:
        self.flavor = flavor
        self.label = label
        self._options = options
        self._fs: Any = None
        self.timeout = float(options.get("timeout") or 10.0)  # seconds per remote call
        self._endpoint_checked = False
        self._real_root: Path | None = None
        if flavor == "local":
            self.root = Path(location)
            self.uri = str(self.root)
            self.bucket, self.prefix = "", ""
        else:
            parsed = parse_artifact_uri(location)
            self.bucket, self.prefix = parsed.bucket, parsed.prefix
            self.uri = str(parsed)
            self.root = Path("/")  # unused for object stores

    # -- plumbing -------------------------------------------------------------------
    @property
    def fs(self) -> Any:
        if self._fs is None:
            self._fs = _filesystem(self.flavor, self._options)
        return self._fs

    @property
    def real_root(self) -> Path:
        """The local root with its symlinks resolved, once (every path is checked below it)."""
        if self._real_root is None:
            self._real_root = self.root.resolve()
        return self._real_root

    def _remote(self, doing: str, path: str, fn: Callable[[Any], T], *, writing: bool = False) -> T:
        """``fn(fs)`` for an object store: within the deadline, with its failure classified.
        (A missing file stays FileNotFoundError, which each reader words for itself; for a
        write it can only mean a missing bucket.)"""
        from ...deadline import DeadlineExceeded, call_with_deadline
        from .verify import check_endpoint, classify

        endpoint = self._options.get("endpoint_url") or (os.environ.get("STORAGE_EMULATOR_HOST") if self.flavor == "gcs" else None)
        try:
            if endpoint and not self._endpoint_checked:  # refused at once, rather than after the client's retries
                check_endpoint(endpoint if "://" in endpoint else f"http://{endpoint}", min(self.timeout, 5.0))
                self._endpoint_checked = True
            return call_with_deadline(lambda: fn(self.fs), self.timeout, "zenml-notebook-storage")
        except DeadlineExceeded:
            raise StoreUnavailableError(
                f"{self.label}: no answer from the storage behind {self.uri} within {self.timeout:g} s (while trying to "
                f"{doing} {path or 'its root'}); check the network or --endpoint-url, or raise --timeout"
            ) from None
        except FileNotFoundError as exc:
            if writing:
                raise type(err := classify(self, exc, doing))(f"{self.label}: {err}") from None
            raise
        except (IsADirectoryError, NotADirectoryError, ZenMLError) as exc:
            if isinstance(exc, StoreConnectionError) and not str(exc).startswith(self.label):
                raise type(exc)(f"{self.label}: {exc}") from None
            raise
        except Exception as exc:
            raise type(err := classify(self, exc, doing))(f"{self.label}: {err}") from None

    def _key(self, path: str) -> str:
        """The filesystem path of a store-relative path (the only way in)."""
        parts = clean_parts(path, remote=self.flavor != "local")
        if self.flavor == "local":
            return str(local_target(self.root, parts, real_root=self.real_root))
        return "/".join([self.bucket, *([self.prefix] if self.prefix else []), *parts])

    def full_uri(self, path: str) -> str:
        """The URI recorded in metadata for a store-relative path (a name only: every read or
        write of it goes through ``_key``, which also refuses symlinks on a local disk)."""
        if self.flavor == "local":
            return str(self.real_root.joinpath(*clean_parts(path)))
        return f"{'gs' if self.flavor == 'gcs' else 's3'}://{self._key(path)}"

    def _inside(self, uri: str) -> str | None:
        """The store-relative path of a URI under this store's current root, or None."""
        root = (str(self.real_root) if self.flavor == "local" else self.uri).rstrip("/")
        if uri == root:
            return ""
        return uri[len(root) + 1 :] if uri.startswith(root + "/") else None

    def relative(self, uri: str) -> str:
        """The store-relative path of a URI that metadata recorded for this store.

        Local stores record absolute paths, so a repository that was moved, copied or cloned
        holds URIs under the store's *old* root: such a URI is found by its longest tail (of at
        least two parts: pipeline/run/step/file below the root) that exists under the current
        root. Only a lookup below this store's root: it can never reach outside it."""
        found = self._inside(uri)
        if found is not None:
            return found
        if self.flavor == "local" and uri.startswith("/"):
            parts = [p for p in uri.split("/") if p]
            for start in range(1, len(parts) - 1):
                tail = "/".join(parts[start:])
                try:
                    if os.path.lexists(self._key(tail)):
                        return tail
                except UsageError:
                    continue
        raise UsageError(
            f"{bound(uri)!r} is not inside {self.label} ({self.uri})"
            + (" and nothing of that name is under it (moved away, or another store's artifact)" if self.flavor == "local" else "")
        )

    # -- reading and writing ------------------------------------------------------------
    def exists(self, path: str) -> bool:
        key = self._key(path)
        if self.flavor == "local":
            return os.path.lexists(key)

        def exists(fs: Any) -> bool:
            fs.invalidate_cache()
            return bool(fs.exists(key))

        return self._remote("look in", path, exists)

    def read_bytes(self, path: str, limit: int | None = None, *, offset: int = 0) -> bytes:
        """The bytes of ``path``; with ``limit``, only up to that byte (from ``offset``)."""
        key = self._key(path)
        try:
            if self.flavor != "local":  # one ranged GET, no block-cache round trips
                def cat(fs: Any) -> bytes:
                    fs.invalidate_cache()
                    if limit is None and not offset:
                        return bytes(fs.cat_file(key))
                    if limit is not None and limit <= offset:
                        return b""
                    try:
                        return bytes(fs.cat_file(key, start=offset, end=limit))
                    except FileNotFoundError:
                        raise
                    except Exception:  # S3 and GCS refuse a range that starts at or past the end (416)
                        if int(fs.info(key).get("size") or 0) <= offset:
                            return b""
                        raise

                return self._remote("read from", path, cat)
            with self.fs.open(key, "rb") as fh:
                if offset:
                    fh.seek(offset)
                data: bytes = fh.read() if limit is None else fh.read(max(limit - offset, 0))
                return data
        except FileNotFoundError:
            raise NotFoundError(f"{path!r} does not exist in {self.label}") from None
        except IsADirectoryError:
            raise UsageError(f"{path!r} in {self.label} is a folder; list it with `artifacts ls {path}`") from None

    @contextmanager
    def open_write(self, path: str) -> Iterator[IO[bytes]]:
        """Write ``path`` atomically: readers see the old content, or all of the new."""
        key = self._key(path)
        if self.flavor == "local":
            target = Path(key)
            try:
                os.mkdir(target.parent)  # a step's new folder: nothing in it to sweep
            except FileExistsError:
                sweep_partials(target.parent)
            except FileNotFoundError:
                target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{_OWNER}.{uuid.uuid4().hex}.partial")
            try:
                with open(tmp, "xb") as fh:
                    yield fh
                    fh.flush()
                    _sync(fh.fileno())  # on disk before the step is recorded complete
                os.replace(tmp, target)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                if exc.filename is None and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
                    raise OSError(exc.errno, exc.strerror, str(target)) from None  # say where
                raise
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            return
        # object stores: stage locally, then one upload that appears only when complete
        with tempfile.NamedTemporaryFile(prefix="zenml-artifact-", delete=True) as staged:
            yield staged
            staged.flush()
            size = max(staged.tell(), 1)

            from .transfer import TransferProgress, part_options

            progress = TransferProgress("uploading", path, size)

            def put(fs: Any) -> None:
                fs.put_file(staged.name, key, callback=progress, **part_options(fs, self.flavor, size, upload=True))
                fs.invalidate_cache()

            saved, self.timeout = self.timeout, self.timeout + size / 1e6  # a big upload: its transfer time on top (1 MB/s floor)
            try:
                self._remote("write to", path, put, writing=True)
            finally:
                self.timeout = saved
                progress.finish()

    @contextmanager
    def open_read(self, path: str) -> Iterator[IO[bytes]]:
        """A binary file to read ``path`` from: the file itself for a local store; for an object
        store, one download (within the deadline, plus transfer time) to a local temp file."""
        key = self._key(path)
        try:
            if self.flavor == "local":
                with open(key, "rb") as fh:
                    yield fh
                return
            size = self.size(path)
            with tempfile.NamedTemporaryFile(prefix="zenml-artifact-", delete=True) as staged:
                from .transfer import TransferProgress, part_options

                progress = TransferProgress("downloading", path, size)
                saved, self.timeout = self.timeout, self.timeout + size / 1e6  # transfer time on top (1 MB/s floor)
                try:
                    self._remote("read from", path, lambda fs: fs.get_file(key, staged.name, callback=progress,
                                                                           **part_options(fs, self.flavor, size, upload=False)))
                finally:
                    self.timeout = saved
                    progress.finish()
                with open(staged.name, "rb") as fh:
                    yield fh
        except FileNotFoundError:
            raise NotFoundError(f"{path!r} does not exist in {self.label}") from None
        except IsADirectoryError:
            raise UsageError(f"{path!r} in {self.label} is a folder; list it with `artifacts ls {path}`") from None

    def write_bytes(self, path: str, data: bytes) -> None:
        if self.flavor != "local":  # one PUT from memory: visible only once complete
            key = self._key(path)

            def pipe(fs: Any) -> None:
                fs.pipe_file(key, data)
                fs.invalidate_cache()

            saved, self.timeout = self.timeout, self.timeout + len(data) / 1e6  # transfer time on top (1 MB/s floor)
            try:
                self._remote("write to", path, pipe, writing=True)
            finally:
                self.timeout = saved
            return
        with self.open_write(path) as fh:
            fh.write(data)

    def size(self, path: str) -> int:
        return int(self._info(path).get("size") or 0)

    def _info(self, path: str) -> dict[str, Any]:
        key = self._key(path)
        try:
            if self.flavor == "local":
                st = os.lstat(key)
                return {"size": st.st_size, "mtime": st.st_mtime, "type": "directory" if stat.S_ISDIR(st.st_mode) else "file"}
            def info(fs: Any) -> dict[str, Any]:
                fs.invalidate_cache()
                return dict(fs.info(key))

            return self._remote("read from", path, info)
        except FileNotFoundError:
            raise NotFoundError(f"{path!r} does not exist in {self.label}") from None

    def remove(self, path: str, *, recursive: bool = False) -> None:
        key = self._key(path)
        if not clean_parts(path, remote=self.flavor != "local"):
            raise UsageError(f"refusing to remove the root of {self.label}")
        def rm(fs: Any) -> None:
            fs.rm(key, recursive=recursive)
            fs.invalidate_cache()

        try:
            if self.flavor == "local":
                rm(self.fs)
            else:
                self._remote("remove from", path, rm)
        except FileNotFoundError:
            raise NotFoundError(f"{path!r} does not exist in {self.label}") from None

    def discard(self, paths: Sequence[str]) -> int:
        """Remove these files (a missing one is fine: a deletion may be re-run) and, in a local
        store, the folders they leave empty; returns how many were there. Exactly these paths:
        never a prefix or a whole folder."""
        removed = 0
        folders: set[Path] = set()
        for path in paths:
            key = self._key(path)
            if not clean_parts(path, remote=self.flavor != "local"):
                raise UsageError(f"refusing to remove the root of {self.label}")
            if self.flavor == "local":
                try:
                    os.unlink(key)
                    removed += 1
                except FileNotFoundError:
                    pass
                except IsADirectoryError:
                    shutil.rmtree(key, ignore_errors=True)  # an artifact written as a folder: it is the artifact
                    removed += 1
                folders.add(Path(key).parent)
                continue

            def rm(fs: Any, k: str = key) -> bool:
                try:
                    fs.rm(k)
                    return True
                except FileNotFoundError:
                    return False

            removed += bool(self._remote("remove from", path, rm))
        root = self.real_root
        for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
            here = folder
            while here != root and root in here.parents:
                try:
                    here.rmdir()  # only when empty
                except OSError:
                    break
                here = here.parent
        if self.flavor != "local":
            self.fs.invalidate_cache()
        return removed

    def clean(self) -> list[str]:
        """Remove every temp file a killed writer left in a local store (store-relative paths)."""
        if self.flavor != "local":
            return []  # object stores upload in one request: a killed writer leaves nothing there
        removed: list[str] = []
        root = self.root.resolve()
        for folder, dirs, _ in os.walk(root, followlinks=False):
            removed += [str(p.relative_to(root)) for p in sweep_partials(Path(folder))]
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
        return sorted(removed)

    def copy(self, source: str, target: str) -> None:
        with self.open_write(target) as out:
            out.write(self.read_bytes(source))

    # -- browsing ----------------------------------------------------------------------
    def list(self, path: str = "", *, offset: int = 0, limit: int = 100) -> Listing:
        """One page of a folder: folders first, then files, by name."""
        if offset < 0 or not 1 <= limit <= MAX_LIMIT:
            raise UsageError(f"--offset must be >= 0 and --limit between 1 and {MAX_LIMIT}")
        key = self._key(path)
        rel = "/".join(clean_parts(path, remote=self.flavor != "local"))
        if self.flavor == "local":
            names = self._local_names(Path(key), path)
            page = names[offset : offset + limit]
            entries = []
            for name, is_dir, is_link in page:
                try:
                    st = os.lstat(os.path.join(key, name))
                except FileNotFoundError:  # removed while we listed
                    continue
                kind = "link" if is_link else "folder" if is_dir else "file"  # links are shown, never followed
                entries.append(Entry(name, f"{rel}/{name}".lstrip("/"), kind, None if is_dir or is_link else st.st_size, st.st_mtime))
            return Listing(self.uri, rel, entries, len(names), offset, limit)
        def ls(fs: Any) -> builtins.list[dict[str, Any]]:
            fs.invalidate_cache()
            return list(fs.ls(key, detail=True))

        try:
            infos = self._remote("list", rel, ls)
        except FileNotFoundError:
            if rel:
                raise NotFoundError(f"{path!r} does not exist in {self.label}") from None
            infos = []
        items = []
        for info in infos:
            name = str(info["name"]).rstrip("/").rsplit("/", 1)[-1]
            if not name or str(info["name"]).rstrip("/") == key.rstrip("/"):
                continue
            is_dir = info.get("type") == "directory"
            items.append(((not is_dir, name), Entry(name, f"{rel}/{name}".lstrip("/"), "folder" if is_dir else "file", None if is_dir else int(info.get("size") or 0), None if is_dir else _mtime(info))))
        items.sort(key=lambda pair: pair[0])
        return Listing(self.uri, rel, [e for _, e in items[offset : offset + limit]], len(items), offset, limit)

    def _local_names(self, folder: Path, shown: str) -> builtins.list[tuple[str, bool, bool]]:
        try:
            with os.scandir(folder) as it:
                found = [(e.name, e.is_dir(follow_symlinks=False), e.is_symlink()) for e in it if not e.name.endswith(".partial")]
        except FileNotFoundError:
            if folder == self.root.resolve():
                return []
            raise NotFoundError(f"{shown!r} does not exist in {self.label}") from None
        except NotADirectoryError:
            raise UsageError(f"{shown!r} in {self.label} is a file; preview it with `artifacts preview {shown}`") from None
        except OSError as exc:  # a name too long for the file system, no permission, a failing disk: said, never raised raw
            raise StoreConnectionError(f"{self.label}: cannot list {str(folder)[:200]!r} ({exc.strerror or exc}); "
                                       "check the artifact store's path (`stack describe`)") from None
        found.sort(key=lambda item: (not item[1], item[0]))
        return found

    def _parquet(self, path: str) -> tuple[str, builtins.list[builtins.list[str]], str]:
        """A parquet preview that fetches only the footer and the first pages (ranged reads)."""
        from .previews import parquet_preview

        if self.read_bytes(path, 4) != b"PAR1":
            return "", [], "not a parquet file (no PAR1 mark); not previewed (never deserialised)"
        key = self._key(path)
        if self.flavor == "local":
            with open(key, "rb") as fh:
                return parquet_preview(fh)

        def read(fs: Any) -> tuple[str, builtins.list[builtins.list[str]], str]:
            with fs.open(key, "rb", block_size=256 * 1024, cache_type="readahead") as fh:
                return parquet_preview(fh)

        result: tuple[str, builtins.list[builtins.list[str]], str] = self._remote("read from", path, read)
        return result

    def current_uri(self, uri: str) -> str:
        """Where a recorded URI is now: a local store's moved artifact under its current root
        (so what a user copies from `runs describe` can be previewed); else ``uri`` itself."""
        if self.flavor != "local" or self._inside(uri) is not None:
            return uri
        try:
            return self.full_uri(self.relative(uri))
        except UsageError:
            return uri

    def path_of(self, text: str) -> str:
        """A store-relative path from what a user gives: such a path, or an absolute path or URI
        that `runs describe` and the run card print - accepted only inside this store."""
        if "://" not in text and not text.startswith("/"):
            return text
        uri = text.removeprefix("file://") if self.flavor == "local" else text
        if self.flavor == "local":
            uri = os.path.realpath(uri)  # its symlinks resolved: one that points out of the store stays outside
        found = self._inside(uri)
        if found is None:
            raise UsageError(f"{bound(text)!r} is outside {self.label} ({self.uri}); only its own artifacts can be read here")
        return found

    def preview(self, path: str) -> Preview:
        """A size-capped look at a file; never deserialises anything (no pickle, ever)."""
        info = self._info(path)
        if info.get("type") == "directory":
            raise UsageError(f"{path!r} in {self.label} is a folder; list it with `artifacts ls {path}`")
        size, modified = int(info.get("size") or 0), _mtime(info)
        if size == 0:  # nothing to look at, whatever its name says (and no ranged read of nothing)
            return Preview(path, "empty", 0, modified, note="empty file (0 bytes)")
        ext = os.path.splitext(path.lower())[1]
        if ext in _IMAGE_MIME:
            if size > IMAGE_CAP:
                return Preview(path, "image", size, modified, truncated=True, note=f"image larger than {IMAGE_CAP // 1024} KiB; not shown")
            data = self.read_bytes(path, IMAGE_CAP)
            return Preview(path, "image", size, modified, mime=_IMAGE_MIME[ext], data_base64=base64.b64encode(data).decode())
        if ext == ".npy":
            from .previews import array_preview

            summary, rows, note = array_preview(self.read_bytes(path, 4096), lambda n: self.read_bytes(path, n))
            return Preview(path, "array", size, modified, text=summary or None, rows=rows, note=note)
        if ext == ".parquet":
            summary, rows, note = self._parquet(path)
            return Preview(path, "table", size, modified, text=summary or None, rows=rows, note=note)
        if ext in _BINARY_EXT:
            return Preview(path, "binary", size, modified, note=f"binary {ext} file; not previewed (never deserialised)")
        if ext == ".json" and size <= JSON_CAP:
            raw = self.read_bytes(path, JSON_CAP)
            try:
                text = json.dumps(json.loads(raw), indent=2, sort_keys=True)
            except (ValueError, RecursionError):  # not JSON, or nested deeper than Python recurses
                text = raw.decode("utf-8", "replace")
            truncated = len(text) > TEXT_CAP
            return Preview(path, "json", size, modified, text=text[:TEXT_CAP], truncated=truncated)
        head = self.read_bytes(path, TEXT_CAP + 1)
        if ext in (".csv", ".tsv"):
            text = head[:TEXT_CAP].decode("utf-8", "replace")
            rows = list(csv.reader(io.StringIO(text), delimiter="\t" if ext == ".tsv" else ","))[:CSV_ROWS]
            return Preview(path, "csv", size, modified, rows=rows, truncated=len(head) > TEXT_CAP or text.count("\n") > CSV_ROWS)
        if ext in _TEXT_EXT or _looks_like_text(head):
            return Preview(path, "text", size, modified, text=head[:TEXT_CAP].decode("utf-8", "replace"), truncated=len(head) > TEXT_CAP)
        return Preview(path, "binary", size, modified, note="binary file; not previewed (never deserialised)")


# A writer's temp file names its owner, so a later writer can tell a dead one's leftovers
# from a live one's work: ".<name>.<pid>@<host>.<uuid>.partial".
_OWNER = f"{os.getpid()}@{socket.gethostname()}"
_PARTIAL = re.compile(r"^\..*\.(\d+)@(.+)\.[0-9a-f]{32}\.partial$")
PARTIAL_GRACE = 3600.0  # seconds: a temp file of another host (or an older version) counts as dead after this


def _writer_gone(name: str, mtime: float, now: float) -> bool:
    match = _PARTIAL.match(name)
    if match is None or match.group(2) != socket.gethostname():
        return now - mtime > PARTIAL_GRACE  # we cannot ask another host whether its writer lives
    try:
        os.kill(int(match.group(1)), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


# the data and the size a reader needs, without the inode times: 10-20 % cheaper than fsync
_sync = getattr(os, "fdatasync", os.fsync)


def sweep_partials(folder: Path) -> list[Path]:
    """Remove the temp files in ``folder`` whose writer is gone (killed mid-write); never a
    live writer's. Returns what was removed."""
    removed: list[Path] = []
    now = time.time()
    try:
        with os.scandir(folder) as it:
            candidates = [e for e in it if e.name.endswith(".partial") and e.is_file(follow_symlinks=False)]
    except OSError:
        return removed
    for entry in candidates:
        try:
            if _writer_gone(entry.name, entry.stat(follow_symlinks=False).st_mtime, now):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:  # gone already, or not ours to remove
            continue
    return removed


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head[:TEXT_CAP].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= TEXT_CAP - 4  # a multi-byte character cut by the cap
    return True


def _filesystem(flavor: str, options: dict[str, Any]) -> Any:
    """The fsspec filesystem of a flavor (imports its backend now, not before)."""
    if flavor == "local":
        from fsspec.implementations.local import LocalFileSystem

        return LocalFileSystem()
    if flavor == "gcs":
        # without this gcsfs probes a gRPC bucket-type API first; emulators stall ~60 s on it
        os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        # google.api_core warns on import about Python versions it will drop in the future:
        # nothing a user of ours can act on, and it would print two lines per command
        warnings.filterwarnings("ignore", message="You are using a Python version", category=FutureWarning)
        import gcsfs

        kwargs: dict[str, Any] = {"token": options.get("token")}
        if options.get("endpoint_url"):
            kwargs["endpoint_url"] = options["endpoint_url"]
        if options.get("project"):
            kwargs["project"] = options["project"]
        return gcsfs.GCSFileSystem(skip_instance_cache=True, **kwargs)
    import s3fs

    client_kwargs = {k: v for k, v in (("endpoint_url", options.get("endpoint_url")), ("region_name", options.get("region"))) if v}
    return s3fs.S3FileSystem(key=options.get("key"), secret=options.get("secret"), client_kwargs=client_kwargs, skip_instance_cache=True)
