"""The UI in headless Chromium shows current data literally, to signed-in annotators (issue 15).

One server on one workspace serves the module: a hostile corpus (tests/hostile.py) on every page,
sign-in that survives a reload, keyboard labelling without a lost key, and ``curate ui`` itself.
Every test records the page's requests and asserts none leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from types import SimpleNamespace

import pytest

from curate import dedup, train, versions
from curate.ingest import ingest
from curate.label import annotations, annotators, questions
from curate.store.workspace import Workspace
from tests.conftest import ROOT, UiServer, _free_port, choose, outside_requests, sign_in_page, wait_for_app
from tests.hostile_text import BEACON, COLUMN, LABELS, TEXTS, write_corpus

pytestmark = pytest.mark.browser
NOTE = "![n](http://beacon.invalid/note.png) :smile: <i>note</i>\n  second line"
KEYS = 60          # examples of the keyboard dataset
LITERAL = "pre.curate-literal"


@pytest.fixture(scope="module")
def hostile_ws(tmp_path_factory) -> tuple[Workspace, str]:
    """Hostile data, dedup clusters, a version with a hostile note, a keyboard dataset, an annotator."""
    tmp = tmp_path_factory.mktemp("hostile")
    ws = Workspace(tmp / "ws")
    ingest(ws, [write_corpus(tmp / "h.jsonl", copies=3)], "hostile")
    keys = tmp / "k.jsonl"
    keys.write_text("".join(json.dumps({"text": f"keyboard item number {i}", "label": str(i % 2)}) + "\n"
                            for i in range(KEYS)))
    ingest(ws, [keys], "keys")
    sft = tmp / "s.jsonl"
    sft.write_text(json.dumps({"instruction": "Say hi", "response": "hello there"}) + "\n")
    ingest(ws, [sft], "resp")
    questions.add_question(ws, "resp", "response", "response")
    dedup.run_dedup(ws, "hostile", method="minhash", threshold=0.5)
    token = annotators.add_annotator(ws, "alice")
    versions.create_version(ws, "hostile", "v1", note=NOTE, created_by="alice")
    dev = tmp / "dev.jsonl"                                  # the hostile texts, labels swapped: every item fails
    dev.write_text("".join(json.dumps({"text": t, "label": LABELS[(i + 1) % 2]}) + "\n" for i, t in enumerate(TEXTS)))
    ingest(ws, [dev], "hostile-dev")
    versions.create_version(ws, "hostile-dev", "v1")
    versions.pin_eval_set(ws, "hostile-dev:v1", "all", "hostile-dev")
    train.execute(ws, train.create(ws, "hostile:v1", baseline=True))  # for the Compare page
    return ws, token


@pytest.fixture(scope="module")
def server(hostile_ws, tmp_path_factory):
    srv = UiServer(hostile_ws[0].root, tmp_path_factory.mktemp("logs") / "streamlit.log")
    yield srv
    srv.stop()


@pytest.fixture
def tab(browser, server, hostile_ws):
    """A page signed in as alice (session cookie), recording requests that leave 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    sign_in_page(pg, server, hostile_ws[0], "alice")
    pg.outside = outside_requests(pg)
    yield pg
    context.close()


def _literal_texts(page) -> list[str]:
    return page.locator(LITERAL).all_inner_texts()


def _open(page, url: str, dataset: str) -> None:
    page.goto(url)
    wait_for_app(page)
    choose(page, "Dataset", dataset)


def _no_beacon(page) -> None:
    assert page.locator(f"img[src*='{BEACON}'], a[href*='{BEACON}']").count() == 0
    assert "😄" not in page.inner_text("body")
    assert page.outside == []


def test_hostile_corpus_is_shown_literally_on_every_page(tab, server, tmp_path) -> None:
    page = tab
    page.goto(f"{server.url}/")                             # Data is the default page
    wait_for_app(page)
    choose(page, "Dataset", "hostile")
    for i, text in enumerate(TEXTS, start=1):            # Data: each example's fields, byte for byte
        if i > 1:                                          # example 1 is shown first
            choose(page, "Show example", str(i))
        page.wait_for_function("t => [...document.querySelectorAll('pre.curate-literal')].some(p => p.innerText === t)",
                               arg=text)
        assert LABELS[(i - 1) % 2] in _literal_texts(page)
    csv = tmp_path / "cols.csv"                            # an uploaded file's column names
    csv.write_text(f"text,{COLUMN}\nhello,1\n")
    page.get_by_text("Add data: upload a file").click()
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(csv))
    caption = page.locator("[data-testid='stCaptionContainer']", has_text="2 columns")
    caption.wait_for()
    assert caption.inner_text().replace("\u2060", "") == f"2 columns: text, {COLUMN}"
    _no_beacon(page)

    _open(page, f"{server.url}/label", "hostile")          # Label: the text and the label buttons
    page.wait_for_function("ts => [...document.querySelectorAll('pre.curate-literal')].some(p => ts.includes(p.innerText))",
                           arg=TEXTS)
    wait_for_app(page)
    buttons = [page.locator(f".st-key-lbl_opt_{i} button").inner_text().replace("\u2060", "") for i in (0, 1)]
    assert buttons == [f"{label} {key}" for key, label in enumerate(sorted(LABELS), start=1)]  # label, then its key
    assert f"given label: {LABELS[0]}" in page.inner_text("[data-testid='stMain']").replace("\u2060", "")
    _no_beacon(page)

    _open(page, f"{server.url}/dedup", "hostile")          # Dedup: cluster members
    page.wait_for_selector("text=/Cluster #\\d+/")
    members = page.locator("pre").all_inner_texts()
    assert any(m in TEXTS for m in members), members
    page.wait_for_selector("text=Decided by alice")
    _no_beacon(page)

    _open(page, f"{server.url}/versions", "hostile")       # Versions: the note and who made it
    page.wait_for_function("t => [...document.querySelectorAll('pre.curate-literal')].some(p => p.innerText === t)",
                           arg=NOTE)
    page.wait_for_selector("text=by alice")
    _no_beacon(page)

    _open(page, f"{server.url}/compare", "hostile")        # Compare: classes, failed items, nearest rows
    page.wait_for_selector("text=the same rows for every version")
    board = page.locator(".st-key-cmp_board [data-testid='stDataFrame'] td")
    board.filter(has_text="hostile-dev").first.wait_for(state="attached")
    assert f"{LABELS[1]}, {LABELS[0]}" in [c.strip() for c in board.all_text_contents()]
    failed = page.get_by_role("combobox", name="Failed eval item (5)")
    assert failed.input_value().endswith(f" · expected {LABELS[1]}, got {LABELS[0]} · {TEXTS[0][:80]}")
    page.get_by_role("button", name="Find nearest training rows").click()
    near = page.locator(".st-key-cmp_neighbours [data-testid='stDataFrame'] td")
    near.filter(has_text="tags stay tags").first.wait_for(state="attached", timeout=60_000)
    assert TEXTS[0] in [c.strip() for c in near.all_text_contents()]
    _no_beacon(page)


def test_sign_in_survives_a_reload_until_sign_out(browser, server, hostile_ws) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.outside = outside_requests(page)
    page.goto(f"{server.url}/versions")                   # every page asks, not only Label
    page.wait_for_selector("input[aria-label='Sign-in token']")
    wait_for_app(page)
    assert page.locator("h2:has-text('Versions')").count() == 0
    page.locator("input[aria-label='Sign-in token']").fill(hostile_ws[1])
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Signed in as alice")
    page.wait_for_selector("h2:has-text('Versions')")
    page.reload()                                           # a reload keeps the annotator signed in
    page.wait_for_selector("h2:has-text('Versions')")
    wait_for_app(page)
    assert page.locator("input[aria-label='Sign-in token']").count() == 0
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_selector("input[aria-label='Sign-in token']")
    page.reload()                                           # and sign-out ends the session
    page.wait_for_selector("input[aria-label='Sign-in token']")
    assert page.outside == []
    context.close()


def test_fifty_items_by_keyboard_at_fifty_ms_per_key(tab, server, hostile_ws) -> None:
    ws = hostile_ws[0]
    page = tab
    page.goto(f"{server.url}/label")
    wait_for_app(page)
    choose(page, "Dataset", "keys")                         # focus leaves the list after the choice:
    page.wait_for_selector("text=Example 16 ·")             # the keys dataset starts after hostile's 15
    page.wait_for_function("!!(window.__curateLabelKeys && window.__curateLabelKeys.send)")  # keys component loaded
    page.keyboard.press("j")                                # J moves on (it is not typed into the list)
    page.wait_for_selector("text=Example 17 ·")
    page.keyboard.press("ArrowLeft")                        # ← comes back
    page.wait_for_selector("text=Example 16 ·")
    wait_for_app(page)
    assert page.get_by_role("button", name="Prev").count() == 1 and page.get_by_role("button", name="Next").count() == 1
    for n in range(50):                                     # digit, 50 ms, Enter, 50 ms: nothing waits for the page
        page.keyboard.press(str(n % 2))
        page.wait_for_timeout(50)
        page.keyboard.press("Enter")
        page.wait_for_timeout(50)
    page.wait_for_selector("text=Example 66 ·", timeout=60_000)
    wait_for_app(page)
    q = questions.get_question(ws, "keys")
    stored = {a["example_id"]: a["value"] for a in annotations.export_labels(ws, "keys", question=q.name)
              if a["annotator"] == "alice"}
    assert stored == {16 + n: str(n % 2) for n in range(50)}
    assert page.outside == []


def test_enter_skips_an_item_another_annotator_completed_meanwhile(tab, server, hostile_ws) -> None:
    """The page keeps the queue's next ids between answers; Enter shows the next one still queued."""
    ws, page = hostile_ws[0], tab
    _open(page, f"{server.url}/label", "keys")
    page.wait_for_function("!!(window.__curateLabelKeys && window.__curateLabelKeys.send)")
    page.wait_for_selector("text=keyboard item number")   # the keys dataset's item, not the page's first one
    cur = int(page.inner_text("[data-testid='stMain']").split("Example ")[1].split(" ")[0])
    q = questions.get_question(ws, "keys")                  # overlap 1: bob's answer completes cur + 1
    annotations.record(ws, q, cur + 1, "0", "bob")
    page.keyboard.press("1")
    page.wait_for_selector(".st-key-lbl_opt_1 [data-testid='stBaseButton-primary']")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"text=Example {cur + 2} ·")
    page.wait_for_selector(f"text=keyboard item number {cur + 2 - 16}")
    wait_for_app(page)
    current = {(a["example_id"], a["annotator"]): a["value"] for a in annotations.export_labels(ws, "keys")}
    assert current[(cur, "alice")] == "1" and current[(cur + 1, "bob")] == "0"
    assert (cur + 1, "alice") not in current
    assert page.outside == []


def test_escape_leaves_the_response_editor(tab, server, hostile_ws) -> None:
    ws, page = hostile_ws[0], tab
    page.goto(f"{server.url}/label")
    wait_for_app(page)
    choose(page, "Dataset", "resp")
    page.wait_for_selector("textarea")
    page.keyboard.press("e")
    page.wait_for_function("document.activeElement && document.activeElement.tagName === 'TEXTAREA'")
    page.keyboard.press("End")
    page.keyboard.type(", friend")
    page.keyboard.press("Escape")                           # leaves the box, keeps the text
    page.wait_for_function("document.activeElement.tagName !== 'TEXTAREA'")
    wait_for_app(page)
    page.keyboard.press("Enter")                            # submits instead of adding a newline
    page.wait_for_selector("text=Saved example")
    wait_for_app(page)
    q = questions.get_question(ws, "resp", "response")
    answers = [a["value"] for a in annotations.export_labels(ws, "resp", question=q.name)]
    assert answers == ["hello there, friend"]
    assert page.outside == []


def _wait_healthy(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"curate ui did not serve {url}")


def test_curate_ui_serves_localhost_deep_links_and_stops(tmp_path, browser, hostile_ws) -> None:
    ws = hostile_ws[0]
    port = _free_port()
    log = open(tmp_path / "ui.log", "wb")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "curate", "ui", str(ws.root), "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        outside = outside_requests(page)

        sign_in_page(page, SimpleNamespace(url=url), ws, "alice")
        page.goto(f"{url}/label")                            # a deep link on a fresh server
        page.wait_for_selector("h2:has-text('Label')")
        wait_for_app(page)
        assert page.locator("text=curate page").count() == 0  # no module files listed as pages
        assert outside == []
        context.close()
    finally:
        proc.send_signal(signal.SIGTERM)                     # stopping `curate ui` stops the server
        proc.wait(20)
        log.close()
    text = (tmp_path / "ui.log").read_text()
    assert "Network URL" not in text and f"http://localhost:{port}" in text
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
