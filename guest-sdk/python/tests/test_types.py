from decimal import Decimal

import pytest

from tarn.types import Binary, deserialize, deserialize_item, serialize, serialize_item


def test_every_type_as_boto3_maps_it():
    item = {
        "s": "a", "n": 3, "d": Decimal("1.50"), "t": True, "none": None, "b": b"\x00\x01",
        "ss": {"x", "y"}, "ns": {1, Decimal("2.5")}, "bs": {b"a"}, "l": [1, "two", [None]],
        "m": {"k": {"deep": False}},
    }
    got = serialize_item(item)
    assert got["s"] == {"S": "a"}
    assert got["n"] == {"N": "3"}
    assert got["d"] == {"N": "1.50"}
    assert got["t"] == {"BOOL": True}
    assert got["none"] == {"NULL": True}
    assert got["b"] == {"B": "AAE="}
    assert got["ss"] == {"SS": ["x", "y"]}
    assert sorted(got["ns"]["NS"]) == ["1", "2.5"]
    assert got["bs"] == {"BS": ["YQ=="]}
    assert got["l"] == {"L": [{"N": "1"}, {"S": "two"}, {"L": [{"NULL": True}]}]}
    assert got["m"] == {"M": {"k": {"M": {"deep": {"BOOL": False}}}}}
    back = deserialize_item(got)
    assert back["n"] == Decimal(3) and isinstance(back["n"], Decimal)
    assert back["b"] == b"\x00\x01" and isinstance(back["b"], Binary)
    assert back["ns"] == {Decimal(1), Decimal("2.5")}
    assert back["bs"] == {Binary(b"a")}
    assert back["l"] == [Decimal(1), "two", [None]]
    assert back["m"] == {"k": {"deep": False}}


def test_numbers_stay_exact():
    big = Decimal("12345678901234567890123456789.012345678")
    assert serialize(big) == {"N": "12345678901234567890123456789.012345678"}
    assert deserialize({"N": "0.1234567890123456789"}) == Decimal("0.1234567890123456789")
    assert serialize(10**37) == {"N": str(10**37)}


@pytest.mark.parametrize("bad", [1.5, float("nan"), Decimal("NaN"), Decimal("Infinity"), set(), {1, "a"}, object(),
                                 {1: "non-string key"}, Decimal("1" * 39), 10**40 + 1])
def test_refused_values(bad):
    with pytest.raises(TypeError):
        serialize(bad)


def test_items_are_dicts():
    with pytest.raises(TypeError):
        serialize_item([1])
    with pytest.raises(TypeError):
        deserialize({"X": 1})
    with pytest.raises(TypeError):
        deserialize({"S": "a", "N": "1"})


def test_binary():
    assert Binary(b"a") == b"a" and Binary(bytearray(b"a")) == Binary(b"a")
    assert bytes(Binary(b"z")) == b"z"
    with pytest.raises(TypeError):
        Binary("text")
