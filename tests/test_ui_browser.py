"""The Data page in a real browser: upload a file, map its columns, ingest, and see the rows."""

from __future__ import annotations

import csv

import pytest

from conftest import choose, outside_requests, wait_for_app
from curate import browse

pytestmark = pytest.mark.browser


def test_upload_map_columns_and_browse(workspace, ui_server, page, tmp_path) -> None:
    path = tmp_path / "reviews.csv"
    rows = [("Loved it", "the plot and the cast were great", "A"), ("Dull", "nothing happens for two hours", "C"),
            ("Fine", "a decent way to spend an evening", "B")]
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows([("summary", "body", "grade"), *rows])

    server = ui_server(workspace)
    page.goto(server.url)
    wait_for_app(page)
    page.get_by_text("No datasets yet").wait_for()
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(path))
    page.get_by_text("3 columns: summary, body, grade").wait_for()
    choose(page, "text (required)", "summary")
    choose(page, "label (optional)", "grade")
    page.get_by_role("button", name="Ingest").click()
    page.get_by_text("Ingested 3 rows into reviews (classification).").wait_for()
    wait_for_app(page)

    rows_grid = page.locator(".st-key-browse_rows [data-testid='stDataFrame']")
    # The grid draws on a canvas; its cells are mirrored in an accessible (hidden) table.
    rows_grid.locator("td").filter(has_text="Loved it").wait_for(state="attached")
    cells = [c.strip() for c in rows_grid.locator("td").all_text_contents()]
    for summary, _, grade in rows:
        assert summary in cells and grade in cells
    page.get_by_text("rows 1–3 of 3 examples").wait_for()
    stored = browse.page(workspace, "reviews")
    assert [(r["text"], r["label"]) for r in stored.rows] == [(s, g) for s, _, g in rows]
    detail = browse.example(workspace, stored.rows[0]["id"])
    assert detail["raw"] == {"summary": "Loved it", "body": "the plot and the cast were great", "grade": "A"}
    assert detail["provenance"]["source"].endswith("artifacts/uploads/reviews.csv")


def test_cli_writes_while_the_ui_is_open(demo_workspace, ui_server, page, tmp_path) -> None:
    """The UI holds no connection between runs, so the CLI can ingest while a browser is on the page."""
    import subprocess
    import sys

    server = ui_server(demo_workspace)
    page.goto(server.url)
    wait_for_app(page)
    page.get_by_text("Browse").wait_for()
    extra = tmp_path / "late.jsonl"
    extra.write_text('{"text": "arrived while the UI was open", "label": "pos"}\n')
    result = subprocess.run([sys.executable, "-m", "curate.cli", "-w", str(demo_workspace.root), "ingest",
                             str(extra), "-d", "late"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    page.reload()
    wait_for_app(page)
    table = page.locator(".st-key-datasets_table [data-testid='stDataFrame'] td")
    table.filter(has_text="late").first.wait_for(state="attached")
    assert "late" in [c.strip() for c in table.all_text_contents()]


def test_upload_errors_speak_of_the_form_and_ingest_waits_for_required_fields(workspace, ui_server, page,
                                                                                tmp_path) -> None:
    """An upload's error names the uploaded file and what to do in the form (never a server path or a
    CLI flag); Ingest stays disabled while a required field has no column."""
    path = tmp_path / "reviews.jsonl"
    path.write_text('{"review": "good", "stars": 1}\n{"stars": 0}\n')
    server = ui_server(workspace)
    outside = outside_requests(page)
    page.goto(server.url)
    wait_for_app(page)
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(path))
    page.get_by_text("2 columns: review, stars").wait_for()
    ingest = page.get_by_role("button", name="Ingest")

    def error_after_ingest(expected: str) -> str:
        ingest.click()
        page.locator("[data-testid='stAlertContentError']").filter(has_text=expected).wait_for()
        wait_for_app(page)
        text = page.locator("[data-testid='stAlertContentError']").inner_text()
        assert "--" not in text and "artifacts" not in text and str(workspace.root) not in text, text
        return text

    text = error_after_ingest("record has no value")           # line 2 has no review
    assert text.startswith("reviews.jsonl:2: record has no value for a required field"), text
    assert "Map columns to fields" in text and "upload" in text
    page.get_by_label("Dataset (new or existing)").fill("bad name!")
    page.get_by_label("Dataset (new or existing)").press("Enter")
    wait_for_app(page)
    assert error_after_ingest("invalid dataset name").startswith("Dataset (new or existing): invalid dataset name")

    choose(page, "text (required)", "—")                        # a required field without a column
    page.get_by_text("Map a column to text").wait_for()
    assert ingest.is_disabled()
    choose(page, "text (required)", "review")
    assert ingest.is_enabled()
    choose(page, "Task", "spans")                               # spans: text and spans, or tokens and ner_tags
    choose(page, "spans (one pair required)", "—")
    page.get_by_text("Map a column to text and spans, or to tokens and ner_tags").wait_for()
    assert ingest.is_disabled()
    assert outside == []
