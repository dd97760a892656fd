"""The workbench's JSON API and pages: authentication everywhere, CSRF, roles, throttling, audit, data."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from moneytrail.investigate.cases import dispositions
from moneytrail.investigate.web.security import LoginThrottle
from moneytrail.workspace import Workspace
from tests.utils.web_fixtures import PASSWORDS, login, make_app, make_web_workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Workspace:
    return make_web_workspace(Workspace(tmp_path_factory.mktemp("web") / "ws"))


@pytest.fixture(scope="module")
def app(ws):
    return make_app(ws)


@pytest.fixture
def anon(app):
    with TestClient(app) as c:
        yield c


def _client(app, user):
    c = TestClient(app)
    c.headers["X-CSRF-Token"] = login(c, user)
    return c


@pytest.fixture
def analyst(app):
    return _client(app, "ana")


@pytest.fixture
def supervisor(app):
    return _client(app, "sam")


@pytest.fixture
def admin(app):
    return _client(app, "ada")


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_openapi_route_refuses_anonymous_requests(app, anon):
    paths = app.openapi()["paths"]
    checked = 0
    for path, methods in paths.items():
        for method in methods:
            if path == "/api/auth/login":
                continue
            r = anon.request(method.upper(), _concrete(path), json={}, follow_redirects=False)
            assert r.status_code in (401, 403), (
                f"{method.upper()} {path} answered {r.status_code} without a session"
            )
            checked += 1
    assert checked >= 15


def test_every_page_redirects_anonymous_visitors_to_login(app, anon):
    from moneytrail.investigate.web.pages import router as pages

    public = {"/login", "/logout"}
    routes = [*pages.routes, *(r for r in app.routes if isinstance(r, APIRoute) and r.path == "/docs")]
    pages = [r for r in routes if r.path not in public]
    assert len(pages) >= 9
    for route in pages:
        r = anon.get(_concrete(route.path), follow_redirects=False)
        assert r.status_code == 303, route.path
        assert r.headers["location"].startswith("/login?next=")


def test_login_sets_an_httponly_samesite_session_cookie(app, anon):
    r = anon.post("/api/auth/login", json={"username": "ana", "password": PASSWORDS["ana"][1]})
    assert r.status_code == 200
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert r.json()["role"] == "analyst" and len(r.json()["csrf_token"]) > 20
    assert anon.get("/api/auth/me").json()["username"] == "ana"


def test_wrong_password_and_cross_origin_login_are_refused(anon):
    assert anon.post("/api/auth/login", json={"username": "ana", "password": "nope"}).status_code == 401
    r = anon.post(
        "/api/auth/login",
        json={"username": "ana", "password": PASSWORDS["ana"][1]},
        headers={"Origin": "https://evil.example"},
    )
    assert r.status_code == 403


def test_logins_are_throttled_after_repeated_failures(ws):
    app = make_app(ws, throttle=LoginThrottle(limit=3, window_s=600))
    with TestClient(app) as c:
        codes = [
            c.post("/api/auth/login", json={"username": "sam", "password": f"bad-{i}"}).status_code
            for i in range(4)
        ]
        assert codes == [401, 401, 401, 429]
        # even the right password waits until the window passes
        r = c.post("/api/auth/login", json={"username": "sam", "password": PASSWORDS["sam"][1]})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_state_changes_need_the_csrf_token(app, analyst):
    token = analyst.headers.pop("X-CSRF-Token")
    assert analyst.post("/api/cases", json={"lead_id": "L0001"}).status_code == 403
    r = analyst.post("/api/cases", json={"lead_id": "L0001"}, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    r = analyst.post("/api/cases", json={"lead_id": "L0001"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 201


def test_analyst_cannot_read_the_audit_log_or_manage_users(analyst):
    assert analyst.get("/api/audit").status_code == 403
    assert analyst.get("/api/users").status_code == 403
    r = analyst.post("/api/users", json={"username": "eve", "password": "a-long-password", "role": "admin"})
    assert r.status_code == 403
    assert analyst.post("/api/users/sam/disable").status_code == 403
    assert analyst.get("/audit").status_code == 403
    assert analyst.get("/admin/users").status_code == 403


def test_supervisor_reads_the_audit_log_but_cannot_manage_users(supervisor):
    assert supervisor.get("/api/audit").status_code == 200
    assert supervisor.get("/api/users").status_code == 403


def test_admin_adds_and_disables_users(admin):
    r = admin.post(
        "/api/users", json={"username": "newbie", "password": "a-long-password", "role": "analyst"}
    )
    assert r.status_code == 201
    with TestClient(admin.app) as c:
        c.post("/api/auth/login", json={"username": "newbie", "password": "a-long-password"})
        assert c.get("/api/leads").status_code == 200
        assert admin.post("/api/users/newbie/disable").json()["disabled"] is True
        assert c.get("/api/leads").status_code == 401  # the session ended with the account


def test_views_of_people_and_cases_and_changes_are_audited(analyst, supervisor):
    assert analyst.get("/api/entities/P001").status_code == 200
    case = analyst.post("/api/cases", json={"lead_id": "L0002"}).json()
    analyst.get(f"/api/cases/{case['id']}")
    analyst.post(f"/api/cases/{case['id']}/notes", json={"body": "Private lender paid in drafts"})
    items = supervisor.get("/api/audit", params={"username": "ana", "limit": 50}).json()["items"]
    seen = {(i["action"], i["object_kind"], i["object_id"]) for i in items}
    assert ("view", "party", "P001") in seen
    assert ("case_open", "case", str(case["id"])) in seen
    assert ("view", "case", str(case["id"])) in seen
    assert ("note_add", "case", str(case["id"])) in seen


def test_leads_queue_ranks_filters_and_searches(analyst):
    data = analyst.get("/api/leads").json()
    assert [i["lead_id"] for i in data["items"]] == ["L0001", "L0002"]
    assert data["items"][0]["typologies"] == ["PL-01", "CA-01", "UB-01"]
    assert "RE-02" in data["typologies"]
    assert [
        i["lead_id"] for i in analyst.get("/api/leads", params={"typology": "RE-02"}).json()["items"]
    ] == ["L0002"]
    assert analyst.get("/api/leads", params={"q": "trust account"}).json()["total"] == 1
    assert analyst.get("/api/leads", params={"min_value": 1e12}).json()["total"] == 0
    assert analyst.get("/api/leads/L9999").status_code == 404


def test_leads_queue_pages_through_the_ranking(analyst):
    pages = [analyst.get("/api/leads", params={"limit": 1, "offset": k}).json() for k in (0, 1, 2)]
    assert [[i["lead_id"] for i in p["items"]] for p in pages] == [["L0001"], ["L0002"], []]
    assert {p["total"] for p in pages} == {2}


def test_network_has_amounts_and_aggregates_large_networks(analyst):
    net = analyst.get("/api/leads/L0001/network").json()
    ids = {n["id"] for n in net["nodes"]}
    assert {"A001", "A002", "A020", "A022", "CASH"} <= ids
    edge = next(e for e in net["edges"] if e["source"] == "A002" and e["target"] == "A020")
    assert edge["amount_cad"] == 50 * 20_000 and edge["channels"] == ["casino_buy_in"]
    small = analyst.get("/api/leads/L0001/network", params={"max_nodes": 10}).json()
    assert small["hidden_nodes"] >= 0 and len(small["nodes"]) <= len(net["nodes"])
    hub = analyst.get("/api/accounts/A101/neighbours", params={"max_nodes": 5}).json()
    assert hub["aggregated"] is True and any(n["group_size"] > 1 for n in hub["nodes"])
    assert analyst.get("/api/accounts/NOPE/neighbours").status_code == 404


def test_money_flow_shows_cash_in_and_abroad_out(analyst):
    flow = analyst.get("/api/leads/L0001/flow").json()
    links = {(lk["source"], lk["target"]): lk["value"] for lk in flow["links"]}
    assert links[("from Cash", "L0001")] > 0
    assert links[("L0001", "to Abroad")] == 50 * 14_000
    estate = analyst.get("/api/leads/L0002/flow").json()
    assert any(lk["target"] == "to Real estate" for lk in estate["links"])


def test_entity_profile_has_aliases_explanation_hits_and_evidence(analyst):
    prof = analyst.get("/api/entities/P003").json()
    assert prof["party"]["name_native"] == "李伟"
    assert prof["score"]["reason"]
    assert prof["accounts"][0]["contributions"][0]["feature"] == "share_small_bills"
    hit = prof["hits"][0]
    assert hit["detector_id"] == "structuring_cash" and hit["evidence_txn_ids"]
    assert {t["txn_id"] for t in prof["evidence"]} == set(hit["evidence_txn_ids"])
    assert prof["timeline"] and prof["leads"][0]["lead_id"] == "L0001"
    aliases = analyst.get("/api/entities/P001").json()["aliases"]
    assert [a["party_id"] for a in aliases] == ["P002"]
    assert analyst.get("/api/entities/NOPE").status_code == 404


@pytest.mark.parametrize("query", ["Chan Kwok Keung", "陈国强", "guoqiang chen"])
def test_search_finds_a_person_in_any_romanisation(analyst, query):
    items = analyst.get("/api/search", params={"q": query}).json()["items"]
    assert {"P001", "P002"} <= {i["id"] for i in items[:2]}


def test_search_by_phone_and_account(analyst):
    assert analyst.get("/api/search", params={"q": "+1 (604) 555-0102"}).json()["items"][0]["id"] == "P003"
    assert (
        analyst.get("/api/search", params={"q": "A012T", "kind": "account"}).json()["items"][0]["party_id"]
        == "P012"
    )


def test_case_workflow_feeds_dispositions(ws, analyst, supervisor):
    case = analyst.post("/api/cases", json={"lead_id": "L0001", "title": "River Rock ring"}).json()
    assert case["party_ids"] == ["P001", "P002", "P003", "P004", "P005"]
    cid = case["id"]
    assert analyst.patch(f"/api/cases/{cid}", json={"assignee": "sam"}).status_code == 403
    r = supervisor.patch(f"/api/cases/{cid}", json={"assignee": "ana", "status": "investigating"})
    assert r.json()["assignee"] == "ana" and r.json()["status"] == "investigating"
    note = analyst.post(f"/api/cases/{cid}/notes", json={"body": "Delivered by Li Wei 李伟"}).json()
    assert note["author"] == "ana"
    d = analyst.put(
        f"/api/cases/{cid}/disposition", json={"disposition": "confirmed", "reason": "casino records"}
    )
    assert d.status_code == 200
    got = analyst.get(f"/api/cases/{cid}").json()
    assert got["disposition"] == "confirmed" and got["notes"][0]["body"].endswith("李伟")
    assert any(c["id"] == cid for c in analyst.get("/api/leads/L0001").json()["cases"])
    labels = [x for x in dispositions(ws) if x["case_id"] == cid]
    assert labels and labels[0]["disposition"] == "confirmed" and labels[0]["lead_id"] == "L0001"
    assert analyst.patch(f"/api/cases/{cid}", json={"status": "done"}).status_code == 422


def test_pages_render_and_reference_no_external_url(app, analyst):
    for path in ["/", "/leads/L0001", "/entities/P001", "/search?q=chen", "/cases", "/login"]:
        html = analyst.get(path).text
        refs = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert refs, path
        assert all(ref.startswith(("/", "#")) for ref in refs), (path, refs)
    r = analyst.get("/leads/L0001")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert analyst.get("/vendor/cytoscape.min.js").status_code == 200
    assert analyst.get("/vendor/not-a-library.js").status_code == 404
    # names in Chinese script are marked so the browser picks CJK glyphs
    assert 'lang: "zh"' in analyst.get("/static/app.js").text


def test_static_scripts_fetch_nothing_from_outside(app, analyst):
    from pathlib import Path

    static = Path(__file__).resolve().parents[1] / "src/moneytrail/investigate/web/static"
    for js in static.rglob("*.js"):
        assert not re.search(r"https?://", js.read_text(encoding="utf-8")), js.name


def test_reports_route_downloads_a_lead_report_when_reports_exist(analyst):
    info = analyst.get("/api/reports").json()
    if not info["available"]:
        assert analyst.get("/api/reports/L0001").status_code == 404
        return
    r = analyst.get("/api/reports/L0001", params={"format": "graphml"})
    assert r.status_code == 200, r.text
    assert "attachment" in r.headers["content-disposition"] and b"graphml" in r.content[:500]
