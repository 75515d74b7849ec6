"""The Curate page in a real browser: run a recipe, then move a threshold and watch the counts change."""

from __future__ import annotations

import re

import pytest

from conftest import SAMPLE, rerun, wait_for_app
from curate.ingest import ingest

pytestmark = pytest.mark.browser


def test_run_recipe_and_move_a_threshold(workspace, ui_server, page) -> None:
    ingest(workspace, [SAMPLE / "messy_reviews.jsonl"], "messy")
    server = ui_server(workspace)
    page.goto(f"{server.url}/curate")
    wait_for_app(page)
    page.get_by_text("No recipe has run on messy yet").wait_for()
    page.get_by_role("button", name="Run recipe").click()
    page.get_by_text(re.compile(r"Ran classification on messy as run #\d+")).wait_for()
    wait_for_app(page)
    live = page.get_by_text(re.compile(r"Kept at these thresholds: [\d,]+ of 155"))
    live.wait_for()
    assert "Kept at these thresholds: 143 of 155" in live.inner_text()
    page.locator("[data-testid='stExpander']").filter(has_text="too_short: 5 rows").wait_for()

    # The filter.too_short slider starts at 1.0; "good ." (2 of 3 words, length 0.67) comes back at 0.65.
    # Streamlit's react-aria slider thumb is an <input type=range> (implicit role "slider").
    slider = page.locator("[data-testid=stSlider]").filter(has_text="filter.too_short")
    slider.locator("[aria-valuetext='1.00']").wait_for()
    thumb = slider.get_by_role("slider")   # one key per rerun (see conftest.rerun)
    for _ in range(7):
        rerun(page, lambda: thumb.press("ArrowLeft"))
    page.get_by_text("Kept at these thresholds: 144 of 155").wait_for()
    for _ in range(7):
        rerun(page, lambda: thumb.press("ArrowRight"))
    page.get_by_text("Kept at these thresholds: 143 of 155").wait_for()

    # Running again is recognised as identical and skipped.
    page.get_by_role("button", name="Run recipe").click()
    page.get_by_text(re.compile(r"Identical run #\d+ of classification already done")).wait_for()
