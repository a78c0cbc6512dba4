"""Streams split into shards (issue 20, the embedded store as an engine): a table's stream
records are split by partition-key hash into shards (4 by default, as DynamoDB gives a new small
table; `--stream-shards N`), DescribeStream lists them, each shard serves its own iterators and
records, one item's records stay in one shard in order, and the shards together hold every
record once."""

import pytest
from botocore.exceptions import ClientError

from conftest import AwsFactory, error_code, spawn_tarn, unique_name, wait_active

pytestmark = pytest.mark.issue5


def make_stream_table(ddb, view="NEW_IMAGE"):
    name = unique_name("shards")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )
    wait_active(ddb, name)
    return name, ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]


def all_shards(streams, arn, limit=None):
    """Every shard of the stream, through DescribeStream's paging."""
    shards, start = [], None
    while True:
        kw = {"StreamArn": arn}
        if limit:
            kw["Limit"] = limit
        if start:
            kw["ExclusiveStartShardId"] = start
        d = streams.describe_stream(**kw)["StreamDescription"]
        shards.extend(d["Shards"])
        start = d.get("LastEvaluatedShardId")
        if not start:
            return shards


def read_shard(streams, arn, shard_id, limit=1000):
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    out = []
    while it:
        page = streams.get_records(ShardIterator=it, Limit=limit)
        if not page["Records"]:
            break
        out.extend(page["Records"])
        it = page.get("NextShardIterator")
    return out


@pytest.fixture(scope="module")
def default_server():
    with spawn_tarn() as server:
        yield AwsFactory(server.endpoint)


@pytest.fixture(scope="module")
def five_shards():
    with spawn_tarn("--stream-shards", "5") as server:
        yield AwsFactory(server.endpoint)


def test_a_new_stream_has_four_shards_that_never_split(default_server):
    ddb, streams = default_server.client(), default_server.streams()
    _, arn = make_stream_table(ddb)
    shards = all_shards(streams, arn)
    assert len(shards) == 4
    ids = [s["ShardId"] for s in shards]
    assert len(set(ids)) == 4 and ids == sorted(ids)
    for s in shards:
        assert 28 <= len(s["ShardId"]) <= 65 and s["ShardId"].startswith("shardId-")
        assert "ParentShardId" not in s, "no shard of a tarn stream has a parent"
        rng = s["SequenceNumberRange"]
        assert rng["StartingSequenceNumber"].isdigit() and "EndingSequenceNumber" not in rng
        children = streams.describe_stream(
            StreamArn=arn, ShardFilter={"Type": "CHILD_SHARDS", "ShardId": s["ShardId"]}
        )["StreamDescription"]
        assert children["Shards"] == []
    # Paging one shard at a time lists the same shards.
    assert all_shards(streams, arn, limit=1) == shards
    d = streams.describe_stream(StreamArn=arn, Limit=3)["StreamDescription"]
    assert [s["ShardId"] for s in d["Shards"]] == ids[:3] and d["LastEvaluatedShardId"] == ids[2]
    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=arn, ShardId=ids[0][:-4] + "0009",
                                   ShardIteratorType="TRIM_HORIZON")
    assert error_code(e) == "ResourceNotFoundException"


def test_records_split_by_key_keep_order_and_are_all_there(five_shards):
    ddb, streams = five_shards.client(), five_shards.streams()
    table, arn = make_stream_table(ddb)
    keys = [f"k{i:02}" for i in range(40)]
    for round_ in range(4):
        for chunk in range(0, len(keys), 20):
            ddb.batch_write_item(RequestItems={table: [
                {"PutRequest": {"Item": {"pk": {"S": k}, "round": {"N": str(round_)}}}}
                for k in keys[chunk:chunk + 20]
            ]})
    for k in keys[:5]:
        ddb.delete_item(TableName=table, Key={"pk": {"S": k}})
    shards = all_shards(streams, arn)
    assert len(shards) == 5
    per_shard = {s["ShardId"]: read_shard(streams, arn, s["ShardId"], limit=7) for s in shards}
    assert sum(1 for records in per_shard.values() if records) >= 3, "keys spread over the shards"
    home, per_key, seqs = {}, {}, []
    for shard_id, records in per_shard.items():
        shard_seqs = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
        assert shard_seqs == sorted(shard_seqs), "a shard is in sequence order"
        for r in records:
            k = r["dynamodb"]["Keys"]["pk"]["S"]
            assert home.setdefault(k, shard_id) == shard_id, f"{k} is in one shard"
            event = r["dynamodb"].get("NewImage", {}).get("round", {}).get("N", "removed")
            per_key.setdefault(k, []).append(event)
            seqs.append(int(r["dynamodb"]["SequenceNumber"]))
    # Every record once across the shards: 160 puts and 5 deletes.
    assert len(seqs) == 165 and len(set(seqs)) == 165
    assert sorted(per_key) == keys
    for k, events in per_key.items():
        expected = ["0", "1", "2", "3"] + (["removed"] if k in keys[:5] else [])
        assert events == expected, f"order of {k}"
    # LATEST of a shard sees only what its keys get afterwards.
    shard_id = home["k07"]
    latest = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                        ShardIteratorType="LATEST")["ShardIterator"]
    for k in keys:
        ddb.put_item(TableName=table, Item={"pk": {"S": k}, "round": {"N": "9"}})
    got = [r["dynamodb"]["Keys"]["pk"]["S"]
           for r in streams.get_records(ShardIterator=latest)["Records"]]
    assert sorted(got) == sorted(k for k in keys if home[k] == shard_id) and "k07" in got


def test_closed_shards_end(five_shards):
    ddb, streams = five_shards.client(), five_shards.streams()
    table, arn = make_stream_table(ddb, view="KEYS_ONLY")
    for k in "abcdefgh":
        ddb.put_item(TableName=table, Item={"pk": {"S": k}})
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    seen = []
    for s in all_shards(streams, arn):
        rng = s["SequenceNumberRange"]
        assert int(rng["EndingSequenceNumber"]) >= int(rng["StartingSequenceNumber"])
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=s["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        page = streams.get_records(ShardIterator=it)
        assert "NextShardIterator" not in page, "a closed shard read to its end has no next"
        seen.extend(r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"])
    assert sorted(seen) == list("abcdefgh")
