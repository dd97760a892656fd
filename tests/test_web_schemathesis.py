"""schemathesis against the workbench's OpenAPI document, logged in: no 500s, responses match the schema."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from moneytrail.workspace import Workspace
from tests.utils.web_fixtures import login, make_app, make_web_workspace

# Routes that would end the session the other examples run in.
SESSION_ENDING = ("/api/auth/logout", "/api/users/{username}/disable")


@pytest.fixture(scope="module")
def web_app(tmp_path_factory):
    ws = make_web_workspace(
        Workspace(tmp_path_factory.mktemp("schema") / "ws"), legit_parties=20, legit_txns=200
    )
    return make_app(ws)


@pytest.fixture(scope="module")
def api_schema(web_app):
    return schemathesis.openapi.from_asgi("/openapi.json", web_app)


@pytest.fixture(scope="module")
def auth_headers(web_app) -> dict[str, str]:
    client = TestClient(web_app)
    csrf = login(client, "ada")  # the admin may call every route
    assert client.get("/api/search", params={"q": "chen"}).status_code == 200  # builds the name index once
    return {"Cookie": f"mt_session={client.cookies['mt_session']}", "X-CSRF-Token": csrf}


def test_api_matches_its_openapi_document(api_schema, auth_headers):
    checked = []
    for result in api_schema.exclude(path=list(SESSION_ENDING)).get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case):
            case.call_and_validate(headers=auth_headers, timeout=120)

        check()
        checked.append(operation.label)
    assert len(checked) >= 15
