"""The settings options of each component kind, and the values a command line gives them
(secrets prompted, referenced from the environment, or typed inline with a warning)."""

from __future__ import annotations

import argparse
import warnings
from typing import Any

from ..exceptions import UsageError, ZenMLWarning
from ..secrets import env_ref
from ._base import PROMPT

__all__ = ["OPTIONS", "secret_option", "settings_from"]


def secret_option(parser: argparse.ArgumentParser, *flags: str, dest: str, what: str) -> None:
    parser.add_argument(
        *flags, dest=dest, nargs="?", const=PROMPT, metavar="VALUE",
        help=f"{what}; without VALUE you are prompted (keeps it out of cells and history)",
    )
    parser.add_argument(
        f"{flags[0]}-env", dest=f"{dest}_env", metavar="VAR",
        help=f"read the {what} from environment variable VAR when needed",
    )


def _metadata_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--uri", help="sqlite: database file (default .zenml/metadata.db)")
    p.add_argument("--host", help="mysql/postgresql: server host")
    p.add_argument("--port", help="mysql/postgresql: server port (default 3306 / 5432)")
    p.add_argument("--username", "--user", dest="username", help="mysql/postgresql: user name")
    secret_option(p, "--passwd", "--password", dest="password", what="database password")
    p.add_argument("--database", help="mysql/postgresql: database name")
    p.add_argument("--sslmode", help="postgresql: disable, allow, prefer, require, verify-ca or verify-full")
    p.add_argument("--ssl-ca", "--ssl_ca", dest="ssl_ca", help="mysql/postgresql: CA certificate file")
    p.add_argument("--connect-timeout", dest="connect_timeout", help="mysql/postgresql: seconds (default 5)")
    p.add_argument("--query-timeout", dest="query_timeout", help="mysql/postgresql: seconds a metadata call may take (default 30)")


def _artifact_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--credentials-file", dest="credentials_file", help="gcs: service-account JSON")
    p.add_argument("--anonymous", action="store_true", default=None, help="gcs: no credentials")
    p.add_argument("--endpoint-url", dest="endpoint_url", help="gcs/s3: custom endpoint")
    p.add_argument("--project", help="gcs: project id")
    p.add_argument("--region", help="s3: region")
    p.add_argument("--timeout", help="gcs/s3: seconds a storage call may take (default 10)")
    secret_option(p, "--key", dest="key", what="s3 access key id")
    secret_option(p, "--secret", dest="secret", what="s3 secret access key")


def _orchestrator_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scheduler-address", "--scheduler_address", dest="scheduler_address",
                   help="dask: tcp://host:8786 of a running scheduler")
    p.add_argument("--n-workers", "--n_workers", dest="n_workers",
                   help="dask: start a local cluster with N workers (default 2)")


def _tracker_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tracking-uri", "--tracking_uri", dest="tracking_uri", help="mlflow: http(s)://host:port of the tracking server")
    p.add_argument("--experiment", help="mlflow: experiment name (default: the pipeline's name)")
    p.add_argument("--username", "--user", dest="username", help="mlflow: user name (basic auth)")
    secret_option(p, "--passwd", "--password", dest="password", what="tracking server password")
    p.add_argument("--timeout", help="mlflow: seconds mirroring a run may add to its end (default 10)")


OPTIONS = {
    "metadata_store": (_metadata_options, ("uri", "host", "port", "username", "password", "database", "sslmode", "ssl_ca", "connect_timeout",
                                           "query_timeout")),
    "artifact_store": (_artifact_options, ("path", "credentials_file", "anonymous", "endpoint_url", "project", "region", "key", "secret", "timeout")),
    "orchestrator": (_orchestrator_options, ("scheduler_address", "n_workers")),
    "experiment_tracker": (_tracker_options, ("tracking_uri", "experiment", "username", "password", "timeout")),
}
SECRET_OPTIONS = {"password": "--passwd", "key": "--key", "secret": "--secret"}


def settings_from(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """The config values given on the command line; secrets prompted or referenced."""
    values: dict[str, Any] = {}
    for field in OPTIONS[kind][1]:
        value = getattr(args, field, None)
        env_var = getattr(args, f"{field}_env", None)
        if field in SECRET_OPTIONS:
            if env_var is not None:
                if value is not None:
                    raise UsageError(f"give {SECRET_OPTIONS[field]} or {SECRET_OPTIONS[field]}-env, not both")
                value = env_ref(env_var)
            elif value is PROMPT:
                import getpass

                value = getpass.getpass(f"{field}: ")
            elif value is not None:
                form = {"metadata_store": ", or `%zenml form mysql` in a notebook", "artifact_store": ", or `%zenml form artifacts` in a notebook",
                        "experiment_tracker": ", or `%zenml form tracker` in a notebook"}
                warnings.warn(
                    f"{SECRET_OPTIONS[field]} typed inline is now in this cell or your shell "
                    f"history; next time give {SECRET_OPTIONS[field]} without a value to be "
                    f"prompted, {SECRET_OPTIONS[field]}-env VAR to read it from the environment{form.get(kind, '')}",
                    ZenMLWarning, stacklevel=2,
                )
        if value is not None:
            values[field] = value
    return values


