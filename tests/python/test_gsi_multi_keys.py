"""Multi-attribute keys of global secondary indexes (issue 17, item 2), through boto3.

A GSI's partition key and sort key may each be made of up to four attributes (DynamoDB,
November 2025): KeySchema lists the HASH elements, then the RANGE elements, in key order.
These tests cover CreateTable, UpdateTable (an index added to a table with data, backfilled
online) and DescribeTable; sparse entries (an item missing any key attribute is not indexed);
Query key conditions (equality on every partition attribute, equality on a leading run of
sort attributes, then at most one range condition), ordering, paging (LastEvaluatedKey holds
every key attribute), KeyConditions (legacy), backups, export and import, streams; and the
validation errors for each misuse.

The installed botocore (1.44.x) models KeySchema without a maximum length, so boto3 sends
these requests as they are (no raw signed call is needed): the first test checks that.
"""

import gzip
import json
import time

import botocore
import pytest
from botocore.exceptions import ClientError

import conftest
from conftest import error_code, error_message, unique_name

WAIT_S = 60


def wait_until(predicate, what, timeout=WAIT_S):
    return conftest.wait_until(predicate, what, timeout)


def defs(**types):
    return [{"AttributeName": n, "AttributeType": t} for n, t in types.items()]


def key_schema(hash_keys, range_keys=()):
    return ([{"AttributeName": h, "KeyType": "HASH"} for h in hash_keys]
            + [{"AttributeName": r, "KeyType": "RANGE"} for r in range_keys])


MATCH_KEYS = key_schema(["tournament", "area"], ["round", "bracket", "seq"])
MATCH_DEFS = defs(pk="S", tournament="S", area="S", round="S", bracket="S", seq="N")


def match_index(name="by_match", keys=MATCH_KEYS, projection="ALL"):
    return {"IndexName": name, "KeySchema": keys, "Projection": {"ProjectionType": projection}}


def create_params(name, indexes=None, definitions=MATCH_DEFS, **extra):
    p = {"TableName": name, "BillingMode": "PAY_PER_REQUEST",
         "KeySchema": key_schema(["pk"]), "AttributeDefinitions": definitions}
    if indexes is not None:
        p["GlobalSecondaryIndexes"] = indexes
    p.update(extra)
    return p


def match(i, tournament="w24", area="na", rnd="semi", bracket="upper", seq=1, **extra):
    item = {"pk": {"S": f"m{i:03}"}, "tournament": {"S": tournament}, "area": {"S": area},
            "round": {"S": rnd}, "bracket": {"S": bracket}, "seq": {"N": str(seq)}}
    item.update(extra)
    return item


ROWS = [
    match(1, rnd="final", bracket="upper", seq=1),
    match(2, rnd="semi", bracket="upper", seq=2),
    match(3, rnd="semi", bracket="upper", seq=10),
    match(4, rnd="semi", bracket="lower", seq=5),
    match(5, rnd="quarter", bracket="upper", seq=3),
    match(6, area="eu", rnd="semi", bracket="upper", seq=1),
    match(7, tournament="s25", rnd="semi", bracket="upper", seq=1),
    match(8, rnd="semi", bracket="upper", seq=1),
]
# The order of tournament w24 / area na in the index: round, then bracket, then seq (numeric).
NA_ORDER = ["m001", "m005", "m004", "m008", "m002", "m003"]


def ids(items):
    return [i["pk"]["S"] for i in items]


def query(ddb, table, expr, values, index="by_match", **kw):
    return ddb.query(TableName=table, IndexName=index, KeyConditionExpression=expr,
                     ExpressionAttributeValues=values, **kw)


def na_query(ddb, table, extra_expr="", extra_values=None, **kw):
    values = {":t": {"S": "w24"}, ":r": {"S": "na"}}
    values.update(extra_values or {})
    return query(ddb, table, "tournament = :t AND area = :r" + extra_expr, values, **kw)


@pytest.fixture
def tables(ddb):
    names = []
    yield names
    for n in names:
        try:
            ddb.delete_table(TableName=n)
        except ClientError:
            pass


@pytest.fixture
def matches(ddb, tables):
    """A table with the multi-attribute index `by_match`, holding ROWS and sparse items."""
    name = unique_name("multi")
    ddb.create_table(**create_params(name, [match_index()]))
    tables.append(name)
    conftest.wait_active(ddb, name)
    for r in ROWS:
        ddb.put_item(TableName=name, Item=r)
    # Each misses one key attribute: none is indexed.
    for i, missing in enumerate(["tournament", "area", "round", "bracket", "seq"]):
        r = match(100 + i)
        del r[missing]
        ddb.put_item(TableName=name, Item=r)
    return name


def test_botocore_sends_the_multi_attribute_shape():
    # KeySchema has no maximum length in this model: the client does not refuse 8 elements.
    model = botocore.session.get_session().get_service_model("dynamodb")
    assert "max" not in model.shape_for("KeySchema").metadata
    assert tuple(int(p) for p in botocore.__version__.split(".")[:2]) >= (1, 40)


def test_create_and_describe_keep_the_key_order(ddb, matches):
    t = ddb.describe_table(TableName=matches)["Table"]
    (ix,) = t["GlobalSecondaryIndexes"]
    assert ix["KeySchema"] == MATCH_KEYS
    assert ix["IndexStatus"] == "ACTIVE"
    assert {d["AttributeName"] for d in t["AttributeDefinitions"]} == {
        d["AttributeName"] for d in MATCH_DEFS}
    # Four and four is the most.
    name = unique_name("multi8")
    keys = key_schema(["a1", "a2", "a3", "a4"], ["b1", "b2", "b3", "b4"])
    d = ddb.create_table(**create_params(
        name, [match_index("eight", keys)],
        definitions=defs(pk="S", a1="S", a2="N", a3="B", a4="S", b1="N", b2="S", b3="B", b4="N"),
    ))["TableDescription"]
    try:
        assert d["GlobalSecondaryIndexes"][0]["KeySchema"] == keys
    finally:
        ddb.delete_table(TableName=name)


def test_sparse_entries_and_order(ddb, matches):
    scan = ddb.scan(TableName=matches, IndexName="by_match")
    assert sorted(ids(scan["Items"])) == sorted(ids(ROWS)), "items missing a key attribute are not indexed"
    assert ids(na_query(ddb, matches)["Items"]) == NA_ORDER
    assert ids(na_query(ddb, matches, ScanIndexForward=False)["Items"]) == NA_ORDER[::-1]
    # Removing one key attribute takes the item out; putting it back brings it in.
    ddb.update_item(TableName=matches, Key={"pk": {"S": "m008"}}, UpdateExpression="REMOVE bracket")
    assert "m008" not in ids(na_query(ddb, matches)["Items"])
    ddb.update_item(TableName=matches, Key={"pk": {"S": "m008"}}, UpdateExpression="SET bracket = :b",
                    ExpressionAttributeValues={":b": {"S": "upper"}})
    assert ids(na_query(ddb, matches)["Items"]) == NA_ORDER
    # Changing a key attribute moves the entry.
    ddb.update_item(TableName=matches, Key={"pk": {"S": "m008"}}, UpdateExpression="SET area = :r",
                    ExpressionAttributeValues={":r": {"S": "eu"}})
    eu = query(ddb, matches, "tournament = :t AND area = :r", {":t": {"S": "w24"}, ":r": {"S": "eu"}})
    assert ids(eu["Items"]) == ["m006", "m008"]


@pytest.mark.parametrize("expr, values, expected", [
    (" AND #round = :a", {":a": {"S": "semi"}}, ["m004", "m008", "m002", "m003"]),
    (" AND #round > :a", {":a": {"S": "quarter"}}, ["m004", "m008", "m002", "m003"]),
    (" AND begins_with(#round, :a)", {":a": {"S": "qu"}}, ["m005"]),
    (" AND #round = :a AND bracket = :b", {":a": {"S": "semi"}, ":b": {"S": "upper"}},
     ["m008", "m002", "m003"]),
    (" AND #round = :a AND bracket = :b AND seq >= :c",
     {":a": {"S": "semi"}, ":b": {"S": "upper"}, ":c": {"N": "2"}}, ["m002", "m003"]),
    (" AND #round = :a AND bracket = :b AND seq BETWEEN :c AND :d",
     {":a": {"S": "semi"}, ":b": {"S": "upper"}, ":c": {"N": "1"}, ":d": {"N": "2"}}, ["m008", "m002"]),
    (" AND #round = :a AND bracket < :b", {":a": {"S": "semi"}, ":b": {"S": "upper"}}, ["m004"]),
    # conditions in any order in the expression
    (" AND seq = :c AND bracket = :b AND #round = :a",
     {":a": {"S": "semi"}, ":b": {"S": "upper"}, ":c": {"N": "10"}}, ["m003"]),
])
def test_query_key_conditions(ddb, matches, expr, values, expected):
    r = na_query(ddb, matches, expr, values, ExpressionAttributeNames={"#round": "round"})
    assert ids(r["Items"]) == expected


def test_legacy_key_conditions(ddb, matches):
    eq = lambda v: {"ComparisonOperator": "EQ", "AttributeValueList": [v]}
    r = ddb.query(TableName=matches, IndexName="by_match", KeyConditions={
        "tournament": eq({"S": "w24"}), "area": eq({"S": "na"}), "round": eq({"S": "semi"}),
        "bracket": {"ComparisonOperator": "BEGINS_WITH", "AttributeValueList": [{"S": "up"}]}})
    assert ids(r["Items"]) == ["m008", "m002", "m003"]


def test_paging_carries_every_key_attribute(ddb, matches):
    seen, kw = [], {}
    while True:
        page = na_query(ddb, matches, Limit=2, **kw)
        seen += ids(page["Items"])
        lek = page.get("LastEvaluatedKey")
        if not lek:
            break
        assert set(lek) == {"pk", "tournament", "area", "round", "bracket", "seq"}
        kw = {"ExclusiveStartKey": lek}
    assert seen == NA_ORDER
    # A start key without every index key attribute is refused.
    page = na_query(ddb, matches, Limit=1)
    lek = dict(page["LastEvaluatedKey"])
    del lek["bracket"]
    with pytest.raises(ClientError) as e:
        na_query(ddb, matches, ExclusiveStartKey=lek)
    assert error_code(e) == "ValidationException"
    assert "The provided starting key is invalid" in error_message(e)


# The messages are DynamoDB's, as DynamoDB Local 3.3 (which has multi-attribute GSI keys)
# answers them.
@pytest.mark.parametrize("expr, values, message", [
    # a partition attribute missing
    ("tournament = :t", {":t": {"S": "w24"}},
     "HASH key attributes area must have equality conditions specified in the query"),
    ("area = :r AND #round = :a", {":r": {"S": "na"}, ":a": {"S": "semi"}},
     "HASH key attributes tournament must have equality conditions specified in the query"),
    # a partition attribute with a range condition
    ("tournament = :t AND area > :r", {":t": {"S": "w24"}, ":r": {"S": "na"}},
     "HASH key attributes area must have equality conditions specified in the query"),
    # a sort attribute skipped
    ("tournament = :t AND area = :r AND bracket = :b", {":t": {"S": "w24"}, ":r": {"S": "na"}, ":b": {"S": "upper"}},
     "RANGE key attributes round must have equality conditions specified in the query because a condition is present on key attribute bracket"),
    ("tournament = :t AND area = :r AND seq = :c", {":t": {"S": "w24"}, ":r": {"S": "na"}, ":c": {"N": "1"}},
     "RANGE key attributes round, bracket must have equality conditions specified in the query because a condition is present on key attribute seq"),
    # a range condition before the last conditioned sort attribute
    ("tournament = :t AND area = :r AND #round > :a AND bracket = :b",
     {":t": {"S": "w24"}, ":r": {"S": "na"}, ":a": {"S": "q"}, ":b": {"S": "upper"}},
     "RANGE key attributes round must have equality conditions specified in the query because a condition is present on key attribute bracket"),
    ("tournament = :t AND area = :r AND begins_with(#round, :a) AND bracket = :b",
     {":t": {"S": "w24"}, ":r": {"S": "na"}, ":a": {"S": "s"}, ":b": {"S": "upper"}},
     "RANGE key attributes round must have equality conditions specified in the query because a condition is present on key attribute bracket"),
    # an attribute that is not part of the key
    ("tournament = :t AND area = :r AND extra = :a", {":t": {"S": "w24"}, ":r": {"S": "na"}, ":a": {"S": "x"}},
     "Query condition missed key schema element"),
    # two conditions on one attribute
    ("tournament = :t AND area = :r AND area = :a", {":t": {"S": "w24"}, ":r": {"S": "na"}, ":a": {"S": "x"}},
     "KeyConditionExpressions must only contain one condition per key"),
    # a value of the wrong type
    ("tournament = :t AND area = :r", {":t": {"S": "w24"}, ":r": {"N": "1"}},
     "One or more parameter values were invalid: Condition parameter type does not match schema type"),
    ("tournament = :t AND area = :r AND #round = :a AND bracket = :b AND seq = :c",
     {":t": {"S": "w24"}, ":r": {"S": "na"}, ":a": {"S": "semi"}, ":b": {"N": "1"}, ":c": {"N": "1"}},
     "One or more parameter values were invalid: Condition parameter type does not match schema type"),
    ("tournament = :t OR area = :r", {":t": {"S": "w24"}, ":r": {"S": "na"}},
     "Invalid operator used in KeyConditionExpression: OR"),
])
def test_query_misuse(ddb, matches, expr, values, message):
    names = {"#round": "round"} if "#round" in expr else {}
    kw = {"ExpressionAttributeNames": names} if names else {}
    with pytest.raises(ClientError) as e:
        query(ddb, matches, expr, values, **kw)
    assert error_code(e) == "ValidationException"
    assert error_message(e) == message


def test_legacy_key_conditions_misuse(ddb, matches):
    eq = lambda v: {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": v}]}
    for conditions, message in [
        ({"tournament": eq("w24")},
         "HASH key attributes area must have equality conditions specified in the query"),
        ({"tournament": eq("w24"), "area": eq("na"), "bracket": eq("upper")},
         "RANGE key attributes round must have equality conditions specified in the query because a condition is present on key attribute bracket"),
    ]:
        with pytest.raises(ClientError) as e:
            ddb.query(TableName=matches, IndexName="by_match", KeyConditions=conditions)
        assert error_code(e) == "ValidationException"
        assert error_message(e) == message


@pytest.mark.parametrize("keys, definitions, message", [
    (key_schema(["a1", "a2", "a3", "a4", "a5"]), defs(pk="S", a1="S", a2="S", a3="S", a4="S", a5="S"),
     "Too many partition keys. GSI can have at most 4 partition keys"),
    (key_schema(["a1"], ["b1", "b2", "b3", "b4", "b5"]), defs(pk="S", a1="S", b1="S", b2="S", b3="S", b4="S", b5="S"),
     "Too many sort keys. GSI can have at most 4 sort keys"),
    (key_schema(["a1", "a2", "a3", "a4"], ["b1", "b2", "b3", "b4", "b5"]),
     defs(pk="S", a1="S", a2="S", a3="S", a4="S", b1="S", b2="S", b3="S", b4="S", b5="S"),
     "Key Schema too big.  Key Schema must at most consist of the hash and range key of a table"),
    (key_schema(["a1", "a2"], ["b1"]), defs(pk="S", a1="S", b1="S"),
     "Some index key attributes are not defined in AttributeDefinitions. Keys: [a1, a2, b1], AttributeDefinitions: [pk, a1, b1]"),
    (key_schema(["a1", "a2"], ["b1"]), defs(pk="S", a1="S", a2="S", b1="S", unused="S"),
     "Some AttributeDefinitions are not used. AttributeDefinitions: [pk, a1, a2, b1, unused], keys used: [pk, a1, a2, b1]"),
    (key_schema(["a1", "a2"], ["a1"]), defs(pk="S", a1="S", a2="S"),
     "Two keys can not have the same name"),
    ([{"AttributeName": "b1", "KeyType": "RANGE"}] + key_schema(["a1", "a2"]), defs(pk="S", a1="S", a2="S", b1="S"),
     "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
    (key_schema(["a1"], ["b1"]) + key_schema(["a2"]), defs(pk="S", a1="S", a2="S", b1="S"),
     "Invalid key order. Hash Key must be specified first in key schema, Range Key must be specifed second"),
])
def test_create_table_misuse(ddb, keys, definitions, message):
    name = unique_name("bad")
    with pytest.raises(ClientError) as e:
        ddb.create_table(**create_params(name, [match_index("idx", keys)], definitions=definitions))
    assert error_code(e) == "ValidationException"
    assert message in error_message(e)
    assert name not in ddb.list_tables()["TableNames"]


def test_tables_and_local_indexes_keep_single_attribute_keys(ddb):
    name = unique_name("bad")
    with pytest.raises(ClientError) as e:
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         KeySchema=key_schema(["pk", "pk2"]), AttributeDefinitions=defs(pk="S", pk2="S"))
    assert error_code(e) == "ValidationException"
    assert "Too many hash keys specified" in error_message(e)
    with pytest.raises(ClientError) as e:
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         KeySchema=key_schema(["pk"], ["sk"]), AttributeDefinitions=defs(pk="S", sk="S", a="S", b="S"),
                         LocalSecondaryIndexes=[match_index("lsi", key_schema(["pk"], ["a", "b"]))])
    assert error_code(e) == "ValidationException"
    assert "localSecondaryIndexes.1.member.keySchema" in error_message(e)


def test_writes_check_each_present_key_attribute(ddb, matches):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=matches, Item=match(50, seq=1) | {"area": {"N": "3"}})
    assert error_code(e) == "ValidationException"
    assert "Type mismatch for Index Key area Expected: S Actual: N IndexName: by_match" in error_message(e)
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=matches, Item=match(51) | {"bracket": {"S": ""}})
    assert error_code(e) == "ValidationException"
    assert "IndexKey: bracket" in error_message(e)


def test_update_table_adds_a_multi_attribute_index_online(ddb, tables):
    name = unique_name("online")
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     KeySchema=key_schema(["pk"]), AttributeDefinitions=defs(pk="S"))
    tables.append(name)
    conftest.wait_active(ddb, name)
    for i in range(120):
        item = match(i, area=["na", "eu"][i % 2], rnd="semi", bracket=["upper", "lower"][i % 3 == 0], seq=i % 7)
        if i % 10 == 0:
            del item["seq"]
        ddb.put_item(TableName=name, Item=item)
    d = ddb.update_table(TableName=name, AttributeDefinitions=MATCH_DEFS, GlobalSecondaryIndexUpdates=[
        {"Create": match_index()}])["TableDescription"]
    (ix,) = d["GlobalSecondaryIndexes"]
    assert ix["KeySchema"] == MATCH_KEYS and ix["IndexStatus"] == "CREATING"

    def active():
        t = ddb.describe_table(TableName=name)["Table"]
        return t["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE"
    wait_until(active, "backfill")
    expected = [i for i in range(120) if i % 2 == 1 and i % 10 != 0 and i % 3 != 0 and i % 7 >= 3]
    r = query(ddb, name, "tournament = :t AND area = :r AND #round = :a AND bracket = :b AND seq >= :c",
              {":t": {"S": "w24"}, ":r": {"S": "eu"}, ":a": {"S": "semi"}, ":b": {"S": "upper"}, ":c": {"N": "3"}},
              ExpressionAttributeNames={"#round": "round"})
    got = ids(r["Items"])
    assert sorted(got) == sorted(f"m{i:03}" for i in expected)
    seqs = [int(i["seq"]["N"]) for i in r["Items"]]
    assert seqs == sorted(seqs)

    # UpdateTable's own checks apply to the new index.
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=name, AttributeDefinitions=defs(x1="S", x2="S", x3="S", x4="S", x5="S"),
                         GlobalSecondaryIndexUpdates=[{"Create": match_index(
                             "too_many", key_schema(["x1", "x2", "x3", "x4", "x5"]))}])
    assert error_code(e) == "ValidationException"
    assert error_message(e) == "Too many partition keys. GSI can have at most 4 partition keys"


def wait_backup(ddb, arn):
    def available():
        d = ddb.describe_backup(BackupArn=arn)["BackupDescription"]
        return d if d["BackupDetails"]["BackupStatus"] == "AVAILABLE" else None
    return wait_until(available, "backup AVAILABLE")


def test_backup_restores_the_index_and_its_entries(ddb, matches, tables):
    arn = ddb.create_backup(TableName=matches, BackupName="multi")["BackupDetails"]["BackupArn"]
    d = wait_backup(ddb, arn)
    (info,) = d["SourceTableFeatureDetails"]["GlobalSecondaryIndexes"]
    assert info["KeySchema"] == MATCH_KEYS
    target = unique_name("restored")
    ddb.restore_table_from_backup(TargetTableName=target, BackupArn=arn)
    tables.append(target)

    def restored():
        try:
            return ddb.describe_table(TableName=target)["Table"]["TableStatus"] == "ACTIVE"
        except ClientError:
            return False
    wait_until(restored, "restore")
    t = ddb.describe_table(TableName=target)["Table"]
    assert t["GlobalSecondaryIndexes"][0]["KeySchema"] == MATCH_KEYS
    assert ids(na_query(ddb, target)["Items"]) == NA_ORDER


def test_export_and_import_carry_the_index(ddb, matches, tables, tmp_path):
    ddb.update_continuous_backups(TableName=matches, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    arn = ddb.describe_table(TableName=matches)["Table"]["TableArn"]
    bucket = "file://" + str(tmp_path)
    exp = ddb.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket, S3Prefix="multi",
                                            ExportFormat="DYNAMODB_JSON")["ExportDescription"]

    def exported():
        d = ddb.describe_export(ExportArn=exp["ExportArn"])["ExportDescription"]
        return d if d["ExportStatus"] != "IN_PROGRESS" else None
    assert wait_until(exported, "export")["ExportStatus"] == "COMPLETED"
    lines = []
    for f in tmp_path.rglob("*.json.gz"):
        lines += [json.loads(l)["Item"] for l in gzip.decompress(f.read_bytes()).decode().splitlines()]
    assert sorted(i["pk"]["S"] for i in lines if "seq" in i and "bracket" in i and "round" in i
                  and "area" in i and "tournament" in i) == sorted(ids(ROWS))

    target = unique_name("imported")
    imp = ddb.import_table(S3BucketSource={"S3Bucket": bucket, "S3KeyPrefix": "multi"},
                           InputFormat="DYNAMODB_JSON", InputCompressionType="GZIP",
                           TableCreationParameters=create_params(target, [match_index()]))
    tables.append(target)

    def imported():
        d = ddb.describe_import(ImportArn=imp["ImportTableDescription"]["ImportArn"])["ImportTableDescription"]
        return d if d["ImportStatus"] != "IN_PROGRESS" else None
    assert wait_until(imported, "import")["ImportStatus"] == "COMPLETED"
    t = ddb.describe_table(TableName=target)["Table"]
    assert t["GlobalSecondaryIndexes"][0]["KeySchema"] == MATCH_KEYS
    assert ids(na_query(ddb, target)["Items"]) == NA_ORDER


def test_stream_records_key_the_table_and_carry_every_attribute(ddb, aws, tables):
    name = unique_name("stream")
    d = ddb.create_table(**create_params(name, [match_index()], StreamSpecification={
        "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}))["TableDescription"]
    tables.append(name)
    conftest.wait_active(ddb, name)
    ddb.put_item(TableName=name, Item=ROWS[0])
    streams = aws.streams()
    shard = streams.describe_stream(StreamArn=d["LatestStreamArn"])["StreamDescription"]["Shards"][0]
    it = streams.get_shard_iterator(StreamArn=d["LatestStreamArn"], ShardId=shard["ShardId"],
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    deadline = time.monotonic() + WAIT_S
    records = []
    while not records and time.monotonic() < deadline:
        r = streams.get_records(ShardIterator=it)
        records, it = r["Records"], r["NextShardIterator"]
    (rec,) = records
    assert rec["dynamodb"]["Keys"] == {"pk": ROWS[0]["pk"]}
    assert rec["dynamodb"]["NewImage"] == ROWS[0]


def test_partiql_select_on_the_index(ddb, matches):
    r = ddb.execute_statement(
        Statement=f'SELECT * FROM "{matches}"."by_match" WHERE tournament = ? AND area = ? AND "round" = ?',
        Parameters=[{"S": "w24"}, {"S": "na"}, {"S": "semi"}])
    assert sorted(ids(r["Items"])) == ["m002", "m003", "m004", "m008"]


def test_a_key_of_two_partition_attributes_and_no_sort_key(ddb, tables):
    name = unique_name("two-hash")
    ddb.create_table(**create_params(name, [match_index("by_place", key_schema(["tournament", "area"]))],
                                     definitions=defs(pk="S", tournament="S", area="S")))
    tables.append(name)
    conftest.wait_active(ddb, name)
    (ix,) = ddb.describe_table(TableName=name)["Table"]["GlobalSecondaryIndexes"]
    assert ix["KeySchema"] == key_schema(["tournament", "area"])
    for row in ROWS:
        ddb.put_item(TableName=name, Item=row)
    r = query(ddb, name, "tournament = :t AND area = :r", {":t": {"S": "w24"}, ":r": {"S": "eu"}}, index="by_place")
    assert ids(r["Items"]) == ["m006"]
    # The same attribute twice is refused, as a repeated attribute of any multi-attribute key.
    with pytest.raises(ClientError) as e:
        ddb.create_table(**create_params(unique_name("bad"), [match_index("idx", key_schema(["area", "area"]))],
                                         definitions=defs(pk="S", area="S")))
    assert error_message(e) == "Two keys can not have the same name"
