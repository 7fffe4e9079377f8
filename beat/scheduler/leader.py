"""One leader per cluster for the scheduled jobs: a lease row in the database, renewed often.

Works the same on SQLite and PostgreSQL: whoever holds an unexpired lease leads; when the
leader dies its lease runs out within `ttl` and another process takes over.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError

from beat.models import JobLease


async def hold(name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `owner`; True if `owner` leads until now + ttl."""
    until = now + ttl
    renewed = await JobLease.filter(name=name, owner=owner).update(until=until)
    if renewed:
        return True
    taken = await JobLease.filter(name=name, until__lt=now).update(owner=owner, until=until)
    if taken:
        return True
    try:
        await JobLease.create(name=name, owner=owner, until=until)
    except IntegrityError:
        return False  # someone else holds it
    return True


async def release(name: str, owner: str) -> None:
    await JobLease.filter(name=name, owner=owner).delete()
