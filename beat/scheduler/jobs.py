"""The table of named jobs: what runs, how often; each job calls one domain function."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from beat import moderation, posts, retention


@dataclass(frozen=True)
class JobContext:
    now: datetime
    photos_dir: Path
    check_channels: Callable[[datetime], Awaitable[int]]


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


JOBS = (
    Job("publish-scheduled-posts", 10, _publish),
    Job("expire-stale-approvals", 60, _expire),
    Job("check-channel-credentials", 6 * 3600, _check),
    Job("purge-by-retention", 3600, _purge),
)
