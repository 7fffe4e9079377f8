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
    """Count one failure for `key`; lock it until the window ends once `limit` is reached."""
    for _ in range(3):
        counter = await ThrottleCounter.get_or_none(key=key)
        if counter is None:
            try:
                counter = await ThrottleCounter.create(key=key, window_start=now, failures=0)
            except IntegrityError:
                continue  # another process created it first
        if counter.window_start + window <= now:
            # A new window: restart the count, unless another process already did.
            await ThrottleCounter.filter(id=counter.id, window_start=counter.window_start).update(
                window_start=now, failures=0, locked_until=None
            )
        await ThrottleCounter.filter(id=counter.id).update(failures=F("failures") + 1)
        counter = await ThrottleCounter.get(id=counter.id)
        if counter.failures >= limit and counter.locked_until is None:
            await ThrottleCounter.filter(id=counter.id).update(
                locked_until=counter.window_start + window
            )
        return


async def clear(key: str) -> None:
    await ThrottleCounter.filter(key=key).delete()
