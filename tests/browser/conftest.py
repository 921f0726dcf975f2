"""Browser tests keep a screenshot of the page in test-artifacts/ when they fail.

A test's pages are the `SitePage` values among its fixtures (`site`); pages a
test opens itself with `open_site` take their own screenshot on the way out of
a failure (see `test_star_map.open_site`).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from playwright.sync_api import Error, Page

logger = logging.getLogger(__name__)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def failure_screenshot(page: Page, test_name: str) -> Path | None:
    """Save `failed-<test>.png` for a failed test; None when the page is gone."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
    path = ARTIFACTS / f"failed-{name}.png"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(path))
    except Error as exc:  # the page or browser closed with the failure
        logger.warning("no failure screenshot for %s: %s", test_name, exc)
        return None
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """After a failed test call, screenshot each page its fixtures still hold open."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    for value in funcargs.values():
        page = getattr(value, "page", None)
        if isinstance(page, Page) and not page.is_closed():
            saved = failure_screenshot(page, item.name)
            if saved is not None:
                report.sections.append(("failure screenshot", str(saved)))
