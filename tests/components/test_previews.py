"""Rich, safe previews: .npy and parquet show their shape or schema and first rows, read only
what they show, and never deserialise Python objects (a pickle in disguise is refused, unloaded)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from zenml_notebook import api
from zenml_notebook.exceptions import UsageError

MARKER = "ZN_PREVIEW_MARKER"


class Evil:
    """Unpickling this would create a file: the proof that nothing was unpickled."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (Path(self.path),))


@pytest.fixture
def store_root(repo: Path) -> Path:
    root = repo / ".zenml" / "artifacts" / "explore"
    root.mkdir(parents=True)
    return root


def test_npy_shape_dtype_and_first_rows(store_root: Path) -> None:
    np.save(store_root / "m.npy", np.arange(300, dtype=np.float32).reshape(100, 3))
    p = api.preview_artifact("explore/m.npy")
    assert p.kind == "array" and p.text == "shape (100, 3), dtype float32"
    assert p.rows[0] == ["row", "0", "1", "2"] and p.rows[1] == ["0", "0.0", "1.0", "2.0"] and len(p.rows) == 51
    assert p.note == "first 50 of 100 rows"
    np.save(store_root / "v.npy", np.array([1, 2, 3], dtype=np.int64))
    assert api.preview_artifact("explore/v.npy").rows == [["row", "value"], ["0", "1"], ["1", "2"], ["2", "3"]]
    np.save(store_root / "wide.npy", np.zeros((2, 500)))
    assert api.preview_artifact("explore/wide.npy").note == "first 2 of 2 rows, 20 of 500 columns"


def test_a_pickle_disguised_as_npy_or_parquet_is_refused_and_never_loaded(store_root: Path, tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    np.save(store_root / "objects.npy", np.array([Evil(str(marker)), 1], dtype=object), allow_pickle=True)
    p = api.preview_artifact("explore/objects.npy")
    assert p.kind == "array" and "dtype object" in (p.text or "") and p.rows == []
    assert p.note == "holds Python objects, which only pickle could read; not previewed (never unpickled)"
    (store_root / "fake.parquet").write_bytes(pickle.dumps(Evil(str(marker))))
    p = api.preview_artifact("explore/fake.parquet")
    assert p.rows == [] and p.note == "not a parquet file (no PAR1 mark); not previewed (never deserialised)"
    (store_root / "damaged.parquet").write_bytes(b"PAR1" + pickle.dumps(Evil(str(marker))) + b"PAR1")
    p = api.preview_artifact("explore/damaged.parquet")
    assert p.rows == [] and p.note.startswith("not a readable parquet file (")
    (store_root / "pickled.npy").write_bytes(pickle.dumps(Evil(str(marker))))
    assert api.preview_artifact("explore/pickled.npy").note.startswith("not a valid .npy file (")
    assert not marker.exists()


def test_parquet_schema_and_first_rows_read_a_small_part_of_the_file(store_root: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    n = 5_000_000  # ~40 MB in one row group: the worst case for reading "just the start"
    table = pa.table({"x": np.arange(n, dtype=np.float64), "label": np.arange(n, dtype=np.int64) % 7})
    pq.write_table(table, store_root / "big.parquet", row_group_size=n, compression="NONE")
    size = (store_root / "big.parquet").stat().st_size
    api.preview_artifact("explore/big.parquet")  # imports done before measuring

    def read_bytes() -> int:
        return int(next(line for line in Path("/proc/self/io").read_text().splitlines() if line.startswith("rchar:")).split()[1])

    before = read_bytes()
    p = api.preview_artifact("explore/big.parquet")
    read = read_bytes() - before
    assert p.kind == "table" and p.text == f"{n} rows, 2 columns: x double, label int64"
    assert p.rows[0] == ["x", "label"] and p.rows[1] == ["0.0", "0"] and len(p.rows) == 51
    assert read <= 0.05 * size, f"read {read} of {size} bytes"


def test_artifact_uris_inside_the_store_are_accepted_and_others_refused(store_root: Path, repo: Path, tmp_path: Path, cli) -> None:
    np.save(store_root / "m.npy", np.ones((2, 2)))
    uri = str(store_root / "m.npy")
    assert api.preview_artifact(uri).text == "shape (2, 2), dtype float64"
    assert api.preview_artifact("file://" + uri).kind == "array"
    assert [e.name for e in api.list_artifacts(str(store_root)).entries] == ["m.npy"]
    r = cli("artifacts", "preview", uri)
    assert r.code == 0 and "shape (2, 2), dtype float64" in r.out, r.err
    outside = tmp_path / "secret.txt"
    outside.write_text("s3cr3t")
    (store_root / "link.txt").symlink_to(outside)
    for bad in (str(outside), "/etc/passwd", str(store_root / "link.txt"), "file:///etc/passwd", "gs://other/x"):
        with pytest.raises(UsageError, match="is outside artifact store 'default'"):
            api.preview_artifact(bad)
    r = cli("artifacts", "preview", "/etc/passwd")
    assert r.code == 2 and "is outside artifact store 'default'" in r.err and "root:" not in r.out
