"""Shared fixtures for tarn's end-to-end tests.

One `tarn serve` process is started per test session on a free loopback port with a
temporary data directory; every test talks to it through boto3 (or raw HTTP) and
uses its own uniquely named tables, so tests are independent of each other.

Environment:
  TARN_BIN       path to the tarn binary (default: <repo>/target/debug/tarn)
  TARN_ENDPOINT  use an already running server instead of starting one
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import boto3
import pytest
import requests
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
START_TIMEOUT_S = 30.0
TABLE_WAIT_TIMEOUT_S = 20.0

# Dummy credentials: the server runs without configured credentials.
os.environ["AWS_ACCESS_KEY_ID"] = "test"
os.environ["AWS_SECRET_ACCESS_KEY"] = "test"
os.environ["AWS_DEFAULT_REGION"] = REGION
os.environ.pop("AWS_SESSION_TOKEN", None)
os.environ.pop("AWS_PROFILE", None)


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tarn_bin():
    path = os.environ.get("TARN_BIN")
    if path:
        p = Path(path)
        if not p.is_absolute():
            p = REPO_ROOT / p
    else:
        p = REPO_ROOT / "target" / "debug" / "tarn"
    if not p.exists():
        pytest.exit(f"tarn binary not found at {p} (build it or set TARN_BIN)", returncode=2)
    return p


def raw_call(endpoint, target, body, content_type="application/x-amz-json-1.0", headers=None):
    """POST a raw request (bytes, str or JSON-serializable) to the DynamoDB endpoint."""
    if not isinstance(body, (bytes, str)):
        body = json.dumps(body)
    h = {"Content-Type": content_type}
    if target is not None:
        h["X-Amz-Target"] = target
    if headers:
        h.update(headers)
    return requests.post(endpoint + "/", data=body, headers=h, timeout=10)


def _server_answers(endpoint):
    try:
        r = raw_call(endpoint, "DynamoDB_20120810.ListTables", {})
        return r.status_code == 200
    except requests.RequestException:
        return False


class TarnServer:
    def __init__(self, endpoint, proc=None, data_dir=None, log_path=None):
        self.endpoint = endpoint
        self.proc = proc
        self.data_dir = data_dir
        self.log_path = log_path

    def log_tail(self, n=4000):
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as f:
            data = f.read()
        return data[-n:].decode("utf-8", "replace")

    def logged_addr(self, what, timeout=30.0):
        """The address of a listener, from the line tarn logs when it starts listening
        (`what`: "function server" or "admin API"), e.g.
        `listening: admin API on http://127.0.0.1:8081 addr=127.0.0.1:8081`."""
        label = {"function server": "functions"}.get(what, what)
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(r"listening: " + label + r" on http://\S+ addr=(\S+)", self.log_tail(10**7))
            if m:
                return "http://" + m.group(1)
            assert time.monotonic() < deadline, f"no {what} in the log:\n{self.log_tail()}"
            time.sleep(0.05)

    def admin(self, path):
        """GET an endpoint of the admin API, with the token tarn wrote."""
        with open(os.path.join(self.data_dir, "admin-token")) as f:
            token = f.read().strip()
        r = requests.get(self.logged_addr("admin API") + path,
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
        r.raise_for_status()
        return r.json()

    def kill(self):
        """SIGKILL, no shutdown: what a crash does."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def assert_alive(self):
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(
                f"tarn exited with code {self.proc.returncode}; log tail:\n{self.log_tail()}"
            )


@contextlib.contextmanager
def spawn_tarn(*extra_args, data_dir=None):
    """Starts `tarn serve` on a free port with a temporary data directory (or `data_dir`),
    plus `extra_args`, waits until it answers, yields a TarnServer, and stops it."""
    binary = _tarn_bin()
    tmp = tempfile.mkdtemp(prefix="tarn-pytest-")
    data_dir = data_dir or os.path.join(tmp, "data")
    log_path = os.path.join(tmp, "tarn.log")
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [str(binary), "serve", "--listen", f"127.0.0.1:{port}", "--functions-listen", "127.0.0.1:0",
         "--admin-listen", "127.0.0.1:0", "--data-dir", data_dir, *extra_args],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=tmp,
    )
    server = TarnServer(endpoint, proc, data_dir, log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if proc.poll() is not None:
                pytest.exit(
                    f"tarn serve exited with code {proc.returncode} before answering; log:\n"
                    f"{server.log_tail()}",
                    returncode=2,
                )
            if _server_answers(endpoint):
                break
            if time.monotonic() > deadline:
                pytest.exit(
                    f"tarn serve did not answer within {START_TIMEOUT_S}s; log:\n{server.log_tail()}",
                    returncode=2,
                )
            time.sleep(0.05)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def tarn_server():
    external = os.environ.get("TARN_ENDPOINT")
    if external:
        if not _server_answers(external):
            pytest.exit(f"TARN_ENDPOINT={external} does not answer ListTables", returncode=2)
        yield TarnServer(external)
        return
    with spawn_tarn() as server:
        yield server


@pytest.fixture(scope="session")
def endpoint(tarn_server):
    return tarn_server.endpoint


def _config(**kw):
    base = dict(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=32,
    )
    base.update(kw)
    return Config(**base)


class AwsFactory:
    """Builds boto3 clients/resources pointed at tarn."""

    def __init__(self, endpoint):
        self.endpoint = endpoint

    def _kw(self):
        return dict(
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def client(self, **config):
        return boto3.session.Session().client("dynamodb", config=_config(**config), **self._kw())

    def streams(self, **config):
        """A DynamoDB Streams client (same endpoint, as with DynamoDB Local)."""
        return boto3.session.Session().client(
            "dynamodbstreams", config=_config(**config), **self._kw()
        )

    def resource(self, **config):
        return boto3.session.Session().resource("dynamodb", config=_config(**config), **self._kw())


@pytest.fixture(scope="session")
def aws(tarn_server):
    return AwsFactory(tarn_server.endpoint)


@pytest.fixture
def ddb(aws, tarn_server):
    """A low-level DynamoDB client. Checks after each test that the server survived."""
    yield aws.client()
    tarn_server.assert_alive()


@pytest.fixture
def ddb_raw(aws):
    """A client without botocore's client-side parameter validation, to send
    inputs that only the server may reject."""
    return aws.client(parameter_validation=False)


@pytest.fixture
def resource(aws):
    return aws.resource()


_name_re = re.compile(r"[^A-Za-z0-9_.-]")


def unique_name(hint="t"):
    hint = _name_re.sub("_", hint)[:40]
    return f"{hint}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def table_name(request):
    return unique_name(request.node.name)


def wait_active(client, name, timeout=TABLE_WAIT_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while True:
        t = client.describe_table(TableName=name)["Table"]
        if t["TableStatus"] == "ACTIVE":
            return t
        if time.monotonic() > deadline:
            raise AssertionError(f"table {name} not ACTIVE after {timeout}s: {t['TableStatus']}")
        time.sleep(0.05)


def wait_gone(client, name, timeout=TABLE_WAIT_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.describe_table(TableName=name)
        except client.exceptions.ResourceNotFoundException:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"table {name} still exists {timeout}s after DeleteTable")
        time.sleep(0.05)


def wait_until(predicate, what, timeout=TABLE_WAIT_TIMEOUT_S):
    """Polls `predicate` until it returns something true, and returns that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not within {timeout}s"
        time.sleep(0.05)


def scan_items(client, name):
    """Every item of a table (a consistent Scan, all pages), in the order Scan returns them."""
    items, kw = [], {}
    while True:
        page = client.scan(TableName=name, ConsistentRead=True, **kw)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def key_schema(hash_key, range_key=None):
    ks = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    ad = [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}]
    if range_key:
        ks.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
        ad.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
    return ks, ad


@pytest.fixture
def make_table(request, aws):
    """Factory: make_table(hash_key=("pk","S"), range_key=None, **extra) -> name.
    Creates an on-demand table (unless BillingMode given), waits for ACTIVE, and
    deletes it when the test ends."""
    client = aws.client()
    created = []

    def _make(hash_key=("pk", "S"), range_key=None, name=None, **extra):
        name = name or unique_name(request.node.name)
        ks, ad = key_schema(hash_key, range_key)
        params = dict(TableName=name, KeySchema=ks, AttributeDefinitions=ad)
        if "BillingMode" not in extra and "ProvisionedThroughput" not in extra:
            params["BillingMode"] = "PAY_PER_REQUEST"
        params.update(extra)
        client.create_table(**params)
        created.append(name)
        wait_active(client, name)
        return name

    yield _make
    for name in created:
        try:
            client.delete_table(TableName=name)
        except Exception:
            pass


@pytest.fixture
def table(make_table):
    """An on-demand table with a string HASH key `pk`."""
    return make_table()


@pytest.fixture
def table_hr(make_table):
    """An on-demand table with HASH `pk` (S) and RANGE `sk` (N)."""
    return make_table(("pk", "S"), ("sk", "N"))


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def error_message(excinfo):
    return excinfo.value.response["Error"].get("Message", "")


def canon(value):
    """Canonical form of a low-level AttributeValue (or item) for comparison:
    sets become frozensets, so set order never matters."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in (
        "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS",
    ):
        (t, v), = value.items()
        if t in ("SS", "NS", "BS"):
            return (t, frozenset(v))
        if t == "M":
            return ("M", {k: canon(x) for k, x in v.items()})
        if t == "L":
            return ("L", [canon(x) for x in v])
        return (t, v)
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canon(v) for v in value]
    return value
