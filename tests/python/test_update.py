"""UpdateItem and condition expressions (issue 3)."""

import pytest
from botocore.exceptions import ClientError

from conftest import canon, error_code, error_message

pytestmark = pytest.mark.issue3

K = {"pk": {"S": "k"}}


def get(ddb, table, key=K):
    return ddb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")


# --- ConditionExpression on Put / Update / Delete -------------------------------------------


def test_put_condition_attribute_not_exists(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "1"}}, ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ClientError) as e:
        ddb.put_item(
            TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "2"}}, ConditionExpression="attribute_not_exists(pk)"
        )
    assert error_code(e) == "ConditionalCheckFailedException"
    assert error_message(e) == "The conditional request failed"
    assert "Item" not in e.value.response  # not requested
    assert get(ddb, table)["v"] == {"N": "1"}


def test_condition_failure_returns_old_item_when_asked(ddb, table):
    old = {"pk": {"S": "k"}, "v": {"N": "1"}, "ss": {"SS": ["a", "b"]}}
    ddb.put_item(TableName=table, Item=old)
    with pytest.raises(ClientError) as e:
        ddb.put_item(
            TableName=table,
            Item={"pk": {"S": "k"}, "v": {"N": "2"}},
            ConditionExpression="v = :two",
            ExpressionAttributeValues={":two": {"N": "2"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert error_code(e) == "ConditionalCheckFailedException"
    assert canon(e.value.response["Item"]) == canon(old)
    with pytest.raises(ClientError) as e:
        ddb.update_item(
            TableName=table,
            Key=K,
            UpdateExpression="SET v = :two",
            ConditionExpression="attribute_not_exists(v)",
            ExpressionAttributeValues={":two": {"N": "2"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert error_code(e) == "ConditionalCheckFailedException"
    assert canon(e.value.response["Item"]) == canon(old)
    with pytest.raises(ClientError) as e:
        ddb.delete_item(
            TableName=table,
            Key=K,
            ConditionExpression="v > :two",
            ExpressionAttributeValues={":two": {"N": "2"}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert error_code(e) == "ConditionalCheckFailedException"
    assert canon(e.value.response["Item"]) == canon(old)
    assert canon(get(ddb, table)) == canon(old)


def test_condition_failure_on_missing_item_returns_no_item(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.delete_item(
            TableName=table,
            Key=K,
            ConditionExpression="attribute_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert error_code(e) == "ConditionalCheckFailedException"
    assert "Item" not in e.value.response


@pytest.mark.parametrize(
    "expr,values,names,expected",
    [
        ("n = :v", {":v": {"N": "5"}}, None, True),
        ("n <> :v", {":v": {"N": "5"}}, None, False),
        ("n < :v", {":v": {"N": "10"}}, None, True),  # numeric, not string, comparison
        ("n <= :v", {":v": {"N": "5.0"}}, None, True),
        ("n > :v", {":v": {"N": "5"}}, None, False),
        ("n >= :v", {":v": {"N": "-1"}}, None, True),
        ("n BETWEEN :a AND :b", {":a": {"N": "1"}, ":b": {"N": "5"}}, None, True),
        ("n BETWEEN :a AND :b", {":a": {"N": "6"}, ":b": {"N": "9"}}, None, False),
        ("n IN (:a, :b, :c)", {":a": {"N": "1"}, ":b": {"N": "5"}, ":c": {"N": "7"}}, None, True),
        ("s IN (:a)", {":a": {"S": "nope"}}, None, False),
        ("n < :v", {":v": {"S": "10"}}, None, False),  # different types never compare true
        ("s = :v", {":v": {"S": "hello"}}, None, True),
        ("s < :v", {":v": {"S": "help"}}, None, True),  # byte order
        ("begins_with(s, :p)", {":p": {"S": "hel"}}, None, True),
        ("begins_with(s, :p)", {":p": {"S": "ello"}}, None, False),
        ("contains(s, :p)", {":p": {"S": "ll"}}, None, True),
        ("contains(ss, :p)", {":p": {"S": "b"}}, None, True),
        ("contains(ss, :p)", {":p": {"S": "z"}}, None, False),
        ("contains(l, :p)", {":p": {"N": "2"}}, None, True),
        ("size(s) = :v", {":v": {"N": "5"}}, None, True),
        ("size(ss) = :v", {":v": {"N": "2"}}, None, True),
        ("size(l) > :v", {":v": {"N": "2"}}, None, True),
        ("size(m) = :v", {":v": {"N": "1"}}, None, True),
        ("attribute_type(n, :t)", {":t": {"S": "N"}}, None, True),
        ("attribute_type(ss, :t)", {":t": {"S": "SS"}}, None, True),
        ("attribute_type(s, :t)", {":t": {"S": "N"}}, None, False),
        ("attribute_exists(m.a)", None, None, True),
        ("attribute_exists(m.b)", None, None, False),
        ("attribute_not_exists(nope)", None, None, True),
        ("m.a.#x = :v", {":v": {"BOOL": True}}, {"#x": "x"}, True),
        ("l[1] = :v", {":v": {"N": "2"}}, None, True),
        ("l[5] = :v", {":v": {"N": "2"}}, None, False),
        ("#s = :v", {":v": {"S": "hello"}}, {"#s": "s"}, True),
        ("n = :v AND s = :w", {":v": {"N": "5"}, ":w": {"S": "x"}}, None, False),
        ("n = :v OR s = :w", {":v": {"N": "5"}, ":w": {"S": "x"}}, None, True),
        ("NOT n = :v", {":v": {"N": "5"}}, None, False),
        ("NOT (n = :v AND s = :w)", {":v": {"N": "5"}, ":w": {"S": "x"}}, None, True),
        ("(n = :v OR s = :w) AND attribute_exists(l)", {":v": {"N": "0"}, ":w": {"S": "hello"}}, None, True),
    ],
)
def test_condition_semantics(ddb, table, expr, values, names, expected):
    item = {
        "pk": {"S": "k"},
        "n": {"N": "5"},
        "s": {"S": "hello"},
        "ss": {"SS": ["a", "b"]},
        "l": {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]},
        "m": {"M": {"a": {"M": {"x": {"BOOL": True}}}}},
    }
    ddb.put_item(TableName=table, Item=item)
    kw = {"ConditionExpression": expr}
    if values:
        kw["ExpressionAttributeValues"] = values
    if names:
        kw["ExpressionAttributeNames"] = names
    try:
        ddb.update_item(TableName=table, Key=K, UpdateExpression="SET marker = :marker",
                        ExpressionAttributeValues={**(values or {}), ":marker": {"BOOL": True}},
                        **{k: v for k, v in kw.items() if k != "ExpressionAttributeValues"})
        passed = True
    except ClientError as e:
        assert e.response["Error"]["Code"] == "ConditionalCheckFailedException", e.response["Error"]
        passed = False
    assert passed == expected
    assert ("marker" in get(ddb, table)) == expected


def test_delete_condition(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "ver": {"N": "3"}})
    with pytest.raises(ClientError) as e:
        ddb.delete_item(TableName=table, Key=K, ConditionExpression="ver = :v", ExpressionAttributeValues={":v": {"N": "2"}})
    assert error_code(e) == "ConditionalCheckFailedException"
    assert get(ddb, table) is not None
    ddb.delete_item(TableName=table, Key=K, ConditionExpression="ver = :v", ExpressionAttributeValues={":v": {"N": "3"}})
    assert get(ddb, table) is None


# --- UpdateItem actions -----------------------------------------------------------------------


def test_update_creates_item(ddb, table):
    resp = ddb.update_item(
        TableName=table, Key=K, UpdateExpression="SET a = :a", ExpressionAttributeValues={":a": {"S": "x"}},
        ReturnValues="ALL_NEW",
    )
    assert resp["Attributes"] == {"pk": {"S": "k"}, "a": {"S": "x"}}
    assert get(ddb, table) == {"pk": {"S": "k"}, "a": {"S": "x"}}


def test_update_with_no_expression_creates_key_only_item(ddb, table):
    ddb.update_item(TableName=table, Key=K)
    assert get(ddb, table) == {"pk": {"S": "k"}}


def test_set_arithmetic_and_functions(ddb, table):
    ddb.put_item(
        TableName=table,
        Item={"pk": {"S": "k"}, "n": {"N": "10"}, "l": {"L": [{"S": "a"}]}, "keep": {"S": "old"}},
    )
    ddb.update_item(
        TableName=table,
        Key=K,
        UpdateExpression=(
            "SET n = n + :one, d = n - :half, l = list_append(l, :more), l2 = list_append(:more, l), "
            "keep = if_not_exists(keep, :new), fresh = if_not_exists(fresh, :new), cnt = if_not_exists(cnt, :zero) + :one"
        ),
        ExpressionAttributeValues={
            ":one": {"N": "1"},
            ":half": {"N": "0.5"},
            ":more": {"L": [{"S": "b"}, {"N": "2"}]},
            ":new": {"S": "new"},
            ":zero": {"N": "0"},
        },
    )
    got = get(ddb, table)
    # All operands are read from the item as it was before the update.
    assert got["n"] == {"N": "11"}
    assert got["d"] == {"N": "9.5"}
    assert got["l"] == {"L": [{"S": "a"}, {"S": "b"}, {"N": "2"}]}
    assert got["l2"] == {"L": [{"S": "b"}, {"N": "2"}, {"S": "a"}]}
    assert got["keep"] == {"S": "old"}
    assert got["fresh"] == {"S": "new"}
    assert got["cnt"] == {"N": "1"}


def test_set_nested_paths_and_list_indexes(ddb, table):
    ddb.put_item(
        TableName=table,
        Item={"pk": {"S": "k"}, "m": {"M": {"a": {"M": {}}}}, "l": {"L": [{"N": "0"}, {"N": "1"}]}},
    )
    ddb.update_item(
        TableName=table,
        Key=K,
        UpdateExpression="SET m.a.b = :v, #m.#c = :w, l[1] = :x, l[10] = :y",
        ExpressionAttributeNames={"#m": "m", "#c": "c.with.dots"},
        ExpressionAttributeValues={":v": {"S": "deep"}, ":w": {"N": "7"}, ":x": {"S": "one"}, ":y": {"S": "appended"}},
    )
    got = get(ddb, table)
    assert got["m"] == {"M": {"a": {"M": {"b": {"S": "deep"}}}, "c.with.dots": {"N": "7"}}}
    # An index past the end appends.
    assert got["l"] == {"L": [{"N": "0"}, {"S": "one"}, {"S": "appended"}]}


def test_set_on_missing_parent_is_validation_error(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}})
    with pytest.raises(ClientError) as e:
        ddb.update_item(
            TableName=table, Key=K, UpdateExpression="SET nope.child = :v", ExpressionAttributeValues={":v": {"N": "1"}}
        )
    assert error_code(e) == "ValidationException"
    assert "document path" in error_message(e)


def test_remove(ddb, table):
    ddb.put_item(
        TableName=table,
        Item={
            "pk": {"S": "k"},
            "a": {"S": "x"},
            "b": {"S": "y"},
            "l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}]},
            "m": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}},
        },
    )
    ddb.update_item(TableName=table, Key=K, UpdateExpression="REMOVE a, l[0], l[2], m.x, not_there")
    got = get(ddb, table)
    assert "a" not in got
    assert got["b"] == {"S": "y"}
    # Indexes refer to the list before the update; later elements shift down.
    assert got["l"] == {"L": [{"N": "1"}, {"N": "3"}]}
    assert got["m"] == {"M": {"y": {"N": "2"}}}


def test_add_numbers_and_sets(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "n": {"N": "1.5"}, "ss": {"SS": ["a"]}})
    ddb.update_item(
        TableName=table,
        Key=K,
        UpdateExpression="ADD n :d, ss :s, newn :d, newset :ns",
        ExpressionAttributeValues={
            ":d": {"N": "-3"},
            ":s": {"SS": ["a", "b"]},
            ":ns": {"NS": ["1", "2"]},
        },
    )
    got = get(ddb, table)
    assert got["n"] == {"N": "-1.5"}
    assert sorted(got["ss"]["SS"]) == ["a", "b"]
    assert got["newn"] == {"N": "-3"}
    assert sorted(got["newset"]["NS"]) == ["1", "2"]


def test_delete_from_set(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "ss": {"SS": ["a", "b", "c"]}, "ns": {"NS": ["1"]}})
    ddb.update_item(
        TableName=table,
        Key=K,
        UpdateExpression="DELETE ss :s, ns :n",
        ExpressionAttributeValues={":s": {"SS": ["a", "c", "zzz"]}, ":n": {"NS": ["1"]}},
    )
    got = get(ddb, table)
    assert got["ss"] == {"SS": ["b"]}
    # A set that becomes empty is removed.
    assert "ns" not in got


def test_add_on_list_is_validation_error(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "l": {"L": []}})
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key=K, UpdateExpression="ADD l :v", ExpressionAttributeValues={":v": {"L": [{"N": "1"}]}})
    assert error_code(e) == "ValidationException"


def test_arithmetic_type_errors(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "s": {"S": "x"}})
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key=K, UpdateExpression="SET s = s + :one", ExpressionAttributeValues={":one": {"N": "1"}})
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key=K, UpdateExpression="SET x = missing + :one", ExpressionAttributeValues={":one": {"N": "1"}})
    assert error_code(e) == "ValidationException"
    assert get(ddb, table) == {"pk": {"S": "k"}, "s": {"S": "x"}}


def test_cannot_update_key(ddb, table):
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key=K, UpdateExpression="SET pk = :v", ExpressionAttributeValues={":v": {"S": "z"}})
    assert error_code(e) == "ValidationException"
    assert "part of the key" in error_message(e)


@pytest.mark.parametrize(
    "expr",
    ["SET a = :v, a = :v", "SET m.x = :v REMOVE m", "SET a = :v REMOVE a", "SET l[0] = :v, l = :v"],
)
def test_overlapping_paths(ddb, table, expr):
    with pytest.raises(ClientError) as e:
        ddb.update_item(TableName=table, Key=K, UpdateExpression=expr, ExpressionAttributeValues={":v": {"N": "1"}})
    assert error_code(e) == "ValidationException"
    assert "overlap" in error_message(e)


def test_return_values(ddb, table):
    base = {"pk": {"S": "k"}, "a": {"N": "1"}, "b": {"S": "keep"}, "m": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}}}
    ddb.put_item(TableName=table, Item=base)
    upd = dict(
        TableName=table,
        Key=K,
        UpdateExpression="SET a = a + :one, c = :c, m.x = :c REMOVE b",
        ExpressionAttributeValues={":one": {"N": "1"}, ":c": {"S": "new"}},
    )
    r = ddb.update_item(ReturnValues="ALL_OLD", **upd)
    assert r["Attributes"] == base
    ddb.put_item(TableName=table, Item=base)
    r = ddb.update_item(ReturnValues="UPDATED_OLD", **upd)
    # Only updated attributes that existed before, with their old values (nested paths projected).
    assert r["Attributes"] == {"a": {"N": "1"}, "b": {"S": "keep"}, "m": {"M": {"x": {"N": "1"}}}}
    ddb.put_item(TableName=table, Item=base)
    r = ddb.update_item(ReturnValues="ALL_NEW", **upd)
    assert r["Attributes"] == {
        "pk": {"S": "k"},
        "a": {"N": "2"},
        "c": {"S": "new"},
        "m": {"M": {"x": {"S": "new"}, "y": {"N": "2"}}},
    }
    ddb.put_item(TableName=table, Item=base)
    r = ddb.update_item(ReturnValues="UPDATED_NEW", **upd)
    assert r["Attributes"] == {"a": {"N": "2"}, "c": {"S": "new"}, "m": {"M": {"x": {"S": "new"}}}}
    ddb.put_item(TableName=table, Item=base)
    r = ddb.update_item(ReturnValues="NONE", **upd)
    assert "Attributes" not in r


def test_update_return_values_on_new_item(ddb, table):
    r = ddb.update_item(
        TableName=table, Key=K, UpdateExpression="SET a = :a", ExpressionAttributeValues={":a": {"N": "1"}},
        ReturnValues="ALL_OLD",
    )
    assert "Attributes" not in r
    r = ddb.update_item(
        TableName=table, Key={"pk": {"S": "k2"}}, UpdateExpression="SET a = :a",
        ExpressionAttributeValues={":a": {"N": "1"}}, ReturnValues="UPDATED_OLD",
    )
    assert "Attributes" not in r


def test_update_item_size_limit(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "a": {"S": "x" * 300_000}})
    with pytest.raises(ClientError) as e:
        ddb.update_item(
            TableName=table, Key=K, UpdateExpression="SET b = :b", ExpressionAttributeValues={":b": {"S": "y" * 200_000}}
        )
    assert error_code(e) == "ValidationException"
    assert "b" not in get(ddb, table)


def test_update_with_condition_on_new_value_names(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "ver": {"N": "1"}})
    ddb.update_item(
        TableName=table,
        Key=K,
        UpdateExpression="SET ver = ver + :one",
        ConditionExpression="ver = :cur",
        ExpressionAttributeValues={":one": {"N": "1"}, ":cur": {"N": "1"}},
    )
    with pytest.raises(ClientError) as e:
        ddb.update_item(
            TableName=table,
            Key=K,
            UpdateExpression="SET ver = ver + :one",
            ConditionExpression="ver = :cur",
            ExpressionAttributeValues={":one": {"N": "1"}, ":cur": {"N": "1"}},
        )
    assert error_code(e) == "ConditionalCheckFailedException"
    assert get(ddb, table)["ver"] == {"N": "2"}
