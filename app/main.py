"""Application factory: `create_app(settings)` builds all; the engine lives in the lifespan."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app import __version__
from app.acled_api.endpoints import mount as mount_acled_api
from app.actors.endpoints import router as actors_router
from app.aggregates.endpoints import router as aggregates_router
from app.campaigns.endpoints import router as campaigns_router
from app.changes.endpoints import router as changes_router
from app.claims.endpoints import router as claims_router
from app.core.cache import ResponseCache, ResponseCacheMiddleware, cache_namespace
from app.core.config import Settings
from app.core.db import (
    WriteGate,
    make_engine,
    make_read_engine,
    make_sessionmaker,
    make_write_engine,
)
from app.core.doccache import DocCache
from app.core.errors import install_error_handlers
from app.core.etag import ETagMiddleware
from app.core.http import (
    STATIC_DOCS,
    CorsMiddleware,
    GuardMiddleware,
    HeadersMiddleware,
    OverloadMiddleware,
)
from app.core.querymodel import document_query_models
from app.core.ratelimit import install_rate_limits
from app.core.rest import problems
from app.core.statements import StatementMemo
from app.events.endpoints import router as events_router
from app.events.spatial import detect_context
from app.explorer.endpoints import mount as mount_explorer
from app.gazetteer.endpoints import router as gazetteer_router
from app.imports.endpoints import router as imports_router
from app.imports.recovery import recover_at_startup
from app.links.endpoints import incidents_router
from app.links.endpoints import router as links_router
from app.maps.endpoints import router as maps_router
from app.oauth.service import ACCESS_PREFIX
from app.places.endpoints import router as places_router
from app.sources.endpoints import documents_router
from app.sources.endpoints import router as sources_router
from app.taxonomy.endpoints import router as taxonomy_router

DESCRIPTION = """
conflictdb stores armed-conflict events (strikes, offensives, territory taken, casualties, aircraft
shot down, airspace violations) with their actors, places, dates and the sources behind each claim.

Stability promise: within `/v1` changes are additive only. Errors are RFC 9457 problem+json with a
stable `code`.
"""

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {**problems(422)}


def _mount_docs(app: FastAPI) -> None:
    """/docs and /redoc with Swagger UI and ReDoc from the fastapi-offline package: no CDN."""
    assets = str(files("fastapi_offline") / "static")
    app.mount(STATIC_DOCS, StaticFiles(directory=assets), name="static-docs")
    oauth2_redirect = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=oauth2_redirect,
            swagger_js_url=f"{STATIC_DOCS}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC_DOCS}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC_DOCS}/favicon.png",
        )

    @app.get(oauth2_redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{STATIC_DOCS}/redoc.standalone.js",
            redoc_favicon_url=f"{STATIC_DOCS}/favicon.png",
            with_google_fonts=False,
        )


def presents_access_token(scope: Scope) -> bool:
    """An OAuth access token expires with time: its answers are not cached."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = bytes(value).decode("latin-1").partition(" ")
            return bool(scheme.lower() == "bearer" and token.strip().startswith(ACCESS_PREFIX))
    return False


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        size, overflow = settings.pool_size, settings.pool_max_overflow
        engine = make_engine(
            settings.database_url, echo=settings.echo_sql, pool_size=size, max_overflow=overflow
        )
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        read_engine = make_read_engine(
            settings.database_url,
            engine,
            echo=settings.echo_sql,
            pool_size=size,
            max_overflow=overflow,
        )
        app.state.read_engine = read_engine
        app.state.read_sessionmaker = make_sessionmaker(read_engine)
        single_writer = settings.is_sqlite
        write_engine = (
            make_write_engine(settings.database_url, echo=settings.echo_sql)
            if single_writer
            else engine
        )
        app.state.write_sessionmaker = make_sessionmaker(write_engine)
        app.state.write_gate = WriteGate(single_writer)
        # Whether places.geog (PostGIS) exists decides how spatial filters are written.
        app.state.query_context = await detect_context(engine)
        # Import jobs left running by a killed server: failed, their uploads removed.
        await recover_at_startup(settings.database_url)
        if settings.cache_enabled:
            app.state.response_cache = ResponseCache(
                engine,
                redis_url=settings.redis_url,
                namespace=cache_namespace(settings.database_url),
                max_bytes=settings.cache_max_bytes,
                entry_max_bytes=settings.cache_entry_max_bytes,
                ttl_seconds=settings.cache_ttl_seconds,
                bypass=presents_access_token,
            )
        # Each event's JSON kept while its change_seq stays (app/core/doccache.py).
        app.state.doc_cache = (
            DocCache(settings.doc_cache_max_bytes) if settings.doc_cache_max_bytes > 0 else None
        )
        # The SQL of hot reads' statements, built once per filter set (app/core/statements.py).
        app.state.statements = StatementMemo()
        # What exists now lives as long as the app (routes, models, metadata, pools): out of
        # the cyclic collector's reach, whose full collections walked it all, stalling every
        # request in flight (~60 ms every few thousand requests: by ACLED id at 64
        # connections, all cache hits, p99 66.7 -> 10 ms, 10.1k -> 11.3k req/s). Given back
        # at shutdown, so that an app made and dropped (the tests make many) is collected.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            cache = getattr(app.state, "response_cache", None)
            if cache is not None:
                app.state.response_cache = None
                await cache.aclose()
            if write_engine is not engine:
                await write_engine.dispose()
            if read_engine is not engine:
                await read_engine.dispose()
            await engine.dispose()

    app = FastAPI(
        title="conflictdb",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    install_error_handlers(app)
    # Outermost last: headers, CORS, limits and early authentication, ETags, the routes.
    app.add_middleware(ETagMiddleware)
    # Repeated reads answered from the cache, ETag and all; outside it, everything else.
    app.add_middleware(ResponseCacheMiddleware, state=app.state)
    app.add_middleware(GuardMiddleware, settings=settings)
    # Outside Guard (a refused request costs nothing), inside CORS and security headers.
    install_rate_limits(app, settings)
    app.add_middleware(OverloadMiddleware, settings=settings)
    app.add_middleware(CorsMiddleware, settings=settings)
    app.add_middleware(HeadersMiddleware)
    _mount_docs(app)
    for router in (
        events_router,
        actors_router,
        places_router,
        sources_router,
        documents_router,
        claims_router,
        campaigns_router,
        taxonomy_router,
        aggregates_router,
        changes_router,
        imports_router,
        maps_router,
        gazetteer_router,
        links_router,
        incidents_router,
    ):
        app.include_router(router, prefix="/v1")
    # ACLED's API under /acled, with ACLED's error shape there (after install_error_handlers).
    mount_acled_api(app)
    # The explorer page at / and its static files.
    mount_explorer(app)

    @app.get("/healthz", tags=["meta"], summary="Liveness and database check")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    document_query_models(app)
    return app
