"""Follows and area alerts: residents and their devices follow areas and hear of new posts.

A follower is a Subscriber: a signed-in user, or an anonymous device that holds a secret of
which only the SHA-256 is stored. Publishing a post queues one AreaAlert per follower of any
of its areas, due at once or when the follower's quiet hours (London time) end; workers claim
due alerts and hand them to an AlertSender (a log line by default, Web Push when configured).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import enum
import functools
import hashlib
import ipaddress
import logging
import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from beat import areas, outbox, throttle
from beat.errors import (
    BeatError,
    ConfigError,
    Conflict,
    FieldError,
    Invalid,
    NotAuthenticated,
    NotFound,
)
from beat.models import AreaAlert, Follow, Neighbourhood, Post, Subscriber, User
from beat.post_states import PostStatus
from beat.settings import Settings

log = logging.getLogger(__name__)

LONDON = ZoneInfo("Europe/London")

# A device secret: a prefix that tells it from an access token at a glance, then 32 random
# bytes, base64url. The device keeps it; Beat keeps its SHA-256 only.
DEVICE_SECRET_PREFIX = "dv_"  # noqa: S105 - a marker, not a secret
DEVICE_SECRET_BYTES = 32
_DEVICE_SECRET = re.compile(r"dv_[A-Za-z0-9_-]{43}")
# Device registrations each client address may make per window (BEAT_LOGIN_WINDOW); many
# phones can share one address (a mobile network's NAT), so this is looser than sign-ups.
DEVICE_REGISTRATIONS_PER_ADDRESS = 20
MAX_FOLLOWS = 100
# last_seen_at is refreshed at most this often, so a busy device does not write per request.
SEEN_EVERY = timedelta(hours=1)

# AreaAlert.status
PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
ALERT_MAX_ATTEMPTS = 5
ALERT_BACKOFF_BASE = timedelta(seconds=30)
# A claimed alert's due_at is the end of its lease: past it, another worker may take it over.
# The lease covers the whole batch at its slowest (every send timing out), and then this.
ALERT_LEASE = timedelta(minutes=5)
SEND_TIMEOUT = timedelta(seconds=30)
SNIPPET_MAX = 160


# ---- who follows -------------------------------------------------------------------------------


def hash_device_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Device:
    """A newly registered device; `secret` is shown to it once and never stored."""

    subscriber: Subscriber
    secret: str = field(repr=False)


async def register_device(*, address: str, settings: Settings, now: datetime) -> Device:
    """An anonymous device signs up to follow areas; each address may make a few per window."""
    key = f"devices:address:{address}"
    await throttle.ensure_allowed([key], now)
    await throttle.record_failure(
        key, limit=DEVICE_REGISTRATIONS_PER_ADDRESS, window=settings.login_window, now=now
    )
    secret = DEVICE_SECRET_PREFIX + secrets.token_urlsafe(DEVICE_SECRET_BYTES)
    subscriber = await Subscriber.create(
        device_secret_hash=hash_device_secret(secret), created_at=now, last_seen_at=now
    )
    log.info("device registered", extra={"subscriber": subscriber.id})
    return Device(subscriber, secret)


async def device_subscriber(secret: str, now: datetime) -> Subscriber:
    """The device a secret belongs to; NotAuthenticated for anything else."""
    if not _DEVICE_SECRET.fullmatch(secret):
        raise NotAuthenticated("the device secret is malformed")
    found = await Subscriber.get_or_none(device_secret_hash=hash_device_secret(secret))
    if found is None:
        raise NotAuthenticated("the device secret is not known; register the device again")
    await _seen(found, now)
    return found


async def user_subscriber(user: User, now: datetime, *, create: bool) -> Subscriber | None:
    """A signed-in user's follower record; made on first need when `create`, else maybe None."""
    found = await Subscriber.get_or_none(user_id=user.id)
    if found is None and create:
        try:
            found = await Subscriber.create(user_id=user.id, created_at=now, last_seen_at=now)
        except IntegrityError:  # a parallel request of the same user made it first
            found = await Subscriber.get(user_id=user.id)
    if found is not None:
        await _seen(found, now)
    return found


async def _seen(subscriber: Subscriber, now: datetime) -> None:
    if subscriber.last_seen_at <= now - SEEN_EVERY:
        await Subscriber.filter(id=subscriber.id).update(last_seen_at=now)
        subscriber.last_seen_at = now


async def forget(subscriber: Subscriber) -> None:
    """Delete a follower with its follows, settings, push subscription and alerts."""
    async with in_transaction():
        await AreaAlert.filter(subscriber_id=subscriber.id).delete()
        await Follow.filter(subscriber_id=subscriber.id).delete()
        await Subscriber.filter(id=subscriber.id).delete()
    log.info("subscriber forgotten", extra={"subscriber": subscriber.id})


# ---- what they follow --------------------------------------------------------------------------


@dataclass(frozen=True)
class Followed:
    """One area a subscriber follows, and since when."""

    area: Neighbourhood
    followed_at: datetime

    @property
    def retired(self) -> bool:
        return self.area.retired_at is not None


async def follow(
    subscriber: Subscriber, force_id: str, code: str, now: datetime
) -> tuple[Followed, bool]:
    """Follow a live area; following it again changes nothing. Returns (follow, created)."""
    area = await areas.get_neighbourhood(force_id, code)  # NotFound if unknown or retired
    existing = await Follow.get_or_none(subscriber_id=subscriber.id, neighbourhood_id=area.id)
    if existing is not None:
        return Followed(area, existing.created_at), False
    if await Follow.filter(subscriber_id=subscriber.id).count() >= MAX_FOLLOWS:
        raise Conflict(f"you follow {MAX_FOLLOWS} areas already; unfollow one first")
    try:
        made = await Follow.create(subscriber_id=subscriber.id, neighbourhood=area, created_at=now)
    except IntegrityError:  # the same follow, sent twice at once
        made = await Follow.get(subscriber_id=subscriber.id, neighbourhood_id=area.id)
        return Followed(area, made.created_at), False
    return Followed(area, made.created_at), True


async def unfollow(subscriber: Subscriber | None, force_id: str, code: str) -> bool:
    """Stop following an area (a retired one too); True if it was followed."""
    area = await _any_area(force_id, code)
    if subscriber is None:
        return False
    deleted = await Follow.filter(subscriber_id=subscriber.id, neighbourhood_id=area.id).delete()
    return bool(deleted)


async def _any_area(force_id: str, code: str) -> Neighbourhood:
    if (
        0 < len(force_id) <= areas.FORCE_ID_MAX
        and 0 < len(code) <= areas.AREA_ID_MAX
        and "\x00" not in force_id + code
    ):
        found = await Neighbourhood.get_or_none(force_id=force_id, code=code)
        if found is not None:
            return found
    raise NotFound(f"no neighbourhood {code!r} in force {force_id!r}")


async def list_follows(subscriber: Subscriber | None) -> list[Followed]:
    """The areas a subscriber follows, by name (retired ones included, and marked)."""
    if subscriber is None:
        return []
    rows = await Follow.filter(subscriber_id=subscriber.id).select_related("neighbourhood")
    found = [Followed(row.neighbourhood, row.created_at) for row in rows]
    return sorted(found, key=lambda f: (f.area.name, f.area.force_id, f.area.code))


async def followed_area_ids(subscriber_id: int) -> list[int]:
    """The ids of the neighbourhoods a subscriber follows (for their merged feed)."""
    rows = await Follow.filter(subscriber_id=subscriber_id).values_list(
        "neighbourhood_id", flat=True
    )
    return sorted(int(row) for row in rows)  # type: ignore[call-overload]


# ---- quiet hours -----------------------------------------------------------------------------

_CLOCK_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class QuietHours:
    """No alerts from `start` to `end` (minutes after midnight, London time); may span midnight."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not (0 <= self.start < MINUTES_PER_DAY and 0 <= self.end < MINUTES_PER_DAY):
            raise ValueError("quiet hours are minutes after midnight")

    @classmethod
    def parse(cls, start: str, end: str) -> QuietHours:
        """From HH:MM times, as the app sends them; Invalid naming the field otherwise."""
        first, last = _minutes(start, "/quiet_hours/start"), _minutes(end, "/quiet_hours/end")
        if first == last:
            raise Invalid.field("/quiet_hours/end", "must differ from the start")
        return cls(first, last)

    @classmethod
    def of(cls, subscriber: Subscriber) -> QuietHours | None:
        if subscriber.quiet_start is None or subscriber.quiet_end is None:
            return None
        return cls(subscriber.quiet_start, subscriber.quiet_end)


def _minutes(value: str, name: str) -> int:
    matched = _CLOCK_TIME.fullmatch(value)
    if matched is None:
        raise Invalid.field(name, "a time of day as HH:MM, from 00:00 to 23:59")
    return int(matched[1]) * 60 + int(matched[2])


def clock_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def alert_due_at(now: datetime, quiet: QuietHours | None) -> datetime:
    """When an alert raised at `now` may go: at once, or when the quiet hours end.

    Quiet hours are read on London's wall clock, so they follow the clocks through BST. An end
    the clocks skip (they go forward at 01:00) is read with the offset before the change, so
    the quiet lasts its usual length; an end they pass twice (back at 02:00) is the first
    reading still ahead.
    """
    if quiet is None:
        return now
    local = now.astimezone(LONDON)
    into_day = timedelta(
        hours=local.hour, minutes=local.minute, seconds=local.second, microseconds=local.microsecond
    )
    start, end = timedelta(minutes=quiet.start), timedelta(minutes=quiet.end)
    if start < end:
        if not start <= into_day < end:
            return now
        end_day = local.date()
    elif into_day >= start:  # spans midnight: quiet until tomorrow's end
        end_day = local.date() + timedelta(days=1)
    elif into_day < end:
        end_day = local.date()
    else:
        return now
    return _london_moment(end_day, quiet.end, after=now)


def _london_moment(day: date, minutes: int, *, after: datetime) -> datetime:
    wall = datetime.combine(day, time(minutes // 60, minutes % 60))
    for fold in (0, 1):
        moment = wall.replace(tzinfo=LONDON, fold=fold).astimezone(UTC)
        if moment > after:
            return moment
    return after


# ---- alert settings: quiet hours and the Web Push subscription -------------------------------


class Keep(enum.Enum):
    """Leave a setting as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class AlertSettings:
    quiet_hours: QuietHours | None
    push_subscribed: bool


def settings_of(subscriber: Subscriber | None) -> AlertSettings:
    if subscriber is None:
        return AlertSettings(None, False)
    return AlertSettings(QuietHours.of(subscriber), subscriber.push_subscription is not None)


async def set_alert_settings(
    subscriber: Subscriber,
    *,
    quiet_hours: QuietHours | Keep | None = KEEP,
    push_subscription: Mapping[str, Any] | Keep | None = KEEP,
) -> AlertSettings:
    """Change the quiet hours and/or the push subscription (None clears; KEEP leaves it).

    A push subscription must already have passed `check_push_subscription`. Alerts already
    queued keep the time they were given.
    """
    values: dict[str, Any] = {}
    if quiet_hours is not KEEP:
        values["quiet_start"] = quiet_hours.start if quiet_hours else None
        values["quiet_end"] = quiet_hours.end if quiet_hours else None
    if push_subscription is not KEEP:
        values["push_subscription"] = dict(push_subscription) if push_subscription else None
    if values:
        await Subscriber.filter(id=subscriber.id).update(**values)
        await subscriber.refresh_from_db()
    return settings_of(subscriber)


_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
ENDPOINT_MAX = 2000


def _base64url(value: str) -> bytes | None:
    if not _BASE64URL.fullmatch(value):
        return None
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_push_subscription(
    endpoint: str, p256dh: str, auth: str, *, allowed_hosts: Sequence[str]
) -> dict[str, Any]:
    """A browser's PushSubscription, checked; Invalid naming each unusable part.

    The endpoint must be an https URL on a known push service (BEAT_PUSH_SERVICE_HOSTS):
    Beat's workers post to it, so it must never be made to point inside the network.
    """
    errors = []
    where = "/push_subscription/endpoint"
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts, host = None, ""
    if parts is None or parts.scheme != "https" or not host or len(endpoint) > ENDPOINT_MAX:
        errors.append(FieldError(where, "must be an https URL"))
    elif parts.username is not None or parts.password is not None:
        errors.append(FieldError(where, "must not carry a user name or password"))
    elif (
        _is_ip(host)
        or host == "localhost"
        or not any(host == h or host.endswith("." + h) for h in allowed_hosts)
    ):
        errors.append(FieldError(where, "is not on a push service this server sends to"))
    key = _base64url(p256dh)
    if key is None or len(key) != 65 or key[0] != 4 or not _on_p256(key):
        errors.append(
            FieldError(
                "/push_subscription/keys/p256dh", "must be a P-256 public key (65 bytes), base64url"
            )
        )
    secret = _base64url(auth)
    if secret is None or len(secret) != 16:
        errors.append(FieldError("/push_subscription/keys/auth", "must be 16 bytes, base64url"))
    if errors:
        raise Invalid("the push subscription is not usable", errors)
    return {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}


def _on_p256(point: bytes) -> bool:
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        return False
    return True


# ---- VAPID: the server's key for Web Push ----------------------------------------------------


@dataclass(frozen=True)
class VapidKey:
    """The server's Web Push identity; `public_key` is the app's applicationServerKey."""

    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    public_key: str
    subject: str


def vapid_key(settings: Settings) -> VapidKey | None:
    """The configured VAPID key (BEAT_VAPID_PRIVATE_KEY, else the key file), or None."""
    return _load_vapid(settings.vapid_private_key, settings.vapid_key_file, settings.vapid_subject)


@functools.lru_cache(maxsize=8)
def _load_vapid(text: str, path: Path, subject: str) -> VapidKey | None:
    source = "BEAT_VAPID_PRIVATE_KEY"
    if not text:
        if not path.is_file():
            return None
        text, source = path.read_text(encoding="utf-8"), str(path)
    key = _private_key(text.strip(), source)
    if not (subject.startswith("mailto:") or subject.startswith("https://")):
        raise ConfigError(
            "BEAT_VAPID_SUBJECT must be a mailto: address or an https: URL for push services "
            "to contact when a VAPID key is configured"
        )
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return VapidKey(key, base64.urlsafe_b64encode(public).decode().rstrip("="), subject)


def _private_key(text: str, source: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key as PEM, or base64url of its 32 raw bytes or of its DER."""
    problem = f"{source}: not a P-256 private key (PEM, or base64url raw or DER)"
    try:
        if text.startswith("-----BEGIN"):
            key: object = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            raw = _base64url(text)
            if raw is None:
                raise ConfigError(problem)
            if len(raw) == 32:
                key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
            else:
                key = serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(problem) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ConfigError(problem)
    return key


# ---- queueing alerts when a post is published ------------------------------------------------


async def alert_followers(post: Post, area_ids: list[int], now: datetime) -> int:
    """Queue one alert per follower of any of the post's areas; call in the publishing transaction.

    `area_ids` are the post's areas in the order it lists them. Someone who follows several
    of them gets one alert, naming the first. A post published again after a correction
    alerts those whose alert was cancelled by the correction, not those who had it already.
    """
    if not area_ids:
        return 0
    rank = {area_id: i for i, area_id in enumerate(area_ids)}
    rows = await Follow.filter(neighbourhood_id__in=area_ids).values_list(
        "subscriber_id", "neighbourhood_id", "subscriber__quiet_start", "subscriber__quiet_end"
    )
    chosen: dict[int, tuple[int, QuietHours | None]] = {}
    for subscriber_id, area_id, start, end in sorted(rows, key=lambda r: (r[0], rank[r[1]])):
        if subscriber_id not in chosen:
            quiet = QuietHours(start, end) if start is not None and end is not None else None
            chosen[subscriber_id] = (area_id, quiet)
    await AreaAlert.filter(post_id=post.id, status=CANCELLED).delete()
    await AreaAlert.bulk_create(
        [
            AreaAlert(
                subscriber_id=subscriber_id,
                post_id=post.id,
                neighbourhood_id=area_id,
                created_at=now,
                due_at=alert_due_at(now, quiet),
                status=PENDING,
            )
            for subscriber_id, (area_id, quiet) in chosen.items()
        ],
        batch_size=1000,
        ignore_conflicts=True,  # already alerted for an earlier version of the post
    )
    if chosen:
        log.info("area alerts queued", extra={"post": str(post.id), "followers": len(chosen)})
    return len(chosen)


async def cancel_alerts(post: Post, *, reason: str) -> int:
    """Stop the alerts of a post not yet sent; call where the post is withdrawn or corrected.

    A worker already sending one checks the post again before it sends (see send_due_alerts).
    """
    return await AreaAlert.filter(post_id=post.id, status__in=[PENDING, SENDING]).update(
        status=CANCELLED, last_error=reason[:300]
    )


# ---- sending ---------------------------------------------------------------------------------


class AlertFailure(enum.StrEnum):
    TEMPORARY = "temporary"  # the push service is down, slow or busy: try again later
    PERMANENT = "permanent"  # this alert cannot be delivered (refused, no subscription)
    GONE = "gone"  # the subscription no longer exists: forget it


class AlertError(BeatError):
    """Sending an alert failed; `kind` says whether to retry, give up or forget the subscription."""

    def __init__(self, kind: AlertFailure, detail: str) -> None:
        super().__init__(f"{kind.value}: {detail}")
        self.kind = kind


@dataclass(frozen=True)
class AlertPayload:
    """One alert, with what the sender needs to tell the follower of the post."""

    alert_id: int
    subscriber_id: int
    post_id: uuid.UUID
    force: str
    neighbourhood: str
    area_name: str
    text: str
    path: str  # the post's path; senders make it absolute
    published_at: datetime | None
    push_subscription: Mapping[str, Any] | None = field(default=None, repr=False)

    def message(self, base_url: str) -> dict[str, Any]:
        """The notification itself, as the app receives it."""
        return {
            "type": "area-post",
            "title": f"New from {self.area_name}",
            "body": self.text,
            "url": base_url.rstrip("/") + self.path,
            "post": str(self.post_id),
            "force": self.force,
            "neighbourhood": self.neighbourhood,
        }


class AlertSender(Protocol):
    """Delivers alerts to followers; raises AlertError saying what may be done on failure."""

    async def send(self, alert: AlertPayload) -> None: ...


class LoggingSender:
    """The default sender: one log line per alert, naming nobody but the subscriber id."""

    async def send(self, alert: AlertPayload) -> None:
        log.info(
            "area alert",
            extra={
                "alert": alert.alert_id,
                "subscriber": alert.subscriber_id,
                "post": str(alert.post_id),
                "force": alert.force,
                "neighbourhood": alert.neighbourhood,
            },
        )


def snippet(text: str, limit: int = SNIPPET_MAX) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut + "…"


async def send_due_alerts(
    now: datetime,
    sender: AlertSender,
    limit: int = 100,
    *,
    max_attempts: int = ALERT_MAX_ATTEMPTS,
    backoff_base: timedelta = ALERT_BACKOFF_BASE,
    concurrency: int = 16,
) -> int:
    """Claim up to `limit` due alerts, send them, and record each outcome; how many were sent.

    Each alert is claimed by one worker only. A worker that dies mid-send leaves its alerts
    claimed until their lease passes; then another takes them over (so such an alert may be
    sent twice: the alternative is to lose it).
    """
    lease = ALERT_LEASE + SEND_TIMEOUT * -(-limit // concurrency)
    claimed = await _claim(now, limit, max_attempts, lease)
    if not claimed:
        return 0
    payloads = await _payloads(claimed)
    gate = asyncio.Semaphore(concurrency)

    async def one(alert: AreaAlert) -> bool:
        payload = payloads.get(alert.id)
        if payload is None:
            return False
        async with gate:
            try:
                async with asyncio.timeout(SEND_TIMEOUT.total_seconds()):
                    await sender.send(payload)
            except AlertError as exc:
                await _failed(alert, payload, exc, now, max_attempts, backoff_base)
                return False
            except TimeoutError:
                failure = AlertError(AlertFailure.TEMPORARY, "the sender timed out")
                await _failed(alert, payload, failure, now, max_attempts, backoff_base)
                return False
            except Exception:  # a bug in a sender: retried like an outage, and logged
                log.exception("alert sender crashed", extra={"alert": alert.id})
                failure = AlertError(AlertFailure.TEMPORARY, "the sender crashed")
                await _failed(alert, payload, failure, now, max_attempts, backoff_base)
                return False
        await _settle(alert, status=SENT, error="", sent_at=now)
        return True

    results = await asyncio.gather(*(one(alert) for alert in claimed))
    sent = sum(results)
    log.info("area alerts sent", extra={"claimed": len(claimed), "sent": sent})
    return sent


async def _claim(now: datetime, limit: int, max_attempts: int, lease: timedelta) -> list[AreaAlert]:
    """Take due alerts, each for one worker only.

    PostgreSQL skips rows another worker has locked (FOR UPDATE SKIP LOCKED); everywhere the
    claim is an UPDATE conditional on the status and attempts read, whose row count says who won.
    A claimed alert's due_at becomes the end of its lease.
    """
    claimed = []
    async with in_transaction():
        candidates = (
            await AreaAlert.filter(Q(status=PENDING) | Q(status=SENDING), due_at__lte=now)
            .order_by("due_at", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
        )
        for row in candidates:
            current = AreaAlert.filter(id=row.id, status=row.status, attempts=row.attempts)
            if row.status == SENDING and row.attempts >= max_attempts:
                await current.update(
                    status=FAILED,
                    last_error=f"gave up after {row.attempts} attempts: a sender stopped mid-send",
                )
                continue
            won = await current.update(
                status=SENDING, due_at=now + lease, attempts=row.attempts + 1
            )
            if won:
                row.status, row.due_at, row.attempts = SENDING, now + lease, row.attempts + 1
                claimed.append(row)
    return claimed


async def _payloads(claimed: list[AreaAlert]) -> dict[int, AlertPayload]:
    """What to send for each claimed alert; alerts whose post left the public are cancelled."""
    posts = {p.id: p for p in await Post.filter(id__in=[_post_id(a) for a in claimed])}
    subscribers = {
        s.id: s
        for s in await Subscriber.filter(id__in=[a.subscriber_id for a in claimed]).only(
            "id", "push_subscription"
        )
    }
    places = {
        n.id: n
        for n in await Neighbourhood.filter(id__in=[a.neighbourhood_id for a in claimed]).only(
            "id", "force_id", "code", "name"
        )
    }
    payloads = {}
    for alert in claimed:
        post = posts.get(_post_id(alert))
        subscriber = subscribers.get(alert.subscriber_id)
        place = places.get(alert.neighbourhood_id)
        if post is None or subscriber is None or place is None:
            continue  # deleted since the claim: the cascade took the alert too
        if post.status != PostStatus.PUBLISHED:
            await _settle(alert, status=CANCELLED, error=f"the post is {post.status.value}")
            continue
        payloads[alert.id] = AlertPayload(
            alert_id=alert.id,
            subscriber_id=subscriber.id,
            post_id=post.id,
            force=place.force_id,
            neighbourhood=place.code,
            area_name=place.name,
            text=snippet(post.text),
            path=f"/v1/posts/{post.id}",
            published_at=post.published_at,
            push_subscription=subscriber.push_subscription,
        )
    return payloads


def _post_id(alert: AreaAlert) -> uuid.UUID:
    # AreaAlert does not declare its post_id attribute (the models leave it to Tortoise).
    value: uuid.UUID = alert.post_id  # type: ignore[attr-defined]
    return value


async def _failed(
    alert: AreaAlert,
    payload: AlertPayload,
    exc: AlertError,
    now: datetime,
    max_attempts: int,
    backoff_base: timedelta,
) -> None:
    if exc.kind == AlertFailure.GONE:
        await _forget_push_subscription(payload)
    if exc.kind != AlertFailure.TEMPORARY:
        await _settle(alert, status=FAILED, error=exc.detail)
    elif alert.attempts >= max_attempts:
        await _settle(
            alert, status=FAILED, error=f"gave up after {alert.attempts} attempts: {exc.detail}"
        )
    else:
        when = now + outbox.backoff(alert.attempts, base=backoff_base)
        await _settle(alert, status=PENDING, error=exc.detail, due_at=when)
    log.info(
        "area alert not sent",
        extra={"alert": alert.id, "subscriber": alert.subscriber_id, "kind": exc.kind.value},
    )


async def _forget_push_subscription(payload: AlertPayload) -> None:
    """The push service says the subscription is gone; unless the device has sent a new one."""
    endpoint = (payload.push_subscription or {}).get("endpoint")
    subscriber = await Subscriber.get_or_none(id=payload.subscriber_id)
    if subscriber is None or subscriber.push_subscription is None:
        return
    if subscriber.push_subscription.get("endpoint") == endpoint:
        await Subscriber.filter(id=subscriber.id).update(push_subscription=None)
        log.info("push subscription gone", extra={"subscriber": subscriber.id})


async def _settle(
    alert: AreaAlert,
    *,
    status: str,
    error: str,
    sent_at: datetime | None = None,
    due_at: datetime | None = None,
) -> None:
    """Record an outcome, unless the alert changed hands or was cancelled meanwhile."""
    values: dict[str, Any] = {"status": status, "last_error": error[:300]}
    if sent_at is not None:
        values["sent_at"] = sent_at
    if due_at is not None:
        values["due_at"] = due_at
    await AreaAlert.filter(id=alert.id, status=SENDING, attempts=alert.attempts).update(**values)
