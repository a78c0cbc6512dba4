"""More of the console in a real browser: create an on-demand backup and restore it (watching
the restore), tail a function's log while calling its route, an item holding `<script>` and
HTML shown as text, and malformed items refused with DynamoDB's own message and nothing
written.

One tarn server (with the todo example app, so there are functions to watch) and one browser
for the module; no sleeps.
"""

import datetime
import json
import re
import subprocess

import pytest
import requests
from selenium.webdriver.common.by import By

from conftest import REPO_ROOT, AwsFactory, _tarn_bin, canon, scan_items, wait_active
from console_browser import (button, dynamodb_error, find, page_errors, set_value, shot, spawn_console_server,
                             start_browser, stop_browser, text_of, wait)

APP = REPO_ROOT / "examples" / "todo" / "tarn.toml"


@pytest.fixture(scope="module")
def server():
    with spawn_console_server("--app", str(APP)) as s:
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


def make_table(ddb, name, items=()):
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    wait_active(ddb, name)
    for item in items:
        ddb.put_item(TableName=name, Item=item)


def open_items(server, browser, table):
    browser.get(f"{server.console}#/tables/{table}/items")
    return find(browser, "table.items tbody tr, .panel .empty")


def test_backup_and_restore(server, browser, ddb):
    items = [{"pk": {"S": f"k{i:03}"}, "n": {"N": str(i)}, "tags": {"SS": ["a", f"t{i}"]}} for i in range(40)]
    make_table(ddb, "Albums", items)
    browser.get(f"{server.console}#/tables/Albums/backups")
    set_value(browser, find(browser, "#backup-name"), "albums-before")
    button(browser, "Create backup").click()
    row = "tr[data-backup='albums-before']"
    wait(browser, lambda d: "AVAILABLE" in d.find_element(By.CSS_SELECTOR, row).text, "the backup AVAILABLE")
    button(browser, "Restore…", row).click()
    set_value(browser, find(browser, "#restore-target"), "Albums-restored")
    find(browser, "button[form=backup-restore]").click()
    # The restore shows in the page until it is done.
    restores = "table[aria-label=Restores]"
    wait(browser, lambda d: "Albums-restored" in text_of(d, restores), "the restore listed")
    shot(browser, "flows-restore")
    wait(browser, lambda d: "ACTIVE" in text_of(d, restores) and "done" in text_of(d, restores), "the restore done")
    assert "40" in text_of(browser, restores)
    by_key = lambda xs: [canon(i) for i in sorted(xs, key=lambda i: i["pk"]["S"])]
    assert by_key(scan_items(ddb, "Albums-restored")) == by_key(items)
    assert not page_errors(browser), page_errors(browser)


def test_tail_a_functions_log_while_calling_its_route(server, browser):
    browser.get(f"{server.console}#/functions/todo-api")
    wait(browser, lambda d: d.find_element(By.ID, "log-fn").get_attribute("value") == "todo-api", "the log tail on todo-api")
    find(browser, "#log-tail .badge.ok")  # following
    created = []
    for title in ("console tail one", "console tail two"):
        r = requests.post(f"{server.functions}/todos", json={"title": title}, timeout=10)
        assert r.status_code in (200, 201), r.text
        created.append(r.json()["id"])
        wait(browser, lambda d: f"created todo {created[-1]}" in text_of(d, "#log-tail .log"),
             f"the log line of todo {created[-1]}")
    shot(browser, "flows-log-tail")
    # The invocations show in the function's row.
    wait(browser, lambda d: int(d.find_element(By.CSS_SELECTOR, "tr[data-function=todo-api] td:nth-child(3)").text) >= 2,
         "todo-api's invocations")
    # Its last hour (the metrics history): the invocations, once their 10-second step closes,
    # with duration and instantiation percentiles.
    card = lambda d, label: next(c.find_element(By.CSS_SELECTOR, ".value").text
                                 for c in d.find_elements(By.CSS_SELECTOR, "#function-metrics .card")
                                 if c.find_element(By.CSS_SELECTOR, ".label").text == label)
    wait(browser, lambda d: int(card(d, "Invocations")) >= 2, "todo-api's invocations on its charts", timeout=40)
    assert card(browser, "Errors") == "0"
    for label in ("Duration p50 / p99", "Instantiation p50 / p99"):
        assert re.fullmatch(r"[0-9.]+ (µs|ms|s) / [0-9.]+ (µs|ms|s)", card(browser, label)), card(browser, label)
    find(browser, "#chart-duration .u-legend")
    shot(browser, "flows-function-metrics")


XSS = {
    "pk": {"S": "xss-1"},
    "script": {"S": "<script>window.__xss = 1</script>"},
    "img": {"S": "<img src=x onerror=\"window.__xss = 2\">"},
    "nested": {"M": {"html": {"S": "<b>bold</b><iframe src=\"javascript:window.__xss=3\"></iframe>"}}},
    "<i>name</i>": {"S": "an attribute whose name is HTML"},
}


def test_an_item_holding_html_shows_as_text(server, browser, ddb):
    make_table(ddb, "Markup", [XSS])
    open_items(server, browser, "Markup")
    body = find(browser, "table.items tbody")
    wait(browser, lambda d: "xss-1" in body.text, "the item listed")
    # Every value is there as the text it is, and none of it became an element.
    assert "<script>window.__xss = 1</script>" in body.text
    assert '<img src=x onerror="window.__xss = 2">' in body.text
    headers = text_of(browser, "table.items thead")
    assert "<i>name</i>" in headers
    for tag in ("script", "img", "iframe", "b", "i"):
        assert not browser.find_elements(By.CSS_SELECTOR, f"table.items {tag}"), tag
    # In the editor, too.
    find(browser, "table.items tbody tr td:nth-child(2)").click()
    editor = find(browser, "#item-text")
    assert "<script>window.__xss = 1</script>" in editor.get_attribute("value")
    tree = find(browser, ".tree")
    assert "<b>bold</b>" in tree.text
    assert not browser.find_elements(By.CSS_SELECTOR, ".tree b, .tree iframe, dialog img, dialog script")
    assert browser.execute_script("return window.__xss") is None
    shot(browser, "flows-xss")
    button(browser, "Cancel", "dialog").click()
    assert not page_errors(browser), page_errors(browser)


def save_new_item(browser, text, fmt):
    button(browser, "Create item", ".panel-head").click()
    if fmt == "dynamodb":
        button(browser, "DynamoDB JSON", "dialog").click()
    set_value(browser, find(browser, "#item-text"), text)
    find(browser, "button[form=item-form]").click()
    return wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "dialog .alert.err").text, "an error in the editor")


def test_a_malformed_item_gets_dynamodbs_message_and_nothing_is_written(server, browser, ddb):
    make_table(ddb, "Strict")
    open_items(server, browser, "Strict")
    condition = dict(ConditionExpression="attribute_not_exists(#pk)", ExpressionAttributeNames={"#pk": "pk"})

    # DynamoDB JSON with a number that is not one.
    bad_number = {"pk": {"S": "m-1"}, "n": {"N": "twelve"}}
    shown = save_new_item(browser, json.dumps(bad_number, indent=2), "dynamodb")
    code, message = dynamodb_error(ddb, TableName="Strict", Item=bad_number, **condition)
    assert shown == f"{code}: {message}"
    assert code == "ValidationException"
    shot(browser, "flows-malformed")
    button(browser, "Cancel", "dialog").click()

    # Plain JSON without the key.
    shown = save_new_item(browser, '{"title": "no key here", "n": 1}', "json")
    code, message = dynamodb_error(ddb, TableName="Strict", Item={"title": {"S": "no key here"}, "n": {"N": "1"}}, **condition)
    assert shown == f"{code}: {message}"
    assert "Missing the key pk" in message
    button(browser, "Cancel", "dialog").click()

    # An empty set, which DynamoDB refuses.
    empty_set = {"pk": {"S": "m-3"}, "tags": {"SS": []}}
    shown = save_new_item(browser, json.dumps(empty_set), "dynamodb")
    code, message = dynamodb_error(ddb, TableName="Strict", Item=empty_set, **condition)
    assert shown == f"{code}: {message}"
    button(browser, "Cancel", "dialog").click()

    # Text that is not JSON never leaves the page.
    button(browser, "Create item", ".panel-head").click()
    set_value(browser, find(browser, "#item-text"), '{"pk": "m-4", oops}')
    wait(browser, lambda d: d.find_element(By.ID, "item-status").text and
         d.find_element(By.ID, "item-text").get_attribute("aria-invalid") == "true", "the parse error")
    find(browser, "button[form=item-form]").click()
    wait(browser, lambda d: "SyntaxError" in d.find_element(By.CSS_SELECTOR, "dialog .alert.err").text, "the syntax error")
    button(browser, "Cancel", "dialog").click()

    assert scan_items(ddb, "Strict") == []
    # The browser logs each refused PutItem (three 400s); nothing else went wrong.
    errors = page_errors(browser)
    assert [e for e in errors if not ("/api/dynamodb/PutItem" in e["message"] and "400" in e["message"])] == [], errors
    assert len(errors) == 3, errors


def test_paging_query_filter_and_the_keyboard(server, browser, ddb):
    ddb.create_table(TableName="Pages", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}])
    wait_active(ddb, "Pages")
    items = [{"pk": {"S": f"user{i % 100:02}"}, "sk": {"N": str(i)}, "n": {"N": str(i)}} for i in range(1000)]
    for i in range(0, len(items), 25):
        ddb.batch_write_item(RequestItems={"Pages": [{"PutRequest": {"Item": it}} for it in items[i:i + 25]]})
    rows = "table.items tbody tr"
    keys = lambda d: [r.find_element(By.CSS_SELECTOR, "td:nth-child(2)").text + "/" + r.find_element(By.CSS_SELECTOR, "td:nth-child(3)").text
                      for r in d.find_elements(By.CSS_SELECTOR, rows)]
    open_items(server, browser, "Pages")
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, rows)) == 50, "a first page of 50")
    assert "50 returned" in find(browser, ".panel-head h2").text and "· 1,000 in the table" in find(browser, ".panel-head h2").text
    first = keys(browser)
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("]")
    wait(browser, lambda d: "Page 2" in d.find_element(By.CSS_SELECTOR, ".pager").text and keys(d) != first, "page 2")
    second = keys(browser)
    assert len(second) == 50 and not set(first) & set(second)
    body.send_keys("[")
    wait(browser, lambda d: keys(d) == first, "back on page 1")

    # j / k move between rows, Enter opens the focused one.
    browser.execute_script("document.querySelector(arguments[0]).focus()", rows)
    browser.switch_to.active_element.send_keys("j")
    assert browser.switch_to.active_element.text == browser.find_elements(By.CSS_SELECTOR, rows)[1].text
    browser.switch_to.active_element.send_keys("\n")
    editor = find(browser, "#item-text")
    assert first[1].split("\n")[-1].split("/")[0] in editor.get_attribute("value")
    editor.send_keys("\ue00c")  # Escape closes the dialog
    wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"), "the editor closed")

    # A query on one partition key with a sort key condition.
    button(browser, "Query").click()
    set_value(browser, find(browser, "#q-pk"), "user07")
    from selenium.webdriver.support.ui import Select
    Select(find(browser, "#q-skop")).select_by_value(">=")
    set_value(browser, find(browser, "input[aria-label='Sort key value']"), "500")
    button(browser, "Run query").click()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, rows)) == 5 and all(k.startswith("S\nuser07") for k in keys(d)),
         "the query's five items")
    assert [k.split("\n")[-1] for k in keys(browser)] == ["507", "607", "707", "807", "907"]

    # A scan with a filter, followed page by page to its end.
    button(browser, "Scan").click()
    button(browser, "Add filter").click()
    set_value(browser, find(browser, "input[aria-label='Filter 1 attribute']"), "n")
    Select(find(browser, "select[aria-label='Filter 1 condition']")).select_by_value(">=")
    Select(find(browser, "select[aria-label='Filter 1 type']")).select_by_value("N")
    set_value(browser, find(browser, "input[aria-label='Filter 1 value']"), "990")
    button(browser, "Run scan").click()
    found = set()
    page = 1
    while True:
        wait(browser, lambda d: f"Page {page}" in d.find_element(By.CSS_SELECTOR, ".pager").text
             and not d.find_elements(By.CSS_SELECTOR, ".pager .spinner"), f"filtered page {page}")
        found |= {k.split("\n")[-1] for k in keys(browser)}
        nxt = find(browser, "#q-next")
        if not nxt.is_enabled():
            break
        nxt.click()
        page += 1
    assert found == {str(n) for n in range(990, 1000)}, found

    # ? shows the shortcuts; g f goes to the functions, g t back to the tables.
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("?")
    find(browser, "dialog[open] .keys")
    browser.switch_to.active_element.send_keys("\ue00c")
    wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"), "the help closed")
    browser.find_element(By.TAG_NAME, "body").send_keys("gf")
    wait(browser, lambda d: d.current_url.endswith("#/functions"), "g f")
    browser.find_element(By.TAG_NAME, "body").send_keys("gt")
    wait(browser, lambda d: d.current_url.endswith("#/tables"), "g t")
    assert not page_errors(browser), page_errors(browser)


def test_functions_versions_rollback_routes_mappings_and_schedules(server, browser, tmp_path):
    """The todo app (version 1): its routes, its stream mapping's progress and its schedule's next
    run. Then a second version (hello on GET /hello) is deployed with `tarn deploy`, and the
    console rolls back to the first: the routes serve the todo API again."""
    r = requests.post(f"{server.functions}/todos", json={"title": "for the mapping"}, timeout=10)
    assert r.status_code in (200, 201), r.text
    browser.get(f"{server.console}#/functions")
    routes = "table[aria-label=Routes] tbody tr"
    wait(browser, lambda d: sorted(e.text for e in d.find_elements(By.CSS_SELECTOR, routes)) ==
         ["DELETE /todos/:id todo-api", "GET /todos todo-api", "GET /todos/:id todo-api", "POST /todos todo-api",
          "PUT /todos/:id todo-api"], "the todo app's five routes")
    # The stream mapping has processed the todos written so far, and has a checkpoint.
    mapping = "table[aria-label='Stream mappings'] tbody tr"
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, mapping + " td:nth-child(1)").text == "todos → todo-events"
         and int(d.find_element(By.CSS_SELECTOR, mapping + " td:nth-child(2)").text) >= 1
         and d.find_element(By.CSS_SELECTOR, mapping + " td:nth-child(5)").text not in ("", "—"),
         "the mapping's processed records and checkpoint")
    assert find(browser, mapping + " td:nth-child(3)").text == "0"
    # The schedule: not run yet; its next run is the coming Sunday at 03:00 UTC.
    now = datetime.datetime.now(datetime.timezone.utc)
    sunday = (now + datetime.timedelta(days=(6 - now.weekday()) % 7)).replace(hour=3, minute=0, second=0, microsecond=0)
    if sunday <= now:
        sunday += datetime.timedelta(days=7)
    schedule = find(browser, "table[aria-label=Schedules] tbody tr")
    cells = [c for c in schedule.find_elements(By.TAG_NAME, "td")]
    assert [cells[0].text, cells[1].text, cells[2].text] == ["0 0 3 * * Sun", "nightly", "not yet"]
    assert cells[3].get_attribute("title") == sunday.strftime("%Y-%m-%dT%H:%M:%SZ")

    # Version 2: hello alone, on GET /hello.
    hello = REPO_ROOT / "functions" / "target" / "wasm32-wasip2" / "release" / "hello.wasm"
    manifest = tmp_path / "tarn.toml"
    manifest.write_text(f'[[function]]\nname = "hello"\nsource = "{hello}"\n\n'
                        '[[route]]\nmethod = "GET"\npath = "/hello"\nfunction = "hello"\n')
    out = subprocess.run([str(_tarn_bin()), "deploy", "--app", str(manifest), "--server", server.admin,
                          "--data-dir", server.data_dir], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "deployed version 2"
    active = ".cards .card:first-child .value"
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, active).text == "v2", "version 2 active")
    wait(browser, lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, routes)] == ["GET /hello hello"], "hello's route")
    assert "No stream mappings." in text_of(browser, ".panel")
    assert requests.get(f"{server.functions}/hello", timeout=10).text == "hello from tarn\n"
    assert requests.get(f"{server.functions}/todos", timeout=10).status_code == 404
    shot(browser, "flows-functions-v2")

    # Roll back to version 1 from the versions table.
    row = find(browser, "table[aria-label=Versions] tbody tr:last-child")
    assert row.find_element(By.CSS_SELECTOR, "td:first-child").text.startswith("v1")
    row.find_element(By.XPATH, ".//button[normalize-space()='Roll back']").click()
    button(browser, "Activate", "dialog").click()
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, active).text == "v1", "version 1 active again")
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, routes)) == 5, "the todo routes again")
    versions = requests.get(f"{server.admin}/_tarn/versions", timeout=10,
                            headers={"Authorization": f"Bearer {server.admin_token()}"}).json()
    assert versions["active"] == 1 and [v["version"] for v in versions["versions"]] == [1, 2]
    r = requests.get(f"{server.functions}/todos", timeout=10)
    assert r.status_code == 200, r.text
    assert requests.get(f"{server.functions}/hello", timeout=10).status_code == 404
    shot(browser, "flows-functions")
    assert not page_errors(browser), page_errors(browser)
