"""The page and its assets over HTTP (no browser): headers, caching, and no other host."""

from __future__ import annotations

import re

from tests.conftest import Api


async def test_the_page_has_a_strict_csp_and_no_foreign_reference(api: Api) -> None:
    r = await api.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "style-src 'self';" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "connect-src 'self'" in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Cache-Control"] == "no-cache"
    refs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert refs, "the page references its modules"
    for ref in refs:
        assert not re.match(r"^(https?:)?//", ref), ref
    for ref in refs:
        if ref.startswith("/explorer/static/"):
            asset = await api.get(ref)
            assert asset.status_code == 200, ref
    # No inline script or style for the CSP to refuse.
    assert "<style" not in r.text and " style=" not in r.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text)


async def test_static_assets_revalidate_with_their_etag(api: Api) -> None:
    r = await api.get("/explorer/static/main.js")
    assert r.status_code == 200
    assert "javascript" in r.headers["content-type"]
    assert r.headers["Cache-Control"] == "private, max-age=0, must-revalidate"
    etag = r.headers["ETag"]
    again = await api.get("/explorer/static/main.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    leaflet = await api.get("/explorer/static/vendor/leaflet/leaflet.js")
    assert leaflet.status_code == 200 and "Leaflet 1.9.4" in leaflet.text[:300]
    assert (await api.get("/explorer/static/nothing.js")).status_code == 404
