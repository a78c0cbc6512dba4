"""TransactWriteItems and TransactGetItems (issue 3)."""

import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import canon, error_code, error_message, unique_name

pytestmark = pytest.mark.issue3


def k(v):
    return {"pk": {"S": v}}


def get(ddb, table, key):
    return ddb.get_item(TableName=table, Key=k(key), ConsistentRead=True).get("Item")


def test_transact_write_all_kinds(ddb, make_table):
    t1, t2 = make_table(), make_table()
    ddb.put_item(TableName=t1, Item={"pk": {"S": "upd"}, "n": {"N": "1"}})
    ddb.put_item(TableName=t1, Item={"pk": {"S": "del"}})
    ddb.put_item(TableName=t2, Item={"pk": {"S": "check"}, "ok": {"BOOL": True}})
    resp = ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": t1, "Item": {"pk": {"S": "new"}, "v": {"S": "x"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": {"TableName": t1, "Key": k("upd"), "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Delete": {"TableName": t1, "Key": k("del")}},
            {"ConditionCheck": {"TableName": t2, "Key": k("check"), "ConditionExpression": "ok = :t", "ExpressionAttributeValues": {":t": {"BOOL": True}}}},
        ]
    )
    assert "ConsumedCapacity" not in resp
    assert get(ddb, t1, "new") == {"pk": {"S": "new"}, "v": {"S": "x"}}
    assert get(ddb, t1, "upd")["n"] == {"N": "2"}
    assert get(ddb, t1, "del") is None
    assert get(ddb, t2, "check") == {"pk": {"S": "check"}, "ok": {"BOOL": True}}


def test_transact_write_all_or_nothing(ddb, make_table):
    t1, t2 = make_table(), make_table()
    ddb.put_item(TableName=t1, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    ddb.put_item(TableName=t2, Item={"pk": {"S": "c"}, "state": {"S": "locked"}})
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": t1, "Item": {"pk": {"S": "b"}}}},
                {"Update": {"TableName": t1, "Key": k("a"), "UpdateExpression": "SET n = :v", "ExpressionAttributeValues": {":v": {"N": "99"}}}},
                {
                    "ConditionCheck": {
                        "TableName": t2,
                        "Key": k("c"),
                        "ConditionExpression": "#s = :open",
                        "ExpressionAttributeNames": {"#s": "state"},
                        "ExpressionAttributeValues": {":open": {"S": "open"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {"Delete": {"TableName": t2, "Key": k("zzz")}},
            ]
        )
    assert error_code(e) == "TransactionCanceledException"
    assert "[None, None, ConditionalCheckFailed, None]" in error_message(e)
    reasons = e.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "None", "ConditionalCheckFailed", "None"]
    assert reasons[2]["Message"] == "The conditional request failed"
    assert reasons[2]["Item"] == {"pk": {"S": "c"}, "state": {"S": "locked"}}
    assert "Item" not in reasons[0]
    # Nothing was applied.
    assert get(ddb, t1, "b") is None
    assert get(ddb, t1, "a")["n"] == {"N": "1"}


def test_transact_write_condition_failure_without_item(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "a"}, "v": {"N": "1"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
            ]
        )
    assert error_code(e) == "TransactionCanceledException"
    reasons = e.value.response["CancellationReasons"]
    assert reasons == [{"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}]
    assert get(ddb, table, "a") == {"pk": {"S": "a"}}


def test_transact_write_same_item_twice(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "a"}}}},
                {"Delete": {"TableName": table, "Key": k("a")}},
            ]
        )
    assert error_code(e) == "ValidationException"
    assert "multiple operations on one item" in error_message(e)


def test_transact_write_limit_100(ddb, table):
    items = [{"Put": {"TableName": table, "Item": {"pk": {"S": f"k{i}"}}}} for i in range(100)]
    ddb.transact_write_items(TransactItems=items)
    assert get(ddb, table, "k99") == {"pk": {"S": "k99"}}
    items = [{"Put": {"TableName": table, "Item": {"pk": {"S": f"x{i}"}}}} for i in range(101)]
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=items)
    assert error_code(e) == "ValidationException"
    assert get(ddb, table, "x0") is None


def test_transact_write_validation_error_applies_nothing(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "ok"}}}},
                {"Put": {"TableName": table, "Item": {"pk": {"N": "1"}}}},
            ]
        )
    assert error_code(e) == "ValidationException"
    assert get(ddb, table, "ok") is None


def test_transact_write_missing_table(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "ok"}}}},
                {"Put": {"TableName": unique_name("missing"), "Item": {"pk": {"S": "x"}}}},
            ]
        )
    assert error_code(e) == "ResourceNotFoundException"
    assert get(ddb, table, "ok") is None


def test_client_request_token_idempotency(ddb, table):
    token = str(uuid.uuid4())
    req = [{"Update": {"TableName": table, "Key": k("c"), "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}}]
    ddb.transact_write_items(TransactItems=req, ClientRequestToken=token)
    ddb.transact_write_items(TransactItems=req, ClientRequestToken=token)
    assert get(ddb, table, "c")["n"] == {"N": "1"}
    # A different token applies again.
    ddb.transact_write_items(TransactItems=req, ClientRequestToken=str(uuid.uuid4()))
    assert get(ddb, table, "c")["n"] == {"N": "2"}
    # The same token with different parameters.
    other = [{"Update": {"TableName": table, "Key": k("c"), "UpdateExpression": "ADD n :two", "ExpressionAttributeValues": {":two": {"N": "2"}}}}]
    with pytest.raises(ClientError) as e:
        ddb.transact_write_items(TransactItems=other, ClientRequestToken=token)
    assert error_code(e) == "IdempotentParameterMismatchException"
    assert get(ddb, table, "c")["n"] == {"N": "2"}


def test_transact_get(ddb, make_table):
    t1, t2 = make_table(), make_table()
    ddb.put_item(TableName=t1, Item={"pk": {"S": "a"}, "x": {"N": "1"}, "y": {"SS": ["p"]}})
    ddb.put_item(TableName=t2, Item={"pk": {"S": "b"}, "x": {"N": "2"}})
    resp = ddb.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": t2, "Key": k("b")}},
            {"Get": {"TableName": t1, "Key": k("missing")}},
            {"Get": {"TableName": t1, "Key": k("a"), "ProjectionExpression": "#y", "ExpressionAttributeNames": {"#y": "y"}}},
        ]
    )
    r = resp["Responses"]
    assert len(r) == 3
    assert r[0]["Item"] == {"pk": {"S": "b"}, "x": {"N": "2"}}
    assert "Item" not in r[1]
    assert canon(r[2]["Item"]) == canon({"y": {"SS": ["p"]}})


def test_transact_get_errors(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": k("a")}}, {"Get": {"TableName": table, "Key": k("a")}}])
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": {"pk": {"N": "1"}}}}])
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.transact_get_items(TransactItems=[{"Get": {"TableName": unique_name("missing"), "Key": k("a")}}])
    assert error_code(e) == "ResourceNotFoundException"


def test_transact_consumed_capacity(ddb, make_table):
    t1, t2 = make_table(), make_table()
    resp = ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": t1, "Item": {"pk": {"S": "a"}}}},
            {"Put": {"TableName": t2, "Item": {"pk": {"S": "b"}}}},
            {"Put": {"TableName": t2, "Item": {"pk": {"S": "c"}}}},
        ],
        ReturnConsumedCapacity="TOTAL",
    )
    cc = {c["TableName"]: c["CapacityUnits"] for c in resp["ConsumedCapacity"]}
    # Transactional writes cost 2 WCU per 1 KB item.
    assert cc == {t1: 2.0, t2: 4.0}
    resp = ddb.transact_get_items(
        TransactItems=[{"Get": {"TableName": t1, "Key": k("a")}}, {"Get": {"TableName": t2, "Key": k("b")}}],
        ReturnConsumedCapacity="TOTAL",
    )
    cc = {c["TableName"]: c["CapacityUnits"] for c in resp["ConsumedCapacity"]}
    # Transactional reads cost 2 RCU per 4 KB item.
    assert cc == {t1: 2.0, t2: 2.0}
