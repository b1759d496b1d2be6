"""The server extension on a real jupyter_server with authentication required."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from zenml_notebook import api


@pytest.fixture
def jp_server_config(jp_server_config):
    return {"ServerApp": {"jpserver_extensions": {"zenml_notebook.server": True}, "allow_unauthenticated_access": False}}


@pytest.fixture
def repo_root(jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for key in ("ZENML_NOTEBOOK_REPO", "ZENML_NOTEBOOK_STACK"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ZENML_NOTEBOOK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("ZENML_NOTEBOOK_SECRETS_BACKEND", "file")
    monkeypatch.chdir(jp_root_dir)
    api.init(jp_root_dir)
    return jp_root_dir


async def get(jp_fetch, *parts: str, **params: str):
    try:
        response = await jp_fetch("zenml-notebook", *parts, params=params or None, method="GET")
        return response.code, json.loads(response.body)
    except HTTPClientError as exc:
        return exc.code, json.loads(exc.response.body) if exc.response is not None and exc.response.body else None


async def test_stacks_and_switch(jp_fetch, repo_root: Path) -> None:
    api.register_component("metadata_store", "db", "mysql", {"host": "h", "username": "u", "password": "route-secret-1", "database": "d"}, verify=False)
    with api_cwd(repo_root):
        api.register_stack("team", "db", "default", "default")
    code, body = await get(jp_fetch, "stacks")
    assert code == 200 and body["active"] == "default" and body["repository"] == str(repo_root)
    team = next(s for s in body["stacks"] if s["name"] == "team")
    assert team["components"]["metadata_store"]["config"]["password"] == "******** (file)"
    assert "route-secret-1" not in json.dumps(body)
    r = await jp_fetch("zenml-notebook", "stacks", "active", method="POST", body=json.dumps({"name": "team"}), headers={"Content-Type": "application/json"})
    assert r.code == 200 and json.loads(r.body) == {"active": "team"}
    with api_cwd(repo_root):
        assert api.active_stack_name() == "team"
    code, body = await post_status(jp_fetch, {"name": "nope"})
    assert code == 404 and body["error"].startswith("stack 'nope' does not exist")


def api_cwd(path: Path):
    from zenml_notebook.repository import working_dir

    return working_dir(path)


async def post_status(jp_fetch, payload, content_type: str = "application/json"):
    try:
        r = await jp_fetch("zenml-notebook", "stacks", "active", method="POST", body=json.dumps(payload) if content_type == "application/json" else payload, headers={"Content-Type": content_type})
        return r.code, json.loads(r.body)
    except HTTPClientError as exc:
        return exc.code, json.loads(exc.response.body) if exc.response is not None and exc.response.body else None


async def test_switch_needs_post_and_json(jp_fetch, repo_root: Path) -> None:
    code, _ = await get(jp_fetch, "stacks", "active")
    assert code == 405
    code, body = await post_status(jp_fetch, "name=default", "application/x-www-form-urlencoded")
    assert code == 400 and "JSON" in body["error"]
    code, body = await post_status(jp_fetch, {"nom": "x"})
    assert code == 400


async def test_every_route_needs_authentication(http_server_client, jp_base_url: str, repo_root: Path) -> None:
    for path, method in (("stacks", "GET"), ("stacks/active", "POST"), ("artifacts", "GET"), ("artifacts/preview?path=x", "GET"), ("runs", "GET"), ("runs/x", "GET"),
                         ("runs/x/logs?step=s", "GET"), ("version", "GET"), ("runs/compare?runs=a&runs=b", "GET"),
                         ("runs/table", "GET"), ("runs/chart?runs=a&y=b", "GET"), ("runs/delete", "POST"), ("runs/x/lineage", "GET"),
                         ("versions", "GET"), ("versions/m", "GET"), ("versions/m/tag", "POST"), ("versions/m/untag", "POST")):
        response = await http_server_client.fetch(f"{jp_base_url}zenml-notebook/{path}", method=method, raise_error=False,
                                                  body=json.dumps({"name": "default"}) if method == "POST" else None,
                                                  headers={"Content-Type": "application/json"})
        assert response.code == 403, path
    with api_cwd(repo_root):
        assert api.active_stack_name() == "default"


async def test_cookie_post_without_xsrf_is_refused(http_server_client, jp_base_url: str, jp_serverapp, repo_root: Path) -> None:
    token = jp_serverapp.identity_provider.token
    login = await http_server_client.fetch(f"{jp_base_url}tree?token={token}", follow_redirects=False, raise_error=False)
    cookies = [c.split(";")[0] for c in login.headers.get_list("Set-Cookie") if not c.startswith("_xsrf")]
    assert cookies, "logging in with the token sets a cookie"
    jar = {"Cookie": "; ".join(cookies)}
    ok = await http_server_client.fetch(f"{jp_base_url}zenml-notebook/stacks", headers=jar, raise_error=False)
    assert ok.code == 200  # the cookie authenticates reads
    refused = await http_server_client.fetch(f"{jp_base_url}zenml-notebook/stacks/active", method="POST", body=json.dumps({"name": "default"}),
                                             headers={**jar, "Content-Type": "application/json"}, raise_error=False)
    assert refused.code == 403
    form = await http_server_client.fetch(f"{jp_base_url}zenml-notebook/stacks/active", method="POST", body="name=default",
                                          headers={**jar, "Content-Type": "application/x-www-form-urlencoded"}, raise_error=False)
    assert form.code == 403


@pytest.mark.parametrize("path", [
    "../../../etc/passwd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "%252e%252e/etc", "/etc/passwd", "file:///etc", "C:\\x", "\\\\srv\\share",
    "..\\..\\x", "a#/../x", "a;/../x", "?q=../..", "a/../../x",
])
async def test_traversal_is_refused(jp_fetch, repo_root: Path, path: str) -> None:
    for route in (("artifacts",), ("artifacts", "preview")):
        code, body = await get(jp_fetch, *route, path=path)
        assert code == 400, (route, path, body)
        assert "passwd" not in json.dumps(body).replace(path, "") and "root:" not in json.dumps(body)


async def test_symlink_and_sibling_folder(jp_fetch, repo_root: Path, tmp_path: Path) -> None:
    store = repo_root / ".zenml" / "artifacts"
    store.mkdir(parents=True, exist_ok=True)
    outside = tmp_path / "outside.txt"
    outside.write_text("secret-content")
    (store / "leak.txt").symlink_to(outside)
    evil = repo_root / ".zenml" / "artifacts-evil"
    evil.mkdir()
    (store / "evil").symlink_to(evil)
    for path in ("leak.txt", "evil"):
        code, body = await get(jp_fetch, "artifacts", "preview", path=path)
        assert code == 400 and "secret-content" not in json.dumps(body)
    code, body = await get(jp_fetch, "artifacts", path="evil")
    assert code == 400


async def test_listing_preview_and_markup_as_data(jp_fetch, repo_root: Path) -> None:
    store = repo_root / ".zenml" / "artifacts" / "run"
    store.mkdir(parents=True)
    markup = "<img src=x onerror=alert(1)>.txt"
    (store / markup).write_text("<script>alert(1)</script>")
    for i in range(150):
        (store / f"f{i:03d}.json").write_text(json.dumps({"i": i}))
    code, body = await get(jp_fetch, "artifacts", path="run", limit="100")
    assert code == 200 and body["total"] == 151 and len(body["entries"]) == 100
    assert body["entries"][0]["name"] == markup  # returned as data; the sidebar renders it as text
    code, body = await get(jp_fetch, "artifacts", path="run", offset="100", limit="100")
    assert len(body["entries"]) == 51
    code, body = await get(jp_fetch, "artifacts", "preview", path=f"run/{markup}")
    assert code == 200 and body["text"] == "<script>alert(1)</script>" and body["kind"] == "text"
    code, body = await get(jp_fetch, "artifacts", "preview", path="run/f001.json")
    assert body["kind"] == "json" and json.loads(body["text"]) == {"i": 1}
    code, body = await get(jp_fetch, "artifacts", path="run", limit="0")
    assert code == 400 and "--limit between 1 and 1000" in body["error"]
    code, body = await get(jp_fetch, "artifacts", "preview", path="run/missing.txt")
    assert code == 404


async def test_runs(jp_fetch, repo_root: Path) -> None:
    from zenml_notebook import pipeline, step

    @step
    def make(n: int = 3) -> list:
        return list(range(n))

    @pipeline
    def served():
        make()

    with api_cwd(repo_root):
        run = served()
    code, body = await get(jp_fetch, "runs")
    assert code == 200 and [r["name"] for r in body["runs"]] == [run.name] and body["runs"][0]["state"] == "complete"
    code, body = await get(jp_fetch, "runs", run.name)
    assert body["steps"][0]["name"] == "make" and body["steps"][0]["outputs"][0]["path"] == f"served/{run.name}/make/output.json"
    code, body = await get(jp_fetch, "runs", "nope")
    assert code == 404


async def test_step_logs_are_served_by_pages(jp_fetch, repo_root: Path) -> None:
    from zenml_notebook import pipeline, step

    @step
    def noisy(n: int = 3) -> int:
        for i in range(n):
            print(f"<b>line {i}</b>")
        return n

    @pipeline
    def talking():
        noisy()

    with api_cwd(repo_root):
        run = talking()
    code, body = await get(jp_fetch, "runs", run.name)
    assert code == 200 and body["steps"][0]["log"] is True
    code, body = await get(jp_fetch, "runs", run.name, "logs", step="noisy", limit="9")
    assert code == 200 and body["text"] == "<b>line 0" and body["size"] == 42 and body["next"] == 9  # markup comes back as data
    code, body = await get(jp_fetch, "runs", run.name, "logs", step="noisy", offset="9")
    assert body["text"] == "</b>\n<b>line 1</b>\n<b>line 2</b>\n" and body["next"] is None
    code, body = await get(jp_fetch, "runs", run.name, "logs", step="nope")
    assert code == 404 and "has no step 'nope'" in body["error"]
    code, body = await get(jp_fetch, "runs", run.name, "logs", step="noisy", limit="0")
    assert code == 400
    for offset in ("9999999999999999999", "-1", "1e3", "9" * 400):  # never a 500 from a seek
        code, body = await get(jp_fetch, "runs", run.name, "logs", step="noisy", offset=offset)
        assert code == 400 and body["error"] == "offset must be an integer from 0 to 1000000000000", (offset, body)
    code, body = await get(jp_fetch, "runs", run.name, "logs", step="noisy", offset="100000")
    assert code == 200 and body["text"] == "" and body["next"] is None and body["size"] == 42
    for route, name in ((("runs",), "offset"), (("runs",), "limit"), (("artifacts",), "offset")):
        code, body = await get(jp_fetch, *route, **{name: "99999999999999999999999"})
        assert code == 400, (route, name, body)


async def test_new_folder_shows_an_empty_state(jp_fetch, jp_root_dir: Path, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZENML_NOTEBOOK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    code, body = await get(jp_fetch, "stacks")
    assert code == 200 and body == {"repository": None, "active": None, "stacks": []}
    assert not (jp_root_dir / ".zenml").exists()  # a GET never creates anything


async def test_cwd_picks_the_notebook_repository(jp_fetch, jp_root_dir: Path, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZENML_NOTEBOOK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    project = jp_root_dir / "project" / "notebooks"
    project.mkdir(parents=True)
    api.init(jp_root_dir / "project")
    code, body = await get(jp_fetch, "stacks", cwd="project/notebooks")
    assert code == 200 and body["repository"] == str(jp_root_dir / "project")
    code, body = await get(jp_fetch, "stacks", cwd="../..")
    assert code == 400 and body == {"error": "cwd '../..' is outside the server's root folder"}


async def test_every_error_body_is_json_with_error_and_no_traceback(jp_fetch, repo_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, body = await get(jp_fetch, "artifacts", limit="abc")
    assert code == 400 and body == {"error": "limit must be an integer from 0 to 1000000000000"}
    code, body = await get(jp_fetch, "no-such-route")
    assert code == 404 and body == {"error": "no such zenml-notebook endpoint: /a%40b/zenml-notebook/no-such-route"}

    # Fault injection (a stand-in for a bug: nothing real raises a non-ZenML error on demand):
    # the server extension runs in this process, so replace the runs query with one that fails.
    from zenml_notebook.server import handlers

    def broken(pipeline, limit):
        raise RuntimeError("internal detail /etc/hidden-path")

    monkeypatch.setattr(handlers, "_runs", broken)
    code, body = await get(jp_fetch, "runs")
    assert code == 500
    assert body == {"error": "unexpected error in the zenml-notebook server extension; the Jupyter server log has the details"}


async def test_a_folder_of_100_000_entries_is_paginated_and_the_server_stays_responsive(jp_fetch, repo_root: Path) -> None:
    """SECURITY 10. The listing runs off the event loop: while it scans, another route answers."""
    import asyncio
    import os

    folder = repo_root / ".zenml" / "artifacts" / "huge"
    folder.mkdir(parents=True)
    for i in range(100_000):
        os.close(os.open(folder / f"e{i:06d}", os.O_CREAT | os.O_WRONLY, 0o644))
    order: list[str] = []

    async def timed(name: str, *parts: str, **params: str):
        result = await get(jp_fetch, *parts, **params)
        order.append(name)
        return result

    listings = [timed(f"list{k}", "artifacts", path="huge", offset=str(k * 20_000), limit="1000") for k in range(5)]
    results = await asyncio.gather(*listings, timed("stacks", "stacks"))
    for k, (code, body) in enumerate(results[:5]):
        assert code == 200 and body["total"] == 100_000 and len(body["entries"]) == 1000
        assert body["entries"][0]["name"] == f"e{k * 20_000:06d}"
    assert results[5][0] == 200
    assert order.index("stacks") < 5, order  # answered before the five big listings all finished
    code, body = await get(jp_fetch, "artifacts", path="huge", offset="99950", limit="100")
    assert [e["name"] for e in body["entries"]] == [f"e{i:06d}" for i in range(99_950, 100_000)]


async def test_the_change_token_moves_with_the_stacks_and_the_runs(jp_fetch, repo_root: Path) -> None:
    from zenml_notebook import pipeline, step

    @step
    def make() -> int:
        return 1

    @pipeline
    def watched():
        make()

    code, body = await get(jp_fetch, "version")
    assert code == 200 and isinstance(body["token"], str)
    first = body["token"]
    assert (await get(jp_fetch, "version"))[1]["token"] == first  # nothing changed: the same token
    with api_cwd(repo_root):
        api.register_component("orchestrator", "another", "local", {})
    second = (await get(jp_fetch, "version"))[1]["token"]
    assert second != first
    with api_cwd(repo_root):
        watched()
    third = (await get(jp_fetch, "version"))[1]["token"]
    assert third != second


async def test_compare_route(jp_fetch, repo_root: Path) -> None:
    from zenml_notebook import pipeline, step

    @step
    def make(n: int = 3) -> int:
        return n * 2

    @pipeline
    def compared(n: int = 3):
        make(n=n)

    with api_cwd(repo_root):
        a, b = compared(n=1), compared(n=2)
    code, body = await get(jp_fetch, "runs", "compare", runs=f"{a.name},{b.name}")
    assert code == 200 and body["runs"] == [a.name, b.name]
    assert {r["key"]: (r["values"], r["differs"]) for r in body["rows"]} == {"make.n": (["1", "2"], True), "make -> output": (["2", "4"], True)}
    assert body["scalars"] == {"make -> output": {a.name: 2.0, b.name: 4.0}}
    assert (await get(jp_fetch, "runs", "compare", runs=a.name))[0] == 400
    code, body = await get(jp_fetch, "runs", "compare", runs=f"{a.name},<b>nope</b>")
    assert code == 404 and "'<b>nope</b>'" in body["error"]


async def test_runs_are_paged_with_their_details(jp_fetch, repo_root: Path) -> None:
    from zenml_notebook import pipeline, step

    @step(name="make.v2")
    def make(n: int = 3) -> int:
        return n

    @pipeline(name="p-1")
    def paged(n: int = 3):
        make(n=n)

    with api_cwd(repo_root):
        names = [paged(n=i).name for i in range(5)]
        again = paged(n=4)  # cached
    code, body = await get(jp_fetch, "runs", limit="2")
    assert code == 200 and body["total"] == 6 and body["offset"] == 0 and body["pipelines"] == ["p-1"]
    assert [r["name"] for r in body["runs"]] == [again.name, names[4]]
    first = body["runs"][0]
    assert first["pipeline"] == "p-1" and first["steps"] == 1 and first["cached"] == 1 and first["stack"] == "default"
    assert first["parameters"] == {"make.v2.n": 4} and first["duration"] >= 0
    code, body = await get(jp_fetch, "runs", limit="2", offset="4")
    assert [r["name"] for r in body["runs"]] == [names[1], names[0]]
    code, body = await get(jp_fetch, "runs", pipeline="nope")
    assert code == 200 and body["runs"] == [] and body["total"] == 0
    code, body = await get(jp_fetch, "runs", limit="0")
    assert code == 400 and "limit between 1 and 1000" in body["error"]
    code, body = await get(jp_fetch, "runs", again.name)
    assert body["steps"][0]["name"] == "make.v2" and body["steps"][0]["outputs"][0]["value"] == 4


async def test_a_failing_store_is_logged_once_not_at_every_poll(jp_fetch, jp_serverapp, repo_root: Path) -> None:
    """The sidebar polls every 2.5 s; a store that keeps failing writes one line to the server
    log, and a new line only when what fails changes."""
    import logging

    from tornado.log import app_log

    from tests.services import free_port
    from zenml_notebook.server import base

    base._LOGGED.clear()
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "zenml-notebook:" in record.getMessage():
                lines.append(record.getMessage())

    keep = Keep(level=logging.WARNING)
    loggers = {jp_serverapp.log, app_log, logging.getLogger("ServerApp")}
    for logger in loggers:
        logger.addHandler(keep)
    try:
        with api_cwd(repo_root):
            api.register_component("artifact_store", "gone", "s3", {"path": "s3://bucket/x", "endpoint_url": f"http://127.0.0.1:{free_port()}",
                                                                     "timeout": 2}, verify=False)
            api.register_stack("broken", "default", "gone", "default", activate=True)
        for _ in range(3):
            code, body = await get(jp_fetch, "artifacts")
            assert code == 503 and "is unreachable (connection refused)" in body["error"], body
        assert len(set(lines)) == 1 and len(lines) == 1, lines
        with api_cwd(repo_root):
            api.update_component("artifact_store", "gone", {"endpoint_url": f"http://127.0.0.1:{free_port()}"}, verify=False)
        await get(jp_fetch, "artifacts")
        assert len(lines) == 2  # another failure: logged again
    finally:
        for logger in loggers:
            logger.removeHandler(keep)
