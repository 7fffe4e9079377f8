"""The comms desk: the queue, approvals, edits, rejections, escalations, expiry and takedowns."""

from __future__ import annotations

import difflib
import logging
import uuid
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from beat import forces, notifications, posts
from beat.errors import Invalid, NotAllowed
from beat.models import Photo, Post, PostRevision, Role, User
from beat.post_states import ON_THE_DESK, Action, PostStatus

log = logging.getLogger(__name__)

NOTE_MAX = 1000


def _comms_of(actor: User, post: Post) -> None:
    if actor.role != Role.COMMS or actor.force_id != post.force_id:
        raise NotAllowed("only comms of the post's force moderate it")
    if actor.id == post.author_id:
        raise NotAllowed("no one approves their own post")


async def queue(actor: User, *, mine_only: bool = False) -> list[posts.PostView]:
    """Posts waiting for the actor's force's desk, longest-waiting first."""
    if actor.role != Role.COMMS or actor.force_id is None:
        raise NotAllowed("only comms work the moderation desk")
    query = Post.filter(force_id=actor.force_id, status__in=list(ON_THE_DESK))
    if mine_only:
        query = query.filter(assigned_to_id=actor.id)
    waiting = await query.order_by("submitted_at", "created_at")
    return [await posts.view_of(p) for p in waiting]


async def approve(
    actor: User,
    post_id: uuid.UUID,
    *,
    now: datetime,
    note: str = "",
    version: int | None = None,
    publish_at: datetime | None = None,
) -> posts.PostView:
    async with in_transaction():
        post = await posts.locked(post_id)
        _comms_of(actor, post)
        posts.check_version(post, version)
        if publish_at is not None:
            post.publish_at = posts._publish_at(publish_at, now)
        elif post.status == PostStatus.EXPIRED:
            post.publish_at = None  # its time has passed: it goes now
        await posts.move(post, Action.APPROVE, actor, now, reason=note[:300])
        _decided(post, actor, "approved", "", note, now)
        await notifications.tell(
            post.author_id, "post-approved", post_id=post.id, now=now,
            message="Comms approved your post." + (f" Note: {note}" if note else ""),
        )  # fmt: skip
        await posts.schedule(post, await forces.settings_of(post.force_id), now)
        await post.save()
    return await posts.view_of(post)


def _decided(post: Post, actor: User, decision: str, reason: str, note: str, now: datetime) -> None:
    post.decision = decision
    post.decision_reason = reason
    post.decision_note = note[:NOTE_MAX]
    post.decided_at = now
    post.assigned_to = None


async def edit_and_approve(
    actor: User,
    post_id: uuid.UUID,
    *,
    text: str,
    text_cy: str | None,
    note: str,
    now: datetime,
    version: int | None = None,
) -> posts.PostView:
    """Comms correct the wording and approve; the earlier text and the diff are kept."""
    new_text = posts._text(text, "/text", required=True)
    new_cy: str | None = None
    if text_cy is not None:
        new_cy = posts._text(text_cy, "/text_cy", required=False) or None
    async with in_transaction():
        post = await posts.locked(post_id)
        _comms_of(actor, post)
        posts.check_version(post, version)
        old_text, old_cy = post.text, post.text_cy
        if new_text == old_text and (text_cy is None or new_cy == old_cy):
            raise Invalid.field("/text", "is unchanged: approve it as it is instead")
        diff = "".join(
            difflib.unified_diff(
                (old_text + "\n").splitlines(keepends=True),
                (new_text + "\n").splitlines(keepends=True),
                "officer", "comms",
            )
        )  # fmt: skip
        await PostRevision.create(
            post=post, version=post.version, text=old_text, text_cy=old_cy,
            edited_by_id=actor.id, kind="moderator-edit", diff=diff, created_at=now,
        )  # fmt: skip
        post.text = new_text
        if text_cy is not None:
            post.text_cy = new_cy
        post.version += 1
        pics = await Photo.filter(post_id=post.id)
        hits = posts.risk_hits(post.text, post.text_cy, [p.alt_text for p in pics])
        post.risks = hits
        if post.status == PostStatus.EXPIRED:
            post.publish_at = None
        await posts.move(
            post, Action.EDIT_APPROVE, actor, now, reason=note[:300], revision=post.version - 1,
            remaining_risks=[h["code"] for h in hits],
        )  # fmt: skip
        _decided(post, actor, "edited-and-approved", "", note, now)
        await notifications.tell(
            post.author_id, "post-edited-and-approved", post_id=post.id, now=now,
            message="Comms edited your post and approved it." + (f" Note: {note}" if note else ""),
            details={"diff": diff},
        )  # fmt: skip
        await posts.schedule(post, await forces.settings_of(post.force_id), now)
        await post.save()
    return await posts.view_of(post)


async def reject(
    actor: User,
    post_id: uuid.UUID,
    *,
    reason: str,
    note: str,
    now: datetime,
    version: int | None = None,
) -> posts.PostView:
    async with in_transaction():
        post = await posts.locked(post_id)
        _comms_of(actor, post)
        posts.check_version(post, version)
        settings = await forces.settings_of(post.force_id)
        if reason not in settings.reject_reasons:
            raise Invalid.field(
                "/reason", f"one of your force's reasons: {settings.reject_reasons}"
            )
        await posts.move(post, Action.REJECT, actor, now, reason=reason, note=note[:NOTE_MAX])
        _decided(post, actor, "rejected", reason, note, now)
        await notifications.tell(
            post.author_id, "post-rejected", post_id=post.id, now=now,
            message=f"Comms did not approve your post ({reason})." + (f" {note}" if note else ""),
            details={"reason": reason, "note": note[:NOTE_MAX]},
        )  # fmt: skip
        await post.save()
    return await posts.view_of(post)


async def escalate(
    actor: User, post_id: uuid.UUID, *, to_user_id: int, note: str, now: datetime
) -> posts.PostView:
    """Hand a post to another comms officer of the force (e.g. a senior one)."""
    async with in_transaction():
        post = await posts.locked(post_id)
        _comms_of(actor, post)
        target = await User.get_or_none(id=to_user_id)
        if (
            target is None
            or target.role != Role.COMMS
            or target.force_id != post.force_id
            or not target.is_active
        ):
            raise Invalid.field("/to", "not a comms officer of this force")
        if target.id in (actor.id, post.author_id):
            raise Invalid.field("/to", "escalate to someone else")
        await posts.move(post, Action.ESCALATE, actor, now, reason=note[:300], to=target.id)
        post.assigned_to = target
        await notifications.tell(
            target.id, "post-escalated", post_id=post.id, now=now,
            message="A post was escalated to you." + (f" Note: {note}" if note else ""),
        )  # fmt: skip
        await post.save()
    return await posts.view_of(post)


async def expire_stale(now: datetime) -> int:
    """Approved posts whose time passed unpublished go back to the desk, never out late."""
    expired = 0
    candidates = await Post.filter(
        status__in=[PostStatus.APPROVED, PostStatus.SCHEDULED], not_before__lt=now
    )
    for candidate in candidates:
        settings = await forces.settings_of(candidate.force_id)
        grace = timedelta(minutes=settings.approval_grace_minutes)
        assert candidate.not_before is not None
        if candidate.not_before + grace > now:
            continue
        async with in_transaction():
            post = await posts.locked(candidate.id)
            if post.status not in (PostStatus.APPROVED, PostStatus.SCHEDULED):
                continue
            await posts.move(post, Action.EXPIRE, None, now, reason="publication time passed")
            post.decision = "expired"
            await post.save()
            expired += 1
    return expired
