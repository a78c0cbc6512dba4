"""The todo API in three languages, one HTTP test suite: each scenario runs unchanged against
`tarn serve --app functions/todo-api{,-python,-js}/tarn.toml` (Rust, Python and JavaScript
builds of the same API), and a function in each language that reads a table its manifest does
not grant gets AccessDeniedException.

The components are built once per run by scripts/build-guests.sh (which keeps an up-to-date
Python or JS component as it is); TARN_TEST_GUEST_DIR points at prebuilt ones instead. Compiled
code is cached across runs in target/tmp/function-languages-cache, keyed by component hash.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from conftest import REPO_ROOT, _tarn_bin

# A cold compile of a 13-19 MB Python or JS component by a debug build of tarn takes a minute or
# two on a loaded machine: longer than the suite's default timeout, spent in fixture setup.
pytestmark = [pytest.mark.issue18, pytest.mark.timeout(480)]

LANGUAGES = {"rust": "todo-api", "python": "todo-api-python", "js": "todo-api-js"}
# How long a server may take to deploy its app (compiling the components on a cache miss).
START_TIMEOUT_S = 300.0


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def guest_dir():
    """The built components: built once, here, unless TARN_TEST_GUEST_DIR names them."""
    given = os.environ.get("TARN_TEST_GUEST_DIR")
    if given:
        return Path(given)
    names = list(LANGUAGES.values()) + ["misbehave", "hello-python", "hello-js"]
    subprocess.run(["bash", str(REPO_ROOT / "scripts/build-guests.sh"), *names], check=True, cwd=REPO_ROOT)
    return Path(os.environ.get("CARGO_TARGET_DIR", REPO_ROOT / "functions/target")) / "wasm32-wasip2/release"


@contextlib.contextmanager
def serve_app(manifest: Path):
    """`tarn serve --app manifest` on free ports; yields the function server's base URL."""
    tmp = Path(tempfile.mkdtemp(prefix="tarn-lang-"))
    data = tmp / "data"
    # Compiled components are cached by content hash; share the cache between runs.
    cache = REPO_ROOT / "target/tmp/function-languages-cache"
    cache.mkdir(parents=True, exist_ok=True)
    (data / "cache").mkdir(parents=True)
    (data / "cache/wasm").symlink_to(cache)
    port = _free_port()
    log = open(tmp / "tarn.log", "wb")
    proc = subprocess.Popen(
        [str(_tarn_bin()), "serve", "--listen", f"127.0.0.1:{_free_port()}", "--functions-listen", f"127.0.0.1:{port}",
         "--admin-listen", "127.0.0.1:0", "--data-dir", str(data), "--app", str(manifest)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tmp,
    )
    base = f"http://127.0.0.1:{port}"

    def tail():
        return (tmp / "tarn.log").read_bytes()[-4000:].decode("utf-8", "replace")

    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert proc.poll() is None, f"tarn exited with {proc.returncode}:\n{tail()}"
            try:
                # 404 "no route" until the app is deployed; then the app answers this path.
                r = requests.get(base + "/todos/_ready", timeout=30)
                if r.headers.get("x-tarn-request-id"):
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"{manifest} not served within {START_TIMEOUT_S}s:\n{tail()}"
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _manifest_in(guest_dir: Path, name: str, tmp: Path) -> Path:
    """functions/<name>/tarn.toml, with its component taken from `guest_dir`."""
    text = (REPO_ROOT / "functions" / name / "tarn.toml").read_text()
    wasm = guest_dir / (name.replace("-", "_") + ".wasm")
    lines = [f'source = "{wasm}"' if line.startswith("source = ") else line for line in text.splitlines()]
    path = tmp / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module", params=list(LANGUAGES), ids=list(LANGUAGES))
def api(request, guest_dir, tmp_path_factory):
    """The todo API's base URL, once per language."""
    manifest = _manifest_in(guest_dir, LANGUAGES[request.param], tmp_path_factory.mktemp(request.param))
    with serve_app(manifest) as base:
        yield base


def call(api, method, path, body=None, raw=None):
    data = raw if raw is not None else (None if body is None else __import__("json").dumps(body))
    r = requests.request(method, api + path, data=data, timeout=30)
    return r.status_code, (r.json() if r.content else None), r


def test_create_get_update_delete(api):
    status, created, r = call(api, "POST", "/todos", {"title": " milk "})
    assert status == 201, created
    assert (created["title"], created["version"], created["done"]) == ("milk", 1, False)
    todo_id = created["id"]
    assert len(todo_id) == 32 and all(c in "0123456789abcdef" for c in todo_id)
    assert r.headers["location"] == f"/todos/{todo_id}"
    assert created["created_at"] == created["updated_at"] and created["created_at"] > 1_700_000_000

    assert call(api, "GET", f"/todos/{todo_id}")[:2] == (200, created)

    status, updated, _ = call(api, "PUT", f"/todos/{todo_id}", {"done": True, "version": 1})
    assert status == 200, updated
    assert (updated["done"], updated["version"], updated["title"]) == (True, 2, "milk")

    status, err, _ = call(api, "PUT", f"/todos/{todo_id}", {"title": "x", "version": 1})
    assert status == 409 and "version 2" in err["error"], err

    assert call(api, "DELETE", f"/todos/{todo_id}?version=1")[0] == 409
    assert call(api, "DELETE", f"/todos/{todo_id}?version=2")[0] == 204
    assert call(api, "GET", f"/todos/{todo_id}")[0] == 404
    assert call(api, "DELETE", f"/todos/{todo_id}")[0] == 404
    assert call(api, "PUT", f"/todos/{todo_id}", {"done": True, "version": 2})[0] == 404


@pytest.mark.parametrize("body", ["", "{", '{"title": ""}', '{"title": "a", "extra": 1}', '{"title": 5}', "[]",
                                  '{"title": "a", "done": "yes"}', '{"done": true}'])
def test_bad_create_bodies_are_400(api, body):
    status, err, _ = call(api, "POST", "/todos", raw=body)
    assert status == 400, (body, err)
    assert isinstance(err["error"], str) and err["error"]


def test_other_bad_input_is_400_or_405(api):
    assert call(api, "POST", "/todos", {"title": "x" * 1001})[0] == 400
    assert call(api, "PUT", "/todos/a", {"version": 1})[0] == 400
    assert call(api, "PUT", "/todos/a", {"done": True})[0] == 400
    assert call(api, "PUT", "/todos/a", {"done": True, "version": -1})[0] == 400
    for q in ["limit=0", "limit=101", "limit=x", "next=%25%25%25"]:
        assert call(api, "GET", f"/todos?{q}")[0] == 400, q
    assert call(api, "DELETE", "/todos/a?version=x")[0] == 400
    # The manifest routes no PATCH: tarn itself answers.
    assert call(api, "PATCH", "/todos/a")[0] in (404, 405)


def test_list_pages_through_everything(api):
    created = {call(api, "POST", "/todos", {"title": f"t{i}"})[1]["id"] for i in range(7)}
    seen, token, pages = [], None, []
    while True:
        status, page, _ = call(api, "GET", "/todos?limit=3" + (f"&next={token}" if token else ""))
        assert status == 200, page
        pages.append(len(page["items"]))
        seen += [t["id"] for t in page["items"]]
        token = page["next"]
        if token is None:
            break
        assert len(pages) < 100
    assert created <= set(seen) and len(seen) == len(set(seen))
    assert all(n == 3 for n in pages[:-1]) and pages[-1] <= 3


def test_tokens_are_interchangeable_between_languages(api):
    # A token is URL-safe base64 of the LastEvaluatedKey's DynamoDB JSON in every SDK.
    import base64
    import json

    call(api, "POST", "/todos", {"title": "a"})
    call(api, "POST", "/todos", {"title": "b"})
    token = call(api, "GET", "/todos?limit=1")[1]["next"]
    key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert set(key) == {"id"} and set(key["id"]) == {"S"}


@pytest.fixture(scope="module")
def permissions_app(guest_dir, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("permissions")
    manifest = tmp / "tarn.toml"
    fns = {"rust": "misbehave", "python": "hello-python", "js": "hello-js"}
    parts = []
    for lang, name in fns.items():
        parts.append(
            f'[[function]]\nname = "{name}"\nsource = "{guest_dir / (name.replace("-", "_") + ".wasm")}"\n'
            f'memory_mb = 128\ntimeout_ms = 10000\ntables = {{ todos = "read" }}\n'
        )
        path = "/forbidden" if lang == "rust" else f"/{lang}/forbidden"
        parts.append(f'[[route]]\nmethod = "GET"\npath = "{path}"\nfunction = "{name}"\n')
    parts.append('[[route]]\nmethod = "GET"\npath = "/todos/_ready"\nfunction = "hello-js"\n')
    parts.append('[[table]]\nname = "todos"\nhash_key = "id:S"\n')
    manifest.write_text("\n".join(parts))
    with serve_app(manifest) as base:
        yield base


@pytest.mark.parametrize("lang", ["rust", "python", "js"])
def test_a_table_not_granted_is_access_denied(permissions_app, lang):
    path = "/forbidden" if lang == "rust" else f"/{lang}/forbidden"
    r = requests.get(permissions_app + path, params={"table": "secret-table"}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"].removesuffix("Exception") == "AccessDenied", body
    assert "secret-table" in body["message"]
    # The granted table is read by the same call without an error (misbehave answers 500 when
    # its read is allowed; hello-python and hello-js answer the item, here none).
    r = requests.get(permissions_app + path, params={"table": "todos"}, timeout=30)
    assert r.json().get("kind") is None, r.text
