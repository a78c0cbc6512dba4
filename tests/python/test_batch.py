"""BatchGetItem and BatchWriteItem (issue 3)."""

import pytest
from botocore.exceptions import ClientError

from conftest import canon, error_code, error_message, unique_name

pytestmark = pytest.mark.issue3


def put_req(pk, **attrs):
    item = {"pk": {"S": pk}}
    item.update(attrs)
    return {"PutRequest": {"Item": item}}


def del_req(pk):
    return {"DeleteRequest": {"Key": {"pk": {"S": pk}}}}


def test_batch_write_25_and_get_100(ddb, table):
    for start in range(0, 100, 25):
        resp = ddb.batch_write_item(
            RequestItems={table: [put_req(f"k{i:03d}", v={"N": str(i)}) for i in range(start, start + 25)]}
        )
        assert resp["UnprocessedItems"] == {}
    resp = ddb.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": f"k{i:03d}"}} for i in range(100)]}})
    assert resp["UnprocessedKeys"] == {}
    got = {i["pk"]["S"]: i["v"]["N"] for i in resp["Responses"][table]}
    assert got == {f"k{i:03d}": str(i) for i in range(100)}


def test_batch_write_puts_and_deletes_across_tables(ddb, make_table):
    t1, t2 = make_table(), make_table()
    ddb.put_item(TableName=t1, Item={"pk": {"S": "gone"}})
    resp = ddb.batch_write_item(
        RequestItems={
            t1: [put_req("a", x={"SS": ["1", "2"]}), del_req("gone"), del_req("never-existed")],
            t2: [put_req("b", m={"M": {"n": {"N": "01.0"}}})],
        }
    )
    assert resp["UnprocessedItems"] == {}
    assert "Item" not in ddb.get_item(TableName=t1, Key={"pk": {"S": "gone"}})
    assert canon(ddb.get_item(TableName=t1, Key={"pk": {"S": "a"}})["Item"]) == canon({"pk": {"S": "a"}, "x": {"SS": ["1", "2"]}})
    assert ddb.get_item(TableName=t2, Key={"pk": {"S": "b"}})["Item"] == {"pk": {"S": "b"}, "m": {"M": {"n": {"N": "1"}}}}


def test_batch_get_missing_keys_projection_and_tables(ddb, make_table):
    t1, t2 = make_table(), make_table()
    ddb.put_item(TableName=t1, Item={"pk": {"S": "a"}, "x": {"N": "1"}, "y": {"N": "2"}})
    ddb.put_item(TableName=t2, Item={"pk": {"S": "b"}, "x": {"N": "3"}})
    resp = ddb.batch_get_item(
        RequestItems={
            t1: {
                "Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "missing"}}],
                "ProjectionExpression": "#x",
                "ExpressionAttributeNames": {"#x": "x"},
            },
            t2: {"Keys": [{"pk": {"S": "b"}}], "ConsistentRead": True},
        }
    )
    assert resp["Responses"][t1] == [{"x": {"N": "1"}}]
    assert resp["Responses"][t2] == [{"pk": {"S": "b"}, "x": {"N": "3"}}]
    assert resp["UnprocessedKeys"] == {}


def test_batch_get_table_with_no_hits_is_present_and_empty(ddb, table):
    resp = ddb.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": "nope"}}]}})
    assert resp["Responses"] == {table: []}


def test_batch_write_limit_25(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={table: [put_req(f"k{i}") for i in range(26)]})
    assert error_code(e) == "ValidationException"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "k0"}})


def test_batch_write_limit_25_counts_all_tables(ddb, make_table):
    t1, t2 = make_table(), make_table()
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(
            RequestItems={t1: [put_req(f"k{i}") for i in range(13)], t2: [put_req(f"k{i}") for i in range(13)]}
        )
    assert error_code(e) == "ValidationException"


def test_batch_get_limit_100(ddb, make_table):
    t1, t2 = make_table(), make_table()
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(RequestItems={t1: {"Keys": [{"pk": {"S": f"k{i}"}} for i in range(101)]}})
    assert error_code(e) == "ValidationException"
    assert "Too many items" in error_message(e)
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(
            RequestItems={
                t1: {"Keys": [{"pk": {"S": f"k{i}"}} for i in range(60)]},
                t2: {"Keys": [{"pk": {"S": f"k{i}"}} for i in range(41)]},
            }
        )
    assert error_code(e) == "ValidationException"


@pytest.mark.parametrize(
    "requests",
    [
        [put_req("a"), put_req("a")],
        [put_req("a"), del_req("a")],
        [del_req("a"), del_req("a")],
    ],
    ids=["put-put", "put-delete", "delete-delete"],
)
def test_batch_write_duplicate_keys(ddb, table, requests):
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "orig": {"BOOL": True}})
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={table: requests})
    assert error_code(e) == "ValidationException"
    assert "duplicates" in error_message(e)
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}, "orig": {"BOOL": True}}


def test_batch_get_duplicate_keys(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "a"}}]}})
    assert error_code(e) == "ValidationException"
    assert "duplicates" in error_message(e)


def test_batch_duplicate_number_keys_after_normalization(ddb, make_table):
    name = make_table(("id", "N"))
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(
            RequestItems={name: [{"PutRequest": {"Item": {"id": {"N": "1"}}}}, {"PutRequest": {"Item": {"id": {"N": "1.0"}}}}]}
        )
    assert error_code(e) == "ValidationException"


def test_batch_write_invalid_item_rejects_whole_batch(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={table: [put_req("ok"), {"PutRequest": {"Item": {"pk": {"N": "1"}}}}]})
    assert error_code(e) == "ValidationException"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "ok"}})


def test_batch_missing_table(ddb, table):
    missing = unique_name("missing")
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={table: [put_req("a")], missing: [put_req("a")]})
    assert error_code(e) == "ResourceNotFoundException"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})
    with pytest.raises(ClientError) as e:
        ddb.batch_get_item(RequestItems={missing: {"Keys": [{"pk": {"S": "a"}}]}})
    assert error_code(e) == "ResourceNotFoundException"


def test_batch_get_16mb_response_limit(ddb, table):
    # 60 items of ~350 KB = ~21 MB > 16 MB: some keys come back unprocessed.
    blob = "z" * 350_000
    for i in range(0, 60, 5):
        ddb.batch_write_item(RequestItems={table: [put_req(f"b{j:02d}", d={"S": blob}) for j in range(i, i + 5)]})
    keys = [{"pk": {"S": f"b{j:02d}"}} for j in range(60)]
    got = set()
    resp = ddb.batch_get_item(RequestItems={table: {"Keys": keys}})
    first = resp["Responses"][table]
    assert len(first) < 60
    assert sum(len(i["d"]["S"]) for i in first) <= 16 * 1024 * 1024
    unprocessed = resp["UnprocessedKeys"]
    assert unprocessed, "a 21 MB BatchGetItem must return UnprocessedKeys"
    got.update(i["pk"]["S"] for i in first)
    for _ in range(10):
        if not unprocessed:
            break
        resp = ddb.batch_get_item(RequestItems=unprocessed)
        got.update(i["pk"]["S"] for i in resp["Responses"].get(table, []))
        unprocessed = resp["UnprocessedKeys"]
    assert got == {f"b{j:02d}" for j in range(60)}


def test_batch_write_item_size_limit(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.batch_write_item(RequestItems={table: [put_req("big", d={"S": "x" * 410_000})]})
    assert error_code(e) == "ValidationException"
