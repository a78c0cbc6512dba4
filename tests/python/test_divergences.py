"""Behaviours once seen to differ from DynamoDB's answers (issue 17, "Named divergences"), each
asserting DynamoDB's answer: the error type, and the message where DynamoDB's is stable."""

import time

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import AwsFactory, error_code, error_message, raw_call, spawn_tarn, unique_name

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


KEY_PATH = "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: "


def test_a_path_into_a_key_attribute_is_refused_and_into_other_non_lists_matches_nothing(ddb, make_table):
    """As DynamoDB Local 3.3 answers: a document path that indexes or dots into a key attribute
    of the table (`Key: pk`) or of one of its indexes (`IndexKey: g`) is a ValidationException
    in every expression; into any other attribute that is not a list (or map) it just matches
    nothing."""
    t = make_table(hash_key=("pk", "S"), range_key=("sk", "S"), AttributeDefinitions=[
        {"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])
    key = {"pk": {"S": "k"}, "sk": {"S": "s"}}
    ddb.put_item(TableName=t, Item={**key, "g": {"S": "x"}, "m": {"M": {"x": {"N": "1"}}}, "s": {"S": "str"},
                                    "l": {"L": [{"N": "1"}]}})
    kv = {"ExpressionAttributeValues": {":k": {"S": "k"}}}
    cases = [
        ("Key: sk", lambda: ddb.get_item(TableName=t, Key=key, ProjectionExpression="sk[0]")),
        ("Key: pk", lambda: ddb.get_item(TableName=t, Key=key, ProjectionExpression="l, #p.a",
                                         ExpressionAttributeNames={"#p": "pk"})),
        ("IndexKey: g", lambda: ddb.get_item(TableName=t, Key=key, ProjectionExpression="g[0]")),
        ("IndexKey: g", lambda: ddb.scan(TableName=t, IndexName="by-g", ProjectionExpression="g[0]")),
        ("Key: pk", lambda: ddb.query(TableName=t, KeyConditionExpression="pk = :k", ProjectionExpression="pk[0]",
                                      **kv)),
        ("Key: pk", lambda: ddb.batch_get_item(RequestItems={t: {"Keys": [key], "ProjectionExpression": "pk[0]"}})),
        ("Key: pk", lambda: ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": t, "Key": key, "ProjectionExpression": "pk[0]"}}])),
        ("Key: pk", lambda: ddb.put_item(TableName=t, Item=key, ConditionExpression="attribute_exists(pk[0])")),
        ("Key: pk", lambda: ddb.scan(TableName=t, FilterExpression="attribute_exists(pk[0])")),
        ("Key: pk", lambda: ddb.update_item(TableName=t, Key=key, UpdateExpression="SET x = pk[0]")),
        ("Key: pk", lambda: ddb.execute_statement(Statement=f'SELECT pk[0] FROM "{t}"')),
    ]
    for which, call in cases:
        e = _expect("ValidationException", call)
        assert error_message(e) == KEY_PATH + which
    # Into a map, a string or past a list's end: nothing, no error.
    for projection in ("m[0]", "s[0]", "s.x", "l[5]", "m.x[0]", "gone[0]"):
        assert ddb.get_item(TableName=t, Key=key, ProjectionExpression=projection)["Item"] == {}
    assert ddb.get_item(TableName=t, Key=key, ProjectionExpression="l[0]")["Item"] == {"l": {"L": [{"N": "1"}]}}
    # AttributesToGet names attributes, not paths.
    assert ddb.get_item(TableName=t, Key=key, AttributesToGet=["pk[0]"])["Item"] == {}


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


def test_key_name_length_is_checked_before_its_definition(ddb_raw):
    """DynamoDB checks every member's constraints before comparing the key schema with the
    AttributeDefinitions: an over-long key name without a definition is reported as too long."""
    long = "k" * 256
    e = _expect("ValidationException", lambda: ddb_raw.create_table(
        TableName=unique_name("long-key"), BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": long, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}]))
    assert error_message(e) == (f"1 validation error detected: Value '{long}' at 'keySchema.1.member.attributeName' "
                                "failed to satisfy constraint: Member must have length less than or equal to 255")
    e = _expect("ValidationException", lambda: ddb_raw.create_table(
        TableName=unique_name("long-gsi-key"), BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{"IndexName": "gsi", "KeySchema": [{"AttributeName": long, "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}]))
    assert error_message(e) == (
        f"1 validation error detected: Value '{long}' at 'globalSecondaryIndexes.1.member.keySchema.1.member.attributeName' "
        "failed to satisfy constraint: Member must have length less than or equal to 255")
    # A key name of the right length without a definition: the definitions are compared.
    _expect("ValidationException", lambda: ddb_raw.create_table(
        TableName=unique_name("undefined-key"), BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "k" * 255, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}]),
        contains="Some index key attributes are not defined in AttributeDefinitions")


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


def test_no_combined_limit_on_table_and_index_names(ddb, make_table):
    """DynamoDB documents no limit on a table name and an index name together (each is 3 to 255
    characters), and DynamoDB Local 3.3 takes a 255-character table name with a 255-character
    index name, global or local: so does tarn."""
    def name(hint):
        return (hint + unique_name("x") * 30)[:255]
    index = "i" * 255
    ad = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"},
          {"AttributeName": "g", "AttributeType": "S"}]
    t = make_table(hash_key=("pk", "S"), range_key=("sk", "S"), name=name("g"), AttributeDefinitions=ad,
                   GlobalSecondaryIndexes=[{"IndexName": index, "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                            "Projection": {"ProjectionType": "ALL"}}],
                   LocalSecondaryIndexes=[{"IndexName": "l" * 255, "KeySchema": [
                       {"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "g", "KeyType": "RANGE"}],
                       "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    assert len(t) == 255
    ddb.put_item(TableName=t, Item={"pk": {"S": "a"}, "sk": {"S": "b"}, "g": {"S": "c"}})
    got = ddb.query(TableName=t, IndexName=index, KeyConditionExpression="g = :g",
                    ExpressionAttributeValues={":g": {"S": "c"}})["Items"]
    assert got == [{"pk": {"S": "a"}, "sk": {"S": "b"}, "g": {"S": "c"}}]
    # UpdateTable adds one the same way.
    u = make_table(name=name("u"), AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    ddb.update_table(TableName=u, AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
                     GlobalSecondaryIndexUpdates=[{"Create": {
                         "IndexName": index, "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                         "Projection": {"ProjectionType": "ALL"}}}])
    ixs = ddb.describe_table(TableName=u)["Table"]["GlobalSecondaryIndexes"]
    assert [i["IndexName"] for i in ixs] == [index]


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
    # A constraint failure names the tag by its place in the list.
    e = _expect("ValidationException", lambda: ddb_raw.tag_resource(
        ResourceArn=arn, Tags=[{"Key": "fine", "Value": "v"}, {"Key": "k" * 129, "Value": "v"}]))
    assert "at 'tags.2.member.key' failed to satisfy constraint" in error_message(e), error_message(e)
    e = _expect("ValidationException", lambda: ddb_raw.tag_resource(ResourceArn=arn, Tags=[{"Value": "v"}]))
    assert error_message(e) == ("1 validation error detected: Value null at 'tags.1.member.key' failed to "
                                "satisfy constraint: Member must not be null")
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


def test_delete_table_answers_dynamodb_members(ddb, make_table):
    """DeleteTable answers the table's name and status (DELETING), throughput figures, size and
    count, ARN and id, billing summary, deletion protection and stream, not its definition
    (attributes, keys, indexes, creation time), as DynamoDB's answers do."""
    t = _indexed_table(make_table)
    d = ddb.delete_table(TableName=t)["TableDescription"]
    assert d["TableStatus"] == "DELETING" and d["TableName"] == t
    assert set(d) == {"TableName", "TableStatus", "ProvisionedThroughput", "TableSizeBytes", "ItemCount",
                      "TableArn", "TableId", "BillingModeSummary", "DeletionProtectionEnabled"}
    assert d["ProvisionedThroughput"] == {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
    assert d["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    p = make_table(BillingMode="PROVISIONED", ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 3},
                   StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    ddb.update_table(TableName=p, ProvisionedThroughput={"ReadCapacityUnits": 6, "WriteCapacityUnits": 3})
    d = ddb.delete_table(TableName=p)["TableDescription"]
    assert set(d) == {"TableName", "TableStatus", "ProvisionedThroughput", "TableSizeBytes", "ItemCount",
                      "TableArn", "TableId", "DeletionProtectionEnabled", "StreamSpecification",
                      "LatestStreamLabel", "LatestStreamArn"}
    # Only the figures, without the dates of the last changes.
    assert d["ProvisionedThroughput"] == {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 6, "WriteCapacityUnits": 3}


def _stream_table(ddb, name):
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    return ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]


def _records(streams, arn):
    out = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            page = streams.get_records(ShardIterator=it)
            out += page["Records"]
            it = page.get("NextShardIterator") if page["Records"] else None
    return out


def test_a_deleted_tables_stream_stays_readable(ddb, aws):
    """As DynamoDB keeps it (for 24 hours): listed, described DISABLED with closed shards, and
    read as before; a new table of the same name gets a stream of its own beside it."""
    streams = aws.streams()
    name = unique_name("deleted-stream")
    arn = _stream_table(ddb, name)
    for k in ("a", "b"):
        ddb.put_item(TableName=name, Item={"pk": {"S": k}})
    ddb.delete_table(TableName=name)
    assert [s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]] == [arn]
    assert arn in [s["StreamArn"] for s in streams.list_streams()["Streams"]]
    d = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert d["StreamStatus"] == "DISABLED" and d["TableName"] == name
    assert d["Shards"] and all("EndingSequenceNumber" in s["SequenceNumberRange"] for s in d["Shards"])
    records = _records(streams, arn)
    assert sorted(r["dynamodb"]["Keys"]["pk"]["S"] for r in records) == ["a", "b"]
    assert {r["eventName"] for r in records} == {"INSERT"}
    # The table itself is gone.
    _expect("ResourceNotFoundException", lambda: ddb.describe_table(TableName=name))
    # A new table of that name: two streams, each with its own records.
    new_arn = _stream_table(ddb, name)
    ddb.put_item(TableName=name, Item={"pk": {"S": "c"}})
    listed = [s["StreamArn"] for s in streams.list_streams(TableName=name)["Streams"]]
    assert sorted(listed) == sorted([arn, new_arn]) and new_arn != arn
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in _records(streams, new_arn)] == ["c"]
    assert len(_records(streams, arn)) == 2
    ddb.delete_table(TableName=name)


@pytest.fixture(scope="module")
def short_retention():
    """A server of its own that keeps stream records (and deleted tables' streams) for 2 s."""
    with spawn_tarn("--stream-retention", "2s", "--ttl-sweep-interval", "200ms") as server:
        yield AwsFactory(server.endpoint)


def test_a_deleted_tables_stream_goes_after_the_retention(short_retention):
    ddb, streams = short_retention.client(), short_retention.streams()
    name = unique_name("deleted-stream")
    arn = _stream_table(ddb, name)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    ddb.delete_table(TableName=name)
    assert streams.describe_stream(StreamArn=arn)["StreamDescription"]["StreamStatus"] == "DISABLED"
    deadline = time.monotonic() + 20
    while _listed(streams, name):
        assert time.monotonic() < deadline, "the deleted table's stream was never dropped"
        time.sleep(0.2)
    _expect("ResourceNotFoundException", lambda: streams.describe_stream(StreamArn=arn))
    _expect("ResourceNotFoundException", lambda: streams.list_streams(TableName=name))


def _listed(streams, name):
    try:
        return bool(streams.list_streams(TableName=name)["Streams"])
    except ClientError:
        return False


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
