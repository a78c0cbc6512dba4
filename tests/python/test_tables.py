"""Control plane (issue 2): CreateTable, DescribeTable, DeleteTable, ListTables,
UpdateTable, tags, DescribeLimits, DescribeEndpoints."""

import datetime
import re
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import (
    REGION,
    error_code,
    key_schema,
    unique_name,
    wait_active,
    wait_gone,
)

ARN_RE = r"^arn:aws:dynamodb:{region}:\d{{12}}:table/{name}$"


def _assert_common_description(t, name, ks, ad):
    assert t["TableName"] == name
    assert t["KeySchema"] == ks
    assert sorted(t["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        ad, key=lambda a: a["AttributeName"]
    )
    assert re.match(ARN_RE.format(region=REGION, name=re.escape(name)), t["TableArn"]), t["TableArn"]
    # TableId is a uuid, printed in its canonical lower-case form.
    assert str(uuid.UUID(t["TableId"])) == t["TableId"]
    created = t["CreationDateTime"]
    assert isinstance(created, datetime.datetime)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - created).total_seconds()) < 300, created
    assert t["ItemCount"] == 0
    assert t["TableSizeBytes"] == 0


@pytest.mark.parametrize(
    "hash_key,range_key",
    [
        (("pk", "S"), None),
        (("id", "N"), None),
        (("blob", "B"), None),
        (("pk", "S"), ("sk", "S")),
        (("pk", "N"), ("sk", "B")),
        (("pk", "B"), ("sk", "N")),
    ],
)
def test_create_describe_delete_on_demand(ddb, table_name, hash_key, range_key):
    ks, ad = key_schema(hash_key, range_key)
    resp = ddb.create_table(
        TableName=table_name, KeySchema=ks, AttributeDefinitions=ad, BillingMode="PAY_PER_REQUEST"
    )
    desc = resp["TableDescription"]
    assert desc["TableStatus"] in ("CREATING", "ACTIVE")
    _assert_common_description(desc, table_name, ks, ad)

    t = wait_active(ddb, table_name)
    _assert_common_description(t, table_name, ks, ad)
    assert t["TableId"] == desc["TableId"]
    assert t["TableArn"] == desc["TableArn"]
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    pt = t["ProvisionedThroughput"]
    assert pt["ReadCapacityUnits"] == 0
    assert pt["WriteCapacityUnits"] == 0
    assert pt["NumberOfDecreasesToday"] == 0

    resp = ddb.delete_table(TableName=table_name)
    d = resp["TableDescription"]
    assert d["TableName"] == table_name
    assert d["TableArn"] == t["TableArn"]
    assert d["TableStatus"] in ("DELETING", "ACTIVE")
    wait_gone(ddb, table_name)


def test_create_provisioned(ddb, table_name):
    ks, ad = key_schema(("pk", "S"), ("sk", "N"))
    resp = ddb.create_table(
        TableName=table_name,
        KeySchema=ks,
        AttributeDefinitions=ad,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
    )
    _assert_common_description(resp["TableDescription"], table_name, ks, ad)
    t = wait_active(ddb, table_name)
    pt = t["ProvisionedThroughput"]
    assert pt["ReadCapacityUnits"] == 7
    assert pt["WriteCapacityUnits"] == 3
    assert pt["NumberOfDecreasesToday"] == 0
    if "BillingModeSummary" in t:
        assert t["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    ddb.delete_table(TableName=table_name)


def test_create_default_billing_is_provisioned(ddb, table_name):
    ks, ad = key_schema(("pk", "S"))
    ddb.create_table(
        TableName=table_name,
        KeySchema=ks,
        AttributeDefinitions=ad,
        ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 4},
    )
    t = wait_active(ddb, table_name)
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 2
    assert t["ProvisionedThroughput"]["WriteCapacityUnits"] == 4
    if "BillingModeSummary" in t:
        assert t["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    ddb.delete_table(TableName=table_name)


def test_create_duplicate_is_resource_in_use(ddb, make_table):
    name = make_table()
    ks, ad = key_schema(("pk", "S"))
    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=name, KeySchema=ks, AttributeDefinitions=ad, BillingMode="PAY_PER_REQUEST"
        )
    assert error_code(e) == "ResourceInUseException"


@pytest.mark.parametrize(
    "params",
    [
        # PROVISIONED without throughput
        dict(BillingMode="PROVISIONED"),
        # on-demand with throughput
        dict(
            BillingMode="PAY_PER_REQUEST",
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
        ),
        # no billing mode and no throughput: defaults to PROVISIONED, which needs throughput
        dict(),
    ],
    ids=["provisioned-no-throughput", "on-demand-with-throughput", "neither"],
)
def test_create_billing_validation(ddb, table_name, params):
    ks, ad = key_schema(("pk", "S"))
    with pytest.raises(ClientError) as e:
        ddb.create_table(TableName=table_name, KeySchema=ks, AttributeDefinitions=ad, **params)
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName=table_name)
    assert error_code(e) == "ResourceNotFoundException"


def test_create_key_schema_validation(ddb_raw, table_name):
    ddb = ddb_raw
    # Key attribute without a definition.
    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=table_name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "other", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    assert error_code(e) == "ValidationException"
    # Definition that no key uses (no indexes here).
    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=table_name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "unused", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    assert error_code(e) == "ValidationException"
    # Two HASH keys.
    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=table_name,
            KeySchema=[
                {"AttributeName": "a", "KeyType": "HASH"},
                {"AttributeName": "b", "KeyType": "HASH"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "a", "AttributeType": "S"},
                {"AttributeName": "b", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    assert error_code(e) == "ValidationException"
    # RANGE only.
    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=table_name,
            KeySchema=[{"AttributeName": "a", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    assert error_code(e) == "ValidationException"
    # Key type BOOL is not a key type.
    with pytest.raises(ClientError) as e:
        ddb.create_table(
            TableName=table_name,
            KeySchema=[{"AttributeName": "a", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "a", "AttributeType": "BOOL"}],
            BillingMode="PAY_PER_REQUEST",
        )
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName=table_name)
    assert error_code(e) == "ResourceNotFoundException"


@pytest.mark.parametrize("bad", ["ab", "has space", "slash/name", "x" * 256])
def test_create_invalid_table_name(ddb_raw, bad):
    ks, ad = key_schema(("pk", "S"))
    with pytest.raises(ClientError) as e:
        ddb_raw.create_table(
            TableName=bad, KeySchema=ks, AttributeDefinitions=ad, BillingMode="PAY_PER_REQUEST"
        )
    assert error_code(e) == "ValidationException"


def test_table_name_charset_allowed(ddb, make_table):
    name = make_table(name="Ab0_.-" + uuid.uuid4().hex[:8])
    assert ddb.describe_table(TableName=name)["Table"]["TableName"] == name


def test_describe_missing_table(ddb):
    with pytest.raises(ClientError) as e:
        ddb.describe_table(TableName=unique_name("missing"))
    assert error_code(e) == "ResourceNotFoundException"


def test_delete_missing_table(ddb):
    with pytest.raises(ClientError) as e:
        ddb.delete_table(TableName=unique_name("missing"))
    assert error_code(e) == "ResourceNotFoundException"


def test_recreated_table_has_new_id_and_no_old_data(ddb, table_name):
    ks, ad = key_schema(("pk", "S"))
    ddb.create_table(TableName=table_name, KeySchema=ks, AttributeDefinitions=ad, BillingMode="PAY_PER_REQUEST")
    first = wait_active(ddb, table_name)
    ddb.put_item(TableName=table_name, Item={"pk": {"S": "a"}, "v": {"S": "old"}})
    ddb.delete_table(TableName=table_name)
    wait_gone(ddb, table_name)
    ddb.create_table(TableName=table_name, KeySchema=ks, AttributeDefinitions=ad, BillingMode="PAY_PER_REQUEST")
    second = wait_active(ddb, table_name)
    try:
        assert second["TableId"] != first["TableId"]
        assert "Item" not in ddb.get_item(TableName=table_name, Key={"pk": {"S": "a"}})
    finally:
        ddb.delete_table(TableName=table_name)


def _list_all(ddb, limit=None):
    names = []
    pages = []
    kwargs = {}
    if limit:
        kwargs["Limit"] = limit
    for _ in range(10000):
        resp = ddb.list_tables(**kwargs)
        pages.append(resp)
        names.extend(resp["TableNames"])
        last = resp.get("LastEvaluatedTableName")
        if not last:
            return names, pages
        kwargs["ExclusiveStartTableName"] = last
    raise AssertionError("ListTables paging did not terminate")


def test_list_tables_sorted_and_paged(ddb, make_table):
    prefix = "lt-" + uuid.uuid4().hex[:8]
    # Created out of order; ListTables returns names sorted.
    mine = [make_table(name=f"{prefix}-{s}") for s in ["d", "a", "e", "c", "b"]]
    names, _ = _list_all(ddb)
    assert names == sorted(names)
    assert len(names) == len(set(names))
    assert [n for n in names if n.startswith(prefix)] == sorted(mine)

    paged, pages = _list_all(ddb, limit=2)
    assert paged == sorted(paged)
    assert len(paged) == len(set(paged))
    assert [n for n in paged if n.startswith(prefix)] == sorted(mine)
    for p in pages:
        assert len(p["TableNames"]) <= 2
        if "LastEvaluatedTableName" in p:
            assert len(p["TableNames"]) == 2
            assert p["LastEvaluatedTableName"] == p["TableNames"][-1]

    # ExclusiveStartTableName: strictly after the given name.
    s = sorted(mine)
    resp = ddb.list_tables(ExclusiveStartTableName=s[1], Limit=2)
    assert resp["TableNames"] == s[2:4]
    assert resp["LastEvaluatedTableName"] == s[3]
    # A start name that is not a table: still strictly after it in sort order.
    resp = ddb.list_tables(ExclusiveStartTableName=prefix + "-bb", Limit=3)
    assert resp["TableNames"] == s[2:5]


def test_list_tables_paginator(aws, make_table):
    ddb = aws.client()
    prefix = "lp-" + uuid.uuid4().hex[:8]
    mine = [make_table(name=f"{prefix}-{i:02d}") for i in range(3)]
    seen = []
    for page in ddb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 1}):
        assert len(page["TableNames"]) <= 1
        seen.extend(page["TableNames"])
    assert [n for n in seen if n.startswith(prefix)] == mine


def test_list_tables_excludes_deleted(ddb, table_name):
    ks, ad = key_schema(("pk", "S"))
    ddb.create_table(TableName=table_name, KeySchema=ks, AttributeDefinitions=ad, BillingMode="PAY_PER_REQUEST")
    wait_active(ddb, table_name)
    assert table_name in _list_all(ddb)[0]
    ddb.delete_table(TableName=table_name)
    wait_gone(ddb, table_name)
    assert table_name not in _list_all(ddb)[0]


def test_update_table_billing_mode(ddb, make_table):
    name = make_table(
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    resp = ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
    assert resp["TableDescription"]["TableName"] == name
    t = wait_active(ddb, name)
    assert t["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 0
    assert t["ProvisionedThroughput"]["WriteCapacityUnits"] == 0

    ddb.update_table(
        TableName=name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
    )
    t = wait_active(ddb, name)
    assert t["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 3
    assert t["ProvisionedThroughput"]["WriteCapacityUnits"] == 4


def test_update_table_throughput(ddb, make_table):
    name = make_table(
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )
    resp = ddb.update_table(
        TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 7}
    )
    assert resp["TableDescription"]["TableName"] == name
    t = wait_active(ddb, name)
    assert t["ProvisionedThroughput"]["ReadCapacityUnits"] == 10
    assert t["ProvisionedThroughput"]["WriteCapacityUnits"] == 7
    # Data is untouched by UpdateTable.
    ddb.put_item(TableName=name, Item={"pk": {"S": "k"}})
    ddb.update_table(TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
    wait_active(ddb, name)
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "k"}})["Item"] == {"pk": {"S": "k"}}


def test_update_table_errors(ddb, make_table):
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=unique_name("missing"), BillingMode="PAY_PER_REQUEST")
    assert error_code(e) == "ResourceNotFoundException"
    name = make_table()
    # Switching an on-demand table to PROVISIONED needs throughput.
    with pytest.raises(ClientError) as e:
        ddb.update_table(TableName=name, BillingMode="PROVISIONED")
    assert error_code(e) == "ValidationException"
    # Throughput on an on-demand table is not allowed.
    with pytest.raises(ClientError) as e:
        ddb.update_table(
            TableName=name, ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
        )
    assert error_code(e) == "ValidationException"


def test_tags(ddb, make_table):
    name = make_table(Tags=[{"Key": "team", "Value": "db"}])
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]

    def tags():
        out, token = [], None
        for _ in range(100):
            kw = {"ResourceArn": arn}
            if token:
                kw["NextToken"] = token
            resp = ddb.list_tags_of_resource(**kw)
            out.extend(resp.get("Tags", []))
            token = resp.get("NextToken")
            if not token:
                return {t["Key"]: t["Value"] for t in out}
        raise AssertionError("ListTagsOfResource paging did not terminate")

    assert tags() == {"team": "db"}
    ddb.tag_resource(
        ResourceArn=arn, Tags=[{"Key": "env", "Value": "test"}, {"Key": "team", "Value": "storage"}]
    )
    assert tags() == {"team": "storage", "env": "test"}
    ddb.untag_resource(ResourceArn=arn, TagKeys=["team", "not-there"])
    assert tags() == {"env": "test"}
    ddb.untag_resource(ResourceArn=arn, TagKeys=["env"])
    assert tags() == {}


def test_tags_missing_resource(ddb):
    arn = f"arn:aws:dynamodb:{REGION}:000000000000:table/{unique_name('missing')}"
    # Another account's ARN: DynamoDB answers AccessDenied or NotFound, never success.
    with pytest.raises(ClientError) as e:
        ddb.list_tags_of_resource(ResourceArn=arn)
    assert error_code(e) in ("ResourceNotFoundException", "AccessDeniedException")
    with pytest.raises(ClientError) as e:
        ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "b"}])
    assert error_code(e) in ("ResourceNotFoundException", "AccessDeniedException")


def test_tags_missing_table_same_account(ddb, table):
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    missing = arn.rsplit("/", 1)[0] + "/" + unique_name("missing")
    with pytest.raises(ClientError) as e:
        ddb.list_tags_of_resource(ResourceArn=missing)
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.tag_resource(ResourceArn=missing, Tags=[{"Key": "a", "Value": "b"}])
    assert error_code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        ddb.untag_resource(ResourceArn=missing, TagKeys=["a"])
    assert error_code(e) == "ResourceNotFoundException"


def test_describe_limits(ddb):
    resp = ddb.describe_limits()
    for k in (
        "AccountMaxReadCapacityUnits",
        "AccountMaxWriteCapacityUnits",
        "TableMaxReadCapacityUnits",
        "TableMaxWriteCapacityUnits",
    ):
        assert isinstance(resp[k], int) and resp[k] >= 1, (k, resp.get(k))
    assert resp["TableMaxReadCapacityUnits"] <= resp["AccountMaxReadCapacityUnits"]
    assert resp["TableMaxWriteCapacityUnits"] <= resp["AccountMaxWriteCapacityUnits"]


def test_describe_endpoints(ddb):
    resp = ddb.describe_endpoints()
    eps = resp["Endpoints"]
    assert len(eps) >= 1
    for ep in eps:
        assert isinstance(ep["Address"], str) and ep["Address"]
        assert isinstance(ep["CachePeriodInMinutes"], int) and ep["CachePeriodInMinutes"] > 0


def test_item_count_is_exact_after_overwrites_and_deletes(ddb, make_table):
    """ItemCount counts items, not writes: overwrites add nothing, deletes of missing items
    take nothing away, and a GSI counts only the items that carry its key."""
    name = make_table(
        ("pk", "S"),
        None,
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    for i in range(5):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}, "g": {"S": "x"}})
    # Overwrites, one of them leaving the index.
    for i in range(3):
        ddb.put_item(TableName=name, Item={"pk": {"S": f"k{i}"}, "v": {"N": str(i)}})
    ddb.update_item(
        TableName=name,
        Key={"pk": {"S": "k3"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "7"}},
    )
    ddb.delete_item(TableName=name, Key={"pk": {"S": "k4"}})
    ddb.delete_item(TableName=name, Key={"pk": {"S": "missing"}})
    ddb.batch_write_item(
        RequestItems={
            name: [
                {"PutRequest": {"Item": {"pk": {"S": "k0"}}}},
                {"PutRequest": {"Item": {"pk": {"S": "k9"}, "g": {"S": "y"}}}},
                {"DeleteRequest": {"Key": {"pk": {"S": "k1"}}}},
            ]
        }
    )
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": name, "Item": {"pk": {"S": "k2"}}}},
            {"Put": {"TableName": name, "Item": {"pk": {"S": "k8"}}}},
        ]
    )
    # Left: k0, k2, k3 (g=x), k8, k9 (g=y).
    t = ddb.describe_table(TableName=name)["Table"]
    assert t["ItemCount"] == 5
    assert t["GlobalSecondaryIndexes"][0]["ItemCount"] == 2
