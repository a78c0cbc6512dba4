"""The console of a cluster node (`tarn serve --engine URL`), in a real browser: its tables are
the engine's (a table created directly in the engine, through another tarn serving as the
engine, is listed and opened), and its header names the node. No sleeps (every wait polls).
"""

import os
import tempfile

import pytest
from selenium.webdriver.common.by import By

from conftest import AwsFactory, wait_active
from console_browser import page_errors, shot, spawn_console_server, start_browser, stop_browser, wait


@pytest.fixture(scope="module")
def engine():
    with spawn_console_server() as s:
        yield s


@pytest.fixture(scope="module")
def node(engine):
    keys = os.path.join(tempfile.mkdtemp(prefix="tarn-engine-keys-"), "credentials")
    with open(keys, "w") as f:
        f.write("[default]\naws_access_key_id = test\naws_secret_access_key = test\n")
    with spawn_console_server("--engine", engine.endpoint, "--engine-region", "us-east-1",
                              "--engine-credentials-file", keys, "--node-id", "node-q") as s:
        yield s


def test_a_nodes_console_shows_the_engines_tables_and_names_the_node(engine, node):
    ddb = AwsFactory(engine.endpoint).client()
    ddb.create_table(
        TableName="in-the-engine", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    wait_active(ddb, "in-the-engine")
    ddb.put_item(TableName="in-the-engine", Item={"pk": {"S": "seen-from-the-node"}})

    driver = start_browser()
    try:
        driver.get(node.new_link())
        badge = wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".topbar .node").text, "the node badge")
        assert badge == "node node-q"
        assert "node-q" == driver.find_element(By.CSS_SELECTOR, ".topbar .node").get_attribute("data-node")
        wait(driver, lambda d: "in-the-engine" in [a.text for a in d.find_elements(By.CSS_SELECTOR, ".sidebar .nav-table")],
             "the engine's table in the sidebar")
        driver.get(f"{node.console}#/tables/in-the-engine/items")
        wait(driver, lambda d: "seen-from-the-node" in d.find_element(By.CSS_SELECTOR, "main").text,
             "the engine's item on the Items tab")
        shot(driver, "cluster-node")
        assert page_errors(driver) == []
    finally:
        stop_browser(driver)
    # The engine's own console (a single server) shows no node badge.
    driver = start_browser()
    try:
        driver.get(engine.new_link())
        wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".page-head h1").text == "Tables", "signed in")
        assert driver.find_elements(By.CSS_SELECTOR, ".topbar .node") == []
    finally:
        stop_browser(driver)
