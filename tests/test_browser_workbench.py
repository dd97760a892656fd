"""The workbench in a real browser: Playwright driving the system Chromium.

One investigation from login to logout; a screenshot of every step goes to test-results/.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from moneytrail.investigate.reports.pdf import CHROMIUM_ARGS as PDF_CHROMIUM_ARGS
from moneytrail.workspace import Workspace
from tests.utils.web_fixtures import PASSWORDS, make_app, make_web_workspace

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "test-results" / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The same flags the PDF printer uses on this offline machine, plus a larger shared-memory fallback.
CHROMIUM_ARGS = [*PDF_CHROMIUM_ARGS, "--disable-dev-shm-usage"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    import uvicorn

    ws = make_web_workspace(Workspace(tmp_path_factory.mktemp("browser") / "ws"))
    app = make_app(ws)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the workbench did not start within 30 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", ws
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (make setup installs the Debian package)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def test_investigation_from_login_to_logout(server, browser):
    base, ws = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-CA")
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda req: None if req.url.startswith((base, "data:", "blob:")) else outside.append(req.url),
    )
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def shot(name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    # log in (the leads page redirects to the login first)
    page.goto(base + "/")
    assert "/login" in page.url
    page.fill("#username", "ana")
    page.fill("#password", PASSWORDS["ana"][1])
    shot("01-login")
    page.click("button[type=submit]")
    page.wait_for_selector("#leads-table tbody tr[data-lead-id]")
    assert page.inner_text("[data-testid=current-user]") == "Ana"
    shot("02-leads")

    # open the top lead and see its graph and money flow
    page.click("#leads-table tbody tr:first-child a.lead-link")
    page.wait_for_selector("#lead[data-graph-ready=yes]")
    nodes = page.evaluate("window.__mtGraph.nodes().length")
    edges = page.evaluate("window.__mtGraph.edges().length")
    assert nodes >= 7 and edges >= 7
    page.wait_for_selector("#sankey svg")
    assert "to Abroad" in page.inner_text("#sankey")
    # select an account in the graph and highlight a money path from the cash to Hong Kong
    page.evaluate("window.__mtGraph.getElementById('CASH').emit('tap')")
    page.click("text=Path from here")
    page.evaluate("window.__mtGraph.getElementById('A022').emit('tap')")
    page.click("text=Path to here")
    assert page.evaluate("window.__mtGraph.edges('.path').length") >= 3
    page.wait_for_selector("#members-table a.member-link")
    shot("03-lead-graph")

    # open a member and read the explanation of its score; the Chinese name is shown in Chinese
    page.click("#members-table a.member-link >> nth=0")
    page.wait_for_selector("#entity[data-ready=yes]")
    explanation = page.inner_text("[data-testid=explanation]")
    assert "Member of a casino laundering network" in explanation
    assert page.inner_text("[data-testid=native-name]") == "陈国强"
    assert page.get_attribute("[data-testid=native-name]", "lang") == "zh"
    assert "Chan Kwok Keung" in page.inner_text("#aliases")
    shot("04-entity")

    # back to the lead, open a case, add a note, set a disposition
    page.go_back()
    page.wait_for_selector("#open-case")
    page.click("#open-case")
    page.wait_for_selector("#case[data-ready=yes]")
    case_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    page.fill("#note-body", "Cash in $20 bills delivered by 李伟 before each buy-in.")
    page.click("#add-note")
    page.wait_for_selector("#notes li.note")
    assert "李伟" in page.inner_text("#notes")
    page.check("input[name=disposition][value=confirmed]")
    page.click("#save-disposition")
    page.wait_for_selector("#disposition-current:has-text('Recorded')")
    shot("05-case")

    # the search finds the person under another romanisation
    page.goto(base + "/search?q=" + "Chan%20Kwok%20Keung")
    page.wait_for_selector("#search-results a.result-link")
    assert "Chen Guoqiang" in page.inner_text("#search-results")
    shot("06-search")

    # log out: the session is gone
    page.click("#logout")
    page.wait_for_url("**/login")
    page.goto(base + "/cases")
    assert "/login" in page.url
    shot("07-logged-out")
    context.close()

    from moneytrail.investigate.cases import dispositions

    assert [d["disposition"] for d in dispositions(ws) if d["case_id"] == case_id] == ["confirmed"]
    assert outside == [], f"the pages fetched from outside: {outside}"
    assert errors == [], f"script errors: {errors}"
