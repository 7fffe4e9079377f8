"""The outbox: deliveries of approved posts to channel accounts, claimed by workers with a lease.

A delivery moves pending -> sending -> sent | failed | unknown | dead (or cancelled). Every
try at every part is recorded before the network is touched, so a worker that dies mid-send
leaves evidence: the next worker looks on the platform (Channel.find) instead of guessing,
and marks the delivery unknown for comms when it cannot tell.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from beat import audit, channel_accounts
from beat.channels import Channel, ChannelError, ChannelKind, FailureKind, Media, Part, Sent
from beat.errors import Invalid, NotAllowed, NotFound
from beat.models import ChannelAccount, Delivery, DeliveryAttempt, Post, Role, User
from beat.post_states import PostStatus

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED, UNKNOWN, DEAD, CANCELLED = (
    "pending", "sending", "sent", "failed", "unknown", "dead", "cancelled",
)  # fmt: skip
NEEDS_COMMS = (FAILED, UNKNOWN, DEAD)

# Posts per account the platforms allow, kept under with a margin: (window, most sends).
BUDGETS: dict[str, list[tuple[timedelta, int]]] = {
    ChannelKind.X: [(timedelta(minutes=15), 190), (timedelta(hours=3), 290)],
    ChannelKind.MASTODON: [(timedelta(hours=3), 290)],
    ChannelKind.BLUESKY: [(timedelta(hours=1), 1500)],
}
BACKOFF_BASE, BACKOFF_CAP = timedelta(seconds=10), timedelta(minutes=30)

Renderer = Callable[[ChannelAccount, Post], Awaitable[list[Part]]]
ChannelFor = Callable[[ChannelAccount], Channel]


# ---- writing the outbox ----------------------------------------------------------------------


async def enqueue_publish(post: Post, now: datetime) -> list[Delivery]:
    """One delivery per carrying account; call in the transaction that schedules the post."""
    made = []
    for account in await channel_accounts.accounts_for(post):
        delivery, created = await Delivery.get_or_create(
            post_id=post.id, account_id=account.id, action="publish", post_version=post.version,
            defaults={"status": PENDING, "due_at": post.not_before or now, "created_at": now},
        )  # fmt: skip
        if created:
            made.append(delivery)
        elif delivery.status == CANCELLED and delivery.next_part == 0:
            # Expired and approved again: nothing went out, so it goes out now.
            await Delivery.filter(id=delivery.id).update(
                status=PENDING, due_at=post.not_before or now, last_error=""
            )
            made.append(delivery)
    return made


async def cancel_for(post: Post, now: datetime, *, reason: str) -> int:
    """Stop what is still to go and take down what went; call in the withdrawing transaction."""
    changed = 0
    for delivery in await Delivery.filter(post_id=post.id, action="publish").exclude(
        status=CANCELLED
    ):
        went_out = delivery.status == SENT or delivery.next_part > 0 or delivery.status == SENDING
        if delivery.status != SENT:
            await (
                Delivery.filter(id=delivery.id)
                .exclude(status=SENT)
                .update(status=CANCELLED, last_error=reason[:500], lease_owner="", lease_until=None)
            )
        if went_out or delivery.status == UNKNOWN:
            # A send in flight may land after this: the removal waits out its lease.
            due = max(now, delivery.lease_until or now)
            await Delivery.get_or_create(
                post_id=post.id, account_id=delivery.account_id, action="delete",
                post_version=delivery.post_version,
                defaults={"status": PENDING, "due_at": due, "created_at": now},
            )  # fmt: skip
        changed += 1
    return changed


# ---- claiming ------------------------------------------------------------------------------


async def claim(worker: str, now: datetime, *, lease: timedelta, limit: int = 10) -> list[Delivery]:
    """Take up to `limit` due deliveries for this worker, each exactly once across workers.

    PostgreSQL skips rows other workers hold (FOR UPDATE SKIP LOCKED); everywhere the claim
    itself is a conditional UPDATE whose row count says who won.
    """
    due = Q(status=PENDING) | Q(status=SENDING, lease_until__lt=now)
    async with in_transaction():
        candidates = (
            await Delivery.filter(
                due, due_at__lte=now, account__healthy=True, account__removed_at=None
            )
            .order_by("due_at", "id")
            .limit(limit)
            .select_for_update(skip_locked=True, of=("delivery",))
        )
        claimed = []
        for row in candidates:
            won = await Delivery.filter(Q(id=row.id) & due).update(
                status=SENDING, lease_owner=worker, lease_until=now + lease
            )
            if won:
                row.status, row.lease_owner, row.lease_until = SENDING, worker, now + lease
                claimed.append(row)
    return claimed


# ---- delivering ----------------------------------------------------------------------------


def _budget_free_at(kind: str, sent_times: list[datetime], now: datetime) -> datetime | None:
    """None if one more send fits every window; else when the oldest blocking send ages out."""
    later = None
    for window, most in BUDGETS.get(kind, []):
        inside = sorted(t for t in sent_times if t > now - window)
        if len(inside) >= most:
            free = inside[len(inside) - most] + window
            later = max(later, free) if later else free
    return later


async def _sent_times(account_id: int, now: datetime) -> list[datetime]:
    longest = max((w for budgets in BUDGETS.values() for w, _ in budgets), default=timedelta(0))
    rows = await DeliveryAttempt.filter(
        account_id=account_id, outcome="sent", started_at__gt=now - longest
    ).only("started_at")
    return [row.started_at for row in rows]


def backoff(
    attempts: int, rng: random.Random | None = None, *, base: timedelta = BACKOFF_BASE
) -> timedelta:
    """Exponential, capped, with full jitter so many workers do not retry in step."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
    ceiling = min(BACKOFF_CAP, base * (2 ** max(0, attempts - 1)))
    return timedelta(seconds=rng.uniform(ceiling.total_seconds() / 2, ceiling.total_seconds()))


def _part_of(record: dict[str, Any]) -> Part:
    media = [Media(Path(str(m["path"])), str(m["alt_text"])) for m in record.get("media", [])]
    links = [(int(a), int(b), str(url)) for a, b, url in record.get("links", [])]
    return Part(str(record["text"]), media, links)


def _record_of(part: Part) -> dict[str, Any]:
    return {
        "text": part.text,
        "media": [{"path": str(m.path), "alt_text": m.alt_text} for m in part.media],
        "links": [list(link) for link in part.links],
        "remote_id": "",
        "url": "",
        "cid": "",
    }


def _sent_of(record: dict[str, Any]) -> Sent | None:
    return (
        Sent(str(record["remote_id"]), str(record.get("url", "")), str(record.get("cid", "")))
        if record.get("remote_id")
        else None
    )


@dataclass
class Outcome:
    status: str
    detail: str = ""


async def deliver(
    delivery: Delivery,
    *,
    channel: Channel,
    render: Renderer,
    worker: str,
    clock: Callable[[], datetime],
    max_attempts: int,
    backoff_base: timedelta = BACKOFF_BASE,
) -> Outcome:
    """Send (or remove) one claimed delivery, part by part, resuming where it stopped."""
    account = await ChannelAccount.get(id=delivery.account_id)
    post = await Post.get(id=delivery.post_id)
    if delivery.action == "delete":
        return await _remove(delivery, account, channel, worker, clock)
    if post.status != PostStatus.PUBLISHED and post.status != PostStatus.SCHEDULED:
        await _finish(delivery, CANCELLED, f"the post is {post.status.value}")
        return Outcome(CANCELLED)
    if not delivery.parts:
        delivery.parts = [_record_of(p) for p in await render(account, post)]
        await Delivery.filter(id=delivery.id).update(parts=delivery.parts)
    parts = delivery.parts
    for index in range(delivery.next_part, len(parts)):
        now = clock()
        record = parts[index]
        free_at = _budget_free_at(account.kind, await _sent_times(account.id, now), now)
        if free_at is not None:
            await _reschedule(delivery, free_at, "waiting for the account's posting budget")
            return Outcome(PENDING, "budget")
        previous = _sent_of(parts[index - 1]) if index else None
        interrupted = await DeliveryAttempt.filter(
            delivery_id=delivery.id, part=index, finished_at=None
        ).first()
        if interrupted is not None:
            # A worker died after sending this part and before hearing back: look, don't resend.
            # The open attempt is the only evidence, so it is closed after the finding is
            # recorded: a worker killed in between leaves it open for the next one to see.
            found = await _look(channel, str(record["text"]), previous)
            if found is None:
                await _finish(
                    delivery,
                    UNKNOWN,
                    "a worker stopped mid-send and the post is not on the platform: "
                    "retry or mark sent",
                )
            else:
                await _part_sent(delivery, index, found, interrupted_id=None, now=now)
            await DeliveryAttempt.filter(id=interrupted.id).update(
                finished_at=now, outcome="crashed", error="the worker stopped mid-send"
            )
            if found is None:
                return Outcome(UNKNOWN)
            continue
        attempt = await DeliveryAttempt.create(
            delivery_id=delivery.id, account_id=account.id, part=index, worker=worker,
            started_at=now, outcome="started",
        )  # fmt: skip
        await Delivery.filter(id=delivery.id).update(attempts=F("attempts") + 1)
        delivery.attempts += 1
        try:
            sent = await channel.publish(
                _part_of(record),
                reply_to=previous,
                key=f"beat-{delivery.id}-{delivery.post_version}-{index}",
            )
        except ChannelError as exc:
            return await _failed(
                delivery, account, channel, attempt, record, index, exc, clock(), max_attempts,
                backoff_base,
            )  # fmt: skip
        await _part_sent(delivery, index, sent, interrupted_id=attempt.id, now=clock())
    await _finish(delivery, SENT, "", sent_at=clock())
    return Outcome(SENT)


async def _look(channel: Channel, text: str, reply_to: Sent | None) -> Sent | None:
    try:
        return await channel.find(text, reply_to=reply_to)
    except ChannelError:
        return None


async def _part_sent(
    delivery: Delivery, index: int, sent: Sent, *, interrupted_id: int | None, now: datetime
) -> None:
    parts = delivery.parts
    parts[index] = {**parts[index], "remote_id": sent.remote_id, "url": sent.url, "cid": sent.cid}
    values: dict[str, Any] = {"parts": parts, "next_part": index + 1}
    if index == 0:
        values.update(remote_id=sent.remote_id, url=sent.url)
    async with in_transaction():
        await Delivery.filter(id=delivery.id).update(**values)
        if interrupted_id is not None:
            await DeliveryAttempt.filter(id=interrupted_id).update(
                finished_at=now, outcome="sent", remote_id=sent.remote_id
            )
    delivery.next_part = index + 1


async def _failed(
    delivery: Delivery, account: ChannelAccount, channel: Channel, attempt: DeliveryAttempt,
    record: dict[str, Any], index: int, exc: ChannelError, now: datetime, max_attempts: int,
    backoff_base: timedelta,
) -> Outcome:  # fmt: skip

    async def close() -> None:
        await DeliveryAttempt.filter(id=attempt.id).update(
            finished_at=now, outcome=exc.kind.value, error=exc.detail[:500]
        )

    if exc.kind in (FailureKind.DUPLICATE, FailureKind.UNKNOWN_OUTCOME):
        # The platform may have it: find out what it really holds. As after a crash, the
        # attempt stays open until the finding is recorded, so a worker killed in between
        # leaves the next one looking rather than sending again.
        previous = _sent_of(delivery.parts[index - 1]) if index else None
        found = await _look(channel, str(record["text"]), previous)
        if found is not None:
            await _part_sent(delivery, index, found, interrupted_id=None, now=now)
            await close()
            await _reschedule(delivery, now, "")  # carry on with the next part at once
            return Outcome(PENDING, "resumed after finding the part on the platform")
        if exc.kind == FailureKind.UNKNOWN_OUTCOME:
            await _finish(delivery, UNKNOWN, exc.detail)
            await close()
            return Outcome(UNKNOWN)
        await _finish(delivery, FAILED, "the platform calls it a duplicate but does not show it")
        await close()
        return Outcome(FAILED)
    await close()
    if exc.kind == FailureKind.REJECTED:
        await _finish(delivery, FAILED, exc.detail)
        return Outcome(FAILED)
    if exc.kind == FailureKind.AUTH_FAILED:
        await channel_accounts.record_check(account, ok=False, handle="", error=exc.detail, now=now)
        await _reschedule(delivery, now, exc.detail)  # held until the account is healthy again
        return Outcome(PENDING, "account unhealthy")
    if delivery.attempts >= max_attempts:
        await _finish(delivery, DEAD, f"gave up after {delivery.attempts} attempts: {exc.detail}")
        return Outcome(DEAD)
    if exc.kind == FailureKind.RATE_LIMITED and exc.retry_at is not None:
        when = max(exc.retry_at, now) + timedelta(seconds=random.uniform(0, 2))  # noqa: S311
    else:
        when = now + backoff(delivery.attempts, base=backoff_base)
    await _reschedule(delivery, when, exc.detail)
    return Outcome(PENDING, exc.kind.value)


async def _reschedule(delivery: Delivery, when: datetime, error: str) -> None:
    await Delivery.filter(id=delivery.id).update(
        status=PENDING, due_at=when, lease_owner="", lease_until=None, last_error=error[:500]
    )


async def _finish(
    delivery: Delivery, status: str, error: str, *, sent_at: datetime | None = None
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "lease_owner": "",
        "lease_until": None,
        "last_error": error[:500],
    }
    if sent_at is not None:
        values["sent_at"] = sent_at
    await Delivery.filter(id=delivery.id).update(**values)
    delivery.status = status
    log.info("delivery finished", extra={"delivery": delivery.id, "status": status})


async def _remove(
    delivery: Delivery,
    account: ChannelAccount,
    channel: Channel,
    worker: str,
    clock: Callable[[], datetime],
) -> Outcome:
    """Delete every part the publish delivery placed, the last reply first."""
    source = await Delivery.get_or_none(
        post_id=delivery.post_id, account_id=delivery.account_id, action="publish",
        post_version=delivery.post_version,
    )  # fmt: skip
    placed = [p for p in (source.parts if source else []) if p.get("remote_id")]
    # A part whose answer never came back (unknown, or cancelled mid-send) may be on the
    # platform too: look for the rest of the chain, each part by the parent it answers.
    if source is not None and any(not record.get("remote_id") for record in source.parts):
        placed = []
        previous: Sent | None = None
        for record in source.parts:
            known = _sent_of(record) if record.get("remote_id") else None
            found = known or await _look(channel, str(record["text"]), previous)
            if found is None:
                break  # a later part can only hang off this one: nothing further is out there
            placed.append({**record, "remote_id": found.remote_id})
            previous = found
    for record in reversed(placed):
        now = clock()
        attempt = await DeliveryAttempt.create(
            delivery_id=delivery.id, account_id=account.id, part=0, worker=worker,
            started_at=now, outcome="started",
        )  # fmt: skip
        try:
            await channel.delete(str(record["remote_id"]))
        except ChannelError as exc:
            await DeliveryAttempt.filter(id=attempt.id).update(
                finished_at=clock(), outcome=exc.kind.value, error=exc.detail[:500]
            )
            await Delivery.filter(id=delivery.id).update(attempts=F("attempts") + 1)
            await _reschedule(delivery, clock() + backoff(delivery.attempts + 1), exc.detail)
            return Outcome(PENDING, exc.kind.value)
        await DeliveryAttempt.filter(id=attempt.id).update(
            finished_at=clock(), outcome="deleted", remote_id=str(record["remote_id"])
        )
    await _finish(delivery, SENT, "", sent_at=clock())
    post = await Post.get(id=delivery.post_id)
    await audit.record(
        at=clock(), force_id=post.force_id, actor=None, action="channel-post-removed",
        post_id=post.id, details={"account": account.id, "parts": len(placed)},
    )  # fmt: skip
    return Outcome(SENT)


# ---- what comms see and decide -------------------------------------------------------------


async def for_post(post_id: uuid.UUID) -> list[tuple[Delivery, ChannelAccount]]:
    rows = await Delivery.filter(post_id=post_id).order_by("id").select_related("account")
    return [(d, d.account) for d in rows]


async def needing_comms(actor: User) -> list[Delivery]:
    if actor.role != Role.COMMS or actor.force_id is None:
        raise NotAllowed("only comms resolve deliveries")
    return (
        await Delivery.filter(account__force_id=actor.force_id, status__in=list(NEEDS_COMMS))
        .order_by("updated_at")
        .select_related("account")
    )


async def resolve(
    actor: User, delivery_id: int, *, action: str, remote_id: str = "", now: datetime
) -> Delivery:
    """Comms settle a delivery: send it again, record it as sent (with its id), or drop it."""
    delivery = await Delivery.get_or_none(id=delivery_id).select_related("account")
    if delivery is None or delivery.account.force_id != actor.force_id or actor.role != Role.COMMS:
        raise NotFound("no such delivery in your force")
    if delivery.status not in NEEDS_COMMS:
        raise Invalid.field(
            "/action", f"the delivery is {delivery.status}, not waiting for a decision"
        )
    async with in_transaction():
        if action == "retry":
            # Clear the interrupted marker so the worker sends rather than looks.
            await DeliveryAttempt.filter(delivery_id=delivery.id, finished_at=None).update(
                finished_at=now, outcome="crashed"
            )
            await Delivery.filter(id=delivery.id).update(
                status=PENDING, due_at=now, attempts=0, last_error="retry asked by comms"
            )
        elif action == "mark-sent":
            await Delivery.filter(id=delivery.id).update(
                status=SENT, sent_at=now, remote_id=remote_id[:300] or delivery.remote_id,
                last_error="marked sent by comms",
            )  # fmt: skip
        elif action == "cancel":
            await Delivery.filter(id=delivery.id).update(
                status=CANCELLED, last_error="cancelled by comms"
            )
        else:
            raise Invalid.field("/action", "one of retry, mark-sent, cancel")
        post = await Post.get(id=delivery.post_id)
        await audit.record(
            at=now, force_id=post.force_id, actor=actor, action=f"delivery-{action}",
            post_id=post.id, details={"delivery": delivery.id, "remote_id": remote_id[:300]},
        )  # fmt: skip
    return await Delivery.get(id=delivery.id)
