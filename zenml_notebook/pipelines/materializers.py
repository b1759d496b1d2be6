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
from typing import Any

from ..exceptions import UsageError

__all__ = ["Materializer", "materializer_for", "materializer_named", "register_materializer"]

log = logging.getLogger("zenml_notebook")


@dataclass(frozen=True)
class Materializer:
    name: str
    version: str
    extension: str
    can_handle: Callable[[Any], bool]
    dumps: Callable[[Any], bytes]
    loads: Callable[[bytes], Any]


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
    Materializer("numpy", "1", ".npy", _is_ndarray, _np_dumps, _np_loads),
    Materializer("pandas", "1", ".parquet", _is_dataframe, _df_dumps, _df_loads),
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
