"""Materializers turn step outputs into bytes and back.

JSON for builtins that survive a JSON round trip exactly, raw bytes, numpy arrays
(``.npy``, no pickle), pandas DataFrames (parquet, when pyarrow is installed), your
own (:func:`register_materializer`), and pickle only as the last, logged fallback.
"""

from __future__ import annotations

import io
import json
import logging
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
    import numpy as np

    np.save(fh, obj, allow_pickle=False)


def _np_load(fh: IO[bytes]) -> Any:
    import numpy as np

    return np.load(fh, allow_pickle=False)


def _df_dump(obj: Any, fh: IO[bytes]) -> None:
    obj.to_parquet(fh)


def _df_load(fh: IO[bytes]) -> Any:
    import pandas as pd

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
    """A write-only binary stream that hashes what passes through, one pass and no copy. Big
    chunks are hashed on a helper thread while the file write of the same chunk runs (both
    release the GIL), so hashing adds little to the time of writing."""

    _BIG = 1 << 20

    def __init__(self, fh: IO[bytes]) -> None:
        import hashlib

        self._fh = fh
        self._digest = hashlib.sha256()
        self._pending: Any = None
        self._pool: Any = None

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        if len(view) < self._BIG:
            self._wait()
            self._digest.update(view)
            self._fh.write(view)
            return len(view)
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zenml-notebook-hash")
        self._wait()
        self._pending = self._pool.submit(self._digest.update, view)  # in order: one chunk at a time
        self._fh.write(view)
        return len(view)

    def _wait(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None

    def hexdigest(self) -> str:
        self._wait()
        if self._pool is not None:
            self._pool.shutdown()
        return self._digest.hexdigest()

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
        with store.open_write(path) as fh:
            hashing = _Hashing(fh)
            try:
                mat.dump(value, hashing)  # type: ignore[arg-type]
            finally:
                digest = hashing.hexdigest()  # the last chunk is hashed before the file is closed
        return digest[:32]
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
