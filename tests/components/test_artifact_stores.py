"""Artifact stores end to end: local symlinks and siblings, the seed's one-liner against the
GCS emulator (and its S3 twin on moto), classified verification failures, SIGKILL mid-write."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from IPython.core.error import UsageError

from zenml_notebook.components.artifacts import open_artifact_store
from zenml_notebook.exceptions import UsageError as StoreUsageError
from zenml_notebook.registry import ComponentRecord
from zenml_notebook.repository import Repository


def local_store(root: Path, workdir: Path):
    return open_artifact_store(ComponentRecord("artifact_store", "a", "local", {"path": str(root)}), Repository(workdir))


def test_symlinks_out_of_a_local_store_are_not_followed(workdir: Path, tmp_path: Path) -> None:
    root = tmp_path / "art"
    (root / "ok").mkdir(parents=True)
    (root / "ok" / "fine.txt").write_text("fine")
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    (root / "leak").symlink_to(secret)
    (root / "dangling").symlink_to(tmp_path / "does-not-exist")
    (root / "dirlink").symlink_to(tmp_path)
    store = local_store(root, workdir)
    for path in ("leak", "dangling", "dirlink/secret.txt", "dirlink"):
        with pytest.raises(StoreUsageError, match="symlink"):
            store.read_bytes(path)
        with pytest.raises(StoreUsageError, match="symlink"):
            store.preview(path)
    with pytest.raises(StoreUsageError, match="symlink"):
        store.list("dirlink")
    kinds = {e.name: (e.kind, e.size) for e in store.list("").entries}
    assert kinds["leak"] == ("link", None) and kinds["dangling"] == ("link", None) and kinds["ok"] == ("folder", None)
    with pytest.raises(StoreUsageError, match="symlink"):
        store.write_bytes("dirlink/new.txt", b"x")
    assert not (tmp_path / "new.txt").exists()
    assert store.read_bytes("ok/fine.txt") == b"fine"


def test_sibling_folder_with_the_same_prefix_is_outside(workdir: Path, tmp_path: Path) -> None:
    root = tmp_path / "d" / "art"
    root.mkdir(parents=True)
    evil = tmp_path / "d" / "art-evil"
    evil.mkdir()
    (evil / "x.txt").write_text("evil")
    (root / "to-evil").symlink_to(evil)
    store = local_store(root, workdir)
    with pytest.raises(StoreUsageError, match="outside the artifact store"):
        store.read_bytes("to-evil/x.txt")
    with pytest.raises(StoreUsageError, match="leaves the store"):
        store.read_bytes("../art-evil/x.txt")


def test_remote_uris_are_normalised_and_kept_in_their_bucket(shell, repo: Path) -> None:
    for bad in ("gs://bucket/prefix/../../other", "s3://bucket/a/./b", "gs://bucket/p?x=1", "gs://bucket/p#frag"):
        with pytest.raises(UsageError):
            shell.run_line_magic("zenml", f"artifacts register x --path '{bad}' --no-verify")
    shell.run_line_magic("zenml", "artifacts register x --path gs://bucket//a///b/ --no-verify")
    store = open_artifact_store(*_record_and_repo("x", repo))
    assert store.full_uri("c/d.txt") == "gs://bucket/a/b/c/d.txt"
    with pytest.raises(StoreUsageError, match="leaves the store"):
        store.full_uri("c/../../../other/x")


def _record_and_repo(name: str, repo: Path):
    from zenml_notebook import api

    return api.get_component("artifact_store", name)[0], Repository(repo)


# -- the seed's one-liner, end to end --------------------------------------------------------
def test_seed_gcs_one_liner_against_the_emulator(shell, repo: Path, gcs_server, monkeypatch, capsys) -> None:
    import gcsfs

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.url)
    fs = gcsfs.GCSFileSystem(token="anon", endpoint_url=gcs_server.url, skip_instance_cache=True)
    if not fs.exists("your-bucket"):
        fs.mkdir("your-bucket")
    shell.run_cell_magic("zenml", "", "zenml config artifacts set gs://your-bucket/sub/dir\n")
    assert capsys.readouterr().out == (
        "active stack 'default': artifact store 'default' (local) -> 'default-gcs' (gcs: anonymous=False, "
        "path=gs://your-bucket/sub/dir), registered\n"
    )
    shell.run_line_magic("zenml", "artifacts test")
    assert capsys.readouterr().out.startswith("artifact store 'default-gcs' (gcs): OK - gs://your-bucket/sub/dir is writable, ")
    from zenml_notebook import api

    api.artifact_store().write_bytes("run-1/metrics.json", b'{"accuracy": 0.9}')
    assert fs.cat("your-bucket/sub/dir/run-1/metrics.json") == b'{"accuracy": 0.9}'
    table = shell.run_line_magic("zenml", "artifacts ls run-1")
    assert table.title == "gs://your-bucket/sub/dir/run-1 (entries 1-1 of 1)"
    assert table.rows[0][:3] == ["metrics.json", "file", "17 B"]
    preview = shell.run_line_magic("zenml", "artifacts preview run-1/metrics.json")
    assert '"accuracy": 0.9' in repr(preview)


def test_seed_one_liner_on_s3(shell, repo: Path, s3_server, s3_bucket: str, capsys) -> None:
    shell.run_line_magic("zenml", f"config artifacts set s3://{s3_bucket}/sub/dir --endpoint-url {s3_server.url}")
    assert capsys.readouterr().out.endswith(f"path=s3://{s3_bucket}/sub/dir), registered\n")
    shell.run_line_magic("zenml", "artifacts test")
    assert "OK - s3://" in capsys.readouterr().out
    from zenml_notebook import api

    api.artifact_store().write_bytes("a/b.txt", b"hello")
    assert [r[0] for r in shell.run_line_magic("zenml", "artifacts ls a").rows] == ["b.txt"]


# -- verification failures, each a clear message within the timeout ----------------------------
def _refused_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _fails(shell, line: str, seconds: float = 11.0) -> str:
    started = time.monotonic()
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("zenml", line)
    assert time.monotonic() - started < seconds
    return str(info.value)


def test_missing_bucket(shell, repo: Path, gcs_server, s3_server, monkeypatch) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.url)
    assert _fails(shell, "config artifacts set gs://no-such-bucket/x") == (
        "artifact store 'default-gcs': bucket 'no-such-bucket' does not exist; create it, or fix the path gs://no-such-bucket/x"
    )
    assert _fails(shell, f"artifacts register s --path s3://no-such-bucket/x --endpoint-url {s3_server.url}") == (
        "artifact store 's': bucket 'no-such-bucket' does not exist; create it, or fix the path s3://no-such-bucket/x"
    )
    assert "default-gcs" not in repr(shell.run_line_magic("zenml", "artifacts list"))


def test_unreachable_endpoint(shell, repo: Path, monkeypatch) -> None:
    port = _refused_port()
    assert _fails(shell, f"artifacts register s --path s3://bkt/x --endpoint-url http://127.0.0.1:{port}", 3) == (
        f"artifact store 's': endpoint http://127.0.0.1:{port} is unreachable (connection refused); start the server or fix --endpoint-url"
    )
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{port}")
    assert _fails(shell, "config artifacts set gs://bkt/x", 3) == (
        f"artifact store 'default-gcs': endpoint http://127.0.0.1:{port} is unreachable (connection refused); start the server or fix --endpoint-url"
    )


def test_bad_credentials_file(shell, repo: Path, gcs_server, gcs_bucket: str, tmp_path: Path) -> None:
    assert _fails(shell, f"artifacts register g --path gs://{gcs_bucket}/x --credentials-file {tmp_path}/nope.json") == (
        f"artifact store 'g': credentials file {tmp_path}/nope.json does not exist; give the path of a service-account JSON key"
    )
    (tmp_path / "bad.json").write_text("{not json")
    assert _fails(shell, f"artifacts register g --path gs://{gcs_bucket}/x --credentials-file {tmp_path}/bad.json") == (
        f"artifact store 'g': credentials file {tmp_path}/bad.json is not valid JSON; download the service-account key again"
    )


def test_no_credentials(shell, repo: Path, s3_server, s3_bucket: str, monkeypatch, tmp_path: Path) -> None:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    assert _fails(shell, f"artifacts register s --path s3://{s3_bucket}/x --endpoint-url {s3_server.url}") == (
        f"artifact store 's': no AWS credentials for s3://{s3_bucket}/x: pass --key/--secret (or --key-env/--secret-env), "
        "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    )
    shell.run_line_magic("zenml", f"artifacts register s --path s3://{s3_bucket}/x --endpoint-url {s3_server.url} --key-env MY_KEY --secret-env MY_SECRET --no-verify")
    monkeypatch.setenv("MY_KEY", "testing")
    monkeypatch.setenv("MY_SECRET", "testing")
    shell.run_line_magic("zenml", "artifacts test s")  # the env references resolve now: no error


def test_local_verification(shell, repo: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    assert _fails(shell, f"config artifacts set {tmp_path}/afile/sub") == (
        f"artifact store 'default-local': {tmp_path}/afile is a file, so the folder {tmp_path}/afile/sub cannot be created; pick another path"
    )
    shell.run_line_magic("zenml", f"config artifacts set {tmp_path}/new/deeper")
    assert not (tmp_path / "new").exists()  # checked, then left as it was; created on first write


# -- a writer killed mid-way ---------------------------------------------------------------------
def test_sigkill_mid_write_leaves_no_final_artifact(workdir: Path, tmp_path: Path) -> None:
    root = tmp_path / "art"
    code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from zenml_notebook.components.artifacts import open_artifact_store
        from zenml_notebook.registry import ComponentRecord
        from zenml_notebook.repository import Repository
        store = open_artifact_store(ComponentRecord("artifact_store", "a", "local", {{"path": {str(root)!r}}}), Repository(Path({str(workdir)!r})))
        chunk = b"x" * (1024 * 1024)
        with store.open_write("model/weights.bin") as fh:
            for i in range(200):
                fh.write(chunk)
                if i == 20:
                    print("writing", flush=True)
                time.sleep(0.01)
        print("done", flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (root / "model" / "weights.bin").exists()
    leftovers = list((root / "model").iterdir())
    assert leftovers and all(p.name.endswith(".partial") for p in leftovers)
    store = local_store(root, workdir)
    assert store.list("model").entries == []  # partial files are never listed
    assert not store.exists("model/weights.bin")


@pytest.fixture(scope="module")
def s3_with_iam(tmp_path_factory: pytest.TempPathFactory):
    """A second moto server that enforces IAM after its first four requests (moto's
    INITIAL_NO_AUTH_ACTION_COUNT): a bucket, a user, its key, and a read-only policy."""
    import json

    import boto3

    from ..services import start_moto

    server = start_moto(tmp_path_factory.mktemp("moto-iam"), env={"INITIAL_NO_AUTH_ACTION_COUNT": "4"})
    try:
        boto3.client("s3", endpoint_url=server.url).create_bucket(Bucket="locked")
        iam = boto3.client("iam", endpoint_url=server.url)
        iam.create_user(UserName="reader")
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        iam.put_user_policy(UserName="reader", PolicyName="read-only", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": "*"}],
        }))
        yield server, key["AccessKeyId"], key["SecretAccessKey"]
    finally:
        server.stop()


def test_s3_permission_denied_and_rejected_keys(shell, repo: Path, s3_with_iam, monkeypatch) -> None:
    server, key, secret = s3_with_iam
    register = f"artifacts register ro --path s3://locked/x --endpoint-url {server.url} --key-env RO_KEY --secret-env RO_SECRET"
    monkeypatch.setenv("RO_KEY", key)
    monkeypatch.setenv("RO_SECRET", secret)
    assert _fails(shell, register) == (
        "artifact store 'ro': permission denied to write to s3://locked/x; grant the credentials access to the bucket, or use other credentials"
    )
    monkeypatch.setenv("RO_KEY", "AKIAUNKNOWNKEY000000")
    assert _fails(shell, register) == "artifact store 'ro': the access key for s3://locked/x is unknown to the server; check --key (or --key-env)"
    monkeypatch.setenv("RO_KEY", key)
    monkeypatch.setenv("RO_SECRET", "not-the-secret-at-all")
    message = _fails(shell, register)
    assert message == "artifact store 'ro': the secret key for s3://locked/x does not match its access key; check --secret (or --secret-env)"
    from zenml_notebook import api

    assert "ro" not in [c.name for c in api.list_components("artifact_store")[0]]
