"""DynamoDB Streams (issue 5): StreamSpecification on CreateTable/UpdateTable, the Streams API
through boto3's own `dynamodbstreams` client, records in AWS's shape, paging, iterator types,
closed shards, and trimmed or expired iterators.

These tests read streams of one shard: their server runs with `--stream-shards 1`. Streams
split into several shards are tested in test_streams_shards.py."""

import base64
import datetime
import re
import time

import pytest
from botocore.exceptions import ClientError

from conftest import AwsFactory, REGION, error_code, spawn_tarn

pytestmark = pytest.mark.issue5

NEW_AND_OLD = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


@pytest.fixture(scope="module")
def tarn_server():
    """A server of this module's own, whose new streams have one shard."""
    with spawn_tarn("--stream-shards", "1") as server:
        yield server


@pytest.fixture(scope="module")
def aws(tarn_server):
    return AwsFactory(tarn_server.endpoint)


@pytest.fixture
def streams(aws):
    return aws.streams()


def stream_table(make_table, view="NEW_AND_OLD_IMAGES", **kw):
    return make_table(
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view}, **kw
    )


def latest_arn(ddb, table):
    return ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]


def shard_of(streams, arn):
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert len(shards) == 1
    return shards[0]["ShardId"]


def iterator(streams, arn, kind="TRIM_HORIZON", **kw):
    return streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_of(streams, arn), ShardIteratorType=kind, **kw
    )["ShardIterator"]


def read_all(streams, arn, limit=1000, it=None):
    """Every record from TRIM_HORIZON (or `it`) until a page comes back empty."""
    it = it or iterator(streams, arn)
    out = []
    while it:
        page = streams.get_records(ShardIterator=it, Limit=limit)
        if not page["Records"]:
            break
        out.extend(page["Records"])
        it = page.get("NextShardIterator")
    return out


def test_create_table_with_a_stream_describes_it(ddb, make_table, streams):
    table = stream_table(make_table)
    t = ddb.describe_table(TableName=table)["Table"]
    assert t["StreamSpecification"] == NEW_AND_OLD
    label = t["LatestStreamLabel"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", label), label
    assert t["LatestStreamArn"] == f"{t['TableArn']}/stream/{label}"
    d = streams.describe_stream(StreamArn=t["LatestStreamArn"])["StreamDescription"]
    assert d["StreamArn"] == t["LatestStreamArn"]
    assert d["StreamLabel"] == label
    assert d["StreamStatus"] == "ENABLED"
    assert d["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert d["TableName"] == table
    assert d["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert isinstance(d["CreationRequestDateTime"], datetime.datetime)
    (shard,) = d["Shards"]
    assert shard["ShardId"].startswith("shardId-")
    rng = shard["SequenceNumberRange"]
    assert rng["StartingSequenceNumber"].isdigit()
    assert "EndingSequenceNumber" not in rng, "an open shard has no end"
    # Paging past the only shard.
    d = streams.describe_stream(StreamArn=t["LatestStreamArn"], ExclusiveStartShardId=shard["ShardId"])
    assert d["StreamDescription"]["Shards"] == []


def test_a_table_without_a_stream_has_none(ddb, table):
    t = ddb.describe_table(TableName=table)["Table"]
    assert "StreamSpecification" not in t
    assert "LatestStreamArn" not in t


def test_list_streams_filters_by_table_and_pages(ddb, make_table, streams):
    a = stream_table(make_table, view="KEYS_ONLY")
    b = stream_table(make_table, view="NEW_IMAGE")
    only_a = streams.list_streams(TableName=a)["Streams"]
    assert only_a == [
        {"StreamArn": latest_arn(ddb, a), "TableName": a, "StreamLabel": only_a[0]["StreamLabel"]}
    ]
    seen, start = [], None
    while True:
        kw = {"Limit": 1}
        if start:
            kw["ExclusiveStartStreamArn"] = start
        page = streams.list_streams(**kw)
        assert len(page["Streams"]) <= 1
        seen.extend(s["StreamArn"] for s in page["Streams"])
        start = page.get("LastEvaluatedStreamArn")
        if not start:
            break
    assert latest_arn(ddb, a) in seen and latest_arn(ddb, b) in seen
    assert len(seen) == len(set(seen))
    with pytest.raises(ClientError) as e:
        streams.list_streams(TableName="no-such-table-here")
    assert error_code(e) == "ResourceNotFoundException"


def test_records_have_aws_shape_for_insert_modify_remove(ddb, make_table, streams):
    table = stream_table(make_table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET v = v + :one, tags = :t",
        ExpressionAttributeValues={":one": {"N": "1"}, ":t": {"SS": ["x"]}},
    )
    # Writing what is already there changes nothing and records nothing.
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "2"}, "tags": {"SS": ["x"]}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    # Deleting a missing item records nothing either.
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})
    records = read_all(streams, latest_arn(ddb, table))
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert len({r["eventID"] for r in records}) == 3
    now = datetime.datetime.now(datetime.timezone.utc)
    for r in records:
        assert r["eventSource"] == "aws:dynamodb"
        assert r["eventVersion"] == "1.1"
        assert r["awsRegion"] == REGION
        assert "userIdentity" not in r
        d = r["dynamodb"]
        assert d["Keys"] == {"pk": {"S": "a"}}
        assert d["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert d["SizeBytes"] > 0
        assert abs((now - d["ApproximateCreationDateTime"]).total_seconds()) < 120
    ins, mod, rem = (r["dynamodb"] for r in records)
    assert ins["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}} and "OldImage" not in ins
    assert mod["OldImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}}
    assert mod["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "2"}, "tags": {"SS": ["x"]}}
    assert rem["OldImage"] == mod["NewImage"] and "NewImage" not in rem


@pytest.mark.parametrize(
    "view,new,old",
    [("KEYS_ONLY", False, False), ("NEW_IMAGE", True, False), ("OLD_IMAGE", False, True),
     ("NEW_AND_OLD_IMAGES", True, True)],
)
def test_view_types_carry_their_images(ddb, make_table, streams, view, new, old):
    table = stream_table(make_table, view=view, range_key=("sk", "N"))
    key = {"pk": {"S": "k"}, "sk": {"N": "7"}}
    ddb.put_item(TableName=table, Item={**key, "v": {"S": "one"}})
    ddb.put_item(TableName=table, Item={**key, "v": {"S": "two"}})
    modify = read_all(streams, latest_arn(ddb, table))[1]["dynamodb"]
    assert modify["Keys"] == key
    assert modify["StreamViewType"] == view
    assert ("NewImage" in modify) == new
    assert ("OldImage" in modify) == old
    if new:
        assert modify["NewImage"]["v"] == {"S": "two"}
    if old:
        assert modify["OldImage"]["v"] == {"S": "one"}


def test_batches_and_transactions_record_each_item(ddb, make_table, streams):
    table = stream_table(make_table, view="KEYS_ONLY")
    ddb.batch_write_item(
        RequestItems={table: [{"PutRequest": {"Item": {"pk": {"S": f"b{i}"}}}} for i in range(5)]}
    )
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "t1"}}}},
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "b0"}}}},
            {"Update": {"TableName": table, "Key": {"pk": {"S": "b1"}},
                        "UpdateExpression": "SET x = :x", "ExpressionAttributeValues": {":x": {"N": "1"}}}},
        ]
    )
    # A cancelled transaction records nothing.
    with pytest.raises(ClientError):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "never"}}}},
                {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "missing"}},
                                    "ConditionExpression": "attribute_exists(pk)"}},
            ]
        )
    records = read_all(streams, latest_arn(ddb, table))
    events = [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records]
    assert sorted(events[:5]) == [("INSERT", f"b{i}") for i in range(5)]
    assert sorted(events[5:]) == [("INSERT", "t1"), ("MODIFY", "b1"), ("REMOVE", "b0")]


def test_reading_from_trim_horizon_across_many_pages(ddb, make_table, streams):
    table = stream_table(make_table, view="NEW_IMAGE")
    # 60 items, each written 5 times: 300 records, read 7 at a time.
    keys = [f"k{i:02}" for i in range(60)]
    for round_ in range(5):
        for chunk in range(0, len(keys), 25):
            ddb.batch_write_item(RequestItems={table: [
                {"PutRequest": {"Item": {"pk": {"S": k}, "round": {"N": str(round_)}}}}
                for k in keys[chunk:chunk + 25]
            ]})
    arn = latest_arn(ddb, table)
    it = iterator(streams, arn)
    records, pages = [], 0
    while True:
        page = streams.get_records(ShardIterator=it, Limit=7)
        assert len(page["Records"]) <= 7
        if not page["Records"]:
            assert page["NextShardIterator"], "an open shard always has a next iterator"
            break
        records.extend(page["Records"])
        it = page["NextShardIterator"]
        pages += 1
    assert len(records) == 300 and pages == 43
    per_key = {}
    for r in records:
        per_key.setdefault(r["dynamodb"]["Keys"]["pk"]["S"], []).append(
            int(r["dynamodb"]["NewImage"]["round"]["N"])
        )
    assert len(per_key) == 60
    assert all(rounds == [0, 1, 2, 3, 4] for rounds in per_key.values()), "order per key"
    assert [r["eventName"] for r in records].count("INSERT") == 60


def test_iterator_types(ddb, make_table, streams):
    table = stream_table(make_table, view="KEYS_ONLY")
    arn = latest_arn(ddb, table)
    for k in "abc":
        ddb.put_item(TableName=table, Item={"pk": {"S": k}})
    latest = iterator(streams, arn, "LATEST")
    ddb.put_item(TableName=table, Item={"pk": {"S": "d"}})
    after_latest = streams.get_records(ShardIterator=latest)["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in after_latest] == ["d"]
    every = read_all(streams, arn)
    seq_b = every[1]["dynamodb"]["SequenceNumber"]
    at_b = iterator(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=seq_b)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in streams.get_records(ShardIterator=at_b)["Records"]] == ["b", "c", "d"]
    after_b = iterator(streams, arn, "AFTER_SEQUENCE_NUMBER", SequenceNumber=seq_b)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in streams.get_records(ShardIterator=after_b)["Records"]] == ["c", "d"]
    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard_of(streams, arn),
                                   ShardIteratorType="AT_SEQUENCE_NUMBER")
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard_of(streams, arn),
                                   ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                   SequenceNumber="9" * 21)
    assert error_code(e) == "ValidationException"


def test_errors_have_streams_shapes(ddb, make_table, streams, aws):
    table = stream_table(make_table)
    arn = latest_arn(ddb, table)
    unknown = arn.rsplit("/", 1)[0] + "/2001-01-01T00:00:00.000"
    for call in (
        lambda: streams.describe_stream(StreamArn=unknown),
        lambda: streams.get_shard_iterator(StreamArn=unknown, ShardId="shardId-00000000000000000001-00000000",
                                           ShardIteratorType="LATEST"),
        lambda: streams.get_shard_iterator(StreamArn=arn, ShardId="shardId-00000000000000000001-deadbeef",
                                           ShardIteratorType="LATEST"),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert error_code(e) == "ResourceNotFoundException"
    raw = aws.streams(parameter_validation=False)
    with pytest.raises(ClientError) as e:
        raw.get_records(ShardIterator="this-is-no-iterator")
    assert error_code(e) == "ValidationException"
    it = iterator(streams, arn)
    for limit in (0, 1001):
        with pytest.raises(ClientError) as e:
            raw.get_records(ShardIterator=it, Limit=limit)
        assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        raw.get_shard_iterator(StreamArn=arn, ShardId=shard_of(streams, arn), ShardIteratorType="OLDEST")
    assert error_code(e) == "ValidationException"


def test_an_iterator_older_than_15_minutes_has_expired(ddb, make_table, streams):
    table = stream_table(make_table)
    it = iterator(streams, latest_arn(ddb, table))
    # Iterators are opaque to clients; this one is rewritten to look 16 minutes old, as if the
    # consumer had held on to it that long.
    pad = "=" * (-len(it) % 4)
    fields = base64.urlsafe_b64decode(it + pad).decode().split("|")
    fields[-1] = str(int(fields[-1]) - 16 * 60 * 1000)
    old = base64.urlsafe_b64encode("|".join(fields).encode()).decode().rstrip("=")
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator=old)
    assert error_code(e) == "ExpiredIteratorException"
    assert streams.get_records(ShardIterator=it)["Records"] == []


def test_disable_and_enable_again(ddb, make_table, streams):
    table = stream_table(make_table, view="KEYS_ONLY")
    first = latest_arn(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "before"}})
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    assert error_code(e) == "ValidationException"
    assert "already has an enabled stream" in e.value.response["Error"]["Message"]
    t = ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})["TableDescription"]
    assert "StreamSpecification" not in t
    assert t["LatestStreamArn"] == first, "the closed stream is still the latest"
    ddb.put_item(TableName=table, Item={"pk": {"S": "while-disabled"}})
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    assert error_code(e) == "ValidationException"
    d = streams.describe_stream(StreamArn=first)["StreamDescription"]
    assert d["StreamStatus"] == "DISABLED"
    rng = d["Shards"][0]["SequenceNumberRange"]
    assert int(rng["EndingSequenceNumber"]) >= int(rng["StartingSequenceNumber"])
    # A closed shard read to its end has no next iterator.
    page = streams.get_records(ShardIterator=iterator(streams, first))
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]] == ["before"]
    assert "NextShardIterator" not in page
    time.sleep(0.01)
    t = ddb.update_table(TableName=table, StreamSpecification=NEW_AND_OLD)["TableDescription"]
    second = t["LatestStreamArn"]
    assert second != first
    assert t["StreamSpecification"] == NEW_AND_OLD
    ddb.put_item(TableName=table, Item={"pk": {"S": "after"}})
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_all(streams, second)] == ["after"]
    arns = {s["StreamArn"] for s in streams.list_streams(TableName=table)["Streams"]}
    assert arns == {first, second}


def test_stream_specification_is_validated(ddb_raw, make_table, table_name):
    with pytest.raises(ClientError) as e:
        ddb_raw.create_table(
            TableName=table_name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "EVERYTHING"},
        )
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb_raw.create_table(
            TableName=table_name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True},
        )
    assert error_code(e) == "ValidationException"


@pytest.fixture(scope="module")
def short_retention():
    """A server of its own that keeps stream records for 2 seconds."""
    with spawn_tarn("--stream-retention", "2s", "--ttl-sweep-interval", "200ms",
                    "--stream-shards", "1") as server:
        yield AwsFactory(server.endpoint)


def test_trimmed_records_are_refused_not_skipped(short_retention):
    ddb, streams = short_retention.client(), short_retention.streams()
    name = "trim-" + str(time.time_ns())
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    arn = latest_arn(ddb, name)
    for k in "abc":
        ddb.put_item(TableName=name, Item={"pk": {"S": k}})
    old_iterator = iterator(streams, arn)
    first_seq = read_all(streams, arn)[0]["dynamodb"]["SequenceNumber"]
    # Trimming runs every 200 ms on what is older than 2 s: wait until all three are gone.
    deadline = time.monotonic() + 15
    while read_all(streams, arn):
        assert time.monotonic() < deadline, "records never trimmed"
        time.sleep(0.2)
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator=old_iterator)
    assert error_code(e) == "TrimmedDataAccessException"
    with pytest.raises(ClientError) as e:
        iterator(streams, arn, "AT_SEQUENCE_NUMBER", SequenceNumber=first_seq)
    assert error_code(e) == "TrimmedDataAccessException"
    # TRIM_HORIZON now starts after the trimmed records and sees new ones.
    ddb.put_item(TableName=name, Item={"pk": {"S": "fresh"}})
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in read_all(streams, arn)] == ["fresh"]


def test_describe_stream_child_shards_filter(ddb, make_table, streams):
    """ShardFilter CHILD_SHARDS answers only the children of the named shard. A tarn stream's one
    shard never splits, so it has none; without the filter the shard itself is listed."""
    table = stream_table(make_table)
    arn = latest_arn(ddb, table)
    parent = shard_of(streams, arn)
    d = streams.describe_stream(
        StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": parent}
    )["StreamDescription"]
    assert d["Shards"] == []
    assert "LastEvaluatedShardId" not in d
    assert d["StreamArn"] == arn and d["StreamStatus"] == "ENABLED"
    # A well-formed shard id that is not in the stream has no children either.
    other = "shardId-00000000000000000001-00000000"
    d = streams.describe_stream(
        StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": other}
    )["StreamDescription"]
    assert d["Shards"] == []
    # The filter is validated before the stream is looked up.
    with pytest.raises(ClientError) as e:
        streams.describe_stream(
            StreamArn=arn.rsplit("/", 1)[0] + "/2001-01-01T00:00:00.000",
            ShardFilter={"Type": "CHILD_SHARDS", "ShardId": parent},
        )
    assert error_code(e) == "ResourceNotFoundException"


def test_describe_stream_shard_filter_validation(ddb, make_table, aws):
    table = stream_table(make_table)
    arn = latest_arn(ddb, table)
    # boto3 checks lengths itself; the server's own answer is what is under test.
    raw = aws.streams(parameter_validation=False)

    def refused(shard_filter):
        with pytest.raises(ClientError) as e:
            raw.describe_stream(StreamArn=arn, ShardFilter=shard_filter)
        assert error_code(e) == "ValidationException"
        return e.value.response["Error"]["Message"]

    parent = shard_of(raw, arn)
    msg = refused({"Type": "CHILD_SHARDS"})
    assert "ShardId" in msg and "CHILD_SHARDS" in msg
    msg = refused({"Type": "PARENT_SHARDS", "ShardId": parent})
    assert msg == (
        "1 validation error detected: Value 'PARENT_SHARDS' at 'shardFilter.type' failed to "
        "satisfy constraint: Member must satisfy enum value set: [CHILD_SHARDS]"
    )
    msg = refused({"Type": "CHILD_SHARDS", "ShardId": "shardId-1"})
    assert msg == (
        "1 validation error detected: Value 'shardId-1' at 'shardFilter.shardId' failed to "
        "satisfy constraint: Member must have length greater than or equal to 28"
    )
    long_id = "shardId-" + "0" * 58
    msg = refused({"Type": "CHILD_SHARDS", "ShardId": long_id})
    assert msg.endswith("Member must have length less than or equal to 65")
    msg = refused({"Type": "SIBLINGS", "ShardId": "x"})
    assert msg.startswith("2 validation errors detected: ")
    assert "'shardFilter.type'" in msg and "'shardFilter.shardId'" in msg
    msg = refused({"ShardId": parent})
    assert "Type" in msg
