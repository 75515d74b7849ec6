"""Shared fixtures: real stores in tmp_path, the demo workspace, and the real UI in headless Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from curate.store.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
CHROMIUM = os.environ.get("CURATE_CHROMIUM", "/usr/bin/chromium")
# Browser waits are bounds, not durations: each returns as soon as its condition holds, so they only decide
# how long a starved machine may take before a test fails. CI runs the suite on 2 cores that other jobs share
# (load average above 15 measured): `streamlit run`, a page's first script run (its imports) and Chromium
# then take many times longer than on an idle machine.
UI_START_S = 120       # `streamlit run` answering its health check
UI_WAIT_MS = 90_000    # anything in the page: an element, a text, a navigation, a script run
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync"]


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An empty workspace on disk (a real DuckDB file)."""
    return Workspace(tmp_path / "ws")


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace, built once per session; copy it before writing (see ``demo_workspace``)."""
    from curate.demo import build_demo

    root = tmp_path_factory.mktemp("demo-template") / "ws"
    build_demo(root)
    return root


@pytest.fixture
def demo_workspace(demo_template: Path, tmp_path: Path) -> Workspace:
    """A private copy of the demo workspace that a test may change."""
    root = tmp_path / "demo"
    shutil.copytree(demo_template, root)
    return Workspace(root)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (no browser download)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class UiServer:
    """A real ``streamlit run app.py`` on a free port, serving one workspace."""

    def __init__(self, workspace: Path, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "CURATE_WORKSPACE": str(workspace), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
        self._log = open(log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none",
             "--global.developmentMode", "false"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + UI_START_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {log.read_text()[-2000:]}")
            try:
                if urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2).status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"streamlit did not become healthy in {UI_START_S}s: {log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


@pytest.fixture
def ui_server(tmp_path: Path, page):
    """Factory: ``ui_server(workspace_path)`` starts the app on that workspace; stopped after the test.

    A workspace with annotators needs sign-in on every page: unless ``sign_in=None``, ``page`` is
    signed in as ``sign_in`` (default: the first annotator, alice in the demo) by a session cookie.
    """
    servers: list[UiServer] = []

    def start(workspace: Path | Workspace, *, sign_in: str | None = "first") -> UiServer:
        root = workspace.root if isinstance(workspace, Workspace) else Path(workspace)
        server = UiServer(root, tmp_path / f"streamlit-{len(servers)}.log")
        servers.append(server)
        if sign_in:
            sign_in_page(page, server, Workspace(root), None if sign_in == "first" else sign_in)
        return server

    yield start
    for server in servers:
        server.stop()


def sign_in_page(page, server: UiServer, workspace: Workspace, who: str | None = None) -> str | None:
    """Give ``page`` a live session cookie for ``who`` (default: the first annotator); None without any."""
    from curate.label import annotators, sessions
    from curate.ui.state import COOKIE

    names = sorted(a["name"] for a in annotators.list_annotators(workspace))
    who = who or (names[0] if names else None)
    if who is None:
        return None
    page.context.add_cookies([{"name": COOKIE, "value": sessions.session_for(workspace, who), "url": server.url}])
    return who


def outside_requests(page) -> list[str]:
    """Start recording every request the page makes that leaves 127.0.0.1; returns the live list."""
    from urllib.parse import urlparse

    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url)
            if urlparse(r.url).scheme not in ("data", "blob") and urlparse(r.url).hostname != "127.0.0.1" else None)
    return seen


@pytest.fixture
def page(browser):
    """A fresh browser page (1400x1000)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(UI_WAIT_MS)
    yield pg
    context.close()


def wait_for_app(page) -> None:
    """Wait until Streamlit finished running the script (never sleep). Right after an action the page may
    still show the previous run's state (the new run has not started yet): wait on what the action shows,
    or use ``rerun``."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']"
                           "[data-test-script-state='notRunning']", timeout=UI_WAIT_MS)


# Counts changes of the script state from now on (a run starting changes it from notRunning).
_COUNT_RUNS = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    window.__curateRunChanges = 0;
    if (app.__curateObserved) return;
    app.__curateObserved = true;
    new MutationObserver(() => { window.__curateRunChanges += 1; })
        .observe(app, {attributes: true, attributeFilter: ["data-test-script-state"]});
}"""


def rerun(page, action) -> None:
    """Do ``action`` (which changes a widget, so Streamlit runs the script) with the app idle, then wait
    until the run it started has finished. ``wait_for_app`` alone can return before that run starts. A
    rerun ending can move the focus (a slider's next key press then goes elsewhere): press keys one rerun
    at a time."""
    wait_for_app(page)
    page.evaluate(_COUNT_RUNS)
    action()
    page.wait_for_function("() => window.__curateRunChanges > 0", timeout=UI_WAIT_MS)
    wait_for_app(page)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label`` (typing filters long lists)."""
    import re

    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    box.fill(option)
    page.locator("[role=option]").filter(has_text=re.compile("^" + re.escape(option) + "$")).first.click()
    wait_for_app(page)
    assert box.input_value() == option


def pytest_collection_modifyitems(config, items) -> None:
    """Run fast tests first, then browser tests, then slow ones."""
    def rank(item) -> int:
        return 2 if item.get_closest_marker("slow") else 1 if item.get_closest_marker("browser") else 0
    items.sort(key=rank)
