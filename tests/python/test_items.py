"""Data plane (issue 2): PutItem, GetItem, DeleteItem with every attribute type,
number normalization, ReturnValues, simple projections, size and nesting limits."""

from decimal import Decimal

import pytest
from botocore.exceptions import ClientError

from conftest import canon, error_code


def every_type_item(pk="k"):
    return {
        "pk": {"S": pk},
        "s": {"S": "héllo wörld ✓ 🎉"},
        "n": {"N": "42"},
        "b": {"B": b"\x00\x01\xfe\xff binary"},
        "t": {"BOOL": True},
        "f": {"BOOL": False},
        "z": {"NULL": True},
        "ss": {"SS": ["a", "b", "c"]},
        "ns": {"NS": ["1", "2.5", "-3"]},
        "bs": {"BS": [b"\x01", b"\x02\x03"]},
        "l": {"L": [{"S": "x"}, {"N": "1"}, {"L": [{"BOOL": False}, {"NULL": True}]}, {"M": {}}]},
        "m": {
            "M": {
                "inner": {"M": {"deep": {"SS": ["p", "q"]}, "n": {"N": "-0.5"}}},
                "list": {"L": [{"B": b"zz"}, {"NS": ["7", "8"]}]},
                "empty_list": {"L": []},
                "empty_map": {"M": {}},
            }
        },
        "empty_s": {"S": ""},
        "empty_b": {"B": b""},
    }


def test_put_get_every_type(ddb, table):
    item = every_type_item()
    resp = ddb.put_item(TableName=table, Item=item)
    assert "Attributes" not in resp
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "k"}})["Item"]
    assert canon(got) == canon(item)
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "k"}}, ConsistentRead=True)["Item"]
    assert canon(got) == canon(item)


def test_get_missing_item_has_no_item_key(ddb, table):
    resp = ddb.get_item(TableName=table, Key={"pk": {"S": "nope"}})
    assert "Item" not in resp


def test_put_overwrites_whole_item(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "a": {"S": "1"}, "b": {"S": "2"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "c": {"S": "3"}})
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "k"}})["Item"] == {
        "pk": {"S": "k"},
        "c": {"S": "3"},
    }


@pytest.mark.parametrize(
    "given,expected",
    [
        ("01.50", "1.5"),
        ("100.000", "100"),
        ("-0", "0"),
        ("0.0", "0"),
        ("0.0010", "0.001"),
        ("1E+2", "100"),
        ("5e-3", "0.005"),
        ("-007", "-7"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        ("0.12345678901234567890123456789012345678", "0.12345678901234567890123456789012345678"),
    ],
)
def test_number_normalization(ddb, table, given, expected):
    ddb.put_item(TableName=table, Item={"pk": {"S": "n"}, "v": {"N": given}, "l": {"L": [{"N": given}]}})
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "n"}})["Item"]
    assert got["v"] == {"N": expected}
    assert got["l"] == {"L": [{"N": expected}]}


def test_number_set_normalized(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "n"}, "ns": {"NS": ["1.0", "02", "3.50"]}})
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "n"}})["Item"]
    assert sorted(got["ns"]["NS"], key=Decimal) == ["1", "2", "3.5"]


@pytest.mark.parametrize("value", ["1E+125", "9.9999999999999999999999999999999999999E+125", "1E-130", "-1E-130", "-9.9999999999999999999999999999999999999E+125"])
def test_number_range_extremes_accepted(ddb, table, value):
    ddb.put_item(TableName=table, Item={"pk": {"S": "x"}, "v": {"N": value}})
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "x"}})["Item"]["v"]["N"]
    assert Decimal(got) == Decimal(value)


@pytest.mark.parametrize(
    "value",
    [
        "1E+126",
        "1E-131",
        "123456789012345678901234567890123456789",  # 39 significant digits
        "abc",
        "1.2.3",
        "",
        "NaN",
        "Infinity",
    ],
)
def test_invalid_numbers_rejected(ddb, table, value):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "x"}, "v": {"N": value}})
    assert error_code(e) == "ValidationException"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "x"}})


def test_number_key_normalized(ddb, make_table):
    name = make_table(("id", "N"))
    ddb.put_item(TableName=name, Item={"id": {"N": "1.50"}, "v": {"S": "a"}})
    got = ddb.get_item(TableName=name, Key={"id": {"N": "1.5"}})["Item"]
    assert got == {"id": {"N": "1.5"}, "v": {"S": "a"}}
    # "001.5000" is the same key: the put replaces the item.
    resp = ddb.put_item(
        TableName=name, Item={"id": {"N": "001.5000"}, "v": {"S": "b"}}, ReturnValues="ALL_OLD"
    )
    assert resp["Attributes"] == {"id": {"N": "1.5"}, "v": {"S": "a"}}
    assert ddb.get_item(TableName=name, Key={"id": {"N": "1.5"}})["Item"]["v"] == {"S": "b"}


def test_binary_keys(ddb, make_table):
    name = make_table(("h", "B"), ("r", "B"))
    keys = [(b"\x00", b"\x00"), (b"\x00", b"\xff"), (b"\xff\x00", b"\x01")]
    for h, r in keys:
        ddb.put_item(TableName=name, Item={"h": {"B": h}, "r": {"B": r}, "v": {"B": h + r}})
    for h, r in keys:
        got = ddb.get_item(TableName=name, Key={"h": {"B": h}, "r": {"B": r}})["Item"]
        assert got == {"h": {"B": h}, "r": {"B": r}, "v": {"B": h + r}}


def test_hash_range_items_are_distinct(ddb, table_hr):
    for sk in ["1", "2", "10"]:
        ddb.put_item(TableName=table_hr, Item={"pk": {"S": "p"}, "sk": {"N": sk}, "v": {"S": sk}})
    for sk in ["1", "2", "10"]:
        got = ddb.get_item(TableName=table_hr, Key={"pk": {"S": "p"}, "sk": {"N": sk}})["Item"]
        assert got["v"] == {"S": sk}
    assert "Item" not in ddb.get_item(TableName=table_hr, Key={"pk": {"S": "p"}, "sk": {"N": "3"}})
    assert "Item" not in ddb.get_item(TableName=table_hr, Key={"pk": {"S": "q"}, "sk": {"N": "1"}})


def test_put_return_values(ddb, table):
    first = {"pk": {"S": "k"}, "v": {"N": "1"}, "m": {"M": {"a": {"SS": ["x"]}}}}
    resp = ddb.put_item(TableName=table, Item=first, ReturnValues="ALL_OLD")
    assert "Attributes" not in resp  # nothing was there
    second = {"pk": {"S": "k"}, "v": {"N": "2"}}
    resp = ddb.put_item(TableName=table, Item=second, ReturnValues="ALL_OLD")
    assert canon(resp["Attributes"]) == canon(first)
    resp = ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"N": "3"}}, ReturnValues="NONE")
    assert "Attributes" not in resp
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "k"}})["Item"]["v"] == {"N": "3"}


@pytest.mark.parametrize("rv", ["ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"])
def test_put_unsupported_return_values(ddb, table, rv):
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "k"}}, ReturnValues=rv)
    assert error_code(e) == "ValidationException"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "k"}})


def test_delete_item(ddb, table):
    item = every_type_item("d")
    ddb.put_item(TableName=table, Item=item)
    resp = ddb.delete_item(TableName=table, Key={"pk": {"S": "d"}})
    assert "Attributes" not in resp
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "d"}})
    # Deleting what is not there succeeds.
    resp = ddb.delete_item(TableName=table, Key={"pk": {"S": "d"}})
    assert "Attributes" not in resp


def test_delete_return_values(ddb, table):
    item = every_type_item("d")
    ddb.put_item(TableName=table, Item=item)
    resp = ddb.delete_item(TableName=table, Key={"pk": {"S": "d"}}, ReturnValues="ALL_OLD")
    assert canon(resp["Attributes"]) == canon(item)
    resp = ddb.delete_item(TableName=table, Key={"pk": {"S": "d"}}, ReturnValues="ALL_OLD")
    assert "Attributes" not in resp
    ddb.put_item(TableName=table, Item=item)
    resp = ddb.delete_item(TableName=table, Key={"pk": {"S": "d"}}, ReturnValues="NONE")
    assert "Attributes" not in resp
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "d"}})


@pytest.mark.parametrize("rv", ["ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"])
def test_delete_unsupported_return_values(ddb, table, rv):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}})
    with pytest.raises(ClientError) as e:
        ddb.delete_item(TableName=table, Key={"pk": {"S": "k"}}, ReturnValues=rv)
    assert error_code(e) == "ValidationException"
    assert "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": "k"}})


def test_get_projection_top_level(ddb, table):
    ddb.put_item(TableName=table, Item=every_type_item())
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "k"}}, ProjectionExpression="s, n, absent")["Item"]
    assert got == {"s": {"S": "héllo wörld ✓ 🎉"}, "n": {"N": "42"}}
    got = ddb.get_item(
        TableName=table,
        Key={"pk": {"S": "k"}},
        ProjectionExpression="#k, #t, ss",
        ExpressionAttributeNames={"#k": "pk", "#t": "t"},
    )["Item"]
    assert canon(got) == canon({"pk": {"S": "k"}, "t": {"BOOL": True}, "ss": {"SS": ["a", "b", "c"]}})
    # Nothing matched: an empty item, not a missing one.
    resp = ddb.get_item(TableName=table, Key={"pk": {"S": "k"}}, ProjectionExpression="nothing")
    assert resp.get("Item") == {}


def test_item_exactly_400kb_accepted_one_byte_more_rejected(ddb, table):
    # Item size = UTF-8 lengths of attribute names + values: "pk"(2) + "k"(1) + "d"(1) + payload.
    limit = 400 * 1024
    payload = limit - 4
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "d": {"S": "x" * payload}})
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "k"}})["Item"]
    assert len(got["d"]["S"]) == payload
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "k2"}, "d": {"S": "x" * (payload + 1)}})
    assert error_code(e) == "ValidationException"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "k2"}})


def test_item_size_counts_attribute_names_and_utf8(ddb, table):
    # 3-byte characters: 140000 * 3 = 420000 bytes > 400 KB although only 140000 characters.
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "d": {"S": "€" * 140000}})
    assert error_code(e) == "ValidationException"
    # Attribute names count too: 7 names of 60000 bytes (each under the 64 KB name limit)
    # with 1-byte values = 420010 bytes > 400 KB.
    item = {"pk": {"S": "k"}}
    for i in range(7):
        item[f"{i}" + "n" * 59999] = {"S": "v"}
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item=item)
    assert error_code(e) == "ValidationException"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "k"}})
    # Six of them (360009 bytes) fit.
    del item["6" + "n" * 59999]
    ddb.put_item(TableName=table, Item=item)
    assert len(ddb.get_item(TableName=table, Key={"pk": {"S": "k"}})["Item"]) == 7


def test_attribute_name_length_limits(ddb, table):
    # Attribute names are 1 byte to 64 KB less one byte (DynamoDB refuses 65,536).
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "n" * (64 * 1024): {"S": "v"}})
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "": {"S": "v"}})
    assert error_code(e) == "ValidationException"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "k"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "n" * (64 * 1024 - 1): {"S": "v"}})


def _nested(depth, kind):
    v = {"S": "leaf"}
    for _ in range(depth):
        v = {"M": {"a": v}} if kind == "M" else {"L": [v]}
    return v


@pytest.mark.parametrize("kind", ["M", "L"])
def test_nesting_limit(ddb, table, kind):
    ok = _nested(31, kind)
    ddb.put_item(TableName=table, Item={"pk": {"S": "ok"}, "v": ok})
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "ok"}})["Item"]["v"] == ok
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "deep"}, "v": _nested(33, kind)})
    assert error_code(e) == "ValidationException"
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table, Item={"pk": {"S": "deep"}, "v": _nested(40, kind)})
    assert error_code(e) == "ValidationException"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "deep"}})


def test_empty_values_allowed_outside_keys(ddb, table):
    item = {
        "pk": {"S": "e"},
        "s": {"S": ""},
        "b": {"B": b""},
        "l": {"L": [{"S": ""}]},
        "m": {"M": {"x": {"S": ""}, "y": {"B": b""}}},
    }
    ddb.put_item(TableName=table, Item=item)
    assert canon(ddb.get_item(TableName=table, Key={"pk": {"S": "e"}})["Item"]) == canon(item)


def test_large_binary_roundtrip(ddb, make_table):
    name = make_table(("id", "B"))
    blob = bytes(range(256)) * 1000
    ddb.put_item(TableName=name, Item={"id": {"B": b"\x00key"}, "blob": {"B": blob}})
    got = ddb.get_item(TableName=name, Key={"id": {"B": b"\x00key"}})["Item"]
    assert got["blob"]["B"] == blob


def test_key_size_limits(ddb, table_hr):
    # Partition key up to 2048 bytes, sort key up to 1024 bytes.
    ddb.put_item(TableName=table_hr, Item={"pk": {"S": "p" * 2048}, "sk": {"N": "1"}})
    assert "Item" in ddb.get_item(TableName=table_hr, Key={"pk": {"S": "p" * 2048}, "sk": {"N": "1"}})
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=table_hr, Item={"pk": {"S": "p" * 2049}, "sk": {"N": "1"}})
    assert error_code(e) == "ValidationException"


def test_string_sort_key_size_limit(ddb, make_table):
    name = make_table(("pk", "S"), ("sk", "S"))
    ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"S": "s" * 1024}})
    with pytest.raises(ClientError) as e:
        ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"S": "s" * 1025}})
    assert error_code(e) == "ValidationException"


def test_returns_consumed_capacity_absent_by_default(ddb, table):
    resp = ddb.put_item(TableName=table, Item={"pk": {"S": "k"}})
    assert "ConsumedCapacity" not in resp
