"""The seeds' console steps, end to end in a real browser (headless Chromium through Selenium):
sign in; create the Music table (Artist / SongTitle) and wait until it is ACTIVE; enable
point-in-time recovery; write an item with a nested map and a list; read it in the items view;
change an attribute and see it changed; check through boto3 that the table holds exactly that
item; see the writes on the metrics page. Also: the login page, the one-time link and the
cookie's flags, and that no secret reaches the logs.

One tarn server and one browser for the whole module; no sleeps (every wait polls the page).
"""

import json

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from conftest import AwsFactory, canon
from console_browser import (button, find, page_errors, set_value, shot, spawn_console_server, start_browser,
                             stop_browser, text_of, wait)

ITEM_TEXT = """{
  "Artist": "No One You Know",
  "SongTitle": "Call Me Today",
  "Album": {"Title": "Somewhat Famous", "Year": 2015, "Tracks": [{"No": 1, "Title": "Intro"}]},
  "Genres": ["Country", "Pop"],
  "Price": 1.50,
  "Explicit": false
}"""

EXPECTED = {
    "Artist": {"S": "No One You Know"},
    "SongTitle": {"S": "Call Me Today"},
    "Album": {"M": {"Title": {"S": "Somewhat Famous"}, "Year": {"N": "2015"},
                    "Tracks": {"L": [{"M": {"No": {"N": "1"}, "Title": {"S": "Intro"}}}]}}},
    "Genres": {"L": [{"S": "Country"}, {"S": "Pop"}]},
    "Price": {"N": "1.5"},
    "Explicit": {"BOOL": False},
}


@pytest.fixture(scope="module")
def server():
    with spawn_console_server() as s:
        yield s


@pytest.fixture(scope="module")
def browser(server):
    driver = start_browser()
    yield driver
    stop_browser(driver)


@pytest.fixture(scope="module")
def ddb(server):
    return AwsFactory(server.endpoint).client()


def test_the_console_needs_a_sign_in(server, browser):
    # Without a session: the app sends the browser to the login page, and the API says 401.
    r = requests.get(server.console, allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    assert requests.get(server.console + "api/tables", timeout=10).status_code == 401

    # The login page refuses a wrong token and says so.
    browser.get(server.admin + "/console/login")
    find(browser, "#token").send_keys("not-the-token" + Keys.ENTER)
    wait(browser, lambda d: "not the admin token" in text_of(d, ".login-error"), "the wrong-token message")
    assert "/console/login" in browser.current_url

    # The one-time link printed at start signs in, and opens the app.
    link = server.announced_link()
    browser.get(link)
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".page-head h1").text == "Tables", "the tables page")
    cookie = next(c for c in browser.get_cookies() if c["name"] == "tarn_console")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/console"
    assert "tarn_console" not in browser.execute_script("return document.cookie")
    assert "?token=" not in browser.current_url, "the link's token does not stay in the address bar"

    # The link works once.
    again = requests.get(link, timeout=10)
    assert again.status_code == 401 and "used already" in again.text


def test_the_seed_steps(server, browser, ddb):
    page_errors(browser)  # forget the previous test's (the refused sign-in's 401)
    # 1. Create a table: Music, partition key Artist, sort key SongTitle.
    browser.get(server.console + "#/tables")
    button(browser, "Create table", ".page-head").click()
    find(browser, "#ct-name").send_keys("Music")
    find(browser, "#ct-pk").send_keys("Artist")
    find(browser, "#ct-sk").send_keys("SongTitle")
    assert Select(find(browser, "#ct-pk-type")).first_selected_option.text == "String"
    find(browser, "button[form=create-table]").click()
    # 2. Once it is ACTIVE...
    wait(browser, lambda d: "/tables/Music/overview" in d.current_url, "the new table's page")
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".page-head .badge").text == "ACTIVE", "Music ACTIVE")
    assert ddb.describe_table(TableName="Music")["Table"]["KeySchema"] == [
        {"AttributeName": "Artist", "KeyType": "HASH"}, {"AttributeName": "SongTitle", "KeyType": "RANGE"}]

    # ... enable point-in-time recovery.
    find(browser, "a.tab[href$='/backups']").click()
    find(browser, "#pitr-enable").click()
    wait(browser, lambda d: d.find_element(By.ID, "pitr-latest").text.strip() not in ("", "—"), "the restorable window")
    assert "ENABLED" in find(browser, "#pitr-panel .panel-head").text
    pitr = ddb.describe_continuous_backups(TableName="Music")["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    shot(browser, "seeds-2-pitr")

    # 3. Write an item with a nested map and a list (typed into the JSON editor).
    find(browser, "a.tab[href$='/items']").click()
    button(browser, "Create item", ".panel-head").click()
    editor = find(browser, "#item-text")
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(Keys.DELETE)
    for line in ITEM_TEXT.split("\n"):
        editor.send_keys(line.strip(), Keys.ENTER)
    wait(browser, lambda d: "6 attributes" in d.find_element(By.ID, "item-status").text, "the editor reading the item")
    find(browser, "button[form=item-form]").click()

    # 4. Read it in the items view: the values, with their types.
    row = find(browser, "table.items tbody tr")
    wait(browser, lambda d: "No One You Know" in d.find_element(By.CSS_SELECTOR, "table.items tbody").text, "the item in the list")
    headers = [th.text.replace("KEY", "").strip() for th in browser.find_elements(By.CSS_SELECTOR, "table.items th")][1:]
    cells = {h: td for h, td in zip(headers, row.find_elements(By.CSS_SELECTOR, "td")[1:])}
    assert cells["Artist"].text.split("\n") == ["S", "No One You Know"]
    assert cells["SongTitle"].text.split("\n") == ["S", "Call Me Today"]
    assert cells["Album"].find_element(By.CSS_SELECTOR, ".t").text == "M"
    album = cells["Album"].find_element(By.CSS_SELECTOR, ".v").get_attribute("title")
    assert '"Title": "Somewhat Famous"' in album and '"Year": 2015' in album
    assert cells["Genres"].find_element(By.CSS_SELECTOR, ".t").text == "L"
    assert '"Country"' in cells["Genres"].text
    assert cells["Price"].text.split("\n") == ["N", "1.5"]
    assert cells["Explicit"].text.split("\n") == ["BOOL", "false"]
    shot(browser, "seeds-4-items")

    # 5. Change an attribute (the album's year) and see it changed.
    cells["SongTitle"].click()
    editor = find(browser, "#item-text")
    text = editor.get_attribute("value")
    assert '"Year": 2015' in text and '"Genres": [' in text
    shot(browser, "seeds-5-editor")
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(Keys.DELETE)
    for line in text.replace('"Year": 2015', '"Year": 2016').split("\n"):
        editor.send_keys(line.strip(), Keys.ENTER)
    find(browser, "button[form=item-form]").click()
    wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "dialog[open]"), "the editor closing")
    album = lambda d: d.find_element(By.CSS_SELECTOR, "table.items tbody td:nth-child(4) .v").get_attribute("title")
    wait(browser, lambda d: '"Year": 2016' in album(d), "the changed year in the list")
    assert "2015" not in album(browser)

    # 6. The table holds exactly that item.
    items = ddb.scan(TableName="Music", ConsistentRead=True)["Items"]
    expected = json.loads(json.dumps(EXPECTED))
    expected["Album"]["M"]["Year"] = {"N": "2016"}
    assert [canon(i) for i in items] == [canon(expected)]

    # 7. The writes on the metrics page: the two PutItems the console sent (the new item and
    # its change) and the Scans that listed it; a step shows once it closes (every 10 s).
    find(browser, "a.tab[href$='/metrics']").click()
    card = lambda d, label: next((c.find_element(By.CSS_SELECTOR, ".value").text
                                  for c in d.find_elements(By.CSS_SELECTOR, "#metrics-totals .card")
                                  if c.find_element(By.CSS_SELECTOR, ".label").text == label), None)
    wait(browser, lambda d: card(d, "PutItem") == "2", "two PutItems on the metrics page", timeout=40)
    find(browser, "#chart-requests .u-legend")
    legend = text_of(browser, "#chart-requests .u-legend")
    assert "PutItem" in legend and "Scan" in legend, legend
    shot(browser, "seeds-7-metrics")
    assert not page_errors(browser), page_errors(browser)


def test_readme_screenshot(server, browser, ddb):
    """A few more songs, and the items view as README shows it (docs/console.png is a copy)."""
    songs = [("No One You Know", "My Dog Spot", "Hey Now", 2017, ["Rock"]),
             ("The Acme Band", "Look Out, World", "The Buck Starts Here", 2019, ["Rock", "Alternative"]),
             ("The Acme Band", "Still in Love", "The Buck Starts Here", 2019, ["Pop"]),
             ("Acme Jazz Trio", "Blue Cat", "Night Shift", 2021, ["Jazz"])]
    for artist, title, album, year, genres in songs:
        ddb.put_item(TableName="Music", Item={
            "Artist": {"S": artist}, "SongTitle": {"S": title},
            "Album": {"M": {"Title": {"S": album}, "Year": {"N": str(year)}}},
            "Genres": {"L": [{"S": g} for g in genres]}, "Price": {"N": "0.99"}})
    browser.get(server.console + "#/tables/Music/items")
    browser.refresh()
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "table.items tbody tr")) == 5, "five songs")
    shot(browser, "console")
