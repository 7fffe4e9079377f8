"""Retention: withdrawn and rejected posts lose their content after the force's N days."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from tortoise.transactions import in_transaction

from beat import audit
from beat.models import ForceSettings, Photo, Post, PostRevision
from beat.post_states import PostStatus

log = logging.getLogger(__name__)

REMOVED = "[removed under the force's retention policy]"


async def purge(now: datetime, photos_dir: Path) -> int:
    """Empty the content of every post past its force's retention; the audit trail stays."""
    purged = 0
    for settings in await ForceSettings.filter(retention_days__not_isnull=True):
        assert settings.retention_days is not None
        cutoff = now - timedelta(days=settings.retention_days)
        rejected = Post.filter(
            force_id=settings.force_id, status=PostStatus.REJECTED, decided_at__lt=cutoff
        )
        withdrawn = Post.filter(
            force_id=settings.force_id, status=PostStatus.WITHDRAWN, withdrawn_at__lt=cutoff
        )
        for query in (rejected, withdrawn):
            for post in await query.filter(purged_at=None):
                await _purge_one(post, now, photos_dir)
                purged += 1
    if purged:
        log.info("post content purged", extra={"posts": purged})
    return purged


async def _purge_one(post: Post, now: datetime, photos_dir: Path) -> None:
    pictures = await Photo.filter(post_id=post.id)
    async with in_transaction():
        await Post.filter(id=post.id).update(
            text=REMOVED, text_cy=None, location_label="", gps_lat=None, gps_lng=None,
            risks=[], decision_note="", purged_at=now,
        )  # fmt: skip
        await PostRevision.filter(post_id=post.id).delete()
        await Photo.filter(post_id=post.id).delete()
        await audit.record(
            at=now, force_id=post.force_id, actor=None, action="content-purged", post_id=post.id,
            details={"photos": len(pictures)},
        )  # fmt: skip
    # Files go after the rows; a file another photo still uses stays.
    for picture in pictures:
        if await Photo.filter(sha256=picture.sha256).exists():
            continue
        for relative in picture.files.values():
            (photos_dir / relative).unlink(missing_ok=True)
