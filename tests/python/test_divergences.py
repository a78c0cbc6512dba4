"""Behaviours once seen to differ from DynamoDB's answers (issue 17, "Named divergences"), each
asserting DynamoDB's answer: the error type, and the message where DynamoDB's is stable."""

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import error_code, error_message, raw_call, unique_name

K = {"pk": {"S": "k"}}


def _expect(code, call, *, contains=None):
    with pytest.raises(ClientError) as e:
        call()
    assert error_code(e) == code, e.value.response["Error"]
    if contains is not None:
        assert contains in error_message(e), error_message(e)
    return e


def _item(ddb, table, key=K):
    return ddb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")


# --- updates and conditions -------------------------------------------------------------------


def test_set_past_the_end_of_a_list_appends(ddb, table):
    ddb.put_item(TableName=table, Item={**K, "l": {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]}})
    out = ddb.update_item(TableName=table, Key=K, UpdateExpression="SET l[10] = :v",
                          ExpressionAttributeValues={":v": {"N": "9"}}, ReturnValues="ALL_NEW")
    assert out["Attributes"]["l"] == {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}, {"N": "9"}]}


def test_an_update_that_only_removes_does_not_create_the_item(ddb, table):
    for update in ("REMOVE a", "REMOVE a, b.c"):
        out = ddb.update_item(TableName=table, Key={"pk": {"S": "absent"}}, UpdateExpression=update,
                              ReturnValues="ALL_NEW")
        assert "Attributes" not in out
        assert _item(ddb, table, {"pk": {"S": "absent"}}) is None
    # DELETE from a set of a missing item creates nothing either.
    ddb.update_item(TableName=table, Key={"pk": {"S": "absent"}}, UpdateExpression="DELETE s :v",
                    ExpressionAttributeValues={":v": {"SS": ["x"]}})
    assert _item(ddb, table, {"pk": {"S": "absent"}}) is None
    # Legacy AttributeUpdates DELETE the same way; an update that sets something creates it.
    ddb.update_item(TableName=table, Key={"pk": {"S": "absent"}}, AttributeUpdates={"a": {"Action": "DELETE"}})
    assert _item(ddb, table, {"pk": {"S": "absent"}}) is None
    ddb.update_item(TableName=table, Key={"pk": {"S": "absent"}}, UpdateExpression="SET a = :v REMOVE b",
                    ExpressionAttributeValues={":v": {"N": "1"}})
    assert _item(ddb, table, {"pk": {"S": "absent"}}) == {"pk": {"S": "absent"}, "a": {"N": "1"}}
    # An update with no expression at all still creates the item, as in DynamoDB.
    ddb.update_item(TableName=table, Key={"pk": {"S": "bare"}})
    assert _item(ddb, table, {"pk": {"S": "bare"}}) == {"pk": {"S": "bare"}}


def test_an_only_removing_transaction_update_does_not_create_the_item(ddb, table):
    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": table, "Key": {"pk": {"S": "absent"}}, "UpdateExpression": "REMOVE a"}},
    ])
    assert _item(ddb, table, {"pk": {"S": "absent"}}) is None


@pytest.mark.parametrize("value", [
    {"L": [{"N": "1"}]}, {"M": {"a": {"N": "1"}}}, {"SS": ["a"]}, {"NS": ["1"]}, {"BS": [b"a"]},
    {"BOOL": True}, {"NULL": True},
])
@pytest.mark.parametrize("condition", ["n < :v", ":v >= n", "n BETWEEN :v AND :w", "n BETWEEN :w AND :v"])
def test_ordering_an_unorderable_constant_is_a_validation_error(ddb, table, value, condition):
    ddb.put_item(TableName=table, Item={**K, "n": {"N": "5"}})
    values = {":v": value}
    if ":w" in condition:
        values[":w"] = {"N": "10"}
    e = _expect("ValidationException", lambda: ddb.put_item(
        TableName=table, Item={**K, "z": {"N": "1"}}, ConditionExpression=condition,
        ExpressionAttributeValues=values))
    assert error_message(e).startswith(
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: "
    ), error_message(e)
    assert _item(ddb, table)["n"] == {"N": "5"} and "z" not in _item(ddb, table)


def test_ordering_against_an_attribute_of_another_type_is_only_false(ddb, table):
    ddb.put_item(TableName=table, Item={**K, "n": {"N": "5"}, "s": {"S": "x"},
                                        "l": {"L": [{"N": "1"}]}})
    for condition, values in [
        ("s < n", None), ("l < :v", {":v": {"N": "1"}}), ("gone < :v", {":v": {"N": "1"}}),
        ("l BETWEEN :v AND :v", {":v": {"N": "1"}}),
    ]:
        kw = {"ExpressionAttributeValues": values} if values else {}
        _expect("ConditionalCheckFailedException", lambda: ddb.put_item(
            TableName=table, Item=K, ConditionExpression=condition, **kw))


def test_contains_on_binary_values_and_binary_sets(ddb, table):
    ddb.put_item(TableName=table, Item={**K, "b": {"B": b"abcdef"}, "bs": {"BS": [b"xy", b"z"]}})
    for condition, needle in [("contains(b, :v)", b"cde"), ("contains(bs, :v)", b"xy")]:
        ddb.put_item(TableName=table, Item={**K, "b": {"B": b"abcdef"}, "bs": {"BS": [b"xy", b"z"]}},
                     ConditionExpression=condition, ExpressionAttributeValues={":v": {"B": needle}})
    for condition, needle in [("contains(b, :v)", b"ce"), ("contains(bs, :v)", b"x")]:
        _expect("ConditionalCheckFailedException", lambda: ddb.put_item(
            TableName=table, Item=K, ConditionExpression=condition,
            ExpressionAttributeValues={":v": {"B": needle}}))


def test_size_of_a_constant_and_attribute_type_forms(ddb, table):
    ddb.put_item(TableName=table, Item={**K, "m": {"M": {"x": {"N": "1"}}}, "l": {"L": [{"S": "ab"}]}})
    # size(:v) is the size of the value itself (DynamoDB takes a constant here).
    ddb.update_item(TableName=table, Key=K, UpdateExpression="SET z = :one",
                    ConditionExpression="size(:s) = :three",
                    ExpressionAttributeValues={":s": {"S": "abc"}, ":three": {"N": "3"}, ":one": {"N": "1"}})
    e = _expect("ValidationException", lambda: ddb.update_item(
        TableName=table, Key=K, UpdateExpression="SET z = :one", ConditionExpression="size(:n) > :one",
        ExpressionAttributeValues={":n": {"N": "12"}, ":one": {"N": "1"}}))
    assert error_message(e) == ("Invalid ConditionExpression: Incorrect operand type for operator or "
                                "function; operator or function: size, operand type: N")
    # size() and attribute_type() on nested paths.
    ddb.update_item(TableName=table, Key=K, UpdateExpression="SET z = :one",
                    ConditionExpression="size(l[0]) = :two AND attribute_type(m.x, :n)",
                    ExpressionAttributeValues={":two": {"N": "2"}, ":n": {"S": "N"}, ":one": {"N": "1"}})
    _expect("ValidationException", lambda: ddb.update_item(
        TableName=table, Key=K, UpdateExpression="SET z = :one", ConditionExpression="attribute_type(m, :t)",
        ExpressionAttributeValues={":t": {"N": "1"}, ":one": {"N": "1"}}), contains="attribute_type")


def test_legacy_expected_contains_not_contains_in_and_empty(ddb, table):
    ddb.put_item(TableName=table, Item={**K, "ss": {"SS": ["a", "b"]}, "s": {"S": "hello"}})
    ddb.put_item(TableName=table, Item={**K, "ss": {"SS": ["a", "b"]}, "s": {"S": "hello"}}, Expected={
        "ss": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "a"}]},
        "s": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "z"}]},
        "pk": {"ComparisonOperator": "IN", "AttributeValueList": [{"S": "x"}, {"S": "k"}]},
    })
    _expect("ConditionalCheckFailedException", lambda: ddb.put_item(TableName=table, Item=K, Expected={
        "ss": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "z"}]}}))
    # An empty Expected is no condition...
    ddb.put_item(TableName=table, Item={**K, "v": {"N": "1"}}, Expected={})
    assert _item(ddb, table)["v"] == {"N": "1"}


def test_conditional_operator_needs_expected(ddb_raw, table):
    for extra in ({}, {"Expected": {}}):
        _expect("ValidationException", lambda: ddb_raw.put_item(
            TableName=table, Item=K, ConditionalOperator="AND", **extra), contains="ConditionalOperator")
    _expect("ValidationException", lambda: ddb_raw.update_item(
        TableName=table, Key=K, AttributeUpdates={"z": {"Value": {"N": "4"}, "Action": "PUT"}},
        ConditionalOperator="OR"), contains="ConditionalOperator")


def test_update_expression_paths_of_the_wrong_shape(ddb, table):
    ddb.put_item(TableName=table, Item={**K, "s": {"S": "x"}, "m": {"M": {"a": {"N": "1"}}}})
    _expect("ValidationException", lambda: ddb.update_item(
        TableName=table, Key=K, UpdateExpression="SET #x = :v", ExpressionAttributeValues={":v": {"N": "1"}}),
        contains="An expression attribute name used in the document path is not defined; attribute name: #x")
    for update in ("SET s.y = :v", "SET m[0] = :v", "SET gone.y = :v"):
        _expect("ValidationException", lambda: ddb.update_item(
            TableName=table, Key=K, UpdateExpression=update, ExpressionAttributeValues={":v": {"N": "1"}}),
            contains="The document path provided in the update expression is invalid for update")


def test_add_and_delete_type_mismatches_say_mismatch(ddb, table):
    ddb.put_item(TableName=table, Item={**K, "s": {"S": "x"}, "ss": {"SS": ["a"]}, "n": {"N": "1"}})
    cases = [
        ("ADD ss :v", {"NS": ["1"]}, "Type mismatch for ADD; operator type: NS, existing type: SS"),
        ("ADD s :v", {"N": "1"}, "Type mismatch for ADD; operator type: N, existing type: S"),
        ("ADD n :v", {"SS": ["a"]}, "Type mismatch for ADD; operator type: SS, existing type: N"),
        ("DELETE ss :v", {"NS": ["1"]}, "Type mismatch for DELETE; operator type: NS, existing type: SS"),
        ("DELETE n :v", {"NS": ["1"]}, "Type mismatch for DELETE; operator type: NS, existing type: N"),
    ]
    for update, value, message in cases:
        _expect("ValidationException", lambda: ddb.update_item(
            TableName=table, Key=K, UpdateExpression=update, ExpressionAttributeValues={":v": value}),
            contains=message)
    # Legacy AttributeUpdates the same way.
    _expect("ValidationException", lambda: ddb.update_item(
        TableName=table, Key=K, AttributeUpdates={"ss": {"Action": "DELETE", "Value": {"NS": ["1"]}}}),
        contains="mismatch")
    _expect("ValidationException", lambda: ddb.update_item(
        TableName=table, Key=K, AttributeUpdates={"ss": {"Action": "ADD", "Value": {"NS": ["1"]}}}),
        contains="mismatch")


# --- query, scan and projections ----------------------------------------------------------------


def test_select_with_projections(ddb, table):
    ddb.put_item(TableName=table, Item={**K, "a": {"S": "1"}, "b": {"S": "2"}})
    got = ddb.scan(TableName=table, Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="a")["Items"]
    assert got == [{"a": {"S": "1"}}]
    got = ddb.scan(TableName=table, Select="SPECIFIC_ATTRIBUTES", AttributesToGet=["b"])["Items"]
    assert got == [{"b": {"S": "2"}}]
    for select, what in (("ALL_ATTRIBUTES", "ALL_ATTRIBUTES"), ("COUNT", "only the COUNT")):
        _expect("ValidationException", lambda: ddb.scan(TableName=table, Select=select, ProjectionExpression="a"),
                contains=f"Cannot specify the ProjectionExpression when choosing to get {what}")
        _expect("ValidationException", lambda: ddb.scan(TableName=table, Select=select, AttributesToGet=["a"]),
                contains=f"Cannot specify the AttributesToGet when choosing to get {what}")
    _expect("ValidationException", lambda: ddb.scan(TableName=table, Select="SPECIFIC_ATTRIBUTES"),
            contains="Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES")
    _expect("ValidationException", lambda: ddb.scan(TableName=table, AttributesToGet=["a"], ProjectionExpression="a"),
            contains="Can not use both expression and non-expression parameters in the same request")


# --- names and limits -----------------------------------------------------------------------------


def test_attribute_name_lengths(ddb, table):
    ddb.put_item(TableName=table, Item={**K, "a" * 65535: {"S": "x"}})
    _expect("ValidationException", lambda: ddb.put_item(TableName=table, Item={**K, "a" * 65536: {"S": "x"}}),
            contains="65536")
    _expect("ValidationException", lambda: ddb.put_item(TableName=table, Item={**K, "": {"S": "x"}}),
            contains="Empty attribute name")


def test_key_attribute_names_are_at_most_255_bytes(ddb, make_table):
    make_table(hash_key=("k" * 255, "S"))
    long = "k" * 256
    _expect("ValidationException", lambda: ddb.create_table(
        TableName=unique_name("long-key"), BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": long, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": long, "AttributeType": "S"}]),
        contains="Member must have length less than or equal to 255")
    _expect("ValidationException", lambda: ddb.create_table(
        TableName=unique_name("long-gsi-key"), BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": long, "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "gsi", "KeySchema": [{"AttributeName": long, "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}]),
        contains="255")


def _with_index(ddb_raw, index_name):
    return lambda: ddb_raw.create_table(
        TableName=unique_name("ix"), BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": index_name, "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])


def test_index_names_are_3_to_255_characters(ddb_raw):
    _expect("ValidationException", _with_index(ddb_raw, "ab"),
            contains="Member must have length greater than or equal to 3")
    _expect("ValidationException", _with_index(ddb_raw, "i" * 256),
            contains="Member must have length less than or equal to 255")


def _arn(ddb, table):
    return ddb.describe_table(TableName=table)["Table"]["TableArn"]


def test_tag_rules(ddb, ddb_raw, table):
    arn = _arn(ddb, table)
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "k" * 128, "Value": "v" * 256},
                                            {"Key": "a b+c-d=e.f_g:h/i", "Value": ""}])
    for bad in ([], [{"Key": "k" * 129, "Value": "v"}], [{"Key": "k", "Value": "v" * 257}],
                [{"Key": "hi!", "Value": "v"}], [{"Key": "k", "Value": "d%g"}],
                [{"Key": "aws:owner", "Value": "v"}], [{"Key": "AWS:owner", "Value": "v"}]):
        _expect("ValidationException", lambda: ddb_raw.tag_resource(ResourceArn=arn, Tags=bad))
    _expect("ValidationException", lambda: ddb_raw.tag_resource(ResourceArn=arn))
    # 50 tags at most, counting those the table has.
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": f"t{i}", "Value": "v"} for i in range(48)])
    _expect("ValidationException", lambda: ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "v"}]),
            contains="50")
    assert len(ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]) == 50
    _expect("ValidationException", lambda: ddb.create_table(
        TableName=unique_name("tags"), BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        Tags=[{"Key": str(i), "Value": "v"} for i in range(51)]))


# --- HTTP surface ---------------------------------------------------------------------------------


def test_a_body_over_16_mb_answers_413(endpoint):
    body = b'{"TableName": "t",' + b" " * (16 * 1024 * 1024) + b"}"
    r = raw_call(endpoint, "DynamoDB_20120810.PutItem", body)
    assert r.status_code == 413, r.text
    assert r.json()["__type"].endswith("ValidationException")

    def chunked():
        yield body

    r = requests.post(endpoint + "/", data=chunked(), timeout=30,
                      headers={"X-Amz-Target": "DynamoDB_20120810.PutItem",
                               "Content-Type": "application/x-amz-json-1.0"})
    assert r.status_code == 413, r.text


def test_health_check_on_root_only(endpoint):
    host = endpoint.removeprefix("http://")
    r = requests.get(endpoint + "/", timeout=5)
    assert r.status_code == 200
    assert r.text == f"healthy: {host}"
    r = requests.get(endpoint + "/", headers={"Host": "dynamodb.us-east-1.amazonaws.com"}, timeout=5)
    assert r.text == "healthy: dynamodb.us-east-1.amazonaws.com"
    for path in ("/abc", "/-", "/index.htm"):
        assert 400 <= requests.get(endpoint + path, timeout=5).status_code < 500


# --- table lifecycle ------------------------------------------------------------------------------


def test_describe_time_to_live_after_enabling(ddb, endpoint, table):
    assert ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"] == {"TimeToLiveStatus": "DISABLED"}
    out = ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    assert out["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "exp"}
    desc = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert desc == {"AttributeName": "exp", "TimeToLiveStatus": "ENABLED"}
    # On the wire, in DynamoDB's order (botocore reorders members as its model lists them).
    r = raw_call(endpoint, "DynamoDB_20120810.DescribeTimeToLive", {"TableName": table})
    assert list(r.json()["TimeToLiveDescription"].items()) == [
        ("AttributeName", "exp"), ("TimeToLiveStatus", "ENABLED")]


# --- batch ----------------------------------------------------------------------------------------


def test_an_empty_request_list_in_a_batch_write_is_refused(ddb, ddb_raw, make_table):
    a, b = make_table(), make_table()
    put = {"PutRequest": {"Item": {"pk": {"S": "x"}}}}
    for items in ({a: []}, {a: [put], b: []}):
        _expect("ValidationException", lambda: ddb_raw.batch_write_item(RequestItems=items),
                contains="Member must have length greater than or equal to 1")
    assert _item(ddb, a, {"pk": {"S": "x"}}) is None


# --- capacity -------------------------------------------------------------------------------------


def _indexed_table(make_table):
    return make_table(
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])


def test_batch_write_capacity_counts_index_writes(ddb, make_table):
    t = _indexed_table(make_table)
    out = ddb.batch_write_item(ReturnConsumedCapacity="INDEXES", RequestItems={t: [
        {"PutRequest": {"Item": {"pk": {"S": "a"}, "g": {"S": "x"}}}},
        {"PutRequest": {"Item": {"pk": {"S": "b"}}}},
    ]})
    [c] = out["ConsumedCapacity"]
    assert c["Table"]["CapacityUnits"] == 2.0
    assert c["GlobalSecondaryIndexes"] == {"by-g": {"CapacityUnits": 1.0, "WriteCapacityUnits": 1.0}}
    assert c["CapacityUnits"] == 3.0
    out = ddb.batch_write_item(ReturnConsumedCapacity="TOTAL", RequestItems={t: [
        {"PutRequest": {"Item": {"pk": {"S": "a"}, "g": {"S": "y"}}}},
    ]})
    # The item moves in the index: an index delete and an index put.
    assert out["ConsumedCapacity"] == [{"TableName": t, "CapacityUnits": 3.0, "WriteCapacityUnits": 3.0}]


def test_transact_write_capacity_counts_index_writes(ddb, make_table):
    t = _indexed_table(make_table)
    out = ddb.transact_write_items(ReturnConsumedCapacity="INDEXES", TransactItems=[
        {"Put": {"TableName": t, "Item": {"pk": {"S": "a"}, "g": {"S": "x"}}}},
        {"Put": {"TableName": t, "Item": {"pk": {"S": "b"}}}},
    ])
    [c] = out["ConsumedCapacity"]
    assert c["Table"]["CapacityUnits"] == 4.0
    assert c["GlobalSecondaryIndexes"] == {"by-g": {"CapacityUnits": 2.0, "WriteCapacityUnits": 2.0}}
    assert c["CapacityUnits"] == 6.0
