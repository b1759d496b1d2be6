"""Secret values live outside the repository; components keep only references.

A reference is a small JSON object stored in a component's config:

* ``{"$secret": "<id>", "store": "keyring"}`` - in the OS keyring (when usable);
* ``{"$secret": "<id>", "store": "file"}`` - in ``<config dir>/secrets.json``
  (mode 0600, never under ``.zenml/``, which people commit);
* ``{"$env": "VAR"}`` - read from an environment variable when needed.
"""

from __future__ import annotations

import json
import os
import stat
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from .exceptions import MASK, SecretError, ZenMLWarning, remember_secret

__all__ = [
    "ENV_CONFIG_DIR",
    "ENV_SECRETS_BACKEND",
    "config_dir",
    "delete_secret",
    "describe_ref",
    "env_ref",
    "is_ref",
    "mask_config",
    "resolve",
    "store_secret",
]

ENV_CONFIG_DIR = "ZENML_NOTEBOOK_CONFIG_DIR"
ENV_SECRETS_BACKEND = "ZENML_NOTEBOOK_SECRETS_BACKEND"  # "keyring" or "file"
_SERVICE = "zenml-notebook"


def config_dir() -> Path:
    """The user-level folder: ``$ZENML_NOTEBOOK_CONFIG_DIR``, else XDG, else ``~/.config``."""
    env = os.environ.get(ENV_CONFIG_DIR)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".config"
    return base / _SERVICE


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and (
        ("$secret" in value and set(value) <= {"$secret", "store"})
        or (set(value) == {"$env"})
    )


def describe_ref(ref: dict[str, Any]) -> str:
    """How a reference is shown: never the value."""
    if "$env" in ref:
        return f"{MASK} (env ${ref['$env']})"
    return f"{MASK} ({ref.get('store', 'file')})"


def mask_config(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` fit for display: every secret reference masked."""
    return {k: describe_ref(v) if is_ref(v) else v for k, v in config.items()}


def env_ref(var: str) -> dict[str, Any]:
    if not var.replace("_", "").isalnum() or var[0].isdigit():
        raise SecretError(
            f"invalid environment variable name {var!r}: use letters, digits and '_'"
        )
    return {"$env": var}


# -- backends --------------------------------------------------------------
def _keyring() -> Any | None:
    """The keyring module when a real backend is usable, else None."""
    choice = os.environ.get(ENV_SECRETS_BACKEND, "").lower()
    if choice == "file":
        return None
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        if choice == "keyring":
            raise SecretError(
                f"{ENV_SECRETS_BACKEND}=keyring but keyring is not installed; "
                "run `pip install keyring` or unset it"
            ) from None
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) < 1:
        return None
    return keyring


def _secrets_file() -> Path:
    return config_dir() / "secrets.json"


@contextmanager
def _locked_file() -> Iterator[dict[str, str]]:
    """Read-modify-write of the secrets file under an exclusive lock."""
    import fcntl

    path = _secrets_file()
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_fd = os.open(folder / ".secrets.lock", os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        raise SecretError(
            f"cannot use the secrets folder {folder}: {exc.strerror}; "
            f"set {ENV_CONFIG_DIR} to a writable folder"
        ) from None
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        data = _read_file(path)
        created = not path.exists()
        before = dict(data)
        yield data
        if data != before:
            tmp = path.with_name(f".secrets.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            if created and os.environ.get(ENV_SECRETS_BACKEND, "").lower() != "file":  # a file chosen on purpose needs no news
                warnings.warn(
                    f"no usable OS keyring: secrets are kept in {path} (mode 0600, readable "
                    "only by you); `pip install keyring` with a backend to use the keyring",
                    ZenMLWarning,
                    stacklevel=1,
                )
    finally:
        os.close(lock_fd)


def _read_file(path: Path) -> dict[str, str]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return {}
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretError(
            f"secrets file {path} is readable by other users (mode "
            f"{stat.S_IMODE(st.st_mode):04o}); run `chmod 600 {path}`"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise SecretError(
            f"secrets file {path} cannot be read as JSON; fix or remove it and set the "
            "secrets again"
        ) from None
    if not isinstance(data, dict):
        raise SecretError(f"secrets file {path} is not a JSON object; fix or remove it")
    return {str(k): str(v) for k, v in data.items()}


# -- public ----------------------------------------------------------------
def store_secret(value: str, secret_id: str | None = None) -> dict[str, Any]:
    """Keep ``value`` in the keyring or the 0600 file; return its reference.

    ``secret_id`` stores it under an existing reference's id: a teammate giving their own
    password for a component of a shared registry keeps the shared reference as it is."""
    remember_secret(value)
    secret_id = secret_id or uuid.uuid4().hex
    kr = _keyring()
    if kr is not None:
        kr.set_password(_SERVICE, secret_id, value)
        return {"$secret": secret_id, "store": "keyring"}
    with _locked_file() as data:
        data[secret_id] = value
    return {"$secret": secret_id, "store": "file"}


# Whose environment a `--passwd-env VAR` reference is read from: the Jupyter server extension
# sets "jupyter-server" for its calls, because "export it" in a notebook would not reach the
# server's environment. A context variable, so a kernel in the same process is not affected.
ENV_OWNER: ContextVar[str] = ContextVar("zenml_notebook_env_owner", default="")


def resolve(ref: dict[str, Any], what: str = "secret", *, update: str = "", missing: str = "") -> str:
    """The value behind a reference; ``what`` names it in errors, ``update`` is the command
    that stores a value instead (e.g. "metadata update NAME --passwd"), ``missing`` the whole
    message when this machine has no value for it (a teammate's reference in a shared registry)."""
    if "$env" in ref:
        value = os.environ.get(ref["$env"])
        if value is None:
            var = ref["$env"]
            other = f", or store it with `%zenml {update}`" if update else ""
            if ENV_OWNER.get() == "jupyter-server":
                raise SecretError(f"{what} comes from ${var}, but the Jupyter server's environment has no ${var}; export {var} before starting JupyterLab{other}")
            raise SecretError(f"{what} comes from ${var}, which is not set; export it{other}")
        remember_secret(value)
        return value
    secret_id = ref["$secret"]
    value_or_none: str | None = None
    kr = _keyring()
    # the reference's own store first; the other one too, since whoever shares the reference
    # (a shared registry) may keep secrets where the writer did not
    for store in ("keyring", "file") if ref.get("store") == "keyring" else ("file", "keyring"):
        if store == "keyring" and kr is not None:
            value_or_none = kr.get_password(_SERVICE, secret_id)
        elif store == "file" and _secrets_file().exists():
            with _locked_file() as data:
                value_or_none = data.get(secret_id)
        if value_or_none is not None:
            break
    if value_or_none is None:
        if missing:
            raise SecretError(missing)
        how = f"`%zenml {update}`" if update else "the component's `update` command"
        raise SecretError(f"{what} is not stored on this machine (reference {secret_id[:8]}); set it again with {how}")
    remember_secret(value_or_none)
    return value_or_none


def delete_secret(ref: dict[str, Any]) -> None:
    """Forget a stored secret (env references have nothing to delete)."""
    if "$secret" not in ref:
        return
    if ref.get("store") == "keyring":
        kr = _keyring()
        if kr is not None:
            try:
                kr.delete_password(_SERVICE, ref["$secret"])
            except kr.errors.PasswordDeleteError:
                pass
        return
    with _locked_file() as data:
        data.pop(ref["$secret"], None)
