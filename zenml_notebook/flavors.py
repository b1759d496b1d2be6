"""The flavor table: ``(kind, flavor) -> config model``, imported on first use.

Like fsspec's registry: a sorted table of strings, exposed read-only, so that
listing flavors costs nothing and a flavor's dependencies load only when used.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .exceptions import NotFoundError, RegistryError, UsageError
from .kinds import ALIASES, COMMAND_OF_KIND, KIND_LABELS, KINDS

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = [
    "COMMAND_OF_KIND",
    "DAMAGE",
    "FLAVORS",
    "KINDS",
    "KIND_LABELS",
    "behaviour",
    "check_dependency",
    "check_stored",
    "config_model",
    "did_you_mean",
    "flavors_of",
    "normalize_kind",
    "spec",
]

_CONFIGS = "zenml_notebook.components.configs"

_MD = "zenml_notebook.components.metadata"
_ART = "zenml_notebook.components.artifacts"
_RUN = "zenml_notebook.pipelines.runner"
_CLU = "zenml_notebook.pipelines.clusters"
_TRK = "zenml_notebook.components.trackers"

# Each entry names, as lazy "module:attribute" strings, what the flavor *does*:
#   config  - its frozen pydantic settings model
#   open    - (record, repo) -> the live store / the function that runs a graph
#   check   - (record, repo) -> (what answered, ms): reach the store now (`test`)
#   verify  - (record, repo, plain secrets) -> None: reach it before saving (register/update)
#   stop    - (record) -> str: release what this process started for it (`orchestrator stop`)
#   module, extra - the optional dependency and the pip extra that installs it
#   local_path - the setting that names a local path (stored relative to the repository), if any
#   writer  - (record, repo) -> a process that records a long run's steps while this one runs the next (optional)
# Adding a flavor touches this table (and its modules), not `if flavor == ...` branches.
FLAVORS: MappingProxyType[tuple[str, str], MappingProxyType[str, str]] = MappingProxyType(
    {
        ("artifact_store", "gcs"): MappingProxyType({
            "config": f"{_CONFIGS}:GCSArtifactStoreConfig", "open": f"{_ART}:open_artifact_store",
            "check": f"{_ART}:verify_component", "verify": f"{_ART}:verify_unsaved", "stop": "", "module": "gcsfs", "extra": "",
        }),
        ("artifact_store", "local"): MappingProxyType({
            "config": f"{_CONFIGS}:LocalArtifactStoreConfig", "open": f"{_ART}:open_artifact_store",
            "check": f"{_ART}:verify_component", "verify": f"{_ART}:verify_unsaved", "stop": "", "module": "", "extra": "", "local_path": "path",
        }),
        ("artifact_store", "s3"): MappingProxyType({
            "config": f"{_CONFIGS}:S3ArtifactStoreConfig", "open": f"{_ART}:open_artifact_store",
            "check": f"{_ART}:verify_component", "verify": f"{_ART}:verify_unsaved", "stop": "", "module": "s3fs", "extra": "s3",
        }),
        ("metadata_store", "mysql"): MappingProxyType({
            "config": f"{_CONFIGS}:MySQLMetadataStoreConfig", "open": f"{_MD}:open_in_worker",
            "check": f"{_MD}:check_in_worker", "verify": f"{_MD}:verify_unsaved", "stop": "", "module": "pymysql", "extra": "",
        }),
        ("metadata_store", "postgresql"): MappingProxyType({
            "config": f"{_CONFIGS}:PostgreSQLMetadataStoreConfig", "open": f"{_MD}:open_in_worker",
            "check": f"{_MD}:check_in_worker", "verify": f"{_MD}:verify_unsaved", "stop": "", "module": "psycopg", "extra": "postgresql",
        }),
        ("metadata_store", "sqlite"): MappingProxyType({
            "config": f"{_CONFIGS}:SQLiteMetadataStoreConfig", "open": f"{_MD}:open_sqlite",
            "check": f"{_MD}:check_sqlite", "verify": f"{_MD}:verify_sqlite", "stop": "", "module": "", "extra": "", "local_path": "uri",
            "writer": f"{_MD}:sqlite_writer",
        }),
        # open: (record, repo) -> mirror(run) called when a run ends (None: nothing to mirror)
        ("experiment_tracker", "builtin"): MappingProxyType({
            "config": f"{_CONFIGS}:BuiltinTrackerConfig", "open": "", "check": "", "verify": "", "stop": "", "module": "", "extra": "",
        }),
        ("experiment_tracker", "mlflow"): MappingProxyType({
            "config": f"{_CONFIGS}:MLflowTrackerConfig", "open": f"{_TRK}:open_tracker", "check": f"{_TRK}:check_tracker",
            "verify": f"{_TRK}:verify_unsaved", "stop": "", "module": "", "extra": "",
        }),
        ("orchestrator", "dask"): MappingProxyType({
            "config": f"{_CONFIGS}:DaskOrchestratorConfig", "open": f"{_RUN}:run_dask", "check": "", "verify": "", "stop": f"{_CLU}:stop_component",
            "module": "distributed", "extra": "dask",
        }),
        ("orchestrator", "local"): MappingProxyType({
            "config": f"{_CONFIGS}:LocalOrchestratorConfig", "open": f"{_RUN}:run_local", "check": "", "verify": "", "stop": "",
            "module": "", "extra": "",
        }),
    }
)

# the command word of each kind (`%zenml metadata ...`): the one copy (the sidebar gets it over REST)
_KIND_ALIASES = ALIASES


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'x'?)`` or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def normalize_kind(kind: str) -> str:
    try:
        return _KIND_ALIASES[kind]
    except KeyError:
        raise UsageError(
            f"unknown component kind {kind!r}{did_you_mean(kind, list(_KIND_ALIASES))}; "
            f"use one of: {', '.join(KINDS)}"
        ) from None


def flavors_of(kind: str) -> list[str]:
    return sorted(f for k, f in FLAVORS if k == kind)


def _entry(kind: str, flavor: str) -> MappingProxyType[str, str]:
    try:
        return FLAVORS[(kind, flavor)]
    except KeyError:
        known = flavors_of(kind)
        raise NotFoundError(
            f"unknown {KIND_LABELS[kind]} flavor {flavor!r}{did_you_mean(flavor, known)}; "
            f"available: {', '.join(known)}"
        ) from None


def behaviour(kind: str, flavor: str, what: str) -> Any:
    """What the flavor does for ``what`` ("open", "check", "verify"), imported now; None when
    the flavor has nothing to do there. An unknown flavor (a hand-edited or newer registry)
    is refused, naming it and this version - never silently run as another flavor."""
    try:
        entry = FLAVORS[(kind, flavor)]
    except KeyError:
        from ._version import __version__

        known = flavors_of(kind)
        raise NotFoundError(
            f"{KIND_LABELS[kind]} flavor {flavor!r} is unknown to zenml-notebook {__version__} (it knows "
            f"{', '.join(known)}){did_you_mean(flavor, known)}; upgrade with `pip install -U zenml-notebook`, "
            "or point the stack at another component"
        ) from None
    target = entry.get(what, "")
    if not target:
        return None
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


class Spec:
    """Everything a change of a component's settings needs from its flavor, in one trip: the
    config model, the setting that is a local path, the secret fields, the verifier, and the
    missing dependency's install hint (None when installed)."""

    __slots__ = ("flavor", "kind", "local_path", "missing", "model", "secret_fields", "verify")

    def __init__(
        self, kind: str, flavor: str, model: type[BaseModel], local_path: str | None, secret_fields: tuple[str, ...],
        verify: Any, missing: str | None,
    ) -> None:
        self.kind, self.flavor, self.model, self.local_path = kind, flavor, model, local_path
        self.secret_fields, self.verify, self.missing = secret_fields, verify, missing


def spec(kind: str, flavor: str) -> Spec:
    """The flavor's :class:`Spec`; an unknown flavor is named with a suggestion."""
    from .components.configs import secret_fields

    entry = _entry(kind, flavor)
    model = config_model(kind, flavor)
    return Spec(kind, flavor, model, entry.get("local_path") or None, tuple(secret_fields(model)),
                behaviour(kind, flavor, "verify"), check_dependency(kind, flavor))


def config_model(kind: str, flavor: str) -> type[BaseModel]:
    """The frozen pydantic config class of a flavor (imports pydantic on first use)."""
    module_name, _, attr = _entry(kind, flavor)["config"].partition(":")
    model: type[BaseModel] = getattr(importlib.import_module(module_name), attr)
    return model


DAMAGE = (TypeError, KeyError, ValueError, AttributeError)  # what opening a store with damaged settings raises


def check_stored(record: Any) -> None:
    """A stored component's settings against its flavor's model: a damaged or hand-edited row (a
    number for a path, another flavor's settings) is one line naming the component and the
    field. Called when opening a store failed with one of ``DAMAGE`` (so a sound row costs
    nothing, not even pydantic's import); if the row is sound, the caller re-raises."""
    from pydantic import ValidationError

    model = behaviour(record.kind, record.flavor, "config")  # an unknown flavor is named, with the fix
    try:
        model.model_validate(record.config)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "config"
        what = "is missing" if err["type"] == "missing" else f"is wrong: {str(err['msg']).removeprefix('Value error, ')[:120].lower()}"
        label, name = KIND_LABELS[record.kind], record.name
        raise RegistryError(
            f"{label} {name!r} in the registry is damaged: its {record.flavor} setting {field!r} {what}; fix it with "
            f"`{COMMAND_OF_KIND[record.kind]} update {name} --{field.replace('_', '-')} ...`, or delete it and register it again"
        ) from None


def check_dependency(kind: str, flavor: str) -> str | None:
    """None when the flavor's optional dependency is importable, else the install hint."""
    entry = _entry(kind, flavor)
    module = entry["module"]
    if not module or importlib.util.find_spec(module) is not None:
        return None
    extra = entry["extra"]
    target = f"'zenml-notebook[{extra}]'" if extra else module
    return f"the {flavor} {KIND_LABELS[kind]} needs {module}; run `pip install {target}`"


def describe_flavors() -> dict[str, Any]:
    return {kind: flavors_of(kind) for kind in KINDS}
