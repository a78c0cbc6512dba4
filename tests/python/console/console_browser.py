"""What the console's browser tests share: a `tarn serve` whose stdout (where the one-time
sign-in link goes) and stderr (the logs) are kept apart, a headless Chromium driven by
Selenium, and small waiting helpers (no sleeps: every wait polls for an element or a state).

The browser is Debian's chromium with chromium-driver (scripts/system-deps.sh installs them);
Selenium comes from PyPI (tests/python/requirements.txt). Screenshots go to
target/console-screenshots/.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import REPO_ROOT, _tarn_bin

CHROMIUM = os.environ.get("TARN_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("TARN_CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = REPO_ROOT / "target" / "console-screenshots"
WAIT_S = 20


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ConsoleServer:
    """A running `tarn serve` with its ports, its admin token and its two output files."""

    def __init__(self, proc, tmp, data_dir, ports):
        self.proc = proc
        self.tmp = tmp
        self.data_dir = data_dir
        self.endpoint = f"http://127.0.0.1:{ports['dynamodb']}"
        self.functions = f"http://127.0.0.1:{ports['functions']}"
        self.admin = f"http://127.0.0.1:{ports['admin']}"
        self.console = f"{self.admin}/console/"

    def stdout(self):
        return Path(self.tmp, "stdout.log").read_text(errors="replace")

    def logs(self):
        return Path(self.tmp, "stderr.log").read_text(errors="replace")

    def admin_token(self):
        return Path(self.data_dir, "admin-token").read_text().strip()

    def announced_link(self):
        """The one-time sign-in link `tarn serve` printed on stdout."""
        deadline = time.monotonic() + 60
        while True:
            m = re.search(r"tarn console: (http://\S+)", self.stdout())
            if m:
                return m.group(1)
            assert self.proc.poll() is None, f"tarn exited:\n{self.logs()[-3000:]}"
            assert time.monotonic() < deadline, f"no console link on stdout:\n{self.logs()[-3000:]}"
            time.sleep(0.05)

    def new_link(self):
        """A fresh one-time sign-in link (what `tarn console` asks for)."""
        r = requests.post(f"{self.admin}/console/api/login-link",
                          headers={"Authorization": f"Bearer {self.admin_token()}"}, timeout=10)
        r.raise_for_status()
        return self.admin + r.json()["path"]

    def session(self):
        """A requests session signed in to the console, and its CSRF token."""
        s = requests.Session()
        r = s.get(self.new_link(), timeout=10)
        assert r.status_code == 200, r.text
        csrf = s.get(f"{self.console}api/session", timeout=10).json()["csrf"]
        return s, csrf


@contextlib.contextmanager
def spawn_console_server(*extra_args):
    """Starts `tarn serve` (free ports, a temporary data directory, debug logs) and waits until
    its console answers; stops it with SIGTERM."""
    tmp = tempfile.mkdtemp(prefix="tarn-console-")
    data_dir = os.path.join(tmp, "data")
    ports = {"dynamodb": _free_port(), "functions": _free_port(), "admin": _free_port()}
    env = dict(os.environ, TARN_LOG="debug,fjall=warn,lsm_tree=warn,wasmtime=info,cranelift=info")
    out = open(os.path.join(tmp, "stdout.log"), "wb")
    err = open(os.path.join(tmp, "stderr.log"), "wb")
    proc = subprocess.Popen(
        [str(_tarn_bin()), "serve", "--listen", f"127.0.0.1:{ports['dynamodb']}",
         "--functions-listen", f"127.0.0.1:{ports['functions']}",
         "--admin-listen", f"127.0.0.1:{ports['admin']}", "--data-dir", data_dir, *extra_args],
        stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=tmp, env=env,
    )
    server = ConsoleServer(proc, tmp, data_dir, ports)
    try:
        server.announced_link()
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        out.close()
        err.close()
        shutil.rmtree(tmp, ignore_errors=True)


def start_browser():
    """A headless Chromium (a fresh profile) driven through chromedriver."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail(f"{CHROMIUM} or {CHROMEDRIVER} is missing: run scripts/system-deps.sh")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1440,900", "--disable-dev-shm-usage"):
        opts.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="tarn-chromium-")
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.profile_dir = profile
    return driver


def stop_browser(driver):
    try:
        driver.quit()
    finally:
        shutil.rmtree(driver.profile_dir, ignore_errors=True)


def page_errors(driver):
    """JavaScript errors the page logged (uncaught exceptions, failed scripts)."""
    return [e for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and "favicon" not in e["message"]]


def wait(driver, predicate, what, timeout=WAIT_S):
    """Polls `predicate(driver)` until it returns something true, and returns that."""
    def check(d):
        try:
            return predicate(d)
        except (StaleElementReferenceException, WebDriverException):
            return False
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(check)
    except Exception as e:
        shot(driver, "failed-" + re.sub(r"[^a-z0-9]+", "-", what.lower())[:50])
        raise AssertionError(f"{what}: not within {timeout}s; page errors: {page_errors(driver)}") from e


def find(driver, css, timeout=WAIT_S):
    """The first visible element matching `css`, once there is one."""
    return wait(driver, lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), None),
                f"element {css}", timeout)


def button(driver, text, scope="", timeout=WAIT_S):
    """The visible, enabled button whose text is `text` (within `scope`, a CSS selector)."""
    def pick(d):
        for b in d.find_elements(By.CSS_SELECTOR, f"{scope} button".strip()):
            if b.is_displayed() and b.is_enabled() and b.text.strip() == text:
                return b
        return None
    return wait(driver, pick, f"button {text!r}", timeout)


def text_of(driver, css):
    return " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, css))


def set_value(driver, element, value):
    """Sets an input's or textarea's value as typing would (one input event)."""
    driver.execute_script(
        "const e = arguments[0]; const set = Object.getOwnPropertyDescriptor(e.__proto__, 'value').set;"
        "set.call(e, arguments[1]); e.dispatchEvent(new Event('input', {bubbles: true}));",
        element, value)


def shot(driver, name):
    """Saves a screenshot as target/console-screenshots/<name>.png and returns its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def dynamodb_error(client, **put):
    """The (code, message) DynamoDB's port answers PutItem `put` with."""
    try:
        client.put_item(**put)
    except client.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["Error"]["Message"]
    raise AssertionError(f"PutItem {json.dumps(put)[:200]} was accepted")
