"""Compressed request bodies (issue 17): `Content-Encoding: gzip` and `deflate`.

Everything here runs against a tarn that checks SigV4 signatures, so each request also shows that
the signature covers the compressed bytes as sent. boto3 compresses requests itself when an
operation carries the `requestcompression` trait; DynamoDB's operations do not carry it in
botocore's model, so the boto3 test adds it to its client's model. The other tests sign raw
requests with botocore's SigV4Auth and send them with `requests`.

DynamoDB answers a body it cannot decode (empty, corrupt, truncated) and a coding it does not
know with HTTP 500 InternalServerError; tarn does the same, and also refuses bytes after the end
of the compressed stream (DynamoDB ignores them). A body that inflates past 16 MB is refused as
an oversized request.
"""

import gzip
import json
import zlib

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
import requests
from botocore.exceptions import ClientError

from conftest import REGION, _config, unique_name, wait_active
from test_auth import auth_endpoint  # noqa: F401  (the module's own tarn, with credentials)

KEY, SECRET = "AKIDFILE1", "file-secret-1"
INTERNAL = "com.amazonaws.dynamodb.v20120810#InternalServerError"


def client(endpoint, **config):
    return boto3.session.Session().client(
        "dynamodb", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=KEY,
        aws_secret_access_key=SECRET, config=_config(**config),
    )


@pytest.fixture(scope="module")
def ddb(auth_endpoint):  # noqa: F811
    return client(auth_endpoint)


@pytest.fixture(scope="module")
def table(ddb):
    name = unique_name("gz")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    wait_active(ddb, name)
    return name


def signed_post(endpoint, operation, body, encoding=None, secret=SECRET, send=None):
    """Signs `body` (bytes, as sent) for `operation` and posts it, with `Content-Encoding:
    encoding` when given; `send` replaces the bytes after signing (a tampered body)."""
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": f"DynamoDB_20120810.{operation}",
    }
    if encoding is not None:
        headers["Content-Encoding"] = encoding
    req = botocore.awsrequest.AWSRequest(
        method="POST", url=endpoint + "/", data=body, headers=headers
    )
    creds = botocore.credentials.Credentials(KEY, secret)
    botocore.auth.SigV4Auth(creds, "dynamodb", REGION).add_auth(req)
    return requests.post(
        endpoint + "/", headers=dict(req.headers), data=body if send is None else send, timeout=60
    )


def put_doc(table, pk, **extra):
    item = {"pk": {"S": pk}}
    item.update({k: {"S": v} for k, v in extra.items()})
    return json.dumps({"TableName": table, "Item": item}).encode()


def stored(ddb, table, pk):
    return ddb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


def test_boto3_gzip_requests(auth_endpoint, table, ddb):  # noqa: F811
    gz = client(auth_endpoint, request_min_compression_size_bytes=1)
    for op in gz.meta.service_model._service_description["operations"].values():
        op["requestcompression"] = {"encodings": ["gzip"]}
    sent = []
    gz.meta.events.register(
        "before-send.dynamodb.*", lambda request, **_: sent.append(request.headers.get("Content-Encoding"))
    )
    big = "x" * 150_000 + "y" * 150_000
    gz.put_item(TableName=table, Item={"pk": {"S": "boto3"}, "big": {"S": big}})
    got = gz.get_item(TableName=table, Key={"pk": {"S": "boto3"}}, ConsistentRead=True)
    assert got["Item"]["big"]["S"] == big
    assert sent == [b"gzip", b"gzip"] or sent == ["gzip", "gzip"]
    assert stored(ddb, table, "boto3")["big"]["S"] == big


def test_signed_gzip_and_deflate(auth_endpoint, table, ddb):  # noqa: F811
    r = signed_post(auth_endpoint, "PutItem", gzip.compress(put_doc(table, "g", v="1")), "gzip")
    assert r.status_code == 200, r.text
    r = signed_post(auth_endpoint, "PutItem", zlib.compress(put_doc(table, "d", v="2")), "deflate")
    assert r.status_code == 200, r.text
    doc = put_doc(table, "two", v="3")
    r = signed_post(auth_endpoint, "PutItem", gzip.compress(doc[:10]) + gzip.compress(doc[10:]), "gzip")
    assert r.status_code == 200, r.text
    r = signed_post(auth_endpoint, "PutItem", put_doc(table, "id", v="4"), "identity")
    assert r.status_code == 200, r.text
    assert stored(ddb, table, "g")["v"] == {"S": "1"}
    assert stored(ddb, table, "d")["v"] == {"S": "2"}
    assert stored(ddb, table, "two")["v"] == {"S": "3"}
    assert stored(ddb, table, "id")["v"] == {"S": "4"}


def test_signature_covers_the_compressed_bytes(auth_endpoint, table, ddb):  # noqa: F811
    body = gzip.compress(put_doc(table, "tampered"))
    other = gzip.compress(put_doc(table, "tampered", v="evil"))
    r = signed_post(auth_endpoint, "PutItem", body, "gzip", send=other)
    assert r.status_code == 400
    assert r.json()["__type"].endswith("#InvalidSignatureException")
    r = signed_post(auth_endpoint, "PutItem", body, "gzip", secret="wrong")
    assert r.status_code == 400
    assert r.json()["__type"].endswith("#InvalidSignatureException")
    assert stored(ddb, table, "tampered") is None


def broken_bodies(table):
    doc = put_doc(table, "broken")
    g, z = gzip.compress(doc), zlib.compress(doc)
    return [
        ("gzip", b"", "empty"),
        ("gzip", doc, "plain JSON"),
        ("gzip", g[:-1], "truncated"),
        ("gzip", g[: len(g) // 2], "cut in half"),
        ("gzip", g + b"junk", "trailing garbage"),
        ("deflate", b"", "empty"),
        ("deflate", doc, "plain JSON"),
        ("deflate", z[:-1], "truncated"),
        ("deflate", z + b"junk", "trailing garbage"),
        ("deflate", g, "gzip sent as deflate"),
    ]


def test_broken_bodies_answer_internal_server_error(auth_endpoint, table, ddb):  # noqa: F811
    for encoding, body, what in broken_bodies(table):
        r = signed_post(auth_endpoint, "PutItem", body, encoding)
        assert r.status_code == 500, (encoding, what, r.text)
        err = r.json()
        assert err["__type"] == INTERNAL, (encoding, what, err)
        assert err["message"].startswith(f"The request body could not be decoded as {encoding}"), err
    assert stored(ddb, table, "broken") is None


def test_unknown_content_encoding(auth_endpoint, table, ddb):  # noqa: F811
    for encoding in ("br", "compress", "garbage"):
        r = signed_post(auth_endpoint, "PutItem", put_doc(table, "unknown"), encoding)
        assert r.status_code == 500, r.text
        err = r.json()
        assert err["__type"] == INTERNAL
        assert err["message"].startswith(f"Unsupported Content-Encoding: {encoding}")
    assert stored(ddb, table, "unknown") is None


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_body_inflating_past_16_mb_is_refused(auth_endpoint, table, ddb, encoding):  # noqa: F811
    doc = put_doc(table, "bomb-" + encoding)
    doc = doc[:-1] + b" " * (20 * 1024 * 1024) + doc[-1:]
    body = gzip.compress(doc) if encoding == "gzip" else zlib.compress(doc)
    assert len(body) < 100_000
    r = signed_post(auth_endpoint, "PutItem", body, encoding)
    assert r.status_code in (400, 413), r.text
    err = r.json()
    assert err["__type"].endswith("#ValidationException")
    assert "Request size exceeded" in err["message"]
    assert stored(ddb, table, "bomb-" + encoding) is None
    # Just under the limit still works once decoded.
    doc = put_doc(table, "near-" + encoding)
    doc = doc[:-1] + b" " * (15 * 1024 * 1024) + doc[-1:]
    body = gzip.compress(doc) if encoding == "gzip" else zlib.compress(doc)
    r = signed_post(auth_endpoint, "PutItem", body, encoding)
    assert r.status_code == 200, r.text
    assert stored(ddb, table, "near-" + encoding) is not None
