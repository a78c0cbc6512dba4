"""A table's life in the console, in a real browser: the Create table dialog (sort key, a global
index, provisioned capacity, a stream, deletion protection), deletion refused while protected,
the Indexes tab (a global index added to a table with items, built online, then deleted), TTL,
the stream's latest records, point-in-time recovery restored to a chosen second, an export and
its import into a new table, the Cost tab, and deleting the table. Everything the page does is
checked through boto3 against the DynamoDB port.

One tarn server and one browser for the module; no sleeps (every wait polls).
"""

import json
import tempfile
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import AwsFactory, canon, scan_items, wait_active
from console_browser import (button, find, page_errors, set_value, shot, spawn_console_server, start_browser,
                             stop_browser, text_of, wait)

EXPORTS = Path(tempfile.mkdtemp(prefix="tarn-console-exports-"))


@pytest.fixture(scope="module")
def server():
    with spawn_console_server("--export-root", str(EXPORTS)) as s:
        yield s


@pytest.fixture(scope="module")
def browser(server):
    driver = start_browser()
    driver.get(server.new_link())
    wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".page-head h1").text == "Tables", "signed in")
    yield driver
    stop_browser(driver)


@pytest.fixture(scope="module")
def ddb(server):
    return AwsFactory(server.endpoint).client()


def tab(server, browser, table, name):
    browser.get(f"{server.console}#/tables/{table}/{name}")
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "[role=tab][aria-selected=true], .tabs .active").text.strip() != "",
         f"the {name} tab")


def dialog_error(browser):
    return wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "dialog[open] .alert.err").text, "an error in the dialog")


def confirm(browser, word, action="Delete"):
    if word:
        set_value(browser, find(browser, "#confirm-word"), word)
    button(browser, action, "dialog").click()


def test_create_a_table_with_everything(server, browser, ddb):
    button(browser, "Create table", ".page-head").click()
    set_value(browser, find(browser, "#ct-name"), "Orders")
    set_value(browser, find(browser, "#ct-pk"), "customer")
    set_value(browser, find(browser, "#ct-sk"), "at")
    Select(find(browser, "#ct-sk-type")).select_by_value("N")
    Select(find(browser, "#ct-billing")).select_by_value("PROVISIONED")
    set_value(browser, find(browser, "#ct-rcu"), "7")
    set_value(browser, find(browser, "#ct-wcu"), "3")
    Select(find(browser, "#ct-stream")).select_by_value("NEW_IMAGE")
    find(browser, "dialog[open] label.field.inline input[type=checkbox]").click()
    button(browser, "Add global index", "dialog").click()
    set_value(browser, find(browser, "#ix1-name"), "by-status")
    set_value(browser, find(browser, "#ix1-pk"), "status")
    Select(find(browser, "#ix1-proj")).select_by_value("KEYS_ONLY")
    shot(browser, "tables-create")
    find(browser, "button[form=create-table]").click()
    wait(browser, lambda d: d.current_url.endswith("#/tables/Orders/overview"), "the new table's page")
    wait(browser, lambda d: "ACTIVE" in d.find_element(By.CSS_SELECTOR, ".cards .card:first-child").text, "ACTIVE")

    t = ddb.describe_table(TableName="Orders")["Table"]
    assert t["KeySchema"] == [{"AttributeName": "customer", "KeyType": "HASH"}, {"AttributeName": "at", "KeyType": "RANGE"}]
    assert sorted((a["AttributeName"], a["AttributeType"]) for a in t["AttributeDefinitions"]) == \
        [("at", "N"), ("customer", "S"), ("status", "S")]
    assert (t["ProvisionedThroughput"]["ReadCapacityUnits"], t["ProvisionedThroughput"]["WriteCapacityUnits"]) == (7, 3)
    assert t["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert t["DeletionProtectionEnabled"] is True
    [gsi] = t["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "by-status" and gsi["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert gsi["KeySchema"] == [{"AttributeName": "status", "KeyType": "HASH"}]

    # The tables list shows it at a glance.
    browser.get(server.console + "#/tables")
    row = find(browser, "tr[data-table=Orders]")
    wait(browser, lambda d: "Provisioned 7/3" in row.text and "protected" in row.text and "NEW_IMAGE" in row.text,
         "the list's row")
    assert not page_errors(browser), page_errors(browser)


def test_deletion_protection_refuses_then_the_table_is_deleted(server, browser, ddb):
    ddb.create_table(TableName="Keep", BillingMode="PAY_PER_REQUEST", DeletionProtectionEnabled=True,
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    wait_active(ddb, "Keep")
    try:
        ddb.delete_table(TableName="Keep")
        raise AssertionError("a protected table was deleted")
    except ddb.exceptions.ClientError as e:
        refused = f"{e.response['Error']['Code']}: {e.response['Error']['Message']}"
    tab(server, browser, "Keep", "overview")
    button(browser, "Delete table…").click()
    assert "Deletion protection is on" in find(browser, "dialog[open]").text
    confirm(browser, "Keep")
    assert dialog_error(browser) == refused
    button(browser, "Cancel", "dialog").click()
    assert ddb.describe_table(TableName="Keep")["Table"]["TableStatus"] == "ACTIVE"

    button(browser, "Turn off").click()
    wait(browser, lambda d: not ddb.describe_table(TableName="Keep")["Table"]["DeletionProtectionEnabled"], "protection off")
    button(browser, "Delete table…").click()
    confirm(browser, "Keep")
    wait(browser, lambda d: d.current_url.endswith("#/tables"), "back on the tables list")
    wait(browser, lambda d: "Keep" not in ddb.list_tables()["TableNames"], "the table gone")
    assert not browser.find_elements(By.CSS_SELECTOR, "tr[data-table=Keep]") or \
        wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "tr[data-table=Keep]"), "the row gone")
    # Dialog refusals are logged by the browser as failed requests; nothing else went wrong.
    errors = page_errors(browser)
    assert all("/api/dynamodb/DeleteTable" in e["message"] and "400" in e["message"] for e in errors), errors


def put_orders(ddb, n, start=0):
    for i in range(start, start + n, 25):
        ddb.batch_write_item(RequestItems={"Orders": [
            {"PutRequest": {"Item": {"customer": {"S": f"c{j % 10}"}, "at": {"N": str(j)}, "city": {"S": f"city{j % 4}"},
                                     "status": {"S": "open" if j % 2 else "shipped"}}}}
            for j in range(i, min(i + 25, start + n))]})


def test_add_a_global_index_to_a_table_with_items_and_delete_it(server, browser, ddb):
    put_orders(ddb, 200)
    tab(server, browser, "Orders", "indexes")
    button(browser, "Add global index", ".panel-head").click()
    set_value(browser, find(browser, "#ix-name"), "by-city")
    set_value(browser, find(browser, "#ix-pk"), "city")
    set_value(browser, find(browser, "#ix-sk"), "at")
    Select(find(browser, "#ix-sk-type")).select_by_value("N")
    button(browser, "Add index", "dialog").click()
    rows = "table[aria-label=Indexes] tbody tr"
    by_city = lambda d: next((r for r in d.find_elements(By.CSS_SELECTOR, rows) if r.find_element(By.CSS_SELECTOR, "td").text == "by-city"), None)

    def built(d):
        row = by_city(d)
        return row is not None and "ACTIVE" in row.text and "backfilling" not in row.text \
            and row.find_element(By.CSS_SELECTOR, "td:nth-child(6)").text == "200"
    wait(browser, built, "by-city built over 200 items", timeout=60)
    shot(browser, "tables-indexes")
    got = ddb.query(TableName="Orders", IndexName="by-city", KeyConditionExpression="city = :c AND #at >= :a",
                    ExpressionAttributeNames={"#at": "at"},
                    ExpressionAttributeValues={":c": {"S": "city3"}, ":a": {"N": "100"}})["Items"]
    assert sorted(int(i["at"]["N"]) for i in got) == list(range(103, 200, 4))

    by_city(browser).find_element(By.XPATH, ".//button[normalize-space()='Delete']").click()
    confirm(browser, "by-city")
    wait(browser, lambda d: [g["IndexName"] for g in ddb.describe_table(TableName="Orders")["Table"].get("GlobalSecondaryIndexes", [])]
         == ["by-status"], "by-city deleted")
    wait(browser, lambda d: [r.find_element(By.CSS_SELECTOR, "td").text for r in d.find_elements(By.CSS_SELECTOR, rows)] == ["by-status"],
         "the list without by-city")
    assert not page_errors(browser), page_errors(browser)


def test_ttl_and_the_streams_latest_records(server, browser, ddb):
    tab(server, browser, "Orders", "ttl")
    set_value(browser, find(browser, "#ttl-attr"), "expires")
    button(browser, "Enable TTL").click()
    wait(browser, lambda d: ddb.describe_time_to_live(TableName="Orders")["TimeToLiveDescription"]
         .get("AttributeName") == "expires", "TTL on")
    wait(browser, lambda d: d.find_element(By.ID, "ttl-attr").get_attribute("disabled") is not None, "the form showing TTL on")
    assert ddb.describe_time_to_live(TableName="Orders")["TimeToLiveDescription"]["TimeToLiveStatus"] in ("ENABLING", "ENABLED")
    key = {"customer": {"S": "ttl"}, "at": {"N": "1"}}
    ddb.put_item(TableName="Orders", Item={**key, "expires": {"N": str(int(time.time()) - 60)}, "note": {"S": "<b>gone soon</b>"}})
    wait(browser, lambda d: "Item" not in ddb.get_item(TableName="Orders", Key=key, ConsistentRead=True), "the expired item swept")

    # The stream tab shows the newest records, the TTL deletion among them.
    tab(server, browser, "Orders", "stream")
    recs = "table[aria-label='Stream records'] tbody tr"
    wait(browser, lambda d: any("REMOVE" in r.text and '"ttl"' in r.text for r in d.find_elements(By.CSS_SELECTOR, recs)),
         "the TTL removal in the stream")
    assert any("INSERT" in r.text and "<b>gone soon</b>" in r.text for r in browser.find_elements(By.CSS_SELECTOR, recs))
    assert not browser.find_elements(By.CSS_SELECTOR, "table[aria-label='Stream records'] b")
    shot(browser, "tables-stream")
    assert not page_errors(browser), page_errors(browser)


def contents(ddb, table):
    """A table's items, comparable (sorted, canonical; none of these items holds a set)."""
    return sorted(json.dumps(canon(i), sort_keys=True) for i in scan_items(ddb, table))


def local_input(browser, secs):
    """A datetime-local value for `secs` in the browser's time zone."""
    return browser.execute_script(
        "const d = new Date(arguments[0] * 1000), p = (n) => String(n).padStart(2, '0');"
        "return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;",
        secs)


def test_point_in_time_recovery_to_a_chosen_second(server, browser, ddb):
    tab(server, browser, "Orders", "backups")
    find(browser, "#pitr-enable").click()
    wait(browser, lambda d: d.find_element(By.ID, "pitr-latest").text not in ("", "—"), "PITR on")
    before = contents(ddb, "Orders")
    assert len(before) == 200
    # A second that is after every write so far and before the next one.
    chosen = int(time.time()) + 1
    wait(browser, lambda d: time.time() >= chosen + 1.05, "the clock past the chosen second", timeout=5)
    put_orders(ddb, 50, start=200)
    wait(browser, lambda d: ddb.describe_continuous_backups(TableName="Orders")["ContinuousBackupsDescription"]
         ["PointInTimeRecoveryDescription"]["LatestRestorableDateTime"].timestamp() >= chosen, "the window reaching it")
    browser.refresh()
    button(browser, "Restore to point in time…").click()
    set_value(browser, find(browser, "#pitr-target"), "Orders-then")
    find(browser, "dialog[open] input[type=radio]:not(:checked)").click()
    set_value(browser, find(browser, "#pitr-time"), local_input(browser, chosen))
    button(browser, "Restore", "dialog").click()
    wait(browser, lambda d: "Orders-then" in text_of(d, "table[aria-label=Restores]"), "the restore listed")
    wait(browser, lambda d: ddb.describe_table(TableName="Orders-then")["Table"]["TableStatus"] == "ACTIVE", "restored", timeout=60)
    assert contents(ddb, "Orders-then") == before
    shot(browser, "tables-pitr")
    assert not page_errors(browser), page_errors(browser)


def test_export_and_import(server, browser, ddb):
    tab(server, browser, "Orders", "transfer")
    set_value(browser, find(browser, "#ex-bucket"), "console")
    set_value(browser, find(browser, "#ex-prefix"), "orders")
    button(browser, "Start export").click()
    exports = "table[aria-label=Exports] tbody tr"
    wait(browser, lambda d: "COMPLETED" in d.find_element(By.CSS_SELECTOR, exports).text, "the export completed", timeout=60)
    assert find(browser, exports + " td:nth-child(4)").text == "250"
    [summary] = (EXPORTS / "console" / "orders").rglob("manifest-summary.json")
    assert json.loads(summary.read_text())["itemCount"] == 250

    # The import form is filled in from the export; the new table gets the same items.
    assert find(browser, "#im-bucket").get_attribute("value") == "console"
    set_value(browser, find(browser, "#im-table"), "Orders-copy")
    button(browser, "Start import").click()
    imports = "table[aria-label=Imports] tbody tr"
    wait(browser, lambda d: "COMPLETED" in d.find_element(By.CSS_SELECTOR, imports).text, "the import completed", timeout=60)
    assert find(browser, imports + " td:nth-child(5)").text == "250"
    shot(browser, "tables-transfer")
    assert contents(ddb, "Orders-copy") == contents(ddb, "Orders")
    assert not page_errors(browser), page_errors(browser)


def test_cost_tab_shows_the_apis_estimate(server, browser, signed_in_session):
    s, _ = signed_in_session
    tab(server, browser, "Orders", "cost")
    data = s.get(server.console + "api/tables/Orders/cost", timeout=10).json()
    p = data["prices"]
    configured = data["estimate"]["configured"]
    # 7 RCU and 3 WCU for a month, at the price file's rates.
    assert configured["reads"] == pytest.approx(7 * p["standard"]["provisioned_rcu_hour"] * p["hours_per_month"])
    assert configured["writes"] == pytest.approx(3 * p["standard"]["provisioned_wcu_hour"] * p["hours_per_month"])
    wait(browser, lambda d: d.find_element(By.ID, "cost-on-demand").text.startswith("$"), "the estimate")
    assert f"read on {p['read_on']}" in find(browser, "#cost-prices").text
    assert "As configured" in text_of(browser, ".cards")
    shot(browser, "tables-cost")
    assert not page_errors(browser), page_errors(browser)


@pytest.fixture(scope="module")
def signed_in_session(server):
    return server.session()
