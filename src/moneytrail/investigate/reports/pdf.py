"""HTML to PDF through the system Chromium, driven by Playwright.

Playwright's own browser download does not work offline, so the Debian ``chromium`` binary is
launched directly. The page is set from a string, and every request it tries to make is aborted:
a report must be self-contained, and a PDF renderer must not reach the network.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from moneytrail.errors import ConfigError

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def find_chromium() -> str:
    """The Chromium executable to print with."""
    for path in CHROMIUM_CANDIDATES:
        if Path(path).is_file():
            return path
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise ConfigError(
        "PDF reports need Chromium, which was not found at /usr/bin/chromium; "
        "install it with `make setup` (Debian package 'chromium') or choose --format html."
    )


def html_to_pdf(html: str, *, landscape: bool = False) -> bytes:
    """Print ``html`` to an A4 PDF and return its bytes.

    Playwright's sync API refuses to run on a thread with a running asyncio loop (a notebook, an
    async web handler, or a test runner that left one open), so in that case it runs on a worker
    thread of its own.
    """
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return _print_pdf(html, landscape)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_print_pdf, html, landscape).result()


def _print_pdf(html: str, landscape: bool) -> bytes:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as e:  # pragma: no cover - playwright is a dependency
        raise ConfigError("PDF reports need the 'playwright' package; reinstall moneytrail.") from e
    executable = find_chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.abort())
            page.set_content(html, wait_until="load")
            return page.pdf(
                format="A4",
                landscape=landscape,
                print_background=True,
                margin={"top": "12mm", "bottom": "14mm", "left": "10mm", "right": "10mm"},
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=(
                    '<div style="font-size:8px;width:100%;text-align:center;color:#777">'
                    'page <span class="pageNumber"></span> of <span class="totalPages"></span></div>'
                ),
            )
        finally:
            browser.close()
