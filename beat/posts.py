"""Officers' posts: creating them safely offline, editing, submitting and withdrawing them."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from beat import audit, feed_versions, follows, forces, notifications, outbox, photos, risk
from beat.areas import AreaLocator
from beat.errors import Conflict, FieldError, Invalid, NotAllowed, NotFound
from beat.models import (
    Delivery,
    ForceSettings,
    ModerationPolicy,
    Neighbourhood,
    Photo,
    Post,
    PostArea,
    PostRevision,
    Role,
    Template,
    User,
)
from beat.post_states import Action, Actor, PostStatus, transition

log = logging.getLogger(__name__)

TEXT_MAX = 2000
MAX_PHOTOS = 4
MAX_AREAS = 10
SCHEDULE_HORIZON = timedelta(days=90)
# A phone's clock may run a little behind: a publish_at this far in the past means "now".
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class PostInput:
    """What an officer sends for a new post (or an edit of one)."""

    text: str
    neighbourhoods: list[str] | None = None
    location: tuple[float, float] | None = None  # the phone's (lat, lng)
    location_label: str = ""
    text_cy: str | None = None
    photos: list[uuid.UUID] = field(default_factory=list)
    publish_at: datetime | None = None
    template_id: int | None = None
    kind: str = "update"
    draft: bool = False

    def digest(self) -> str:
        """A fingerprint of the request, to tell a retry from a different post with the same key."""
        data = asdict(self)
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class PostView:
    """A post with what goes with it: its areas and photos."""

    post: Post
    areas: list[Neighbourhood]
    photos: list[Photo]
    # Each channel account's delivery of the current version (and any removals).
    deliveries: list[Delivery] = field(default_factory=list)


def actor_kind(actor: User | None, post: Post) -> Actor:
    if actor is None:
        return Actor.SYSTEM
    if actor.id == post.author_id:
        return Actor.AUTHOR
    if actor.role == Role.COMMS and actor.force_id == post.force_id:
        return Actor.COMMS
    raise NotAllowed("you may not act on this post")


async def load(post_id: uuid.UUID) -> PostView:
    post = await Post.get_or_none(id=post_id)
    if post is None:
        raise NotFound("no such post")
    return await view_of(post)


async def view_of(post: Post) -> PostView:
    areas = await Neighbourhood.filter(post_areas__post_id=post.id).order_by("name")
    pics = await Photo.filter(post_id=post.id).order_by("position")
    sent = (
        await Delivery.filter(post_id=post.id)
        # One Q: exclude(a=..., b=...) excludes rows matching either, not both (tortoise 1.1).
        .exclude(Q(action="publish", post_version__lt=post.version))
        .order_by("id")
        .select_related("account")
    )
    return PostView(post, areas, pics, sent)


def may_see(viewer: User | None, post: Post) -> bool:
    """The author and the force's comms and administrators see a post at every stage."""
    if post.status == PostStatus.PUBLISHED:
        return True
    if viewer is not None and viewer.id == post.author_id:
        return True
    return (
        viewer is not None
        and viewer.role in (Role.COMMS, Role.FORCE_ADMIN)
        and viewer.force_id == post.force_id
    )


async def get_post(viewer: User | None, post_id: uuid.UUID) -> PostView:
    view = await load(post_id)
    if not may_see(viewer, view.post):
        raise NotFound("no such post")  # its existence is not the caller's business
    return view


async def my_posts(
    actor: User, *, limit: int = 50, before: datetime | None = None
) -> list[PostView]:
    query = Post.filter(author_id=actor.id)
    if before is not None:
        query = query.filter(created_at__lt=before)
    found = await query.order_by("-created_at").limit(limit)
    return [await view_of(p) for p in found]


# ---- checks -------------------------------------------------------------------------------


def _text(value: str, name: str, *, required: bool) -> str:
    value = value.strip()
    if required and not value:
        raise Invalid.field(name, "must not be empty")
    if len(value) > TEXT_MAX:
        raise Invalid.field(name, f"must be at most {TEXT_MAX} characters")
    return value


async def _areas_for(
    actor: User, data: PostInput, settings: ForceSettings, locator: AreaLocator
) -> list[Neighbourhood]:
    """The areas a post is about: as tagged, or suggested from the phone's position."""
    assert actor.force_id is not None
    if data.neighbourhoods:
        codes = list(dict.fromkeys(data.neighbourhoods))
        if len(codes) > MAX_AREAS:
            raise Invalid.field("/neighbourhoods", f"tag at most {MAX_AREAS} areas")
        found = await Neighbourhood.filter(force_id=actor.force_id, code__in=codes, retired_at=None)
        missing = sorted(set(codes) - {n.code for n in found})
        if missing:
            raise Invalid(
                "unknown areas",
                [FieldError("/neighbourhoods", f"no area {c!r} in your force") for c in missing],
            )
    elif data.location is not None:
        try:
            located = await locator.locate(*data.location)
        except NotFound as exc:
            raise Invalid.field(
                "/location", "no neighbourhood covers this position: tag one"
            ) from exc
        if located.force_id != actor.force_id:
            raise Invalid.field("/location", "this position is not in your force's area")
        found = [located]
    else:
        raise Invalid.field("/neighbourhoods", "tag the areas, or send the phone's location")
    if not settings.officers_post_force_wide:
        outside = [n.code for n in found if n.team_id != actor.team_id]
        if outside:
            raise NotAllowed(f"your team does not cover {', '.join(sorted(outside))}")
    by_code = {n.code: n for n in found}
    return sorted(by_code.values(), key=lambda n: n.name)


async def _template(actor: User, template_id: int | None) -> Template | None:
    if template_id is None:
        return None
    found = await Template.get_or_none(id=template_id, force_id=actor.force_id, active=True)
    if found is None:
        raise Invalid.field("/template_id", "no such template in your force")
    return found


def _publish_at(value: datetime | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise Invalid.field("/publish_at", "give a time zone, e.g. 2026-11-25T18:00:00Z")
    if value < now - CLOCK_SKEW:
        raise Invalid.field("/publish_at", "is in the past")
    if value > now + SCHEDULE_HORIZON:
        raise Invalid.field("/publish_at", "is more than 90 days ahead")
    return max(value, now)


def not_before(post: Post, settings: ForceSettings, now: datetime) -> datetime:
    """When the post may go out: its own time, or the force's delay for its kind, the later."""
    delay = timedelta(minutes=settings.publication_delays.get(post.kind, 0))
    earliest = (post.submitted_at or now) + delay
    return max(earliest, post.publish_at or earliest, now)


def risk_hits(text: str, text_cy: str | None, alts: list[str | None]) -> list[dict[str, Any]]:
    return [asdict(hit) for hit in risk.check_post(text, text_cy=text_cy, photos_alt=alts)]


# ---- creating --------------------------------------------------------------------------------


async def create_post(
    actor: User,
    data: PostInput,
    *,
    idempotency_key: uuid.UUID,
    now: datetime,
    locator: AreaLocator,
) -> tuple[PostView, bool]:
    """Create a post once per Idempotency-Key; returns (post, created).

    The same key with the same request answers with the same post, however often and
    however concurrently it arrives; the same key with a different request is refused.
    """
    if actor.role != Role.OFFICER or actor.force_id is None:
        raise NotAllowed("only officers post")
    digest = data.digest()
    replay = await _replay(actor, idempotency_key, digest)
    if replay is not None:
        return replay, False
    settings = await forces.settings_of(actor.force_id)
    text = _text(data.text, "/text", required=True)
    text_cy = _text(data.text_cy, "/text_cy", required=False) if data.text_cy is not None else None
    if settings.require_welsh and not text_cy:
        raise Invalid.field("/text_cy", "your force publishes in Welsh too: add the Welsh text")
    if data.kind not in forces.POST_KINDS:
        raise Invalid.field("/kind", f"one of {', '.join(forces.POST_KINDS)}")
    if len(data.photos) > MAX_PHOTOS:
        raise Invalid.field("/photos", f"at most {MAX_PHOTOS} photos")
    label = " ".join(data.location_label.split())[:120]
    areas = await _areas_for(actor, data, settings, locator)
    template = await _template(actor, data.template_id)
    publish_at = _publish_at(data.publish_at, now)
    try:
        async with in_transaction():
            post = await Post.create(
                id=uuid.uuid4(),
                force_id=actor.force_id,
                author=actor,
                kind=data.kind,
                status=PostStatus.DRAFT,
                text=text,
                text_cy=text_cy or None,
                location_label=label,
                gps_lat=data.location[0] if data.location else None,
                gps_lng=data.location[1] if data.location else None,
                template=template,
                publish_at=publish_at,
                idempotency_key=idempotency_key,
                request_digest=digest,
                created_at=now,
            )
            await PostArea.bulk_create([PostArea(post=post, neighbourhood=n) for n in areas])
            attached = await photos.attach(actor, list(data.photos), post)
            await audit.record(
                at=now, force_id=post.force_id, actor=actor, action="created", post_id=post.id,
                to_status=PostStatus.DRAFT.value,
                details={
                    "areas": [n.code for n in areas], "photos": len(attached),
                    # The raw position, for the audit record only (scrubbed from exports).
                    "gps": list(data.location) if data.location else None,
                    "template_id": template.id if template else None,
                },
            )  # fmt: skip
            if not data.draft:
                await _submit(actor, post, settings, areas, attached, now)
    except IntegrityError:
        # Another request with this key won the race; answer as it did.
        replay = await _replay(actor, idempotency_key, digest)
        if replay is None:
            raise
        return replay, False
    log.info("post created", extra={"post": str(post.id), "status": post.status.value})
    return await view_of(post), True


async def _replay(actor: User, key: uuid.UUID, digest: str) -> PostView | None:
    earlier = await Post.get_or_none(author_id=actor.id, idempotency_key=key)
    if earlier is None:
        return None
    if earlier.request_digest != digest:
        raise Invalid.field(
            "Idempotency-Key",
            "this key was used for a different post: make a new key for a new post",
        )
    return await view_of(earlier)


async def move(
    post: Post,
    action: Action,
    actor: User | None,
    now: datetime,
    *,
    reason: str = "",
    **details: Any,
) -> None:
    """Apply one life-cycle move to `post` and record it; call inside a transaction."""
    step = transition(post.status, action, actor_kind(actor, post))
    post.status = step.after
    await audit.record(
        at=now, force_id=post.force_id, actor=actor, action=action.value, post_id=post.id,
        from_status=step.before.value, to_status=step.after.value, reason=reason, details=details,
    )  # fmt: skip


def _desk_reasons(
    actor: User, settings: ForceSettings, areas: list[Neighbourhood], hits: list[dict[str, Any]]
) -> list[str]:
    """Why this post must wait for comms; empty when it may go unreviewed."""
    reasons = []
    held = [n.code for n in areas if n.hold_since is not None]
    if held:
        reasons.append("area-hold")
    if settings.moderation_policy == ModerationPolicy.ALL:
        reasons.append("policy-pre-moderate-all")
    elif hits and not (
        settings.moderation_policy == ModerationPolicy.TRUSTED and actor.publish_unreviewed
    ):
        reasons.append("risk-checks")
    return reasons


async def _submit(
    actor: User,
    post: Post,
    settings: ForceSettings,
    areas: list[Neighbourhood],
    attached: list[Photo],
    now: datetime,
) -> None:
    await move(post, Action.SUBMIT, actor, now)
    await _route(actor, post, settings, areas, attached, now)


async def _route(
    actor: User,
    post: Post,
    settings: ForceSettings,
    areas: list[Neighbourhood],
    attached: list[Photo],
    now: datetime,
) -> None:
    """A submitted post: to the desk if anything says so, else approved and scheduled."""
    post.submitted_at = now
    hits = risk_hits(post.text, post.text_cy, [p.alt_text for p in attached])
    post.risks = hits
    desk = _desk_reasons(actor, settings, areas, hits)
    if desk:
        await move(
            post, Action.HOLD, None, now, reason=", ".join(desk), codes=[h["code"] for h in hits]
        )
    else:
        await move(post, Action.PASS, None, now)
        await schedule(post, settings, now)
    await post.save()


async def schedule(post: Post, settings: ForceSettings, now: datetime) -> None:
    """Queue an approved post for its time, publishing at once when that time is now."""
    post.not_before = not_before(post, settings, now)
    await move(post, Action.SCHEDULE, None, now, not_before=post.not_before.isoformat())
    # The outbox rows are written with the approval, in the same transaction.
    await outbox.enqueue_publish(post, now)
    if post.not_before <= now:
        await publish(post, now)


async def publish(post: Post, now: datetime) -> None:
    await move(post, Action.PUBLISH, None, now)
    post.published_at = now
    area_ids = await _shown_in_areas(post, now, now)
    await follows.alert_followers(post, area_ids, now)
    await notifications.tell(
        post.author_id,
        "post-published",
        post_id=post.id,
        message="Your post is published.",
        now=now,
    )


async def _shown_in_areas(post: Post, published_at: datetime | None, now: datetime) -> list[int]:
    """Put the post in its areas' feeds (at `published_at`) or take it out (None); its
    areas, in the order it lists them."""
    await PostArea.filter(post_id=post.id).update(published_at=published_at)
    rows = (
        await PostArea.filter(post_id=post.id)
        .order_by("id")
        .values_list("neighbourhood_id", flat=True)
    )
    area_ids = [int(row) for row in rows]  # type: ignore[call-overload]
    await feed_versions.bump(area_ids, now)
    return area_ids


# ---- after creation ------------------------------------------------------------------------


async def locked(post_id: uuid.UUID) -> Post:
    """The post, locked for this transaction where the database can (PostgreSQL)."""
    post = await Post.filter(id=post_id).select_for_update().first()
    if post is None:
        raise NotFound("no such post")
    return post


def check_version(post: Post, version: int | None) -> None:
    """Refuse a change made to an older version than the one stored (None: not checked)."""
    if version is not None and version != post.version:
        raise Conflict(
            f"the post changed since you opened it (now version {post.version}); reload it"
        )


async def submit_draft(actor: User, post_id: uuid.UUID, *, now: datetime) -> PostView:
    async with in_transaction():
        post = await locked(post_id)
        if post.author_id != actor.id:
            raise NotFound("no such post")
        view = await view_of(post)
        settings = await forces.settings_of(post.force_id)
        await _submit(actor, post, settings, view.areas, view.photos, now)
    return await view_of(post)


@dataclass(frozen=True)
class PostEdit:
    """An author's change; None leaves a field as it was."""

    version: int
    text: str | None = None
    text_cy: str | None = None
    location_label: str | None = None
    publish_at: datetime | None = None
    clear_publish_at: bool = False


async def edit_post(
    actor: User, post_id: uuid.UUID, change: PostEdit, *, now: datetime
) -> PostView:
    """The author changes a post before publication; it goes through the checks again."""
    async with in_transaction():
        post = await locked(post_id)
        if post.author_id != actor.id:
            raise NotFound("no such post")
        check_version(post, change.version)
        was_draft = post.status == PostStatus.DRAFT
        correction = post.status == PostStatus.PUBLISHED
        await move(post, Action.EDIT, actor, now, correction=correction)
        await PostRevision.create(
            post=post, version=post.version, text=post.text, text_cy=post.text_cy,
            edited_by_id=actor.id, kind="correction" if correction else "edit", created_at=now,
        )  # fmt: skip
        if correction:
            post.published_at = None
            await outbox.cancel_for(post, now, reason="corrected by the author")
            await follows.cancel_alerts(post, reason="corrected by the author")
            await _shown_in_areas(post, None, now)
        if change.text is not None:
            post.text = _text(change.text, "/text", required=True)
        if change.text_cy is not None:
            post.text_cy = _text(change.text_cy, "/text_cy", required=False) or None
        if change.location_label is not None:
            post.location_label = " ".join(change.location_label.split())[:120]
        if change.clear_publish_at:
            post.publish_at = None
        elif change.publish_at is not None:
            post.publish_at = _publish_at(change.publish_at, now)
        post.version += 1
        settings = await forces.settings_of(post.force_id)
        if settings.require_welsh and not post.text_cy:
            raise Invalid.field("/text_cy", "your force publishes in Welsh too: add the Welsh text")
        view = await view_of(post)
        if was_draft:
            await post.save()
        else:
            await _route(actor, post, settings, view.areas, view.photos, now)
    return await view_of(post)


async def withdraw(actor: User, post_id: uuid.UUID, *, reason: str, now: datetime) -> PostView:
    """The author (before publication) or comms (at any time) take a post back.

    A published post leaves every public output at once: feeds and pages show published
    posts only. Deliveries to social channels are cancelled or reversed by the channels.
    """
    reason = " ".join(reason.split())
    if not 3 <= len(reason) <= 300:
        raise Invalid.field("/reason", "say why, in 3 to 300 characters")
    async with in_transaction():
        post = await locked(post_id)
        if not may_see(actor, post):
            raise NotFound("no such post")
        was_public = post.status == PostStatus.PUBLISHED
        await move(post, Action.WITHDRAW, actor, now, reason=reason, takedown=was_public)
        post.withdrawn_at = now
        await outbox.cancel_for(post, now, reason=f"withdrawn: {reason}")
        await follows.cancel_alerts(post, reason=f"withdrawn: {reason}")
        if was_public:
            await _shown_in_areas(post, None, now)
        if actor.id != post.author_id:
            await notifications.tell(
                post.author_id, "post-withdrawn", post_id=post.id, now=now,
                message=f"Comms withdrew your post: {reason}", details={"reason": reason},
            )  # fmt: skip
        await post.save()
    log.info("post withdrawn", extra={"post": str(post.id), "takedown": was_public})
    return await view_of(post)


async def publish_due(now: datetime) -> int:
    """Publish every scheduled post whose time has come; returns how many."""
    published = 0
    for candidate in await Post.filter(status=PostStatus.SCHEDULED, not_before__lte=now):
        async with in_transaction():
            post = await locked(candidate.id)
            if post.status != PostStatus.SCHEDULED:
                continue  # another worker got there first
            await publish(post, now)
            await post.save()
            published += 1
    return published
