"""Tables are regional, as in DynamoDB (issue 17, item 6): boto3 clients made for us-east-1
and eu-west-1 talk to one tarn, and each sees its own region's tables only: ListTables,
DescribeTable, every item operation, transactions, streams and backups. ARNs carry the
region. A request's region is its SigV4 credential scope's; an unsigned request is in the
server's region (`tarn serve --region`, us-east-1 by default)."""

import subprocess

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

import conftest
from conftest import (
    _config, error_code, raw_call, spawn_tarn, unique_name, wait_active, wait_until,
)

US, EU = "us-east-1", "eu-west-1"


def client(endpoint, region, service="dynamodb"):
    return boto3.session.Session().client(
        service, config=_config(), endpoint_url=endpoint, region_name=region,
        aws_access_key_id="test", aws_secret_access_key="test",
    )


@pytest.fixture
def regions(endpoint):
    """(us-east-1 client, eu-west-1 client); tables made through `make(client)` are deleted
    at the end."""
    us, eu = client(endpoint, US), client(endpoint, EU)
    made = []

    def make(c, name=None, **extra):
        name = name or unique_name("regions")
        c.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            **extra,
        )
        wait_active(c, name)
        made.append((c, name))
        return name

    yield us, eu, make
    for c, name in made:
        try:
            c.delete_table(TableName=name)
        except ClientError:
            pass


def not_found(call, code="ResourceNotFoundException"):
    with pytest.raises(ClientError) as e:
        call()
    assert error_code(e) == code, e.value.response
    return e.value.response["Error"].get("Message", "")


def all_tables(c):
    names, kw = [], {}
    while True:
        page = c.list_tables(**kw)
        names += page["TableNames"]
        if "LastEvaluatedTableName" not in page:
            return names
        kw["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]


def test_a_table_is_seen_from_its_region_only(regions):
    us, eu, make = regions
    name = make(us)
    us.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    assert name in all_tables(us)
    assert name not in all_tables(eu)
    key = {"pk": {"S": "a"}}
    message = not_found(lambda: eu.describe_table(TableName=name))
    assert message == f"Requested resource not found: Table: {name} not found"
    not_found(lambda: eu.get_item(TableName=name, Key=key))
    not_found(lambda: eu.put_item(TableName=name, Item={"pk": {"S": "b"}}))
    not_found(lambda: eu.update_item(
        TableName=name, Key=key, UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"N": "2"}}))
    not_found(lambda: eu.delete_item(TableName=name, Key=key))
    not_found(lambda: eu.query(
        TableName=name, KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "a"}}))
    not_found(lambda: eu.scan(TableName=name))
    not_found(lambda: eu.batch_get_item(RequestItems={name: {"Keys": [key]}}))
    not_found(lambda: eu.batch_write_item(
        RequestItems={name: [{"PutRequest": {"Item": {"pk": {"S": "c"}}}}]}))
    not_found(lambda: eu.update_table(TableName=name, BillingMode="PROVISIONED",
                                      ProvisionedThroughput={"ReadCapacityUnits": 1,
                                                             "WriteCapacityUnits": 1}))
    not_found(lambda: eu.describe_time_to_live(TableName=name))
    not_found(lambda: eu.delete_table(TableName=name))
    not_found(lambda: eu.execute_statement(Statement=f'SELECT * FROM "{name}"'))
    # Nothing the eu-west-1 client tried reached the table.
    items = conftest.scan_items(us, name)
    assert items == [{"pk": {"S": "a"}, "v": {"N": "1"}}]


def test_a_transaction_cannot_reach_another_region(regions):
    us, eu, make = regions
    home = make(us)
    away = make(eu)
    # DynamoDB resolves every table of a transaction in the request's region: a table of
    # another region is simply not there.
    not_found(lambda: us.transact_write_items(TransactItems=[
        {"Put": {"TableName": home, "Item": {"pk": {"S": "x"}}}},
        {"Put": {"TableName": away, "Item": {"pk": {"S": "x"}}}},
    ]))
    not_found(lambda: us.transact_get_items(TransactItems=[
        {"Get": {"TableName": away, "Key": {"pk": {"S": "x"}}}},
    ]))
    # All or nothing: the home table's Put did not happen either.
    assert "Item" not in us.get_item(TableName=home, Key={"pk": {"S": "x"}}, ConsistentRead=True)
    eu.transact_write_items(TransactItems=[
        {"Put": {"TableName": away, "Item": {"pk": {"S": "x"}}}},
    ])
    assert eu.get_item(TableName=away, Key={"pk": {"S": "x"}})["Item"] == {"pk": {"S": "x"}}


def test_one_name_in_two_regions_is_two_tables(regions):
    us, eu, make = regions
    name = unique_name("same")
    make(us, name)
    # The name is free in another region; taken again in the same one.
    make(eu, name)
    with pytest.raises(ClientError) as e:
        eu.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    assert error_code(e) == "ResourceInUseException"
    us.put_item(TableName=name, Item={"pk": {"S": "k"}, "where": {"S": "virginia"}})
    eu.put_item(TableName=name, Item={"pk": {"S": "k"}, "where": {"S": "ireland"}})
    eu.put_item(TableName=name, Item={"pk": {"S": "only-eu"}})
    key = {"pk": {"S": "k"}}
    assert us.get_item(TableName=name, Key=key)["Item"]["where"] == {"S": "virginia"}
    assert eu.get_item(TableName=name, Key=key)["Item"]["where"] == {"S": "ireland"}
    assert us.scan(TableName=name)["Count"] == 1
    assert eu.scan(TableName=name)["Count"] == 2
    us_table = us.describe_table(TableName=name)["Table"]
    eu_table = eu.describe_table(TableName=name)["Table"]
    assert us_table["TableId"] != eu_table["TableId"]
    # Deleting one leaves the other.
    eu.delete_table(TableName=name)
    conftest.wait_gone(eu, name)
    assert us.get_item(TableName=name, Key=key)["Item"]["where"] == {"S": "virginia"}


def test_arns_carry_the_region(regions):
    us, eu, make = regions
    stream = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}}
    name = make(eu, **stream)
    t = eu.describe_table(TableName=name)["Table"]
    assert t["TableArn"] == f"arn:aws:dynamodb:{EU}:000000000000:table/{name}"
    assert t["LatestStreamArn"].startswith(f"arn:aws:dynamodb:{EU}:000000000000:table/{name}/stream/")
    # Tags go by ARN: the ARN's region must be the request's.
    eu.tag_resource(ResourceArn=t["TableArn"], Tags=[{"Key": "k", "Value": "v"}])
    assert eu.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"] == [{"Key": "k", "Value": "v"}]
    not_found(lambda: us.list_tags_of_resource(ResourceArn=t["TableArn"]))
    us_arn = t["TableArn"].replace(EU, US)
    not_found(lambda: eu.list_tags_of_resource(
        ResourceArn=us_arn.replace(name, unique_name("missing"))))
    assert eu.describe_endpoints()["Endpoints"][0]["Address"] == f"dynamodb.{EU}.amazonaws.com"


def test_streams_are_regional(regions, endpoint):
    us, eu, make = regions
    stream = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}}
    name = unique_name("streams")
    make(us, name, **stream)
    make(eu, name, **stream)
    us_streams = client(endpoint, US, "dynamodbstreams")
    eu_streams = client(endpoint, EU, "dynamodbstreams")

    def listed(c):
        return [s for s in c.list_streams(TableName=name)["Streams"]]

    [us_s] = listed(us_streams)
    [eu_s] = listed(eu_streams)
    assert us_s["StreamArn"].startswith(f"arn:aws:dynamodb:{US}:")
    assert eu_s["StreamArn"].startswith(f"arn:aws:dynamodb:{EU}:")
    assert us_s["TableName"] == eu_s["TableName"] == name
    # Without a table name: every stream of the region, none of another's.
    eu_all = [s["StreamArn"] for s in eu_streams.list_streams(Limit=100)["Streams"]]
    assert eu_s["StreamArn"] in eu_all and us_s["StreamArn"] not in eu_all
    # Another region's stream ARN is not found.
    not_found(lambda: us_streams.describe_stream(StreamArn=eu_s["StreamArn"]))

    eu.put_item(TableName=name, Item={"pk": {"S": "e"}})
    us.put_item(TableName=name, Item={"pk": {"S": "u"}})
    d = eu_streams.describe_stream(StreamArn=eu_s["StreamArn"])["StreamDescription"]
    it = eu_streams.get_shard_iterator(
        StreamArn=eu_s["StreamArn"], ShardId=d["Shards"][0]["ShardId"],
        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = eu_streams.get_records(ShardIterator=it)["Records"]
    assert [r["dynamodb"]["Keys"] for r in records] == [{"pk": {"S": "e"}}]
    assert records[0]["awsRegion"] == EU


def test_backups_are_regional(regions):
    us, eu, make = regions
    name = make(eu)
    eu.put_item(TableName=name, Item={"pk": {"S": "b"}, "v": {"S": "eu"}})
    arn = eu.create_backup(TableName=name, BackupName="bk1")["BackupDetails"]["BackupArn"]
    assert arn.startswith(f"arn:aws:dynamodb:{EU}:000000000000:table/{name}/backup/")

    def available():
        d = eu.describe_backup(BackupArn=arn)["BackupDescription"]
        return d if d["BackupDetails"]["BackupStatus"] == "AVAILABLE" else None
    d = wait_until(available, "backup AVAILABLE", 30)
    assert d["SourceTableDetails"]["TableArn"] == f"arn:aws:dynamodb:{EU}:000000000000:table/{name}"
    eu_listed = [b["BackupArn"] for b in eu.list_backups(TableName=name)["BackupSummaries"]]
    assert eu_listed == [arn]
    assert all(b["BackupArn"] != arn for b in us.list_backups()["BackupSummaries"])
    not_found(lambda: us.describe_backup(BackupArn=arn), "BackupNotFoundException")
    not_found(lambda: us.delete_backup(BackupArn=arn), "BackupNotFoundException")
    not_found(lambda: us.create_backup(TableName=name, BackupName="bkx"), "TableNotFoundException")
    # A restore lands in the backup's region.
    target = unique_name("restored")
    not_found(lambda: us.restore_table_from_backup(TargetTableName=target, BackupArn=arn),
              "BackupNotFoundException")
    eu.restore_table_from_backup(TargetTableName=target, BackupArn=arn)

    def restored():
        try:
            return eu.describe_table(TableName=target)["Table"]["TableStatus"] == "ACTIVE"
        except ClientError:
            return False
    wait_until(restored, "restore ACTIVE", 30)
    try:
        assert eu.get_item(TableName=target, Key={"pk": {"S": "b"}})["Item"]["v"] == {"S": "eu"}
        assert target not in all_tables(us)
    finally:
        eu.delete_table(TableName=target)
        eu.delete_backup(BackupArn=arn)


def test_unsigned_requests_are_in_the_servers_region():
    with spawn_tarn("--region", EU) as server:
        name = unique_name("unsigned")
        body = {
            "TableName": name, "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        }
        r = raw_call(server.endpoint, "DynamoDB_20120810.CreateTable", body)
        assert r.status_code == 200, r.text
        assert r.json()["TableDescription"]["TableArn"].startswith(f"arn:aws:dynamodb:{EU}:")
        eu, us = client(server.endpoint, EU), client(server.endpoint, US)
        wait_active(eu, name)
        assert name in all_tables(eu)
        assert name not in all_tables(us)
        # A signed request names its own region, whatever the server's.
        us_name = make_in(us)
        r = raw_call(server.endpoint, "DynamoDB_20120810.ListTables", {})
        assert name in r.json()["TableNames"] and us_name not in r.json()["TableNames"]


def make_in(c):
    name = unique_name("signed")
    c.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    return name


def test_an_invalid_region_flag_is_refused():
    out = subprocess.run(
        [str(conftest._tarn_bin()), "serve", "--region", "Not A Region", "--in-memory"],
        capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "is not a region name" in out.stderr


def test_functions_tables_and_triggers_are_in_the_servers_region():
    """`tarn serve --region eu-west-1 --app todo`: the app's tables are made in eu-west-1, its
    functions' table calls and its stream trigger work there, and us-east-1 sees none of it."""
    app = conftest.REPO_ROOT / "examples" / "todo" / "tarn.toml"
    with spawn_tarn("--region", EU, "--app", str(app)) as server:
        eu, us = client(server.endpoint, EU), client(server.endpoint, US)
        wait_until(lambda: {"todos", "todo-stats"} <= set(all_tables(eu)), "the app's tables")
        assert not {"todos", "todo-stats"} & set(all_tables(us))
        base = server.logged_addr("function server")
        r = requests.post(base + "/todos", json={"title": "milk"}, timeout=30)
        assert r.status_code == 201, r.text
        todo_id = r.json()["id"]
        got = eu.get_item(TableName="todos", Key={"id": {"S": todo_id}})["Item"]
        assert got["title"] == {"S": "milk"}
        # The stream trigger follows the eu-west-1 table's stream and writes its counters there.
        wait_until(lambda: eu.scan(TableName="todo-stats")["Count"] > 0, "the trigger's counters")
        arn = eu.describe_table(TableName="todos")["Table"]["LatestStreamArn"]
        assert arn.startswith(f"arn:aws:dynamodb:{EU}:")


def test_exports_and_imports_are_regional(regions, tmp_path):
    us, eu, make = regions
    name = make(eu)
    eu.put_item(TableName=name, Item={"pk": {"S": "x"}, "v": {"S": "eu"}})
    eu.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    wait_until(lambda: eu.describe_continuous_backups(TableName=name)
               ["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
               .get("EarliestRestorableDateTime"), "earliest restorable time", 30)
    arn = eu.describe_table(TableName=name)["Table"]["TableArn"]
    bucket = "file://" + str(tmp_path)
    # The table ARN names eu-west-1: from us-east-1 it is not found.
    not_found(lambda: us.export_table_to_point_in_time(TableArn=arn, S3Bucket=bucket),
              "TableNotFoundException")
    d = eu.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=bucket, S3Prefix="regional")["ExportDescription"]
    assert d["ExportArn"].startswith(f"{arn}/export/")

    def exported():
        e = eu.describe_export(ExportArn=d["ExportArn"])["ExportDescription"]
        return e if e["ExportStatus"] != "IN_PROGRESS" else None
    assert wait_until(exported, "export", 30)["ExportStatus"] == "COMPLETED"
    assert d["ExportArn"] in [e["ExportArn"] for e in eu.list_exports()["ExportSummaries"]]
    assert d["ExportArn"] not in [e["ExportArn"] for e in us.list_exports()["ExportSummaries"]]
    not_found(lambda: us.describe_export(ExportArn=d["ExportArn"]), "ExportNotFoundException")

    # An import makes its table in the request's region.
    target = unique_name("imported")
    imp = eu.import_table(
        S3BucketSource={"S3Bucket": bucket, "S3KeyPrefix": "regional"},
        InputFormat="DYNAMODB_JSON", InputCompressionType="GZIP",
        TableCreationParameters={
            "TableName": target, "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        })["ImportTableDescription"]
    try:
        assert imp["ImportArn"].startswith(f"arn:aws:dynamodb:{EU}:000000000000:table/{target}/import/")

        def imported():
            i = eu.describe_import(ImportArn=imp["ImportArn"])["ImportTableDescription"]
            return i if i["ImportStatus"] != "IN_PROGRESS" else None
        assert wait_until(imported, "import", 30)["ImportStatus"] == "COMPLETED"
        assert eu.get_item(TableName=target, Key={"pk": {"S": "x"}})["Item"]["v"] == {"S": "eu"}
        assert target not in all_tables(us)
        assert imp["ImportArn"] not in [i["ImportArn"] for i in us.list_imports()["ImportSummaryList"]]
    finally:
        eu.delete_table(TableName=target)


def test_request_metrics_of_one_name_in_two_regions_are_apart():
    """A table name used in two regions has two sets of request figures on /metrics: the home
    region's (us-east-1) under the bare name, as before, another region's under
    `region/name` in the `table` label."""
    from prometheus_client.parser import text_string_to_metric_families

    with spawn_tarn() as server:
        us, eu = client(server.endpoint, US), client(server.endpoint, EU)
        name = unique_name("metrics")
        for c in (us, eu):
            c.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                           KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                           AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        for i in range(3):
            us.put_item(TableName=name, Item={"pk": {"S": f"u{i}"}})
        for i in range(5):
            eu.put_item(TableName=name, Item={"pk": {"S": f"e{i}"}})
        eu.get_item(TableName=name, Key={"pk": {"S": "e0"}}, ConsistentRead=True)
        eu.transact_write_items(TransactItems=[{"Put": {"TableName": name, "Item": {"pk": {"S": "t"}}}}])
        text = requests.get(server.logged_addr("admin API") + "/metrics", timeout=10).text
        m = {}
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                m[(s.name, tuple(sorted(s.labels.items())))] = s.value

        def value(metric, **labels):
            return m.get((metric, tuple(sorted(labels.items()))))

        requests_total = "tarn_dynamodb_requests_total"
        assert value(requests_total, operation="PutItem", table=name) == 3
        assert value(requests_total, operation="PutItem", table=f"{EU}/{name}") == 5
        assert value(requests_total, operation="GetItem", table=f"{EU}/{name}") == 1
        assert value(requests_total, operation="GetItem", table=name) is None
        assert value(requests_total, operation="TransactWriteItems", table=f"{EU}/{name}") == 1
        # Consumed capacity the same way: 3 writes in us-east-1; 5 writes and a transaction's
        # 2 in eu-west-1.
        units = [(labels, v) for (metric, labels), v in m.items()
                 if metric.startswith("tarn_dynamodb_consumed_write_capacity_units")
                 and dict(labels).get("table") in (name, f"{EU}/{name}")]
        by_table = {}
        for labels, v in units:
            by_table[dict(labels)["table"]] = by_table.get(dict(labels)["table"], 0) + v
        assert by_table == {name: 3.0, f"{EU}/{name}": 7.0}, units
