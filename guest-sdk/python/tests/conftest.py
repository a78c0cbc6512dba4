"""Runs the SDK's tests on CPython: the package from this checkout, no host (table calls go to
a handler each test installs with tarn.testing)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tarn import testing  # noqa: E402


@pytest.fixture(autouse=True)
def no_host():
    """Each test starts without a table handler."""
    testing.clear_tables_handler()
    yield
    testing.clear_tables_handler()


@pytest.fixture
def record():
    """record(answer): installs a handler that answers every call with `answer` (a dict, or a
    function of (operation, request)); returns its transport (`.calls`, `.logs`)."""

    def install(answer):
        return testing.set_tables_handler(answer if callable(answer) else (lambda op, req: answer))

    return install
