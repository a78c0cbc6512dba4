"""PartiQL (issue 17): ExecuteStatement, BatchExecuteStatement and ExecuteTransaction through
boto3, asserting DynamoDB's answers."""

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, error_message, raw_call

TARGET = "DynamoDB_20120810."


def S(v):
    return {"S": v}


def N(v):
    return {"N": str(v)}


def seed(ddb, table, n=5, pk="a"):
    for i in range(n):
        ddb.put_item(TableName=table, Item={"pk": S(pk), "sk": N(i), "v": N(i * 10), "tag": S(f"t{i % 2}")})


def run(ddb, statement, params=None, **kw):
    if params is not None:
        kw["Parameters"] = params
    return ddb.execute_statement(Statement=statement, **kw)


# ---- SELECT ----------------------------------------------------------------------------------


def test_select_with_key_condition_filter_and_projection(ddb, table_hr):
    seed(ddb, table_hr)
    seed(ddb, table_hr, pk="b")
    resp = run(ddb, f'SELECT sk, v FROM "{table_hr}" WHERE pk = ? AND sk >= 1 AND tag = \'t1\'', [S("a")])
    assert resp["Items"] == [{"sk": N(1), "v": N(10)}, {"sk": N(3), "v": N(30)}]
    assert "NextToken" not in resp


def test_select_order_by_sort_key_descending(ddb, table_hr):
    seed(ddb, table_hr)
    resp = run(ddb, f'SELECT sk FROM "{table_hr}" WHERE pk = \'a\' ORDER BY sk DESC')
    assert [i["sk"]["N"] for i in resp["Items"]] == ["4", "3", "2", "1", "0"]


def test_select_without_key_condition_is_a_full_scan(ddb, table_hr):
    seed(ddb, table_hr)
    seed(ddb, table_hr, pk="b")
    resp = run(ddb, f'SELECT * FROM "{table_hr}" WHERE v > 25')
    got = sorted((i["pk"]["S"], i["sk"]["N"]) for i in resp["Items"])
    assert got == [("a", "3"), ("a", "4"), ("b", "3"), ("b", "4")]
    assert len(run(ddb, f'SELECT * FROM "{table_hr}"')["Items"]) == 10


def test_select_functions_in_and_is_missing(ddb, table_hr):
    ddb.put_item(TableName=table_hr, Item={"pk": S("x"), "sk": N(1), "name": S("apple"), "l": {"L": [N(1), N(2)]}})
    ddb.put_item(TableName=table_hr, Item={"pk": S("x"), "sk": N(2), "name": S("banana")})
    t = table_hr
    assert run(ddb, f"SELECT sk FROM \"{t}\" WHERE pk = 'x' AND begins_with(name, 'ap')")["Items"] == [{"sk": N(1)}]
    assert run(ddb, f"SELECT sk FROM \"{t}\" WHERE pk = 'x' AND l IS MISSING")["Items"] == [{"sk": N(2)}]
    assert run(ddb, f"SELECT sk FROM \"{t}\" WHERE pk = 'x' AND l IS NOT MISSING")["Items"] == [{"sk": N(1)}]
    assert run(ddb, f"SELECT sk FROM \"{t}\" WHERE pk = 'x' AND contains(name, 'nan')")["Items"] == [{"sk": N(2)}]
    assert run(ddb, f"SELECT sk FROM \"{t}\" WHERE pk = 'x' AND size(l) = 2")["Items"] == [{"sk": N(1)}]
    assert run(ddb, f"SELECT sk FROM \"{t}\" WHERE name IN ['banana', 'cherry']")["Items"] == [{"sk": N(2)}]
    assert run(ddb, f"SELECT l[1] FROM \"{t}\" WHERE pk = 'x' AND sk = 1")["Items"] == [{"l": {"L": [N(2)]}}]
    ddb.put_item(TableName=t, Item={"pk": S("y"), "sk": N(1), "m": {"M": {"inner": S("deep"), "other": S("no")}}})
    # a nested path is named by its leaf, as DynamoDB answers it
    assert run(ddb, f"SELECT pk, m.inner FROM \"{t}\" WHERE pk = 'y'")["Items"] == [{"pk": S("y"), "inner": S("deep")}]


def test_select_from_an_index(ddb, make_table):
    t = make_table(
        ("pk", "S"),
        None,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "g", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[
            {"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}], "Projection": {"ProjectionType": "ALL"}}
        ],
    )
    for i in range(3):
        ddb.put_item(TableName=t, Item={"pk": S(f"p{i}"), "g": S("blue" if i else "red")})
    resp = run(ddb, f'SELECT pk FROM "{t}"."by-g" WHERE g = ?', [S("blue")])
    assert sorted(i["pk"]["S"] for i in resp["Items"]) == ["p1", "p2"]
    with pytest.raises(ClientError) as e:
        run(ddb, f'SELECT * FROM "{t}"."nope" WHERE g = \'x\'')
    assert error_code(e) == "ValidationException"


def test_limit_and_next_token_page_through(ddb, table_hr):
    seed(ddb, table_hr, n=5)
    stmt = f"SELECT sk FROM \"{table_hr}\" WHERE pk = 'a'"
    seen, token, pages = [], None, 0
    while True:
        kw = {"Limit": 2}
        if token:
            kw["NextToken"] = token
        resp = run(ddb, stmt, **kw)
        pages += 1
        seen += [i["sk"]["N"] for i in resp["Items"]]
        token = resp.get("NextToken")
        if not token:
            break
    assert seen == ["0", "1", "2", "3", "4"]
    assert pages == 3
    first = run(ddb, stmt, Limit=2)["NextToken"]
    with pytest.raises(ClientError) as e:
        run(ddb, f"SELECT * FROM \"{table_hr}\" WHERE pk = 'b'", NextToken=first)
    assert error_code(e) == "ValidationException"
    assert error_message(e) == "NextToken does not match request"


def test_consistent_read_and_consumed_capacity(ddb, table_hr):
    seed(ddb, table_hr, n=1)
    resp = run(ddb, f"SELECT * FROM \"{table_hr}\" WHERE pk = 'a'", ConsistentRead=True, ReturnConsumedCapacity="TOTAL")
    assert resp["ConsumedCapacity"]["TableName"] == table_hr
    assert resp["ConsumedCapacity"]["CapacityUnits"] == 1.0


def test_select_missing_table(ddb):
    with pytest.raises(ClientError) as e:
        run(ddb, 'SELECT * FROM "no-such-table"')
    assert error_code(e) == "ResourceNotFoundException"


# ---- INSERT / UPDATE / DELETE ----------------------------------------------------------------


def test_insert_writes_an_item_and_refuses_an_existing_key(ddb, table_hr):
    resp = run(ddb, f"INSERT INTO \"{table_hr}\" VALUE {{'pk': ?, 'sk': 1, 'tags': <<'x', 'y'>>, 'm': {{'n': [1, TRUE, NULL]}}}}", [S("k")])
    assert resp["Items"] == []
    item = ddb.get_item(TableName=table_hr, Key={"pk": S("k"), "sk": N(1)})["Item"]
    assert item["tags"] == {"SS": ["x", "y"]}
    assert item["m"] == {"M": {"n": {"L": [N(1), {"BOOL": True}, {"NULL": True}]}}}
    with pytest.raises(ClientError) as e:
        run(ddb, f"INSERT INTO \"{table_hr}\" VALUE {{'pk': 'k', 'sk': 1}}")
    assert error_code(e) == "DuplicateItemException"
    assert error_message(e) == "Duplicate primary key exists in table"


def test_update_set_remove_and_set_functions(ddb, table_hr):
    ddb.put_item(TableName=table_hr, Item={"pk": S("u"), "sk": N(1), "n": N(1), "l": {"L": [N(1)]}, "s": {"SS": ["a", "b"]}, "gone": S("x")})
    resp = run(
        ddb,
        f"UPDATE \"{table_hr}\" SET n = n + 5 SET l = list_append(l, [?]) SET s = set_add(s, <<'c'>>) "
        f"SET s2 = 'new' REMOVE gone WHERE pk = 'u' AND sk = 1 RETURNING ALL NEW *",
        [N(2)],
    )
    expected = {"pk": S("u"), "sk": N(1), "n": N(6), "l": {"L": [N(1), N(2)]}, "s": {"SS": ["a", "b", "c"]}, "s2": S("new")}
    assert resp["Items"] == [expected]
    run(ddb, f"UPDATE \"{table_hr}\" SET s = set_delete(s, <<'a'>>) WHERE pk = 'u' AND sk = 1")
    item = ddb.get_item(TableName=table_hr, Key={"pk": S("u"), "sk": N(1)})["Item"]
    assert item["s"] == {"SS": ["b", "c"]}


def test_update_with_condition_and_missing_item(ddb, table_hr):
    ddb.put_item(TableName=table_hr, Item={"pk": S("c"), "sk": N(1), "n": N(1)})
    with pytest.raises(ClientError) as e:
        run(ddb, f"UPDATE \"{table_hr}\" SET n = 2 WHERE pk = 'c' AND sk = 1 AND n > 5", ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert error_code(e) == "ConditionalCheckFailedException"
    assert e.value.response["Item"] == {"pk": S("c"), "sk": N(1), "n": N(1)}
    with pytest.raises(ClientError) as e:
        run(ddb, f"UPDATE \"{table_hr}\" SET n = 2 WHERE pk = 'nobody' AND sk = 1")
    assert error_code(e) == "ConditionalCheckFailedException"
    assert ddb.get_item(TableName=table_hr, Key={"pk": S("nobody"), "sk": N(1)}).get("Item") is None


def test_writes_without_the_full_key_are_refused(ddb, table_hr):
    for stmt in [
        f"UPDATE \"{table_hr}\" SET n = 1 WHERE pk = 'a'",
        f"DELETE FROM \"{table_hr}\" WHERE pk = 'a'",
        f"DELETE FROM \"{table_hr}\" WHERE pk = 'a' AND sk > 1",
    ]:
        with pytest.raises(ClientError) as e:
            run(ddb, stmt)
        assert error_code(e) == "ValidationException", stmt
        assert error_message(e) == "Where clause does not contain a mandatory equality on all key attributes"


def test_delete_with_returning_and_condition(ddb, table_hr):
    seed(ddb, table_hr, n=2)
    with pytest.raises(ClientError) as e:
        run(ddb, f"DELETE FROM \"{table_hr}\" WHERE pk = 'a' AND sk = 1 AND v = 99")
    assert error_code(e) == "ConditionalCheckFailedException"
    # a missing item is a silent no-op, whatever the rest of WHERE says
    assert run(ddb, f"DELETE FROM \"{table_hr}\" WHERE pk = 'nobody' AND sk = 1 AND v = 99")["Items"] == []
    assert run(ddb, f"DELETE FROM \"{table_hr}\" WHERE pk = 'nobody' AND sk = 1 RETURNING ALL OLD *")["Items"] == []
    resp = run(ddb, f"DELETE FROM \"{table_hr}\" WHERE pk = 'a' AND sk = 1 RETURNING ALL OLD *")
    assert resp["Items"] == [{"pk": S("a"), "sk": N(1), "v": N(10), "tag": S("t1")}]
    assert ddb.get_item(TableName=table_hr, Key={"pk": S("a"), "sk": N(1)}).get("Item") is None


# ---- errors ----------------------------------------------------------------------------------


def test_malformed_statement_and_parameter_mismatch(ddb, table_hr):
    with pytest.raises(ClientError) as e:
        run(ddb, f'SELEC * FROM "{table_hr}"')
    assert error_code(e) == "ValidationException"
    assert error_message(e).startswith("Statement wasn't well formed, can't be processed:")
    with pytest.raises(ClientError) as e:
        run(ddb, f'SELECT * FROM "{table_hr}" WHERE pk = ?')
    assert error_code(e) == "ValidationException"
    assert error_message(e) == "Number of parameters in request and statement don't match."


def test_unknown_operation_names_itself(endpoint):
    r = raw_call(endpoint, TARGET + "FlyToTheMoon", {})
    assert r.status_code == 400
    body = r.json()
    assert body["__type"].endswith("#UnknownOperationException")
    assert "FlyToTheMoon" in body["message"]


# ---- BatchExecuteStatement -------------------------------------------------------------------


def test_batch_members_succeed_or_fail_on_their_own(ddb, table_hr):
    ddb.put_item(TableName=table_hr, Item={"pk": S("dup"), "sk": N(1)})
    resp = ddb.batch_execute_statement(
        Statements=[
            {"Statement": f"INSERT INTO \"{table_hr}\" VALUE {{'pk': ?, 'sk': 1}}", "Parameters": [S("new")]},
            {"Statement": f"INSERT INTO \"{table_hr}\" VALUE {{'pk': 'dup', 'sk': 1}}"},
            {"Statement": f"UPDATE \"{table_hr}\" SET x = 1 WHERE pk = 'dup'"},
            {"Statement": f"DELETE FROM \"{table_hr}\" WHERE pk = 'dup' AND sk = 1"},
        ]
    )
    r = resp["Responses"]
    assert len(r) == 4
    assert "Error" not in r[0] and r[0]["TableName"] == table_hr
    assert r[1]["Error"]["Code"] == "DuplicateItem"
    assert r[2]["Error"]["Code"] == "ValidationError"
    assert "Error" not in r[3]
    assert ddb.get_item(TableName=table_hr, Key={"pk": S("new"), "sk": N(1)}).get("Item") is not None
    assert ddb.get_item(TableName=table_hr, Key={"pk": S("dup"), "sk": N(1)}).get("Item") is None


def test_batch_reads(ddb, table_hr):
    seed(ddb, table_hr, n=2)
    resp = ddb.batch_execute_statement(
        Statements=[
            {"Statement": f"SELECT v FROM \"{table_hr}\" WHERE pk = 'a' AND sk = ?", "Parameters": [N(1)]},
            {"Statement": f"SELECT * FROM \"{table_hr}\" WHERE pk = 'zzz' AND sk = 1"},
            {"Statement": f"SELECT * FROM \"{table_hr}\" WHERE pk = 'a'"},
        ]
    )
    r = resp["Responses"]
    assert r[0] == {"TableName": table_hr, "Item": {"v": N(10)}}
    assert r[1] == {"TableName": table_hr}
    assert r[2]["Error"]["Code"] == "ValidationError"


# ---- ExecuteTransaction ----------------------------------------------------------------------


def test_transaction_is_all_or_nothing(ddb, table_hr):
    ddb.put_item(TableName=table_hr, Item={"pk": S("t"), "sk": N(1), "n": N(1)})
    ddb.put_item(TableName=table_hr, Item={"pk": S("t"), "sk": N(3)})
    with pytest.raises(ClientError) as e:
        ddb.execute_transaction(
            TransactStatements=[
                {"Statement": f"UPDATE \"{table_hr}\" SET n = n + 1 WHERE pk = 't' AND sk = 1"},
                {"Statement": f"INSERT INTO \"{table_hr}\" VALUE {{'pk': 't', 'sk': 3}}"},
            ]
        )
    assert error_code(e) == "TransactionCanceledException"
    reasons = e.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "DuplicateItem"]
    assert ddb.get_item(TableName=table_hr, Key={"pk": S("t"), "sk": N(1)})["Item"]["n"] == N(1)

    ddb.execute_transaction(
        TransactStatements=[
            {"Statement": f"UPDATE \"{table_hr}\" SET n = n + 1 WHERE pk = 't' AND sk = 1"},
            {"Statement": f"INSERT INTO \"{table_hr}\" VALUE {{'pk': 't', 'sk': ?}}", "Parameters": [N(2)]},
            {"Statement": f"DELETE FROM \"{table_hr}\" WHERE pk = 'gone' AND sk = 1"},
        ]
    )
    assert ddb.get_item(TableName=table_hr, Key={"pk": S("t"), "sk": N(1)})["Item"]["n"] == N(2)
    assert ddb.get_item(TableName=table_hr, Key={"pk": S("t"), "sk": N(2)}).get("Item") is not None


def test_transaction_exists_is_a_condition_check(ddb, table_hr):
    ddb.put_item(TableName=table_hr, Item={"pk": S("acct"), "sk": N(0), "balance": N(10)})
    check = {"Statement": f"EXISTS(SELECT * FROM \"{table_hr}\" WHERE pk = 'acct' AND sk = 0 AND balance >= ?)"}
    write = {"Statement": f"INSERT INTO \"{table_hr}\" VALUE {{'pk': 'order', 'sk': 1}}"}
    with pytest.raises(ClientError) as e:
        ddb.execute_transaction(TransactStatements=[dict(check, Parameters=[N(50)]), write])
    assert [r["Code"] for r in e.value.response["CancellationReasons"]] == ["ConditionalCheckFailed", "None"]
    assert ddb.get_item(TableName=table_hr, Key={"pk": S("order"), "sk": N(1)}).get("Item") is None
    ddb.execute_transaction(TransactStatements=[dict(check, Parameters=[N(5)]), write])
    assert ddb.get_item(TableName=table_hr, Key={"pk": S("order"), "sk": N(1)}).get("Item") is not None
    with pytest.raises(ClientError) as e:
        run(ddb, check["Statement"], [N(5)])
    assert error_code(e) == "ValidationException"


def test_read_transaction(ddb, table_hr):
    seed(ddb, table_hr, n=2)
    resp = ddb.execute_transaction(
        TransactStatements=[
            {"Statement": f"SELECT v FROM \"{table_hr}\" WHERE pk = 'a' AND sk = 0"},
            {"Statement": f"SELECT * FROM \"{table_hr}\" WHERE pk = 'none' AND sk = 0"},
        ]
    )
    assert resp["Responses"] == [{"Item": {"v": N(0)}}, {}]


def test_transaction_refuses_mixed_reads_and_writes(ddb, table_hr):
    with pytest.raises(ClientError) as e:
        ddb.execute_transaction(
            TransactStatements=[
                {"Statement": f"SELECT * FROM \"{table_hr}\" WHERE pk = 'a' AND sk = 0"},
                {"Statement": f"DELETE FROM \"{table_hr}\" WHERE pk = 'a' AND sk = 0"},
            ]
        )
    assert error_code(e) == "ValidationException"


def test_hostile_statements_are_refused_and_the_server_lives(ddb, table_hr):
    too_long = f'SELECT * FROM "{table_hr}" WHERE a = \'' + "x" * 9000 + "'"
    deep = f'SELECT * FROM "{table_hr}" WHERE ' + "(" * 4000 + "a = 1" + ")" * 4000
    for stmt in [too_long, deep[:8000]]:
        with pytest.raises(ClientError) as e:
            run(ddb, stmt)
        assert error_code(e) == "ValidationException"
    assert run(ddb, f'SELECT * FROM "{table_hr}"')["Items"] == []


def test_update_returning_modified_projects_the_changed_paths(ddb, table):
    def upd(pk, item, stmt):
        ddb.put_item(TableName=table, Item=dict(item, pk=S(pk)))
        action, returning = stmt.split(" RETURNING ")
        return run(ddb, f"UPDATE \"{table}\" {action} WHERE pk = '{pk}' RETURNING {returning}")["Items"]

    nested = {"profile": {"M": {"sub": S("old"), "sib": S("keep")}}}
    assert upd("n1", nested, "SET profile.sub = 'new' RETURNING MODIFIED NEW *") == [{"profile": {"M": {"sub": S("new")}}}]
    assert upd("n2", nested, "SET profile.sub = 'new' RETURNING MODIFIED OLD *") == [{"profile": {"M": {"sub": S("old")}}}]
    flat = {"data": S("old"), "keep": S("same")}
    assert upd("f1", flat, "REMOVE data RETURNING MODIFIED NEW *") == []
    assert upd("f2", flat, "REMOVE data RETURNING MODIFIED OLD *") == [{"data": S("old")}]
    assert upd("f3", {"keep": S("same")}, "SET data = 'new' RETURNING MODIFIED OLD *") == []
    tags = {"tags": {"L": [S("a"), S("b"), S("c")]}}
    assert upd("l1", tags, "SET tags[2] = 'y', tags[0] = 'x' RETURNING MODIFIED NEW *") == [{"tags": {"L": [S("x"), S("y")]}}]
    assert upd("l2", tags, "REMOVE tags[1] RETURNING MODIFIED NEW *") == [{"tags": {"L": [S("c")]}}]
    assert upd("l3", tags, "SET tags[5] = 'z' RETURNING MODIFIED NEW *") == []


def test_return_values_on_condition_check_failure_in_transactions_and_batches(ddb, table_hr):
    ddb.put_item(TableName=table_hr, Item={"pk": S("r"), "sk": N(1), "n": N(1)})
    stmt = f"UPDATE \"{table_hr}\" SET n = 5 WHERE pk = 'r' AND sk = 1 AND n > 3"
    with pytest.raises(ClientError) as e:
        ddb.execute_transaction(TransactStatements=[{"Statement": stmt, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}])
    reason = e.value.response["CancellationReasons"][0]
    assert reason["Code"] == "ConditionalCheckFailed"
    assert reason["Item"] == {"pk": S("r"), "sk": N(1), "n": N(1)}
    resp = ddb.batch_execute_statement(Statements=[{"Statement": stmt, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}])
    err = resp["Responses"][0]["Error"]
    assert err["Code"] == "ConditionalCheckFailed"
    assert err["Item"] == {"pk": S("r"), "sk": N(1), "n": N(1)}


def test_batch_refuses_mixed_reads_and_writes_and_counts_capacity(ddb, table_hr):
    with pytest.raises(ClientError) as e:
        ddb.batch_execute_statement(
            Statements=[
                {"Statement": f"SELECT * FROM \"{table_hr}\" WHERE pk = 'a' AND sk = 0"},
                {"Statement": f"DELETE FROM \"{table_hr}\" WHERE pk = 'a' AND sk = 0"},
            ]
        )
    assert error_code(e) == "ValidationException"
    resp = ddb.batch_execute_statement(
        Statements=[{"Statement": f"INSERT INTO \"{table_hr}\" VALUE {{'pk': 'c', 'sk': {i}}}"} for i in range(3)],
        ReturnConsumedCapacity="TOTAL",
    )
    assert all("Error" not in r for r in resp["Responses"])
    assert resp["ConsumedCapacity"] == [{"TableName": table_hr, "CapacityUnits": 3.0}]


# ---- several partitions: pk IN [...] and pk = a OR pk = b ------------------------------------------
# DynamoDB runs these as one Query per partition key value (not a Scan): IN reads its partitions in
# key order, each once; OR in the order written. Checked against DynamoDB Local 3.3's answers.


def keys_of(items):
    return [(i["pk"]["S"], int(i["sk"]["N"])) for i in items]


def test_in_on_the_partition_key_queries_each_partition_in_key_order(ddb, table_hr):
    for pk in ("c", "a", "d", "b"):
        seed(ddb, table_hr, n=2, pk=pk)
    resp = run(ddb, f"SELECT pk, sk FROM \"{table_hr}\" WHERE pk IN ['c', 'a', 'b', 'a']")
    assert keys_of(resp["Items"]) == [("a", 0), ("a", 1), ("b", 0), ("b", 1), ("c", 0), ("c", 1)]
    # A sort key condition applies to each partition. ORDER BY pk DESC reverses the partitions,
    # ORDER BY sk DESC the items of each.
    resp = run(ddb, f"SELECT pk, sk FROM \"{table_hr}\" WHERE pk IN [?, ?] AND sk > 0", [S("d"), S("a")])
    assert keys_of(resp["Items"]) == [("a", 1), ("d", 1)]
    resp = run(ddb, f"SELECT pk, sk FROM \"{table_hr}\" WHERE pk IN ['a', 'c'] ORDER BY sk DESC")
    assert keys_of(resp["Items"]) == [("a", 1), ("a", 0), ("c", 1), ("c", 0)]
    resp = run(ddb, f"SELECT pk, sk FROM \"{table_hr}\" WHERE pk IN ['a', 'c'] ORDER BY pk DESC")
    assert keys_of(resp["Items"]) == [("c", 0), ("c", 1), ("a", 0), ("a", 1)]
    resp = run(ddb, f"SELECT pk, sk FROM \"{table_hr}\" WHERE pk = 'a' ORDER BY pk DESC")
    assert keys_of(resp["Items"]) == [("a", 0), ("a", 1)]
    # A filter on another attribute applies to each partition.
    resp = run(ddb, f"SELECT pk, sk FROM \"{table_hr}\" WHERE pk IN ['a', 'b'] AND tag = 't1'")
    assert keys_of(resp["Items"]) == [("a", 1), ("b", 1)]


def test_or_of_partition_key_equalities_queries_each_partition(ddb, table_hr):
    for pk in ("a", "b", "c"):
        seed(ddb, table_hr, n=2, pk=pk)
    resp = run(ddb, f"SELECT pk, sk FROM \"{table_hr}\" WHERE pk = ? OR pk = ?", [S("c"), S("a")])
    assert sorted(keys_of(resp["Items"])) == [("a", 0), ("a", 1), ("c", 0), ("c", 1)]
    # Each partition's items in sort key order, one partition after the other.
    items = keys_of(resp["Items"])
    assert items[0][0] == items[1][0] and items[0][1] < items[1][1]


def test_in_pages_across_partitions_and_counts_each_querys_capacity(ddb, table_hr):
    for pk in ("a", "b", "c"):
        seed(ddb, table_hr, n=3, pk=pk)
    statement = f"SELECT pk, sk FROM \"{table_hr}\" WHERE pk IN ['c', 'b', 'a']"
    seen, kw, pages = [], {}, 0
    while True:
        resp = run(ddb, statement, Limit=2, **kw)
        pages += 1
        assert len(resp["Items"]) <= 2
        seen += keys_of(resp["Items"])
        if "NextToken" not in resp:
            break
        kw = {"NextToken": resp["NextToken"]}
    assert seen == [(p, s) for p in "abc" for s in range(3)]
    assert pages >= 5
    # Three partitions read: three Queries, each at least half a read unit (eventually
    # consistent), never the Scan of the whole table.
    resp = run(ddb, statement, ReturnConsumedCapacity="TOTAL")
    assert resp["ConsumedCapacity"]["TableName"] == table_hr
    assert resp["ConsumedCapacity"]["CapacityUnits"] == 1.5
    resp = run(ddb, statement, ReturnConsumedCapacity="TOTAL", ConsistentRead=True)
    assert resp["ConsumedCapacity"]["CapacityUnits"] == 3.0
    # A NextToken of another statement is refused.
    first = run(ddb, statement, Limit=1)
    with pytest.raises(ClientError) as e:
        run(ddb, f"SELECT pk, sk FROM \"{table_hr}\" WHERE pk IN ['a']", NextToken=first["NextToken"])
    assert error_code(e) == "ValidationException"


def test_in_takes_at_most_100_operands(ddb, table_hr):
    values = ", ".join(f"'v{i}'" for i in range(100))
    assert run(ddb, f"SELECT * FROM \"{table_hr}\" WHERE pk IN [{values}]")["Items"] == []
    values = ", ".join(f"'v{i}'" for i in range(101))
    for where in (f"pk IN [{values}]", f"v IN [{values}]"):
        with pytest.raises(ClientError) as e:
            run(ddb, f"SELECT * FROM \"{table_hr}\" WHERE {where}")
        assert error_code(e) == "ValidationException"
        assert error_message(e) == "The IN operator is provided with too many operands; number of operands: 101"
