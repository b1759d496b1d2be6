"""Checking, within a timeout, that an artifact store exists and is writable.

A failure says which: no credentials found, bad credentials file, bucket missing,
permission denied, endpoint unreachable (refused / no answer).
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from ...exceptions import (
    StoreConnectionError,
    StoreCredentialsError,
    StoreMissingError,
    StoreUnavailableError,
)

__all__ = ["Checked", "check_credentials_file", "check_endpoint", "classify", "verify_store"]


class Checked(Protocol):
    """What verification needs of a store (the store module implements it; this module never
    imports the store, which calls :func:`classify` and :func:`check_endpoint` in turn)."""

    flavor: str
    uri: str
    bucket: str
    root: Path
    timeout: float

    def write_bytes(self, path: str, data: bytes) -> None: ...
    def remove(self, path: str, *, recursive: bool = False) -> None: ...


def check_credentials_file(path: str) -> None:
    """A service-account (or authorized-user) JSON file, readable and well-formed."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise StoreCredentialsError(f"credentials file {path} does not exist; give the path of a service-account JSON key")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise StoreCredentialsError(f"credentials file {path} is not valid JSON; download the service-account key again") from None
    if not isinstance(data, dict) or "type" not in data:
        raise StoreCredentialsError(f"credentials file {path} is not a Google credentials file (no \"type\" field)")


def check_endpoint(url: str, timeout: float) -> None:
    """Reach a custom endpoint's TCP port before handing it to gcsfs/s3fs, which retry for long."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except ConnectionRefusedError:
        raise StoreUnavailableError(f"endpoint {url} is unreachable (connection refused); start the server or fix --endpoint-url") from None
    except TimeoutError:
        raise StoreUnavailableError(f"endpoint {url} did not answer within {timeout:g} s; check --endpoint-url") from None
    except socket.gaierror:
        raise StoreUnavailableError(f"cannot resolve the endpoint host {host!r}; check --endpoint-url") from None
    except OSError as exc:
        raise StoreUnavailableError(f"endpoint {url} is unreachable ({exc.strerror}); check --endpoint-url") from None


def _verify_folder(root: Path) -> None:
    """Create what is missing, write and delete a probe file, then remove the folders we
    created: a refused (or merely checked) registration leaves nothing behind."""
    created: list[Path] = []
    folder = root
    try:
        while not folder.exists():  # exists() itself raises for a name too long for the file system
            created.append(folder)
            folder = folder.parent
        if not folder.is_dir():
            raise StoreConnectionError(f"{folder} is a file, so the folder {root} cannot be created; pick another path")
        for path in reversed(created):
            path.mkdir()
        probe = root / f".zenml-probe-{uuid.uuid4().hex}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except StoreConnectionError:  # also an OSError: let it through as it is
        raise
    except PermissionError:
        raise StoreConnectionError(f"permission denied writing to the folder {root}; pick a folder you can write to") from None
    except OSError as exc:
        raise StoreConnectionError(f"cannot write to the folder {root} ({exc.strerror}); pick another folder") from None
    finally:
        for path in created:
            try:
                path.rmdir()
            except OSError:
                pass


def classify(store: Checked, exc: BaseException, doing: str = "write to") -> StoreConnectionError:
    """A storage library's failure, in words and as the class that picks the HTTP status."""
    name = type(exc).__name__
    text = str(exc)
    where = store.uri
    bucket = store.bucket
    if name in ("DefaultCredentialsError", "NoCredentialsError", "PartialCredentialsError", "RefreshError"):
        if store.flavor == "gcs":
            return StoreCredentialsError(
                f"no Google credentials for {where}: pass --credentials-file, use --anonymous for an emulator or public "
                "bucket, or run `gcloud auth application-default login`"
            )
        return StoreCredentialsError(
            f"no AWS credentials for {where}: pass --key/--secret (or --key-env/--secret-env), or set "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if store.flavor == "gcs" and isinstance(exc, (KeyError, ValueError)):  # google.oauth2 on a malformed key file
        return StoreCredentialsError(
            f"the Google credentials for {where} are not usable ({name}: {text[:100]}); download the service-account key again"
        )
    # S3 (s3fs turns these into PermissionError with the service's message)
    if "InvalidAccessKeyId" in text or "Access Key Id you provided does not exist" in text:
        return StoreCredentialsError(f"the access key for {where} is unknown to the server; check --key (or --key-env)")
    if "SignatureDoesNotMatch" in text or "signature we calculated does not match" in text:
        return StoreCredentialsError(f"the secret key for {where} does not match its access key; check --secret (or --secret-env)")
    if isinstance(exc, FileNotFoundError) or "NoSuchBucket" in text or ("bucket" in text.lower() and "does not exist" in text):
        return StoreMissingError(f"bucket {bucket!r} does not exist; create it, or fix the path {where}")
    if isinstance(exc, PermissionError) or "AccessDenied" in text or "Access Denied" in text or "403" in text or "401" in text:
        return StoreCredentialsError(f"permission denied to {doing} {where}; grant the credentials access to the bucket, or use other credentials")
    if name in ("EndpointConnectionError", "ClientConnectorError", "ConnectTimeoutError", "ServerTimeoutError", "ClientOSError",
                "ServerDisconnectedError", "ConnectionClosedError", "FSTimeoutError", "TimeoutError") or isinstance(exc, (ConnectionError, TimeoutError)):
        return StoreUnavailableError(f"the storage endpoint for {where} is unreachable ({name}); check the network or --endpoint-url")
    return StoreConnectionError(f"cannot {doing} {where} ({name}); check the path and the credentials")


def verify_store(store: Checked, *, timeout: float = 10.0) -> float:
    """Write and delete a probe object; returns milliseconds, or raises a classified error."""
    started = time.perf_counter()
    if store.flavor == "local":
        _verify_folder(store.root)
        return (time.perf_counter() - started) * 1000

    def probe() -> None:
        key = f".zenml-probe-{uuid.uuid4().hex}"
        store.write_bytes(key, b"ok")
        store.remove(key)

    store.timeout = timeout
    probe()  # every remote call has the store's deadline and raises classified errors
    return (time.perf_counter() - started) * 1000
