"""Error cases (issue 2) with DynamoDB's exact exception names, through boto3 and
through raw HTTP for inputs an SDK would never send."""

import json
import zlib

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, error_message, raw_call, unique_name

TARGET = "DynamoDB_20120810."


def _type_of(resp):
    body = resp.json()
    return body.get("__type", "")


# --- key validation -------------------------------------------------------------------


def test_wrong_key_type_put(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"N": "1"}})
    assert error_code(e) == "ValidationException"
    assert "Type mismatch" in error_message(e)


def test_wrong_key_type_get_and_delete(ddb, table):
    for call in (ddb.get_item, ddb.delete_item):
        with pytest.raises(ClientError) as e:
            call(TableName=table, Key={"pk": {"B": b"x"}})
        assert error_code(e) == "ValidationException"


def test_missing_key_attribute_put(ddb, table_hr):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table_hr, Item={"pk": {"S": "a"}, "v": {"S": "x"}})
    assert error_code(e) == "ValidationException"
    assert "Missing the key sk" in error_message(e)
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table_hr, Item={"sk": {"N": "1"}})
    assert error_code(e) == "ValidationException"
    assert "Missing the key pk" in error_message(e)


def test_missing_key_attribute_get(ddb, table_hr):
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName=table_hr, Key={"pk": {"S": "a"}})
    assert error_code(e) == "ValidationException"
    assert "The provided key element does not match the schema" in error_message(e)


def test_extra_key_attribute_get(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "other": {"S": "b"}})
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName=table, Key={"pk": {"S": "a"}, "other": {"S": "b"}})
    assert error_code(e) == "ValidationException"
    assert "The provided key element does not match the schema" in error_message(e)
    with pytest.raises(ClientError) as e:
        ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}, "other": {"S": "b"}})
    assert error_code(e) == "ValidationException"
    assert "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})


def test_wrong_key_name_get(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName=table, Key={"id": {"S": "a"}})
    assert error_code(e) == "ValidationException"


@pytest.mark.parametrize("empty", [{"S": ""}, {"B": b""}])
def test_empty_key_value(ddb, make_table, empty):
    t = "S" if "S" in empty else "B"
    name = make_table(("pk", t))
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item={"pk": empty})
    assert error_code(e) == "ValidationException"
    assert "empty" in error_message(e)
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName=name, Key={"pk": empty})
    assert error_code(e) == "ValidationException"


def test_empty_sort_key_value(ddb, make_table):
    name = make_table(("pk", "S"), ("sk", "S"))
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": ""}})
    assert error_code(e) == "ValidationException"


# --- attribute value validation ---------------------------------------------------------


@pytest.mark.parametrize("empty", [{"SS": []}, {"NS": []}, {"BS": []}])
def test_empty_set(ddb_raw, table, empty):
    with pytest.raises(ClientError) as e:
        ddb_raw.put_item(TableName=table, Item={"pk": {"S": "a"}, "s": empty})
    assert error_code(e) == "ValidationException"
    assert "Item" not in ddb_raw.get_item(TableName=table, Key={"pk": {"S": "a"}})


@pytest.mark.parametrize(
    "dup",
    [
        {"SS": ["a", "b", "a"]},
        {"NS": ["1", "2", "1"]},
        {"NS": ["1", "1.0"]},  # equal numbers after normalization
        {"BS": [b"x", b"x"]},
    ],
)
def test_duplicate_set_members(ddb, table, dup):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "s": dup})
    assert error_code(e) == "ValidationException"
    assert "duplicates" in error_message(e)


def test_nested_empty_and_duplicate_sets(ddb_raw, table):
    with pytest.raises(ClientError) as e:
        ddb_raw.put_item(TableName=table, Item={"pk": {"S": "a"}, "m": {"M": {"x": {"L": [{"SS": []}]}}}})
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb_raw.put_item(TableName=table, Item={"pk": {"S": "a"}, "m": {"M": {"x": {"SS": ["q", "q"]}}}})
    assert error_code(e) == "ValidationException"


def test_oversized_item(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "d": {"S": "x" * (401 * 1024)}})
    assert error_code(e) == "ValidationException"
    assert "size" in error_message(e).lower()


def test_nesting_too_deep(ddb, table):
    v = {"S": "leaf"}
    for i in range(40):
        v = {"M": {"a": v}} if i % 2 else {"L": [v]}
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": v})
    assert error_code(e) == "ValidationException"


# --- missing tables ------------------------------------------------------------------------


def test_table_not_found_everywhere(ddb):
    name = unique_name("missing")
    calls = [
        lambda: ddb.describe_table(TableName=name),
        lambda: ddb.put_item(TableName=name, Item={"pk": {"S": "a"}}),
        lambda: ddb.get_item(TableName=name, Key={"pk": {"S": "a"}}),
        lambda: ddb.delete_item(TableName=name, Key={"pk": {"S": "a"}}),
        lambda: ddb.delete_table(TableName=name),
        lambda: ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e) == "ResourceNotFoundException"


def test_duplicate_table(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "x", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "x", "AttributeType": "N"}],
            BillingMode="PAY_PER_REQUEST",
        )
    assert error_code(e) == "ResourceInUseException"
    # The original table is untouched.
    ks = ddb.describe_table(TableName=table)["Table"]["KeySchema"]
    assert ks == [{"AttributeName": "pk", "KeyType": "HASH"}]


# --- raw wire protocol -----------------------------------------------------------------------


def test_bad_json_is_serialization_exception(endpoint):
    r = raw_call(endpoint, TARGET + "ListTables", b"{not json")
    assert r.status_code == 400
    assert _type_of(r).endswith("#SerializationException")


def test_wrong_json_type_is_serialization_exception(endpoint, table):
    # Key must be a map; a JSON string where a structure is expected.
    r = raw_call(endpoint, TARGET + "GetItem", {"TableName": table, "Key": "not-a-map"})
    assert r.status_code == 400
    assert _type_of(r).endswith("#SerializationException")


def test_unknown_operation(endpoint):
    r = raw_call(endpoint, TARGET + "FlyToTheMoon", {})
    assert r.status_code == 400
    assert _type_of(r).endswith("#UnknownOperationException")


def test_error_wire_format(endpoint):
    name = unique_name("missing")
    r = raw_call(endpoint, TARGET + "DescribeTable", {"TableName": name})
    assert r.status_code == 400
    assert r.headers["Content-Type"].startswith("application/x-amz-json-1.0")
    body = r.json()
    assert body["__type"] == "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
    assert isinstance(body.get("message", body.get("Message")), str)
    assert r.headers.get("x-amzn-RequestId")
    assert int(r.headers["x-amz-crc32"]) == zlib.crc32(r.content)


def test_success_wire_format(endpoint):
    r = raw_call(endpoint, TARGET + "ListTables", {"Limit": 1})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/x-amz-json-1.0")
    assert int(r.headers["x-amz-crc32"]) == zlib.crc32(r.content)
    assert r.headers.get("x-amzn-RequestId")
    assert isinstance(r.json()["TableNames"], list)


def test_attribute_value_with_two_types(endpoint, table):
    r = raw_call(
        endpoint,
        TARGET + "PutItem",
        {"TableName": table, "Item": {"pk": {"S": "a"}, "v": {"S": "x", "N": "1"}}},
    )
    assert r.status_code == 400
    assert _type_of(r).endswith("#ValidationException")


def test_attribute_value_with_no_type(endpoint, table):
    r = raw_call(endpoint, TARGET + "PutItem", {"TableName": table, "Item": {"pk": {"S": "a"}, "v": {}}})
    assert r.status_code == 400
    assert _type_of(r).endswith("#ValidationException")


def test_missing_required_parameter(endpoint):
    r = raw_call(endpoint, TARGET + "PutItem", {"Item": {"pk": {"S": "a"}}})
    assert r.status_code == 400
    assert _type_of(r).endswith("#ValidationException")
    r = raw_call(endpoint, TARGET + "GetItem", {"TableName": unique_name("x")})
    assert r.status_code == 400
    assert _type_of(r).endswith("#ValidationException")


def test_invalid_enum_value(endpoint, table):
    r = raw_call(
        endpoint,
        TARGET + "PutItem",
        {"TableName": table, "Item": {"pk": {"S": "a"}}, "ReturnValues": "EVERYTHING"},
    )
    assert r.status_code == 400
    assert _type_of(r).endswith("#ValidationException")


def test_bad_base64_binary(endpoint, table):
    r = raw_call(
        endpoint,
        TARGET + "PutItem",
        {"TableName": table, "Item": {"pk": {"S": "a"}, "b": {"B": "!!!not base64!!!"}}},
    )
    assert r.status_code == 400
    assert _type_of(r).endswith("#SerializationException") or _type_of(r).endswith(
        "#ValidationException"
    )


def test_missing_target_header(endpoint):
    r = raw_call(endpoint, None, {})
    assert r.status_code == 400
    assert _type_of(r).endswith("#UnknownOperationException") or _type_of(r).endswith(
        "#SerializationException"
    ) or _type_of(r).endswith("#MissingAction")


def test_amz_json_1_1_content_type_accepted(endpoint):
    # Some SDKs and tools send application/x-amz-json-1.1; DynamoDB answers it too.
    r = raw_call(endpoint, TARGET + "ListTables", {}, content_type="application/x-amz-json-1.1")
    assert r.status_code == 200
    assert isinstance(r.json()["TableNames"], list)


def test_server_survives_garbage(endpoint, ddb):
    for body in [b"", b"null", b"[]", b"\xff\xfe\x00", b"{" * 10000, json.dumps({"TableName": 5}).encode()]:
        r = raw_call(endpoint, TARGET + "DescribeTable", body)
        assert r.status_code == 400, (body[:20], r.status_code, r.text[:200])
    assert isinstance(ddb.list_tables()["TableNames"], list)
