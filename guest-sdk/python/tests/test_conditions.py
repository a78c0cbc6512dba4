from decimal import Decimal

import pytest

from tarn import Attr, Key, Update
from tarn.conditions import Placeholders, build_expression


def built(cond):
    p = Placeholders()
    return build_expression(cond, p), p.names, p.values


def test_key_conditions():
    expr, names, values = built(Key("customer").eq("ada") & Key("order").between(1, 9))
    assert expr == "(#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2)"
    assert names == {"#n0": "customer", "#n1": "order"}
    assert values == {":v0": {"S": "ada"}, ":v1": {"N": "1"}, ":v2": {"N": "9"}}
    assert built(Key("pk").begins_with("a#"))[0] == "begins_with(#n0, :v0)"


def test_attr_conditions_combine():
    cond = (Attr("version").eq(3) | Attr("id").not_exists()) & ~Attr("tags").contains("x")
    expr, names, values = built(cond)
    assert expr == "((#n0 = :v0 OR attribute_not_exists(#n1)) AND (NOT contains(#n2, :v1)))"
    assert names == {"#n0": "version", "#n1": "id", "#n2": "tags"}
    assert values == {":v0": {"N": "3"}, ":v1": {"S": "x"}}


def test_paths_sizes_and_in():
    expr, names, _ = built(Attr("address.city").is_in(["a", "b"]) & Attr("items[0].price").size().gt(2))
    assert expr == "(#n0.#n1 IN (:v0, :v1) AND size(#n2[0].#n3) > :v2)"
    assert names == {"#n0": "address", "#n1": "city", "#n2": "items", "#n3": "price"}
    assert built(Attr("a").attribute_type("S"))[0] == "attribute_type(#n0, :v0)"
    with pytest.raises(ValueError):
        built(Attr("a..b").exists())
    with pytest.raises(TypeError):
        Attr("a").exists() & "b = c"


def test_same_name_shares_a_placeholder():
    expr, names, _ = built(Attr("v").gt(1) & Attr("v").lt(5))
    assert expr == "(#n0 > :v0 AND #n0 < :v1)" and names == {"#n0": "v"}


def test_update_actions():
    u = (Update().set("title", "t").add("version", 1).remove("draft").delete("tags", {"a"})
         .set_if_absent("created", Decimal("1.5")).append("log", ["x"]).increment("n", 2))
    p = Placeholders()
    expr = u.build(p)
    assert expr == ("SET #n0 = :v0, #n4 = if_not_exists(#n4, :v3), #n5 = list_append(if_not_exists(#n5, :v5), :v4), "
                    "#n6 = #n6 + :v6 REMOVE #n2 ADD #n1 :v1 DELETE #n3 :v2")
    assert p.values[":v5"] == {"L": []} and p.values[":v3"] == {"N": "1.5"}
    assert not Update() and bool(Update().remove("x"))
