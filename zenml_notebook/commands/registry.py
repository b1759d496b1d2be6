"""``registry ...``: where this repository's stacks and components live - its own file, or a
team's shared MySQL/MariaDB or PostgreSQL database (connect, show, disconnect, copy-to)."""

from __future__ import annotations

import argparse
import warnings
from typing import Any

from .. import api
from ..display import Details, Message
from ..exceptions import UsageError, ZenMLWarning, remember_secret
from ._base import PROMPT, Handler, add, subcommands
from .options import secret_option

__all__ = ["add_parsers"]


def _password(args: argparse.Namespace) -> str | dict[str, Any] | None:
    from ..secrets import env_ref

    if args.password_env is not None:
        if args.password is not None:
            raise UsageError("give --passwd or --passwd-env, not both")
        return env_ref(args.password_env)
    if args.password is PROMPT:
        import getpass

        return getpass.getpass("password: ")
    if args.password is not None:
        warnings.warn(
            "--passwd typed inline is now in this cell or your shell history; next time give --passwd "
            "without a value to be prompted, or --passwd-env VAR to read it from the environment",
            ZenMLWarning, stacklevel=2,
        )
        remember_secret(args.password)
    return str(args.password)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {"password": _password(args), "connect_timeout": args.connect_timeout, "ssl_ca": args.ssl_ca, "lock_timeout": args.lock_timeout}


def _show(args: argparse.Namespace) -> Details:
    status = api.registry_status()
    items: list[tuple[str, Any]]
    if status.kind == "local":
        items = [("kind", "local (this repository's own)"), ("file", status.url)]
    else:
        state = f"unreachable: {status.error}" if status.error else "stale copy (the server did not answer)" if status.stale else "reachable"
        items = [("kind", "shared"), ("url", status.url), ("password", status.password or "(none)"), ("state", state)]
    items += [("stacks", status.stacks), ("components", status.components)]
    return Details("registry", [("", items)])


def _connect(args: argparse.Namespace) -> Message:
    status, notes = api.connect_registry(args.url, **_options(args))
    return Message("\n".join([f"connected to the shared registry {status.url}: {status.stacks} stack(s), {status.components} component(s)", *notes]))


def _copy_to(args: argparse.Namespace) -> Message:
    copied, skipped, secret_commands = api.copy_registry_to(args.url, **_options(args))
    lines = [f"copied {len(copied)} to {args.url}: {', '.join(copied) or 'nothing new'}"]
    if skipped:
        lines.append(f"already there, identical: {', '.join(skipped)}")
    if secret_commands:
        lines.append(f"secrets stay on this machine; each teammate gives their own with {', '.join(secret_commands)}")
    lines.append(f"use it here with `registry connect {args.url} --passwd`")
    return Message("\n".join(lines))


_REGISTRY: dict[str, Handler] = {
    "show": _show,
    "connect": _connect,
    "disconnect": lambda a: Message(f"disconnected from {api.disconnect_registry()}; this repository uses its own registry again"),
    "copy-to": _copy_to,
}


def add_parsers(sub: Any) -> None:
    reg = sub.add_parser(
        "registry", help="share stacks with a team through a MySQL/MariaDB or PostgreSQL database",
        description="Where stacks and components live: this repository's own file, or a shared MySQL/MariaDB or PostgreSQL database.",
    )
    rs = subcommands(reg, "action")
    add(rs, "show", "where this repository's stacks and components live", _REGISTRY["show"])
    add(rs, "disconnect", "use this repository's own registry again", _REGISTRY["disconnect"])
    for name, help_ in (
        ("connect", "keep stacks and components in a shared registry (mysql:// or postgresql://USER@HOST:PORT/DATABASE)"),
        ("copy-to", "copy this repository's stacks and components into a shared registry"),
    ):
        p = add(rs, name, help_, _REGISTRY[name])
        p.add_argument("url", metavar="URL", help="mysql://USER@HOST:PORT/DATABASE or postgresql://USER@HOST:PORT/DATABASE (no password in it)")
        secret_option(p, "--passwd", "--password", dest="password", what="database password")
        p.add_argument("--connect-timeout", dest="connect_timeout", type=float, metavar="SECONDS", help="seconds any registry call may take (default 5)")
        p.add_argument("--lock-timeout", dest="lock_timeout", type=float, metavar="SECONDS",
                       help="seconds a change waits for another writer's to finish (default 30)")
        p.add_argument("--ssl-ca", dest="ssl_ca", metavar="FILE", help="CA certificate file for TLS")
