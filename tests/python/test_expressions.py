"""Expression validation errors (issue 3): every expression-taking operation reports
DynamoDB's ValidationException for unused/missing names and values, reserved words,
syntax errors and invalid functions — and changes nothing."""

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, error_message

pytestmark = pytest.mark.issue3

K = {"pk": {"S": "k"}}


def _validation(call, *fragments):
    with pytest.raises(ClientError) as e:
        call()
    assert error_code(e) == "ValidationException", e.value.response["Error"]
    msg = error_message(e)
    for f in fragments:
        assert f in msg, msg
    return msg


@pytest.fixture
def seeded(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k"}, "a": {"N": "1"}})
    return table


def _unchanged(ddb, table):
    assert ddb.get_item(TableName=table, Key=K)["Item"] == {"pk": {"S": "k"}, "a": {"N": "1"}}


def test_unused_value(ddb, seeded):
    _validation(
        lambda: ddb.update_item(
            TableName=seeded, Key=K, UpdateExpression="SET a = :a",
            ExpressionAttributeValues={":a": {"N": "2"}, ":v": {"N": "3"}},
        ),
        "unused",
        ":v",
    )
    _validation(
        lambda: ddb.get_item(TableName=seeded, Key=K, ProjectionExpression="a", ExpressionAttributeValues={":v": {"N": "3"}}),
    )
    _unchanged(ddb, seeded)


def test_unused_name(ddb, seeded):
    _validation(
        lambda: ddb.put_item(
            TableName=seeded, Item={"pk": {"S": "k"}, "a": {"N": "5"}},
            ConditionExpression="attribute_exists(a)", ExpressionAttributeNames={"#n": "a"},
        ),
        "unused",
        "#n",
    )
    _unchanged(ddb, seeded)


def test_missing_value_and_name(ddb, seeded):
    _validation(
        lambda: ddb.update_item(TableName=seeded, Key=K, UpdateExpression="SET a = :missing"),
        ":missing",
    )
    _validation(
        lambda: ddb.update_item(
            TableName=seeded, Key=K, UpdateExpression="SET #missing = :v", ExpressionAttributeValues={":v": {"N": "1"}}
        ),
        "#missing",
    )
    _unchanged(ddb, seeded)


@pytest.mark.parametrize("word", ["status", "name", "data", "size", "year", "comment"])
def test_reserved_word(ddb, seeded, word):
    _validation(
        lambda: ddb.update_item(
            TableName=seeded, Key=K, UpdateExpression=f"SET {word} = :v", ExpressionAttributeValues={":v": {"N": "1"}}
        ),
        "reserved keyword",
        word,
    )
    # With a #name placeholder it works.
    ddb.update_item(
        TableName=seeded, Key=K, UpdateExpression="SET #w = :v",
        ExpressionAttributeNames={"#w": word}, ExpressionAttributeValues={":v": {"N": "1"}},
    )
    assert ddb.get_item(TableName=seeded, Key=K)["Item"][word] == {"N": "1"}


@pytest.mark.parametrize(
    "kind,expr",
    [
        ("update", "SET a = "),
        ("update", "SET = :v"),
        ("update", "SET a = :v,"),
        ("update", "FROB a"),
        ("update", "SET a :v"),
        ("condition", "a = :v AND"),
        ("condition", "a == :v"),
        ("condition", "(a = :v"),
        ("condition", "a = :v)"),
        ("projection", "a,,b"),
        ("projection", "a[x]"),
    ],
)
def test_syntax_errors(ddb, seeded, kind, expr):
    values = {":v": {"N": "1"}} if ":v" in expr else None
    if kind == "update":
        kw = dict(UpdateExpression=expr)
        if values:
            kw["ExpressionAttributeValues"] = values
        call = lambda: ddb.update_item(TableName=seeded, Key=K, **kw)  # noqa: E731
    elif kind == "condition":
        kw = dict(ConditionExpression=expr)
        if values:
            kw["ExpressionAttributeValues"] = values
        call = lambda: ddb.delete_item(TableName=seeded, Key=K, **kw)  # noqa: E731
    else:
        call = lambda: ddb.get_item(TableName=seeded, Key=K, ProjectionExpression=expr)  # noqa: E731
    msg = _validation(call)
    assert "Invalid" in msg or "Syntax error" in msg, msg
    _unchanged(ddb, seeded)


def test_syntax_error_names_the_token(ddb, seeded):
    msg = _validation(
        lambda: ddb.delete_item(
            TableName=seeded, Key=K, ConditionExpression="a = :v AND AND a = :v",
            ExpressionAttributeValues={":v": {"N": "1"}},
        ),
        "Invalid ConditionExpression",
        "Syntax error",
    )
    assert "token" in msg and "AND" in msg, msg
    _unchanged(ddb, seeded)


def test_invalid_function(ddb, seeded):
    _validation(
        lambda: ddb.delete_item(TableName=seeded, Key=K, ConditionExpression="frobnicate(a)"),
        "Invalid function name",
    )
    # Condition-only functions are not allowed in update expressions.
    _validation(
        lambda: ddb.update_item(
            TableName=seeded, Key=K, UpdateExpression="SET a = begins_with(a, :v)",
            ExpressionAttributeValues={":v": {"S": "x"}},
        ),
    )
    # Update-only functions are not allowed in conditions.
    _validation(
        lambda: ddb.delete_item(
            TableName=seeded, Key=K, ConditionExpression="if_not_exists(a, :v) = :v",
            ExpressionAttributeValues={":v": {"N": "1"}},
        ),
    )
    _unchanged(ddb, seeded)


def test_empty_maps_rejected(ddb_raw, seeded):
    _validation(
        lambda: ddb_raw.update_item(
            TableName=seeded, Key=K, UpdateExpression="SET a = a", ExpressionAttributeValues={}
        ),
        "ExpressionAttributeValues must not be empty",
    )
    _validation(
        lambda: ddb_raw.update_item(
            TableName=seeded, Key=K, UpdateExpression="SET a = a", ExpressionAttributeNames={}
        ),
        "ExpressionAttributeNames must not be empty",
    )


def test_names_and_values_without_expression(ddb, seeded):
    _validation(
        lambda: ddb.put_item(
            TableName=seeded, Item={"pk": {"S": "k"}}, ExpressionAttributeValues={":v": {"N": "1"}}
        ),
    )
    _unchanged(ddb, seeded)


def test_condition_type_errors(ddb, seeded):
    # Functions with wrong operand types are validation errors, not false conditions.
    _validation(
        lambda: ddb.delete_item(
            TableName=seeded, Key=K, ConditionExpression="attribute_type(a, :t)",
            ExpressionAttributeValues={":t": {"S": "NOT_A_TYPE"}},
        ),
    )
    _validation(
        lambda: ddb.delete_item(
            TableName=seeded, Key=K, ConditionExpression="begins_with(a, :p)",
            ExpressionAttributeValues={":p": {"N": "1"}},
        ),
    )
    _unchanged(ddb, seeded)
