"""The Versions page in a real browser: create a version and open its diff with the parent."""

from __future__ import annotations

import re

import pytest

from conftest import choose, wait_for_app
from curate import versions

pytestmark = pytest.mark.browser


def test_create_a_version_and_open_its_diff(demo_workspace, ui_server, page) -> None:
    versions.create_version(demo_workspace, "messy", "base", exclude=())   # every row, issues ignored
    flagged = versions.issue_kinds(demo_workspace, "messy")
    server = ui_server(demo_workspace)
    page.goto(f"{server.url}/versions")
    wait_for_app(page)
    page.get_by_role("heading", name="Versions").wait_for()
    choose(page, "Dataset", "messy")
    page.locator(".st-key-ver_list [data-testid='stDataFrame'] td").filter(has_text="messy:base").first.wait_for(state="attached")

    page.locator(".st-key-ver_view").get_by_text("Create", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name="Create version").click()
    page.get_by_text(re.compile(r"Created messy:v2: \d+ rows")).wait_for()
    wait_for_app(page)
    made = versions.get_version(demo_workspace, "messy:v2")
    assert made.parent == "messy:base" and set(made.params["exclude"]) == set(flagged)

    page.get_by_role("button", name="Open the diff messy:base → messy:v2").click()
    wait_for_app(page)
    assert page.get_by_role("combobox", name="From", exact=True).input_value() == "messy:base"
    assert page.get_by_role("combobox", name="To", exact=True).input_value() == "messy:v2"
    removed = made.counters.total - made.counters.kept
    page.locator("[data-testid='stMetric']").filter(has_text="Removed").filter(has_text=str(removed)).wait_for()
    cells = page.locator(".st-key-ver_diff_rows [data-testid='stDataFrame'] td")
    cells.filter(has_text="issue:is_dup").first.wait_for(state="attached")
    reasons = page.locator(".st-key-ver_diff_reasons [data-testid='stDataFrame'] td")
    reasons.filter(has_text="issue:too_short").first.wait_for(state="attached")
