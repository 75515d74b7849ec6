"""The Select view of the Versions page in a real browser: move the budget, see the pick, create the version."""

from __future__ import annotations

import json
import re

import pytest

from conftest import SAMPLE, rerun, wait_for_app
from curate import select as selection, versions
from curate.ingest import ingest

pytestmark = pytest.mark.browser


def test_select_view_previews_and_creates_a_version(workspace, tmp_path, ui_server, page) -> None:
    rows = [json.loads(line) for line in (SAMPLE / "sst2_sentences.jsonl").read_text().splitlines()][:100]
    path = tmp_path / "sst2.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ingest(workspace, [path], "sst2")
    versions.create_version(workspace, "sst2", "v1")
    pool = len(versions.load_rows(workspace, "sst2:v1", "train"))
    # Embed here (the model may already be loaded in this process): the server then reads them from the store.
    selection.build_pool(workspace, selection.load_source(workspace, "sst2:v1"), {}, embeddings=True)
    server = ui_server(workspace)
    page.goto(f"{server.url}/versions")
    wait_for_app(page)
    page.locator(".st-key-ver_view").get_by_text("Select", exact=True).click()
    wait_for_app(page)
    counts = page.locator(".st-key-sel_counts [data-testid='stDataFrame'] td")
    counts.first.wait_for(state="attached")
    page.get_by_text(re.compile(rf"{pool // 4} of {pool} pool rows")).wait_for()
    slider = page.get_by_role("slider")   # one key per rerun (see conftest.rerun)
    for _ in range(5):
        rerun(page, lambda: slider.press("ArrowRight"))
    budget = pool // 4 + 5
    page.get_by_text(re.compile(rf"{budget} of {pool} pool rows")).wait_for()
    page.locator("[data-testid='stVegaLiteChart'], [data-testid='stArrowVegaLiteChart']").first.wait_for()
    page.get_by_role("button", name="Create version").click()
    page.get_by_text(re.compile(rf"Created sst2:sel1: {budget} rows selected from sst2:v1")).wait_for()
    made = versions.load_rows(workspace, "sst2:sel1", "train")
    assert len(made) == budget
    why = selection.selection_of(workspace, "sst2:sel1")
    assert {w["example_id"] for w in why} == {r["example_id"] for r in made}
    assert versions.get_version(workspace, "sst2:sel1").params["selection"]["strategy"] == {"mix": 1.0}
