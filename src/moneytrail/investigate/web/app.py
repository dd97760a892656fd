"""The workbench application: ``create_app(workspace)`` builds the FastAPI app.

Every API route needs a session; pages without one redirect to the login page. Front-end libraries
are served from the npm packages installed at set-up (``investigate/frontend/node_modules``), never
from a CDN, so the workbench works on a closed network.
"""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from moneytrail.investigate.cases import Hasher, open_store
from moneytrail.investigate.web.api.deps import LoginRequired, PageUser, WorkbenchState
from moneytrail.investigate.web.api.routes import (
    accounts,
    audit,
    auth,
    cases,
    entities,
    leads,
    reports,
    search,
    users,
)
from moneytrail.investigate.web.pages import router as pages_router
from moneytrail.investigate.web.reader import Reader
from moneytrail.investigate.web.security import LoginThrottle
from moneytrail.workspace import Workspace

HERE = Path(__file__).resolve().parent
FRONTEND = HERE.parent / "frontend" / "node_modules"
# The only files served from node_modules: name in the page -> path inside node_modules.
VENDOR = {
    "cytoscape.min.js": "cytoscape/dist/cytoscape.min.js",
    "echarts.min.js": "echarts/dist/echarts.min.js",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
# Swagger UI starts itself with one inline script.
DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")


def create_app(
    workspace: Workspace,
    *,
    database_url: str | None = None,
    secure_cookies: bool = False,
    throttle: LoginThrottle | None = None,
    reader_threads: int | None = None,
    hasher: Hasher | None = None,
) -> FastAPI:
    """The workbench over ``workspace`` with case data at ``database_url`` (default SQLite in the workspace)."""
    reader = Reader(workspace, threads=reader_threads).open()
    # The name index needs the resolver's romanisation tables, slow to load, and the pages' lookups
    # take a moment each: build them before the first request asks for them.
    threading.Thread(target=_warm, args=(reader,), name="workbench-warm", daemon=True).start()
    store = open_store(workspace, database_url, hasher)
    app = FastAPI(
        title="moneytrail workbench",
        version="1",
        description="The investigator's workbench: leads, networks, entity profiles, money flow, search and cases. "
        "Every route needs a session (POST /api/auth/login); state changes need the X-CSRF-Token header.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.workbench = WorkbenchState(
        workspace=workspace,
        reader=reader,
        store=store,
        throttle=throttle or LoginThrottle(),
        secure_cookies=secure_cookies,
    )
    for r in (auth, leads, accounts, entities, search, cases, audit, users, reports):
        app.include_router(r.router)
    app.include_router(pages_router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/vendor/{name}", include_in_schema=False)
    def vendor(name: str) -> FileResponse:
        rel = VENDOR.get(name)
        path = FRONTEND / rel if rel else None
        if path is None or not path.is_file():
            raise HTTPException(404, f"The front-end file {name!r} is not installed; run `make setup`.")
        return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/docs", include_in_schema=False)
    def docs(p: PageUser):
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="moneytrail API",
            swagger_js_url="/vendor/swagger-ui-bundle.js",
            swagger_css_url="/vendor/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    @app.exception_handler(LoginRequired)
    async def _login_redirect(request: Request, exc: LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": _jsonable(exc.errors())}, status_code=422)

    app.add_middleware(SecurityHeaders)

    return app


class SecurityHeaders:
    """Security and caching headers on every response (plain ASGI: no extra task per request)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h.setdefault("Content-Security-Policy", DOCS_CSP if path == "/docs" else CSP)
                h.setdefault("X-Content-Type-Options", "nosniff")
                h.setdefault("X-Frame-Options", "DENY")
                h.setdefault("Referrer-Policy", "no-referrer")
                if path.startswith("/api/") or not path.startswith(("/static/", "/vendor/")):
                    h.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _jsonable(errors: list) -> list:
    out = []
    for e in errors:
        e = dict(e)
        e.pop("ctx", None)
        e.pop("input", None)
        out.append(e)
    return out


def _warm(reader: Reader) -> None:
    from moneytrail.investigate.web.api.routes.leads import pin_large_networks
    from moneytrail.investigate.web.profile import warm_lookups
    from moneytrail.investigate.web.search import build_index

    try:
        warm_lookups(reader)
        if reader.has("parties"):
            reader.cached(("name-index",), lambda: build_index(reader))
        if reader.wait_for_legs(3600):
            pin_large_networks(reader)
    except Exception:  # noqa: BLE001 - a failed warm-up only means the first request builds what it needs
        pass
