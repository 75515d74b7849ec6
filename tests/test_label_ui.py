"""The Label page in a real browser: sign in, label with the keyboard alone, reload, disagreements."""

from __future__ import annotations

import re

import pytest

from curate.label import annotations, annotators, questions, queues
from curate.store.workspace import Workspace
from tests.conftest import wait_for_app

EXAMPLE = re.compile(r"Example (\d+) · ")
PICKED = ".st-key-lbl_opt_{} [data-testid='stBaseButton-primary']"


def _current(page) -> int:
    page.wait_for_selector("text=/Example \\d+ · /")
    return int(EXAMPLE.search(page.inner_text("[data-testid='stMain']")).group(1))


def _wait_example_changes(page, old: int) -> int:
    page.wait_for_function(
        "old => { const m = document.querySelector(\"[data-testid='stMain']\").innerText.match(/Example (\\d+) · /);"
        " return m && Number(m[1]) !== old; }", arg=old)
    wait_for_app(page)
    return _current(page)


def _sign_in(page, token: str) -> None:
    wait_for_app(page)
    page.locator("input[aria-label='Sign-in token']").focus()
    page.keyboard.type(token)
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Signed in as")
    wait_for_app(page)


@pytest.mark.browser
def test_label_five_with_keyboard_then_reload_and_disagree(demo_workspace: Workspace, ui_server, page) -> None:
    ws = demo_workspace
    token = annotators.add_annotator(ws, "carol")
    server = ui_server(ws, sign_in=None)
    page.goto(f"{server.url}/label")
    page.wait_for_selector("input[aria-label='Sign-in token']")
    page.locator("input[aria-label='Sign-in token']").focus()
    page.keyboard.type("not-a-token")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=unknown sign-in token")
    page.locator("input[aria-label='Sign-in token']").fill("")
    _sign_in(page, token)
    page.wait_for_selector("text=Keys")

    # J moves on, K (and ←) come back: navigation without a mouse.
    first = _current(page)
    page.keyboard.press("j")
    second = _wait_example_changes(page, first)
    page.keyboard.press("ArrowLeft")
    assert _wait_example_changes(page, second) == first

    q = questions.get_question(ws, "sst2", "label")
    assert q.options == ["negative", "positive"]      # the demo ingests SST-2 with its class names
    labelled: dict[int, str] = {}
    for n in range(5):
        current = _current(page)
        page.keyboard.press(str(n % 2 + 1))     # alternate the classes negative and positive: keys 1 and 2
        page.wait_for_selector(PICKED.format(n % 2))
        wait_for_app(page)
        page.keyboard.press("Enter")
        labelled[current] = q.options[n % 2]
        if n < 4:
            _wait_example_changes(page, current)
        else:
            page.wait_for_selector(f"text=Saved example {current}")
    wait_for_app(page)

    # Stored at once: the store has exactly these five answers by carol.
    stored = {a["example_id"]: a["value"] for a in annotations.export_labels(ws, "sst2", question="label")
              if a["annotator"] == "carol"}
    assert stored == labelled

    # A reload loses nothing and keeps carol signed in: find them in "mine".
    page.reload()
    page.wait_for_selector("text=Signed in as carol")
    wait_for_app(page)
    page.get_by_text("mine", exact=True).click()
    page.wait_for_selector("text=mine queue")
    wait_for_app(page)
    last = list(labelled)[-1]
    assert _current(page) == last
    page.wait_for_selector(f"text=your answer: {labelled[last]}")

    # A second annotator disagrees with carol: the example appears in the disagreement queue.
    target = list(labelled)[0]
    other = {"negative": "positive", "positive": "negative"}[labelled[target]]
    annotations.record(ws, q, target, other, "bob")
    assert target in queues.fetch(ws, q, "carol", "disagreements", limit=500)
    page.get_by_text("disagreements", exact=True).click()
    page.wait_for_selector("text=disagreements queue")
    wait_for_app(page)
    page.evaluate("document.activeElement.blur()")  # arrows inside the queue switcher would move its selection
    for _ in range(40):  # walk the queue with the keyboard until carol's example shows up
        current = _current(page)
        if current == target:
            break
        page.keyboard.press("ArrowRight")
        _wait_example_changes(page, current)
    assert _current(page) == target
    page.wait_for_selector(f"text=bob → {other}")
    page.wait_for_selector(f"text=carol → {labelled[target]}")


@pytest.mark.parametrize("view", ["Label", "Agreement", "Pre-labels & suspects", "Setup"])
def test_every_label_view_renders_on_the_demo(demo_workspace: Workspace, monkeypatch, view: str) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("CURATE_WORKSPACE", str(demo_workspace.root))
    at = AppTest.from_string("from curate.ui.pages import label\nlabel.render()", default_timeout=120)
    at.session_state["annotator"] = "alice"  # signed in (see curate.ui.state)
    at.session_state["lbl_view"] = view
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    text = " ".join(m.value for m in at.markdown) + " ".join(str(m.value) for m in at.metric)
    expected = {"Label": "Example", "Agreement": "Cohen", "Pre-labels & suspects": "", "Setup": "Add a question"}[view]
    assert expected in text
    if view == "Agreement":
        assert [m.value for m in at.metric][1] != "—"  # Fleiss' κ of alice vs bob in the demo
