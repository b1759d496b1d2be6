"""One contract every artifact-store flavor passes: local folder, GCS emulator, moto S3."""

from __future__ import annotations

import base64
import pickle
from pathlib import Path

import pytest

from zenml_notebook.components.artifacts import open_artifact_store
from zenml_notebook.exceptions import NotFoundError, UsageError
from zenml_notebook.registry import ComponentRecord
from zenml_notebook.repository import Repository

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.fixture(params=["local", "gcs", "s3"])
def store(request: pytest.FixtureRequest, workdir: Path, tmp_path: Path):
    if request.param == "local":
        record = ComponentRecord("artifact_store", "a", "local", {"path": str(tmp_path / "store")})
    elif request.param == "gcs":
        bucket = request.getfixturevalue("gcs_bucket")
        record = ComponentRecord("artifact_store", "a", "gcs", {"path": f"gs://{bucket}/some/prefix"})
    else:
        bucket = request.getfixturevalue("s3_bucket")
        server = request.getfixturevalue("s3_server")
        record = ComponentRecord("artifact_store", "a", "s3", {"path": f"s3://{bucket}/some/prefix", "endpoint_url": server.url})
    return open_artifact_store(record, Repository(workdir))


class Evil:
    """Unpickling this would create a file: previews must never unpickle."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_write_read_exists_size_remove(store) -> None:
    assert not store.exists("run1/out.json")
    store.write_bytes("run1/out.json", b'{"a": 1}')
    assert store.exists("run1/out.json")
    assert store.read_bytes("run1/out.json") == b'{"a": 1}'
    assert store.size("run1/out.json") == 8
    store.copy("run1/out.json", "run2/copy.json")
    assert store.read_bytes("run2/copy.json") == b'{"a": 1}'
    store.write_bytes("run1/out.json", b"[2]")  # overwrite is atomic too
    assert store.read_bytes("run1/out.json") == b"[2]"
    store.remove("run1/out.json")
    assert not store.exists("run1/out.json")
    with pytest.raises(NotFoundError, match=r"'run1/out.json' does not exist in artifact store 'a'"):
        store.read_bytes("run1/out.json")
    with pytest.raises(UsageError, match="refusing to remove the root"):
        store.remove("", recursive=True)
    assert store.full_uri("x/y").endswith("some/prefix/x/y") or store.full_uri("x/y").endswith("store/x/y")


def test_listing_pagination_of_1000(store) -> None:
    data = {f"many/f{i:04d}.txt": str(i).encode() for i in range(1000)}
    if store.flavor == "local":
        for path, value in data.items():
            store.write_bytes(path, value)
    else:  # bulk upload for setup speed; listing goes through our API
        store.fs.pipe({store._key(k): v for k, v in data.items()})
    store.write_bytes("many/sub/inner.txt", b"x")
    first = store.list("many", limit=100)
    assert first.total == 1001 and len(first.entries) == 100
    assert first.entries[0].name == "sub" and first.entries[0].kind == "folder"
    assert [e.name for e in first.entries[1:4]] == ["f0000.txt", "f0001.txt", "f0002.txt"]
    assert first.entries[1].size == 1 and first.entries[1].path == "many/f0000.txt"
    last = store.list("many", offset=1000, limit=100)
    assert [e.name for e in last.entries] == ["f0999.txt"]
    names = [e.name for off in range(0, 1001, 250) for e in store.list("many", offset=off, limit=250).entries]
    assert len(names) == 1001 and len(set(names)) == 1001
    assert store.list("", limit=10).entries[0].name == "many"
    with pytest.raises(UsageError, match="--limit between 1 and 1000"):
        store.list("many", limit=5000)


def test_interrupted_write_leaves_no_final_object(store) -> None:
    with pytest.raises(RuntimeError, match="crash"):
        with store.open_write("half/artifact.bin") as fh:
            fh.write(b"x" * 100_000)
            raise RuntimeError("crash")
    assert not store.exists("half/artifact.bin")
    if store.flavor == "local":
        assert [p.name for p in (store.root / "half").iterdir()] == []
    else:
        assert store.list("").entries == [] or all(e.name != "half" for e in store.list("").entries)


def test_empty_objects_preview_and_read_as_empty(store) -> None:
    """A 0-byte object is not an error (S3 and GCS answer a ranged read of it with 416)."""
    for name in ("p/empty", "p/empty.json", "p/empty.npy", "p/empty.parquet", "p/empty.png", "p/empty.csv"):
        store.write_bytes(name, b"")
        shown = store.preview(name)
        assert (shown.kind, shown.size, shown.note) == ("empty", 0, "empty file (0 bytes)"), (name, shown)
        assert store.read_bytes(name) == b"" and store.read_bytes(name, 100) == b"" and store.read_bytes(name, 10, offset=5) == b""
    store.write_bytes("p/short", b"abc")
    assert store.read_bytes("p/short", 100, offset=3) == b"" and store.read_bytes("p/short", 100, offset=1) == b"bc"


def test_preview_rules(store, tmp_path: Path) -> None:
    store.write_bytes("p/metrics.json", b'{"b": [1, 2], "a": "<script>"}')
    store.write_bytes("p/table.csv", b"x,y\n" + b"".join(f"{i},{i * i}\n".encode() for i in range(100)))
    store.write_bytes("p/notes", "héllo\nworld\n".encode())
    store.write_bytes("p/pic.png", PNG)
    marker = tmp_path / "unpickled"
    store.write_bytes("p/model.pkl", pickle.dumps(Evil(str(marker))))
    store.write_bytes("p/blob", pickle.dumps(Evil(str(marker))))
    store.write_bytes("p/big.txt", b"a" * 200_000)
    j = store.preview("p/metrics.json")
    assert (j.kind, j.text) == ("json", '{\n  "a": "<script>",\n  "b": [\n    1,\n    2\n  ]\n}')
    c = store.preview("p/table.csv")
    assert c.kind == "csv" and c.rows[0] == ["x", "y"] and c.rows[3] == ["2", "4"] and len(c.rows) == 20 and c.truncated
    t = store.preview("p/notes")
    assert (t.kind, t.text) == ("text", "héllo\nworld\n")
    i = store.preview("p/pic.png")
    assert (i.kind, i.mime) == ("image", "image/png") and base64.b64decode(i.data_base64 or "") == PNG
    for path in ("p/model.pkl", "p/blob"):
        b = store.preview(path)
        assert b.kind == "binary" and b.text is None and "not previewed" in b.note
    assert not marker.exists()
    big = store.preview("p/big.txt")
    assert big.truncated and len(big.text or "") == 64 * 1024 and big.size == 200_000
    with pytest.raises(UsageError, match="'p' in artifact store 'a' is a folder"):
        store.preview("p")


@pytest.mark.parametrize("path", [
    "../../../etc/passwd", "%2e%2e%2f%2e%2e%2fetc", "%252e%252e/x", "/etc/passwd", "file:///etc/passwd", "C:\\\\x",
    "\\\\\\\\srv\\\\share", "..\\\\..\\\\x", "a/../../x", "a#/../x", "a;/../x", "?q=../..", "gs://other/x", "a/\\x00b",
])
def test_paths_outside_the_store_are_refused(store, path: str) -> None:
    with pytest.raises(UsageError):
        store.read_bytes(path)
    with pytest.raises(UsageError):
        store.list(path)
