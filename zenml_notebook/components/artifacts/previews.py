"""Previews of numpy and parquet artifacts that read only what they show and never deserialise
Python objects: an ``.npy`` with an object dtype (it would need pickle) or a file that only
claims to be parquet is refused with a note, never loaded.

* ``.npy``: the header (shape, dtype, order) and the first rows, read as raw bytes
  (``allow_pickle`` never enters: the bytes go through ``numpy.frombuffer``).
* ``.parquet``: the schema from the footer and the first rows, read through pyarrow with a small
  read buffer, so only the first pages of each column are fetched, not the whole file.
"""

from __future__ import annotations

import io
from typing import IO, Any

__all__ = ["ROWS", "array_preview", "parquet_preview"]

ROWS = 50  # rows shown
COLUMNS = 20  # columns shown
_HEADER_MAX = 64 * 1024  # an .npy header is a few hundred bytes; numpy caps it far below this


def array_preview(head: bytes, read: Any) -> tuple[str, list[list[str]], str]:
    """(summary, rows, note) of an ``.npy`` file from its first bytes; ``read(n)`` returns its
    first ``n`` bytes when more are needed for the rows."""
    import numpy as np
    from numpy.lib import format as npformat

    stream = io.BytesIO(head)
    try:
        version = npformat.read_magic(stream)
        reader = npformat.read_array_header_1_0 if version == (1, 0) else npformat.read_array_header_2_0
        shape, fortran, dtype = reader(stream, max_header_size=_HEADER_MAX)
    except (ValueError, SyntaxError, EOFError) as exc:
        return "", [], f"not a valid .npy file ({str(exc)[:120]}); not previewed"
    summary = f"shape {tuple(shape)}, dtype {dtype}" + (", Fortran order" if fortran else "")
    if dtype.hasobject:
        return summary, [], "holds Python objects, which only pickle could read; not previewed (never unpickled)"
    if fortran and len(shape) > 1:
        return summary, [], "Fortran-ordered: its first rows are not contiguous; not shown"
    offset = stream.tell()
    row_items = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    n_rows = min(shape[0], ROWS) if shape else 1
    need = offset + n_rows * row_items * dtype.itemsize
    data = head if len(head) >= need else read(need)
    values = np.frombuffer(data, dtype=dtype, count=n_rows * row_items, offset=offset)
    if not shape:
        return summary, [[_cell(values[0])]], ""
    if len(shape) == 1:
        rows = [["row", "value"]] + [[str(i), _cell(v)] for i, v in enumerate(values)]
    else:
        matrix = values.reshape((n_rows, row_items))
        rows = [["row", *(str(j) for j in range(min(row_items, COLUMNS)))]]
        rows += [[str(i), *(_cell(v) for v in row[:COLUMNS])] for i, row in enumerate(matrix)]
    shown = f"first {n_rows} of {shape[0]} rows" + (f", {COLUMNS} of {row_items} columns" if row_items > COLUMNS else "")
    return summary, rows, shown + (" (higher dimensions flattened per row)" if len(shape) > 2 else "")


def _cell(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def parquet_preview(stream: IO[bytes]) -> tuple[str, list[list[str]], str]:
    """(schema, rows with the header first, note) of a parquet file, reading as little as it can."""
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return "", [], "parquet file; `pip install pyarrow` to preview it"
    try:
        parquet = pq.ParquetFile(stream, buffer_size=64 * 1024, pre_buffer=False)
        schema = parquet.schema_arrow
        batch = next(parquet.iter_batches(batch_size=ROWS, columns=schema.names[:COLUMNS], use_threads=False), None)
    except Exception as exc:  # pyarrow raises many kinds for a damaged or fake file
        return "", [], f"not a readable parquet file ({type(exc).__name__}); not previewed"
    meta = parquet.metadata
    summary = f"{meta.num_rows} rows, {meta.num_columns} columns: " + ", ".join(f"{f.name} {f.type}" for f in list(schema)[:COLUMNS])
    if batch is None:
        return summary, [], "no rows"
    columns = batch.to_pydict()
    names = list(columns)
    rows = [names] + [[_cell(columns[n][i]) for n in names] for i in range(batch.num_rows)]
    more = f"first {batch.num_rows} of {meta.num_rows} rows" + (f", {COLUMNS} of {meta.num_columns} columns" if meta.num_columns > COLUMNS else "")
    return summary, rows, more
