"""A version number per area feed, in the database, so every process's cache and ETag agree.

Anything that changes what an area's feed shows (a post published, corrected or withdrawn, a
month of crime data imported, priorities or events synced) calls `bump` in its own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from tortoise.expressions import F

from beat.models import FeedVersion


async def bump(neighbourhood_ids: Iterable[int], now: datetime) -> None:
    ids = sorted(set(neighbourhood_ids))
    if not ids:
        return
    await FeedVersion.bulk_create(
        [FeedVersion(neighbourhood_id=i, version=0, changed_at=now) for i in ids],
        ignore_conflicts=True,
    )
    await FeedVersion.filter(neighbourhood_id__in=ids).update(
        version=F("version") + 1, changed_at=now
    )


async def versions(neighbourhood_ids: Iterable[int]) -> dict[int, int]:
    """The current version of each area's feed (0 for one never changed)."""
    ids = sorted(set(neighbourhood_ids))
    found = dict(
        await FeedVersion.filter(neighbourhood_id__in=ids).values_list(
            "neighbourhood_id", "version"
        )
    )
    return {i: int(found.get(i, 0)) for i in ids}
