"""The Train and Compare pages in a real browser: one click starts a baseline, its score shows on Compare."""

from __future__ import annotations

import re

import pytest

from curate import train, versions
from curate.store.workspace import Workspace
from tests.conftest import wait_for_app


@pytest.mark.browser
def test_baseline_from_train_page_shows_on_compare_page(demo_workspace: Workspace, ui_server, page) -> None:
    ws = demo_workspace
    versions.create_version(ws, "sst2", "browser", note="made by the browser test")
    server = ui_server(ws)
    page.goto(f"{server.url}/train")
    wait_for_app(page)
    page.get_by_role("combobox", name="Dataset", exact=True).click()
    page.get_by_role("option", name="sst2", exact=True).click()
    wait_for_app(page)
    assert page.get_by_role("combobox", name="Version", exact=True).input_value() == "browser"
    page.get_by_text("Quick baseline", exact=True).click()
    wait_for_app(page)
    page.get_by_role("button", name="Train").click()
    page.wait_for_selector("text=/Started model run \\d+ on sst2:browser/")
    run_id = int(re.search(r"Started model run (\d+)", page.inner_text("[data-testid='stMain']")).group(1))
    page.wait_for_selector(f"text=Latest: model run {run_id}", timeout=180_000)
    wait_for_app(page)
    accuracy = next(iter(train.scores(ws, run_id).values()))["accuracy"]

    # a reload keeps everything: the runs live in the store, not in the session
    page.reload()
    wait_for_app(page)
    page.wait_for_selector(f"text=Latest: model run {run_id}")

    page.goto(f"{server.url}/compare")
    wait_for_app(page)
    page.get_by_role("combobox", name="Dataset", exact=True).click()
    page.get_by_role("option", name="sst2", exact=True).click()
    wait_for_app(page)
    cells = page.locator(".st-key-cmp_board [data-testid='stDataFrame'] td")
    cells.first.wait_for(state="attached")
    texts = [t.strip() for t in cells.all_inner_texts()]
    row = texts.index(str(run_id))
    assert "browser" in texts[row - 3: row] and "baseline" in texts[row - 3: row]
    assert abs(float(texts[row + 1]) - accuracy) < 1e-3, texts[row - 3: row + 3]
