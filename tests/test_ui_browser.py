"""The Data page in a real browser: upload a file, map its columns, ingest, and see the rows."""

from __future__ import annotations

import csv

import pytest

from conftest import choose, wait_for_app
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
