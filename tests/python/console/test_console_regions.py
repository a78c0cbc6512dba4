"""The console's JSON API in regions (tables are regional): `?region=R` runs any endpoint in
region R, `GET regions` lists the regions that have tables and the server's own, and the
server's region (`tarn serve --region`) is the console's default."""

import boto3
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import _config, wait_active
from console_browser import page_errors, shot, spawn_console_server, start_browser, stop_browser, wait


@pytest.fixture(scope="module")
def server():
    with spawn_console_server("--region", "eu-west-1") as s:
        yield s


def client(server, region):
    return boto3.session.Session().client(
        "dynamodb", config=_config(), endpoint_url=server.endpoint, region_name=region,
        aws_access_key_id="test", aws_secret_access_key="test",
    )


def create(c, name):
    c.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    wait_active(c, name)


def test_the_console_works_in_one_region_at_a_time(server):
    s, csrf = server.session()
    api = server.console + "api/"
    create(client(server, "eu-west-1"), "in-ireland")
    create(client(server, "ap-south-1"), "in-mumbai")

    assert s.get(api + "session", timeout=10).json()["region"] == "eu-west-1"
    assert s.get(api + "session?region=ap-south-1", timeout=10).json()["region"] == "ap-south-1"
    assert s.get(api + "regions", timeout=10).json() == {
        "regions": ["ap-south-1", "eu-west-1"], "default": "eu-west-1"}

    def names(query=""):
        return [t["name"] for t in s.get(api + "tables" + query, timeout=10).json()["tables"]]
    assert names() == ["in-ireland"]
    assert names("?region=ap-south-1") == ["in-mumbai"]
    assert names("?region=us-east-1") == []

    # DynamoDB operations through the console take the region too.
    headers = {"X-Tarn-Csrf": csrf, "Origin": server.admin}
    r = s.post(api + "dynamodb/PutItem?region=ap-south-1", headers=headers, timeout=10,
               json={"TableName": "in-mumbai", "Item": {"pk": {"S": "x"}}})
    assert r.status_code == 200, r.text
    r = s.post(api + "dynamodb/PutItem", headers=headers, timeout=10,
               json={"TableName": "in-mumbai", "Item": {"pk": {"S": "x"}}})
    assert r.status_code == 400 and "ResourceNotFoundException" in r.json()["__type"]
    got = client(server, "ap-south-1").get_item(TableName="in-mumbai", Key={"pk": {"S": "x"}})
    assert got["Item"] == {"pk": {"S": "x"}}

    r = s.get(api + "tables?region=Not%20A%20Region", timeout=10)
    assert r.status_code == 400 and "is not a region name" in r.json()["message"]


def sidebar_tables(driver):
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, ".sidebar .nav-table")]


def test_the_region_switch_shows_another_regions_tables(server):
    create(client(server, "eu-west-1"), "switch-ireland")
    create(client(server, "ap-southeast-2"), "switch-sydney")
    driver = start_browser()
    try:
        driver.get(server.new_link())
        wait(driver, lambda d: "switch-ireland" in sidebar_tables(d), "the server's region's tables")
        assert "switch-sydney" not in sidebar_tables(driver)
        region = Select(driver.find_element(By.CSS_SELECTOR, "select[aria-label=Region]"))
        assert region.first_selected_option.text == "eu-west-1"
        wait(driver, lambda d: "ap-southeast-2" in [o.text for o in Select(
            d.find_element(By.CSS_SELECTOR, "select[aria-label=Region]")).options], "regions listed")
        region.select_by_visible_text("ap-southeast-2")
        wait(driver, lambda d: "switch-sydney" in sidebar_tables(d), "the other region's tables")
        assert "switch-ireland" not in sidebar_tables(driver)
        assert Select(driver.find_element(By.CSS_SELECTOR, "select[aria-label=Region]")
                      ).first_selected_option.text == "ap-southeast-2"
        shot(driver, "region-switch")
        assert page_errors(driver) == []
    finally:
        stop_browser(driver)
