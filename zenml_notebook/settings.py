"""Component settings: what a user gives becomes a validated config, its plain secrets go to
the secret store (references only in the config), and stores are reached before saving.

The one place for these decisions; :mod:`zenml_notebook.api` calls them inside its registry
transactions.
"""

from __future__ import annotations

import reprlib
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from . import secrets
from .exceptions import SecretError, UsageError, ZenMLWarning, remember_secret
from .flavors import KIND_LABELS, Spec, spec
from .registry import ComponentRecord

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

    from .repository import Repository

__all__ = ["Prepared", "Spec", "check_flavor", "difference", "drop_secrets", "prepare", "same_settings", "spec", "stored_secrets", "validate"]



def _shown(value: Any) -> str:
    """A value a user gave, short enough for one line (nested or huge input is cut, never
    ``repr``'d whole)."""
    short = reprlib.Repr()
    short.maxlevel, short.maxdict, short.maxlist, short.maxtuple, short.maxset = 1, 3, 3, 3, 3
    short.maxstring = short.maxother = short.maxlong = 40
    text = short.repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _format_validation(model: type[BaseModel], exc: ValidationError) -> str:
    from .components.configs import secret_fields

    hidden = set(secret_fields(model))
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "settings"
        kind, msg = err["type"], str(err["msg"]).removeprefix("Value error, ")
        if kind == "missing":
            problems.append(f"{loc} is required (--{loc.replace('_', '-')})")
        elif kind == "extra_forbidden":
            problems.append(f"unknown setting {loc!r} (valid: {', '.join(model.model_fields)})")
        elif kind == "value_error" or loc in hidden or loc == "settings":
            problems.append(f"{loc}: {msg}")
        else:
            problems.append(f"{loc}: {msg[0].lower()}{msg[1:]} (got {_shown(err.get('input'))})")
    return "; ".join(problems)


def _validated(sp: Spec, name: str, raw: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    from pydantic import ValidationError

    hidden = set(sp.secret_fields)
    pending: dict[str, str] = {}
    data: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            continue
        if key in hidden and isinstance(value, str):
            remember_secret(value)
            pending[key] = value
            data[key] = {"$secret": "pending", "store": "file"}
        else:
            data[key] = value
    try:
        validated = sp.model.model_validate(data)
    except ValidationError as exc:
        raise UsageError(
            f"invalid {sp.flavor} {KIND_LABELS[sp.kind]} {name!r}: {_format_validation(sp.model, exc)}"
        ) from None
    return validated.model_dump(mode="json", exclude_none=True), pending


def validate(
    kind: str, flavor: str, name: str, raw: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """A validated JSON config (secrets as placeholders) and the plain secrets to store."""
    return _validated(spec(kind, flavor), name, raw)


class Prepared:
    """A component's settings made ready for the registry in one trip to its flavor: validated
    (secrets as placeholders), its plain secrets apart, and how to reach the store before saving."""

    __slots__ = ("config", "name", "pending", "repo", "spec")

    def __init__(self, spec: Spec, name: str, config: dict[str, Any], pending: dict[str, str], repo: Repository) -> None:
        self.spec, self.name, self.config, self.pending, self.repo = spec, name, config, pending, repo

    def verify(self) -> None:
        """Reach the store before saving it (a MySQL server, a folder or bucket); flavors with
        nothing to reach have no verifier."""
        if self.spec.verify is not None:
            self.spec.verify(ComponentRecord(self.spec.kind, self.name, self.spec.flavor, self.config), self.repo, self.pending)


def prepare(
    repo: Repository, kind: str, flavor: str, name: str, raw: Mapping[str, Any], *, base: Mapping[str, Any] | None = None
) -> Prepared:
    """What a user typed (on top of ``base``, the settings kept from before) as a :class:`Prepared`:
    one call to the flavor table gives the model, the local-path setting (stored relative to the
    repository when inside it), the secret fields and the verifier; a missing optional
    dependency is a one-line warning."""
    sp = spec(kind, flavor)
    if sp.missing:
        warnings.warn(f"{sp.missing} before using it", ZenMLWarning, stacklevel=3)
    given = dict(raw)
    key = sp.local_path
    if key and isinstance(given.get(key), str) and given[key].strip():
        value = given[key].strip()
        given[key] = repo.store_path(value[len("file://"):] if value.startswith("file://") else value)
    config, pending = _validated(sp, name, {**(base or {}), **given})
    return Prepared(sp, name, config, pending, repo)


@contextmanager
def stored_secrets(config: dict[str, Any], pending: Mapping[str, str], *, keep: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Put ``pending`` plain values into the secret store and ``config`` (as references) for the
    registry change inside the block; if the change fails, what it stored is undone, so a
    refused change leaves no secret behind and loses none.

    A new value for a field that ``keep`` already references is stored under that reference:
    in a shared registry every teammate keeps their own value behind the one shared reference,
    so giving yours changes nothing for them."""
    restore: list[tuple[dict[str, Any], str | None]] = []
    for key, value in pending.items():
        old = (keep or {}).get(key)
        if isinstance(old, dict) and secrets.is_ref(old) and "$secret" in old:
            try:
                before: str | None = secrets.resolve(old)
            except SecretError:
                before = None
            config[key] = secrets.store_secret(value, old["$secret"])
            restore.append((config[key], before))
        else:
            config[key] = secrets.store_secret(value)
    try:
        yield config
    except BaseException:
        for ref, before in restore:
            if before is None:
                secrets.delete_secret(ref)
            else:
                secrets.store_secret(before, ref["$secret"])
        drop_secrets(config, keep)
        raise


def _differing(record: ComponentRecord, flavor: str, config: Mapping[str, Any], pending: Mapping[str, str]) -> list[str]:
    """The settings in which ``record`` differs from a validated config (and its plain secrets)."""
    if record.flavor != flavor:
        return ["flavor"]
    differ = []
    for key in sorted(set(record.config) | set(config)):
        if key in pending:
            stored = record.config.get(key)
            try:
                same = isinstance(stored, dict) and secrets.is_ref(stored) and secrets.resolve(stored) == pending[key]
            except SecretError:
                same = False
        else:
            same = record.config.get(key) == config.get(key)
        if not same:
            differ.append(key)
    return differ


def same_settings(record: ComponentRecord, flavor: str, config: Mapping[str, Any], pending: Mapping[str, str]) -> bool:
    """True when registering (flavor, config, pending) again would change nothing; a secret
    typed again counts as the same when it equals the stored one."""
    return not _differing(record, flavor, config, pending)


def difference(record: ComponentRecord, flavor: str, config: Mapping[str, Any], pending: Mapping[str, str]) -> str:
    """Which settings differ, in words (never their values: they may be secrets)."""
    keys = _differing(record, flavor, config, pending)
    if keys == ["flavor"]:
        return f"its flavor is {record.flavor}"
    if len(keys) == 1:
        return f"its {keys[0]} is different"
    shown = keys[:5] if len(keys) <= 5 else [*keys[:4], "more"]
    return f"its {', '.join(shown[:-1])} and {shown[-1]} are different"


def drop_secrets(config: Mapping[str, Any], keep: Mapping[str, Any] | None = None) -> None:
    """Delete the stored secrets of ``config`` that ``keep`` no longer references."""
    kept = [v for v in (keep or {}).values() if secrets.is_ref(v)]
    kept_ids = {v["$secret"] for v in kept if "$secret" in v}
    for value in config.values():
        if secrets.is_ref(value) and value not in kept and value.get("$secret") not in kept_ids:
            secrets.delete_secret(value)


def check_flavor(kind: str, flavor: str) -> None:
    """An unknown flavor is refused (with a suggestion); a missing optional dependency warns."""
    hint = spec(kind, flavor).missing
    if hint:
        warnings.warn(f"{hint} before using it", ZenMLWarning, stacklevel=3)
