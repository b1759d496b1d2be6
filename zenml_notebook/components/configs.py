"""Frozen pydantic config models, one per flavor (``extra="forbid"``).

Secret fields hold references (see :mod:`zenml_notebook.secrets`), never values;
they are marked ``json_schema_extra={"secret": True}`` so the API knows which
plain values to move into the secret store before validation.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ..constants import PG_SYSTEM_DATABASES, SYSTEM_DATABASES
from ..secrets import is_ref
from ..uris import is_remote_address, parse_artifact_uri

__all__ = [
    "BuiltinTrackerConfig",
    "DaskOrchestratorConfig",
    "GCSArtifactStoreConfig",
    "LocalArtifactStoreConfig",
    "LocalOrchestratorConfig",
    "MLflowTrackerConfig",
    "MySQLMetadataStoreConfig",
    "PostgreSQLMetadataStoreConfig",
    "S3ArtifactStoreConfig",
    "SQLiteMetadataStoreConfig",
    "secret_fields",
]

_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]+\]?$")
_DB = re.compile(r"^[A-Za-z0-9_$]{1,64}$")


def _port(value: Any) -> int:
    try:
        port = int(str(value).strip())
    except ValueError:
        raise ValueError(f"must be an integer from 1 to 65535 (got {value!r})") from None
    if not 1 <= port <= 65535:
        raise ValueError(f"must be an integer from 1 to 65535 (got {port})")
    return port


def _host(value: str) -> str:
    if not _HOST.match(value):
        raise ValueError(f"{value!r} is not a host name or IP address")
    return value




def database_problem(value: str) -> str | None:
    """Why ``value`` cannot be a MySQL database of ours, or None."""
    if not _DB.match(value):
        return "use up to 64 letters, digits, '_', '$'"
    if value.lower() in SYSTEM_DATABASES:
        return "it is the server's own system schema; use a database of your own"
    return None


def _database(value: str) -> str:
    problem = database_problem(value)
    if problem is not None:
        raise ValueError(f"{value[:80]!r} is not a database name: {problem}")
    return value


def _ref(value: Any) -> Any:
    if value is not None and not is_ref(value):
        raise ValueError("must be a secret reference (the API stores plain values for you)")
    return value


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _text(value: str) -> str:
    if len(value) > 4096:
        raise ValueError(f"is {len(value)} characters long; at most 4096")
    return value


Port = Annotated[int, BeforeValidator(_port)]
Host = Annotated[str, AfterValidator(_host)]
SecretRef = Annotated[dict[str, str] | None, AfterValidator(_ref)]
NonEmpty = Annotated[str, AfterValidator(_non_empty), AfterValidator(_text)]
Text = Annotated[str, AfterValidator(_text)]


def _secret(description: str) -> Any:
    return Field(None, description=description, json_schema_extra={"secret": True})


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def secret_fields(model: type[BaseModel]) -> list[str]:
    """Names of the fields of ``model`` that hold secret references."""
    return [
        name
        for name, info in model.model_fields.items()
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("secret")
    ]


# -- metadata stores -------------------------------------------------------
class SQLiteMetadataStoreConfig(_Config):
    """ml-metadata on a SQLite file; relative paths are relative to the repository."""

    uri: NonEmpty = ".zenml/metadata.db"


class MySQLMetadataStoreConfig(_Config):
    """ml-metadata on a MySQL (>= 5.6) or MariaDB server."""

    host: Host
    port: Port = 3306
    username: NonEmpty
    password: SecretRef = _secret("the user's password")
    database: Annotated[str, AfterValidator(_database)]
    ssl_ca: Text | None = None
    connect_timeout: float = Field(5.0, gt=0, le=300)
    # unset means the default (30 s), so existing settings and their summaries stay as they were
    query_timeout: float | None = Field(None, gt=0, le=3600, description="seconds a metadata call may take (default 30)")


_PG_DB = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def _pg_database(value: str) -> str:
    if not _PG_DB.match(value):
        raise ValueError(f"{value[:80]!r} is not a database name: use up to 63 letters, digits, '_' or '$', starting with a letter or '_'")
    if value.lower() in PG_SYSTEM_DATABASES:
        raise ValueError(f"{value!r} is the server's own database; use a database of your own")
    return value


def _sslmode(value: str) -> str:
    if value not in SSLMODES:
        raise ValueError(f"must be one of {', '.join(SSLMODES)} (got {value[:40]!r})")
    return value


class PostgreSQLMetadataStoreConfig(_Config):
    """ml-metadata on a PostgreSQL (>= 12) server."""

    host: Host
    port: Port = 5432
    username: NonEmpty
    password: SecretRef = _secret("the user's password")
    database: Annotated[str, AfterValidator(_pg_database)]
    sslmode: Annotated[str, AfterValidator(_sslmode)] | None = None
    ssl_ca: Text | None = None
    connect_timeout: float = Field(5.0, gt=0, le=300)
    query_timeout: float | None = Field(None, gt=0, le=3600, description="seconds a metadata call may take (default 30)")


# -- artifact stores -------------------------------------------------------
def _location(flavor: str) -> Any:
    def check(value: str) -> str:
        _text(value)
        parsed = parse_artifact_uri(value)  # raises a UsageError naming the problem
        if parsed.flavor != flavor:
            raise ValueError(f"{value!r} is a {parsed.flavor} location, not {flavor}")
        return value if flavor == "local" else str(parsed)

    return AfterValidator(check)


class LocalArtifactStoreConfig(_Config):
    """A folder; relative paths are relative to the repository."""

    path: Annotated[str, _location("local")] = ".zenml/artifacts"


class GCSArtifactStoreConfig(_Config):
    """A ``gs://bucket/prefix`` location through gcsfs."""

    path: Annotated[str, _location("gcs")]
    credentials_file: Text | None = Field(None, description="service-account JSON file")
    anonymous: bool = False
    endpoint_url: Text | None = None
    project: Text | None = None
    timeout: float | None = Field(None, gt=0, le=3600, description="seconds a storage call may take (default 10)")


class S3ArtifactStoreConfig(_Config):
    """An ``s3://bucket/prefix`` location through s3fs."""

    path: Annotated[str, _location("s3")]
    key: SecretRef = _secret("access key id")
    secret: SecretRef = _secret("secret access key")
    endpoint_url: Text | None = None
    region: Text | None = None
    timeout: float | None = Field(None, gt=0, le=3600, description="seconds a storage call may take (default 10)")


# -- orchestrators ---------------------------------------------------------
class LocalOrchestratorConfig(_Config):
    """Runs steps in the current process, in topological order."""


class DaskOrchestratorConfig(_Config):
    """A Dask scheduler at ``scheduler_address``, or a LocalCluster of ``n_workers``."""

    scheduler_address: str | None = None
    n_workers: int | None = Field(None, ge=1, le=256)

    @model_validator(mode="after")
    def _one_of(self) -> DaskOrchestratorConfig:
        if self.scheduler_address is not None and self.n_workers is not None:
            raise ValueError("give either scheduler_address or n_workers, not both")
        if self.scheduler_address is not None:
            parts = urlsplit(self.scheduler_address)
            if parts.scheme not in ("tcp", "tls") or not parts.hostname or parts.port is None:
                raise ValueError(
                    f"scheduler_address {self.scheduler_address!r} must look like "
                    "tcp://host:8786"
                )
        return self

    @property
    def is_remote(self) -> bool:
        """True when the scheduler is on another machine (not loopback)."""
        return is_remote_address(self.scheduler_address)


# -- experiment trackers ------------------------------------------------------
class BuiltinTrackerConfig(_Config):
    """Metrics, parameters and tags kept beside the run, in its own stores (no settings)."""


def _tracking_uri(value: str) -> str:
    _text(value)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value[:80]!r} is not an http(s):// address of an MLflow tracking server (like http://127.0.0.1:5000)")
    if parts.username or parts.password:
        raise ValueError("must not carry a user name or password; give them with --username and --passwd")
    if parts.query or parts.fragment:
        raise ValueError("must be the server's address without ?query or #fragment")
    try:
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    return value.rstrip("/")


_EXPERIMENT = re.compile(r"^[^\x00-\x1f<>\x7f]{1,250}$")


def _experiment(value: str) -> str:
    if not _EXPERIMENT.match(value) or not value.strip():
        raise ValueError(f"{value[:80]!r} is not an experiment name: use 1-250 printable characters, no '<' or '>'")
    return value


class MLflowTrackerConfig(_Config):
    """Mirror each run to an MLflow tracking server: a parent MLflow run per pipeline run, a
    nested one per step (through MLflow's REST API; no mlflow package needed)."""

    tracking_uri: Annotated[str, AfterValidator(_tracking_uri)]
    experiment: Annotated[str, AfterValidator(_experiment)] | None = Field(None, description="MLflow experiment (default: the pipeline's name)")
    username: Text | None = None
    password: SecretRef = _secret("the tracking server's password")
    timeout: float | None = Field(None, gt=0, le=600, description="seconds mirroring a run may take (default 10)")
