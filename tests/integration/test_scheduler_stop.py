"""Stopping the scheduler lets a running job finish instead of cancelling it mid-query."""

from __future__ import annotations

import asyncio

from beat.clock import utcnow
from beat.models import Post
from beat.scheduler.jobs import Job, JobContext
from beat.scheduler.runner import Scheduler


async def no_channels(now: object) -> int:
    return 0


async def test_stop_waits_for_the_job_in_hand_and_starts_no_other(db, settings):
    started = asyncio.Event()
    runs: list[str] = []

    async def slow(ctx: JobContext) -> int:
        runs.append("started")
        started.set()
        await asyncio.sleep(0.3)  # stop() is called while the job is in here
        count = await Post.all().count()
        runs.append("finished")
        return count

    scheduler = Scheduler(
        db, settings, owner="t1", clock=utcnow, check_channels=no_channels,
        jobs=(Job("slow", 1, slow),),
    )  # fmt: skip
    await scheduler.start()
    await asyncio.wait_for(started.wait(), timeout=10)
    await scheduler.stop()
    assert runs == ["started", "finished"]
    assert not scheduler.leading
    await asyncio.sleep(1.2)  # a tick later: nothing new started
    assert runs == ["started", "finished"]
    assert await db.db().execute_query_dict("SELECT 1 AS one") == [{"one": 1}]


async def test_a_job_that_outlives_the_grace_period_is_left_to_shutdown(db, settings):
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def stuck(ctx: JobContext) -> int:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return 0

    scheduler = Scheduler(
        db, settings, owner="t2", clock=utcnow, check_channels=no_channels,
        jobs=(Job("stuck", 1, stuck),),
    )  # fmt: skip
    await scheduler.start()
    await asyncio.wait_for(started.wait(), timeout=10)
    await asyncio.wait_for(scheduler.stop(grace=0.2), timeout=5)
    await asyncio.sleep(0.1)
    assert cancelled == [True]
