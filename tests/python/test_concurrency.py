"""Concurrency (issue 3): many clients updating one item; the final value equals the
number of acknowledged increments — no lost updates, no double applies."""

import threading

import pytest
from botocore.exceptions import ClientError

pytestmark = pytest.mark.issue3

K = {"pk": {"S": "counter"}}


def _run(threads):
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
        assert not t.is_alive(), "worker did not finish"


def _value(ddb, table):
    item = ddb.get_item(TableName=table, Key=K, ConsistentRead=True).get("Item", {})
    return int(item.get("n", {"N": "0"})["N"])


def test_concurrent_add(aws, ddb, table):
    workers, per_worker = 8, 25
    acked = [0] * workers
    errors = []
    clients = [aws.client() for _ in range(workers)]

    def work(w):
        for _ in range(per_worker):
            try:
                clients[w].update_item(
                    TableName=table, Key=K, UpdateExpression="ADD n :one", ExpressionAttributeValues={":one": {"N": "1"}}
                )
                acked[w] += 1
            except ClientError as e:
                errors.append(e.response["Error"])

    _run([threading.Thread(target=work, args=(w,)) for w in range(workers)])
    assert _value(ddb, table) == sum(acked)
    assert errors == []
    assert sum(acked) == workers * per_worker


def test_concurrent_optimistic_updates(aws, ddb, table):
    """Read-modify-write with a version condition: every successful write moves the
    value by exactly one."""
    ddb.put_item(TableName=table, Item={"pk": {"S": "counter"}, "n": {"N": "0"}})
    workers, target = 6, 8
    acked = [0] * workers
    unexpected = []
    clients = [aws.client() for _ in range(workers)]

    def work(w):
        c = clients[w]
        for _ in range(500):
            if acked[w] >= target:
                return
            cur = _value(c, table)
            try:
                c.update_item(
                    TableName=table, Key=K, UpdateExpression="SET n = :new", ConditionExpression="n = :old",
                    ExpressionAttributeValues={":new": {"N": str(cur + 1)}, ":old": {"N": str(cur)}},
                )
                acked[w] += 1
            except ClientError as e:
                if e.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    unexpected.append(e.response["Error"])

    _run([threading.Thread(target=work, args=(w,)) for w in range(workers)])
    assert unexpected == []
    assert _value(ddb, table) == sum(acked)
    assert sum(acked) == workers * target


def test_concurrent_conditional_transactions(aws, ddb, make_table):
    """Each transaction moves one unit from `a` to `b` only if `a` still holds the value
    that was read; the sum is conserved and `b` equals the acknowledged transfers."""
    table = make_table()
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1000"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "n": {"N": "0"}})
    workers, target = 4, 6
    acked = [0] * workers
    unexpected = []
    clients = [aws.client() for _ in range(workers)]

    def read(c, pk):
        return int(c.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True)["Item"]["n"]["N"])

    def work(w):
        c = clients[w]
        for _ in range(500):
            if acked[w] >= target:
                return
            a = read(c, "a")
            try:
                c.transact_write_items(
                    TransactItems=[
                        {"Update": {"TableName": table, "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET n = :new",
                                    "ConditionExpression": "n = :old",
                                    "ExpressionAttributeValues": {":new": {"N": str(a - 1)}, ":old": {"N": str(a)}}}},
                        {"Update": {"TableName": table, "Key": {"pk": {"S": "b"}}, "UpdateExpression": "ADD n :one",
                                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                    ]
                )
                acked[w] += 1
            except ClientError as e:
                code = e.response["Error"]["Code"]
                if code not in ("TransactionCanceledException", "TransactionConflictException"):
                    unexpected.append(e.response["Error"])

    _run([threading.Thread(target=work, args=(w,)) for w in range(workers)])
    assert unexpected == []
    a, b = read(ddb, "a"), read(ddb, "b")
    assert b == sum(acked)
    assert a + b == 1000
    assert sum(acked) == workers * target


def _conflict(e):
    """Whether a ClientError is a transaction conflict, which callers retry (DynamoDB's
    TransactionConflictException, or a cancellation with a TransactionConflict reason)."""
    err = e.response["Error"]
    if err["Code"] == "TransactionConflictException":
        return True
    reasons = e.response.get("CancellationReasons", [])
    return err["Code"] == "TransactionCanceledException" and any(
        r.get("Code") == "TransactionConflict" for r in reasons
    )


def test_concurrent_transactions_and_single_writes_on_one_item(aws, ddb, table):
    """Transactions and plain UpdateItems increment one counter at once. As in DynamoDB, a
    transaction that meets another on the counter is cancelled with TransactionConflict, and
    an UpdateItem on it while a transaction runs gets TransactionConflictException; callers
    retry those, and the counter ends at exactly the number of acknowledged increments."""
    workers, per_worker = 6, 15
    acked = [0] * workers
    conflicts = [0] * workers
    unexpected = []
    clients = [aws.client() for _ in range(workers)]
    add = {"UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}

    def work(w):
        c = clients[w]
        for _ in range(2000):
            if acked[w] >= per_worker:
                return
            try:
                if w % 2 == 0:
                    c.transact_write_items(TransactItems=[
                        {"Update": {"TableName": table, "Key": K, **add}},
                        {"Put": {"TableName": table, "Item": {"pk": {"S": f"w{w}"}, "i": {"N": str(acked[w])}}}},
                    ])
                else:
                    c.update_item(TableName=table, Key=K, **add)
                acked[w] += 1
            except ClientError as e:
                if _conflict(e):
                    conflicts[w] += 1
                else:
                    unexpected.append(e.response["Error"])

    _run([threading.Thread(target=work, args=(w,)) for w in range(workers)])
    assert unexpected == []
    assert sum(acked) == workers * per_worker
    assert _value(ddb, table) == sum(acked)
