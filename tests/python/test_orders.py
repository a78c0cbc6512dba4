"""Event-driven functions (issue 7), end to end: `tarn serve --app examples/orders/tarn.toml`,
orders written through boto3, the `order-totals` stream handler keeping totals, a poisoned
order retried and then recorded in the on-failure table, a SIGKILL in the middle of processing,
and a schedule firing on its seconds. The wasm guests are built from functions/ by
scripts/build-guests.sh before this suite runs."""

import datetime
import os
import random
import shutil
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import REPO_ROOT, AwsFactory, spawn_tarn

pytestmark = pytest.mark.issue7

APP = REPO_ROOT / "examples" / "orders" / "tarn.toml"
CONVERGE_S = 60


def wait_tables(ddb, names, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        have = set(ddb.list_tables()["TableNames"])
        if set(names) <= have:
            return
        assert time.monotonic() < deadline, f"app tables not created: {set(names) - have}"
        time.sleep(0.1)


def totals_of(resource):
    """Customer -> (total, orders), without the handler's applied-record markers."""
    items = resource.Table("order-totals").scan(ConsistentRead=True)["Items"]
    return {
        i["customer"]: (i.get("total_cents", Decimal(0)), i.get("orders", Decimal(0)))
        for i in items if not i["customer"].startswith("applied#")
    }


def expected_from_orders(resource):
    """What the totals must be: the sum over the orders table as it is."""
    out = {}
    for o in resource.Table("orders").scan(ConsistentRead=True)["Items"]:
        total, count = out.get(o["customer"], (Decimal(0), Decimal(0)))
        out[o["customer"]] = (total + o["amount"] * 100, count + 1)
    return out


def converge(resource, timeout=CONVERGE_S):
    """Waits until the totals equal the sums over the orders table; returns them."""
    deadline = time.monotonic() + timeout
    while True:
        want = {c: v for c, v in expected_from_orders(resource).items()}
        got = {c: v for c, v in totals_of(resource).items() if v != (0, 0)}
        if got == want:
            return got
        assert time.monotonic() < deadline, f"totals never converged:\n got  {got}\n want {want}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def orders_app():
    with spawn_tarn("--app", str(APP)) as server:
        aws = AwsFactory(server.endpoint)
        wait_tables(aws.client(), ["orders", "order-totals", "order-reports", "order-failures"])
        yield server, aws


def test_orders_written_through_boto3_produce_exact_totals(orders_app):
    server, aws = orders_app
    orders = aws.resource().Table("orders")
    rng = random.Random(7)
    customers = ["ada", "bob", "cy"]
    with orders.batch_writer() as batch:
        for i in range(120):
            batch.put_item(Item={"order_id": f"t{i}", "customer": rng.choice(customers),
                                 "amount": Decimal(rng.randint(1, 10000)) / 100})
    # Changes: new amounts, a customer moved, deletions.
    for i in range(0, 120, 7):
        orders.update_item(Key={"order_id": f"t{i}"}, UpdateExpression="SET amount = :a",
                           ExpressionAttributeValues={":a": Decimal("1.25")})
    orders.update_item(Key={"order_id": "t1"}, UpdateExpression="SET customer = :c",
                       ExpressionAttributeValues={":c": "dee"})
    for i in range(3, 120, 11):
        orders.delete_item(Key={"order_id": f"t{i}"})
    got = converge(aws.resource())
    assert set(got) == {"ada", "bob", "cy", "dee"}
    status = server.admin("/_tarn/status")["streams"]["orders -> order-totals"]
    assert status["processed"] >= 120 + 18 + 1 + 11
    assert status["checkpoint"].isdigit()
    assert status["delay_ms_p50"] is not None and status["delay_ms_p99"] >= status["delay_ms_p50"]


def test_a_poisoned_order_is_retried_then_recorded_as_failed(orders_app):
    server, aws = orders_app
    ddb = aws.client()
    ddb.put_item(TableName="orders", Item={"order_id": {"S": "poison"}, "customer": {"S": "eve"},
                                           "amount": {"S": "lots"}})
    # Other customers' orders are not held up by eve's.
    ddb.put_item(TableName="orders", Item={"order_id": {"S": "fine"}, "customer": {"S": "zed"},
                                           "amount": {"N": "5"}})
    deadline = time.monotonic() + CONVERGE_S
    while True:
        t = ddb.get_item(TableName="order-totals", Key={"customer": {"S": "zed"}})
        if "Item" in t:
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert t["Item"]["total_cents"] == {"N": "500"}
    deadline = time.monotonic() + CONVERGE_S
    while True:
        failures = [f for f in ddb.scan(TableName="order-failures")["Items"]
                    if '"poison"' in f["record"]["S"]]
        if failures:
            break
        assert time.monotonic() < deadline, "the poisoned order never reached order-failures"
        time.sleep(0.2)
    (f,) = failures
    assert f["sourceTable"] == {"S": "orders"}
    assert f["function"] == {"S": "order-totals"}
    assert f["eventName"] == {"S": "INSERT"}
    assert int(f["attempts"]["N"]) == 4, "three retries after the first failure"
    assert f["sequenceNumber"]["S"].isdigit()
    assert f["id"]["S"] == f"orders#{f['sequenceNumber']['S']}"
    # eve's key is free again: her next order counts.
    ddb.put_item(TableName="orders", Item={"order_id": {"S": "eve-ok"}, "customer": {"S": "eve"},
                                           "amount": {"N": "3"}})
    ddb.delete_item(TableName="orders", Key={"order_id": {"S": "poison"}})
    status = server.admin("/_tarn/status")["streams"]["orders -> order-totals"]
    assert status["failed"] >= 1 and status["retries"] >= 3
    assert status["last_error"]


def test_sigkill_in_the_middle_loses_and_double_counts_nothing():
    tmp = tempfile.mkdtemp(prefix="tarn-orders-crash-")
    data_dir = os.path.join(tmp, "data")
    try:
        stop = threading.Event()
        written = []
        with spawn_tarn("--app", str(APP), data_dir=data_dir) as server:
            aws = AwsFactory(server.endpoint)
            wait_tables(aws.client(), ["orders", "order-totals"])

            def writer():
                ddb = aws.client()
                i = 0
                while not stop.is_set():
                    try:
                        ddb.put_item(TableName="orders", Item={
                            "order_id": {"S": f"c{i}"}, "customer": {"S": f"cust{i % 5}"},
                            "amount": {"N": str(i % 97 + 1)}})
                        written.append(i)
                    except Exception:
                        return
                    i += 1

            t = threading.Thread(target=writer)
            t.start()
            # Kill while records are being written and processed.
            deadline = time.monotonic() + 60
            while len(written) < 300:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            processed = server.admin("/_tarn/status")["streams"]["orders -> order-totals"]["processed"]
            server.kill()
            stop.set()
            t.join(timeout=30)
        assert processed > 0
        with spawn_tarn("--app", str(APP), data_dir=data_dir) as server:
            aws = AwsFactory(server.endpoint)
            got = converge(aws.resource())
            assert len(got) == 5
            assert sum(v[1] for v in got.values()) >= len(written), "acknowledged orders counted"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_a_schedule_fires_on_its_seconds():
    tmp = Path(tempfile.mkdtemp(prefix="tarn-schedule-"))
    try:
        manifest = APP.read_text().replace('cron = "0 0 2 * * *"', 'cron = "*/2 * * * * *"')
        release = REPO_ROOT / "functions" / "target" / "wasm32-wasip2" / "release"
        manifest = manifest.replace("../../functions/target/wasm32-wasip2/release", str(release))
        (tmp / "tarn.toml").write_text(manifest)
        with spawn_tarn("--app", str(tmp / "tarn.toml")) as server:
            aws = AwsFactory(server.endpoint)
            wait_tables(aws.client(), ["order-reports"])
            time.sleep(7)
            status = server.admin("/_tarn/status")["schedules"]
            reports = aws.resource().Table("order-reports").scan()["Items"]
        times = sorted(datetime.datetime.fromisoformat(r["at"].replace("Z", "+00:00")) for r in reports)
        assert 2 <= len(times) <= 5, times
        assert all(t.second % 2 == 0 and t.microsecond == 0 for t in times), times
        assert all((b - a).total_seconds() == 2 for a, b in zip(times, times[1:])), times
        (s,) = status.values()
        assert s["cron"] == "*/2 * * * * *"
        assert s["runs"] >= 2 and s["failures"] == 0
        assert s["next_run"] > s["last_run"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
