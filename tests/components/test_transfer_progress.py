"""Long transfers to and from object stores show a progress line on stderr (short ones do not);
here on moto's real S3 server, with the notice threshold at 0 s so that every transfer counts."""

from __future__ import annotations

import re

import numpy as np
import pytest

from zenml_notebook.components.artifacts.store import ArtifactStore
from zenml_notebook.pipelines.materializers import load_artifact, materializer_for, store_value


def test_uploads_and_downloads_report_their_bytes(s3_server, s3_bucket: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    store = ArtifactStore("s3", f"s3://{s3_bucket}/runs", {"endpoint_url": s3_server.url}, "artifact store 's3'")
    value = np.ones(3 * 2**20 // 8)  # 3 MiB
    mat = materializer_for(value)
    store_value(store, "r/big.npy", value, mat)  # the default threshold (3 s): nothing shown for a quick one
    assert "uploading" not in capfd.readouterr().err
    monkeypatch.setenv("ZENML_NOTEBOOK_TRANSFER_NOTICE", "0")
    store_value(store, "r/big2.npy", value, mat)
    err = capfd.readouterr().err
    assert re.search(r"uploading r/big2\.npy: 3\.0 MiB in \d+\.\d s\s*\n$", err), err
    assert np.array_equal(load_artifact(store, "r/big2.npy", mat), value)
    err = capfd.readouterr().err
    assert re.search(r"downloading r/big2\.npy: 3\.0 MiB in \d+\.\d s\s*\n$", err), err


def test_a_big_upload_and_download_hold_a_part_not_the_object(s3_server, s3_bucket: str) -> None:
    """A 96 MiB array goes up in parts and comes down streamed: beyond the array itself, well
    under half its size is held at once (s3fs alone reads an object under 100 MiB whole, and keeps
    ten 50 MiB parts in flight); the bytes come back the same."""
    import tracemalloc

    from zenml_notebook.components.artifacts.transfer import part_options

    store = ArtifactStore("s3", f"s3://{s3_bucket}/runs", {"endpoint_url": s3_server.url}, "artifact store 's3'")
    value = np.random.default_rng(0).random(96 * 2**20 // 8)
    mat = materializer_for(value)
    options = part_options(store.fs, "s3", value.nbytes, upload=True)
    assert options["max_concurrency"] == 1 and 5 * 2**20 <= options["chunksize"] <= 10 * 2**20
    tracemalloc.start()
    try:
        store_value(store, "r/big.npy", value, mat)
        write_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        back = load_artifact(store, "r/big.npy", mat)
        read_peak = tracemalloc.get_traced_memory()[1] - back.nbytes
    finally:
        tracemalloc.stop()
    assert write_peak < 0.4 * value.nbytes, f"upload held {write_peak / 2**20:.0f} MiB"
    assert read_peak < 0.4 * value.nbytes, f"download held {read_peak / 2**20:.0f} MiB beyond the array"
    assert np.array_equal(back, value)


def test_part_sizes_go_only_to_clients_that_take_them() -> None:
    """An older gcsfs passes keywords it does not know on to GCS as query parameters, an older
    s3fs to S3 as request fields: the part options are given only where the client takes them."""
    from zenml_notebook.components.artifacts.transfer import part_options

    class OldGcs:
        async def _put_file(self, lpath, rpath, metadata=None, chunksize=50 * 2**20, callback=None, **kwargs): ...
        async def _get_file(self, rpath, lpath, callback=None, **kwargs): ...

    class NewGcs(OldGcs):
        async def _get_file_concurrent(self, *args, **kwargs): ...

    class OldS3:
        async def _put_file(self, lpath, rpath, callback=None, chunksize=50 * 2**20, **kwargs): ...
        async def _get_file(self, rpath, lpath, callback=None, version_id=None, **kwargs): ...

    size = 2 * 2**30
    assert part_options(OldGcs(), "gcs", size, upload=False) == {}
    assert part_options(NewGcs(), "gcs", size, upload=False) == {"concurrency": 1, "chunk_size": 64 * 2**20, "max_prefetch_size": 64 * 2**20}
    assert part_options(OldGcs(), "gcs", size, upload=True) == {"chunksize": 64 * 2**20}
    assert part_options(OldS3(), "s3", size, upload=True) == {"chunksize": 64 * 2**20}
    assert part_options(OldS3(), "s3", size, upload=False) == {}
    assert part_options(OldS3(), "local", size, upload=True) == {}
