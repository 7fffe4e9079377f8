"""APScheduler wiring: the leader lease, the named jobs, and the delivery worker loop."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from tortoise.context import TortoiseContext

from beat import db, outbox
from beat.channels import Channel
from beat.crimesync import PoliceData
from beat.follows import AlertSender, LoggingSender
from beat.models import ChannelAccount, Delivery
from beat.scheduler import leader
from beat.scheduler.jobs import JOBS, Job, JobContext
from beat.settings import Settings

log = logging.getLogger(__name__)

LEADER_LEASE = "scheduler"


class Scheduler:
    """Runs the job table in whichever process holds the leader lease."""

    def __init__(
        self,
        ctx: TortoiseContext,
        settings: Settings,
        *,
        owner: str,
        clock: Callable[[], datetime],
        check_channels: Callable[[datetime], Awaitable[int]],
        lease_ttl: timedelta = timedelta(seconds=15),
        jobs: tuple[Job, ...] = JOBS,
        police_uk: PoliceData | None = None,
        alert_sender: AlertSender | None = None,
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.owner = owner
        self.clock = clock
        self.check_channels = check_channels
        self.police_uk = police_uk
        self.alert_sender = alert_sender or LoggingSender()
        self.lease_ttl = lease_ttl
        if settings.job_interval_seconds is not None:
            every = settings.job_interval_seconds
            jobs = tuple(dataclasses.replace(job, every_seconds=every) for job in jobs)
        self.jobs = jobs
        self.leading = False
        self._aps = AsyncIOScheduler(timezone=UTC)
        self._running: set[asyncio.Task[object]] = set()
        self._stopping = False

    async def campaign(self) -> bool:
        """Take or renew the lease; a new leader takes over within one ttl of the old dying."""
        with db.current(self.ctx):
            try:
                leading = await leader.hold(LEADER_LEASE, self.owner, self.clock(), self.lease_ttl)
            except Exception:  # the database is away: stop leading rather than run blind
                log.exception("leader lease failed")
                leading = False
        if leading != self.leading:
            log.info("scheduler leadership", extra={"owner": self.owner, "leading": leading})
        self.leading = leading
        return leading

    async def run_job(self, job: Job) -> int | None:
        if not self.leading or self._stopping:
            return None
        task = asyncio.current_task()
        if task is None:  # APScheduler runs coroutine jobs as tasks; this is for direct calls
            return await self._run(job)
        self._running.add(task)
        try:
            return await self._run(job)
        finally:
            self._running.discard(task)

    async def _run(self, job: Job) -> int | None:
        with db.current(self.ctx):
            started = self.clock()
            try:
                done = await job.run(
                    JobContext(
                        started,
                        self.settings.photos_dir,
                        self.check_channels,
                        police_uk=self.police_uk,
                        crime_forces=self.settings.policeuk_crime_forces,
                        alert_sender=self.alert_sender,
                    )
                )
            except Exception:
                log.exception("job failed", extra={"job": job.name})
                return None
        log.info("job ran", extra={"job": job.name, "count": done, "owner": self.owner})
        return done

    async def start(self) -> None:
        await self.campaign()
        every = max(1.0, self.lease_ttl.total_seconds() / 3)
        self._aps.add_job(self.campaign, "interval", seconds=every, id="leader", max_instances=1)
        for job in self.jobs:
            self._aps.add_job(
                self.run_job, "interval", seconds=job.every_seconds, args=[job], id=job.name,
                max_instances=1, coalesce=True,
            )  # fmt: skip
        self._aps.start()

    async def stop(self, grace: float = 30.0) -> None:
        """Start no more jobs, let those running finish, then hand over the lease.

        APScheduler's shutdown cancels running coroutine jobs; cancelled mid-query, a job
        could leave SQLite's connection lock held. So the scheduler is paused first and the
        jobs in hand are awaited (up to `grace` seconds) before it is shut down.
        """
        self._stopping = True
        if self._aps.running:
            self._aps.pause()
        running = [task for task in self._running if not task.done()]
        if running:
            log.info("scheduler waiting for running jobs", extra={"jobs": len(running)})
            await asyncio.wait(running, timeout=grace)
        if self._aps.running:
            self._aps.shutdown(wait=False)
        if self.leading:
            # Hand over at once rather than after the lease runs out; if the database is
            # already away, the lease simply expires.
            with db.current(self.ctx), contextlib.suppress(Exception):
                await leader.release(LEADER_LEASE, self.owner)
        self.leading = False


class DeliveryWorker:
    """Claims due deliveries and sends them; woken at once by approvals in this process."""

    def __init__(
        self,
        ctx: TortoiseContext,
        settings: Settings,
        *,
        worker_id: str,
        clock: Callable[[], datetime],
        channel_for: Callable[[ChannelAccount], Channel],
        render: outbox.Renderer,
        poll_seconds: float = 1.0,
        batch: int = 8,
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.worker_id = worker_id
        self.clock = clock
        self.channel_for = channel_for
        self.render = render
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.wake = asyncio.Event()
        self._stopping = False

    def stop(self) -> None:
        """Finish the round in hand, then return from run_forever."""
        self._stopping = True
        self.wake.set()

    async def run_once(self) -> int:
        """Claim one batch and deliver it; how many deliveries were worked on."""
        with db.current(self.ctx):
            claimed = await outbox.claim(
                self.worker_id,
                self.clock(),
                lease=timedelta(seconds=self.settings.delivery_lease_seconds),
                limit=self.batch,
            )

            async def one(delivery: Delivery) -> None:
                account = await ChannelAccount.get(id=delivery.account_id)
                try:
                    await outbox.deliver(
                        delivery,
                        channel=self.channel_for(account),
                        render=self.render,
                        worker=self.worker_id,
                        clock=self.clock,
                        max_attempts=self.settings.delivery_max_attempts,
                        backoff_base=timedelta(seconds=self.settings.delivery_backoff_base_seconds),
                    )
                except Exception:  # a bug or a database blip: the lease expires and it is retried
                    log.exception("delivery crashed", extra={"delivery": delivery.id})

            await asyncio.gather(*(one(d) for d in claimed))
        return len(claimed)

    async def run_forever(self) -> None:
        while not self._stopping:
            try:
                worked = await self.run_once()
            except Exception:
                log.exception("delivery round failed")
                worked = 0
            if worked or self._stopping:
                continue
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.poll_seconds)
