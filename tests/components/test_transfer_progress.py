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
