"""Artifact stores: a registered component becomes an :class:`ArtifactStore`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ...exceptions import StoreConnectionError
from ...secrets import is_ref, resolve
from .store import ArtifactStore, Entry, Listing, Preview

if TYPE_CHECKING:
    from ...registry import ComponentRecord
    from ...repository import Repository

__all__ = ["ArtifactStore", "Entry", "Listing", "Preview", "open_artifact_store", "verify_component", "verify_unsaved"]

VERIFY_TIMEOUT = 10.0


def _options(record: ComponentRecord, overrides: dict[str, str] | None = None) -> dict[str, Any]:
    c = record.config
    label = f"artifact store {record.name!r}"
    if record.flavor == "gcs":
        # STORAGE_EMULATOR_HOST is the emulator convention: no Google credentials there
        emulated = bool(os.environ.get("STORAGE_EMULATOR_HOST"))
        token = "anon" if c.get("anonymous") else c.get("credentials_file") or ("anon" if emulated else "google_default")
        return {"token": token, "endpoint_url": c.get("endpoint_url"), "project": c.get("project"), "timeout": c.get("timeout")}
    if record.flavor == "s3":
        values: dict[str, Any] = {}
        for field in ("key", "secret"):
            if overrides and field in overrides:
                values[field] = overrides[field]
            elif is_ref(c.get(field)):
                update = f"artifacts update {record.name} --{field}"
                values[field] = resolve(c[field], f"the {field} of {label}", update=update,
                                        missing=f"{label} needs its {field} on this machine: `%zenml {update}`")
        return {**values, "endpoint_url": c.get("endpoint_url"), "region": c.get("region"), "timeout": c.get("timeout")}
    return {}


def open_artifact_store(record: ComponentRecord, repo: Repository, *, secrets: dict[str, str] | None = None) -> ArtifactStore:
    """The store of a component; ``secrets`` are plain values not stored yet (verification)."""
    from ...flavors import DAMAGE, check_stored

    try:
        location = str(repo.resolve_path(record.config.get("path", ".zenml/artifacts"))) if record.flavor == "local" else record.config["path"]
        return ArtifactStore(record.flavor, location, _options(record, secrets), f"artifact store {record.name!r}")
    except DAMAGE:
        check_stored(record)  # names the damaged setting; a sound one re-raises below
        raise


def verify_component(record: ComponentRecord, repo: Repository, *, secrets: dict[str, str] | None = None, timeout: float = VERIFY_TIMEOUT) -> tuple[str, float]:
    """Check the store is there and writable: (what answered, milliseconds) or a classified error."""
    from .verify import check_credentials_file, verify_store

    label = f"artifact store {record.name!r}"
    try:
        if record.config.get("credentials_file"):
            check_credentials_file(record.config["credentials_file"])
        store = open_artifact_store(record, repo, secrets=secrets)
        ms = verify_store(store, timeout=timeout)
    except StoreConnectionError as exc:
        message = str(exc)
        raise type(exc)(message if message.startswith(label) else f"{label}: {message}") from None
    if store.flavor == "local" and not store.root.exists():
        return f"{store.uri} does not exist yet; it can be created and is created on the first write", ms
    return f"{store.uri} is writable", ms


def verify_unsaved(record: ComponentRecord, repo: Repository, secrets: dict[str, str]) -> None:
    """Before an artifact store is saved: reach it with the secrets just typed (if any)."""
    verify_component(record, repo, secrets=secrets)
