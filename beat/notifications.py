"""Notices to users: decisions on their posts, hand-overs on the desk."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from beat.models import Notification, User


async def tell(
    user_id: int,
    kind: str,
    *,
    message: str,
    now: datetime,
    post_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> Notification:
    """Record a notice; call inside the transaction of the change it reports."""
    return await Notification.create(
        user_id=user_id,
        kind=kind,
        post_id=post_id,
        message=message,
        details=details or {},
        created_at=now,
    )


async def for_user(
    actor: User, *, unread_only: bool = False, limit: int = 50
) -> list[Notification]:
    query = Notification.filter(user_id=actor.id)
    if unread_only:
        query = query.filter(read_at=None)
    return await query.order_by("-created_at", "-id").limit(limit)


async def mark_read(actor: User, ids: list[int], now: datetime) -> int:
    return await Notification.filter(user_id=actor.id, id__in=ids, read_at=None).update(read_at=now)
