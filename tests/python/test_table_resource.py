"""boto3's high-level Table resource with Key/Attr condition builders (issue 3)."""

from decimal import Decimal

import pytest
from boto3.dynamodb.conditions import Attr, Key
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from conftest import unique_name, wait_active

pytestmark = pytest.mark.issue3


@pytest.fixture
def tbl(resource, aws):
    name = unique_name("res")
    t = resource.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    wait_active(aws.client(), name)
    t.reload()
    assert t.table_status == "ACTIVE"
    yield t
    t.delete()


def test_put_get_python_types(tbl):
    item = {
        "pk": "p",
        "sk": 1,
        "dec": Decimal("01.50"),
        "big": Decimal("12345678901234567890123456789012345678"),
        "s": "text",
        "b": Binary(b"\x00\x01"),
        "flag": True,
        "nothing": None,
        "tags": {"a", "b"},
        "nums": {Decimal("1"), Decimal("2.5")},
        "bins": {Binary(b"x"), Binary(b"y")},
        "l": [1, "two", [Decimal("3")], {"k": False}],
        "m": {"nested": {"deeper": ["x"]}},
    }
    tbl.put_item(Item=item)
    got = tbl.get_item(Key={"pk": "p", "sk": 1}, ConsistentRead=True)["Item"]
    assert got["dec"] == Decimal("1.5")
    assert str(got["dec"]) == "1.5"
    assert got["big"] == Decimal("12345678901234567890123456789012345678")
    assert got["tags"] == {"a", "b"}
    assert got["nums"] == {Decimal("1"), Decimal("2.5")}
    assert got["bins"] == {Binary(b"x"), Binary(b"y")}
    assert got["b"] == Binary(b"\x00\x01")
    assert got["nothing"] is None
    assert got["l"] == [Decimal(1), "two", [Decimal(3)], {"k": False}]
    assert got["m"] == {"nested": {"deeper": ["x"]}}


@pytest.fixture
def filled(tbl):
    with tbl.batch_writer() as bw:
        for i in range(60):
            bw.put_item(Item={"pk": "p" if i < 40 else "q", "sk": i, "v": i % 7, "name": f"n{i:02d}", "tags": {f"t{i % 3}"}})
    return tbl


def test_batch_writer_and_query_key_builders(filled):
    r = filled.query(KeyConditionExpression=Key("pk").eq("p") & Key("sk").between(10, 14))
    assert [int(i["sk"]) for i in r["Items"]] == [10, 11, 12, 13, 14]
    r = filled.query(KeyConditionExpression=Key("pk").eq("p") & Key("sk").lt(3), ScanIndexForward=False)
    assert [int(i["sk"]) for i in r["Items"]] == [2, 1, 0]
    r = filled.query(KeyConditionExpression=Key("pk").eq("q") & Key("sk").gte(57))
    assert [int(i["sk"]) for i in r["Items"]] == [57, 58, 59]


def test_query_with_attr_filters(filled):
    r = filled.query(
        KeyConditionExpression=Key("pk").eq("p"),
        FilterExpression=Attr("v").eq(0) & Attr("name").begins_with("n1"),
    )
    assert [int(i["sk"]) for i in r["Items"]] == [14]
    r = filled.query(
        KeyConditionExpression=Key("pk").eq("p"),
        FilterExpression=Attr("tags").contains("t0") & Attr("sk").is_in([0, 1, 2, 3, 33]) | Attr("v").gt(5),
    )
    expected = sorted({i for i in range(40) if (i % 3 == 0 and i in (0, 1, 2, 3, 33)) or i % 7 > 5})
    assert [int(i["sk"]) for i in r["Items"]] == expected
    r = filled.query(
        KeyConditionExpression=Key("pk").eq("p"),
        FilterExpression=Attr("missing").not_exists() & Attr("name").size().eq(3) & ~Attr("v").ne(2),
    )
    assert [int(i["sk"]) for i in r["Items"]] == [i for i in range(40) if i % 7 == 2]


def test_scan_with_attr_and_select_count(filled):
    r = filled.scan(FilterExpression=Attr("v").between(1, 2) & Attr("pk").eq("q"))
    assert sorted(int(i["sk"]) for i in r["Items"]) == [i for i in range(40, 60) if i % 7 in (1, 2)]
    r = filled.scan(Select="COUNT")
    assert r["Count"] == 60


def test_batch_writer_overwrite_by_pkeys(tbl):
    with tbl.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as bw:
        for i in range(30):
            bw.put_item(Item={"pk": "dup", "sk": i % 10, "v": i})
        bw.delete_item(Key={"pk": "dup", "sk": 0})
    r = tbl.query(KeyConditionExpression=Key("pk").eq("dup"))
    assert {int(i["sk"]): int(i["v"]) for i in r["Items"]} == {s: 20 + s for s in range(1, 10)}


def test_update_and_conditional_delete(tbl):
    tbl.put_item(Item={"pk": "u", "sk": 1, "n": 1, "l": ["a"]})
    r = tbl.update_item(
        Key={"pk": "u", "sk": 1},
        UpdateExpression="SET n = n + :inc, l = list_append(l, :more) ADD s :s",
        ExpressionAttributeValues={":inc": 2, ":more": ["b"], ":s": {"x"}},
        ReturnValues="UPDATED_NEW",
    )
    assert r["Attributes"] == {"n": Decimal(3), "l": ["a", "b"], "s": {"x"}}
    with pytest.raises(ClientError) as e:
        tbl.delete_item(Key={"pk": "u", "sk": 1}, ConditionExpression=Attr("n").eq(1))
    assert e.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert isinstance(e.value, tbl.meta.client.exceptions.ConditionalCheckFailedException)
    tbl.delete_item(Key={"pk": "u", "sk": 1}, ConditionExpression=Attr("n").eq(3))
    assert "Item" not in tbl.get_item(Key={"pk": "u", "sk": 1})


def test_resource_pagination_via_client_paginator(filled):
    client = filled.meta.client
    pages = list(
        client.get_paginator("query").paginate(
            TableName=filled.name,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
            PaginationConfig={"PageSize": 6},
        )
    )
    assert [len(p["Items"]) for p in pages][:6] == [6] * 6
    assert [int(i["sk"]["N"]) for p in pages for i in p["Items"]] == list(range(40))
