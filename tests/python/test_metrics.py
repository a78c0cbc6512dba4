"""GET /metrics on the admin listener (issue 16), end to end: known traffic through boto3 and
a function route, then the Prometheus text exposition parsed by `prometheus_client.parser`,
whose counters must equal the requests sent.

The `hello` guest comes from functions/ (scripts/build-guests.sh builds it before this suite)."""

import os
import tempfile
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import REPO_ROOT, AwsFactory, spawn_tarn, unique_name, wait_active

pytestmark = pytest.mark.issue16

HELLO_WASM = REPO_ROOT / "functions" / "target" / "wasm32-wasip2" / "release" / "hello.wasm"

N_PUT = 25  # PutItem that succeed
M_GET = 40  # GetItem
K_CONDITIONAL = 7  # PutItem whose condition fails
Q_QUERY = 3  # Query, one item each
B_BATCH = 5  # items of one BatchWriteItem
E_MISSING = 4  # GetItem on a table that does not exist
F_CALLS = 6  # calls of the hello function's route


def scrape(server, headers=None):
    """GET /metrics; returns the response."""
    return requests.get(server.logged_addr("admin API") + "/metrics", headers=headers, timeout=10)


def samples(text):
    """{(sample name, ((label, value), ...)): value} of an exposition, parsed by the Prometheus
    client's text parser (which refuses malformed text)."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            assert key not in out, f"duplicate sample {key}"
            out[key] = s.value
    return out


def value(parsed, name, **labels):
    return parsed.get((name, tuple(sorted(labels.items()))))


@pytest.fixture(scope="module")
def app_server():
    assert HELLO_WASM.exists(), f"{HELLO_WASM} is missing: run scripts/build-guests.sh"
    tmp = tempfile.mkdtemp(prefix="tarn-metrics-app-")
    manifest = os.path.join(tmp, "tarn.toml")
    with open(manifest, "w") as f:
        f.write(
            f"""
[[function]]
name = "hello"
source = "{HELLO_WASM}"

[[route]]
method = "GET"
path = "/hello"
function = "hello"
"""
        )
    with spawn_tarn("--app", manifest, "--ttl-sweep-interval", "200ms") as server:
        yield server


def test_counters_equal_the_requests_sent(app_server):
    server = app_server
    ddb = AwsFactory(server.endpoint).client()
    table = unique_name("metrics")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    wait_active(ddb, table)

    for i in range(N_PUT):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}, "v": {"N": str(i)}})
    for i in range(M_GET):
        assert "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": f"k{i % N_PUT}"}})
    for i in range(K_CONDITIONAL):
        with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):
            ddb.put_item(
                TableName=table,
                Item={"pk": {"S": f"k{i}"}},
                ConditionExpression="attribute_not_exists(pk)",
            )
    for i in range(Q_QUERY):
        page = ddb.query(
            TableName=table,
            KeyConditionExpression="pk = :k",
            ExpressionAttributeValues={":k": {"S": f"k{i}"}},
        )
        assert page["Count"] == 1
    ddb.batch_write_item(
        RequestItems={
            table: [{"PutRequest": {"Item": {"pk": {"S": f"b{i}"}}}} for i in range(B_BATCH)]
        }
    )
    scanned = ddb.scan(TableName=table)
    assert scanned["Count"] == N_PUT + B_BATCH
    for _ in range(E_MISSING):
        with pytest.raises(ddb.exceptions.ResourceNotFoundException):
            ddb.get_item(TableName=unique_name("missing"), Key={"pk": {"S": "x"}})

    functions = server.logged_addr("function server")
    for _ in range(F_CALLS):
        r = requests.get(functions + "/hello", timeout=10)
        assert r.status_code == 200 and r.text.startswith("hello"), r.text

    # No token: /metrics is public on the admin listener by default.
    resp = scrape(server)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain; version=0.0.4")
    m = samples(resp.text)

    def requests_of(op, t=table):
        return value(m, "tarn_dynamodb_requests_total", operation=op, table=t)

    assert requests_of("PutItem") == N_PUT + K_CONDITIONAL
    assert requests_of("GetItem") == M_GET
    assert requests_of("Query") == Q_QUERY
    assert requests_of("Scan") == 1
    assert requests_of("BatchWriteItem") == 1
    assert requests_of("CreateTable") == 1
    assert value(m, "tarn_dynamodb_conditional_check_failed_requests_total",
                 operation="PutItem", table=table) == K_CONDITIONAL
    assert value(m, "tarn_dynamodb_user_errors_total", operation="PutItem", table=table) == 0
    assert value(m, "tarn_dynamodb_system_errors_total", operation="PutItem", table=table) == 0
    # Requests naming tables that do not exist count at the account level, not per name.
    assert requests_of("GetItem", "") == E_MISSING
    assert value(m, "tarn_dynamodb_user_errors_total", operation="GetItem", table="") == E_MISSING
    assert not any(labels and dict(labels).get("table", "").startswith("missing")
                   for (_, labels) in m), "no series for tables that do not exist"

    # Latency histograms count the successful requests.
    latency = "tarn_dynamodb_successful_request_latency_seconds"
    assert value(m, latency + "_count", operation="PutItem", table=table) == N_PUT
    assert value(m, latency + "_count", operation="GetItem", table=table) == M_GET
    assert value(m, latency + "_bucket", operation="GetItem", table=table, le="+Inf") == M_GET
    assert value(m, latency + "_sum", operation="GetItem", table=table) > 0

    # ReturnedItemCount: Query and Scan.
    returned = "tarn_dynamodb_returned_item_count_total"
    assert value(m, returned, operation="Query", table=table) == Q_QUERY
    assert value(m, returned, operation="Scan", table=table) == N_PUT + B_BATCH

    # Capacity by DynamoDB's rules: small items are 1 WCU a write; eventually consistent reads
    # of under 4 KB half an RCU (the Scan's page too); failed conditions are not counted.
    assert value(m, "tarn_dynamodb_consumed_write_capacity_units_total",
                 table=table, index="") == N_PUT + B_BATCH
    assert value(m, "tarn_dynamodb_consumed_read_capacity_units_total",
                 table=table, index="") == 0.5 * (M_GET + Q_QUERY + 1)

    # The table's size.
    assert value(m, "tarn_dynamodb_item_count", table=table, index="") == N_PUT + B_BATCH
    assert value(m, "tarn_dynamodb_table_size_bytes", table=table, index="") >= 0

    # The function.
    assert value(m, "tarn_function_invocations_total", function="hello", outcome="ok") == F_CALLS
    assert value(m, "tarn_function_invocations_total", function="hello", outcome="trap") == 0
    assert value(m, "tarn_function_duration_seconds_count", function="hello") == F_CALLS
    assert value(m, "tarn_function_instantiation_seconds_count", function="hello") == F_CALLS
    assert value(m, "tarn_function_throttles_total", function="hello") == 0

    # The store and the process.
    assert value(m, "tarn_store_disk_bytes") > 0
    assert value(m, "tarn_store_journals") >= 1
    assert value(m, "process_resident_memory_bytes") > 0
    assert value(m, "process_cpu_seconds_total") > 0
    assert value(m, "process_open_fds") > 0

    # A second scrape sees the same counters (reading /metrics counts nothing).
    again = samples(scrape(server).text)
    assert value(again, "tarn_dynamodb_requests_total", operation="GetItem", table=table) == M_GET


def test_ttl_deletions_are_counted(app_server):
    server = app_server
    ddb = AwsFactory(server.endpoint).client()
    table = unique_name("metrics-ttl")
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    wait_active(ddb, table)
    ddb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    expired = str(int(time.time()) - 60)
    for i in range(9):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"e{i}"}, "exp": {"N": expired}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "live"}})
    deadline = time.monotonic() + 30
    while True:
        m = samples(scrape(server).text)
        deleted = value(m, "tarn_dynamodb_time_to_live_deleted_item_count_total", table=table)
        if deleted == 9:
            break
        assert deleted in (None, *range(9)), deleted
        assert time.monotonic() < deadline, f"TTL deletions counted: {deleted}"
        time.sleep(0.2)
    assert ddb.scan(TableName=table)["Count"] == 1


def test_metrics_can_require_the_token_or_be_off():
    with spawn_tarn("--metrics", "token") as server:
        assert scrape(server).status_code == 401
        with open(os.path.join(server.data_dir, "admin-token")) as f:
            token = f.read().strip()
        ok = scrape(server, headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
        info = [v for (name, _), v in samples(ok.text).items() if name == "tarn_build_info"]
        assert info == [1]
        assert scrape(server, headers={"Authorization": "Bearer wrong"}).status_code == 401
    with spawn_tarn("--metrics", "off") as server:
        assert scrape(server).status_code == 404
