"""Materializers turn step outputs into bytes and back.

JSON for builtins that survive a JSON round trip exactly, raw bytes, numpy arrays
(``.npy``, no pickle), pandas DataFrames (parquet, when pyarrow is installed), your
own (:func:`register_materializer`), and pickle only as the last, logged fallback.
"""

from __future__ import annotations

import io
import json
import logging
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from ..exceptions import UsageError

__all__ = ["Materializer", "load_artifact", "materializer_for", "materializer_named", "register_materializer", "store_value"]

log = logging.getLogger("zenml_notebook")


@dataclass(frozen=True)
class Materializer:
    name: str
    version: str
    extension: str
    can_handle: Callable[[Any], bool]
    dumps: Callable[[Any], bytes]
    loads: Callable[[bytes], Any]
    # streaming forms, for big values: write into / read from a binary file object without
    # building the whole byte string first (the same bytes as dumps/loads)
    dump: Callable[[Any, IO[bytes]], None] | None = None
    load: Callable[[IO[bytes]], Any] | None = None


def _json_exact(obj: Any) -> bool:
    if obj is None or isinstance(obj, (bool, int, float, str, list, dict)):
        try:
            return bool(json.loads(json.dumps(obj, allow_nan=False)) == obj)
        except (TypeError, ValueError):
            return False
    return False


def _is_ndarray(obj: Any) -> bool:
    return type(obj).__module__ == "numpy" and type(obj).__name__ == "ndarray"


def _is_dataframe(obj: Any) -> bool:
    return type(obj).__module__.startswith("pandas") and type(obj).__name__ == "DataFrame"


def _np_dumps(obj: Any) -> bytes:
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, obj, allow_pickle=False)
    return buf.getvalue()


def _np_loads(data: bytes) -> Any:
    import numpy as np

    return np.load(io.BytesIO(data), allow_pickle=False)


def _np_dump(obj: Any, fh: IO[bytes]) -> None:
    """The bytes of ``np.save``; a C-ordered array of a plain dtype goes out as its own buffer
    in one write (np.save would copy it in 16 MiB pieces into a stream that is not a real file)."""
    import numpy as np

    if not (obj.flags.c_contiguous and obj.size and obj.dtype.kind in "biufcmMSU"):
        np.save(fh, obj, allow_pickle=False)
        return
    fmt = np.lib.format
    header = io.BytesIO()
    fmt.write_array_header_1_0(header, fmt.header_data_from_array_1_0(obj))  # np.save's version for such a header
    fh.write(header.getvalue())
    getattr(fh, "write_stable", fh.write)(memoryview(obj.reshape(-1).view(np.uint8)))


def _np_load(fh: IO[bytes]) -> Any:
    import numpy as np

    return np.load(fh, allow_pickle=False)


def _df_dump(obj: Any, fh: IO[bytes]) -> None:
    obj.to_parquet(fh)


def _df_load(fh: IO[bytes]) -> Any:
    import pandas as pd

    name = getattr(fh, "name", None)
    if isinstance(name, str) and os.path.isfile(name):  # a file on disk: pyarrow reads it natively, in parallel
        return pd.read_parquet(name)
    return pd.read_parquet(fh)


def _df_dumps(obj: Any) -> bytes:
    buf = io.BytesIO()
    obj.to_parquet(buf)
    return buf.getvalue()


def _df_loads(data: bytes) -> Any:
    import pandas as pd

    return pd.read_parquet(io.BytesIO(data))


def _pickle_dumps(obj: Any) -> bytes:
    log.warning("zenml-notebook: storing a %s with pickle; register a materializer for it to avoid pickle", type(obj).__name__)
    try:  # cloudpickle stores classes defined in notebook cells by value; plain pickle cannot
        import cloudpickle

        data: bytes = cloudpickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        return data
    except ImportError:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


BUILTIN = [
    Materializer("bytes", "1", ".bin", lambda o: isinstance(o, (bytes, bytearray)), bytes, lambda d: d),
    Materializer("json", "1", ".json", _json_exact, lambda o: json.dumps(o, sort_keys=True).encode(), json.loads),
    Materializer("numpy", "1", ".npy", _is_ndarray, _np_dumps, _np_loads, _np_dump, _np_load),
    Materializer("pandas", "1", ".parquet", _is_dataframe, _df_dumps, _df_loads, _df_dump, _df_load),
]
PICKLE = Materializer("pickle", "1", ".pkl", lambda o: True, _pickle_dumps, pickle.loads)
_USER: list[Materializer] = []


def register_materializer(
    name: str, handles: type | Callable[[Any], bool], dumps: Callable[[Any], bytes], loads: Callable[[bytes], Any], *,
    version: str = "1", extension: str = ".bin",
) -> Materializer:
    """Teach zenml-notebook to store a type: ``handles`` is a type or a predicate."""
    if any(m.name == name for m in (*BUILTIN, PICKLE)):
        raise UsageError(f"materializer name {name!r} is built in; pick another name")
    check = (lambda o: isinstance(o, handles)) if isinstance(handles, type) else handles
    mat = Materializer(name, version, extension, check, dumps, loads)
    _USER[:] = [m for m in _USER if m.name != name]
    _USER.insert(0, mat)
    return mat


def materializer_for(obj: Any) -> Materializer:
    for mat in (*_USER, *BUILTIN):
        if mat.can_handle(obj):
            return mat
    return PICKLE


def materializer_named(name: str) -> Materializer:
    for mat in (*_USER, *BUILTIN, PICKLE):
        if mat.name == name:
            return mat
    raise UsageError(f"no materializer named {name!r} in this process; register it with register_materializer() first")


class _Hashing:
    """A write-only binary stream that hashes what passes through, one pass, on a helper thread.

    A big buffer is hashed while the file write of it runs (both release the GIL), and before
    ``write`` returns, since its writer may reuse it; one that stays as it is (numpy's array,
    ``write_stable``) can go on hashing while the file is synced. ``bytes`` pieces cannot change:
    they are gathered into 4 MiB batches hashed in one call each (pyarrow writes 1 MiB pieces;
    a hand-over per piece would wait on the GIL each time), at most two batches behind."""

    _BIG = 1 << 20
    _BATCH = 4 << 20

    def __init__(self, fh: IO[bytes]) -> None:
        import hashlib

        self._fh = fh
        self._digest = hashlib.sha256()
        self._pending: Any = None  # the helper's job in progress
        self._batch: list[bytes] = []
        self._batched = 0
        self._pool: Any = None

    def _submit(self, data: Any) -> None:
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zenml-notebook-hash")
        self._wait_helper()
        self._pending = self._pool.submit(self._digest.update, data)

    def _wait_helper(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None

    def _flush_batch(self) -> None:
        if self._batch:
            joined = self._batch[0] if len(self._batch) == 1 else b"".join(self._batch)
            small = self._batched < self._BIG
            self._batch, self._batched = [], 0
            if small:  # a small file, or its tail: no helper thread for that
                self._wait_helper()
                self._digest.update(joined)
            else:
                self._submit(joined)

    def write(self, data: Any) -> int:
        if type(data) is bytes and len(data) < self._BATCH:
            self._batch.append(data)
            self._batched += len(data)
            if self._batched >= self._BATCH:
                self._flush_batch()
            self._fh.write(data)
            return len(data)
        view = memoryview(data).cast("B")
        self._flush_batch()
        if len(view) < self._BIG:
            self._wait_helper()
            self._digest.update(view)
            self._fh.write(view)
            return len(view)
        self._submit(view)
        self._fh.write(view)
        self._wait_helper()  # hashed before the writer has it back
        return len(view)

    def write_stable(self, data: Any) -> int:
        """Write a buffer that stays as it is until the file is complete (an array's own memory):
        its hashing may go on while the file is synced."""
        view = memoryview(data).cast("B")
        self._flush_batch()
        self._submit(view)
        self._fh.write(view)
        return len(view)

    def _wait(self) -> None:
        self._flush_batch()
        self._wait_helper()

    def hexdigest(self) -> str:
        self._wait()
        return self._digest.hexdigest()

    def close_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()  # waits for a chunk still being hashed
            self._pool = None

    def flush(self) -> None:
        self._fh.flush()

    def tell(self) -> int:
        return self._fh.tell()

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        pass

    @property
    def closed(self) -> bool:
        return False


def store_value(store: Any, path: str, value: Any, mat: Materializer) -> str:
    """Write ``value`` to ``path`` in the store; returns the content hash (sha256 prefix). Big
    values stream: the hash is taken while writing, no whole byte string is built."""
    if mat.dump is not None:
        hashing: _Hashing | None = None
        try:
            with store.open_write(path) as fh:
                hashing = _Hashing(fh)
                mat.dump(value, hashing)  # type: ignore[arg-type]
            # the last big chunk may still be hashing: it overlaps the file's fdatasync
            return hashing.hexdigest()[:32]
        finally:
            if hashing is not None:
                hashing.close_pool()
    import hashlib

    data = mat.dumps(value)
    store.write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()[:32]


def load_artifact(store: Any, path: str, mat: Materializer) -> Any:
    """Read an artifact back; streaming materializers read from the file, not from a copy."""
    if mat.load is not None:
        with store.open_read(path) as fh:
            return mat.load(fh)
    return mat.loads(store.read_bytes(path))
