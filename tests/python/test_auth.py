"""SigV4 authentication with boto3 against a tarn started with credentials.

This module starts its own `tarn serve` with a credentials file (two keys) and a key pair in
the environment; boto3 signs every request with SigV4, so the right secret passes and anything
else is refused with DynamoDB's exceptions. DynamoDB Streams requests (the `dynamodbstreams`
client) go through the same check.
"""

import datetime
import os
import shutil
import signal
import subprocess
import tempfile
import time
from unittest import mock

import boto3
import botocore
import botocore.auth
import pytest
from botocore.exceptions import ClientError

from conftest import REGION, START_TIMEOUT_S, _config, _free_port, _tarn_bin, raw_call

KEYS = {
    "AKIDFILE1": "file-secret-1",
    "AKIDFILE2": "file/secret+2",
    "AKIDENV": "env-secret",
}


@pytest.fixture(scope="module")
def auth_endpoint():
    tmp = tempfile.mkdtemp(prefix="tarn-pytest-auth-")
    creds = os.path.join(tmp, "credentials")
    with open(creds, "w") as f:
        f.write("# access keys\nAKIDFILE1:file-secret-1\n\nAKIDFILE2:file/secret+2\n")
    os.chmod(creds, 0o600)
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ, TARN_ACCESS_KEY_ID="AKIDENV", TARN_SECRET_ACCESS_KEY="env-secret")
    log = open(os.path.join(tmp, "tarn.log"), "wb")
    proc = subprocess.Popen(
        [str(_tarn_bin()), "serve", "--listen", f"127.0.0.1:{port}", "--functions-listen",
         "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--data-dir", os.path.join(tmp, "data"),
         "--credentials-file", creds],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tmp, env=env,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert proc.poll() is None, open(os.path.join(tmp, "tarn.log")).read()
            try:
                r = raw_call(endpoint, "DynamoDB_20120810.ListTables", {})
                if "MissingAuthenticationToken" in r.text:
                    break
            except Exception:
                pass
            assert time.monotonic() < deadline, "tarn did not start"
            time.sleep(0.05)
        yield endpoint
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def client(endpoint, key_id, secret, service="dynamodb", **config):
    return boto3.session.Session().client(
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key_id,
        aws_secret_access_key=secret, config=_config(**config),
    )


def code_of(exc_info):
    return exc_info.value.response["Error"]["Code"]


def test_each_configured_key_works(auth_endpoint):
    for key_id, secret in KEYS.items():
        c = client(auth_endpoint, key_id, secret)
        assert "TableNames" in c.list_tables()
    c = client(auth_endpoint, "AKIDFILE2", KEYS["AKIDFILE2"])
    c.create_table(
        TableName="authed",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    c.get_waiter("table_exists").wait(TableName="authed", WaiterConfig={"Delay": 0.1})
    c.put_item(TableName="authed", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    assert c.get_item(TableName="authed", Key={"pk": {"S": "a"}})["Item"]["v"] == {"N": "1"}
    # The resource API signs the same way.
    table = boto3.session.Session().resource(
        "dynamodb", endpoint_url=auth_endpoint, region_name=REGION,
        aws_access_key_id="AKIDENV", aws_secret_access_key="env-secret", config=_config(),
    ).Table("authed")
    assert table.get_item(Key={"pk": "a"})["Item"]["v"] == 1


def test_wrong_secret_is_an_invalid_signature(auth_endpoint):
    c = client(auth_endpoint, "AKIDFILE1", "not-the-secret")
    with pytest.raises(ClientError) as e:
        c.list_tables()
    assert code_of(e) == "InvalidSignatureException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "signature we calculated does not match" in e.value.response["Error"]["Message"]


def test_unknown_key_is_unrecognized(auth_endpoint):
    c = client(auth_endpoint, "AKIDWHOEVER", "file-secret-1")
    with pytest.raises(ClientError) as e:
        c.list_tables()
    assert code_of(e) == "UnrecognizedClientException"
    assert e.value.response["Error"]["Message"] == (
        "The security token included in the request is invalid."
    )


def test_unsigned_request_is_missing_the_token(auth_endpoint):
    c = client(auth_endpoint, "AKIDFILE1", "file-secret-1", signature_version=botocore.UNSIGNED)
    with pytest.raises(ClientError) as e:
        c.list_tables()
    assert code_of(e) == "MissingAuthenticationTokenException"
    r = raw_call(auth_endpoint, "DynamoDB_20120810.ListTables", {})
    assert r.status_code == 400
    assert r.json()["__type"] == "com.amazon.coral.service#MissingAuthenticationTokenException"


@pytest.mark.parametrize("minutes", [-20, 20])
def test_skewed_date_is_refused(auth_endpoint, minutes):
    skewed = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) + datetime.timedelta(
        minutes=minutes)
    c = client(auth_endpoint, "AKIDFILE1", "file-secret-1")
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=skewed):
        with pytest.raises(ClientError) as e:
            c.list_tables()
    assert code_of(e) == "InvalidSignatureException"
    message = e.value.response["Error"]["Message"]
    assert message.startswith("Signature expired" if minutes < 0 else "Signature not yet current")
    # Ten minutes off is within DynamoDB's fifteen.
    near = skewed - datetime.timedelta(minutes=minutes / 2)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=near):
        assert "TableNames" in c.list_tables()


def test_tampered_body_is_refused(auth_endpoint):
    c = client(auth_endpoint, "AKIDENV", "env-secret")

    def tamper(request, **_):
        request.body = b'{"Limit": 1}'
        request.headers["Content-Length"] = str(len(request.body))

    c.meta.events.register("before-send.dynamodb.ListTables", tamper)
    with pytest.raises(ClientError) as e:
        c.list_tables()
    assert code_of(e) == "InvalidSignatureException"


def test_tampered_target_is_refused(auth_endpoint):
    c = client(auth_endpoint, "AKIDENV", "env-secret")

    def retarget(request, **_):
        request.headers["X-Amz-Target"] = "DynamoDB_20120810.DescribeLimits"

    c.meta.events.register("before-send.dynamodb.ListTables", retarget)
    with pytest.raises(ClientError) as e:
        c.list_tables()
    assert code_of(e) == "InvalidSignatureException"


def test_streams_requests_are_authenticated(auth_endpoint):
    right = client(auth_endpoint, "AKIDFILE1", "file-secret-1", service="dynamodbstreams")
    try:
        right.list_streams()
    except ClientError as e:
        # Whatever Streams answers, it is not an authentication failure.
        assert code_of_exc(e) not in AUTH_ERRORS, e.response
    wrong = client(auth_endpoint, "AKIDFILE1", "wrong", service="dynamodbstreams")
    with pytest.raises(ClientError) as e:
        wrong.list_streams()
    assert code_of(e) == "InvalidSignatureException"
    unsigned = client(auth_endpoint, "AKIDFILE1", "x", service="dynamodbstreams",
                      signature_version=botocore.UNSIGNED)
    with pytest.raises(ClientError) as e:
        unsigned.list_streams()
    assert code_of(e) == "MissingAuthenticationTokenException"


AUTH_ERRORS = {
    "MissingAuthenticationTokenException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignatureException",
}


def code_of_exc(e):
    return e.response["Error"]["Code"]


def test_health_check_needs_no_signature(auth_endpoint):
    import requests

    r = requests.get(auth_endpoint + "/", timeout=5)
    assert r.status_code == 200
    assert r.text.startswith("healthy")
