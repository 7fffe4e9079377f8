"""The composition root: builds the aiohttp application from settings and resources."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry

from beat import db, moderation, posts, retention
from beat.accounts import Auth
from beat.api import (
    area_routes,
    auth_routes,
    force_routes,
    moderation_routes,
    photo_routes,
    post_routes,
    team_routes,
    user_routes,
)
from beat.api.keys import AUTH, CLOCK, DB, LOCATOR, METRICS, SETTINGS
from beat.api.observability import HTTP_METRICS, HttpMetrics, healthz, metrics, metrics_middleware
from beat.api.problems import problems_middleware
from beat.areas import AreaLocator
from beat.clock import Clock, utcnow
from beat.errors import ConfigError
from beat.settings import Settings
from beat.tokens import KeyRing, TokenIssuer

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    pending = await db.pending_migrations(settings)
    if pending:
        raise ConfigError(
            f"the database needs {len(pending)} migration(s) ({', '.join(pending)}): "
            "run `beat migrate`"
        )
    ctx = await db.open_db(settings)
    app[DB] = ctx
    try:
        yield
    finally:
        # Close the connections of this context itself: under pytest-aiohttp the cleanup runs
        # in another task, where Tortoise's context variable would point nowhere.
        await ctx.close_connections()


async def _post_jobs(app: web.Application) -> AsyncIterator[None]:
    """Publish posts whose time has come and expire stale approvals, every few seconds."""
    settings = app[SETTINGS]
    if not settings.background_jobs:
        yield
        return

    async def loop() -> None:
        with db.current(app[DB]):
            while True:
                try:
                    now = app[CLOCK]()
                    await posts.publish_due(now)
                    await moderation.expire_stale(now)
                    await retention.purge(now, settings.photos_dir)
                except Exception:  # one bad round must not stop publishing for good
                    log.exception("post jobs failed")
                await asyncio.sleep(settings.job_interval_seconds)

    task = asyncio.create_task(loop(), name="beat-post-jobs")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@web.middleware
async def _db_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Make this app's Tortoise context current for the request's task."""
    with db.current(request.app[DB]):
        return await handler(request)


def create_app(settings: Settings, *, clock: Clock = utcnow) -> web.Application:
    """Build the service; nothing connects until the app starts."""
    app = web.Application(
        middlewares=[metrics_middleware, problems_middleware, _db_context],
        client_max_size=settings.max_json_body,
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock
    registry = CollectorRegistry()
    app[METRICS] = registry
    app[HTTP_METRICS] = HttpMetrics(registry)
    keys = KeyRing.load(settings.signing_keys_dir)
    issuer = TokenIssuer(
        keys,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl=settings.access_token_ttl,
    )
    app[AUTH] = Auth(settings, issuer, clock)
    app[LOCATOR] = AreaLocator()
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_post_jobs)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    for table in (
        auth_routes.routes,
        area_routes.routes,
        team_routes.routes,
        user_routes.routes,
        post_routes.routes,
        moderation_routes.routes,
        force_routes.routes,
        photo_routes.routes,
    ):
        app.router.add_routes(table)
    return app
