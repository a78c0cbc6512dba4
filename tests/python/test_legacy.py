"""Legacy (pre-expression) parameters (issue 3): AttributesToGet, Expected,
AttributeUpdates, KeyConditions, QueryFilter, ScanFilter, ConditionalOperator."""

import pytest
from botocore.exceptions import ClientError

from conftest import canon, error_code

pytestmark = pytest.mark.issue3

K = {"pk": {"S": "k"}}


def get(ddb, table):
    return ddb.get_item(TableName=table, Key=K, ConsistentRead=True).get("Item")


def test_attributes_to_get(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "a": {"N": "1"}, "b": {"N": "2"}})
    got = ddb.get_item(TableName=table, Key=K, AttributesToGet=["a", "missing"])["Item"]
    assert got == {"a": {"N": "1"}}


def test_expected_exists_false_and_value(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "1"}}, Expected={"pk": {"Exists": False}})
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "2"}}, Expected={"pk": {"Exists": False}})
    assert error_code(e) == "ConditionalCheckFailedException"
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "2"}}, Expected={"v": {"Value": {"N": "1"}}})
    with pytest.raises(ClientError) as e:
        ddb.put_item(
            TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "3"}}, Expected={"v": {"Exists": True, "Value": {"N": "1"}}}
        )
    assert error_code(e) == "ConditionalCheckFailedException"
    assert get(ddb, table)["v"] == {"N": "2"}


def test_expected_comparison_operators(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "5"}, "s": {"S": "hello"}})
    ok = {
        "v": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "4"}]},
        "s": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "he"}]},
    }
    ddb.update_item(TableName=table, Key=K, AttributeUpdates={"m1": {"Action": "PUT", "Value": {"BOOL": True}}}, Expected=ok)
    bad = {
        "v": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "4"}]},
        "s": {"ComparisonOperator": "NOT_NULL"},
    }
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key=K, AttributeUpdates={"m2": {"Action": "PUT", "Value": {"BOOL": True}}}, Expected=bad)
    assert error_code(e) == "ConditionalCheckFailedException"
    ddb.update_item(
        TableName=table, Key=K, AttributeUpdates={"m3": {"Action": "PUT", "Value": {"BOOL": True}}},
        Expected=bad, ConditionalOperator="OR",
    )
    got = get(ddb, table)
    assert "m1" in got and "m2" not in got and "m3" in got


def test_delete_with_expected(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "5"}})
    with pytest.raises(ClientError) as e:
        ddb.delete_item(TableName=table, Key=K, Expected={"v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "6"}]}})
    assert error_code(e) == "ConditionalCheckFailedException"
    ddb.delete_item(TableName=table, Key=K, Expected={"v": {"ComparisonOperator": "IN", "AttributeValueList": [{"N": "4"}, {"N": "5"}]}})
    assert get(ddb, table) is None


def test_attribute_updates(ddb, table):
    ddb.put_item(
        TableName=table,
        Item={"pk": {"S": "k"}, "n": {"N": "1"}, "ss": {"SS": ["a", "b"]}, "gone": {"S": "x"}, "keep": {"S": "y"}},
    )
    r = ddb.update_item(
        TableName=table,
        Key=K,
        AttributeUpdates={
            "n": {"Action": "ADD", "Value": {"N": "2"}},
            "ss": {"Action": "DELETE", "Value": {"SS": ["a"]}},
            "gone": {"Action": "DELETE"},
            "new": {"Action": "PUT", "Value": {"L": [{"S": "z"}]}},
            "ns": {"Action": "ADD", "Value": {"NS": ["7"]}},
        },
        ReturnValues="ALL_NEW",
    )
    expected = {
        "pk": {"S": "k"},
        "n": {"N": "3"},
        "ss": {"SS": ["b"]},
        "keep": {"S": "y"},
        "new": {"L": [{"S": "z"}]},
        "ns": {"NS": ["7"]},
    }
    assert canon(r["Attributes"]) == canon(expected)
    assert canon(get(ddb, table)) == canon(expected)


def test_attribute_updates_creates_item(ddb, table):
    ddb.update_item(TableName=table, Key=K, AttributeUpdates={"c": {"Action": "ADD", "Value": {"N": "1"}}})
    assert get(ddb, table) == {"pk": {"S": "k"}, "c": {"N": "1"}}


@pytest.fixture
def rows(ddb, table_hr):
    for sk in range(1, 11):
        ddb.put_item(
            TableName=table_hr,
            Item={"pk": {"S": "p"}, "sk": {"N": str(sk)}, "v": {"N": str(sk % 3)}, "tag": {"S": f"t{sk}"}},
        )
    return table_hr


def sks(r):
    return [int(i["sk"]["N"]) for i in r["Items"]]


def test_key_conditions(ddb, rows):
    r = ddb.query(
        TableName=rows,
        KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
            "sk": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "3"}, {"N": "6"}]},
        },
    )
    assert sks(r) == [3, 4, 5, 6]
    r = ddb.query(
        TableName=rows,
        KeyConditions={
            "pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]},
            "sk": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "8"}]},
        },
        ScanIndexForward=False,
        AttributesToGet=["sk"],
    )
    assert r["Items"] == [{"sk": {"N": "10"}}, {"sk": {"N": "9"}}]


def test_query_filter(ddb, rows):
    r = ddb.query(
        TableName=rows,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}},
        QueryFilter={"v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "0"}]}},
    )
    assert sks(r) == [3, 6, 9]
    assert r["ScannedCount"] == 10
    r = ddb.query(
        TableName=rows,
        KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}},
        QueryFilter={
            "v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "0"}]},
            "tag": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "t1"}]},
        },
        ConditionalOperator="OR",
    )
    assert sks(r) == [1, 3, 6, 9]


def test_scan_filter(ddb, rows):
    r = ddb.scan(TableName=rows, ScanFilter={"v": {"ComparisonOperator": "GE", "AttributeValueList": [{"N": "2"}]}})
    assert sorted(sks(r)) == [2, 5, 8]
    r = ddb.scan(TableName=rows, ScanFilter={"tag": {"ComparisonOperator": "CONTAINS", "AttributeValueList": [{"S": "1"}]}})
    assert sorted(sks(r)) == [1, 10]
    r = ddb.scan(TableName=rows, ScanFilter={"nope": {"ComparisonOperator": "NULL"}, "sk": {"ComparisonOperator": "LE", "AttributeValueList": [{"N": "2"}]}})
    assert sorted(sks(r)) == [1, 2]
    r = ddb.scan(TableName=rows, ScanFilter={"tag": {"ComparisonOperator": "NOT_CONTAINS", "AttributeValueList": [{"S": "1"}]}})
    assert sorted(sks(r)) == [2, 3, 4, 5, 6, 7, 8, 9]


def test_legacy_validation(ddb, rows):
    # Wrong number of values for the operator.
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=rows, ScanFilter={"v": {"ComparisonOperator": "BETWEEN", "AttributeValueList": [{"N": "1"}]}})
    assert error_code(e) == "ValidationException"
    # Mixing legacy and expression parameters.
    with pytest.raises(ClientError) as e:
        ddb.get_item(TableName=rows, Key={"pk": {"S": "p"}, "sk": {"N": "1"}}, AttributesToGet=["v"], ProjectionExpression="tag")
    assert error_code(e) == "ValidationException"
    assert "Can not use both expression and non-expression parameters" in e.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as e:
        ddb.query(
            TableName=rows,
            KeyConditions={"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "p"}]}},
            FilterExpression="v = :z",
            ExpressionAttributeValues={":z": {"N": "0"}},
        )
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.put_item(
            TableName=rows, Item={"pk": {"S": "p"}, "sk": {"N": "1"}},
            Expected={"v": {"Exists": False}}, ConditionExpression="attribute_exists(v)",
        )
    assert error_code(e) == "ValidationException"
    # Key conditions need EQ on the partition key.
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=rows, KeyConditions={"pk": {"ComparisonOperator": "GT", "AttributeValueList": [{"S": "a"}]}})
    assert error_code(e) == "ValidationException"
