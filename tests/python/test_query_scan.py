"""Query and Scan (issue 3): key conditions, ordering, paging, filters, Select,
projections, parallel scan segments, and the 1 MB page rule."""

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, unique_name

pytestmark = pytest.mark.issue3


@pytest.fixture
def numbers(ddb, table_hr):
    """pk "p": sk 1..20 (numeric sort key, so 10 sorts after 9), pk "q": sk 1..3."""
    for sk in range(1, 21):
        ddb.put_item(
            TableName=table_hr,
            Item={
                "pk": {"S": "p"},
                "sk": {"N": str(sk)},
                "even": {"BOOL": sk % 2 == 0},
                "sq": {"N": str(sk * sk)},
                "m": {"M": {"a": {"N": str(sk)}, "b": {"S": "x"}}},
                "l": {"L": [{"N": "0"}, {"N": str(sk)}]},
            },
        )
    for sk in range(1, 4):
        ddb.put_item(TableName=table_hr, Item={"pk": {"S": "q"}, "sk": {"N": str(sk)}})
    return table_hr


def sks(resp):
    return [int(i["sk"]["N"]) for i in resp["Items"]]


def q(ddb, table, cond, values, **kw):
    return ddb.query(
        TableName=table,
        KeyConditionExpression=cond,
        ExpressionAttributeValues={":p": {"S": "p"}, **values},
        **kw,
    )


def test_query_partition(ddb, numbers):
    r = q(ddb, numbers, "pk = :p", {})
    assert sks(r) == list(range(1, 21))
    assert r["Count"] == 20
    assert r["ScannedCount"] == 20
    assert "LastEvaluatedKey" not in r


@pytest.mark.parametrize(
    "cond,values,expected",
    [
        ("sk = :a", {":a": {"N": "7"}}, [7]),
        ("sk < :a", {":a": {"N": "4"}}, [1, 2, 3]),
        ("sk <= :a", {":a": {"N": "4"}}, [1, 2, 3, 4]),
        ("sk > :a", {":a": {"N": "17"}}, [18, 19, 20]),
        ("sk >= :a", {":a": {"N": "17"}}, [17, 18, 19, 20]),
        ("sk BETWEEN :a AND :b", {":a": {"N": "9"}, ":b": {"N": "11"}}, [9, 10, 11]),
        ("sk BETWEEN :a AND :b", {":a": {"N": "2.5"}, ":b": {"N": "3.5"}}, [3]),
        ("sk = :a", {":a": {"N": "100"}}, []),
    ],
)
def test_query_sort_key_conditions(ddb, numbers, cond, values, expected):
    r = q(ddb, numbers, "pk = :p AND " + cond, values)
    assert sks(r) == expected
    assert r["Count"] == len(expected)
    r = q(ddb, numbers, "pk = :p AND " + cond, values, ScanIndexForward=False)
    assert sks(r) == expected[::-1]


def test_query_key_condition_operands_in_any_order(ddb, numbers):
    r = q(ddb, numbers, "sk BETWEEN :a AND :b AND pk = :p", {":a": {"N": "3"}, ":b": {"N": "5"}})
    assert sks(r) == [3, 4, 5]


def test_query_begins_with_string_sort_key(ddb, make_table):
    name = make_table(("pk", "S"), ("sk", "S"))
    for sk in ["a", "ab", "abc", "abd", "b", "aB", "ab\u00e9"]:
        ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"S": sk}})
    r = ddb.query(
        TableName=name,
        KeyConditionExpression="pk = :p AND begins_with(sk, :pre)",
        ExpressionAttributeValues={":p": {"S": "p"}, ":pre": {"S": "ab"}},
    )
    # Byte order: "ab" < "abc" < "abd" < "abé" (UTF-8 0xC3 > 'd').
    assert [i["sk"]["S"] for i in r["Items"]] == ["ab", "abc", "abd", "ab\u00e9"]
    r = ddb.query(
        TableName=name,
        KeyConditionExpression="#k = :p AND #s BETWEEN :a AND :b",
        ExpressionAttributeNames={"#k": "pk", "#s": "sk"},
        ExpressionAttributeValues={":p": {"S": "p"}, ":a": {"S": "B"}, ":b": {"S": "ab"}},
    )
    assert [i["sk"]["S"] for i in r["Items"]] == ["a", "aB", "ab"]


def test_query_binary_sort_key_order(ddb, make_table):
    name = make_table(("pk", "S"), ("sk", "B"))
    vals = [b"\xff", b"\x00", b"\x00\x00", b"\x7f", b"\x80"]
    for v in vals:
        ddb.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"B": v}})
    r = ddb.query(TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
    assert [i["sk"]["B"] for i in r["Items"]] == sorted(vals)


def test_query_negative_and_fractional_number_order(ddb, table_hr):
    vals = ["-100", "-1.5", "-1", "0", "0.001", "1", "2", "10", "1E+3"]
    for v in reversed(vals):
        ddb.put_item(TableName=table_hr, Item={"pk": {"S": "n"}, "sk": {"N": v}})
    r = ddb.query(TableName=table_hr, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "n"}})
    assert [i["sk"]["N"] for i in r["Items"]] == ["-100", "-1.5", "-1", "0", "0.001", "1", "2", "10", "1000"]


@pytest.mark.parametrize("forward", [True, False])
def test_query_paging(ddb, numbers, forward):
    seen, pages = [], 0
    kw = {"Limit": 7, "ScanIndexForward": forward}
    while True:
        r = q(ddb, numbers, "pk = :p", {}, **kw)
        pages += 1
        assert len(r["Items"]) <= 7
        seen.extend(sks(r))
        lek = r.get("LastEvaluatedKey")
        if not lek:
            break
        # LastEvaluatedKey is the key of the last item returned.
        assert lek == {"pk": {"S": "p"}, "sk": r["Items"][-1]["sk"]}
        kw["ExclusiveStartKey"] = lek
        assert pages < 10
    expected = list(range(1, 21))
    assert seen == (expected if forward else expected[::-1])
    assert pages == 3


def test_query_filter_counts(ddb, numbers):
    r = q(ddb, numbers, "pk = :p", {":t": {"BOOL": True}}, FilterExpression="even = :t")
    assert sks(r) == list(range(2, 21, 2))
    assert r["Count"] == 10
    assert r["ScannedCount"] == 20
    # Limit applies before the filter.
    r = q(ddb, numbers, "pk = :p", {":t": {"BOOL": True}}, FilterExpression="even = :t", Limit=5)
    assert r["ScannedCount"] == 5
    assert sks(r) == [2, 4]
    assert r["LastEvaluatedKey"]["sk"] == {"N": "5"}


def test_query_filter_on_key_is_rejected(ddb, numbers):
    with pytest.raises(ClientError) as e:
        q(ddb, numbers, "pk = :p", {":x": {"N": "3"}}, FilterExpression="sk > :x")
    assert error_code(e) == "ValidationException"


def test_query_select_count(ddb, numbers):
    r = q(ddb, numbers, "pk = :p AND sk > :a", {":a": {"N": "15"}}, Select="COUNT")
    assert "Items" not in r
    assert r["Count"] == 5
    with pytest.raises(ClientError) as e:
        q(ddb, numbers, "pk = :p", {}, Select="COUNT", ProjectionExpression="sk")
    assert error_code(e) == "ValidationException"


def test_query_projection_nested(ddb, numbers):
    r = q(
        ddb, numbers, "pk = :p AND sk = :s", {":s": {"N": "3"}},
        ProjectionExpression="m.a, l[1], #e", ExpressionAttributeNames={"#e": "even"},
    )
    assert r["Items"] == [{"m": {"M": {"a": {"N": "3"}}}, "l": {"L": [{"N": "3"}]}, "even": {"BOOL": False}}]
    r = q(ddb, numbers, "pk = :p AND sk = :s", {":s": {"N": "3"}}, Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="sq")
    assert r["Items"] == [{"sq": {"N": "9"}}]


@pytest.mark.parametrize(
    "cond,values",
    [
        ("sk = :a", {":a": {"N": "1"}}),  # no partition key condition
        ("pk = :p OR sk = :a", {":a": {"N": "1"}}),
        ("pk = :p AND sq = :a", {":a": {"N": "1"}}),  # non-key attribute
        ("pk > :p", {}),  # partition key needs equality
        ("pk = :p AND sk <> :a", {":a": {"N": "1"}}),
        ("pk = :p AND begins_with(sk, :a)", {":a": {"N": "1"}}),  # begins_with on a number
        ("pk = :p AND sk = :a AND sk = :a", {":a": {"N": "1"}}),
        ("pk = :p AND sk = :a", {":a": {"S": "1"}}),  # wrong type for the sort key
    ],
)
def test_query_invalid_key_conditions(ddb, numbers, cond, values):
    with pytest.raises(ClientError) as e:
        q(ddb, numbers, cond, values)
    assert error_code(e) == "ValidationException"


def test_query_missing_table(ddb):
    with pytest.raises(ClientError) as e:
        ddb.query(TableName=unique_name("missing"), KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
    assert error_code(e) == "ResourceNotFoundException"


# --- Scan ----------------------------------------------------------------------------------------


@pytest.fixture
def spread(ddb, table):
    keys = [f"item-{i:03d}" for i in range(120)]
    for i, k in enumerate(keys):
        ddb.put_item(TableName=table, Item={"pk": {"S": k}, "i": {"N": str(i)}, "mod": {"N": str(i % 3)}})
    return table, keys


def _scan_all(ddb, table, **kw):
    items, pages = [], 0
    while True:
        r = ddb.scan(TableName=table, **kw)
        pages += 1
        items.extend(r["Items"])
        if "LastEvaluatedKey" not in r:
            return items, pages
        kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]
        assert pages < 1000


def test_scan_all(ddb, spread):
    table, keys = spread
    r = ddb.scan(TableName=table)
    assert sorted(i["pk"]["S"] for i in r["Items"]) == keys
    assert r["Count"] == r["ScannedCount"] == 120


def test_scan_paging(ddb, spread):
    table, keys = spread
    items, pages = _scan_all(ddb, table, Limit=11)
    got = [i["pk"]["S"] for i in items]
    assert len(got) == len(set(got))
    assert sorted(got) == keys
    assert pages >= 11


def test_scan_filter_and_count(ddb, spread):
    table, keys = spread
    r = ddb.scan(TableName=table, FilterExpression="#m = :z", ExpressionAttributeNames={"#m": "mod"},
                 ExpressionAttributeValues={":z": {"N": "0"}})
    assert sorted(int(i["i"]["N"]) for i in r["Items"]) == list(range(0, 120, 3))
    assert r["Count"] == 40
    assert r["ScannedCount"] == 120
    r = ddb.scan(TableName=table, Select="COUNT", FilterExpression="#m = :z", ExpressionAttributeNames={"#m": "mod"},
                 ExpressionAttributeValues={":z": {"N": "1"}})
    assert r["Count"] == 40
    assert "Items" not in r


@pytest.mark.parametrize("total", [1, 2, 4, 7])
def test_parallel_scan_segments_cover_table_once(ddb, spread, total):
    table, keys = spread
    seen = []
    for seg in range(total):
        items, _ = _scan_all(ddb, table, Segment=seg, TotalSegments=total, Limit=9)
        seen.extend(i["pk"]["S"] for i in items)
    assert len(seen) == len(set(seen)), "an item was returned by two segments"
    assert sorted(seen) == keys


def test_parallel_scan_segments_are_not_all_in_one(ddb, spread):
    table, keys = spread
    counts = [len(_scan_all(ddb, table, Segment=s, TotalSegments=4)[0]) for s in range(4)]
    assert sum(counts) == 120
    assert max(counts) < 120, counts


@pytest.mark.parametrize(
    "kw",
    [
        dict(Segment=4, TotalSegments=4),
        dict(Segment=0),
        dict(TotalSegments=2),
    ],
)
def test_parallel_scan_validation(ddb, table, kw):
    with pytest.raises(ClientError) as e:
        ddb.scan(TableName=table, **kw)
    assert error_code(e) == "ValidationException"


def test_scan_projection_nested(ddb, numbers):
    items, _ = _scan_all(ddb, numbers, ProjectionExpression="pk, m.b",
                         FilterExpression="sk = :s", ExpressionAttributeValues={":s": {"N": "4"}})
    assert items == [{"pk": {"S": "p"}, "m": {"M": {"b": {"S": "x"}}}}]


# --- 1 MB page rule ------------------------------------------------------------------------------


def _fill_big(ddb, table, n=30, size=100_000):
    for i in range(n):
        ddb.put_item(TableName=table, Item={"pk": {"S": "big"}, "sk": {"N": str(i)}, "d": {"S": chr(65 + i % 26) * size}})


def test_query_1mb_page_limit(ddb, table_hr):
    _fill_big(ddb, table_hr)
    kw = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "big"}}}
    r = ddb.query(TableName=table_hr, **kw)
    # ~100 KB items: a 1 MB page holds about 10 of them, not all 30.
    assert "LastEvaluatedKey" in r
    assert 5 <= r["Count"] <= 11, r["Count"]
    seen = [int(i["sk"]["N"]) for i in r["Items"]]
    while "LastEvaluatedKey" in r:
        r = ddb.query(TableName=table_hr, ExclusiveStartKey=r["LastEvaluatedKey"], **kw)
        assert r["Count"] <= 11
        seen.extend(int(i["sk"]["N"]) for i in r["Items"])
    assert seen == list(range(30))


def test_scan_1mb_page_limit_applies_before_filter(ddb, table_hr):
    _fill_big(ddb, table_hr)
    # The filter matches nothing, yet the scan still stops after ~1 MB read.
    r = ddb.scan(TableName=table_hr, FilterExpression="attribute_exists(nope)")
    assert r["Count"] == 0
    assert "LastEvaluatedKey" in r
    assert 5 <= r["ScannedCount"] <= 11, r["ScannedCount"]
    r = ddb.scan(TableName=table_hr, Select="COUNT")
    assert "LastEvaluatedKey" in r
    assert 5 <= r["Count"] <= 11
