"""Fixed-window failure counters in the database, so every process sees the same lockouts."""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from beat.errors import Throttled
from beat.models import ThrottleCounter


async def ensure_allowed(keys: list[str], now: datetime) -> None:
    """Raise Throttled if any key is locked at `now`."""
    locked = await ThrottleCounter.filter(key__in=keys, locked_until__gt=now).order_by(
        "-locked_until"
    )
    if locked:
        until = locked[0].locked_until
        assert until is not None
        raise Throttled("too many failed attempts; try again later", retry_at=until, now=now)


async def record_failure(key: str, *, limit: int, window: timedelta, now: datetime) -> None:
    """Count one failure for `key`; lock it until the window ends once `limit` is reached.

    Other processes (and a successful sign-in clearing the key) act on the same row at the
    same time, so every step is a conditional update that starts over if the row moved.
    """
    for _ in range(5):
        counter = await ThrottleCounter.get_or_none(key=key)
        if counter is None:
            try:
                await ThrottleCounter.create(
                    key=key,
                    window_start=now,
                    failures=1,
                    locked_until=now + window if limit <= 1 else None,
                )
                return
            except IntegrityError:
                continue  # another request created it first
        if counter.window_start + window <= now:
            restarted = await ThrottleCounter.filter(
                id=counter.id, window_start=counter.window_start
            ).update(window_start=now, failures=0, locked_until=None)
            if not restarted:
                continue
            counter.window_start = now
        if not await ThrottleCounter.filter(id=counter.id).update(failures=F("failures") + 1):
            continue  # cleared meanwhile
        fresh = await ThrottleCounter.get_or_none(id=counter.id)
        if fresh is None:
            continue
        if fresh.failures >= limit and fresh.locked_until is None:
            await ThrottleCounter.filter(id=fresh.id).update(
                locked_until=fresh.window_start + window
            )
        return


async def clear(key: str) -> None:
    await ThrottleCounter.filter(key=key).delete()
