"""ReturnConsumedCapacity (issue 3): DynamoDB's capacity arithmetic — 1 WCU per 1 KB
written, 1 RCU per 4 KB read strongly consistent, half that eventually consistent."""

import pytest

pytestmark = pytest.mark.issue3


def cu(resp):
    cc = resp["ConsumedCapacity"]
    return cc["TableName"], cc["CapacityUnits"]


def test_put_get_delete_capacity(ddb, table):
    assert cu(ddb.put_item(TableName=table, Item={"pk": {"S": "k"}}, ReturnConsumedCapacity="TOTAL")) == (table, 1.0)
    # "pk" + "k" + "d" + 3500 bytes = 3504 bytes -> 4 KB -> 4 WCU.
    big = {"pk": {"S": "b"}, "d": {"S": "x" * 3500}}
    assert cu(ddb.put_item(TableName=table, Item=big, ReturnConsumedCapacity="TOTAL")) == (table, 4.0)
    assert cu(ddb.get_item(TableName=table, Key={"pk": {"S": "k"}}, ReturnConsumedCapacity="TOTAL")) == (table, 0.5)
    assert cu(ddb.get_item(TableName=table, Key={"pk": {"S": "k"}}, ConsistentRead=True, ReturnConsumedCapacity="TOTAL")) == (table, 1.0)
    # A missing item still costs the minimum.
    assert cu(ddb.get_item(TableName=table, Key={"pk": {"S": "zz"}}, ReturnConsumedCapacity="TOTAL")) == (table, 0.5)
    # 5 KB item: 2 x 4 KB read units.
    five = {"pk": {"S": "f"}, "d": {"S": "y" * 5000}}
    ddb.put_item(TableName=table, Item=five)
    assert cu(ddb.get_item(TableName=table, Key={"pk": {"S": "f"}}, ConsistentRead=True, ReturnConsumedCapacity="TOTAL")) == (table, 2.0)
    assert cu(ddb.get_item(TableName=table, Key={"pk": {"S": "f"}}, ReturnConsumedCapacity="TOTAL")) == (table, 1.0)
    # Deleting the 3.5 KB item costs by its size.
    assert cu(ddb.delete_item(TableName=table, Key={"pk": {"S": "b"}}, ReturnConsumedCapacity="TOTAL")) == (table, 4.0)
    assert "ConsumedCapacity" not in ddb.get_item(TableName=table, Key={"pk": {"S": "k"}}, ReturnConsumedCapacity="NONE")


def test_update_capacity_uses_larger_image(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "u"}, "d": {"S": "x" * 2500}})
    r = ddb.update_item(TableName=table, Key={"pk": {"S": "u"}}, UpdateExpression="REMOVE d", ReturnConsumedCapacity="TOTAL")
    assert cu(r) == (table, 3.0)


def test_query_scan_capacity_sums_sizes(ddb, table_hr):
    for i in range(10):
        ddb.put_item(TableName=table_hr, Item={"pk": {"S": "p"}, "sk": {"N": str(i)}, "d": {"S": "x" * 1000}})
    # ~10 KB read in total -> 3 x 4 KB.
    r = ddb.query(
        TableName=table_hr, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}},
        ReturnConsumedCapacity="TOTAL",
    )
    assert cu(r) == (table_hr, 1.5)
    r = ddb.query(
        TableName=table_hr, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}},
        ConsistentRead=True, ReturnConsumedCapacity="TOTAL",
    )
    assert cu(r) == (table_hr, 3.0)
    # Filtering does not reduce the cost.
    r = ddb.scan(TableName=table_hr, FilterExpression="attribute_exists(nope)", ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert r["Count"] == 0
    assert cu(r) == (table_hr, 3.0)


def test_batch_capacity_per_table(ddb, make_table):
    t1, t2 = make_table(), make_table()
    r = ddb.batch_write_item(
        RequestItems={
            t1: [{"PutRequest": {"Item": {"pk": {"S": f"k{i}"}}}} for i in range(3)],
            t2: [{"PutRequest": {"Item": {"pk": {"S": "x"}, "d": {"S": "z" * 1500}}}}],
        },
        ReturnConsumedCapacity="TOTAL",
    )
    assert {c["TableName"]: c["CapacityUnits"] for c in r["ConsumedCapacity"]} == {t1: 3.0, t2: 2.0}
    r = ddb.batch_get_item(
        RequestItems={t1: {"Keys": [{"pk": {"S": f"k{i}"}} for i in range(3)], "ConsistentRead": True}},
        ReturnConsumedCapacity="TOTAL",
    )
    assert {c["TableName"]: c["CapacityUnits"] for c in r["ConsumedCapacity"]} == {t1: 3.0}
