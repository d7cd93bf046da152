"""GET / (the explorer page) and /explorer/static/ (its modules, styles and vendored Leaflet).

The page is static: everything it shows comes from /v1 in the browser. Its Content-Security-Policy
allows this origin only, with no inline script or style; the middleware's default (set with
`setdefault`) is for /docs, whose bundles need inline code.
"""

from __future__ import annotations

import functools
from importlib.resources import files

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

STATIC_PATH = "/explorer/static"
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'"
)

router = APIRouter(include_in_schema=False)


@functools.cache
def _page() -> str:
    return (files("app.explorer") / "static" / "index.html").read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse)
async def explorer_page() -> HTMLResponse:
    return HTMLResponse(
        _page(),
        headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-cache"},
    )


def mount(app: FastAPI) -> None:
    """The page at / and its assets under STATIC_PATH."""
    assets = str(files("app.explorer") / "static")
    app.mount(STATIC_PATH, StaticFiles(directory=assets), name="explorer-static")
    app.include_router(router)
