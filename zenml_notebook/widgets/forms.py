"""The forms themselves (imports ipywidgets: only loaded when a form is shown)."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ipywidgets as w

from .. import api
from ..exceptions import ConflictError, ZenMLError, redact, remember_secret
from ..kinds import KIND_LABELS, KINDS
from ..registry import ComponentRecord
from ..uris import parse_artifact_uri

__all__ = ["ArtifactStoreForm", "MySQLForm", "StackForm", "TrackerForm", "artifacts_form", "in_form_words", "mysql_form", "stack_form", "tracker_form"]

log = logging.getLogger("zenml_notebook")
_STYLE = {"description_width": "130px"}
_LAYOUT = w.Layout(width="460px")


def _text(label: str, value: str = "", placeholder: str = "") -> w.Text:
    return w.Text(value=value, description=label, placeholder=placeholder, style=_STYLE, layout=_LAYOUT)


def _password(label: str, placeholder: str = "") -> w.Password:
    return w.Password(value="", description=label, placeholder=placeholder, style=_STYLE, layout=_LAYOUT)


class _Form:
    """Fields, buttons and a status line; work runs with the buttons disabled."""

    title = ""

    def __init__(self) -> None:
        self.status = w.HTML(value="")
        self.buttons: list[w.Button] = []
        self.widget: w.VBox
        self._read: dict[str, int] = {}  # component name -> the version this form was filled from

    def _remember(self, record: ComponentRecord | None) -> ComponentRecord | None:
        if record is not None:
            self._read[record.name] = record.version
        return record

    def _save(self, kind: str, name: str, flavor: str, settings: dict[str, Any], use: bool) -> str:
        """Save what the form shows - refused if someone changed the component since the form
        read it (then the form takes the new version, and Save again applies yours on top)."""
        try:
            text, version = _save(kind, name, flavor, settings, use, self._read.get(name))
        except ConflictError as exc:
            self._remember(_existing(kind, name))
            raise ConflictError(str(exc).replace("run the command again", "Save again")) from None
        self._read[name] = version
        return text

    def _button(self, label: str, action: Callable[[], None], style: str = "") -> w.Button:
        button = w.Button(description=label, button_style=style)
        button.on_click(lambda _b: self._run(action))
        self.buttons.append(button)
        return button

    def _show(self, text: str, kind: str) -> None:
        color = {"ok": "#388e3c", "error": "#e53935", "busy": "#757575"}[kind]  # >= 4:1 on white and on the dark theme
        icon = {"ok": "&#10003;", "error": "&#10007;", "busy": "&#8987;"}[kind]
        self.status.value = f"<span style='color:{color}'>{icon} {html.escape(redact(text))}</span>"

    @property
    def status_text(self) -> str:
        """The status line as plain text (what the user reads)."""
        return html.unescape(self.status.value.split(">", 1)[-1].rsplit("</span>", 1)[0]).split(" ", 1)[-1]

    @contextmanager
    def _busy(self) -> Iterator[None]:
        for b in self.buttons:
            b.disabled = True
        self._show("working...", "busy")
        try:
            yield
        finally:
            for b in self.buttons:
                b.disabled = False

    def _run(self, action: Callable[[], None]) -> None:
        with self._busy():
            try:
                action()
            except ZenMLError as exc:
                self._show(in_form_words(str(exc)), "error")
            except Exception as exc:
                log.exception("zenml-notebook form action failed")
                self._show(f"unexpected {type(exc).__name__}: {exc}", "error")

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


# Messages are written for the command line ("check --username"); a form talks about its own
# fields and buttons instead.
_FIELDS = {
    "host": "Host", "port": "Port", "username": "User", "user": "User", "passwd": "Password", "password": "Password",
    "database": "Database", "ssl-ca": "SSL CA file", "credentials-file": "Credentials file", "anonymous": "anonymous",
    "endpoint-url": "Endpoint URL", "project": "Project", "region": "Region", "key": "Access key", "secret": "Secret key",
    "path": "Path or URI", "uri": "Path or URI", "flavor": "Kind", "name": "Name", "metadata_store": "Metadata store",
    "artifact_store": "Artifact store", "orchestrator": "Orchestrator", "experiment_tracker": "Experiment tracker",
    "tracking-uri": "Tracking URI", "experiment": "Experiment", "timeout": "Timeout",
}


def in_form_words(text: str) -> str:
    """A message in a form's words: no command-line flags or commands, the fields by name."""
    import re

    text = re.sub(r" \(--passwd with no value prompts\)", "", text)
    text = re.sub(r" \(or --[\w-]+-env\)", "", text)
    text = re.sub(r"`[^`]*--[^`]*`", "this form", text)  # a command to type: here, the form is the way
    text = re.sub(r"raise --(connect|query)-timeout", r"try again when the server answers", text)
    text = re.sub(r", or raise --timeout", "", text)

    def field(match: re.Match[str]) -> str:
        flag = match.group(1)
        return f"'{_FIELDS.get(flag, flag.replace('-', ' ').replace('_', ' '))}'"

    return re.sub(r"(?<![\w-])-{1,2}([A-Za-z][\w-]*)", field, text)


def _check_port(value: str) -> int:
    try:
        port = int(value.strip())
    except ValueError:
        raise ZenMLError(f"port must be a number from 1 to 65535 (got {value!r})") from None
    if not 1 <= port <= 65535:
        raise ZenMLError(f"port must be a number from 1 to 65535 (got {port})")
    return port


def _required(**fields: str) -> None:
    for label, value in fields.items():
        if not value.strip():
            raise ZenMLError(f"{label.replace('_', ' ')} is empty; fill it in")


_SERVERS = {"mysql": ("MySQL / MariaDB", 3306), "postgresql": ("PostgreSQL", 5432)}


class MySQLForm(_Form):
    """A metadata store on a database server (MySQL/MariaDB or PostgreSQL): Test connection, then Save."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__()
        existing = self._remember(_existing("metadata_store", name))
        c = existing.config if existing and existing.flavor in _SERVERS else {}
        flavor = existing.flavor if existing and existing.flavor in _SERVERS else "mysql"
        self.flavor = w.Dropdown(options=[(label, key) for key, (label, _) in _SERVERS.items()], value=flavor, description="Server", style=_STYLE)
        self.name = _text("Name", name or "team-mysql")
        self.host = _text("Host", str(c.get("host", "")), "db.example.com")
        self.port = _text("Port", str(c.get("port", _SERVERS[flavor][1])))
        self.username = _text("User", str(c.get("username", "")))
        stored = existing is not None and "password" in c
        self.password = _password("Password", "(stored - leave empty to keep)" if stored else "")
        self.database = _text("Database", str(c.get("database", "")), "zenml")
        self.ssl_ca = _text("SSL CA file", str(c.get("ssl_ca", "") or ""), "optional")
        self.use = w.Checkbox(value=True, description="use it in the active stack", indent=False)
        self._secret: str | None = None  # held in Python only, never synced to the browser
        self.test_button = self._button("Test connection", self.test)
        self.save_button = self._button("Save", self.save, "primary")
        self.flavor.observe(lambda change: self._server_changed(change["old"], change["new"]), names="value")
        fields = [self.flavor, self.name, self.host, self.port, self.username, self.password, self.database, self.ssl_ca, self.use]
        self.widget = w.VBox([w.HTML("<b>MySQL metadata store</b> (or PostgreSQL: pick the server)"), *fields, w.HBox(self.buttons), self.status])

    def _server_changed(self, old: str, new: str) -> None:
        """The other server's default port, unless a port of one's own was typed."""
        if self.port.value.strip() == str(_SERVERS[old][1]):
            self.port.value = str(_SERVERS[new][1])

    def _take_password(self) -> str | None:
        """Move a typed password out of the widget at once (saved widget state stays empty)."""
        if self.password.value:
            self._secret = self.password.value
            remember_secret(self._secret)
            self.password.value = ""
        return self._secret

    def _settings(self) -> dict[str, Any]:
        _required(name=self.name.value, host=self.host.value, user=self.username.value, database=self.database.value)
        settings: dict[str, Any] = {
            "host": self.host.value.strip(), "port": _check_port(self.port.value), "username": self.username.value.strip(),
            "database": self.database.value.strip(),
        }
        if self.ssl_ca.value.strip():
            settings["ssl_ca"] = self.ssl_ca.value.strip()
        return settings

    def test(self) -> None:
        from .. import settings as component_settings
        from ..components.metadata import preflight

        password = self._take_password()
        settings = self._settings()
        flavor = self.flavor.value
        component_settings.validate("metadata_store", flavor, self.name.value.strip(), settings)  # the same checks as Save
        record = ComponentRecord("metadata_store", self.name.value.strip(), flavor, settings)
        if password is None:
            existing = _existing("metadata_store", self.name.value.strip())
            if existing is None or "password" not in existing.config:
                raise ZenMLError("password is empty; type it in")
            record = ComponentRecord("metadata_store", existing.name, flavor, {**settings, "password": existing.config["password"]})
        result = preflight(record, password=password)
        server = f"MySQL server {result.server_version}" if flavor == "mysql" else result.server_version
        self._show(f"OK - {server}, {result.latency_ms:.1f} ms", "ok")

    def save(self) -> None:
        password = self._take_password()
        settings = self._settings()
        name = self.name.value.strip()
        if password is not None:
            settings["password"] = password
        if password is None and _existing("metadata_store", name) is None:
            raise ZenMLError("password is empty; type it in")
        self._show(self._save("metadata_store", name, self.flavor.value, settings, self.use.value), "ok")
        self._secret = None


class ArtifactStoreForm(_Form):
    """A local, GCS or S3 artifact store: Test, then Save."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__()
        existing = self._remember(_existing("artifact_store", name))
        c = existing.config if existing else {}
        self.name = _text("Name", name or "team-artifacts")
        self.flavor = w.Dropdown(options=["local", "gcs", "s3"], value=existing.flavor if existing else "gcs", description="Kind", style=_STYLE)
        self.path = _text("Path or URI", str(c.get("path", "")), "gs://bucket/prefix")
        self.credentials_file = _text("Credentials file", str(c.get("credentials_file", "") or ""), "service-account JSON (gcs)")
        self.anonymous = w.Checkbox(value=bool(c.get("anonymous", False)), description="anonymous (public bucket / emulator)", indent=False)
        self.endpoint_url = _text("Endpoint URL", str(c.get("endpoint_url", "") or ""), "optional")
        self.key = _password("Access key id", "(stored - leave empty to keep)" if "key" in c else "")
        self.secret = _password("Secret key", "(stored - leave empty to keep)" if "secret" in c else "")
        self.region = _text("Region", str(c.get("region", "") or ""), "optional (s3)")
        self.use = w.Checkbox(value=True, description="use it in the active stack", indent=False)
        self._secrets: dict[str, str] = {}
        self.test_button = self._button("Test", self.test)
        self.save_button = self._button("Save", self.save, "primary")
        self.gcs_box = w.VBox([self.credentials_file, self.anonymous, self.endpoint_url])
        self.s3_box = w.VBox([self.key, self.secret, self.endpoint_url, self.region])
        self.extra = w.VBox()
        self.flavor.observe(lambda _c: self._flavor_fields(), names="value")
        self._flavor_fields()
        self.widget = w.VBox([w.HTML("<b>Artifact store</b>"), self.name, self.flavor, self.path, self.extra, self.use, w.HBox(self.buttons), self.status])

    def _flavor_fields(self) -> None:
        self.extra.children = {"gcs": [self.gcs_box], "s3": [self.s3_box], "local": []}[self.flavor.value]

    def _settings(self) -> dict[str, Any]:
        _required(name=self.name.value, path=self.path.value)
        parsed = parse_artifact_uri(self.path.value)  # a malformed URI is refused here, offline
        if parsed.flavor != self.flavor.value:
            raise ZenMLError(f"{self.path.value!r} is a {parsed.flavor} location; pick {parsed.flavor} as the kind or fix the path")
        for field in ("key", "secret"):
            widget = getattr(self, field)
            if widget.value:
                self._secrets[field] = widget.value
                remember_secret(widget.value)
                widget.value = ""
        settings: dict[str, Any] = {"path": self.path.value.strip()}
        if self.flavor.value == "gcs":
            settings.update(anonymous=self.anonymous.value, credentials_file=self.credentials_file.value.strip() or None,
                            endpoint_url=self.endpoint_url.value.strip() or None)
        elif self.flavor.value == "s3":
            settings.update(endpoint_url=self.endpoint_url.value.strip() or None, region=self.region.value.strip() or None, **self._secrets)
        return settings

    def test(self) -> None:
        from ..components.artifacts import verify_component
        from ..repository import find_repository

        settings = self._settings()
        plain = {k: v for k, v in settings.items() if k in ("key", "secret")}
        config = {k: v for k, v in settings.items() if k not in plain and v is not None}
        record = ComponentRecord("artifact_store", self.name.value.strip(), self.flavor.value, config)
        what, ms = verify_component(record, find_repository()[0], secrets=plain)
        self._show(f"OK - {what}, {ms:.1f} ms", "ok")

    def save(self) -> None:
        settings = self._settings()
        name = self.name.value.strip()
        self._show(self._save("artifact_store", name, self.flavor.value, settings, self.use.value), "ok")
        self._secrets.clear()


class TrackerForm(_Form):
    """An MLflow experiment tracker: Test, then Save (the password never enters the notebook)."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__()
        existing = self._remember(_existing("experiment_tracker", name))
        c = existing.config if existing and existing.flavor == "mlflow" else {}
        self.name = _text("Name", name or "team-mlflow")
        self.tracking_uri = _text("Tracking URI", str(c.get("tracking_uri", "")), "http://mlflow.example.com:5000")
        self.experiment = _text("Experiment", str(c.get("experiment", "") or ""), "optional (default: the pipeline's name)")
        self.username = _text("User", str(c.get("username", "") or ""), "optional")
        self.password = _password("Password", "(stored - leave empty to keep)" if "password" in c else "optional")
        self.timeout = _text("Timeout (s)", str(c.get("timeout", "") or ""), "10")
        self.use = w.Checkbox(value=True, description="use it in the active stack", indent=False)
        self._secret: str | None = None
        self.test_button = self._button("Test", self.test)
        self.save_button = self._button("Save", self.save, "primary")
        fields = [self.name, self.tracking_uri, self.experiment, self.username, self.password, self.timeout, self.use]
        self.widget = w.VBox([w.HTML("<b>MLflow experiment tracker</b>"), *fields, w.HBox(self.buttons), self.status])

    def _settings(self) -> dict[str, Any]:
        _required(name=self.name.value, tracking_uri=self.tracking_uri.value)
        if self.password.value:
            self._secret = self.password.value
            remember_secret(self._secret)
            self.password.value = ""
        settings: dict[str, Any] = {"tracking_uri": self.tracking_uri.value.strip()}
        for field in ("experiment", "username", "timeout"):
            value = getattr(self, field).value.strip()
            if value:
                settings[field] = value
        return settings

    def test(self) -> None:
        from .. import settings as component_settings
        from ..components.trackers.mlflow import MLflowTracker

        settings = self._settings()
        name = self.name.value.strip()
        component_settings.validate("experiment_tracker", "mlflow", name, settings)  # the same checks as Save
        existing = _existing("experiment_tracker", name)
        if self._secret is None and existing is not None and "password" in existing.config:
            what, ms = MLflowTracker(ComponentRecord("experiment_tracker", name, "mlflow", {**settings, "password": existing.config["password"]})).check()
        else:
            record = ComponentRecord("experiment_tracker", name, "mlflow", settings)
            what, ms = MLflowTracker(record, secrets={"password": self._secret} if self._secret else None).check()
        self._show(f"OK - {what}, {ms:.1f} ms", "ok")

    def save(self) -> None:
        settings = self._settings()
        if self._secret is not None:
            settings["password"] = self._secret
        self._show(self._save("experiment_tracker", self.name.value.strip(), "mlflow", settings, self.use.value), "ok")
        self._secret = None


class StackForm(_Form):
    """A stack from registered components: Register, or Register and activate."""

    def __init__(self) -> None:
        super().__init__()
        self.name = _text("Stack name", "", "my-stack")
        self.parts: dict[str, w.Dropdown] = {}
        for kind, label in ((k, KIND_LABELS[k].capitalize()) for k in KINDS):  # one dropdown per component kind
            records, _, active = api.list_components(kind)
            self.parts[kind] = w.Dropdown(options=[r.name for r in records], value=active or None, description=label, style=_STYLE)
        self.register_button = self._button("Register", lambda: self.register(False))
        self.activate_button = self._button("Register and activate", lambda: self.register(True), "primary")
        self.widget = w.VBox([w.HTML("<b>Stack</b>"), self.name, *self.parts.values(), w.HBox(self.buttons), self.status])

    def register(self, activate: bool) -> None:
        _required(stack_name=self.name.value)
        record, outcome = api.register_stack(self.name.value.strip(), *(self.parts[k].value for k in self.parts), activate=activate)
        done = f"stack {record.name!r} is already registered with these components" if outcome == "unchanged" else f"{outcome} stack {record.name!r}"
        self._show(done + ("; it is now the active stack" if activate else ""), "ok")


def _save(kind: str, name: str, flavor: str, settings: dict[str, Any], use: bool, expected_version: int | None = None) -> tuple[str, int]:
    """Register or update through the API (which checks the store first); optionally put
    the component on the active stack. Returns what was done, for the status line, and the
    component's version now."""
    label = KIND_LABELS[kind]
    if _existing(kind, name) is None:
        record, outcome = api.register_component(kind, name, flavor, settings)
        done = f"{label} {name!r} is already registered with these settings" if outcome == "unchanged" else f"{outcome} {label} {name!r}"
    else:
        _, record = api.update_component(kind, name, settings, flavor=flavor, expected_version=expected_version)
        done = f"updated {label} {name!r}"
    if use:
        stack = api.active_stack_name()
        part: dict[str, Any] = {kind: name}
        api.update_stack(stack, **part)
        done += f"; stack {stack!r} uses it"
    return done, record.version


def _existing(kind: str, name: str | None) -> ComponentRecord | None:
    if not name:
        return None
    try:
        return api.get_component(kind, name)[0]
    except ZenMLError:
        return None


def mysql_form(name: str | None = None) -> MySQLForm:
    """A form for a MySQL metadata store (pre-filled, except the password, for NAME)."""
    return MySQLForm(name)


def artifacts_form(name: str | None = None) -> ArtifactStoreForm:
    """A form for an artifact store (pre-filled, except secrets, for NAME)."""
    return ArtifactStoreForm(name)


def tracker_form(name: str | None = None) -> TrackerForm:
    """A form for an MLflow experiment tracker (pre-filled, except the password, for NAME)."""
    return TrackerForm(name)


def stack_form() -> StackForm:
    """A form that registers a stack from the registered components."""
    return StackForm()
