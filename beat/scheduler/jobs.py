"""The table of named jobs: what runs, how often; each job calls one domain function."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from beat import crimesync, follows, moderation, posts, retention


@dataclass(frozen=True)
class JobContext:
    now: datetime
    photos_dir: Path
    check_channels: Callable[[datetime], Awaitable[int]]
    # police.uk (BEAT_POLICEUK_BASE_URL) and the forces whose crime data it keeps up to date.
    police_uk: crimesync.PoliceData | None = None
    crime_forces: tuple[str, ...] = ()
    # Where area alerts go: Web Push when configured (beat.push), else a log line each.
    alert_sender: follows.AlertSender = field(default_factory=follows.LoggingSender)


@dataclass(frozen=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[JobContext], Awaitable[int]]


async def _publish(ctx: JobContext) -> int:
    return await posts.publish_due(ctx.now)


async def _expire(ctx: JobContext) -> int:
    return await moderation.expire_stale(ctx.now)


async def _purge(ctx: JobContext) -> int:
    return await retention.purge(ctx.now, ctx.photos_dir)


async def _check(ctx: JobContext) -> int:
    return await ctx.check_channels(ctx.now)


async def _check_police_uk(ctx: JobContext) -> int:
    if ctx.police_uk is None or not ctx.crime_forces:
        return 0
    return await crimesync.check_new_months(ctx.police_uk, ctx.crime_forces, now=ctx.now)


async def _send_alerts(ctx: JobContext) -> int:
    return await follows.send_due_alerts(ctx.now, ctx.alert_sender, limit=200, concurrency=20)


JOBS = (
    Job("publish-scheduled-posts", 10, _publish),
    Job("expire-stale-approvals", 60, _expire),
    Job("check-channel-credentials", 6 * 3600, _check),
    Job("purge-by-retention", 3600, _purge),
    # police.uk publishes monthly; asking hourly (one small request per force) means a
    # restart or a change of leader never postpones a new month by a day.
    Job("check-police-uk", 3600, _check_police_uk),
    Job("send-area-alerts", 15, _send_alerts),
)
