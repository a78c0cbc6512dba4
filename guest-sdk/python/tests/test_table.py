from decimal import Decimal

import pytest

import tarn
from tarn import Attr, Key, Table, Transaction, Update
from tarn.errors import error_for
from tarn.table import decode_token, encode_token


def test_get_put_delete_requests(record):
    host = record({"Item": {"id": {"S": "a"}, "n": {"N": "2"}}})
    t = Table("todos")
    assert t.get({"id": "a"}) == {"id": "a", "n": Decimal(2)}
    assert host.calls[-1] == ("GetItem", {"TableName": "todos", "Key": {"id": {"S": "a"}}, "ConsistentRead": True})
    t.put({"id": "a", "n": 1}, condition=Attr("id").not_exists())
    assert host.calls[-1] == ("PutItem", {
        "TableName": "todos", "Item": {"id": {"S": "a"}, "n": {"N": "1"}},
        "ConditionExpression": "attribute_not_exists(#n0)", "ExpressionAttributeNames": {"#n0": "id"}})
    record({})
    assert t.get({"id": "b"}) is None
    host = record({"Attributes": {"id": {"S": "a"}}})
    assert t.delete({"id": "a"}, condition="#v = :v", names={"#v": "version"}, values={":v": 3}) == {"id": "a"}
    assert host.calls[-1][1] == {
        "TableName": "todos", "Key": {"id": {"S": "a"}}, "ReturnValues": "ALL_OLD", "ConditionExpression": "#v = :v",
        "ExpressionAttributeNames": {"#v": "version"}, "ExpressionAttributeValues": {":v": {"N": "3"}}}


def test_projection_on_get(record):
    host = record({})
    Table("t1").get({"id": "a"}, projection=["title", "a.b"], consistent=False)
    assert host.calls[-1][1]["ProjectionExpression"] == "#n0, #n1.#n2"
    assert host.calls[-1][1]["ConsistentRead"] is False


def test_update_with_condition(record):
    host = record({"Attributes": {"id": {"S": "a"}, "version": {"N": "4"}}})
    got = Table("todos").update({"id": "a"}, Update().set("title", "n").add("version", 1),
                                condition=Attr("version").eq(3))
    assert got == {"id": "a", "version": 4}
    op, req = host.calls[-1]
    assert op == "UpdateItem"
    assert req["UpdateExpression"] == "SET #n0 = :v0 ADD #n1 :v1"
    assert req["ConditionExpression"] == "#n1 = :v2"
    assert req["ExpressionAttributeNames"] == {"#n0": "title", "#n1": "version"}
    assert req["ReturnValues"] == "ALL_NEW"
    Table("todos").update({"id": "a"}, "SET #c = #c + :one", names={"#c": "count"}, values={":one": 1}, returns="NONE")
    assert host.calls[-1][1]["UpdateExpression"] == "SET #c = #c + :one"
    assert host.calls[-1][1]["ExpressionAttributeValues"] == {":one": {"N": "1"}}


def test_query_pages_and_tokens(record):
    host = record({"Items": [{"pk": {"S": "a"}, "sk": {"N": "1"}}], "Count": 1, "ScannedCount": 3,
                   "LastEvaluatedKey": {"pk": {"S": "a"}, "sk": {"N": "1"}}})
    page = Table("t1").query(Key("pk").eq("a") & Key("sk").gt(0), filter=Attr("x").exists(),
                             index="by-x", limit=1, forward=False)
    assert page.items == [{"pk": "a", "sk": 1}] and page.count == 1 and page.scanned_count == 3
    assert page.last_key == {"pk": "a", "sk": 1}
    req = host.calls[-1][1]
    assert req["KeyConditionExpression"] == "(#n1 = :v0 AND #n2 > :v1)"
    assert req["FilterExpression"] == "attribute_exists(#n0)"
    assert req["ScanIndexForward"] is False and req["IndexName"] == "by-x" and req["Limit"] == 1
    token = page.next_token
    assert token and all(c.isalnum() or c in "-_" for c in token)
    host = record({"Items": []})
    page = Table("t1").scan(start=token, limit=5)
    assert page.next_token is None and page.last_key is None
    assert host.calls[-1][1] == {"TableName": "t1", "Limit": 5, "ExclusiveStartKey": {"pk": {"S": "a"}, "sk": {"N": "1"}}}
    with pytest.raises(tarn.InvalidTokenError):
        Table("t1").scan(start="%%")
    with pytest.raises(tarn.ValidationException):
        Table("t1").scan(start=encode_token({"pk": "not a value"}))


def test_tokens_match_the_rust_sdk():
    # tarn-sdk's token.rs encodes {"id":{"S":"a"}} as URL-safe base64 of its compact JSON.
    assert encode_token({"id": {"S": "a"}}) == "eyJpZCI6eyJTIjoiYSJ9fQ"
    assert decode_token("eyJpZCI6eyJTIjoiYSJ9fQ") == {"id": {"S": "a"}}


def test_scan_all_follows_pages(record):
    def pages(op, req):
        if "ExclusiveStartKey" not in req:
            return {"Items": [{"id": {"S": "a"}}], "LastEvaluatedKey": {"id": {"S": "a"}}}
        return {"Items": [{"id": {"S": "b"}}]}

    host = record(pages)
    assert [i["id"] for i in Table("t1").scan_all(filter=Attr("id").exists())] == ["a", "b"]
    assert len(host.calls) == 2
    assert [i["id"] for i in Table("t1").query_all(Key("id").eq("a"))] == ["a", "b"]


def test_batch_write_chunks_and_resends(record):
    sizes = []

    def answer(op, req):
        todo = req["RequestItems"]["t1"]
        sizes.append(len(todo))
        return {"UnprocessedItems": {"t1": todo[:1]}} if len(sizes) == 1 else {}

    record(answer)
    Table("t1").batch_put([{"id": str(i)} for i in range(30)])
    assert sizes == [25, 1, 5]


def test_batch_get_and_give_up(record):
    record({"Responses": {"t1": [{"id": {"S": "a"}}]}})
    assert Table("t1").batch_get([{"id": "a"}, {"id": "b"}]) == [{"id": "a"}]
    record(lambda op, req: {"UnprocessedItems": req["RequestItems"]})
    with pytest.raises(tarn.ProvisionedThroughputExceededException):
        Table("t1").batch_delete([{"id": "a"}])


def test_errors_are_dynamodb_exceptions(record):
    def deny(op, req):
        raise error_for("AccessDeniedException", "no grant")

    record(deny)
    with pytest.raises(tarn.AccessDeniedException) as e:
        Table("secret").get({"id": "a"})
    assert e.value.code == "AccessDeniedException" and e.value.http_status == 403
    assert isinstance(error_for("com.amazonaws.dynamodb.v20120810#ConditionalCheckFailed", "x"),
                      tarn.ConditionalCheckFailedException)
    weird = error_for("WeirdException", "m")
    assert type(weird) is tarn.TableError and weird.code == "WeirdException" and str(weird) == "WeirdException: m"


def test_no_host_fails_clearly():
    with pytest.raises(tarn.TableError) as e:
        Table("t1").get({"id": "a"})
    assert e.value.code == "NoHost"


def test_transactions(record):
    host = record({"Responses": [{"Item": {"id": {"S": "a"}}}, {}]})
    t = Table("accounts")
    Transaction().put(t, {"id": "a"}).update(t, {"id": "b"}, Update().add("n", 1), condition=Attr("n").lt(5)) \
        .delete(t, {"id": "c"}).check(t, {"id": "d"}, Attr("id").exists()).commit(token="tok")
    req = host.calls[-1][1]
    assert [next(iter(a)) for a in req["TransactItems"]] == ["Put", "Update", "Delete", "ConditionCheck"]
    assert req["TransactItems"][1]["Update"]["UpdateExpression"] == "ADD #n0 :v0"
    assert req["TransactItems"][1]["Update"]["ConditionExpression"] == "#n0 < :v1"
    assert req["ClientRequestToken"] == "tok"
    assert tarn.transact_get([(t, {"id": "a"}), (t, {"id": "z"})]) == [{"id": "a"}, None]


def test_raw_call(record):
    host = record({"Count": 0})
    assert tarn.call("Scan", {"TableName": "t1", "Select": "COUNT"}) == {"Count": 0}
    assert host.calls == [("Scan", {"TableName": "t1", "Select": "COUNT"})]
    with pytest.raises(ValueError):
        tarn.call("DropEverything", {})
