"""One argparse command tree for the ``%zenml`` magic and the ``zenml-notebook`` CLI.

Each sub-command is one small handler: parse, call one ``api`` function, return a
display object (or None). Nothing here imports IPython.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import api
from .display import ArtifactPreview, Details, Message, Table, human_size
from .exceptions import UsageError, ZenMLError, ZenMLWarning
from .flavors import KIND_LABELS, KINDS, did_you_mean, flavors_of
from .registry import ComponentRecord
from .secrets import env_ref, mask_config

__all__ = ["execute", "parse_cell", "split_line"]

Handler = Callable[[argparse.Namespace], Any]
_PROMPT = object()  # `--passwd` given without a value: ask with getpass


class HelpShown(Exception):
    """``--help`` was printed; nothing else to do."""


class _Parser(argparse.ArgumentParser):
    """Raises instead of exiting, so a mistake never kills the kernel."""

    def error(self, message: str) -> NoReturn:
        match = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if match:
            choices = re.findall(r"'([^']*)'", match.group(2))
            message = (
                f"unknown command {match.group(1)!r}{did_you_mean(match.group(1), choices)}; "
                f"choose from {', '.join(choices)}"
            )
        # the front end says who is speaking ("zenml-notebook: error: ..." / UsageError); the
        # sub-command's own name tells where, without repeating the program's
        where = self.prog.split(" ", 1)[1] + ": " if " " in self.prog else ""
        raise UsageError(f"{where}{message} (see `{self.prog} --help`)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            raise UsageError(message.strip())
        raise HelpShown()


def _count(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low}-{high}")
        return value

    parse.__name__ = "number"
    return parse


# -- shared option groups --------------------------------------------------------
def _secret_option(parser: argparse.ArgumentParser, *flags: str, dest: str, what: str) -> None:
    parser.add_argument(
        *flags, dest=dest, nargs="?", const=_PROMPT, metavar="VALUE",
        help=f"{what}; without VALUE you are prompted (keeps it out of cells and history)",
    )
    parser.add_argument(
        f"{flags[0]}-env", dest=f"{dest}_env", metavar="VAR",
        help=f"read the {what} from environment variable VAR when needed",
    )


def _metadata_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--uri", help="sqlite: database file (default .zenml/metadata.db)")
    p.add_argument("--host", help="mysql: server host")
    p.add_argument("--port", help="mysql: server port (default 3306)")
    p.add_argument("--username", "--user", dest="username", help="mysql: user name")
    _secret_option(p, "--passwd", "--password", dest="password", what="mysql password")
    p.add_argument("--database", help="mysql: database name")
    p.add_argument("--ssl-ca", "--ssl_ca", dest="ssl_ca", help="mysql: CA certificate file")
    p.add_argument("--connect-timeout", dest="connect_timeout", help="mysql: seconds (default 5)")
    p.add_argument("--query-timeout", dest="query_timeout", help="mysql: seconds a metadata call may take (default 30)")


def _artifact_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--credentials-file", dest="credentials_file", help="gcs: service-account JSON")
    p.add_argument("--anonymous", action="store_true", default=None, help="gcs: no credentials")
    p.add_argument("--endpoint-url", dest="endpoint_url", help="gcs/s3: custom endpoint")
    p.add_argument("--project", help="gcs: project id")
    p.add_argument("--region", help="s3: region")
    p.add_argument("--timeout", help="gcs/s3: seconds a storage call may take (default 10)")
    _secret_option(p, "--key", dest="key", what="s3 access key id")
    _secret_option(p, "--secret", dest="secret", what="s3 secret access key")


def _orchestrator_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scheduler-address", "--scheduler_address", dest="scheduler_address",
                   help="dask: tcp://host:8786 of a running scheduler")
    p.add_argument("--n-workers", "--n_workers", dest="n_workers",
                   help="dask: start a local cluster with N workers (default 2)")


_OPTIONS = {
    "metadata_store": (_metadata_options, ("uri", "host", "port", "username", "password", "database", "ssl_ca", "connect_timeout", "query_timeout")),
    "artifact_store": (_artifact_options, ("path", "credentials_file", "anonymous", "endpoint_url", "project", "region", "key", "secret", "timeout")),
    "orchestrator": (_orchestrator_options, ("scheduler_address", "n_workers")),
}
_SECRET_OPTIONS = {"password": "--passwd", "key": "--key", "secret": "--secret"}


def _settings(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """The config values given on the command line; secrets prompted or referenced."""
    values: dict[str, Any] = {}
    for field in _OPTIONS[kind][1]:
        value = getattr(args, field, None)
        env_var = getattr(args, f"{field}_env", None)
        if field in _SECRET_OPTIONS:
            if env_var is not None:
                if value is not None:
                    raise UsageError(f"give {_SECRET_OPTIONS[field]} or {_SECRET_OPTIONS[field]}-env, not both")
                value = env_ref(env_var)
            elif value is _PROMPT:
                import getpass

                value = getpass.getpass(f"{field}: ")
            elif value is not None:
                warnings.warn(
                    f"{_SECRET_OPTIONS[field]} typed inline is now in this cell or your shell "
                    f"history; next time give {_SECRET_OPTIONS[field]} without a value to be "
                    f"prompted, {_SECRET_OPTIONS[field]}-env VAR to read it from the environment, or `%zenml form "
                    f"{'mysql' if field == 'password' else 'artifacts'}` in a notebook",
                    ZenMLWarning, stacklevel=2,
                )
        if value is not None:
            values[field] = value
    return values


# -- rendering ---------------------------------------------------------------------
def _when(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    from datetime import datetime

    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def _summary(record: ComponentRecord) -> str:
    return ", ".join(f"{k}={v}" for k, v in mask_config(record.config).items())


def _component_details(record: ComponentRecord, used_by: list[str]) -> Details:
    items = [("flavor", record.flavor), *mask_config(record.config).items()]
    items += [("used by", ", ".join(used_by) or "(no stack)"), ("updated", record.updated)]
    return Details(f"{KIND_LABELS[record.kind]} {record.name!r}", [("", items)])


def _stack_details(desc: api.StackDescription) -> Details:
    title = f"stack {desc.stack.name!r}" + (" (active)" if desc.active else "")
    sections = []
    for kind in KINDS:
        c = desc.components[kind]
        source = f" ({desc.source(kind)})" if desc.source(kind) else ""
        sections.append((f"{KIND_LABELS[kind]}: {c.name}{source}", [("flavor", c.flavor), *mask_config(c.config).items()]))
    return Details(title, sections)


# -- stack -----------------------------------------------------------------------------
def _stack_list(args: argparse.Namespace) -> Table:
    stacks, active = api.list_stacks()
    rows = [[s.name, *(s.components[k] for k in KINDS)] for s in stacks]
    idx = next((i for i, s in enumerate(stacks) if s.name == active), None)
    return Table(["STACK", "METADATA STORE", "ARTIFACT STORE", "ORCHESTRATOR"], rows, active=idx)


def _stack_register(args: argparse.Namespace) -> Message:
    s = api.register_stack(args.name, args.metadata_store, args.artifact_store, args.orchestrator, activate=args.set)
    note = "; it is now the active stack" if args.set else f"; activate it with `stack set {s.name}`"
    return Message(f"registered stack {s.name!r}{note}")


def _stack_update(args: argparse.Namespace) -> Message:
    before, after = api.update_stack(args.name, metadata_store=args.metadata_store, artifact_store=args.artifact_store, orchestrator=args.orchestrator)
    changes = [f"{KIND_LABELS[k]} {before.components[k]!r} -> {after.components[k]!r}" for k in KINDS if before.components[k] != after.components[k]]
    return Message(f"updated stack {args.name!r}: {'; '.join(changes) or 'no change'}")


def _stack_export(args: argparse.Namespace) -> Message:
    text = api.export_stack(args.name)
    if not args.file:
        return Message(text.rstrip())
    try:
        Path(args.file).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {args.file}: {exc.strerror}; pick a writable path") from None
    return Message(f"exported stack {args.name or api.active_stack_name()!r} to {args.file}")


def _stack_import(args: argparse.Namespace) -> Message:
    from ._import import read_export

    record = api.import_stack(read_export(args.file), args.file, name=args.new_name)
    if args.set:
        api.set_active_stack(record.name)
    return Message(f"imported stack {record.name!r}" + ("; it is now the active stack" if args.set else ""))


_STACK: dict[str, Handler] = {
    "list": _stack_list,
    "register": _stack_register,
    "describe": lambda a: _stack_details(api.describe_stack(a.name)),
    "set": lambda a: Message(f"active stack: {api.set_active_stack(a.name).name!r}"),
    "get": lambda a: Message(f"active stack: {api.active_stack_name()!r}"),
    "update": _stack_update,
    "rename": lambda a: Message(f"renamed stack {a.old!r} to {api.rename_stack(a.old, a.new).name!r}"),
    "copy": lambda a: Message(f"copied stack {a.source!r} to {api.copy_stack(a.source, a.target).name!r}"),
    "delete": lambda a: Message(f"deleted stack {api.delete_stack(a.name).name!r}"),
    "export": _stack_export,
    "import": _stack_import,
}


# -- components ----------------------------------------------------------------------------
def _component_handlers(kind: str) -> dict[str, Handler]:
    label = KIND_LABELS[kind]

    def _flavor(args: argparse.Namespace) -> str | None:
        """``--flavor``, or for artifact stores the flavor the ``--path`` implies."""
        if kind == "artifact_store" and args.path is not None and args.flavor is None:
            from .uris import parse_artifact_uri

            return parse_artifact_uri(args.path).flavor
        return str(args.flavor) if args.flavor else None

    def list_(args: argparse.Namespace) -> Table:
        records, usage, active = api.list_components(kind)
        rows = [[r.name, r.flavor, _summary(r), ", ".join(usage[r.name])] for r in records]
        idx = next((i for i, r in enumerate(records) if r.name == active), None)
        return Table([label.upper(), "FLAVOR", "SETTINGS", "STACKS"], rows, active=idx)

    def register(args: argparse.Namespace) -> Message:
        flavor = _flavor(args)
        if not flavor:
            raise UsageError(f"give --flavor for the {label} {args.name!r}")
        record = api.register_component(kind, args.name, flavor, _settings(kind, args), verify=not args.no_verify)
        return Message(f"registered {label} {record.name!r} ({record.flavor}: {_summary(record) or 'defaults'})")

    def update(args: argparse.Namespace) -> Message:
        _, after = api.update_component(kind, args.name, _settings(kind, args), flavor=_flavor(args), verify=not args.no_verify)
        return Message(f"updated {label} {after.name!r} ({after.flavor}: {_summary(after) or 'defaults'})")

    def ls(args: argparse.Namespace) -> Table:
        listing = api.list_artifacts(args.path or "", offset=args.offset, limit=args.limit, store=args.store)
        rows = [[e.name + ("/" if e.kind == "folder" else ""), e.kind, human_size(e.size), _when(e.modified)] for e in listing.entries]
        where = f"{listing.store.rstrip('/')}/{listing.path}".rstrip("/")
        first, last = listing.offset + 1, listing.offset + len(listing.entries)
        span = f"entries {first}-{last} of {listing.total}" if listing.entries else f"{listing.total} entries"
        more = f"; next page: --offset {last}" if last < listing.total else ""
        return Table(["NAME", "KIND", "SIZE", "MODIFIED"], rows, title=f"{where} ({span}{more})", empty="(empty folder)")

    def preview(args: argparse.Namespace) -> ArtifactPreview:
        p = api.preview_artifact(args.path, store=args.store)
        meta = [("kind", p.kind), ("size", human_size(p.size)), ("modified", _when(p.modified))]
        note = p.note or ("truncated" if p.truncated else "")
        return ArtifactPreview(p.path, p.kind, meta, text=p.text, rows=p.rows, mime=p.mime, data_base64=p.data_base64, note=note)

    def clean(args: argparse.Namespace) -> Message:
        removed = api.clean_artifacts(store=args.store)
        return Message(f"removed {len(removed)} temp file(s) left by killed writers" + "".join(f"\n  {p}" for p in removed))

    def test(args: argparse.Namespace) -> Message:
        record, what, ms = api.test_component(kind, args.name)
        return Message(f"{label} {record.name!r} ({record.flavor}): OK - {what}, {ms:.1f} ms")

    return {
        "ls": ls,
        "preview": preview,
        "clean": clean,
        "test": test,
        "list": list_,
        "register": register,
        "describe": lambda a: _component_details(*api.get_component(kind, a.name)),
        "update": update,
        "delete": lambda a: Message(f"deleted {label} {api.delete_component(kind, a.name).name!r}"),
    }


# -- config (the seed's commands) ------------------------------------------------------------
def _config_set(kind: str) -> Handler:
    def handler(args: argparse.Namespace) -> Message:
        if kind == "artifact_store":
            from .uris import parse_artifact_uri

            args.path = args.location
            flavor = parse_artifact_uri(args.location).flavor
        else:
            flavor = args.flavor
        change = api.config_set(kind, flavor, _settings(kind, args), verify=not args.no_verify)
        a, b = change.before, change.after
        head = f"active stack {change.stack!r}: {KIND_LABELS[kind]}"
        if change.action == "unchanged":
            return Message(f"{head} {b.name!r} already has these settings; nothing changed")
        return Message(
            f"{head} {a.name!r} ({a.flavor}) -> {b.name!r} ({b.flavor}: {_summary(b) or 'defaults'}), "
            f"{change.action}"
        )

    return handler


def _config_get(kind: str) -> Handler:
    return lambda args: _component_details(*api.get_component(kind))


def _config_list(args: argparse.Namespace) -> Details:
    return _stack_details(api.describe_stack(None))


# -- the tree ---------------------------------------------------------------------------------
def _add(sub: Any, name: str, help_: str, handler: Handler, aliases: Sequence[str] = ()) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(name, help=help_, description=help_, aliases=list(aliases))
    p.set_defaults(handler=handler)
    return p


def build_parser(prog: str) -> argparse.ArgumentParser:
    root = _Parser(prog=prog, description="Manage zenml-notebook stacks: metadata store + artifact store + orchestrator.")
    root.set_defaults(prog=prog)
    sub = root.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser, required=True)
    _add(sub, "init", "create a .zenml repository here (or in PATH)", _init).add_argument("path", nargs="?")
    _add(sub, "version", "print the version", _version)

    stack = sub.add_parser("stack", help="register, list, switch and share stacks", description="Stacks: one metadata store, artifact store and orchestrator each.")
    ss = stack.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser, required=True)
    for name, help_ in (("register", "register a stack"), ("update", "change a stack's components")):
        p = _add(ss, name, help_, _STACK[name])
        p.add_argument("name", metavar="NAME")
        required = name == "register"
        for short, kind in (("-m", "metadata_store"), ("-a", "artifact_store"), ("-o", "orchestrator")):
            dashed = kind.replace("_", "-")
            p.add_argument(short, f"--{kind}", f"--{dashed}", dest=kind, required=required, metavar=dashed.upper(), help=f"name of a registered {KIND_LABELS[kind]}")
        if required:
            p.add_argument("--set", action="store_true", help="also make it the active stack")
    _add(ss, "list", "list stacks (* marks the active one)", _STACK["list"], ["ls"])
    _add(ss, "describe", "show a stack's components and settings", _STACK["describe"]).add_argument("name", nargs="?", metavar="NAME")
    _add(ss, "set", "make a stack the active one", _STACK["set"], ["activate"]).add_argument("name", metavar="NAME")
    _add(ss, "get", "print the active stack's name", _STACK["get"])
    p = _add(ss, "rename", "rename a stack", _STACK["rename"])
    p.add_argument("old", metavar="OLD")
    p.add_argument("new", metavar="NEW")
    p = _add(ss, "copy", "copy a stack under a new name", _STACK["copy"])
    p.add_argument("source", metavar="SOURCE")
    p.add_argument("target", metavar="TARGET")
    _add(ss, "delete", "delete a stack (not the active one)", _STACK["delete"], ["rm"]).add_argument("name", metavar="NAME")
    p = _add(ss, "export", "print or write a stack as YAML (secrets as references)", _STACK["export"])
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("file", nargs="?", metavar="FILE")
    p = _add(ss, "import", "create a stack from a YAML export", _STACK["import"])
    p.add_argument("file", metavar="FILE")
    p.add_argument("--name", dest="new_name", help="import under this stack name")
    p.add_argument("--set", action="store_true", help="also make it the active stack")

    for kind, command in api.COMMAND_OF_KIND.items():
        label = KIND_LABELS[kind]
        handlers = _component_handlers(kind)
        aliases = {"metadata_store": ["metadata-store"], "artifact_store": ["artifact-store"], "orchestrator": []}[kind]
        kp = sub.add_parser(command, aliases=aliases, help=f"manage {label}s", description=f"Register, list, describe, update and delete {label}s.")
        ks = kp.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser, required=True)
        add_options = _OPTIONS[kind][0]
        for action in ("register", "update"):
            p = _add(ks, action, f"{action} a {label}", handlers[action])
            p.add_argument("name", metavar="NAME")
            p.add_argument("--flavor", "-f", required=(action == "register" and kind != "artifact_store"), help=f"one of: {', '.join(flavors_of(kind))}")
            if kind == "artifact_store":
                p.add_argument("--path", "--uri", dest="path", required=action == "register", help="local path, file://, gs://bucket/prefix or s3://bucket/prefix")
            add_options(p)
            p.add_argument("--no-verify", dest="no_verify", action="store_true", help="save without reaching the store first")
        if kind != "orchestrator":
            _add(ks, "test", "reach the store now (default: the active stack's)", handlers["test"]).add_argument("name", nargs="?", metavar="NAME")
        if kind == "artifact_store":
            p = _add(ks, "ls", "list a folder of the artifact store (default: the active stack's)", handlers["ls"])
            p.add_argument("path", nargs="?", metavar="PATH", help="folder inside the store (default: its root)")
            p.add_argument("--limit", type=_count(1, 1000), default=100, help="entries per page (1-1000, default 100)")
            p.add_argument("--offset", type=_count(0, 10**9), default=0, help="skip this many entries")
            p.add_argument("--store", help="an artifact store by name instead of the active stack's")
            p = _add(ks, "preview", "show the start of an artifact (text, JSON, CSV, images; never unpickled)", handlers["preview"])
            p.add_argument("path", metavar="PATH")
            p.add_argument("--store", help="an artifact store by name instead of the active stack's")
            p = _add(ks, "clean", "remove temp files that killed writers left behind (never a live writer's)", handlers["clean"])
            p.add_argument("--store", help="an artifact store by name instead of the active stack's")
        _add(ks, "list", f"list {label}s (* marks the active stack's)", handlers["list"], ["ls"] if kind != "artifact_store" else [])
        _add(ks, "describe", f"show a {label}'s settings (default: the active stack's)", handlers["describe"]).add_argument("name", nargs="?", metavar="NAME")
        _add(ks, "delete", f"delete a {label} no stack uses", handlers["delete"], ["rm"]).add_argument("name", metavar="NAME")

    pp = sub.add_parser("pipelines", help="pipelines that ran on a stack", description="Pipelines recorded in the stack's metadata store.")
    ps = pp.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser, required=True)
    _add(ps, "list", "pipelines and their last runs", _pipelines_list, ["ls"]).add_argument("--stack", help="another stack than the active one")
    rp = sub.add_parser("runs", help="pipeline runs: list, describe, compare", description="Runs recorded in the stack's metadata store.")
    rs = rp.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser, required=True)
    p = _add(rs, "list", "runs, newest first", _runs_list, ["ls"])
    p.add_argument("pipeline", nargs="?", metavar="PIPELINE")
    p.add_argument("--limit", type=_count(1, 100_000), default=50, help="at most this many runs (default 50)")
    p.add_argument("--stack", help="another stack than the active one")
    p = _add(rs, "describe", "a run's steps, states, durations and outputs", lambda a: _client(a).get_run(a.run))
    p.add_argument("run", metavar="RUN")
    p.add_argument("--stack", help="another stack than the active one")
    p = _add(rs, "compare", "parameters and outputs of runs side by side", _runs_compare)
    p.add_argument("runs", nargs="+", metavar="RUN")
    p.add_argument("--stack", help="another stack than the active one")
    p = _add(sub, "lineage", "what produced an artifact and what used it", _lineage)
    p.add_argument("artifact", metavar="ARTIFACT_ID_OR_URI")
    p.add_argument("--stack", help="another stack than the active one")

    p = _add(sub, "form", "a form (in a notebook): mysql, artifacts or stack; secrets never go into cells", _form)
    p.add_argument("which", choices=["mysql", "artifacts", "stack"], metavar="mysql|artifacts|stack")
    p.add_argument("name", nargs="?", metavar="NAME", help="pre-fill from this registered component")

    config = sub.add_parser("config", help="the active stack's components (the seed's commands)", description="Show or change the active stack's components.")
    cs = config.add_subparsers(dest="target", metavar="TARGET", parser_class=_Parser, required=True)
    _add(cs, "list", "show the active stack's components", _config_list)
    for kind, command in (("metadata_store", "metadata"), ("artifact_store", "artifacts"), ("orchestrator", "orchestrator")):
        cp = cs.add_parser(command, help=f"the active stack's {KIND_LABELS[kind]}", description=f"Get or set the active stack's {KIND_LABELS[kind]}.")
        ca = cp.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser, required=True)
        _add(ca, "get", f"show the active stack's {KIND_LABELS[kind]}", _config_get(kind))
        p = _add(ca, "set", f"point the active stack at a {KIND_LABELS[kind]} with these settings", _config_set(kind))
        if kind == "artifact_store":
            p.add_argument("location", metavar="PATH_OR_URI", help="local path, file://, gs://bucket/prefix or s3://bucket/prefix")
        else:
            p.add_argument("flavor", metavar="FLAVOR", help=" or ".join(flavors_of(kind)))
        _OPTIONS[kind][0](p)
        p.add_argument("--no-verify", dest="no_verify", action="store_true", help="save without reaching the store first")
    return root


# -- pipelines and runs ---------------------------------------------------------------------------
def _client(args: argparse.Namespace) -> Any:
    from .pipelines.runs import Client

    return Client(getattr(args, "stack", None))


def _pipelines_list(args: argparse.Namespace) -> Table:
    client = _client(args)
    runs = client.runs()
    rows = []
    for name in client.pipelines():
        mine = [r for r in runs if r.pipeline == name]
        last = mine[0] if mine else None
        rows.append([name, len(mine), last.name if last else "", client.run_state(last) if last else ""])
    return Table(["PIPELINE", "RUNS", "LAST RUN", "STATE"], rows, title=f"stack {client.stack!r}", empty="(no pipelines have run on this stack yet)")


def _runs_list(args: argparse.Namespace) -> Table:
    client = _client(args)
    runs = client.runs(args.pipeline)[: args.limit]
    rows = [[r.name, r.pipeline, client.run_state(r), _when(r.started), f"{max(r.ended - r.started, 0):.2f} s" if r.ended else ""] for r in runs]
    return Table(["RUN", "PIPELINE", "STATE", "STARTED", "DURATION"], rows, title=f"stack {client.stack!r}", empty="(no runs yet)")


def _runs_compare(args: argparse.Namespace) -> Any:
    from .display import Comparison

    client = _client(args)
    runs = [client.get_run(name) for name in args.runs]
    cells: dict[str, dict[str, str]] = {}  # row -> run -> value, rows in first-seen order
    for run in runs:
        for s in run.steps:
            for k, v in s.parameters.items():
                cells.setdefault(f"{s.name}.{k}", {})[run.name] = repr(v)
            for k, art in s.outputs.items():
                value = art.content_hash[:12]
                if art.materializer == "json":  # small JSON outputs (metrics) are shown as values
                    try:
                        loaded = repr(run.output(s.name, k))
                        value = loaded if len(loaded) <= 40 else value
                    except ZenMLError:
                        pass
                cells.setdefault(f"{s.name} -> {k}", {})[run.name] = value
    rows = [(key, [values.get(r.name, "-") for r in runs]) for key, values in cells.items()]
    return Comparison([r.name for r in runs], rows, title=f"{len(runs)} runs; ≠ marks differences (outputs: value, or content hash)")


def _lineage(args: argparse.Namespace) -> Table:
    client = _client(args)
    graph = client.lineage(args.artifact)
    arts = {a.id: a for a in graph.artifacts}
    execs = {e.id: e for e in graph.executions}
    rows = []
    for ev in sorted(graph.events, key=lambda e: (execs[e.execution_id].started, e.execution_id, e.kind != "INPUT")):
        e, a = execs[ev.execution_id], arts.get(ev.artifact_id)
        rows.append([f"{e.run}.{e.step}", e.state, "reads" if ev.kind == "INPUT" else "writes", ev.name, a.uri if a else ev.artifact_id])
    return Table(["STEP", "STATE", "", "AS", "ARTIFACT"], rows, title=f"lineage of artifact {args.artifact}")


def _form(args: argparse.Namespace) -> Any:
    if args.prog != "%zenml":
        raise UsageError("forms need a notebook; in a terminal use `metadata register NAME --flavor mysql ... --passwd` (it prompts)")
    from . import widgets

    if args.which == "stack":
        return widgets.stack_form()
    return widgets.mysql_form(args.name) if args.which == "mysql" else widgets.artifacts_form(args.name)


def _init(args: argparse.Namespace) -> Message:
    repo, created = api.init(args.path)
    if created:
        return Message(f"initialised zenml-notebook repository in {repo.root} with stack 'default' (sqlite metadata, local artifacts, local orchestrator)")
    return Message(f"{repo.root} is already a zenml-notebook repository; nothing changed")


def _version(args: argparse.Namespace) -> Message:
    from . import __version__

    return Message(f"zenml-notebook {__version__}")


# -- entry points -------------------------------------------------------------------------------
_PARSERS: dict[str, argparse.ArgumentParser] = {}


def _parser(prog: str) -> argparse.ArgumentParser:
    if prog not in _PARSERS:
        _PARSERS[prog] = build_parser(prog)
    return _PARSERS[prog]


def split_line(line: str) -> list[str]:
    """Split a command line like a POSIX shell would (quotes), without running one."""
    try:
        return shlex.split(line, comments=True)
    except ValueError as exc:
        raise UsageError(f"cannot read the command line: {exc}; check its quotes") from None


def parse_cell(text: str) -> list[list[str]]:
    """Commands in a ``%%zenml`` cell: one per line; ``\\`` continues a line, and a line
    starting with ``-`` continues the previous command (so the seed's blocks paste as is).
    A leading ``zenml`` or ``zenml-notebook`` word is dropped."""
    commands: list[str] = []
    joining = False
    for raw in text.splitlines():
        line = raw.strip()
        cont = bool(re.search(r"\\\s*$", line))
        line = re.sub(r"\\\s*$", "", line).strip()
        if not line or line.startswith("#"):
            joining = joining and cont
            continue
        if commands and (joining or line.startswith("-")):
            commands[-1] += " " + line
        else:
            commands.append(line)
        joining = cont
    result = []
    for command in commands:
        argv = split_line(command)
        if argv and argv[0] in ("zenml", "zenml-notebook", "%zenml"):
            argv = argv[1:]
        if argv:
            result.append(argv)
    return result


def execute(argv: Sequence[str], prog: str = "zenml-notebook", err: Any = None) -> Any:
    """Run one command; warnings go to ``err`` (stderr) as ``warning: ...`` lines.

    Returns the display object (or None after ``--help``); raises ZenMLError.
    """
    err = err or sys.stderr
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ZenMLWarning)
            try:
                args = _parser(prog).parse_args(list(argv))
                if args.handler not in (_init, _version):
                    api.ensure_repository()  # a user's command: the one place besides `init` that creates one
                return args.handler(args)
            except HelpShown:
                return None
    finally:
        seen: set[str] = set()
        for w in caught:
            if issubclass(w.category, ZenMLWarning):
                if str(w.message) not in seen:
                    seen.add(str(w.message))
                    print(f"warning: {w.message}", file=err)
            else:  # not ours: hand it back to the normal warning machinery
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


__all__ += ["HelpShown", "ZenMLError", "build_parser"]
