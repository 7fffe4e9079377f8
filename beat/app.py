"""The composition root: builds the aiohttp application from settings and resources."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry

from beat import channel_accounts, db, follows, publishing
from beat.accounts import Auth
from beat.api import (
    area_routes,
    auth_routes,
    channel_routes,
    feed_routes,
    follow_routes,
    force_routes,
    moderation_routes,
    photo_routes,
    post_routes,
    team_routes,
    user_routes,
)
from beat.api.keys import AUTH, CLOCK, DB, LOCATOR, METRICS, SETTINGS, WAKE_DELIVERY
from beat.api.observability import HTTP_METRICS, HttpMetrics, healthz, metrics, metrics_middleware
from beat.api.problems import problems_middleware
from beat.areas import AreaLocator
from beat.channels import Channel, ChannelError, ChannelKind, FailureKind, Part
from beat.clock import Clock, utcnow
from beat.credentials import CredentialBox
from beat.crimesync import PoliceData
from beat.errors import ConfigError
from beat.models import ChannelAccount, Post
from beat.policeuk.client import PoliceUkClient
from beat.policeuk.folder import FolderSource
from beat.push import sender_for as alert_sender_for
from beat.scheduler.runner import DeliveryWorker, Scheduler
from beat.settings import Settings
from beat.social.bluesky import BlueskyChannel
from beat.social.mastodon import MastodonChannel
from beat.social.x import XChannel
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


def channel_factory(
    settings: Settings, session: aiohttp.ClientSession, box: CredentialBox
) -> Callable[[ChannelAccount], Channel]:
    """Adapters per account, kept while the credentials stay the same (Bluesky sessions)."""
    made: dict[tuple[int, str], Channel] = {}
    classes: dict[str, type[MastodonChannel] | type[BlueskyChannel]] = {
        ChannelKind.MASTODON: MastodonChannel,
        ChannelKind.BLUESKY: BlueskyChannel,
    }

    def make(account: ChannelAccount) -> Channel:
        key = (account.id, account.credentials)
        if key not in made:
            for stale in [k for k in made if k[0] == account.id]:
                del made[stale]  # the credentials changed (renewed, or replaced by an admin)
            creds = box.open(account.credentials)
            timeout = settings.channel_timeout_seconds
            if account.kind == ChannelKind.X:
                made[key] = XChannel(
                    creds, session=session, base_url=settings.x_api_url, timeout=timeout,
                    store=channel_accounts.StoredCredentials(account.id, box),
                )  # fmt: skip
            else:
                made[key] = classes[account.kind](
                    creds, session=session, base_url=creds["base_url"], timeout=timeout
                )
        return made[key]

    return make


async def check_channels(
    channel_for: Callable[[ChannelAccount], Channel], now: datetime, *, force_id: str | None = None
) -> int:
    """Verify every live account's credentials; failing ones are marked and comms told."""
    checked = 0
    query = ChannelAccount.filter(removed_at=None)
    if force_id is not None:
        query = query.filter(force_id=force_id)
    for account in await query:
        try:
            handle = await channel_for(account).check()
        except ChannelError as exc:
            await channel_accounts.record_check(
                account,
                ok=exc.kind != FailureKind.AUTH_FAILED,
                handle="",
                error=exc.detail,
                now=now,
            )
        else:
            await channel_accounts.record_check(account, ok=True, handle=handle, error="", now=now)
        checked += 1
    return checked


def police_uk_source(base: str, session: aiohttp.ClientSession) -> PoliceData:
    """The police.uk API at `base`, or a folder laid out like it (offline demos and tests)."""
    if base.startswith(("http://", "https://")):
        return PoliceUkClient(session, base)
    return FolderSource(Path(base))


async def _workers(app: web.Application) -> AsyncIterator[None]:
    """The scheduler (leader-elected) and the delivery worker, unless this process only serves."""
    settings = app[SETTINGS]
    local_wake: list[Callable[[], None]] = []

    async def wake() -> None:
        for signal in local_wake:
            signal()
        if not settings.is_sqlite:
            try:
                await app[DB].db().execute_script(f"NOTIFY {db.OUTBOX_CHANNEL}")
            except Exception:  # the poll picks it up within a second anyway
                log.warning("outbox notify failed", exc_info=True)

    app[WAKE_DELIVERY] = wake
    if not settings.background_jobs:
        yield
        return
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
    async with aiohttp.ClientSession() as session:
        channel_for = channel_factory(settings, session, CredentialBox(settings.channel_keys_file))

        async def render(account: ChannelAccount, post: Post) -> list[Part]:
            return await publishing.parts_for(
                account, post, base_url=settings.public_base_url, photos_dir=settings.photos_dir
            )

        worker = DeliveryWorker(
            app[DB], settings, worker_id=owner, clock=app[CLOCK], channel_for=channel_for,
            render=render, poll_seconds=settings.delivery_poll_seconds,
        )  # fmt: skip
        scheduler = Scheduler(
            app[DB], settings, owner=owner, clock=app[CLOCK],
            check_channels=functools.partial(check_channels, channel_for),
            lease_ttl=timedelta(seconds=settings.scheduler_lease_seconds),
            police_uk=police_uk_source(settings.policeuk_base_url, session)
            if settings.policeuk_crime_forces
            else None,
            alert_sender=alert_sender_for(settings, session),
        )  # fmt: skip
        local_wake.append(worker.wake.set)
        listener = await db.listen(settings, db.OUTBOX_CHANNEL, worker.wake.set)
        await scheduler.start()
        task = asyncio.create_task(worker.run_forever(), name="beat-delivery")
        try:
            yield
        finally:
            if listener is not None:
                await listener.close()
            # Let the round in hand finish: cancelled while tortoise's SQLite client opens a
            # transaction, the task would leave the connection's lock held, and every later
            # query (the scheduler's lease release) would wait for ever.
            worker.stop()
            try:
                await asyncio.wait_for(asyncio.shield(task), settings.channel_timeout_seconds + 5)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await scheduler.stop()


@web.middleware
async def _db_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Make this app's Tortoise context current for the request's task."""
    with db.current(request.app[DB]):
        return await handler(request)


def create_app(settings: Settings, *, clock: Clock = utcnow, api: bool = True) -> web.Application:
    """Build the service; nothing connects until the app starts.

    `api=False` builds a worker: the scheduler and deliveries, with /healthz and /metrics only.
    `settings.background_jobs=False` builds a web process that leaves those to the workers.
    """
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
    follows.vapid_key(settings)  # a malformed VAPID key stops the start, not a request later
    app[feed_routes.FEED_CACHE] = feed_routes.new_cache()
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_workers)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    for table in (
        ()
        if not api
        else (
            auth_routes.routes,
            feed_routes.routes,  # before area_routes: /v1/forces/compare, not a force
            area_routes.routes,
            team_routes.routes,
            user_routes.routes,
            post_routes.routes,
            moderation_routes.routes,
            force_routes.routes,
            photo_routes.routes,
            channel_routes.routes,
            follow_routes.routes,
        )
    ):
        app.router.add_routes(table)
    return app
