"""The console's safety and its JSON API over plain HTTP (no browser): who may sign in and how,
the session cookie's flags, CSRF protection of every state-changing request (nothing is written
without the token or from another origin), the security headers, the embedded assets, the
tables list, a stream's latest records, the cost estimate, and that no secret reaches the logs.
"""

import re
import subprocess
import time

import pytest
import requests

from conftest import AwsFactory, _tarn_bin, wait_active
from console_browser import spawn_console_server


@pytest.fixture(scope="module")
def server():
    with spawn_console_server() as s:
        yield s


@pytest.fixture(scope="module")
def ddb(server):
    return AwsFactory(server.endpoint).client()


@pytest.fixture(scope="module")
def signed_in(server):
    return server.session()


def test_without_a_session_nothing_is_served_but_the_login_page(server):
    assert requests.get(server.console + "api/tables", timeout=10).status_code == 401
    assert requests.post(server.console + "api/dynamodb/ListTables", json={}, timeout=10).status_code == 401
    r = requests.get(server.console, allow_redirects=False, timeout=10)
    assert (r.status_code, r.headers["location"]) == (303, "/console/login")
    r = requests.get(server.admin + "/console", allow_redirects=False, timeout=10)
    assert (r.status_code, r.headers["location"]) == (303, "/console/")
    login = requests.get(server.admin + "/console/login", timeout=10)
    assert login.status_code == 200 and 'name="token"' in login.text
    # A forged session cookie is no session.
    assert requests.get(server.console + "api/tables", cookies={"tarn_console": "0" * 64}, timeout=10).status_code == 401


def test_sign_in_with_the_admin_token(server):
    s = requests.Session()
    wrong = s.post(server.admin + "/console/login", data={"token": "nope"}, allow_redirects=False, timeout=10)
    assert wrong.status_code == 401 and "not the admin token" in wrong.text
    assert "set-cookie" not in wrong.headers
    # A sign-in posted from another site's page is refused, even with the right token.
    other = s.post(server.admin + "/console/login", data={"token": server.admin_token()},
                   headers={"Origin": "http://evil.example"}, allow_redirects=False, timeout=10)
    assert other.status_code == 403 and "set-cookie" not in other.headers
    ok = s.post(server.admin + "/console/login", data={"token": server.admin_token()},
                headers={"Origin": server.admin}, allow_redirects=False, timeout=10)
    assert (ok.status_code, ok.headers["location"]) == (303, "/console/")
    cookie = ok.headers["set-cookie"]
    assert re.match(r"tarn_console=[0-9a-f]{64};", cookie), cookie
    for flag in ("HttpOnly", "SameSite=Strict", "Path=/console"):
        assert flag in cookie
    assert s.get(server.console + "api/session", timeout=10).json()["csrf"]
    # Signing out ends the session.
    csrf = s.get(server.console + "api/session", timeout=10).json()["csrf"]
    assert s.post(server.console + "api/logout", headers={"X-Tarn-Csrf": csrf}, timeout=10).status_code == 200
    assert s.get(server.console + "api/session", timeout=10).status_code == 401


def test_one_time_links_work_once_and_need_the_admin_token(server):
    assert requests.post(server.admin + "/console/api/login-link", timeout=10).status_code == 401
    assert requests.post(server.admin + "/console/api/login-link", headers={"Authorization": "Bearer nope"},
                         timeout=10).status_code == 401
    link = server.new_link()
    first = requests.get(link, timeout=10)
    assert first.status_code == 200 and "tarn_console=" in first.headers["set-cookie"]
    again = requests.get(link, timeout=10)
    assert again.status_code == 401 and "set-cookie" not in again.headers
    assert requests.get(server.admin + "/console/login?token=" + "f" * 64, timeout=10).status_code == 401


def test_tarn_console_prints_a_new_link(server):
    out = subprocess.run([str(_tarn_bin()), "console", "--server", server.admin, "--data-dir", server.data_dir],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    link = out.stdout.strip()
    assert re.fullmatch(re.escape(server.admin) + r"/console/login\?token=[0-9a-f]{64}", link), link
    assert requests.get(link, timeout=10).status_code == 200
    assert requests.get(link, timeout=10).status_code == 401
    wrong = subprocess.run([str(_tarn_bin()), "console", "--server", server.admin, "--token", "nope"],
                           capture_output=True, text=True, timeout=30)
    assert wrong.returncode != 0 and "401" in wrong.stderr


def test_state_changes_need_the_csrf_token_and_the_same_origin(server, signed_in, ddb):
    s, csrf = signed_in
    ddb.create_table(TableName="Guarded", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    wait_active(ddb, "Guarded")
    put = {"TableName": "Guarded", "Item": {"pk": {"S": "a"}}}
    url = server.console + "api/dynamodb/PutItem"
    assert s.post(url, json=put, timeout=10).status_code == 403
    assert s.post(url, json=put, headers={"X-Tarn-Csrf": "0" * 64}, timeout=10).status_code == 403
    assert s.post(url, json=put, headers={"X-Tarn-Csrf": csrf, "Origin": "http://evil.example"}, timeout=10).status_code == 403
    assert s.post(url, json=put, headers={"X-Tarn-Csrf": csrf, "Sec-Fetch-Site": "cross-site"}, timeout=10).status_code == 403
    assert ddb.scan(TableName="Guarded")["Items"] == []
    ok = s.post(url, json=put, headers={"X-Tarn-Csrf": csrf, "Origin": server.admin}, timeout=10)
    assert ok.status_code == 200, ok.text
    assert ddb.scan(TableName="Guarded")["Items"] == [{"pk": {"S": "a"}}]
    # Reads need no token; an unknown operation or a body that is not an object is refused.
    assert s.post(server.console + "api/dynamodb/NoSuchThing", json={}, headers={"X-Tarn-Csrf": csrf}, timeout=10).status_code == 400
    bad = s.post(url, data="[1]", headers={"X-Tarn-Csrf": csrf}, timeout=10)
    assert bad.status_code == 400 and "SerializationException" in bad.json()["__type"]


def test_dynamodb_errors_come_back_as_dynamodb_words_them(server, signed_in, ddb):
    s, csrf = signed_in
    r = s.post(server.console + "api/dynamodb/DescribeTable", json={"TableName": "Nowhere"},
               headers={"X-Tarn-Csrf": csrf}, timeout=10)
    assert r.status_code == 400
    body = r.json()
    assert body["__type"].endswith("#ResourceNotFoundException")
    try:
        ddb.describe_table(TableName="Nowhere")
    except ddb.exceptions.ResourceNotFoundException as e:
        assert body["message"] == e.response["Error"]["Message"]


def test_security_headers_and_assets(server, signed_in):
    s, _ = signed_in
    for url in (server.console, server.admin + "/console/login", server.console + "api/session"):
        h = s.get(url, timeout=10).headers
        assert "script-src 'self'" in h["content-security-policy"] and "unsafe" not in h["content-security-policy"]
        assert "frame-ancestors 'none'" in h["content-security-policy"]
        assert h["x-content-type-options"] == "nosniff"
        assert h["x-frame-options"] == "DENY"
        assert h["cache-control"] == "no-store"
    js = requests.get(server.console + "assets/js/main.js", timeout=10)
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    again = requests.get(server.console + "assets/js/main.js", headers={"If-None-Match": js.headers["etag"]}, timeout=10)
    assert again.status_code == 304
    assert requests.get(server.console + "assets/vendor/uPlot.iife.min.js", timeout=10).status_code == 200
    assert requests.get(server.console + "assets/../auth.rs", timeout=10).status_code == 404


def test_tables_list_stream_records_and_cost(server, signed_in, ddb):
    s, _ = signed_in
    ddb.create_table(TableName="Listed", BillingMode="PROVISIONED",
                     ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    wait_active(ddb, "Listed")
    ddb.update_time_to_live(TableName="Listed", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    for i in range(30):
        ddb.put_item(TableName="Listed", Item={"pk": {"S": f"k{i}"}, "v": {"N": str(i)}})
    ddb.delete_item(TableName="Listed", Key={"pk": {"S": "k0"}})

    rows = {t["name"]: t for t in s.get(server.console + "api/tables", timeout=10).json()["tables"]}
    t = rows["Listed"]
    described = ddb.describe_table(TableName="Listed")["Table"]
    assert (t["status"], t["billing_mode"]) == ("ACTIVE", "PROVISIONED")
    # ItemCount as DescribeTable reports it: exact (30 puts, one delete).
    assert (t["items"], t["size_bytes"]) == (described["ItemCount"], described["TableSizeBytes"])
    assert t["items"] == 29
    assert (t["read_capacity"], t["write_capacity"]) == (7, 3)
    assert t["stream"] == "NEW_AND_OLD_IMAGES" and t["pitr"] == "DISABLED"
    assert t["ttl"]["TimeToLiveStatus"] in ("ENABLING", "ENABLED") and t["ttl"]["AttributeName"] == "exp"

    # The stream's newest records, newest last, in GetRecords' shape.
    recs = s.get(server.console + "api/tables/Listed/stream?limit=5", timeout=10).json()
    assert recs["enabled"] and recs["view_type"] == "NEW_AND_OLD_IMAGES"
    events = [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in recs["records"]]
    assert events == [("INSERT", "k26"), ("INSERT", "k27"), ("INSERT", "k28"), ("INSERT", "k29"), ("REMOVE", "k0")]
    assert recs["records"][-1]["dynamodb"]["OldImage"] == {"pk": {"S": "k0"}, "v": {"N": "0"}}
    assert s.get(server.console + "api/tables/Nowhere/stream", timeout=10).status_code == 400

    cost = s.get(server.console + "api/tables/Listed/cost", timeout=10).json()
    assert cost["prices"]["region"] == "us-east-1" and re.match(r"\d{4}-\d\d-\d\d$", cost["prices"]["read_on"])
    e, u = cost["estimate"], cost["usage"]
    assert u["provisioned"] == [7, 3] and u["billed_items"] == described["ItemCount"]
    hours = cost["prices"]["hours_per_month"]
    std = cost["prices"]["standard"]
    assert e["configured"]["reads"] == pytest.approx(7 * std["provisioned_rcu_hour"] * hours)
    assert e["configured"]["writes"] == pytest.approx(3 * std["provisioned_wcu_hour"] * hours)
    assert e["storage_gb"] == pytest.approx((u["storage_bytes"] + described["ItemCount"] * 100) / 2**30)


def test_ttl_deletions_reach_the_metrics_history(server, signed_in, ddb):
    """Items the sweeper deletes show in the table's history (the TTL tab's figures): per step
    and since the start; the item count the history keeps is exact."""
    s, _ = signed_in
    ddb.create_table(TableName="Expiring", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    wait_active(ddb, "Expiring")
    ddb.update_time_to_live(TableName="Expiring", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    expired = str(int(time.time()) - 60)
    for i in range(6):
        ddb.put_item(TableName="Expiring", Item={"pk": {"S": f"e{i}"}, "exp": {"N": expired}})
    for i in range(2):
        ddb.put_item(TableName="Expiring", Item={"pk": {"S": f"live{i}"}})
        ddb.put_item(TableName="Expiring", Item={"pk": {"S": f"live{i}"}, "v": {"N": "1"}})
    # The sweeper runs every second; a step of the history closes every 10 seconds.
    deadline = time.monotonic() + 45
    while True:
        h = s.get(server.console + "api/tables/Expiring/metrics", timeout=10).json()
        if h["ttl_deleted_total"] == 6 and h["points"] and h["points"][-1]["item_count"] == 2:
            break
        assert h["ttl_deleted_total"] in range(7), h
        assert time.monotonic() < deadline, h
        time.sleep(0.5)
    assert sum(p["ttl_deleted_items"] for p in h["points"]) == 6
    assert ddb.describe_table(TableName="Expiring")["Table"]["ItemCount"] == 2


def test_no_secret_reaches_the_logs(server, signed_in):
    """Run last in the module: by now every kind of secret has been used (debug logs on)."""
    s, csrf = signed_in
    logs = server.logs()
    assert "console" in logs, "debug logs include the console's requests"
    secrets = [server.admin_token(), csrf, s.cookies.get("tarn_console")]
    secrets += re.findall(r"token=([0-9a-f]{64})", server.stdout())
    for secret in secrets:
        assert secret and secret not in logs
    # The one-time link goes to stdout, once.
    assert len(re.findall(r"tarn console: http://", server.stdout())) == 1
