"""Time to live (issue 5): UpdateTimeToLive / DescribeTimeToLive, the background sweeper that
deletes expired items (the session server sweeps every second), the items it must leave alone,
and the REMOVE stream record a TTL deletion emits."""

import time

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, error_message

pytestmark = pytest.mark.issue5

SWEEP_WAIT_S = 20


def ttl_status(ddb, table):
    return ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]


def enable(ddb, table, attribute="expires"):
    return ddb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
    )


def wait_until(predicate, what, timeout=SWEEP_WAIT_S):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} not within {timeout}s"
        time.sleep(0.1)


def exists(ddb, table, pk):
    return "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True)


def test_enable_describe_disable(ddb, table):
    assert ttl_status(ddb, table) == {"TimeToLiveStatus": "DISABLED"}
    answer = enable(ddb, table)
    assert answer["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "expires"}
    assert ttl_status(ddb, table)["TimeToLiveStatus"] in ("ENABLING", "ENABLED")
    wait_until(lambda: ttl_status(ddb, table)["TimeToLiveStatus"] == "ENABLED", "ENABLED")
    assert ttl_status(ddb, table) == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    with pytest.raises(ClientError) as e:
        enable(ddb, table)
    assert error_code(e) == "ValidationException"
    assert error_message(e) == "TimeToLive is already enabled"
    with pytest.raises(ClientError) as e:
        enable(ddb, table, "other")
    assert error_code(e) == "ValidationException"
    assert "different AttributeName" in error_message(e)
    ddb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"}
    )
    assert ttl_status(ddb, table) == {"TimeToLiveStatus": "DISABLED"}
    with pytest.raises(ClientError) as e:
        ddb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"}
        )
    assert error_message(e) == "TimeToLive is already disabled"


def test_ttl_on_a_missing_table(ddb):
    with pytest.raises(ClientError) as e:
        ddb.describe_time_to_live(TableName="no-such-table-ttl")
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        enable(ddb, "no-such-table-ttl")
    assert error_code(e) == "ResourceNotFoundException"


def test_expired_items_vanish_and_the_rest_stay(ddb, table):
    enable(ddb, table)
    now = int(time.time())
    items = {
        "expired": {"N": str(now - 30)},
        "expired-fraction": {"N": f"{now - 30}.75"},
        "future": {"N": str(now + 3600)},
        "string": {"S": str(now - 30)},
        "six-years-ago": {"N": str(now - 6 * 365 * 24 * 3600)},
        "negative": {"N": "-5"},
    }
    for pk, ttl in items.items():
        ddb.put_item(TableName=table, Item={"pk": {"S": pk}, "expires": ttl})
    ddb.put_item(TableName=table, Item={"pk": {"S": "no-ttl"}})
    wait_until(
        lambda: not exists(ddb, table, "expired") and not exists(ddb, table, "expired-fraction"),
        "expired items deleted",
    )
    # One more sweep period: nothing else goes.
    time.sleep(1.5)
    for pk in ("future", "string", "six-years-ago", "negative", "no-ttl"):
        assert exists(ddb, table, pk), pk


def test_an_item_given_a_new_expiry_is_not_swept(ddb, table):
    now = int(time.time())
    ddb.put_item(TableName=table, Item={"pk": {"S": "renewed"}, "expires": {"N": str(now + 2)}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "plain"}, "expires": {"N": str(now + 2)}})
    enable(ddb, table)
    ddb.update_item(
        TableName=table, Key={"pk": {"S": "renewed"}},
        UpdateExpression="SET expires = :e", ExpressionAttributeValues={":e": {"N": str(now + 3600)}},
    )
    wait_until(lambda: not exists(ddb, table, "plain"), "plain item expired")
    assert exists(ddb, table, "renewed")
    # Removing the attribute takes the item out of TTL altogether.
    ddb.update_item(TableName=table, Key={"pk": {"S": "renewed"}}, UpdateExpression="REMOVE expires")
    assert exists(ddb, table, "renewed")


def test_enabling_ttl_sweeps_items_written_before(ddb, table):
    past = int(time.time()) - 60
    with ddb_batch(ddb, table) as put:
        for i in range(40):
            put({"pk": {"S": f"old{i}"}, "expires": {"N": str(past)}})
    enable(ddb, table)
    wait_until(lambda: ddb.scan(TableName=table, Select="COUNT")["Count"] == 0, "backfilled items swept")
    assert ttl_status(ddb, table)["TimeToLiveStatus"] == "ENABLED"


def test_a_ttl_deletion_emits_a_service_remove_record(ddb, aws, make_table):
    table = make_table(StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    enable(ddb, table)
    expired = {"pk": {"S": "gone"}, "expires": {"N": str(int(time.time()) - 1)}, "v": {"S": "x"}}
    ddb.put_item(TableName=table, Item=expired)
    ddb.put_item(TableName=table, Item={"pk": {"S": "user-deleted"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "user-deleted"}})
    wait_until(lambda: not exists(ddb, table, "gone"), "expired item deleted")
    streams = aws.streams()
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records.extend(streams.get_records(ShardIterator=it)["Records"])
    removes = [r for r in records if r["eventName"] == "REMOVE"]
    by_key = {r["dynamodb"]["Keys"]["pk"]["S"]: r for r in removes}
    ttl_remove = by_key["gone"]
    assert ttl_remove["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    assert ttl_remove["dynamodb"]["OldImage"] == expired
    assert "NewImage" not in ttl_remove["dynamodb"]
    assert "userIdentity" not in by_key["user-deleted"]


class ddb_batch:
    """Collects puts and writes them with BatchWriteItem, 25 at a time."""

    def __init__(self, ddb, table):
        self.ddb, self.table, self.items = ddb, table, []

    def __enter__(self):
        return self.items.append

    def __exit__(self, *exc):
        for i in range(0, len(self.items), 25):
            chunk = self.items[i:i + 25]
            self.ddb.batch_write_item(
                RequestItems={self.table: [{"PutRequest": {"Item": it}} for it in chunk]}
            )
        return False
