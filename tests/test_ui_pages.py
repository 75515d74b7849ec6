"""Every page renders on the demo workspace and on an empty one, without an exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGES = Path(__file__).resolve().parent.parent / "curate" / "ui" / "pages"


def _page_modules() -> list[str]:
    """Every page module (each has a ``render()``)."""
    return sorted(f"curate.ui.pages.{p.stem}" for p in PAGES.glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("module", _page_modules())
@pytest.mark.parametrize("which", ["demo", "empty"])
def test_page_renders_without_exception(module, which, demo_workspace, workspace, monkeypatch) -> None:
    ws = demo_workspace if which == "demo" else workspace
    monkeypatch.setenv("CURATE_WORKSPACE", str(ws.root))
    at = AppTest.from_string(f"import {module} as page\npage.render()", default_timeout=120)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_data_page_lists_demo_datasets(demo_workspace, monkeypatch) -> None:
    monkeypatch.setenv("CURATE_WORKSPACE", str(demo_workspace.root))
    at = AppTest.from_string("from curate.ui.pages import data\ndata.render()", default_timeout=60)
    at.run()
    table = at.dataframe[0].value
    assert set(table["dataset"]) >= {"sst2", "trec", "gsm8k", "gpteacher", "chat", "messy"}
    assert int(table.loc[table["dataset"] == "trec", "examples"].iloc[0]) == 300
    at.selectbox(key="browse_dataset").select("trec").run()
    at.text_input(key="browse_query").input("Popeye").run()
    assert "1 examples" in " ".join(c.value for c in at.caption)
    assert at.dataframe[1].value["text"].tolist() == ["What films featured the character Popeye Doyle ?"]


def test_full_app_router_runs(demo_workspace, monkeypatch) -> None:
    monkeypatch.setenv("CURATE_WORKSPACE", str(demo_workspace.root))
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    assert not at.exception
