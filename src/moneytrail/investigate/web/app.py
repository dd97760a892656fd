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
    # The name index needs the resolver's romanisation tables, slow to load: build it before the
    # first search asks for it.
    threading.Thread(target=_warm_search, args=(reader,), name="workbench-warm-search", daemon=True).start()
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

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        h = response.headers
        h.setdefault("Content-Security-Policy", DOCS_CSP if request.url.path == "/docs" else CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "no-referrer")
        if request.url.path.startswith("/api/") or not request.url.path.startswith(("/static/", "/vendor/")):
            h.setdefault("Cache-Control", "no-store")
        return response

    return app


def _jsonable(errors: list) -> list:
    out = []
    for e in errors:
        e = dict(e)
        e.pop("ctx", None)
        e.pop("input", None)
        out.append(e)
    return out


def _warm_search(reader: Reader) -> None:
    from moneytrail.investigate.web.search import build_index

    try:
        if reader.has("parties"):
            reader.cached(("name-index",), lambda: build_index(reader))
    except Exception:  # noqa: BLE001 - a failed warm-up only means the first search builds the index
        pass
