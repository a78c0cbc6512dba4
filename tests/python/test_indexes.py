"""Secondary indexes (issue 4): CreateTable with global and local secondary indexes,
projections (KEYS_ONLY, INCLUDE, ALL), sparse indexes, Query and Scan with IndexName
(paging, Select, ConsistentRead), DescribeTable's index figures, UpdateTable creating
(with a background backfill while writers keep writing) and deleting a global index, and
DynamoDB's validation rules."""

import random
import threading
import time

import pytest
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from conftest import canon, error_code, error_message, raw_call, unique_name

pytestmark = pytest.mark.issue4

INDEX_WAIT_TIMEOUT_S = 60.0


def attr_defs(**types):
    return [{"AttributeName": n, "AttributeType": t} for n, t in types.items()]


def keys(hash_key, range_key=None):
    ks = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        ks.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return ks


def gsi(name, hash_key, range_key=None, projection="ALL", non_key=None):
    p = {"ProjectionType": projection}
    if non_key is not None:
        p["NonKeyAttributes"] = non_key
    return {"IndexName": name, "KeySchema": keys(hash_key, range_key), "Projection": p}


lsi = gsi


@pytest.fixture
def created(aws):
    """Factory: created(**CreateTable params without TableName) -> name; deletes at the end."""
    client = aws.client()
    names = []

    def _create(**params):
        name = params.pop("TableName", None) or unique_name("idx")
        params.setdefault("BillingMode", "PAY_PER_REQUEST")
        resp = client.create_table(TableName=name, **params)
        names.append(name)
        return name, resp["TableDescription"]

    yield _create
    for name in names:
        try:
            client.delete_table(TableName=name)
        except ClientError:
            pass


@pytest.fixture
def orders(ddb, created):
    """A table of orders: pk customer (S) / sk order (N), with
    - by_status (GSI, ALL): status (S) / placed (N)
    - by_city (GSI, KEYS_ONLY): city (S)
    - by_total (GSI, INCLUDE [note]): status (S) / total (N)
    - by_placed (LSI, KEYS_ONLY): customer / placed (N)
    Items lacking an index key attribute are absent from that index."""
    name, _ = created(
        KeySchema=keys("customer", "order"),
        AttributeDefinitions=attr_defs(customer="S", order="N", status="S", placed="N", city="S", total="N"),
        GlobalSecondaryIndexes=[
            gsi("by_status", "status", "placed"),
            gsi("by_city", "city", projection="KEYS_ONLY"),
            gsi("by_total", "status", "total", projection="INCLUDE", non_key=["note"]),
        ],
        LocalSecondaryIndexes=[lsi("by_placed", "customer", "placed", projection="KEYS_ONLY")],
    )
    rows = []
    for c in range(3):
        for o in range(10):
            item = {
                "customer": {"S": f"c{c}"},
                "order": {"N": str(o)},
                "placed": {"N": str(100 - o)},
                "total": {"N": str(o * 10 + c)},
                "note": {"S": f"note {c}/{o}"},
                "secret": {"S": "not projected"},
            }
            if o % 3 != 0:
                item["status"] = {"S": "open" if o % 2 else "shipped"}
            if o < 5:
                item["city"] = {"S": ["Oslo", "Lima", "Pune"][(c + o) % 3]}
            rows.append(item)
            ddb.put_item(TableName=name, Item=item)
    return name, rows


def query_all(ddb, **params):
    """Every item of a Query or Scan, page by page; returns (items, number of pages)."""
    op = ddb.query if "KeyConditionExpression" in params or "KeyConditions" in params else ddb.scan
    items, pages = [], 0
    while True:
        resp = op(**params)
        pages += 1
        items.extend(resp.get("Items", []))
        if "LastEvaluatedKey" not in resp:
            return items, pages
        params["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def full_scan(ddb, table):
    return query_all(ddb, TableName=table)[0]


def project(item, table_keys, index_keys, projection, non_key=()):
    """What an index entry holds for `item`, or None when the item is not in the index."""
    if any(k not in item for k in index_keys):
        return None
    if projection == "ALL":
        return dict(item)
    keep = set(table_keys) | set(index_keys) | set(non_key)
    return {k: v for k, v in item.items() if k in keep}


def as_set(items):
    return sorted(repr(sorted(canon(i).items())) for i in items)


def wait_index(ddb, table, index, status="ACTIVE", timeout=INDEX_WAIT_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    seen = set()
    while True:
        t = ddb.describe_table(TableName=table)["Table"]
        ix = next(i for i in t.get("GlobalSecondaryIndexes", []) if i["IndexName"] == index)
        seen.add((ix["IndexStatus"], ix.get("Backfilling")))
        if ix["IndexStatus"] == status:
            return ix, seen
        assert time.monotonic() < deadline, f"index {index} still {ix['IndexStatus']}"
        time.sleep(0.05)


# ---- CreateTable and DescribeTable ----


def test_create_table_with_indexes_and_describe(ddb, created):
    name, desc = created(
        KeySchema=keys("pk", "sk"),
        AttributeDefinitions=attr_defs(pk="S", sk="N", g="S", gs="B", l="N"),
        GlobalSecondaryIndexes=[
            gsi("g_all", "g", "gs"),
            gsi("g_keys", "g", projection="KEYS_ONLY"),
            gsi("g_inc", "gs", projection="INCLUDE", non_key=["a", "b"]),
        ],
        LocalSecondaryIndexes=[lsi("l_all", "pk", "l")],
    )
    # CreateTable answers CREATING for the table and its global indexes.
    assert desc["TableStatus"] == "CREATING"
    assert {i["IndexStatus"] for i in desc["GlobalSecondaryIndexes"]} == {"CREATING"}
    t = ddb.describe_table(TableName=name)["Table"]
    assert t["TableStatus"] == "ACTIVE"
    g = {i["IndexName"]: i for i in t["GlobalSecondaryIndexes"]}
    assert set(g) == {"g_all", "g_keys", "g_inc"}
    assert g["g_all"]["KeySchema"] == keys("g", "gs")
    assert g["g_all"]["Projection"] == {"ProjectionType": "ALL"}
    assert g["g_keys"]["KeySchema"] == keys("g")
    assert g["g_keys"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert g["g_inc"]["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["a", "b"]}
    for ix in g.values():
        assert ix["IndexStatus"] == "ACTIVE"
        assert "Backfilling" not in ix  # created with the table
        assert ix["ItemCount"] == 0 and ix["IndexSizeBytes"] == 0
        assert ix["IndexArn"] == f"{t['TableArn']}/index/{ix['IndexName']}"
        assert ix["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    (l,) = t["LocalSecondaryIndexes"]
    assert l["IndexName"] == "l_all" and l["KeySchema"] == keys("pk", "l")
    assert l["Projection"] == {"ProjectionType": "ALL"}
    assert "IndexStatus" not in l
    assert l["IndexArn"] == f"{t['TableArn']}/index/l_all"
    assert sorted(d["AttributeName"] for d in t["AttributeDefinitions"]) == ["g", "gs", "l", "pk", "sk"]
    # Items show up in the figures.
    for i in range(5):
        ddb.put_item(
            TableName=name,
            Item={"pk": {"S": "p"}, "sk": {"N": str(i)}, "g": {"S": "x"}, "gs": {"B": b"\x01"}, "l": {"N": "1"}},
        )
    t = ddb.describe_table(TableName=name)["Table"]
    g = {i["IndexName"]: i for i in t["GlobalSecondaryIndexes"]}
    assert g["g_all"]["ItemCount"] >= 5
    assert t["LocalSecondaryIndexes"][0]["ItemCount"] >= 5


def test_provisioned_table_index_throughput(ddb, created):
    name, _ = created(
        KeySchema=keys("pk"),
        AttributeDefinitions=attr_defs(pk="S", g="S"),
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        GlobalSecondaryIndexes=[
            {**gsi("gix", "g"), "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 2}}
        ],
    )
    (ix,) = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]
    assert ix["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert ix["ProvisionedThroughput"]["WriteCapacityUnits"] == 2
    ddb.update_table(
        TableName=name,
        GlobalSecondaryIndexUpdates=[
            {"Update": {"IndexName": "gix", "ProvisionedThroughput": {"ReadCapacityUnits": 7, "WriteCapacityUnits": 7}}}
        ],
    )
    (ix,) = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]
    assert ix["ProvisionedThroughput"]["ReadCapacityUnits"] == 7


def test_indexes_survive_list_and_are_dropped_with_the_table(ddb, created):
    name, _ = created(
        KeySchema=keys("pk"),
        AttributeDefinitions=attr_defs(pk="S", g="S"),
        GlobalSecondaryIndexes=[gsi("gix", "g")],
    )
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "g": {"S": "x"}})
    ddb.delete_table(TableName=name)
    # Same name again: a new table, and a new, empty index.
    created(
        TableName=name,
        KeySchema=keys("pk"),
        AttributeDefinitions=attr_defs(pk="S", g="S"),
        GlobalSecondaryIndexes=[gsi("gix", "g")],
    )
    r = ddb.query(
        TableName=name, IndexName="gix", KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "x"}},
    )
    assert r["Items"] == []


# ---- Query and Scan on indexes ----


def test_query_global_index_all_projection(ddb, orders):
    name, rows = orders
    r = ddb.query(
        TableName=name, IndexName="by_status",
        KeyConditionExpression="#s = :s AND placed BETWEEN :a AND :b",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "open"}, ":a": {"N": "93"}, ":b": {"N": "99"}},
    )
    # open: odd orders not divisible by 3 -> o in {1, 5, 7}; placed 99, 95, 93
    got = [(i["placed"]["N"], i["customer"]["S"]) for i in r["Items"]]
    assert got == sorted(got) and [p for p, _ in got] == ["93"] * 3 + ["95"] * 3 + ["99"] * 3
    # ALL projection: whole items.
    assert all("secret" in i and "note" in i for i in r["Items"])
    assert r["Count"] == r["ScannedCount"] == 9
    rev = ddb.query(
        TableName=name, IndexName="by_status", ScanIndexForward=False,
        KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "open"}},
    )
    placed = [int(i["placed"]["N"]) for i in rev["Items"]]
    assert placed == sorted(placed, reverse=True)


def test_query_keys_only_and_include_projections(ddb, orders):
    name, rows = orders
    r = ddb.query(
        TableName=name, IndexName="by_city", KeyConditionExpression="city = :c",
        ExpressionAttributeValues={":c": {"S": "Oslo"}},
    )
    expected = [project(i, ["customer", "order"], ["city"], "KEYS_ONLY") for i in rows if i.get("city", {}).get("S") == "Oslo"]
    assert as_set(r["Items"]) == as_set(expected)
    assert all(set(i) == {"customer", "order", "city"} for i in r["Items"])
    r = ddb.query(
        TableName=name, IndexName="by_total", KeyConditionExpression="#s = :s AND #t >= :t",
        ExpressionAttributeNames={"#s": "status", "#t": "total"},
        ExpressionAttributeValues={":s": {"S": "shipped"}, ":t": {"N": "40"}},
    )
    assert r["Items"], r
    assert all(set(i) == {"customer", "order", "status", "total", "note"} for i in r["Items"])
    totals = [int(i["total"]["N"]) for i in r["Items"]]
    assert totals == sorted(totals) and min(totals) >= 40


def test_sparse_index_holds_only_items_with_its_keys(ddb, orders):
    name, rows = orders
    items, _ = query_all(ddb, TableName=name, IndexName="by_city")
    assert len(items) == sum(1 for i in rows if "city" in i) == 15
    items, _ = query_all(ddb, TableName=name, IndexName="by_status")
    assert len(items) == sum(1 for i in rows if "status" in i)
    # Removing the attribute takes the item out; setting it puts it back.
    key = {"customer": {"S": "c0"}, "order": {"N": "1"}}
    ddb.update_item(TableName=name, Key=key, UpdateExpression="REMOVE city")
    assert len(query_all(ddb, TableName=name, IndexName="by_city")[0]) == 14
    ddb.update_item(
        TableName=name, Key=key, UpdateExpression="SET city = :c",
        ExpressionAttributeValues={":c": {"S": "Quito"}},
    )
    r = ddb.query(
        TableName=name, IndexName="by_city", KeyConditionExpression="city = :c",
        ExpressionAttributeValues={":c": {"S": "Quito"}},
    )
    assert [i["order"]["N"] for i in r["Items"]] == ["1"]


def test_updates_and_deletes_move_index_entries(ddb, orders):
    name, rows = orders
    key = {"customer": {"S": "c1"}, "order": {"N": "2"}}
    ddb.update_item(
        TableName=name, Key=key, UpdateExpression="SET #s = :s, placed = :p",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "returned"}, ":p": {"N": "1"}},
    )
    q = lambda s: ddb.query(  # noqa: E731
        TableName=name, IndexName="by_status", KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": s}},
    )["Items"]
    assert [(i["customer"]["S"], i["order"]["N"], i["placed"]["N"]) for i in q("returned")] == [("c1", "2", "1")]
    assert not any(i["customer"]["S"] == "c1" and i["order"]["N"] == "2" for i in q("shipped"))
    ddb.delete_item(TableName=name, Key=key)
    assert q("returned") == []
    # Transactions and batches maintain indexes too.
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": name, "Item": {**key, "status": {"S": "returned"}, "placed": {"N": "2"}}}},
        {"Delete": {"TableName": name, "Key": {"customer": {"S": "c2"}, "order": {"N": "1"}}}},
    ])
    assert [i["placed"]["N"] for i in q("returned")] == ["2"]
    ddb.batch_write_item(RequestItems={name: [{"DeleteRequest": {"Key": key}}]})
    assert q("returned") == []
    # Whatever happened, each index equals what the table implies.
    table = full_scan(ddb, name)
    got, _ = query_all(ddb, TableName=name, IndexName="by_total", Limit=4)
    expected = [
        project(i, ["customer", "order"], ["status", "total"], "INCLUDE", ["note"]) for i in table
    ]
    assert as_set(got) == as_set([e for e in expected if e])


def test_local_index_query_and_fetch_of_unprojected_attributes(ddb, orders):
    name, rows = orders
    r = ddb.query(
        TableName=name, IndexName="by_placed",
        KeyConditionExpression="customer = :c AND placed < :p",
        ExpressionAttributeValues={":c": {"S": "c2"}, ":p": {"N": "94"}},
    )
    assert [int(i["placed"]["N"]) for i in r["Items"]] == [91, 92, 93]
    assert all(set(i) == {"customer", "order", "placed"} for i in r["Items"])
    # An LSI fetches what it does not project from the table: ALL_ATTRIBUTES, a projection,
    # a filter on an unprojected attribute.
    r = ddb.query(
        TableName=name, IndexName="by_placed", Select="ALL_ATTRIBUTES",
        KeyConditionExpression="customer = :c AND placed < :p",
        ExpressionAttributeValues={":c": {"S": "c2"}, ":p": {"N": "94"}}, ConsistentRead=True,
    )
    assert [i["secret"]["S"] for i in r["Items"]] == ["not projected"] * 3
    r = ddb.query(
        TableName=name, IndexName="by_placed", ProjectionExpression="note, placed",
        KeyConditionExpression="customer = :c", FilterExpression="begins_with(note, :n)",
        ExpressionAttributeValues={":c": {"S": "c2"}, ":n": {"S": "note 2/9"}},
    )
    assert r["Items"] == [{"note": {"S": "note 2/9"}, "placed": {"N": "91"}}]
    assert r["ScannedCount"] == 10 and r["Count"] == 1


def test_index_query_pagination_carries_index_and_table_keys(ddb, orders):
    name, rows = orders
    params = dict(
        TableName=name, IndexName="by_status", Limit=4,
        KeyConditionExpression="#s = :s", ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "shipped"}},
    )
    first = ddb.query(**params)
    assert set(first["LastEvaluatedKey"]) == {"customer", "order", "status", "placed"}
    items, pages = query_all(ddb, **params)
    expected = [i for i in rows if i.get("status", {}).get("S") == "shipped"]
    assert len(items) == len(expected) == 9 and pages == 3
    assert as_set(items) == as_set(expected)
    # Pages of the LSI carry the table key and the LSI sort key.
    r = ddb.query(
        TableName=name, IndexName="by_placed", Limit=2, KeyConditionExpression="customer = :c",
        ExpressionAttributeValues={":c": {"S": "c0"}},
    )
    assert set(r["LastEvaluatedKey"]) == {"customer", "order", "placed"}
    # A starting key without the index key is refused.
    with pytest.raises(ClientError) as e:
        ddb.query(**{**params, "ExclusiveStartKey": {"customer": {"S": "c0"}, "order": {"N": "2"}}})
    assert error_code(e) == "ValidationException"
    assert "The provided starting key is invalid" in error_message(e)


def test_scan_index_with_pages_and_segments(ddb, orders):
    name, rows = orders
    items, pages = query_all(ddb, TableName=name, IndexName="by_city", Limit=4)
    assert len(items) == 15 and pages == 4
    assert as_set(items) == as_set(
        [project(i, ["customer", "order"], ["city"], "KEYS_ONLY") for i in rows if "city" in i]
    )
    seen = []
    for seg in range(3):
        got, _ = query_all(ddb, TableName=name, IndexName="by_status", Segment=seg, TotalSegments=3, Limit=3)
        seen.extend(got)
    assert as_set(seen) == as_set([i for i in rows if "status" in i])
    r = ddb.scan(
        TableName=name, IndexName="by_total", Select="COUNT",
        FilterExpression="#t > :t", ExpressionAttributeNames={"#t": "total"},
        ExpressionAttributeValues={":t": {"N": "50"}},
    )
    assert "Items" not in r
    assert r["Count"] == sum(1 for i in rows if "status" in i and int(i["total"]["N"]) > 50)


def test_select_rules_on_indexes(ddb, orders):
    name, _ = orders
    kc = dict(KeyConditionExpression="city = :c", ExpressionAttributeValues={":c": {"S": "Oslo"}})
    # Default for an index read: the projected attributes.
    r = ddb.query(TableName=name, IndexName="by_city", **kc)
    assert all(set(i) == {"customer", "order", "city"} for i in r["Items"])
    r2 = ddb.query(TableName=name, IndexName="by_city", Select="ALL_PROJECTED_ATTRIBUTES", **kc)
    assert r2["Items"] == r["Items"]
    r = ddb.query(TableName=name, IndexName="by_city", Select="COUNT", **kc)
    assert "Items" not in r and r["Count"] == 5
    r = ddb.query(TableName=name, IndexName="by_city", Select="SPECIFIC_ATTRIBUTES",
                  ProjectionExpression="customer", **kc)
    assert all(set(i) == {"customer"} for i in r["Items"])
    for op, extra in [(ddb.query, kc), (ddb.scan, {})]:
        with pytest.raises(ClientError) as e:
            op(TableName=name, IndexName="by_city", Select="ALL_ATTRIBUTES", **extra)
        assert error_message(e) == (
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported "
            "for global secondary index by_city because its projection type is not ALL"
        )
    # A global index cannot fetch from the table.
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=name, IndexName="by_city", ProjectionExpression="customer, secret", **kc)
    assert error_message(e) == (
        "One or more parameter values were invalid: Global secondary index by_city does not project [secret]"
    )
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=name, IndexName="by_total", FilterExpression="attribute_exists(secret)")
    assert "does not project [secret]" in error_message(e)
    # ALL_ATTRIBUTES is fine on an ALL index; ALL_PROJECTED_ATTRIBUTES only with an index.
    ddb.scan(TableName=name, IndexName="by_status", Select="ALL_ATTRIBUTES")
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=name, Select="ALL_PROJECTED_ATTRIBUTES")
    assert "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName" in error_message(e)


def test_consistent_read_refused_on_global_index_only(ddb, orders):
    name, _ = orders
    with pytest.raises(ClientError) as e:
        ddb.query(
            TableName=name, IndexName="by_city", ConsistentRead=True,
            KeyConditionExpression="city = :c", ExpressionAttributeValues={":c": {"S": "Oslo"}},
        )
    assert error_code(e) == "ValidationException"
    assert error_message(e) == "Consistent reads are not supported on global secondary indexes"
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=name, IndexName="by_status", ConsistentRead=True)
    assert error_message(e) == "Consistent reads are not supported on global secondary indexes"
    r = ddb.query(
        TableName=name, IndexName="by_placed", ConsistentRead=True,
        KeyConditionExpression="customer = :c", ExpressionAttributeValues={":c": {"S": "c1"}},
    )
    assert r["Count"] == 10


def test_index_read_errors(ddb, orders):
    name, _ = orders
    with pytest.raises(ClientError) as e:
        ddb.query(
            TableName=name, IndexName="nope", KeyConditionExpression="city = :c",
            ExpressionAttributeValues={":c": {"S": "Oslo"}},
        )
    assert error_code(e) == "ValidationException"
    assert error_message(e) == "The table does not have the specified index: nope"
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=name, IndexName="nope")
    assert error_message(e) == "The table does not have the specified index: nope"
    # The key condition is on the index's key, not the table's.
    with pytest.raises(ClientError) as e:
        ddb.query(
            TableName=name, IndexName="by_city", KeyConditionExpression="customer = :c",
            ExpressionAttributeValues={":c": {"S": "c0"}},
        )
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.query(
            TableName=name, IndexName="by_city", KeyConditionExpression="city = :c",
            ExpressionAttributeValues={":c": {"N": "1"}},
        )
    assert error_code(e) == "ValidationException"


def test_index_read_capacity_with_indexes_report(ddb, orders):
    name, _ = orders
    r = ddb.query(
        TableName=name, IndexName="by_city", ReturnConsumedCapacity="INDEXES",
        KeyConditionExpression="city = :c", ExpressionAttributeValues={":c": {"S": "Oslo"}},
    )
    cc = r["ConsumedCapacity"]
    assert cc["TableName"] == name and cc["CapacityUnits"] == 0.5
    assert cc["GlobalSecondaryIndexes"]["by_city"]["CapacityUnits"] == 0.5
    r = ddb.query(
        TableName=name, IndexName="by_placed", ReturnConsumedCapacity="INDEXES",
        KeyConditionExpression="customer = :c", ExpressionAttributeValues={":c": {"S": "c0"}},
    )
    assert "by_placed" in r["ConsumedCapacity"]["LocalSecondaryIndexes"]


def test_write_capacity_counts_index_writes(ddb, orders):
    name, _ = orders
    key = {"customer": {"S": "w"}, "order": {"N": "1"}}
    r = ddb.put_item(
        TableName=name, ReturnConsumedCapacity="INDEXES",
        Item={**key, "status": {"S": "open"}, "placed": {"N": "1"}, "total": {"N": "1"}},
    )
    cc = r["ConsumedCapacity"]
    assert cc["Table"]["CapacityUnits"] == 1.0
    assert set(cc["GlobalSecondaryIndexes"]) == {"by_status", "by_total"}
    assert set(cc["LocalSecondaryIndexes"]) == {"by_placed"}
    assert cc["CapacityUnits"] == 4.0
    # A new index key is a delete and a put; an index the change does not touch costs nothing.
    r = ddb.update_item(
        TableName=name, Key=key, ReturnConsumedCapacity="INDEXES", UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": "shipped"}},
    )
    cc = r["ConsumedCapacity"]
    assert cc["GlobalSecondaryIndexes"] == {
        "by_status": {"CapacityUnits": 2.0, "WriteCapacityUnits": 2.0},
        "by_total": {"CapacityUnits": 2.0, "WriteCapacityUnits": 2.0},
    }
    assert "LocalSecondaryIndexes" not in cc
    assert cc["CapacityUnits"] == 5.0
    r = ddb.delete_item(TableName=name, Key=key, ReturnConsumedCapacity="TOTAL")
    assert r["ConsumedCapacity"]["CapacityUnits"] == 4.0


def test_resource_query_with_index(resource, orders):
    name, _ = orders
    table = resource.Table(name)
    r = table.query(IndexName="by_status", KeyConditionExpression=Key("status").eq("open") & Key("placed").gt(95))
    assert sorted(int(i["placed"]) for i in r["Items"]) == [99, 99, 99]


# ---- item validation against index keys ----


def test_items_with_wrong_index_key_types_are_rejected(ddb, orders):
    name, _ = orders
    msg = (
        "One or more parameter values were invalid: Type mismatch for Index Key city "
        "Expected: S Actual: N IndexName: by_city"
    )
    item = {"customer": {"S": "z"}, "order": {"N": "1"}, "city": {"N": "7"}}
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item=item)
    assert error_code(e) == "ValidationException" and error_message(e) == msg
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": item}}]})
    assert error_code(e) == "ValidationException" and error_message(e) == msg
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": name, "Item": item}}])
    assert error_code(e) == "ValidationException" and error_message(e) == msg
    with pytest.raises(ClientError) as e:
        ddb.update_item(
            TableName=name, Key={"customer": {"S": "c0"}, "order": {"N": "1"}},
            UpdateExpression="SET placed = :p", ExpressionAttributeValues={":p": {"S": "soon"}},
        )
    # placed is the sort key of two indexes; either may be named.
    assert error_message(e).startswith(
        "One or more parameter values were invalid: Type mismatch for Index Key placed Expected: N Actual: S IndexName: by_"
    )
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item={**item, "city": {"S": ""}})
    assert "A value specified for a secondary index key is not supported" in error_message(e)
    # Nothing was written.
    assert "Item" not in ddb.get_item(TableName=name, Key={"customer": {"S": "z"}, "order": {"N": "1"}})
    assert ddb.get_item(TableName=name, Key={"customer": {"S": "c0"}, "order": {"N": "1"}})["Item"]["placed"] == {"N": "99"}


# ---- DynamoDB's validation of index definitions ----


def create_error(ddb_raw, **params):
    params.setdefault("TableName", unique_name("bad"))
    params.setdefault("BillingMode", "PAY_PER_REQUEST")
    with pytest.raises(ClientError) as e:
        ddb_raw.create_table(**params)
    assert error_code(e) == "ValidationException", e.value.response
    with pytest.raises(ClientError) as gone:
        ddb_raw.describe_table(TableName=params["TableName"])
    assert error_code(gone) == "ResourceNotFoundException"
    return error_message(e)


INVALID = "One or more parameter values were invalid: "


def test_local_index_rules(ddb_raw):
    m = create_error(
        ddb_raw, KeySchema=keys("pk"), AttributeDefinitions=attr_defs(pk="S", l="N"),
        LocalSecondaryIndexes=[lsi("li1", "pk", "l")],
    )
    assert m == INVALID + "Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"
    m = create_error(
        ddb_raw, KeySchema=keys("pk", "sk"), AttributeDefinitions=attr_defs(pk="S", sk="S", l="N", o="S"),
        LocalSecondaryIndexes=[lsi("li1", "o", "l")],
    )
    assert m == INVALID + (
        "Index KeySchema does not have the same leading hash key as table KeySchema for index: li1. "
        "index hash key: o, table hash key: pk"
    )
    m = create_error(
        ddb_raw, KeySchema=keys("pk", "sk"), AttributeDefinitions=attr_defs(pk="S", sk="S"),
        LocalSecondaryIndexes=[lsi("li1", "pk")],
    )
    assert m == INVALID + "Index KeySchema does not have a range key for index: li1"
    six = [lsi(f"lsi{i}", "pk", f"r{i}") for i in range(6)]
    m = create_error(
        ddb_raw, KeySchema=keys("pk", "sk"),
        AttributeDefinitions=attr_defs(pk="S", sk="S", **{f"r{i}": "N" for i in range(6)}),
        LocalSecondaryIndexes=six,
    )
    assert m == INVALID + "Number of LocalSecondaryIndexes exceeds per-table limit of 5"
    m = create_error(
        ddb_raw, KeySchema=keys("pk", "sk"), AttributeDefinitions=attr_defs(pk="S", sk="S"),
        LocalSecondaryIndexes=[],
    )
    assert m == INVALID + "List of LocalSecondaryIndexes is empty"


def test_global_index_rules(ddb_raw, created):
    many = {f"h{i}": "S" for i in range(21)}
    m = create_error(
        ddb_raw, KeySchema=keys("pk"), AttributeDefinitions=attr_defs(pk="S", **many),
        GlobalSecondaryIndexes=[gsi(f"gsi{i}", f"h{i}") for i in range(21)],
    )
    assert m == INVALID + "GlobalSecondaryIndex count exceeds the per-table limit of 20"
    # Twenty is the limit, not over it.
    name, _ = created(
        KeySchema=keys("pk"), AttributeDefinitions=attr_defs(pk="S", **{f"h{i}": "S" for i in range(20)}),
        GlobalSecondaryIndexes=[gsi(f"gsi{i}", f"h{i}") for i in range(20)],
    )
    assert len(ddb_raw.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]) == 20
    m = create_error(
        ddb_raw, KeySchema=keys("pk"), AttributeDefinitions=attr_defs(pk="S", g="S"),
        GlobalSecondaryIndexes=[gsi("dup", "g"), gsi("dup", "g", projection="KEYS_ONLY")],
    )
    assert m == INVALID + "Duplicate index name: dup"
    m = create_error(
        ddb_raw, KeySchema=keys("pk"), AttributeDefinitions=attr_defs(pk="S", g="S", unused="N"),
        GlobalSecondaryIndexes=[gsi("gi1", "g")],
    )
    assert m == INVALID + "Some AttributeDefinitions are not used. AttributeDefinitions: [pk, g, unused], keys used: [pk, g]"
    m = create_error(
        ddb_raw, KeySchema=keys("pk"), AttributeDefinitions=attr_defs(pk="S"),
        GlobalSecondaryIndexes=[gsi("gi1", "g", "gs")],
    )
    assert m == INVALID + "Some index key attributes are not defined in AttributeDefinitions. Keys: [g, gs], AttributeDefinitions: [pk]"
    m = create_error(
        ddb_raw, KeySchema=keys("pk"), AttributeDefinitions=attr_defs(pk="S", g="S"),
        GlobalSecondaryIndexes=[gsi("gi1", "g", projection="ALL", non_key=["x"])],
    )
    assert m == INVALID + "ProjectionType is ALL, but NonKeyAttributes is specified"
    m = create_error(
        ddb_raw, KeySchema=keys("pk"), AttributeDefinitions=attr_defs(pk="S", g="S"),
        GlobalSecondaryIndexes=[{**gsi("gi1", "g"), "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}],
    )
    assert m == INVALID + "ProvisionedThroughput should not be specified for index: gi1 when BillingMode is PAY_PER_REQUEST"
    m = create_error(
        ddb_raw, KeySchema=keys("pk"), AttributeDefinitions=attr_defs(pk="S", g="S"),
        GlobalSecondaryIndexes=[gsi("gi1", "g", "g")],
    )
    assert m == "Both the Hash Key and the Range Key element in the KeySchema have the same name"
    m = create_error(
        ddb_raw, KeySchema=keys("pk"), AttributeDefinitions=attr_defs(pk="S", g="S"),
        GlobalSecondaryIndexes=[],
    )
    assert m == INVALID + "List of GlobalSecondaryIndexes is empty"


def test_index_names_and_key_types(ddb_raw):
    m = create_error(
        ddb_raw, KeySchema=keys("pk"), AttributeDefinitions=attr_defs(pk="S", g="S"),
        GlobalSecondaryIndexes=[gsi("a!", "g")],
    )
    assert m.startswith("2 validation errors detected: ")
    assert "Value 'a!' at 'globalSecondaryIndexes.1.member.indexName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+" in m
    assert "Member must have length greater than or equal to 3" in m
    m = create_error(
        ddb_raw, KeySchema=keys("pk", "sk"), AttributeDefinitions=attr_defs(pk="S", sk="S", l="N"),
        LocalSecondaryIndexes=[lsi("x" * 256, "pk", "l")],
    )
    assert "at 'localSecondaryIndexes.1.member.indexName' failed to satisfy constraint: Member must have length less than or equal to 255" in m
    # Index keys are scalars: S, N or B.
    m = create_error(
        ddb_raw, KeySchema=keys("pk"), AttributeDefinitions=attr_defs(pk="S", g="BOOL"),
        GlobalSecondaryIndexes=[gsi("gi1", "g")],
    )
    assert "Member must satisfy enum value set: [B, N, S]" in m
    m = create_error(
        ddb_raw, KeySchema=keys("pk"), AttributeDefinitions=attr_defs(pk="S", g="S"),
        GlobalSecondaryIndexes=[{"IndexName": "gi1", "KeySchema": keys("g"), "Projection": {"ProjectionType": "SOME"}}],
    )
    assert "Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]" in m


def test_local_indexes_only_at_creation(ddb, endpoint, make_table):
    name = make_table(("pk", "S"), ("sk", "S"))
    body = {
        "TableName": name,
        "AttributeDefinitions": attr_defs(l="N"),
        "LocalSecondaryIndexes": [lsi("li1", "pk", "l")],
    }
    r = raw_call(endpoint, "DynamoDB_20120810.UpdateTable", body)
    assert r.status_code == 400
    assert r.json()["__type"].endswith("ValidationException")
    assert "local secondary indexes can only be created with the table" in r.json()["message"]
    assert "LocalSecondaryIndexes" not in ddb.describe_table(TableName=name)["Table"]


# ---- UpdateTable: online global index creation and deletion ----


def row(p, rnd):
    item = {"pk": {"S": f"p{p}"}, "v": {"N": str(rnd.randrange(1000))}}
    k = rnd.randrange(10)
    if k < 7:
        item["g"] = {"S": f"g{rnd.randrange(20)}"}
        item["gs"] = {"N": str(rnd.randrange(50))}
    elif k < 9:
        item["g"] = {"S": f"g{rnd.randrange(20)}"}  # no sort key: not in the index
    return item


def test_create_index_on_a_busy_table_backfills_exactly(ddb, aws, created):
    name, _ = created(KeySchema=keys("pk"), AttributeDefinitions=attr_defs(pk="S"))
    rnd = random.Random(4)
    batch = []
    for p in range(3000):
        batch.append({"PutRequest": {"Item": row(p, rnd)}})
        if len(batch) == 25:
            ddb.batch_write_item(RequestItems={name: batch})
            batch = []
    stop = threading.Event()
    errors = []
    writes = [0]

    def writer(seed):
        client = aws.client()
        r = random.Random(seed)
        while not stop.is_set():
            p = r.randrange(3500)
            try:
                if r.random() < 0.2:
                    client.delete_item(TableName=name, Key={"pk": {"S": f"p{p}"}})
                elif r.random() < 0.5:
                    client.update_item(
                        TableName=name, Key={"pk": {"S": f"p{p}"}},
                        UpdateExpression="SET g = :g, gs = :s ADD v :one",
                        ExpressionAttributeValues={":g": {"S": f"g{r.randrange(20)}"}, ":s": {"N": str(r.randrange(50))}, ":one": {"N": "1"}},
                    )
                else:
                    client.put_item(TableName=name, Item=row(p, r))
                writes[0] += 1
            except Exception as e:  # noqa: BLE001
                errors.append(e)
                return

    threads = [threading.Thread(target=writer, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 30
        while writes[0] < 20:  # the writers are under way
            assert time.monotonic() < deadline and not errors, errors[:3]
            time.sleep(0.01)
        before = writes[0]
        resp = ddb.update_table(
            TableName=name,
            AttributeDefinitions=attr_defs(g="S", gs="N"),
            GlobalSecondaryIndexUpdates=[{"Create": gsi("by_g", "g", "gs", projection="INCLUDE", non_key=["v"])}],
        )
        d = resp["TableDescription"]
        assert d["TableStatus"] == "UPDATING"
        (ix,) = d["GlobalSecondaryIndexes"]
        assert ix["IndexStatus"] == "CREATING" and ix["IndexName"] == "by_g"
        assert sorted(a["AttributeName"] for a in d["AttributeDefinitions"]) == ["g", "gs", "pk"]
        # The table stays usable while the index builds; the index is not readable yet.
        try:
            ddb.query(
                TableName=name, IndexName="by_g", KeyConditionExpression="g = :g",
                ExpressionAttributeValues={":g": {"S": "gi1"}},
            )
        except ClientError as e:
            assert e.response["Error"]["Message"] == "Cannot read from backfilling global secondary index: by_g"
        ix, seen = wait_index(ddb, name, "by_g")
        # Writes landed while the index was being built.
        assert writes[0] > before
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[:3]
    t = ddb.describe_table(TableName=name)["Table"]
    assert t["TableStatus"] == "ACTIVE"
    assert "Backfilling" not in t["GlobalSecondaryIndexes"][0]
    table = full_scan(ddb, name)
    expected = [project(i, ["pk"], ["g", "gs"], "INCLUDE", ["v"]) for i in table]
    expected = [e for e in expected if e]
    got, pages = query_all(ddb, TableName=name, IndexName="by_g", Limit=500)
    assert pages > 1
    assert len(got) == len(expected) > 1000
    assert as_set(got) == as_set(expected)
    # Per-partition order: Query on one index partition is sorted by the index sort key.
    r = ddb.query(
        TableName=name, IndexName="by_g", KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "g3"}},
    )
    gs = [int(i["gs"]["N"]) for i in r["Items"]]
    assert gs == sorted(gs) and len(gs) == sum(1 for e in expected if e["g"]["S"] == "g3")


def test_delete_global_index(ddb, orders):
    name, rows = orders
    resp = ddb.update_table(
        TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_city"}}],
    )
    d = resp["TableDescription"]
    deleting = [i for i in d["GlobalSecondaryIndexes"] if i["IndexName"] == "by_city"]
    assert deleting and deleting[0]["IndexStatus"] == "DELETING"
    t = ddb.describe_table(TableName=name)["Table"]
    assert sorted(i["IndexName"] for i in t["GlobalSecondaryIndexes"]) == ["by_status", "by_total"]
    assert "city" not in [a["AttributeName"] for a in t["AttributeDefinitions"]]
    with pytest.raises(ClientError) as e:
        ddb.query(
            TableName=name, IndexName="by_city", KeyConditionExpression="city = :c",
            ExpressionAttributeValues={":c": {"S": "Oslo"}},
        )
    assert error_message(e) == "The table does not have the specified index: by_city"
    # city is an ordinary attribute now: any type goes.
    ddb.put_item(TableName=name, Item={"customer": {"S": "n"}, "order": {"N": "1"}, "city": {"N": "5"}})
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_city"}}])
    assert error_code(e) == "ResourceNotFoundException"
    # Created again under the same name (on S again): the wrongly typed item is left out.
    ddb.update_table(
        TableName=name, AttributeDefinitions=attr_defs(city="S"),
        GlobalSecondaryIndexUpdates=[{"Create": gsi("by_city", "city", projection="KEYS_ONLY")}],
    )
    wait_index(ddb, name, "by_city")
    items, _ = query_all(ddb, TableName=name, IndexName="by_city")
    assert len(items) == 15


def test_update_table_index_validation(ddb, ddb_raw, orders):
    name, _ = orders
    with pytest.raises(ClientError) as e:
        ddb.update_table(
            TableName=name, AttributeDefinitions=attr_defs(a="S", b="S"),
            GlobalSecondaryIndexUpdates=[{"Create": gsi("ai1", "a")}, {"Create": gsi("bi1", "b")}],
        )
    assert error_code(e) == "LimitExceededException"
    assert error_message(e) == "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table"
    with pytest.raises(ClientError) as e:
        ddb.update_table(
            TableName=name, AttributeDefinitions=attr_defs(status="S"),
            GlobalSecondaryIndexUpdates=[{"Create": gsi("by_status", "status")}],
        )
    assert error_code(e) == "ValidationException"
    assert "Duplicate index name: by_status" in error_message(e)
    with pytest.raises(ClientError) as e:
        ddb.update_table(
            TableName=name, AttributeDefinitions=attr_defs(customer="S"),
            GlobalSecondaryIndexUpdates=[{"Create": gsi("new_one", "zz")}],
        )
    assert "Some index key attributes are not defined in AttributeDefinitions" in error_message(e)
    with pytest.raises(ClientError) as e:
        ddb.update_table(
            TableName=name, AttributeDefinitions=attr_defs(a="S"),
            GlobalSecondaryIndexUpdates=[{"Create": gsi("byx", "a")}, {"Delete": {"IndexName": "byx"}}],
        )
    assert "Only one global secondary index update per index is allowed simultaneously. Index: byx" in error_message(e)
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by_placed"}}])
    assert error_code(e) == "ValidationException"
    t = ddb.describe_table(TableName=name)["Table"]
    assert len(t["GlobalSecondaryIndexes"]) == 3 and len(t["LocalSecondaryIndexes"]) == 1
